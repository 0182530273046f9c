//! The connector contract suite, against an emulated tenant.

use connector::contract::{self, ContractHarness, HarnessError};
use connector_graph::GraphConnector;
use graph_emulator::EmulatorOptions;
use model::{AttributeName, Attributes, ObjectType, Value};
use reqwest::Method;
use serde_json::json;

use crate::support::Tenant;

struct GraphHarness {
    tenant: Tenant,
}

impl GraphHarness {
    async fn user_id(&self, key: &Value) -> Result<String, HarnessError> {
        let user = self
            .tenant
            .user_by("employeeId", &key.to_text())
            .await
            .ok_or_else(|| format!("no user has employeeId {key}"))?;
        Ok(user["id"].as_str().unwrap_or_default().to_owned())
    }
}

impl ContractHarness for GraphHarness {
    type Connector = GraphConnector;

    fn object_type(&self) -> ObjectType {
        "user".into()
    }

    fn key_attribute(&self) -> AttributeName {
        AttributeName::new("employeeId")
    }

    fn mutable_attribute(&self) -> AttributeName {
        AttributeName::new("jobTitle")
    }

    fn sample(&self, index: usize) -> Attributes {
        Attributes::new()
            .with(
                "userPrincipalName",
                format!("u{index}@{}", self.tenant.domain()),
            )
            .with("mailNickname", format!("u{index}"))
            .with("displayName", format!("Zoë Müller {index}"))
            .with("employeeId", format!("E{index:05}"))
            .with("jobTitle", format!("Engineer {}", index % 3))
            .with("accountEnabled", Value::Boolean(true))
    }

    fn page_size(&self) -> usize {
        3
    }

    async fn seed(&mut self, objects: &[Attributes]) -> Result<(), HarnessError> {
        self.tenant.reset().await;
        for object in objects {
            let mut body = serde_json::Map::new();
            for (name, values) in object.iter() {
                let value = match &values[0] {
                    Value::Boolean(b) => json!(b),
                    other => json!(other.to_text()),
                };
                body.insert(name.as_str().to_owned(), value);
            }
            self.tenant.add_user(serde_json::Value::Object(body)).await;
        }
        Ok(())
    }

    async fn connector(&mut self) -> Result<GraphConnector, HarnessError> {
        let mut settings = self.tenant.settings();
        settings.object_types = vec![ObjectType::new("user")];
        Ok(GraphConnector::new(settings).with_page_size(self.page_size()))
    }

    async fn change_externally(
        &mut self,
        key: &Value,
        attribute: &AttributeName,
        value: Value,
    ) -> Result<(), HarnessError> {
        let id = self.user_id(key).await?;
        let (status, body) = self
            .tenant
            .graph(
                Method::PATCH,
                &format!("users/{id}"),
                Some(json!({ attribute.as_str(): value.to_text() })),
            )
            .await;
        if status != 204 {
            return Err(format!("PATCH users/{id}: {status} {body}").into());
        }
        Ok(())
    }

    async fn delete_externally(&mut self, key: &Value) -> Result<(), HarnessError> {
        let id = self.user_id(key).await?;
        let (status, body) = self
            .tenant
            .graph(Method::DELETE, &format!("users/{id}"), None)
            .await;
        if status != 204 {
            return Err(format!("DELETE users/{id}: {status} {body}").into());
        }
        Ok(())
    }
}

#[tokio::test]
async fn the_graph_connector_passes_the_connector_contract() {
    let mut harness = GraphHarness {
        tenant: Tenant::start(EmulatorOptions::default()).await,
    };
    let mut report = contract::run(&mut harness).await;
    report.merge(contract::run_export(&mut harness).await);
    report.assert_passed();
    // Only "check reports a broken system" is skipped: the emulator cannot be broken and
    // healed on the same address.
    assert_eq!(report.skipped.len(), 1, "skipped: {:?}", report.skipped);
    assert_eq!(report.passed.len(), 11, "{:?}", report.passed);
}
