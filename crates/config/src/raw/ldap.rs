//! The LDAP connector's table as written.

use super::{RawSecret, check_keys_with, read_secret};
use crate::diagnostic::Problems;
use crate::reader::{Sp, Table};

pub(crate) const LDAP_KEYS: &[&str] = &[
    "url",
    "starttls",
    "bind_dn",
    "password",
    "client_certificate",
    "client_key",
    "ca_file",
    "timeout",
    "base",
    "scope",
    "filter",
    "page_size",
    "object_types",
    "anchor",
    "delta",
    "attributes",
];

/// An object type and the object classes written for it (structural first).
pub(crate) type ClassMapping = (Sp<String>, Sp<Vec<Sp<String>>>);

#[derive(Debug)]
pub(crate) struct RawLdap {
    pub url: Option<Sp<String>>,
    pub starttls: Option<Sp<bool>>,
    pub bind_dn: Option<Sp<String>>,
    pub password: Option<Sp<RawSecret>>,
    pub client_certificate: Option<Sp<String>>,
    pub client_key: Option<Sp<RawSecret>>,
    pub ca_file: Option<Sp<String>>,
    pub timeout: Option<Sp<String>>,
    pub base: Option<Sp<Vec<Sp<String>>>>,
    pub scope: Option<Sp<String>>,
    pub filter: Option<Sp<String>>,
    pub page_size: Option<Sp<i64>>,
    /// `object_types = { person = ["inetOrgPerson", "posixAccount"], group = "groupOfNames" }`, in order.
    pub object_types: Option<Sp<Vec<ClassMapping>>>,
    pub anchor: Option<Sp<String>>,
    pub delta: Option<Sp<String>>,
    pub attributes: Vec<Sp<String>>,
}

pub(crate) fn ldap_hint(key: &str) -> Option<&'static str> {
    match key {
        "password_file" | "password_env" | "bind_password" => {
            Some("write password = { env = \"...\" } or password = { file = \"...\" }")
        }
        "base_dn" | "base_dns" | "search_base" => {
            Some("write base = \"ou=people,dc=example,dc=com\", or an array of DNs")
        }
        "object_class" | "object_type" => Some(
            "map object types to object classes: object_types = { person = \"inetOrgPerson\" }",
        ),
        "precedence" | "flows" | "join" => {
            Some("this belongs in an [[inbound]] or [[outbound]] rule")
        }
        _ => None,
    }
}

pub(crate) fn read_ldap(table: &Table<'_, '_>, problems: &mut Problems) -> RawLdap {
    let base = table
        .require("base", problems)
        .and_then(|item| match item.value() {
            toml::de::DeValue::String(_) => {
                item.str(problems).map(|s| Sp::new(vec![s.clone()], s.loc))
            }
            toml::de::DeValue::Array(_) => item.strings(problems),
            _ => {
                item.type_error("a DN or an array of DNs", problems);
                None
            }
        });
    let object_types = table.require("object_types", problems).and_then(|item| {
        let loc = item.loc();
        let mapping = item.table("object_types", problems)?;
        let mut pairs = Vec::new();
        for entry in mapping.entries() {
            // A class, or the structural class followed by auxiliary classes.
            let classes = match entry.value() {
                toml::de::DeValue::Array(_) => entry.strings(problems),
                _ => entry.str(problems).map(|c| Sp::new(vec![c.clone()], c.loc)),
            };
            if let Some(classes) = classes {
                pairs.push((Sp::new(entry.key.to_owned(), entry.key_loc()), classes));
            }
        }
        Some(Sp::new(pairs, loc))
    });
    RawLdap {
        url: table.required_str("url", problems),
        starttls: table.bool("starttls", problems),
        bind_dn: table.str("bind_dn", problems),
        password: table
            .get("password")
            .and_then(|item| read_secret(&item, problems)),
        client_certificate: table.str("client_certificate", problems),
        client_key: table
            .get("client_key")
            .and_then(|item| read_secret(&item, problems)),
        ca_file: table.str("ca_file", problems),
        timeout: table.str("timeout", problems),
        base,
        scope: table.str("scope", problems),
        filter: table.str("filter", problems),
        page_size: table.int("page_size", problems),
        object_types,
        anchor: table.str("anchor", problems),
        delta: table.str("delta", problems),
        attributes: table
            .get("attributes")
            .and_then(|item| item.strings(problems))
            .map(|s| s.value)
            .unwrap_or_default(),
    }
}

/// Reports keys an LDAP connector does not have.
pub(crate) fn check_ldap_keys(
    table: &Table<'_, '_>,
    connector_keys: &[&str],
    problems: &mut Problems,
) {
    check_keys_with(
        table,
        &[connector_keys, LDAP_KEYS].concat(),
        ldap_hint,
        problems,
    );
}
