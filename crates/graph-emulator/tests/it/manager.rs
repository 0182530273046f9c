use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{error_code, start};

#[tokio::test]
async fn manager_is_set_read_and_removed_by_reference() {
    let g = start().await;
    let boss = g.create_user("boss").await;
    let report = g.create_user("report").await;
    let (code, _) = error_code(
        g.get(&format!("users/{report}/manager")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(code, "Request_ResourceNotFound");

    let reference = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{boss}")});
    let response = g
        .send(
            reqwest::Method::PUT,
            &format!("users/{report}/manager/$ref"),
            Some(reference),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let manager: Value = g
        .get(&format!("users/{report}/manager"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(manager["id"], boss.as_str());
    assert_eq!(manager["@odata.type"], "#microsoft.graph.user");
    let reports: Value = g
        .get(&format!("users/{boss}/directReports"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(reports["value"][0]["id"], report.as_str());

    assert_eq!(
        g.delete(&format!("users/{report}/manager/$ref"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        g.get(&format!("users/{report}/manager")).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn deleting_a_manager_clears_it_on_the_reports() {
    let g = start().await;
    let boss = g.create_user("boss").await;
    let report = g.create_user("report").await;
    let reference =
        json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{boss}")});
    g.send(
        reqwest::Method::PUT,
        &format!("users/{report}/manager/$ref"),
        Some(reference),
    )
    .await;
    g.delete(&format!("users/{boss}")).await;
    assert_eq!(
        g.get(&format!("users/{report}/manager")).await.status(),
        StatusCode::NOT_FOUND
    );
}
