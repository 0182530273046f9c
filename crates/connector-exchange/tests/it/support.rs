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

/// A proxy in front of the emulator's Exchange endpoint that answers every `$batch` with
/// its responses in reverse order, as the service may (it answers by id, not by position).
/// Returns its base URL and the count of batches it reversed.
pub async fn reversing_proxy(
    target: &str,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let reversed = Arc::new(AtomicUsize::new(0));
    let count = reversed.clone();
    let target = target.trim_end_matches('/').to_owned();
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            // One request per connection (the answer says `Connection: close`).
            let mut raw = Vec::new();
            let mut chunk = [0u8; 8192];
            let (head, body) = loop {
                let n = socket.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break (String::new(), Vec::new());
                }
                raw.extend_from_slice(&chunk[..n]);
                let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&raw[..end]).into_owned();
                let length: usize = head
                    .lines()
                    .filter_map(|l| l.split_once(':'))
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.trim().parse().ok())
                    .unwrap_or(0);
                if raw.len() >= end + 4 + length {
                    break (head, raw[end + 4..end + 4 + length].to_vec());
                }
            };
            let mut lines = head.lines();
            let Some(path) = lines.next().and_then(|l| l.split(' ').nth(1)) else {
                continue;
            };
            let mut forward = http.post(format!("{target}{path}")).body(body);
            for (name, value) in lines.filter_map(|l| l.split_once(':')) {
                if !["host", "content-length", "connection"]
                    .contains(&name.trim().to_ascii_lowercase().as_str())
                {
                    forward = forward.header(name.trim(), value.trim());
                }
            }
            let response = forward.send().await.unwrap();
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| format!("Retry-After: {}\r\n", v.to_str().unwrap()))
                .unwrap_or_default();
            let mut answer: Value = response.json().await.unwrap_or(Value::Null);
            if path.ends_with("/$batch")
                && let Some(responses) = answer["responses"].as_array_mut()
                && responses.len() > 1
            {
                responses.reverse();
                count.fetch_add(1, Ordering::SeqCst);
            }
            let text = answer.to_string();
            let reply = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{retry_after}Connection: close\r\n\r\n{text}",
                text.len()
            );
            let _ = socket.write_all(reply.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    (base, reversed)
}
