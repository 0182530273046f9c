//! Shared mailboxes made in Exchange, with their disabled directory users.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::exchange::{exchange_token, failure, invoke, ok};
use crate::support::start;

#[tokio::test]
async fn new_mailbox_shared_makes_a_disabled_user_and_a_shared_mailbox_at_once() {
    let g = start().await;
    let token = exchange_token(&g).await;
    let created = ok(invoke(
        &g,
        &token,
        "New-Mailbox",
        json!({"Shared": true, "Name": "Sales Team", "DisplayName": "Sales", "Alias": "sales", "PrimarySmtpAddress": "sales@contoso.onmicrosoft.com"}),
    )
    .await)
    .await;
    let mailbox = &created["value"][0];
    assert_eq!(mailbox["RecipientTypeDetails"], "SharedMailbox");
    assert_eq!(mailbox["Name"], "Sales Team");
    assert_eq!(mailbox["DisplayName"], "Sales");
    assert_eq!(
        mailbox["PrimarySmtpAddress"],
        "sales@contoso.onmicrosoft.com"
    );
    assert!(mailbox["Guid"].as_str().is_some_and(|g| g.len() == 36));
    let id = mailbox["ExternalDirectoryObjectId"]
        .as_str()
        .unwrap()
        .to_owned();
    let user: Value = g
        .get(&format!(
            "users/{id}?$select=accountEnabled,userPrincipalName"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(user["accountEnabled"], false);
    assert_eq!(user["userPrincipalName"], "sales@contoso.onmicrosoft.com");

    // No licence, yet it stays (a later cmdlet re-provisions) and its Name addresses it.
    let read = ok(invoke(&g, &token, "Get-Mailbox", json!({"Identity": "Sales Team"})).await).await;
    assert_eq!(read["value"][0]["ExternalDirectoryObjectId"], id.as_str());
    let clash = invoke(&g, &token, "New-Mailbox", json!({"Shared": true, "Name": "Sales 2", "Alias": "sales2", "PrimarySmtpAddress": "sales@contoso.onmicrosoft.com"})).await;
    let text = failure(clash, StatusCode::BAD_REQUEST).await;
    assert!(text.contains("is already being used"), "{text}");

    ok(invoke(
        &g,
        &token,
        "Remove-Mailbox",
        json!({"Identity": "sales@contoso.onmicrosoft.com", "Confirm": false}),
    )
    .await)
    .await;
    assert_eq!(
        g.get(&format!("users/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let gone = invoke(&g, &token, "Get-Mailbox", json!({"Identity": id})).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn new_mailbox_without_shared_needs_a_password() {
    let g = start().await;
    let token = exchange_token(&g).await;
    let refused = invoke(
        &g,
        &token,
        "New-Mailbox",
        json!({"Name": "Ann", "MicrosoftOnlineServicesID": "ann@contoso.onmicrosoft.com"}),
    )
    .await;
    let text = failure(refused, StatusCode::BAD_REQUEST).await;
    assert!(
        text.contains("missing mandatory parameters: Password"),
        "{text}"
    );
}
