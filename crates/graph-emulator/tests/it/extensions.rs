//! Directory extensions registered on the application and used on users and groups.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{error_code, start};

#[tokio::test]
async fn extension_values_are_written_selected_and_filtered() {
    let g = start().await;
    let apps: Value = g.get("applications").await.json().await.unwrap();
    let app = &apps["value"][0];
    assert_eq!(app["appId"], g.emulator.info.client_id.as_str());
    let app_object = app["id"].as_str().unwrap().to_owned();
    assert_ne!(app_object, g.emulator.info.client_id);

    let response = g
        .post(
            &format!("applications/{app_object}/extensionProperties"),
            json!({"name": "costCenter", "dataType": "String", "targetObjects": ["User", "Group"]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let definition: Value = response.json().await.unwrap();
    let name = format!(
        "extension_{}_costCenter",
        g.emulator.info.client_id.replace('-', "")
    );
    assert_eq!(definition["name"], name.as_str());
    assert_eq!(definition["isSyncedFromOnPremises"], false);
    let listed: Value = g
        .get(&format!("applications/{app_object}/extensionProperties"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["value"][0]["name"], name.as_str());

    // Create with a value, read it only with $select, PATCH it, filter on it.
    let mut body = crate::support::user_body("ext1");
    body[&name] = json!("CC-1");
    let response = g.post("users", body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let plain: Value = g.get(&format!("users/{id}")).await.json().await.unwrap();
    assert!(
        plain.get(&name).is_none(),
        "v1.0 returns extensions only with $select"
    );
    let selected: Value = g
        .get(&format!("users/{id}?$select=id,{name}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(selected[&name], "CC-1");
    assert_eq!(
        g.patch(&format!("users/{id}"), json!({ &name: "CC-2" }))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    g.create_user("ext2").await;
    let filtered: Value = g
        .get(&format!("users?$filter={name} eq 'CC-2'&$select=id,{name}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["value"].as_array().unwrap().len(), 1);
    assert_eq!(filtered["value"][0]["id"], id.as_str());

    // Wrong type, and an unregistered name.
    let (code, _) = error_code(
        g.patch(&format!("users/{id}"), json!({ &name: 5 })).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "BadRequest");
    let (code, _) = error_code(
        g.get(&format!("users/{id}?$select=extension_00_unknown"))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "BadRequest");
    let (code, _) = error_code(
        g.post(
            &format!("applications/{app_object}/extensionProperties"),
            json!({"name": "costCenter", "dataType": "String", "targetObjects": ["User"]}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_BadRequest");
}

#[tokio::test]
async fn the_application_is_also_addressed_by_app_id() {
    let g = start().await;
    let app_id = g.emulator.info.client_id.clone();
    let app: Value = g
        .get(&format!("applications(appId='{app_id}')"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(app["appId"], app_id.as_str());
    let created = g
        .post(
            &format!("applications(appId='{app_id}')/extensionProperties"),
            json!({"name": "badge", "dataType": "String", "targetObjects": ["User"]}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let (code, _) = error_code(
        g.get("applications(appId='00000000-0000-0000-0000-000000000000')")
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(code, "Request_ResourceNotFound");
    // Other single segments are still unknown.
    let (code, body) = error_code(g.get("nonsense").await, StatusCode::BAD_REQUEST).await;
    assert_eq!(code, "BadRequest");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'nonsense'")
    );
}
