//! Reading a `type = "graph"` connector table.

use super::{RawSecret, read_secret};
use crate::diagnostic::Problems;
use crate::reader::{Sp, Table};

pub(crate) const GRAPH_KEYS: &[&str] = &[
    "tenant",
    "client_id",
    "client_secret",
    "certificate",
    "private_key",
    "certificate_password",
    "environment",
    "login_url",
    "graph_url",
    "ca_file",
    "object_types",
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
    pub table: Sp<()>,
    /// Whether a credential key is written at all (a wrong one is reported already).
    pub credential_written: bool,
    pub tenant: Option<Sp<String>>,
    pub client_id: Option<Sp<String>>,
    pub client_secret: Option<Sp<RawSecret>>,
    pub certificate: Option<Sp<String>>,
    pub private_key: Option<Sp<String>>,
    pub certificate_password: Option<Sp<RawSecret>>,
    pub environment: Option<Sp<String>>,
    pub login_url: Option<Sp<String>>,
    pub graph_url: Option<Sp<String>>,
    pub ca_file: Option<Sp<String>>,
    pub object_types: Option<Sp<Vec<Sp<String>>>>,
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
        table: Sp::new((), table.loc()),
        credential_written: table.get("client_secret").is_some()
            || table.get("certificate").is_some(),
        tenant: table.required_str("tenant", problems),
        client_id: table.required_str("client_id", problems),
        client_secret: table
            .get("client_secret")
            .and_then(|item| read_secret(&item, problems)),
        certificate: table.str("certificate", problems),
        private_key: table.str("private_key", problems),
        certificate_password: table
            .get("certificate_password")
            .and_then(|item| read_secret(&item, problems)),
        environment: table.str("environment", problems),
        login_url: table.str("login_url", problems),
        graph_url: table.str("graph_url", problems),
        ca_file: table.str("ca_file", problems),
        object_types: table
            .get("object_types")
            .and_then(|item| item.strings(problems)),
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

pub(crate) fn graph_hint(key: &str) -> Option<&'static str> {
    match key {
        "secret" | "password" => Some(
            "write client_secret = { env = \"...\" }, or certificate = \"app.pem\" for certificate credentials",
        ),
        "tenant_id" => Some("write tenant = \"<tenant id or verified domain>\""),
        "precedence" | "flows" | "join" => {
            Some("this belongs in an [[inbound]] or [[outbound]] rule")
        }
        _ => None,
    }
}
