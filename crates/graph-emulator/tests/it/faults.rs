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
