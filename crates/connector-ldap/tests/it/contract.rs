//! The connector contract suite against slapd.

use connector::contract::{self, ContractHarness, HarnessError};
use connector_ldap::LdapConnector;
use model::{AttributeName, Attributes, ObjectType, Value};
use testkit::openldap::Slapd;

use crate::support::{PEOPLE, settings};

struct Harness {
    slapd: Slapd,
}

fn uid_of(key: &Value) -> String {
    format!("u{}", key.to_text())
}

impl ContractHarness for Harness {
    type Connector = LdapConnector;

    fn object_type(&self) -> ObjectType {
        ObjectType::new("person")
    }

    fn key_attribute(&self) -> AttributeName {
        AttributeName::new("employeeNumber")
    }

    fn mutable_attribute(&self) -> AttributeName {
        AttributeName::new("displayName")
    }

    fn sample(&self, index: usize) -> Attributes {
        let uid = format!("u{index}");
        Attributes::new()
            .with("dn", format!("uid={uid},{PEOPLE}"))
            .with("uid", uid.as_str())
            .with("cn", format!("User {index}"))
            .with("sn", format!("Surname{index}"))
            .with("employeeNumber", index.to_string())
            .with("displayName", format!("User Number {index}"))
    }

    fn page_size(&self) -> usize {
        3
    }

    async fn seed(&mut self, objects: &[Attributes]) -> Result<(), HarnessError> {
        if !self.slapd.is_running() {
            self.slapd.restart();
        }
        self.slapd.clear()?;
        let mut ldif = String::new();
        for object in objects {
            let dn = object
                .first(&AttributeName::new("dn"))
                .map(Value::to_text)
                .unwrap_or_default();
            ldif.push_str(&format!("dn: {dn}\nobjectClass: inetOrgPerson\n"));
            for (name, values) in object.iter() {
                if name.as_str() == "dn" {
                    continue;
                }
                for value in values {
                    ldif.push_str(&format!("{name}: {}\n", value.to_text()));
                }
            }
            ldif.push('\n');
        }
        if !ldif.is_empty() {
            self.slapd.ldapadd(&ldif)?;
        }
        Ok(())
    }

    async fn connector(&mut self) -> Result<LdapConnector, HarnessError> {
        Ok(LdapConnector::new(settings(&self.slapd)))
    }

    async fn change_externally(
        &mut self,
        key: &Value,
        attribute: &AttributeName,
        value: Value,
    ) -> Result<(), HarnessError> {
        self.slapd.ldapmodify(&format!(
            "dn: uid={},{PEOPLE}\nchangetype: modify\nreplace: {attribute}\n{attribute}: {}\n",
            uid_of(key),
            value.to_text()
        ))?;
        Ok(())
    }

    async fn delete_externally(&mut self, key: &Value) -> Result<(), HarnessError> {
        self.slapd
            .ldapdelete(&[&format!("uid={},{PEOPLE}", uid_of(key))])?;
        Ok(())
    }

    async fn break_system(&mut self) -> Result<bool, HarnessError> {
        self.slapd.stop();
        Ok(true)
    }
}

#[tokio::test]
async fn the_ldap_connector_passes_the_contract_against_slapd() {
    let mut harness = Harness {
        slapd: Slapd::start(),
    };
    let mut report = contract::run(&mut harness).await;
    report.merge(contract::run_export(&mut harness).await);
    assert!(report.skipped.is_empty(), "skipped: {:?}", report.skipped);
    report.assert_passed();
}
