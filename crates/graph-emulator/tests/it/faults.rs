use graph_emulator::EmulatorOptions;
use serde_json::Value;

use crate::support::start_with;

#[tokio::test]
async fn a_fault_rate_of_one_fails_every_call_with_503_or_504() {
    let g = start_with(EmulatorOptions {
        seed: Some(4),
        fault_rate: 1.0,
        ..EmulatorOptions::default()
    })
    .await;
    let mut seen = Vec::new();
    for _ in 0..8 {
        let response = g.get("users").await;
        let status = response.status().as_u16();
        if status == 503 {
            assert_eq!(response.headers()["retry-after"], "1");
        }
        let body: Value = response.json().await.unwrap();
        seen.push((status, body["error"]["code"].as_str().unwrap().to_owned()));
    }
    assert!(seen.iter().all(|(s, _)| *s == 503 || *s == 504), "{seen:?}");
    assert!(seen.iter().any(|(s, _)| *s == 503) && seen.iter().any(|(s, _)| *s == 504));
    let stats: Value = g
        .http
        .get(format!("{}/_emulator/stats", g.emulator.login_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["faults"], 8);
}

#[tokio::test]
async fn a_drop_rate_of_one_closes_the_connection_without_a_response() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let g = start_with(EmulatorOptions {
        seed: Some(5),
        drop_rate: 1.0,
        ..EmulatorOptions::default()
    })
    .await;
    let authority = g
        .emulator
        .login_url()
        .trim_start_matches("http://")
        .to_owned();
    let mut tcp = tokio::net::TcpStream::connect(&authority).await.unwrap();
    let request = format!(
        "GET /v1.0/users HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {}\r\n\r\n",
        g.token
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let _ = tcp.read_to_end(&mut received).await;
    assert!(
        received.is_empty(),
        "a dropped connection sends nothing, got {}",
        String::from_utf8_lossy(&received)
    );
    // The token endpoint and inspection are not Graph calls: they still answer.
    let stats: Value = g
        .http
        .get(format!("{}/_emulator/stats", g.emulator.login_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["dropped"], 1);
}
