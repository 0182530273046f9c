use graph_emulator::{EmulatorOptions, ThrottleLimits};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{error_code, start_with};

#[tokio::test]
async fn writes_over_the_quota_get_429_with_integer_retry_after() {
    let g = start_with(EmulatorOptions {
        seed: Some(1),
        throttle: ThrottleLimits {
            app_tenant_writes: 3.0,
            ..ThrottleLimits::default()
        },
        ..EmulatorOptions::default()
    })
    .await;
    let id = g.create_user("a").await;
    for _ in 0..2 {
        let response = g
            .patch(&format!("users/{id}"), json!({"jobTitle": "x"}))
            .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(response.headers()["x-ms-resource-unit"], "1");
    }
    let response = g
        .patch(&format!("users/{id}"), json!({"jobTitle": "y"}))
        .await;
    // 3 writes per 150 s refill one write every 50 s.
    assert_eq!(response.headers()["retry-after"], "50");
    assert!(
        response.headers()["x-ms-throttle-scope"]
            .to_str()
            .unwrap()
            .starts_with("Tenant_Application/Write/")
    );
    let (code, body) = error_code(response, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(code, "TooManyRequests");
    assert_eq!(body["error"]["innerError"]["status"], "429");

    // Reads are still allowed: they cost resource units, not writes.
    assert_eq!(g.get(&format!("users/{id}")).await.status(), StatusCode::OK);
}
