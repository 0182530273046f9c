use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{error_code, start, user_body};

#[tokio::test]
async fn create_get_by_id_and_upn_patch_delete() {
    let g = start().await;
    let response = g.post("users", user_body("adele")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    assert!(
        created["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/v1.0/$metadata#users/$entity")
    );
    assert_eq!(created["businessPhones"], json!([]));
    assert!(created.get("passwordProfile").is_none());
    let id = created["id"].as_str().unwrap();

    let by_upn: Value = g
        .get("users/ADELE@contoso.onmicrosoft.com")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_upn["id"], id);

    let response = g
        .patch(&format!("users/{id}"), json!({"jobTitle": "Engineer"}))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let selected: Value = g
        .get(&format!(
            "users/{id}?$select=jobTitle,accountEnabled,department"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(selected["jobTitle"], "Engineer");
    assert_eq!(selected["accountEnabled"], true);
    assert_eq!(selected["department"], Value::Null);
    assert!(selected.get("displayName").is_none());
    assert!(
        selected["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("#users(jobTitle,accountEnabled,department)/$entity")
    );

    assert_eq!(
        g.delete(&format!("users/{id}")).await.status(),
        StatusCode::NO_CONTENT
    );
    let (code, body) = error_code(g.get(&format!("users/{id}")).await, StatusCode::NOT_FOUND).await;
    assert_eq!(code, "Request_ResourceNotFound");
    assert!(body["error"]["message"].as_str().unwrap().contains(id));
}

#[tokio::test]
async fn duplicate_upn_is_object_conflict() {
    let g = start().await;
    g.create_user("adele").await;
    let mut again = user_body("adele");
    again["mailNickname"] = json!("adele2");
    let (code, body) = error_code(g.post("users", again).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(code, "Request_BadRequest");
    assert_eq!(
        body["error"]["message"],
        "Another object with the same value for property userPrincipalName already exists."
    );
    assert_eq!(body["error"]["details"][0]["code"], "ObjectConflict");
    assert_eq!(body["error"]["details"][0]["target"], "userPrincipalName");
}

#[tokio::test]
async fn create_checks_required_properties_types_and_domains() {
    let g = start().await;
    let mut missing = user_body("a");
    missing.as_object_mut().unwrap().remove("passwordProfile");
    let (code, body) = error_code(g.post("users", missing).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(code, "Request_BadRequest");
    assert_eq!(
        body["error"]["message"],
        "Invalid value specified for property 'passwordProfile' of resource 'User'."
    );

    let mut wrong_type = user_body("b");
    wrong_type["accountEnabled"] = json!("yes");
    let (code, body) = error_code(g.post("users", wrong_type).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(code, "BadRequest");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Edm.Boolean")
    );

    let mut unknown = user_body("c");
    unknown["favouriteColour"] = json!("blue");
    let (code, _) = error_code(g.post("users", unknown).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(code, "BadRequest");

    let mut foreign = user_body("d");
    foreign["userPrincipalName"] = json!("d@fabrikam.com");
    let (code, _) = error_code(g.post("users", foreign).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(code, "Request_BadRequest");

    let response = g.send(reqwest::Method::POST, "users", None).await;
    let (code, _) = error_code(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(code, "BadRequest");
}

#[tokio::test]
async fn list_pages_with_top_and_next_link() {
    let g = start().await;
    for i in 0..5 {
        g.create_user(&format!("u{i}")).await;
    }
    let mut url = g.url("users?$top=2&$select=id,userPrincipalName");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let body: Value = g.get(&url).await.json().await.unwrap();
        pages += 1;
        for u in body["value"].as_array().unwrap() {
            assert!(u.get("displayName").is_none());
            seen.push(u["userPrincipalName"].as_str().unwrap().to_owned());
        }
        match body["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 5);
    assert_eq!(seen[0], "u0@contoso.onmicrosoft.com");

    let (_, body) = error_code(g.get("users?$top=1000").await, StatusCode::BAD_REQUEST).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("between 1 and 999")
    );
}

#[tokio::test]
async fn filter_eq_startswith_and_advanced_query_rules() {
    let g = start().await;
    for nick in ["alice", "albert", "bob"] {
        g.create_user(nick).await;
    }
    let body: Value = g
        .get("users?$filter=startsWith(displayName,'User al')")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["value"].as_array().unwrap().len(), 2);
    let body: Value = g
        .get("users?$filter=userPrincipalName%20eq%20'BOB@contoso.onmicrosoft.com'")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["value"].as_array().unwrap().len(), 1);

    let (code, _) = error_code(
        g.get("users?$filter=userPrincipalName ne 'x'").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_UnsupportedQuery");
    let (code, body) = error_code(
        g.get("users?$filter=createdDateTime eq 'x'").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_UnsupportedQuery");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'createdDateTime' of resource 'User'")
    );

    let response =
        g.http
            .get(g.url(
                "users?$filter=endsWith(userPrincipalName,'contoso.onmicrosoft.com')&$count=true",
            ))
            .bearer_auth(&g.token)
            .header("ConsistencyLevel", "eventual")
            .send()
            .await
            .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["@odata.count"], 3);
}

#[tokio::test]
async fn organization_and_domains_name_the_initial_domain() {
    let g = start().await;
    let org: Value = g.get("organization").await.json().await.unwrap();
    assert_eq!(org["value"][0]["id"], g.emulator.info.tenant_id.as_str());
    assert_eq!(
        org["value"][0]["verifiedDomains"][0]["name"],
        "contoso.onmicrosoft.com"
    );
    let domains: Value = g.get("domains").await.json().await.unwrap();
    assert_eq!(domains["value"][0]["id"], "contoso.onmicrosoft.com");
    assert_eq!(domains["value"][0]["isInitial"], true);
}

#[tokio::test]
async fn synced_users_reject_changes_to_on_premises_mastered_attributes() {
    let g = start().await;
    let seeded: Value = g
        .http
        .post(format!("{}/_emulator/users", g.emulator.login_url()))
        .json(&json!({
            "displayName": "Synced User", "userPrincipalName": "synced@contoso.onmicrosoft.com",
            "mailNickname": "synced", "onPremisesSyncEnabled": true,
            "onPremisesImmutableId": "AAECAwQFBgcICQoLDA0ODw==",
            "onPremisesSamAccountName": "synced"
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = seeded["id"].as_str().unwrap();

    let (code, body) = error_code(
        g.patch(&format!("users/{id}"), json!({"jobTitle": "x"}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_BadRequest");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Unable to update the specified properties for on-premises mastered")
    );
    // Cloud-side attributes stay writable.
    assert_eq!(
        g.patch(&format!("users/{id}"), json!({"usageLocation": "DE"}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );

    let selected: Value = g
        .get(&format!(
            "users/{id}?$select=onPremisesSyncEnabled,onPremisesSamAccountName"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(selected["onPremisesSyncEnabled"], true);
    // Graph clients can never set it.
    let (code, _) = error_code(
        g.patch(
            &format!("users/{id}"),
            json!({"onPremisesSyncEnabled": false}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_BadRequest");
}

#[tokio::test]
async fn count_segment_needs_consistency_level() {
    let g = start().await;
    g.create_user("a").await;
    g.create_user("b").await;
    let (code, body) = error_code(g.get("users/$count").await, StatusCode::BAD_REQUEST).await;
    assert_eq!(code, "Request_BadRequest");
    assert_eq!(
        body["error"]["message"],
        "$count is not currently supported."
    );
    let response = g
        .http
        .get(g.url("users/$count?$filter=startsWith(userPrincipalName,'a')"))
        .bearer_auth(&g.token)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "1");
}
