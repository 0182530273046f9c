//! `New-Mailbox -Shared` and `Remove-Mailbox`. A shared mailbox made in Exchange comes
//! with a disabled directory user and needs no licence; any other new mailbox needs a
//! password, which the emulator's clients never send.

use serde_json::json;

use super::{
    Context, Outcome, Parameters, address_in_use, alias_of, directory_refused, mailbox_id,
    mandatory, name_in_use, nothing, output,
};
use crate::directory::Kind;
use crate::exchange::CmdletError;
use crate::exchange::recipients::MailboxSettings;

pub(super) fn new(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    if p.bool("Shared")? != Some(true) {
        mandatory(p, &["Name", "MicrosoftOnlineServicesID", "Password"])?;
        return Err(CmdletError::bad_request(
            "System.NotSupportedException",
            "The emulator's New-Mailbox makes shared mailboxes only (-Shared); create a user mailbox by licensing a Graph user.",
        )
        .into());
    }
    mandatory(p, &["Name"])?;
    let name = p.required("Name")?;
    let alias = p.str("Alias").unwrap_or_else(|| alias_of(&name));
    let upn = format!("{alias}@{}", cx.domain);
    let smtp = p.str("PrimarySmtpAddress").unwrap_or_else(|| upn.clone());
    if cx.recipients.in_use(cx.dir, &name) || cx.recipients.in_use(cx.dir, &alias) {
        return Err(name_in_use(&name).into());
    }
    for address in [&smtp, &upn] {
        if cx.recipients.in_use(cx.dir, address) {
            return Err(address_in_use(address).into());
        }
    }
    let user = json!({
        // Nobody signs in to a shared mailbox; its members open it with FullAccess.
        "accountEnabled": false,
        "displayName": p.str("DisplayName").unwrap_or_else(|| name.clone()),
        "mailNickname": alias,
        "userPrincipalName": upn,
        "mail": smtp,
    });
    let id = cx.ids.guid();
    cx.dir
        .seed_user(
            user.as_object().cloned().unwrap_or_default(),
            id.clone(),
            cx.now,
        )
        .map_err(directory_refused)?;
    cx.recipients.assign_sid(&id);
    cx.recipients.mailboxes.insert(
        id.clone(),
        MailboxSettings {
            exchange_guid: cx.ids.guid(),
            name: Some(name),
            shared: true,
            ..MailboxSettings::default()
        },
    );
    let user = cx
        .dir
        .get(Kind::User, &id)
        .map_err(|_| CmdletError::not_found(&id))?;
    output(cx.recipients.mailbox_object(user).into_iter().collect())
}

/// Removes a mailbox and its directory user with it.
pub(super) fn remove(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    let identity = p.required("Identity")?;
    let id = mailbox_id(cx, &identity)?;
    cx.recipients.mailboxes.remove(&id);
    cx.dir.delete_user(&id, cx.now).map_err(directory_refused)?;
    nothing()
}
