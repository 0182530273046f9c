use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{error_code, start, user_body};

#[tokio::test]
async fn deleted_users_can_be_listed_restored_and_purged() {
    let g = start().await;
    let a = g.create_user("a").await;
    let b = g.create_user("b").await;
    g.delete(&format!("users/{a}")).await;
    g.delete(&format!("users/{b}")).await;

    let listed: Value = g
        .get("directory/deletedItems/microsoft.graph.user")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = listed["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [a.as_str(), b.as_str()]);
    assert_eq!(listed["value"][0]["@odata.type"], "#microsoft.graph.user");

    let response = g
        .post(
            &format!("directory/deletedItems/{a}/restore"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let restored: Value = response.json().await.unwrap();
    assert!(
        restored["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("#directoryObjects/$entity")
    );
    assert_eq!(g.get(&format!("users/{a}")).await.status(), StatusCode::OK);

    // A purged user frees its userPrincipalName.
    assert_eq!(
        g.delete(&format!("directory/deletedItems/{b}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let (code, _) = error_code(
        g.get(&format!("directory/deletedItems/{b}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(code, "Request_ResourceNotFound");
    assert_eq!(
        g.post("users", user_body("b")).await.status(),
        StatusCode::CREATED
    );
}
