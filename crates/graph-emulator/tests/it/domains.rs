//! Domains: configured, added, verified, used by userPrincipalNames, deleted.

use graph_emulator::EmulatorOptions;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{error_code, start_with, user_body};

#[tokio::test]
async fn added_domains_become_usable_once_verified() {
    let g = start_with(EmulatorOptions {
        seed: Some(31),
        verified_domains: vec!["contoso.com".to_owned()],
        ..EmulatorOptions::default()
    })
    .await;
    // A configured domain is verified from the start.
    let mut body = user_body("ada");
    body["userPrincipalName"] = json!("ada@contoso.com");
    assert_eq!(g.post("users", body).await.status(), StatusCode::CREATED);

    let response = g.post("domains", json!({"id": "Fabrikam.com"})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let added: Value = response.json().await.unwrap();
    assert_eq!(added["isVerified"], false);
    let mut body = user_body("bob");
    body["userPrincipalName"] = json!("bob@fabrikam.com");
    let (code, _) = error_code(g.post("users", body.clone()).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(code, "Request_BadRequest");

    let verified: Value = g
        .post("domains/fabrikam.com/verify", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verified["isVerified"], true);
    assert_eq!(g.post("users", body).await.status(), StatusCode::CREATED);

    let listed: Value = g.get("domains").await.json().await.unwrap();
    let names: Vec<&str> = listed["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["contoso.onmicrosoft.com", "contoso.com", "fabrikam.com"]
    );
    let org: Value = g.get("organization").await.json().await.unwrap();
    assert_eq!(
        org["value"][0]["verifiedDomains"].as_array().unwrap().len(),
        3
    );

    // In use, or initial: not deletable. Unused: gone.
    let (code, _) = error_code(
        g.delete("domains/fabrikam.com").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_BadRequest");
    let (code, _) = error_code(
        g.delete("domains/contoso.onmicrosoft.com").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_BadRequest");
    g.post("domains", json!({"id": "unused.example"})).await;
    assert_eq!(
        g.delete("domains/unused.example").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        g.get("domains/unused.example").await.status(),
        StatusCode::NOT_FOUND
    );
}
