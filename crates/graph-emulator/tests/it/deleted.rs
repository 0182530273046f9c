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

#[tokio::test]
async fn a_restored_user_gets_its_group_memberships_back() {
    let g = crate::support::start().await;
    let user = g.create_user("comeback").await;
    let kept = g.create_group("kept").await;
    let dropped = g.create_group("dropped").await;
    for group in [&kept, &dropped] {
        g.post(
            &format!("groups/{group}/members/$ref"),
            serde_json::json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{user}")}),
        )
        .await;
    }
    assert_eq!(
        g.delete(&format!("users/{user}")).await.status(),
        reqwest::StatusCode::NO_CONTENT
    );
    let members: Value = g
        .get(&format!("groups/{kept}/members"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members["value"], serde_json::json!([]));
    // A group deleted meanwhile is not given back.
    g.delete(&format!("groups/{dropped}")).await;
    let restored = g
        .post(
            &format!("directory/deletedItems/{user}/restore"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(restored.status(), reqwest::StatusCode::OK);
    let member_of: Value = g
        .get(&format!("users/{user}/memberOf"))
        .await
        .json()
        .await
        .unwrap();
    let groups: Vec<&str> = member_of["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(groups, [kept.as_str()]);
}
