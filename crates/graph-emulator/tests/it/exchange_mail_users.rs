//! Mail users as Exchange Online makes them: invited guests, and `New-MailUser` with a
//! password, which creates the directory user too.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::exchange::{exchange_token, failure, invoke, ok};
use crate::support::{Graph, start};

async fn invite(g: &Graph, email: &str) -> String {
    let response = g
        .post(
            "invitations",
            json!({"invitedUserEmailAddress": email, "inviteRedirectUrl": "https://myapps.microsoft.com"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    body["invitedUser"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_invited_guest_becomes_a_guest_mail_user_after_the_provisioning_delay() {
    let clock = crate::support::frozen_clock();
    let g = crate::support::start_with(graph_emulator::EmulatorOptions {
        seed: Some(42),
        clock: clock.clone(),
        ..graph_emulator::EmulatorOptions::default()
    })
    .await;
    g.emulator
        .state()
        .exchange
        .set_mailbox_delay(std::time::Duration::from_secs(60));
    let token = exchange_token(&g).await;
    let guest = invite(&g, "jane@partner.example").await;
    let soon = ok(invoke(&g, &token, "Get-MailUser", json!({})).await).await;
    assert_eq!(soon["value"], json!([]), "not provisioned yet");
    clock.advance(jiff::SignedDuration::from_secs(61));

    let later = ok(invoke(&g, &token, "Get-MailUser", json!({"Identity": guest})).await).await;
    let user = &later["value"][0];
    assert_eq!(user["RecipientType"], "MailUser");
    assert_eq!(user["RecipientTypeDetails"], "GuestMailUser");
    assert_eq!(user["ExternalEmailAddress"], "SMTP:jane@partner.example");
    assert_eq!(user["ExternalDirectoryObjectId"], guest.as_str());
    assert_eq!(user["HiddenFromAddressListsEnabled"], true);
    assert_eq!(user["PrimarySmtpAddress"], "jane@partner.example");

    // Listed among recipients of its type, with $select and paging.
    let url = format!(
        "{}/adminapi/beta/{}/InvokeCommand?$select=Name,RecipientTypeDetails,ExternalDirectoryObjectId",
        g.emulator.login_url(),
        g.emulator.info.tenant_id
    );
    let body = json!({"CmdletInput": {"CmdletName": "Get-Recipient", "Parameters": {"RecipientTypeDetails": ["MailUser", "GuestMailUser"], "ResultSize": "Unlimited"}}});
    let page = ok(g
        .http
        .post(url)
        .bearer_auth(&token)
        .header("Prefer", "odata.maxpagesize=1")
        .json(&body)
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(page["value"].as_array().unwrap().len(), 1);
    assert_eq!(
        page["value"][0],
        json!({"Name": "jane_partner.example#EXT#", "RecipientTypeDetails": "GuestMailUser", "ExternalDirectoryObjectId": guest})
    );
}

#[tokio::test]
async fn new_mail_user_needs_a_password_and_creates_the_directory_user() {
    let g = start().await;
    let token = exchange_token(&g).await;
    let refused = invoke(
        &g,
        &token,
        "New-MailUser",
        json!({"Name": "Ed Meadows", "ExternalEmailAddress": "ed@tailspintoys.example", "MicrosoftOnlineServicesID": "ed@contoso.onmicrosoft.com"}),
    )
    .await;
    let text = failure(refused, StatusCode::BAD_REQUEST).await;
    assert!(
        text.contains("missing mandatory parameters: Password"),
        "{text}"
    );

    let created = ok(invoke(
        &g,
        &token,
        "New-MailUser",
        json!({"Name": "Ed Meadows", "ExternalEmailAddress": "ed@tailspintoys.example", "MicrosoftOnlineServicesID": "ed@contoso.onmicrosoft.com", "Password": "Pa55w.rd-Emulated"}),
    )
    .await)
    .await;
    let mail_user = &created["value"][0];
    assert_eq!(mail_user["RecipientTypeDetails"], "MailUser");
    assert_eq!(
        mail_user["ExternalEmailAddress"],
        "SMTP:ed@tailspintoys.example"
    );
    assert_eq!(mail_user["UserPrincipalName"], "ed@contoso.onmicrosoft.com");
    assert!(mail_user["Sid"].as_str().unwrap().starts_with("S-1-5-21-"));
    let id = mail_user["ExternalDirectoryObjectId"]
        .as_str()
        .unwrap()
        .to_owned();
    let graph: Value = g
        .get(&format!(
            "users/{id}?$select=accountEnabled,userPrincipalName"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(graph["accountEnabled"], true);
    assert_eq!(graph["userPrincipalName"], "ed@contoso.onmicrosoft.com");

    let filtered = ok(invoke(
        &g,
        &token,
        "Get-MailUser",
        json!({"Filter": format!("ExternalDirectoryObjectId -eq '{id}'")}),
    )
    .await)
    .await;
    assert_eq!(filtered["value"][0]["Name"], "Ed Meadows");
}

#[tokio::test]
async fn set_mail_user_changes_what_get_shows_and_remove_takes_the_directory_user() {
    let g = start().await;
    let token = exchange_token(&g).await;
    let created = ok(invoke(
        &g,
        &token,
        "New-MailUser",
        json!({"Name": "Ed Meadows", "ExternalEmailAddress": "ed@tailspintoys.example", "MicrosoftOnlineServicesID": "ed@contoso.onmicrosoft.com", "Password": "Pa55w.rd-Emulated"}),
    )
    .await)
    .await;
    let id = created["value"][0]["ExternalDirectoryObjectId"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(invoke(
        &g,
        &token,
        "Set-MailUser",
        json!({
            "Identity": "ed@contoso.onmicrosoft.com",
            "ExternalEmailAddress": "SMTP:edward@tailspintoys.example",
            "EmailAddresses": {"@odata.type": "#Exchange.GenericHashTable", "Add": ["smtp:ed.m@contoso.onmicrosoft.com"]},
            "HiddenFromAddressListsEnabled": true,
            "DisplayName": "Edward Meadows",
            "CustomAttribute7": "contractor",
        }),
    )
    .await)
    .await;
    let unchanged = ok(invoke(
        &g,
        &token,
        "Set-MailUser",
        json!({"Identity": id, "CustomAttribute7": "contractor"}),
    )
    .await)
    .await;
    assert_eq!(unchanged["@adminapi.warnings"].as_array().unwrap().len(), 1);
    let read = ok(invoke(
        &g,
        &token,
        "Get-MailUser",
        json!({"Identity": "Ed Meadows"}),
    )
    .await)
    .await;
    let user = &read["value"][0];
    assert_eq!(
        user["ExternalEmailAddress"],
        "SMTP:edward@tailspintoys.example"
    );
    assert_eq!(
        user["EmailAddresses"],
        json!([
            "SMTP:ed@contoso.onmicrosoft.com",
            "smtp:ed.m@contoso.onmicrosoft.com"
        ])
    );
    assert_eq!(user["HiddenFromAddressListsEnabled"], true);
    assert_eq!(user["DisplayName"], "Edward Meadows");
    assert_eq!(user["CustomAttribute7"], "contractor");
    assert_eq!(user["CustomAttribute1"], "");

    // A mail user may be a distribution group member.
    ok(invoke(
        &g,
        &token,
        "New-DistributionGroup",
        json!({"Name": "Vendors"}),
    )
    .await)
    .await;
    ok(invoke(
        &g,
        &token,
        "Add-DistributionGroupMember",
        json!({"Identity": "Vendors", "Member": "edward@tailspintoys.example"}),
    )
    .await)
    .await;
    let members = ok(invoke(
        &g,
        &token,
        "Get-DistributionGroupMember",
        json!({"Identity": "Vendors"}),
    )
    .await)
    .await;
    assert_eq!(members["value"][0]["RecipientTypeDetails"], "MailUser");

    ok(invoke(
        &g,
        &token,
        "Remove-MailUser",
        json!({"Identity": id, "Confirm": false}),
    )
    .await)
    .await;
    assert_eq!(
        g.get(&format!("users/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let gone = invoke(&g, &token, "Get-MailUser", json!({"Identity": id})).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}
