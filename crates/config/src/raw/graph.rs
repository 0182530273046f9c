//! Reading a `type = "graph"` connector table.

use super::app::{RawApp, read_app};
use crate::diagnostic::Problems;
use crate::reader::{Sp, Table};

/// Beyond the keys every Microsoft cloud connector has ([`super::app::APP_KEYS`]).
pub(crate) const GRAPH_KEYS: &[&str] = &[
    "graph_url",
    "user_domain",
    "disabled_plans",
    "invite_redirect_url",
    "directory_roles",
    "extension_app",
    "extensions",
    "send_invitations",
];

/// `SKU = ["PLAN", …]` under `disabled_plans`.
#[derive(Debug)]
pub(crate) struct RawDisabledPlans {
    pub sku: Sp<String>,
    pub plans: Sp<Vec<Sp<String>>>,
}

#[derive(Debug)]
pub(crate) struct RawGraph {
    pub app: RawApp,
    pub graph_url: Option<Sp<String>>,
    pub user_domain: Option<Sp<String>>,
    pub disabled_plans: Vec<RawDisabledPlans>,
    pub invite_redirect_url: Option<Sp<String>>,
    pub directory_roles: Option<Sp<bool>>,
    pub extension_app: Option<Sp<String>>,
    pub extensions: Option<Sp<Vec<Sp<String>>>>,
    pub send_invitations: Option<Sp<bool>>,
}

pub(crate) fn read_graph(table: &Table<'_, '_>, problems: &mut Problems) -> RawGraph {
    let mut disabled_plans = Vec::new();
    if let Some(plans) = table
        .get("disabled_plans")
        .and_then(|item| item.table("disabled_plans", problems))
    {
        for item in plans.entries() {
            let sku = Sp::new(item.key.to_owned(), item.key_loc());
            if let Some(list) = item.strings(problems) {
                disabled_plans.push(RawDisabledPlans { sku, plans: list });
            }
        }
    }
    RawGraph {
        app: read_app(table, problems),
        graph_url: table.str("graph_url", problems),
        user_domain: table.str("user_domain", problems),
        disabled_plans,
        invite_redirect_url: table.str("invite_redirect_url", problems),
        directory_roles: table.bool("directory_roles", problems),
        extension_app: table.str("extension_app", problems),
        extensions: table
            .get("extensions")
            .and_then(|item| item.strings(problems)),
        send_invitations: table.bool("send_invitations", problems),
    }
}
