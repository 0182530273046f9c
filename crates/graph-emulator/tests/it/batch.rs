use graph_emulator::{EmulatorOptions, ThrottleLimits};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{start, start_with, user_body};

#[tokio::test]
async fn batch_runs_items_with_their_own_statuses_and_dependencies() {
    let g = start().await;
    let batch = json!({"requests": [
        {"id": "1", "method": "POST", "url": "/users", "body": user_body("a"), "headers": {"Content-Type": "application/json"}},
        {"id": "2", "method": "GET", "url": "/users/a@contoso.onmicrosoft.com?$select=displayName", "dependsOn": ["1"]},
        {"id": "3", "method": "GET", "url": "users/00000000-0000-4000-8000-000000000000"},
        {"id": "4", "method": "GET", "url": "/users", "dependsOn": ["3"]}
    ]});
    let response = g.post("$batch", batch).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let by_id = |id: &str| {
        body["responses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id("1")["status"], 201);
    assert_eq!(by_id("2")["status"], 200);
    assert_eq!(by_id("2")["body"]["displayName"], "User a");
    assert_eq!(by_id("3")["status"], 404);
    assert_eq!(
        by_id("3")["body"]["error"]["code"],
        "Request_ResourceNotFound"
    );
    assert_eq!(by_id("4")["status"], 424);
}

#[tokio::test]
async fn batch_limits_and_duplicate_ids_fail_the_whole_batch() {
    let g = start().await;
    let many: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/users"}))
        .collect();
    assert_eq!(
        g.post("$batch", json!({"requests": many})).await.status(),
        StatusCode::BAD_REQUEST
    );
    let dup = json!({"requests": [{"id": "a", "method": "GET", "url": "/users"}, {"id": "A", "method": "GET", "url": "/users"}]});
    assert_eq!(
        g.post("$batch", dup).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn batch_items_are_throttled_one_by_one() {
    let g = start_with(EmulatorOptions {
        seed: Some(3),
        throttle: ThrottleLimits {
            app_tenant_writes: 2.0,
            ..ThrottleLimits::default()
        },
        clock: crate::support::frozen_clock(),
        ..EmulatorOptions::default()
    })
    .await;
    let requests: Vec<Value> = ["a", "b", "c"]
        .iter()
        .map(|n| json!({"id": n, "method": "POST", "url": "/users", "body": user_body(n), "headers": {"Content-Type": "application/json"}}))
        .collect();
    let body: Value = g
        .post("$batch", json!({"requests": requests}))
        .await
        .json()
        .await
        .unwrap();
    // Items run in request order: the third write is the one over the quota.
    let by_id = |id: &str| {
        body["responses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    let statuses: Vec<Value> = ["a", "b", "c"]
        .iter()
        .map(|i| by_id(i)["status"].clone())
        .collect();
    assert_eq!(statuses, [201, 201, 429]);
    assert_eq!(by_id("c")["headers"]["Retry-After"], "75");
}

#[tokio::test]
async fn batch_responses_may_come_back_out_of_order() {
    let g = start().await;
    let requests: Vec<Value> = (0..8)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/organization"}))
        .collect();
    let body: Value = g
        .post("$batch", json!({"requests": requests}))
        .await
        .json()
        .await
        .unwrap();
    let mut ids: Vec<String> = body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    let answered = ids.clone();
    ids.sort();
    let requested: Vec<String> = (0..8).map(|i| i.to_string()).collect();
    assert_eq!(ids, requested, "every item answered once");
    assert_ne!(answered, requested, "seed 42 reorders this batch");
}

/// Graph's own batch sample writes `$filter=city eq null` with bare spaces in the item URL.
#[tokio::test]
async fn batch_item_urls_may_hold_spaces_as_graphs_samples_write_them() {
    let g = start().await;
    let batch = json!({"requests": [
        {"id": "1", "method": "POST", "url": "/users", "body": user_body("a"), "headers": {"Content-Type": "application/json"}},
        {"id": "2", "method": "GET", "url": "/users?$filter=userPrincipalName eq 'a@contoso.onmicrosoft.com'&$select=id", "dependsOn": ["1"]}
    ]});
    let body: Value = g.post("$batch", batch).await.json().await.unwrap();
    let second = body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "2")
        .unwrap();
    assert_eq!(second["status"], 200, "{second:#}");
    assert_eq!(second["body"]["value"].as_array().map(Vec::len), Some(1));
}
