use graph_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

/// A running emulator and a client holding a valid token.
pub struct Graph {
    pub emulator: RunningEmulator,
    pub http: Client,
    pub token: String,
}

pub async fn start() -> Graph {
    start_with(EmulatorOptions {
        seed: Some(42),
        ..EmulatorOptions::default()
    })
    .await
}

pub async fn start_with(options: EmulatorOptions) -> Graph {
    let emulator = Emulator::start(options).await.expect("emulator starts");
    let http = Client::new();
    let token = fetch_token(&emulator, &http).await;
    Graph {
        emulator,
        http,
        token,
    }
}

/// Gets an access token with the client secret.
pub async fn fetch_token(emulator: &RunningEmulator, http: &Client) -> String {
    let info = &emulator.info;
    let form = format!(
        "client_id={}&client_secret={}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&grant_type=client_credentials",
        info.client_id,
        urlencode(&info.client_secret)
    );
    let response = http
        .post(emulator.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("token request");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// A clock that stands still, so refill during a test cannot change a `Retry-After`.
pub fn frozen_clock() -> std::sync::Arc<graph_emulator::clock::ManualClock> {
    std::sync::Arc::new(graph_emulator::clock::ManualClock::new(
        jiff::Timestamp::from_second(1_700_000_000).unwrap(),
    ))
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Graph {
    pub fn url(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.emulator.graph_url(),
            path.trim_start_matches('/')
        )
    }

    pub async fn get(&self, path_or_url: &str) -> Response {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            self.url(path_or_url)
        };
        self.http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Response {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Response {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    /// Creates a user and returns its id.
    pub async fn create_user(&self, nickname: &str) -> String {
        let response = self.post("users", user_body(nickname)).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    pub async fn create_group(&self, nickname: &str) -> String {
        let response = self
            .post(
                "groups",
                json!({"displayName": nickname, "mailEnabled": false, "mailNickname": nickname, "securityEnabled": true}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }
}

pub fn user_body(nickname: &str) -> Value {
    json!({
        "accountEnabled": true,
        "displayName": format!("User {nickname}"),
        "mailNickname": nickname,
        "userPrincipalName": format!("{nickname}@contoso.onmicrosoft.com"),
        "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "xWwvJ]6NMw+bWH-d"}
    })
}

/// Asserts Graph's error shape and returns `error.code`.
pub async fn error_code(response: Response, status: StatusCode) -> (String, Value) {
    assert_eq!(response.status(), status);
    let request_id = response
        .headers()
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: Value = response.json().await.unwrap();
    let error = &body["error"];
    assert!(error["message"].is_string(), "{body}");
    let inner = &error["innerError"];
    assert_eq!(inner["request-id"].as_str().map(str::to_owned), request_id);
    assert_eq!(inner["date"].as_str().map(str::len), Some(19), "{body}");
    (error["code"].as_str().unwrap().to_owned(), body)
}
