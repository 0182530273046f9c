use reqwest::StatusCode;
use serde_json::Value;

use crate::support::start;

#[tokio::test]
async fn stats_state_and_reset() {
    let g = start().await;
    let id = g.create_user("a").await;
    let _ = g.http.get(g.url("users")).send().await.unwrap(); // no token
    let base = g.emulator.login_url().to_owned();

    let stats: Value = g
        .http
        .get(format!("{base}/_emulator/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["graph_requests"], 2);
    assert_eq!(stats["unauthenticated"], 1);
    assert_eq!(stats["writes"], 1);

    let state: Value = g
        .http
        .get(format!("{base}/_emulator/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["users"][0]["id"], id.as_str());

    let response = g
        .http
        .post(format!("{base}/_emulator/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        g.get(&format!("users/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    // The same credentials keep working after a reset.
    assert_eq!(g.get("users").await.status(), StatusCode::OK);
}
