//! The `idsync-graph-emulator` binary: its first stdout line is the connection JSON.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

#[tokio::test]
async fn binary_prints_connection_json_first_and_serves() {
    let tls_dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_idsync-graph-emulator"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--listen-http",
            "127.0.0.1:0",
            "--seed",
            "7",
            "--tls-dir",
        ])
        .arg(tls_dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .unwrap()
    .unwrap();
    let info: Value = serde_json::from_str(&line).expect("first line is JSON");
    for key in [
        "graph_url",
        "login_url",
        "tenant_id",
        "client_id",
        "client_secret",
        "ca_path",
    ] {
        assert!(info[key].is_string(), "{key} missing in {line}");
    }
    assert!(info["graph_url"].as_str().unwrap().starts_with("https://"));
    assert!(std::path::Path::new(info["ca_path"].as_str().unwrap()).exists());

    let http = info["http_login_url"].as_str().unwrap();
    let url = format!(
        "{http}/{}/v2.0/.well-known/openid-configuration",
        info["tenant_id"].as_str().unwrap()
    );
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200);

    child.kill().unwrap();
    child.wait().unwrap();
}

/// Starts the binary with `--state`, returns it and its connection JSON.
fn start_with_state(
    state: &std::path::Path,
    tls: &std::path::Path,
) -> (std::process::Child, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_idsync-graph-emulator"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--listen-http",
            "127.0.0.1:0",
            "--seed",
            "8",
        ])
        .arg("--tls-dir")
        .arg(tls)
        .arg("--state")
        .arg(state)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (
        child,
        serde_json::from_str(&line).expect("first line is JSON"),
    )
}

#[tokio::test]
async fn state_file_is_saved_on_sigterm_and_loaded_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let (mut child, info) = start_with_state(&state, dir.path());
    let http = info["http_login_url"].as_str().unwrap().to_owned();
    let client = reqwest::Client::new();
    let seeded = client
        .post(format!("{http}/_emulator/users"))
        .json(&serde_json::json!({"displayName": "Kept", "userPrincipalName": "kept@contoso.onmicrosoft.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(seeded.status(), 201);
    let id = seeded.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
    assert!(state.exists(), "SIGTERM writes the state file");

    let (mut child, info) = start_with_state(&state, dir.path());
    let http = info["http_login_url"].as_str().unwrap().to_owned();
    let dumped: Value = client
        .get(format!("{http}/_emulator/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dumped["users"][0]["id"], id.as_str());
    child.kill().unwrap();
    child.wait().unwrap();
}
