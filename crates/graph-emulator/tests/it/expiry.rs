//! Lifetimes, checked with a clock the test moves by hand.

use std::sync::Arc;

use graph_emulator::EmulatorOptions;
use graph_emulator::clock::ManualClock;
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{Graph, error_code, fetch_token, start_with};

async fn start_at_fixed_time() -> (Graph, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(
        Timestamp::from_second(1_700_000_000).unwrap(),
    ));
    let g = start_with(EmulatorOptions {
        seed: Some(9),
        clock: clock.clone(),
        ..EmulatorOptions::default()
    })
    .await;
    (g, clock)
}

#[tokio::test]
async fn access_tokens_expire_after_an_hour() {
    let (g, clock) = start_at_fixed_time().await;
    assert_eq!(g.get("users").await.status(), StatusCode::OK);
    clock.advance(SignedDuration::from_secs(3600));
    let (code, body) = error_code(g.get("users").await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(code, "InvalidAuthenticationToken");
    assert_eq!(
        body["error"]["message"],
        "Lifetime validation failed, the token is expired."
    );
}

#[tokio::test]
async fn delta_tokens_expire_after_seven_days() {
    let (mut g, clock) = start_at_fixed_time().await;
    g.create_user("a").await;
    let body: Value = g.get("users/delta").await.json().await.unwrap();
    let link = body["@odata.deltaLink"].as_str().unwrap().to_owned();

    clock.advance(SignedDuration::from_hours(24 * 6));
    g.token = fetch_token(&g.emulator, &g.http).await;
    assert_eq!(g.get(&link).await.status(), StatusCode::OK);

    clock.advance(SignedDuration::from_hours(24 * 2));
    g.token = fetch_token(&g.emulator, &g.http).await;
    let (code, _) = error_code(g.get(&link).await, StatusCode::GONE).await;
    assert_eq!(code, "syncStateNotFound");
}

#[tokio::test]
async fn unsupported_methods_and_paths_get_graph_errors() {
    let (g, _) = start_at_fixed_time().await;
    let (code, _) = error_code(
        g.send(reqwest::Method::PUT, "users", None).await,
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
    assert_eq!(code, "Request_BadRequest");
    let (code, body) = error_code(g.get("nonsense").await, StatusCode::BAD_REQUEST).await;
    assert_eq!(code, "BadRequest");
    assert_eq!(
        body["error"]["message"],
        "Resource not found for the segment 'nonsense'."
    );
}
