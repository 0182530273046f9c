//! `$expand` and transitive membership.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Graph, error_code, start};

async fn add(g: &Graph, group: &str, member: &str) {
    let response = g
        .post(
            &format!("groups/{group}/members/$ref"),
            json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{member}")}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

fn ids(body: &Value) -> Vec<String> {
    body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn expand_manager_and_members() {
    let g = start().await;
    let boss = g.create_user("boss").await;
    let worker = g.create_user("worker").await;
    g.send(
        reqwest::Method::PUT,
        &format!("users/{worker}/manager/$ref"),
        Some(json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{boss}")})),
    )
    .await;
    let one: Value = g
        .get(&format!(
            "users/{worker}?$select=id,displayName&$expand=manager($select=id,displayName)"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["manager"]["id"], boss.as_str());
    assert_eq!(one["manager"]["@odata.type"], "#microsoft.graph.user");
    assert_eq!(one["manager"]["displayName"], "User boss");
    let list: Value = g
        .get("users?$expand=manager($select=id)")
        .await
        .json()
        .await
        .unwrap();
    let users = list["value"].as_array().unwrap();
    let without = users.iter().find(|u| u["id"] == boss.as_str()).unwrap();
    assert!(without.get("manager").is_none(), "no manager, no property");
    let with = users.iter().find(|u| u["id"] == worker.as_str()).unwrap();
    assert_eq!(with["manager"]["id"], boss.as_str());

    let group = g.create_group("team").await;
    add(&g, &group, &worker).await;
    let expanded: Value = g
        .get(&format!("groups/{group}?$expand=members($select=id)"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(expanded["members"][0]["id"], worker.as_str());

    let (code, _) = error_code(
        g.get(&format!("users/{worker}?$expand=colleagues")).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "BadRequest");
}

#[tokio::test]
async fn transitive_membership_follows_nested_groups() {
    let g = start().await;
    let user = g.create_user("nested").await;
    let inner = g.create_group("inner").await;
    let outer = g.create_group("outer").await;
    add(&g, &inner, &user).await;
    add(&g, &outer, &inner).await;

    let direct: Value = g
        .get(&format!("users/{user}/memberOf"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&direct), std::slice::from_ref(&inner));
    let transitive: Value = g
        .get(&format!("users/{user}/transitiveMemberOf"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&transitive), [inner.clone(), outer.clone()]);
    let members: Value = g
        .get(&format!("groups/{outer}/transitiveMembers"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&members), [inner.clone(), user.clone()]);
    assert_eq!(members["value"][1]["@odata.type"], "#microsoft.graph.user");
    let parents: Value = g
        .get(&format!("groups/{inner}/memberOf"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&parents), [outer]);
}

#[tokio::test]
async fn cast_segments_keep_one_type() {
    let g = start().await;
    let user = g.create_user("castuser").await;
    let inner = g.create_group("castinner").await;
    let outer = g.create_group("castouter").await;
    add(&g, &outer, &user).await;
    add(&g, &outer, &inner).await;
    for cast in ["microsoft.graph.user", "graph.user"] {
        let users: Value = g
            .get(&format!("groups/{outer}/members/{cast}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(ids(&users), std::slice::from_ref(&user));
        assert!(
            users["@odata.context"]
                .as_str()
                .unwrap()
                .ends_with("$metadata#users")
        );
    }
    let groups: Value = g
        .get(&format!("groups/{outer}/members/microsoft.graph.group"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&groups), std::slice::from_ref(&inner));
    let member_of: Value = g
        .get(&format!("users/{user}/memberOf/microsoft.graph.group"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&member_of), std::slice::from_ref(&outer));
    let (code, _) = error_code(
        g.get(&format!("groups/{outer}/members/microsoft.graph.device"))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "BadRequest");
}
