//! The connector contract for mail contacts, against the emulator's Exchange endpoint.

use connector::contract::{self, ContractHarness, HarnessError};
use connector_exchange::ExchangeConnector;
use model::{AttributeName, Attributes, ObjectType, Value};
use serde_json::json;

use crate::support::Tenant;

struct ContactHarness {
    tenant: Tenant,
}

impl ContractHarness for ContactHarness {
    type Connector = ExchangeConnector;

    fn object_type(&self) -> ObjectType {
        ObjectType::new("mailContact")
    }

    fn key_attribute(&self) -> AttributeName {
        AttributeName::new("name")
    }

    fn mutable_attribute(&self) -> AttributeName {
        AttributeName::new("displayName")
    }

    fn sample(&self, index: usize) -> Attributes {
        Attributes::new()
            .with("name", format!("contractor-{index}"))
            .with("displayName", format!("Zoë Contractor {index}"))
            .with("externalEmailAddress", format!("c{index}@partner.example"))
    }

    fn page_size(&self) -> usize {
        3
    }

    fn supports_delta(&self) -> bool {
        false
    }

    async fn seed(&mut self, objects: &[Attributes]) -> Result<(), HarnessError> {
        self.tenant.emulator.state().reset();
        for object in objects {
            let text = |n: &str| object.first(&AttributeName::new(n)).map(Value::to_text);
            self.tenant
                .cmdlet(
                    "New-MailContact",
                    json!({
                        "Name": text("name"),
                        "DisplayName": text("displayName"),
                        "ExternalEmailAddress": text("externalEmailAddress"),
                    }),
                )
                .await?;
        }
        Ok(())
    }

    async fn connector(&mut self) -> Result<ExchangeConnector, HarnessError> {
        Ok(self.tenant.connector(&["mailContact"], self.page_size()))
    }

    async fn change_externally(
        &mut self,
        key: &Value,
        attribute: &AttributeName,
        value: Value,
    ) -> Result<(), HarnessError> {
        let property = match attribute.as_str() {
            "displayName" => "DisplayName",
            other => return Err(format!("the harness cannot change {other}").into()),
        };
        self.tenant
            .cmdlet(
                "Set-MailContact",
                json!({"Identity": key.to_text(), property: value.to_text()}),
            )
            .await?;
        Ok(())
    }

    async fn delete_externally(&mut self, key: &Value) -> Result<(), HarnessError> {
        self.tenant
            .cmdlet(
                "Remove-MailContact",
                json!({"Identity": key.to_text(), "Confirm": false}),
            )
            .await?;
        Ok(())
    }
}

#[tokio::test]
async fn mail_contacts_pass_the_connector_contract() {
    let mut harness = ContactHarness {
        tenant: Tenant::start().await,
    };
    let mut report = contract::run(&mut harness).await;
    report.merge(contract::run_export(&mut harness).await);
    report.assert_passed();
    // Skipped: the broken-system check (the emulator cannot be broken and healed on the same
    // address) and the three delta properties (Exchange has no delta).
    assert_eq!(report.skipped.len(), 4, "skipped: {:?}", report.skipped);
    assert_eq!(report.passed.len(), 8, "{:?}", report.passed);
}
