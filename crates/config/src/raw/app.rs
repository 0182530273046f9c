//! The keys the Microsoft cloud connectors (`graph`, `exchange`) share: the tenant, the
//! app registration and its credential, the cloud and its sign-in host, the object types.

use super::{RawSecret, read_secret};
use crate::diagnostic::Problems;
use crate::reader::{Sp, Table};

pub(crate) const APP_KEYS: &[&str] = &[
    "tenant",
    "client_id",
    "client_secret",
    "certificate",
    "private_key",
    "certificate_password",
    "environment",
    "login_url",
    "ca_file",
    "object_types",
];

#[derive(Debug)]
pub(crate) struct RawApp {
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
    pub ca_file: Option<Sp<String>>,
    pub object_types: Option<Sp<Vec<Sp<String>>>>,
}

pub(crate) fn read_app(table: &Table<'_, '_>, problems: &mut Problems) -> RawApp {
    RawApp {
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
        ca_file: table.str("ca_file", problems),
        object_types: table
            .get("object_types")
            .and_then(|item| item.strings(problems)),
    }
}

/// Hints for unknown keys both connector types share.
pub(crate) fn app_hint(key: &str) -> Option<&'static str> {
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
