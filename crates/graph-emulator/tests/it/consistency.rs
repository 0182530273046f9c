//! The optional eventual-consistency delay: a created object is invisible to reads for a
//! while, then appears.

use graph_emulator::EmulatorOptions;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{error_code, frozen_clock, start_with};

#[tokio::test]
async fn created_objects_appear_after_the_delay() {
    let clock = frozen_clock();
    let g = start_with(EmulatorOptions {
        seed: Some(21),
        clock: clock.clone(),
        eventual_consistency: std::time::Duration::from_secs(2),
        ..EmulatorOptions::default()
    })
    .await;
    let id = g.create_user("late").await;
    let (code, _) = error_code(g.get(&format!("users/{id}")).await, StatusCode::NOT_FOUND).await;
    assert_eq!(code, "Request_ResourceNotFound");
    let list: Value = g.get("users").await.json().await.unwrap();
    assert_eq!(list["value"].as_array().unwrap().len(), 0);
    // Writes reach the object at once; only reads lag.
    assert_eq!(
        g.patch(&format!("users/{id}"), serde_json::json!({"jobTitle": "x"}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );

    clock.advance(jiff::SignedDuration::from_secs(2));
    assert_eq!(g.get(&format!("users/{id}")).await.status(), StatusCode::OK);
    let list: Value = g.get("users").await.json().await.unwrap();
    assert_eq!(list["value"][0]["id"], id.as_str());
}
