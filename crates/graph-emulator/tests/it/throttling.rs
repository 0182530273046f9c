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
        clock: crate::support::frozen_clock(),
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

#[tokio::test]
async fn resource_units_report_usage_and_throttle_reads() {
    let g = start_with(EmulatorOptions {
        seed: Some(2),
        throttle: ThrottleLimits {
            resource_units_small: 10.0,
            ..ThrottleLimits::default()
        },
        clock: crate::support::frozen_clock(),
        ..EmulatorOptions::default()
    })
    .await;
    // GET /users costs 2 RU; with $top < 20 it costs 1.
    let response = g.get("users").await;
    assert_eq!(response.headers()["x-ms-resource-unit"], "2");
    assert!(
        response
            .headers()
            .get("x-ms-throttle-limit-percentage")
            .is_none()
    );
    assert_eq!(
        g.get("users?$top=5").await.headers()["x-ms-resource-unit"],
        "1"
    );
    for _ in 0..2 {
        g.get("users").await;
    }
    // 7 of 10 used; the next brings usage to 90 %.
    let response = g.get("users").await;
    assert_eq!(response.headers()["x-ms-throttle-limit-percentage"], "0.9");
    let response = g.get("users").await;
    assert_eq!(
        response.headers()["x-ms-throttle-information"],
        "ResourceUnitLimitExceeded"
    );
    let (code, _) = error_code(response, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(code, "TooManyRequests");
}

#[tokio::test]
async fn a_fixed_tenant_size_picks_the_resource_unit_quota() {
    let g = start_with(EmulatorOptions {
        seed: Some(3),
        tenant_size: Some(graph_emulator::throttle::TenantSize::Large),
        throttle: ThrottleLimits {
            resource_units_small: 2.0,
            resource_units_large: 4.0,
            ..ThrottleLimits::default()
        },
        clock: crate::support::frozen_clock(),
        ..EmulatorOptions::default()
    })
    .await;
    // An empty tenant would be small (2 RU); fixed as large it has 4: two lists of 2 RU.
    for _ in 0..2 {
        assert_eq!(g.get("users").await.status(), StatusCode::OK);
    }
    assert_eq!(g.get("users").await.status(), StatusCode::TOO_MANY_REQUESTS);
}
