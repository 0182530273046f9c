use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{error_code, start};

#[tokio::test]
async fn members_are_added_listed_and_removed_with_the_real_errors() {
    let g = start().await;
    let group = g.create_group("ops").await;
    let alice = g.create_user("alice").await;
    let reference =
        json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{alice}")});

    let response = g
        .post(&format!("groups/{group}/members/$ref"), reference.clone())
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (code, body) = error_code(
        g.post(&format!("groups/{group}/members/$ref"), reference)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_BadRequest");
    assert_eq!(
        body["error"]["message"],
        "One or more added object references already exist for the following modified properties: 'members'."
    );

    let members: Value = g
        .get(&format!("groups/{group}/members"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        members["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("#directoryObjects")
    );
    assert_eq!(members["value"][0]["@odata.type"], "#microsoft.graph.user");
    assert_eq!(members["value"][0]["id"], alice.as_str());

    let member_of: Value = g
        .get(&format!("users/{alice}/memberOf"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(member_of["value"][0]["id"], group.as_str());

    let missing = json!({"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/00000000-0000-4000-8000-000000000000"});
    let (code, _) = error_code(
        g.post(&format!("groups/{group}/members/$ref"), missing)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(code, "Request_ResourceNotFound");

    assert_eq!(
        g.delete(&format!("groups/{group}/members/{alice}/$ref"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let (code, _) = error_code(
        g.delete(&format!("groups/{group}/members/{alice}/$ref"))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_BadRequest");
}

#[tokio::test]
async fn group_types_graph_refuses_and_unified_groups() {
    let g = start().await;
    let distribution = json!({"displayName": "d", "mailEnabled": true, "mailNickname": "d", "securityEnabled": false});
    let (code, _) = error_code(
        g.post("groups", distribution).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_BadRequest");

    let unified = json!({"displayName": "Team", "mailEnabled": true, "mailNickname": "team", "securityEnabled": false, "groupTypes": ["Unified"]});
    let response = g.post("groups", unified.clone()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["mail"], "team@contoso.onmicrosoft.com");
    assert!(
        body["securityIdentifier"]
            .as_str()
            .unwrap()
            .starts_with("S-1-12-1-")
    );
    let (_, body) = error_code(g.post("groups", unified).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["error"]["details"][0]["target"], "mailNickname");

    let (code, _) = error_code(
        g.post("groups", json!({"displayName": "x"})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_BadRequest");
}

#[tokio::test]
async fn members_odata_bind_is_all_or_nothing() {
    let g = start().await;
    let group = g.create_group("ops").await;
    let a = g.create_user("a").await;
    let b = g.create_user("b").await;
    let bind = |ids: &[&str]| json!({"members@odata.bind": ids.iter().map(|id| format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")).collect::<Vec<_>>()});
    assert_eq!(
        g.patch(&format!("groups/{group}"), bind(&[&a]))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let (code, _) = error_code(
        g.patch(&format!("groups/{group}"), bind(&[&b, &a])).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_BadRequest");
    let members: Value = g
        .get(&format!("groups/{group}/members"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        members["value"].as_array().unwrap().len(),
        1,
        "b must not have been added"
    );
}

#[tokio::test]
async fn a_synced_group_refuses_membership_and_name_changes() {
    let g = crate::support::start().await;
    let cloud = g.create_user("cloudmember").await;
    let seeded = g
        .http
        .post(format!("{}/_emulator/groups", g.emulator.login_url()))
        .json(
            &serde_json::json!({"displayName": "Synced", "mailNickname": "synced",
            "onPremisesSyncEnabled": true, "onPremisesSamAccountName": "Synced",
            "members": [cloud]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(seeded.status(), reqwest::StatusCode::CREATED);
    let group = seeded.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let members: serde_json::Value = g
        .get(&format!("groups/{group}/members"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members["value"][0]["id"], cloud.as_str());

    let other = g.create_user("othermember").await;
    for response in [
        g.post(
            &format!("groups/{group}/members/$ref"),
            serde_json::json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{other}")}),
        )
        .await,
        g.delete(&format!("groups/{group}/members/{cloud}/$ref")).await,
        g.patch(&format!("groups/{group}"), serde_json::json!({"displayName": "Renamed"}))
            .await,
    ] {
        let (code, body) =
            crate::support::error_code(response, reqwest::StatusCode::BAD_REQUEST).await;
        assert_eq!(code, "Request_BadRequest");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("on-premises mastered")
        );
    }
}
