//! Objects synchronized from on-premises AD are read-only to Exchange Online's cmdlets.

use reqwest::StatusCode;
use serde_json::json;

use crate::exchange::{exchange_token, failure, invoke, ok};
use crate::support::start;

fn synced_refusal(cmdlet: &str, parameter: &str, object: &str) -> String {
    format!(
        "The action '{cmdlet}', '{parameter}', can't be performed on the object '{object}' because the object is being synchronized from your on-premises organization. This action should be performed on the object in your on-premises organization."
    )
}

#[tokio::test]
async fn a_synced_mail_contact_refuses_set_and_remove() {
    let g = start().await;
    let token = exchange_token(&g).await;
    let guid = g
        .emulator
        .state()
        .seed_synced_mail_contact("Ann Vendor", "ann@vendor.example")
        .unwrap();
    let read = ok(invoke(&g, &token, "Get-MailContact", json!({"Identity": guid})).await).await;
    assert_eq!(read["value"][0]["IsDirSynced"], true);
    assert_eq!(
        read["value"][0]["ExternalEmailAddress"],
        "SMTP:ann@vendor.example"
    );

    let set = invoke(
        &g,
        &token,
        "Set-MailContact",
        json!({"Identity": "Ann Vendor", "HiddenFromAddressListsEnabled": true}),
    )
    .await;
    let text = failure(set, StatusCode::BAD_REQUEST).await;
    assert!(
        text.ends_with(&synced_refusal(
            "Set-MailContact",
            "HiddenFromAddressListsEnabled",
            "Ann Vendor"
        )),
        "{text}"
    );
    assert_eq!(text.split('|').count(), 3, "ExNNNN|Exception|text: {text}");
    let remove = invoke(
        &g,
        &token,
        "Remove-MailContact",
        json!({"Identity": guid, "Confirm": false}),
    )
    .await;
    let text = failure(remove, StatusCode::BAD_REQUEST).await;
    assert!(text.ends_with(&synced_refusal(
        "Remove-MailContact",
        "Identity",
        "Ann Vendor"
    )));

    // A contact made in the cloud stays writable.
    ok(invoke(
        &g,
        &token,
        "New-MailContact",
        json!({"Name": "Bo", "ExternalEmailAddress": "bo@vendor.example"}),
    )
    .await)
    .await;
    let bo = ok(invoke(&g, &token, "Get-MailContact", json!({"Identity": "Bo"})).await).await;
    assert_eq!(bo["value"][0]["IsDirSynced"], false);
    ok(invoke(
        &g,
        &token,
        "Set-MailContact",
        json!({"Identity": "Bo", "HiddenFromAddressListsEnabled": true}),
    )
    .await)
    .await;
}

#[tokio::test]
async fn a_group_marked_synced_refuses_changes_and_member_writes() {
    let g = start().await;
    let token = exchange_token(&g).await;
    ok(invoke(
        &g,
        &token,
        "New-DistributionGroup",
        json!({"Name": "Finance", "Type": "Security"}),
    )
    .await)
    .await;
    ok(invoke(
        &g,
        &token,
        "New-MailContact",
        json!({"Name": "Bo", "ExternalEmailAddress": "bo@vendor.example"}),
    )
    .await)
    .await;
    g.emulator
        .state()
        .mark_mail_group_synced("Finance")
        .unwrap();
    let read = ok(invoke(
        &g,
        &token,
        "Get-DistributionGroup",
        json!({"Identity": "Finance"}),
    )
    .await)
    .await;
    assert_eq!(read["value"][0]["IsDirSynced"], true);

    let cases = [
        (
            "Set-DistributionGroup",
            json!({"Identity": "Finance", "BypassSecurityGroupManagerCheck": true, "DisplayName": "Money"}),
            "DisplayName",
        ),
        (
            "Add-DistributionGroupMember",
            json!({"Identity": "Finance", "Member": "Bo"}),
            "Members",
        ),
        (
            "Remove-DistributionGroupMember",
            json!({"Identity": "Finance", "Member": "Bo", "Confirm": false}),
            "Members",
        ),
        (
            "Remove-DistributionGroup",
            json!({"Identity": "Finance", "Confirm": false}),
            "Identity",
        ),
    ];
    for (cmdlet, parameters, parameter) in cases {
        let text = failure(
            invoke(&g, &token, cmdlet, parameters).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(
            text.ends_with(&synced_refusal(cmdlet, parameter, "Finance")),
            "{cmdlet}: {text}"
        );
    }
}

/// A mail-enabled group seeded as directory synchronization brings it appears in Exchange
/// as a synced distribution group.
#[tokio::test]
async fn a_seeded_synced_mail_enabled_group_is_a_read_only_distribution_group() {
    let g = start().await;
    let token = exchange_token(&g).await;
    let state = g.emulator.state();
    let id = state.ids.guid();
    let body = json!({
        "displayName": "Sales EMEA",
        "mailEnabled": true,
        "securityEnabled": false,
        "mailNickname": "sales-emea",
        "mail": "sales-emea@contoso.onmicrosoft.com",
        "onPremisesSyncEnabled": true,
    });
    state
        .directory()
        .seed_group(
            body.as_object().cloned().unwrap(),
            id.clone(),
            "S-1-12-1-1".to_owned(),
            state.clock.now(),
        )
        .unwrap();
    let read = ok(invoke(
        &g,
        &token,
        "Get-DistributionGroup",
        json!({"Identity": "sales-emea@contoso.onmicrosoft.com"}),
    )
    .await)
    .await;
    let group = &read["value"][0];
    assert_eq!(group["ExternalDirectoryObjectId"], id.as_str());
    assert_eq!(
        group["RecipientTypeDetails"],
        "MailUniversalDistributionGroup"
    );
    assert_eq!(group["IsDirSynced"], true);
    let text = failure(
        invoke(
            &g,
            &token,
            "Set-DistributionGroup",
            json!({"Identity": id, "HiddenFromAddressListsEnabled": true}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        text.ends_with(&synced_refusal(
            "Set-DistributionGroup",
            "HiddenFromAddressListsEnabled",
            "Sales EMEA"
        )),
        "{text}"
    );
}
