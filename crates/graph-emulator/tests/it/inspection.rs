use reqwest::StatusCode;
use serde_json::Value;

use crate::support::start;

#[tokio::test]
async fn stats_state_and_reset() {
    let g = start().await;
    let id = g.create_user("a").await;
    let _ = g.http.get(g.url("users")).send().await.unwrap(); // no token
    let base = g.emulator.login_url().to_owned();

    let stats: Value = g
        .http
        .get(format!("{base}/_emulator/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["graph_requests"], 2);
    assert_eq!(stats["unauthenticated"], 1);
    assert_eq!(stats["writes"], 1);

    let state: Value = g
        .http
        .get(format!("{base}/_emulator/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["users"][0]["id"], id.as_str());

    let response = g
        .http
        .post(format!("{base}/_emulator/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        g.get(&format!("users/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    // The same credentials keep working after a reset.
    assert_eq!(g.get("users").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn state_round_trips_through_dump_and_load() {
    let g = start().await;
    let base = g.emulator.login_url().to_owned();
    let boss = g.create_user("boss").await;
    let worker = g.create_user("worker").await;
    let gone = g.create_user("gone").await;
    g.send(
        reqwest::Method::PUT,
        &format!("users/{worker}/manager/$ref"),
        Some(serde_json::json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{boss}")})),
    )
    .await;
    let group = g.create_group("team").await;
    g.post(
        &format!("groups/{group}/members/$ref"),
        serde_json::json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{worker}")}),
    )
    .await;
    g.post(
        "roleManagement/directory/roleAssignments",
        serde_json::json!({"roleDefinitionId": "fe930be7-5e62-47db-91af-98c3a49a38b1",
                           "principalId": boss, "directoryScopeId": "/"}),
    )
    .await;
    g.delete(&format!("users/{gone}")).await;

    let dumped: Value = g
        .http
        .get(format!("{base}/_emulator/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    g.http
        .post(format!("{base}/_emulator/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        g.get(&format!("users/{boss}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let response = g
        .http
        .post(format!("{base}/_emulator/state"))
        .json(&dumped)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let manager: Value = g
        .get(&format!("users/{worker}/manager"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(manager["id"], boss.as_str());
    let members: Value = g
        .get(&format!("groups/{group}/members"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members["value"][0]["id"], worker.as_str());
    let roles: Value = g
        .get("roleManagement/directory/roleAssignments")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(roles["value"][0]["principalId"], boss.as_str());
    let deleted: Value = g
        .get("directory/deletedItems/microsoft.graph.user")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(deleted["value"][0]["id"], gone.as_str());
    let again: Value = g
        .http
        .get(format!("{base}/_emulator/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again, dumped);

    // A state that refers to a missing object is refused whole, in Graph's error shape.
    let broken = serde_json::json!({"groups": [{"id": "1", "displayName": "x", "members": ["2"]}]});
    let response = g
        .http
        .post(format!("{base}/_emulator/state"))
        .json(&broken)
        .send()
        .await
        .unwrap();
    let (code, _) = crate::support::error_code(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(code, "BadRequest");
    assert_eq!(
        g.get(&format!("users/{boss}")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_state_with_unknown_properties_is_refused() {
    let g = start().await;
    let base = g.emulator.login_url().to_owned();
    let junk = serde_json::json!({"users": [{"id": "1", "displayName": "x",
        "userPrincipalName": "x@contoso.onmicrosoft.com", "favouriteColour": "blue"}]});
    let response = g
        .http
        .post(format!("{base}/_emulator/state"))
        .json(&junk)
        .send()
        .await
        .unwrap();
    let (code, _) = crate::support::error_code(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(code, "BadRequest");
}

#[tokio::test]
async fn guests_licenses_extensions_and_domains_survive_a_state_round_trip() {
    let g = start().await;
    let base = g.emulator.login_url().to_owned();
    g.post(
        "invitations",
        serde_json::json!({"invitedUserEmailAddress": "guest@fabrikam.com",
                           "inviteRedirectUrl": "https://myapp.contoso.com"}),
    )
    .await;
    let member = g.create_user("licensed").await;
    let group = g.create_group("licensing").await;
    g.post(
        &format!("groups/{group}/members/$ref"),
        serde_json::json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{member}")}),
    )
    .await;
    let licensed = g
        .post(
            &format!("groups/{group}/assignLicense"),
            serde_json::json!({"addLicenses": [{"skuId": "efccb6f7-5641-4e0e-bd10-b4976e1bf68e", "disabledPlans": []}], "removeLicenses": []}),
        )
        .await;
    assert_eq!(licensed.status(), StatusCode::ACCEPTED);
    let apps: Value = g.get("applications").await.json().await.unwrap();
    let app = apps["value"][0]["id"].as_str().unwrap().to_owned();
    let definition: Value = g
        .post(
            &format!("applications/{app}/extensionProperties"),
            serde_json::json!({"name": "tier", "dataType": "Integer", "targetObjects": ["User"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let name = definition["name"].as_str().unwrap().to_owned();
    g.patch(&format!("users/{member}"), serde_json::json!({ &name: 3 }))
        .await;
    g.post("domains", serde_json::json!({"id": "fabrikam.example"}))
        .await;

    let dumped: Value = g
        .http
        .get(format!("{base}/_emulator/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    g.http
        .post(format!("{base}/_emulator/reset"))
        .send()
        .await
        .unwrap();
    let response = g
        .http
        .post(format!("{base}/_emulator/state"))
        .json(&dumped)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::NO_CONTENT,
        "{}",
        response.text().await.unwrap()
    );
    let again: Value = g
        .http
        .get(format!("{base}/_emulator/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again, dumped);
    let user: Value = g
        .get(&format!("users/{member}?$select=id,{name}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(user[&name], 3);
}
