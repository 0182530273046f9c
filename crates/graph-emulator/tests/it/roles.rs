//! Role definitions, unified role assignments and the legacy directoryRoles view.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{error_code, start};

const USER_ADMINISTRATOR: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";

#[tokio::test]
async fn role_assignments_are_created_listed_filtered_and_deleted() {
    let g = start().await;
    let alice = g.create_user("alice").await;
    let bob = g.create_user("bob").await;
    let definitions: Value = g
        .get("roleManagement/directory/roleDefinitions")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        definitions["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["displayName"] == "User Administrator" && d["id"] == USER_ADMINISTRATOR)
    );

    let assign = |principal: &str| {
        json!({"@odata.type": "#microsoft.graph.unifiedRoleAssignment",
               "roleDefinitionId": USER_ADMINISTRATOR, "principalId": principal, "directoryScopeId": "/"})
    };
    let response = g
        .post("roleManagement/directory/roleAssignments", assign(&alice))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["principalId"], alice.as_str());
    assert_eq!(created["directoryScopeId"], "/");
    let assignment = created["id"].as_str().unwrap().to_owned();
    let (code, _) = error_code(
        g.post("roleManagement/directory/roleAssignments", assign(&alice))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_BadRequest");
    g.post("roleManagement/directory/roleAssignments", assign(&bob))
        .await;

    let filtered: Value = g
        .get(&format!(
            "roleManagement/directory/roleAssignments?$filter=principalId eq '{alice}'"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["value"].as_array().unwrap().len(), 1);
    assert_eq!(filtered["value"][0]["id"], assignment.as_str());

    // The legacy view shows the activated role with both holders.
    let roles: Value = g.get("directoryRoles").await.json().await.unwrap();
    let role = roles["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["roleTemplateId"] == USER_ADMINISTRATOR)
        .expect("User Administrator is activated")
        .clone();
    let members: Value = g
        .get(&format!(
            "directoryRoles/roleTemplateId={USER_ADMINISTRATOR}/members"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members["value"].as_array().unwrap().len(), 2);
    let role_id = role["id"].as_str().unwrap();
    assert_eq!(
        g.delete(&format!("directoryRoles/{role_id}/members/{bob}/$ref"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );

    assert_eq!(
        g.delete(&format!(
            "roleManagement/directory/roleAssignments/{assignment}"
        ))
        .await
        .status(),
        StatusCode::NO_CONTENT
    );
    let all: Value = g
        .get("roleManagement/directory/roleAssignments")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["value"], json!([]));
    let (code, _) = error_code(
        g.get(&format!(
            "roleManagement/directory/roleAssignments/{assignment}"
        ))
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(code, "Request_ResourceNotFound");
}
