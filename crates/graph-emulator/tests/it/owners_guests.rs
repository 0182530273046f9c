//! Group owners and guest invitations.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{error_code, start};

#[tokio::test]
async fn owners_by_reference_and_by_bind() {
    let g = start().await;
    let alice = g.create_user("alice").await;
    let bob = g.create_user("bob").await;
    let response = g
        .post(
            "groups",
            json!({"displayName": "Team", "mailEnabled": true, "mailNickname": "team",
                   "securityEnabled": false, "groupTypes": ["Unified"],
                   "owners@odata.bind": [format!("https://graph.microsoft.com/v1.0/users/{alice}")]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let group = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reference = |id: &str| json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")});
    assert_eq!(
        g.post(&format!("groups/{group}/owners/$ref"), reference(&bob))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let (code, body) = error_code(
        g.post(&format!("groups/{group}/owners/$ref"), reference(&bob))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_BadRequest");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'owners'")
    );

    let owners: Value = g
        .get(&format!("groups/{group}/owners"))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = owners["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [alice.as_str(), bob.as_str()]);
    assert_eq!(owners["value"][0]["@odata.type"], "#microsoft.graph.user");
    // Owners are not members.
    let members: Value = g
        .get(&format!("groups/{group}/members"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members["value"], json!([]));

    assert_eq!(
        g.delete(&format!("groups/{group}/owners/{alice}/$ref"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    // The last owner of a Microsoft 365 group stays.
    let (code, _) = error_code(
        g.delete(&format!("groups/{group}/owners/{bob}/$ref")).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_BadRequest");
    assert_eq!(
        g.patch(
            &format!("groups/{group}"),
            json!({"owners@odata.bind": [format!("https://graph.microsoft.com/v1.0/directoryObjects/{alice}")]})
        )
        .await
        .status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn an_invitation_creates_a_pending_guest() {
    let g = start().await;
    let response = g
        .post(
            "invitations",
            json!({"invitedUserEmailAddress": "Admin@Fabrikam.com",
                   "inviteRedirectUrl": "https://myapp.contoso.com",
                   "invitedUserDisplayName": "Fabrikam Admin"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let invitation: Value = response.json().await.unwrap();
    assert_eq!(invitation["status"], "PendingAcceptance");
    assert_eq!(invitation["invitedUserType"], "Guest");
    assert_eq!(invitation["sendInvitationMessage"], false);
    assert!(
        invitation["inviteRedeemUrl"]
            .as_str()
            .unwrap()
            .starts_with("https://login.microsoftonline.com/redeem?rd=")
    );
    let guest = invitation["invitedUser"]["id"].as_str().unwrap();
    let user: Value = g
        .get(&format!(
            "users/{guest}?$select=userPrincipalName,userType,externalUserState,creationType,mail"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        user["userPrincipalName"],
        "admin_fabrikam.com#EXT#@contoso.onmicrosoft.com"
    );
    assert_eq!(user["userType"], "Guest");
    assert_eq!(user["externalUserState"], "PendingAcceptance");
    assert_eq!(user["creationType"], "Invitation");
    assert_eq!(user["mail"], "Admin@Fabrikam.com");

    // Guests are found by the documented advanced filter on #EXT#.
    let found: Value = g
        .http
        .get(g.url("users?$filter=endsWith(userPrincipalName,'%23EXT%23@contoso.onmicrosoft.com')&$count=true"))
        .bearer_auth(&g.token)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["@odata.count"], 1);

    // Inviting the address again finds the same guest.
    let again: Value = g
        .post(
            "invitations",
            json!({"invitedUserEmailAddress": "admin@fabrikam.com",
                   "inviteRedirectUrl": "https://myapp.contoso.com", "sendInvitationMessage": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["invitedUser"]["id"], guest);
    assert_eq!(again["sendInvitationMessage"], true);

    let (code, _) = error_code(
        g.post(
            "invitations",
            json!({"invitedUserEmailAddress": "x@fabrikam.com"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_BadRequest");
}

#[tokio::test]
async fn a_redeemed_invitation_is_accepted() {
    let g = start().await;
    let invitation: Value = g
        .post(
            "invitations",
            json!({"invitedUserEmailAddress": "eve@fabrikam.com",
                   "inviteRedirectUrl": "https://myapp.contoso.com"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let guest = invitation["invitedUser"]["id"].as_str().unwrap();
    let url = format!(
        "{}/_emulator/invitations/{guest}/redeem",
        g.emulator.login_url()
    );
    assert_eq!(
        g.http.post(&url).send().await.unwrap().status(),
        StatusCode::OK
    );
    let user: Value = g
        .get(&format!("users/{guest}?$select=externalUserState"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(user["externalUserState"], "Accepted");
    let again = g.http.post(&url).send().await.unwrap();
    let (code, _) = error_code(again, StatusCode::BAD_REQUEST).await;
    assert_eq!(code, "Request_BadRequest");
}
