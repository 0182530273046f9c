//! A tenant in the emulator, reached by HTTP on loopback, and connectors over it.

use config::{ExchangeSettings, GraphCredential, GraphEnvironment, SecretSource};
use connector_exchange::ExchangeConnector;
use graph_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use model::ObjectType;
use serde_json::{Value, json};

pub struct Tenant {
    pub emulator: RunningEmulator,
    pub http: reqwest::Client,
    dir: tempfile::TempDir,
    graph_token: Option<String>,
    exchange_token: Option<String>,
}

impl Tenant {
    pub async fn start() -> Self {
        let emulator = Emulator::start(EmulatorOptions {
            seed: Some(7),
            ..EmulatorOptions::default()
        })
        .await
        .expect("the emulator starts");
        Self {
            emulator,
            http: reqwest::Client::new(),
            dir: tempfile::tempdir().unwrap(),
            graph_token: None,
            exchange_token: None,
        }
    }

    pub fn settings(&self, object_types: &[&str], page_size: usize) -> ExchangeSettings {
        let path = self.dir.path().join("client-secret");
        std::fs::write(&path, &self.emulator.info.client_secret).unwrap();
        let info = &self.emulator.info;
        ExchangeSettings {
            tenant: info.tenant_id.clone(),
            client_id: info.client_id.clone(),
            credential: GraphCredential::ClientSecret(SecretSource::File(path)),
            environment: GraphEnvironment::Global,
            login_url: Some(self.emulator.login_url().to_owned()),
            exchange_url: Some(self.emulator.login_url().to_owned()),
            ca_file: None,
            object_types: object_types.iter().map(|t| ObjectType::new(*t)).collect(),
            page_size,
        }
    }

    pub fn connector(&self, object_types: &[&str], page_size: usize) -> ExchangeConnector {
        ExchangeConnector::new(self.settings(object_types, page_size))
    }

    async fn token(&self, scope: &str) -> String {
        let info = &self.emulator.info;
        let response = self
            .http
            .post(self.emulator.token_url())
            .form(&[
                ("client_id", info.client_id.as_str()),
                ("client_secret", info.client_secret.as_str()),
                ("scope", scope),
                ("grant_type", "client_credentials"),
            ])
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().expect("a token").to_owned()
    }

    /// Runs a cmdlet directly (behind the connector's back).
    pub async fn cmdlet(&mut self, cmdlet: &str, parameters: Value) -> Result<Value, String> {
        if self.exchange_token.is_none() {
            self.exchange_token = Some(self.token("https://outlook.office365.com/.default").await);
        }
        let url = format!(
            "{}/adminapi/beta/{}/InvokeCommand",
            self.emulator.login_url(),
            self.emulator.info.tenant_id
        );
        let response = self
            .http
            .post(url)
            .bearer_auth(self.exchange_token.as_deref().unwrap())
            .json(&json!({"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            Ok(body)
        } else {
            Err(format!("{cmdlet}: {status} {body}"))
        }
    }

    /// A Graph call.
    pub async fn graph(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        if self.graph_token.is_none() {
            self.graph_token = Some(self.token("https://graph.microsoft.com/.default").await);
        }
        let mut request = self
            .http
            .request(method, format!("{}/{path}", self.emulator.graph_url()))
            .bearer_auth(self.graph_token.as_deref().unwrap());
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}
