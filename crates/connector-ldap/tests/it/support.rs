//! A slapd per test and connectors over it.

use std::time::Duration;

use config::{LdapDelta, LdapObjectType, LdapScope, LdapSettings, SecretSource};
use connector::{Connector, ImportMode, ImportPage, ImportRequest, Watermark};
use connector_ldap::LdapConnector;
use model::ObjectType;
use testkit::openldap::{ADMIN_DN, ADMIN_PASSWORD, SUFFIX, Slapd};

pub const PEOPLE: &str = "ou=people,dc=example,dc=com";
pub const GROUPS: &str = "ou=groups,dc=example,dc=com";

/// Settings for the test server: bound as its root DN with the password read from a file
/// (as a deployment would), persons and groups under the suffix.
pub fn settings(slapd: &Slapd) -> LdapSettings {
    let password = slapd.dir().join("bind-password");
    std::fs::write(&password, format!("{ADMIN_PASSWORD}\n")).expect("write the password file");
    LdapSettings {
        url: slapd.url(),
        starttls: false,
        bind_dn: Some(ADMIN_DN.to_owned()),
        password: Some(SecretSource::File(password)),
        client_certificate: None,
        client_key: None,
        ca_file: None,
        timeout: Duration::from_secs(10),
        base_dns: vec![SUFFIX.to_owned()],
        scope: LdapScope::Subtree,
        filter: None,
        page_size: 3,
        object_types: vec![
            LdapObjectType {
                object_type: ObjectType::new("person"),
                object_class: "inetOrgPerson".to_owned(),
                auxiliary_classes: Vec::new(),
            },
            LdapObjectType {
                object_type: ObjectType::new("group"),
                object_class: "groupOfNames".to_owned(),
                auxiliary_classes: Vec::new(),
            },
        ],
        anchor: "entryUUID".to_owned(),
        delta: LdapDelta::Syncrepl,
        attributes: Vec::new(),
    }
}

/// Every page of one import.
pub async fn import_all(
    connector: &mut LdapConnector,
    mode: ImportMode,
    watermark: Option<Watermark>,
) -> Vec<ImportPage> {
    let mut pages = Vec::new();
    let mut cursor = None;
    loop {
        let page = connector
            .import(ImportRequest {
                mode,
                watermark: watermark.clone(),
                cursor: cursor.take(),
            })
            .await
            .unwrap_or_else(|e| panic!("import page {} failed: {e}", pages.len() + 1));
        cursor = page.next.clone();
        pages.push(page);
        if cursor.is_none() {
            return pages;
        }
    }
}

/// An inetOrgPerson as LDIF.
pub fn person_ldif(uid: &str, sn: &str, number: &str) -> String {
    format!(
        "dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid} {sn}\nsn: {sn}\nemployeeNumber: {number}\n\n"
    )
}
