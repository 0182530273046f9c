//! Reading a `type = "exchange"` connector table.

use super::app::{RawApp, app_hint, read_app};
use crate::diagnostic::Problems;
use crate::reader::{Sp, Table};

/// Beyond the keys every Microsoft cloud connector has ([`super::app::APP_KEYS`]).
pub(crate) const EXCHANGE_KEYS: &[&str] = &["exchange_url", "page_size"];

#[derive(Debug)]
pub(crate) struct RawExchange {
    pub app: RawApp,
    pub exchange_url: Option<Sp<String>>,
    pub page_size: Option<Sp<i64>>,
}

pub(crate) fn read_exchange(table: &Table<'_, '_>, problems: &mut Problems) -> RawExchange {
    RawExchange {
        app: read_app(table, problems),
        exchange_url: table.str("exchange_url", problems),
        page_size: table.int("page_size", problems),
    }
}

pub(crate) fn exchange_hint(key: &str) -> Option<&'static str> {
    match key {
        "graph_url" => {
            Some("an exchange connector talks to exchange_url (the host before /adminapi)")
        }
        other => app_hint(other),
    }
}
