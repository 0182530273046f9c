//! `Get-/New-/Set-/Remove-MailUser`. Exchange Online has no `Enable-MailUser`: a mail
//! user is an invited guest (made by provisioning) or one `New-MailUser` creates together
//! with its directory user, which needs a password.

use serde_json::{Map, Value, json};

use super::{
    Context, Outcome, Parameters, address_in_use, apply_addresses, directory_refused, mandatory,
    name_in_use, narrow, nothing, output, resolve, warning,
};
use crate::exchange::CmdletError;
use crate::exchange::recipients::{MailUser, RecipientRef, strip_smtp};

fn mail_user_id(cx: &Context<'_>, identity: &str) -> Result<String, CmdletError> {
    match resolve(cx, identity)? {
        RecipientRef::MailUser(id) => Ok(id),
        _ => Err(CmdletError::not_found(identity)),
    }
}

fn object(cx: &Context<'_>, id: &str, identity: &str) -> Result<Map<String, Value>, CmdletError> {
    cx.recipients
        .recipient_object(cx.dir, &RecipientRef::MailUser(id.to_owned()))
        .ok_or_else(|| CmdletError::not_found(identity))
}

pub(super) fn get(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    if let Some(identity) = p.str("Identity") {
        let id = mail_user_id(cx, &identity)?;
        return output(vec![object(cx, &id, &identity)?]);
    }
    output(narrow(cx.recipients.all_mail_users(cx.dir), p)?)
}

/// The cloud parameter set: `-Name -ExternalEmailAddress -MicrosoftOnlineServicesID
/// -Password` makes a directory user (UPN = MicrosoftOnlineServicesID) and its mail user.
pub(super) fn new(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    mandatory(
        p,
        &[
            "Name",
            "ExternalEmailAddress",
            "MicrosoftOnlineServicesID",
            "Password",
        ],
    )?;
    let name = p.required("Name")?;
    let external = strip_smtp(&p.required("ExternalEmailAddress")?).to_owned();
    let upn = p.required("MicrosoftOnlineServicesID")?;
    if cx.recipients.in_use(cx.dir, &name) {
        return Err(name_in_use(&name).into());
    }
    for address in [&upn, &external] {
        if cx.recipients.in_use(cx.dir, address) {
            return Err(address_in_use(address).into());
        }
    }
    let alias = p
        .str("Alias")
        .unwrap_or_else(|| upn.split('@').next().unwrap_or_default().to_owned());
    let mut user = json!({
        "accountEnabled": true,
        "displayName": p.str("DisplayName").unwrap_or_else(|| name.clone()),
        "mailNickname": alias,
        "userPrincipalName": upn,
        "mail": upn,
        "passwordProfile": {"password": p.required("Password")?},
    });
    if let Some(first) = p.str("FirstName") {
        user["givenName"] = json!(first);
    }
    if let Some(last) = p.str("LastName") {
        user["surname"] = json!(last);
    }
    let id = cx.ids.guid();
    // `seed_user`, not `create_user`: `mail` is read-only through Graph, but Exchange sets it.
    cx.dir
        .seed_user(
            user.as_object().cloned().unwrap_or_default(),
            id.clone(),
            cx.now,
        )
        .map_err(directory_refused)?;
    cx.recipients.assign_sid(&id);
    cx.recipients.mail_users.insert(
        id.clone(),
        MailUser {
            guid: cx.ids.guid(),
            name,
            external_email: external,
            ..MailUser::default()
        },
    );
    output(vec![object(cx, &id, &upn)?])
}

/// `CustomAttribute1`..`15` given, by number.
fn custom_attributes(p: &Parameters<'_>) -> Vec<(u8, String)> {
    (1..=15u8)
        .filter_map(|n| p.str(&format!("CustomAttribute{n}")).map(|v| (n, v)))
        .collect()
}

pub(super) fn set(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    let identity = p.required("Identity")?;
    let id = mail_user_id(cx, &identity)?;
    let external = p
        .str("ExternalEmailAddress")
        .map(|e| strip_smtp(&e).to_owned());
    if let Some(email) = &external
        && cx
            .recipients
            .resolve(cx.dir, email)
            .is_some_and(|r| r != RecipientRef::MailUser(id.clone()))
    {
        return Err(address_in_use(email).into());
    }
    let hidden = p.bool("HiddenFromAddressListsEnabled")?;
    let before = format!("{:?}", object(cx, &id, &identity)?);
    if let Some(display) = p.str("DisplayName") {
        let patch = json!({"displayName": display});
        cx.dir
            .update_user(&id, patch.as_object().cloned().unwrap_or_default())
            .map_err(directory_refused)?;
    }
    let mail_user = cx
        .recipients
        .mail_users
        .get_mut(&id)
        .ok_or_else(|| CmdletError::not_found(&identity))?;
    if let Some(email) = external {
        mail_user.external_email = email;
    }
    if let Some(addresses) = p.get("EmailAddresses") {
        apply_addresses(&mut mail_user.extra_addresses, addresses);
    }
    if let Some(h) = hidden {
        mail_user.hidden = h;
    }
    for (n, value) in custom_attributes(p) {
        mail_user.custom_attributes.insert(n, value);
    }
    if before == format!("{:?}", object(cx, &id, &identity)?) {
        return warning(format!(
            "The command completed successfully but no settings of '{identity}' have been modified."
        ));
    }
    nothing()
}

/// Removes the mail user and its directory user with it.
pub(super) fn remove(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    let identity = p.required("Identity")?;
    let id = mail_user_id(cx, &identity)?;
    cx.recipients.mail_users.remove(&id);
    cx.dir.delete_user(&id, cx.now).map_err(directory_refused)?;
    nothing()
}
