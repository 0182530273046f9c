use std::path::Path;
use std::time::Duration;

use config::{ConnectorKind, LdapDelta, LdapScope, SecretSource};

#[test]
fn an_ldap_connector_loads_with_its_defaults() {
    let input = r#"
[[connector]]
name = "directory"
type = "ldap"
url = "ldap://127.0.0.1:3890"
starttls = true
bind_dn = "cn=admin,dc=example,dc=com"
password = { env = "IDSYNC_LDAP_PASSWORD" }
ca_file = "tls/ca.pem"
base = "dc=example,dc=com"
object_types = { person = ["inetOrgPerson", "posixAccount"], group = "groupOfNames" }

[[outbound]]
name = "groups"
connector = "directory"
object_type = "group"
[outbound.flows]
cn = "[displayName]"
"#;
    let config = config::load_str(input, Path::new("/etc/idsync/idsync.toml"))
        .unwrap_or_else(|d| panic!("{d}"));
    let ConnectorKind::Ldap(ldap) = &config.connectors[0].kind else {
        panic!("not an ldap connector: {:?}", config.connectors[0].kind);
    };
    assert!(ldap.starttls);
    assert_eq!(
        ldap.password,
        Some(SecretSource::Env("IDSYNC_LDAP_PASSWORD".into()))
    );
    assert_eq!(
        ldap.ca_file.as_deref(),
        Some(Path::new("/etc/idsync/tls/ca.pem"))
    );
    assert_eq!(ldap.base_dns, ["dc=example,dc=com"]);
    assert_eq!(ldap.scope, LdapScope::Subtree);
    assert_eq!(ldap.anchor, "entryUUID");
    assert_eq!(ldap.delta, LdapDelta::Syncrepl);
    assert_eq!(ldap.page_size, 500);
    assert_eq!(ldap.timeout, Duration::from_secs(30));
    let classes: Vec<(&str, &str)> = ldap
        .object_types
        .iter()
        .map(|t| (t.object_type.as_str(), t.object_class.as_str()))
        .collect();
    assert_eq!(
        classes,
        [("person", "inetOrgPerson"), ("group", "groupOfNames")]
    );
    assert!(config.connectors[0].kind.can_export());
}
