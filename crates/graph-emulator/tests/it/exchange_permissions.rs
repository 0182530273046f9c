//! FullAccess and SendAs entries name trustees by Windows SID, as Exchange shows them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::exchange::{exchange_token, invoke, license, ok};
use crate::support::{Graph, start};

fn is_domain_sid(sid: &str) -> bool {
    let parts: Vec<&str> = sid.split('-').collect();
    parts.len() == 8
        && sid.starts_with("S-1-5-21-")
        && parts[4..].iter().all(|p| p.parse::<u32>().is_ok())
}

async fn rows(g: &Graph, token: &str, cmdlet: &str, mailbox: &str) -> Vec<Value> {
    let body = ok(invoke(g, token, cmdlet, json!({"Identity": mailbox})).await).await;
    body["value"].as_array().unwrap().clone()
}

/// alice's mailbox, bob, and a mail-enabled security group "Helpdesk".
async fn tenant_with_trustees(g: &Graph, token: &str) -> (String, String) {
    let alice = g.create_user("alice").await;
    license(g, &alice).await;
    let bob = g.create_user("bob").await;
    ok(invoke(
        g,
        token,
        "New-DistributionGroup",
        json!({"Name": "Helpdesk", "Type": "Security"}),
    )
    .await)
    .await;
    (alice, bob)
}

#[tokio::test]
async fn mailbox_permissions_show_self_then_trustees_by_upn_name_and_sid() {
    let g = start().await;
    let token = exchange_token(&g).await;
    let (alice, bob) = tenant_with_trustees(&g, &token).await;
    for trustee in ["bob@contoso.onmicrosoft.com", "Helpdesk"] {
        ok(invoke(
            &g,
            &token,
            "Add-MailboxPermission",
            json!({"Identity": alice, "User": trustee, "AccessRights": ["FullAccess"], "InheritanceType": "All", "AutoMapping": false}),
        )
        .await)
        .await;
    }
    let rows = rows(&g, &token, "Get-MailboxPermission", &alice).await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(
        rows[0],
        json!({"Identity": alice, "User": "NT AUTHORITY\\SELF", "UserSid": "S-1-5-10",
               "AccessRights": ["FullAccess", "ReadPermission"], "IsInherited": false,
               "Deny": false, "InheritanceType": "All"})
    );
    let bob_row = rows
        .iter()
        .find(|r| r["User"] == "bob@contoso.onmicrosoft.com")
        .unwrap();
    let bob_sid = bob_row["UserSid"].as_str().unwrap();
    assert!(is_domain_sid(bob_sid), "{bob_sid}");
    assert_ne!(bob_sid, bob, "a SID, not the Entra id");
    assert_eq!(bob_row["AccessRights"], json!(["FullAccess"]));
    assert_eq!(bob_row["InheritanceType"], "All");
    let group_row = rows.iter().find(|r| r["User"] == "Helpdesk").unwrap();
    assert!(is_domain_sid(group_row["UserSid"].as_str().unwrap()));
    // One tenant, one domain part: only the RIDs differ.
    let domain = |sid: &str| sid.rsplit_once('-').unwrap().0.to_owned();
    assert_eq!(
        domain(bob_sid),
        domain(group_row["UserSid"].as_str().unwrap())
    );

    // The SID names the trustee like its UPN does.
    let only_bob = ok(invoke(
        &g,
        &token,
        "Get-MailboxPermission",
        json!({"Identity": alice, "User": bob_sid}),
    )
    .await)
    .await;
    assert_eq!(only_bob["value"].as_array().unwrap().len(), 1);
    let bob_recipient = invoke(&g, &token, "Get-Recipient", json!({"Identity": bob_sid})).await;
    assert_eq!(
        bob_recipient.status(),
        StatusCode::NOT_FOUND,
        "bob has no mailbox"
    );
    let mailbox = ok(invoke(&g, &token, "Get-Mailbox", json!({"Identity": alice})).await).await;
    let alice_sid = mailbox["value"][0]["Sid"].as_str().unwrap();
    assert!(is_domain_sid(alice_sid));
    let by_sid =
        ok(invoke(&g, &token, "Get-Recipient", json!({"Identity": alice_sid})).await).await;
    assert_eq!(
        by_sid["value"][0]["ExternalDirectoryObjectId"],
        alice.as_str()
    );
}

#[tokio::test]
async fn a_deleted_trustee_shows_its_orphaned_sid_and_can_be_removed_by_it() {
    let g = start().await;
    let token = exchange_token(&g).await;
    let (alice, bob) = tenant_with_trustees(&g, &token).await;
    ok(invoke(
        &g,
        &token,
        "Add-RecipientPermission",
        json!({"Identity": alice, "Trustee": bob, "AccessRights": "SendAs", "Confirm": false}),
    )
    .await)
    .await;
    let before = rows(&g, &token, "Get-RecipientPermission", &alice).await;
    assert_eq!(
        before[0],
        json!({"Identity": alice, "Trustee": "NT AUTHORITY\\SELF", "TrusteeSidString": "S-1-5-10",
               "AccessControlType": "Allow", "AccessRights": ["SendAs"], "IsInherited": false,
               "InheritanceType": "None"})
    );
    assert_eq!(before[1]["Trustee"], "bob@contoso.onmicrosoft.com");
    let sid = before[1]["TrusteeSidString"].as_str().unwrap().to_owned();
    assert!(is_domain_sid(&sid));

    assert_eq!(
        g.delete(&format!("users/{bob}")).await.status(),
        StatusCode::NO_CONTENT
    );
    let after = rows(&g, &token, "Get-RecipientPermission", &alice).await;
    assert_eq!(
        after[1]["Trustee"],
        sid.as_str(),
        "the bare SID of a deleted user"
    );
    assert_eq!(after[1]["TrusteeSidString"], sid.as_str());
    ok(invoke(
        &g,
        &token,
        "Remove-RecipientPermission",
        json!({"Identity": alice, "Trustee": sid, "AccessRights": "SendAs", "Confirm": false}),
    )
    .await)
    .await;
    assert_eq!(
        rows(&g, &token, "Get-RecipientPermission", &alice)
            .await
            .len(),
        1
    );
}

/// The SIDs derive from the tenant's domain and the object ids, so a restart from a saved
/// state (which keeps only the directory) shows the same ones.
#[tokio::test]
async fn sids_survive_a_state_save_and_load() {
    let g = start().await;
    let token = exchange_token(&g).await;
    let (alice, bob) = tenant_with_trustees(&g, &token).await;
    ok(invoke(
        &g,
        &token,
        "Add-MailboxPermission",
        json!({"Identity": alice, "User": bob, "AccessRights": ["FullAccess"]}),
    )
    .await)
    .await;
    let sid_before = rows(&g, &token, "Get-MailboxPermission", &alice).await[1]["UserSid"].clone();
    let state = g.emulator.state();
    let dump = state.directory().dump();
    state.exchange.reset();
    state.load_state(&dump).unwrap();
    ok(invoke(
        &g,
        &token,
        "Add-MailboxPermission",
        json!({"Identity": alice, "User": bob, "AccessRights": ["FullAccess"]}),
    )
    .await)
    .await;
    let sid_after = rows(&g, &token, "Get-MailboxPermission", &alice).await[1]["UserSid"].clone();
    assert_eq!(sid_before, sid_after);
}
