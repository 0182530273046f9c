//! The connector contract suite against a Samba Active Directory domain controller:
//! objectGUID anchors, AD's schema, paged import, export over LDAP.

use std::time::Duration;

use config::{LdapDelta, LdapObjectType, LdapScope, LdapSettings, SecretSource};
use connector::contract::{self, ContractHarness, HarnessError};
use connector_ldap::LdapConnector;
use model::{AttributeName, Attributes, ObjectType, Value};
use testkit::samba::{ADMIN, ADMIN_PASSWORD, BASE, SambaAd};

struct Harness {
    dc: SambaAd,
}

pub fn ou() -> String {
    format!("OU=idsync,{BASE}")
}

pub fn settings(dc: &SambaAd) -> LdapSettings {
    let password = dc.dir().join("bind-password");
    std::fs::write(&password, ADMIN_PASSWORD).expect("write the password file");
    LdapSettings {
        url: dc.url(),
        starttls: false,
        bind_dn: Some(ADMIN.to_owned()),
        password: Some(SecretSource::File(password)),
        client_certificate: None,
        client_key: None,
        ca_file: None,
        timeout: Duration::from_secs(20),
        base_dns: vec![ou()],
        scope: LdapScope::Subtree,
        filter: None,
        page_size: 3,
        object_types: vec![LdapObjectType {
            object_type: ObjectType::new("user"),
            object_class: "user".to_owned(),
            auxiliary_classes: Vec::new(),
        }],
        anchor: "objectGUID".to_owned(),
        delta: LdapDelta::DirSync,
        attributes: Vec::new(),
    }
}

impl ContractHarness for Harness {
    type Connector = LdapConnector;

    fn object_type(&self) -> ObjectType {
        ObjectType::new("user")
    }

    fn key_attribute(&self) -> AttributeName {
        AttributeName::new("employeeNumber")
    }

    fn mutable_attribute(&self) -> AttributeName {
        AttributeName::new("displayName")
    }

    fn sample(&self, index: usize) -> Attributes {
        Attributes::new()
            .with("dn", format!("CN=u{index},{}", ou()))
            .with("sAMAccountName", format!("u{index}"))
            .with("sn", format!("Surname{index}"))
            .with("employeeNumber", index.to_string())
            .with("displayName", format!("User Number {index}"))
    }

    fn page_size(&self) -> usize {
        3
    }

    async fn seed(&mut self, objects: &[Attributes]) -> Result<(), HarnessError> {
        if !self.dc.is_running() {
            self.dc.restart();
        }
        if self
            .dc
            .ldapsearch(&["-b", &ou(), "-s", "base", "1.1"])
            .is_ok()
        {
            self.dc.tool("ldapdelete", &["-r", &ou()], "")?;
        }
        let mut ldif = format!(
            "dn: {}\nobjectClass: organizationalUnit\nou: idsync\n\n",
            ou()
        );
        for object in objects {
            let dn = object
                .first(&AttributeName::new("dn"))
                .map(Value::to_text)
                .unwrap_or_default();
            ldif.push_str(&format!("dn: {dn}\nobjectClass: user\n"));
            for (name, values) in object.iter() {
                if name.as_str() != "dn" {
                    for value in values {
                        ldif.push_str(&format!("{name}: {}\n", value.to_text()));
                    }
                }
            }
            ldif.push('\n');
        }
        self.dc.ldapadd(&ldif)?;
        Ok(())
    }

    async fn connector(&mut self) -> Result<LdapConnector, HarnessError> {
        Ok(LdapConnector::new(settings(&self.dc)))
    }

    async fn change_externally(
        &mut self,
        key: &Value,
        attribute: &AttributeName,
        value: Value,
    ) -> Result<(), HarnessError> {
        self.dc.ldapmodify(&format!(
            "dn: CN=u{},{}\nchangetype: modify\nreplace: {attribute}\n{attribute}: {}\n",
            key.to_text(),
            ou(),
            value.to_text()
        ))?;
        Ok(())
    }

    async fn delete_externally(&mut self, key: &Value) -> Result<(), HarnessError> {
        self.dc
            .ldapdelete(&[&format!("CN=u{},{}", key.to_text(), ou())])?;
        Ok(())
    }

    async fn break_system(&mut self) -> Result<bool, HarnessError> {
        self.dc.stop();
        Ok(true)
    }
}

#[tokio::test]
async fn the_ldap_connector_passes_the_contract_against_samba_ad() {
    let mut harness = Harness {
        dc: SambaAd::start(),
    };
    let mut report = contract::run(&mut harness).await;
    report.merge(contract::run_export(&mut harness).await);
    assert!(report.skipped.is_empty(), "skipped: {:?}", report.skipped);
    report.assert_passed();
}
