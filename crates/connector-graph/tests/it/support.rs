//! An emulated tenant and connector settings that point at it.

use std::collections::BTreeMap;

use config::{GraphCredential, GraphEnvironment, GraphSettings, SecretSource};
use graph_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use model::ObjectType;
use serde_json::{Map, Value as Json, json};

/// A running emulator and the directory holding the app's secret, as an operator would
/// keep it (in a file, never in the configuration).
pub struct Tenant {
    pub emulator: RunningEmulator,
    dir: tempfile::TempDir,
}

impl Tenant {
    pub async fn start(options: EmulatorOptions) -> Tenant {
        let emulator = Emulator::start(options).await.expect("the emulator starts");
        Tenant {
            emulator,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn settings(&self) -> GraphSettings {
        let path = self.dir.path().join("client-secret");
        std::fs::write(&path, &self.emulator.info.client_secret).unwrap();
        let info = &self.emulator.info;
        GraphSettings {
            tenant: info.tenant_id.clone(),
            client_id: info.client_id.clone(),
            credential: GraphCredential::ClientSecret(SecretSource::File(path)),
            environment: GraphEnvironment::Global,
            login_url: Some(self.emulator.login_url().to_owned()),
            graph_url: Some(self.emulator.graph_url().to_owned()),
            ca_file: info.ca_path.clone().map(Into::into),
            object_types: vec![ObjectType::new("user"), ObjectType::new("group")],
            user_domain: None,
            disabled_plans: BTreeMap::new(),
            invite_redirect_url: config::DEFAULT_INVITE_REDIRECT.to_owned(),
            send_invitations: false,
            directory_roles: false,
            extension_app: None,
            extensions: Vec::new(),
        }
    }

    pub fn domain(&self) -> &str {
        &self.emulator.info.initial_domain
    }

    fn emulator_url(&self, path: &str) -> String {
        format!("{}/_emulator/{path}", self.emulator.login_url())
    }

    /// Empties the directory (same app, same credentials).
    pub async fn reset(&self) {
        let status = http()
            .post(self.emulator_url("reset"))
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "reset: {status}");
    }

    /// Creates a user as an administrator (or directory synchronization) would.
    pub async fn add_user(&self, properties: Json) -> String {
        let mut body: Map<String, Json> = properties.as_object().cloned().unwrap_or_default();
        body.entry("accountEnabled").or_insert(json!(true));
        body.entry("passwordProfile")
            .or_insert(json!({"password": "Initial-Passw0rd!"}));
        if !body.contains_key("mailNickname") {
            let upn = body["userPrincipalName"]
                .as_str()
                .unwrap_or("user")
                .to_owned();
            body.insert("mailNickname".into(), json!(upn.split('@').next().unwrap()));
        }
        let response = http()
            .post(self.emulator_url("users"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let created: Json = response.json().await.unwrap();
        assert!(status.is_success(), "add user: {status} {created}");
        created["id"].as_str().unwrap().to_owned()
    }

    /// The directory as JSON (users, groups with members, deleted users).
    pub async fn state(&self) -> Json {
        http()
            .get(self.emulator_url("state"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The user whose `key` property is `value`, from the directory's own state.
    pub async fn user_by(&self, key: &str, value: &str) -> Option<Json> {
        let state = self.state().await;
        state["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u[key].as_str() == Some(value))
            .cloned()
    }

    /// A Graph call as an administrator, outside the connector.
    pub async fn graph(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Json>,
    ) -> (u16, Json) {
        let info = &self.emulator.info;
        let token: Json = http()
            .post(self.emulator.token_url())
            .form(&[
                ("client_id", info.client_id.as_str()),
                ("client_secret", info.client_secret.as_str()),
                ("scope", "https://graph.microsoft.com/.default"),
                ("grant_type", "client_credentials"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut request = http()
            .request(method, format!("{}/{path}", self.emulator.graph_url()))
            .bearer_auth(token["access_token"].as_str().unwrap());
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Json::Null))
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::new()
}
