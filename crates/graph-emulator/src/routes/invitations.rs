//! Guest invitations.

use super::*;

/// `POST /invitations`: creates (or finds) the guest user and answers with the
/// invitation, as the documented example shows it.
pub(super) async fn invite(State(state): Shared, base: Base, body: Bytes) -> AppResult {
    let body = parse_object(&body)?;
    let text = |name: &str| body.get(name).and_then(Value::as_str);
    for required in ["invitedUserEmailAddress", "inviteRedirectUrl"] {
        if text(required).is_none_or(str::is_empty) {
            return Err(GraphError::invalid_property_value(required, "Invitation"));
        }
    }
    let email = text("invitedUserEmailAddress").unwrap_or_default();
    let user_type = match text("invitedUserType") {
        None => "Guest",
        Some(t) if t.eq_ignore_ascii_case("guest") => "Guest",
        Some(t) if t.eq_ignore_ascii_case("member") => "Member",
        Some(_) => {
            return Err(GraphError::invalid_property_value(
                "invitedUserType",
                "Invitation",
            ));
        }
    };
    let send_message = match body.get("sendInvitationMessage") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(GraphError::odata_bad_request(format!(
                "Cannot convert the literal '{other}' to the expected type 'Edm.Boolean'."
            )));
        }
    };
    let id = state.ids.guid();
    let invitation_id = state.ids.guid();
    let ticket = state.ids.guid().replace('-', "");
    let now = state.clock.now();
    let mut dir = state.directory();
    let guest = dir.invite_guest(email, text("invitedUserDisplayName"), user_type, id, now)?;
    let tenant = &state.identity.tenant_id;
    let redeem = format!(
        "https://login.microsoftonline.com/redeem?rd=https%3a%2f%2finvitations.microsoft.com%2fredeem%2f%3ftenant%3d{tenant}%26user%3d{invitation_id}%26ticket%3d{ticket}%26ver%3d2.0"
    );
    let message_info = body
        .get("invitedUserMessageInfo")
        .cloned()
        .unwrap_or_else(|| {
            json!({"messageLanguage": null, "customizedMessageBody": null,
               "ccRecipients": [{"emailAddress": {"name": null, "address": null}}]})
        });
    let status = guest
        .props
        .get("externalUserState")
        .and_then(Value::as_str)
        .unwrap_or("PendingAcceptance")
        .to_owned();
    let response = json!({
        "@odata.context": base.context("invitations/$entity"),
        "id": invitation_id,
        "inviteRedeemUrl": redeem,
        "invitedUserDisplayName": body.get("invitedUserDisplayName").cloned().unwrap_or(Value::Null),
        "invitedUserType": user_type,
        "invitedUserEmailAddress": email,
        "sendInvitationMessage": send_message,
        "resetRedemption": body.get("resetRedemption").cloned().unwrap_or(json!(false)),
        "inviteRedirectUrl": text("inviteRedirectUrl"),
        "status": status,
        "invitedUserMessageInfo": message_info,
        "invitedUser": {"id": guest.id},
    });
    Ok(odata_json(StatusCode::CREATED, &response))
}
