//! FullAccess (`*-MailboxPermission`) and SendAs (`*-RecipientPermission`): entries on a
//! mailbox naming a trustee by its Windows SID, as Exchange keeps them.

use serde_json::{Map, Value, json};

use super::{Context, Outcome, Parameters, mailbox_id, nothing, output, warning};
use crate::directory::Kind;
use crate::exchange::CmdletError;
use crate::exchange::recipients::RecipientRef;

/// The account every mailbox grants itself, listed first by both Get-*Permission cmdlets.
const SELF_NAME: &str = "NT AUTHORITY\\SELF";
const SELF_SID: &str = "S-1-5-10";

#[derive(Clone, Copy)]
pub(super) enum Right {
    FullAccess,
    SendAs,
}

impl Right {
    fn trustee_parameter(self) -> &'static str {
        match self {
            Right::FullAccess => "User",
            Right::SendAs => "Trustee",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Right::FullAccess => "FullAccess",
            Right::SendAs => "SendAs",
        }
    }
}

/// The directory id a `-User`/`-Trustee` names. A deleted trustee is still named by its
/// SID, so an orphaned entry can be removed.
fn trustee_id(cx: &Context<'_>, name: &str) -> Result<String, CmdletError> {
    match cx.recipients.resolve(cx.dir, name) {
        Some(
            RecipientRef::Mailbox(t)
            | RecipientRef::UserWithoutMailbox(t)
            | RecipientRef::MailUser(t)
            | RecipientRef::Group(t),
        ) => Ok(t),
        Some(RecipientRef::Contact(_)) => Err(CmdletError::bad_request(
            "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
            format!("The user \"{name}\" isn't a security principal."),
        )),
        None => cx
            .recipients
            .sid_owner(&name.trim().to_uppercase())
            .map(str::to_owned)
            .ok_or_else(|| CmdletError::not_found(name)),
    }
}

pub(super) fn change_permission(
    cx: &mut Context<'_>,
    p: &Parameters<'_>,
    right: Right,
    add: bool,
) -> Outcome {
    let identity = p.required("Identity")?;
    let expected = right.name();
    let rights = p.list("AccessRights");
    if !rights.iter().any(|r| r.eq_ignore_ascii_case(expected)) {
        return Err(CmdletError::bad_request(
            "System.ArgumentException",
            format!("The emulator supports only AccessRights {expected} here; got {rights:?}."),
        )
        .into());
    }
    let id = mailbox_id(cx, &identity)?;
    let trustee_name = p.required(right.trustee_parameter())?;
    let trustee = trustee_id(cx, &trustee_name)?;
    let settings = cx
        .recipients
        .mailboxes
        .get_mut(&id)
        .ok_or_else(|| CmdletError::not_found(&identity))?;
    let set = match right {
        Right::FullAccess => &mut settings.full_access,
        Right::SendAs => &mut settings.send_as,
    };
    let changed = if add {
        set.insert(trustee)
    } else {
        set.remove(&trustee)
    };
    if !changed {
        return warning(format!(
            "The {expected} permission of '{trustee_name}' on '{identity}' was already {}.",
            if add { "granted" } else { "absent" }
        ));
    }
    nothing()
}

/// How a trustee is shown: a user by its UPN, a group by its Name, and one whose directory
/// object is gone by its bare SID, as Exchange shows an orphaned entry.
fn trustee_display(cx: &Context<'_>, id: &str, sid: &str) -> String {
    if let Ok(user) = cx.dir.get(Kind::User, id) {
        return user
            .props
            .get("userPrincipalName")
            .and_then(Value::as_str)
            .unwrap_or(sid)
            .to_owned();
    }
    if let Some(group) = cx.recipients.groups.get(id) {
        return group.name.clone();
    }
    if let Ok(group) = cx.dir.get(Kind::Group, id) {
        return group
            .props
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or(sid)
            .to_owned();
    }
    sid.to_owned()
}

fn row(
    right: Right,
    mailbox: &str,
    trustee: &str,
    sid: &str,
    rights: &[&str],
) -> Map<String, Value> {
    let value = match right {
        Right::FullAccess => json!({
            "Identity": mailbox, "User": trustee, "UserSid": sid,
            "AccessRights": rights, "IsInherited": false, "Deny": false,
            "InheritanceType": "All",
        }),
        Right::SendAs => json!({
            "Identity": mailbox, "Trustee": trustee, "TrusteeSidString": sid,
            "AccessControlType": "Allow", "AccessRights": rights, "IsInherited": false,
            "InheritanceType": "None",
        }),
    };
    value.as_object().cloned().unwrap_or_default()
}

/// A mailbox's entries for one right: the default `NT AUTHORITY\SELF` entry, then one per
/// trustee.
fn permission_rows(cx: &Context<'_>, id: &str, right: Right) -> Vec<Map<String, Value>> {
    let Some(settings) = cx.recipients.mailboxes.get(id) else {
        return Vec::new();
    };
    let (set, self_rights): (_, &[&str]) = match right {
        Right::FullAccess => (&settings.full_access, &["FullAccess", "ReadPermission"]),
        Right::SendAs => (&settings.send_as, &["SendAs"]),
    };
    let mut rows = vec![row(right, id, SELF_NAME, SELF_SID, self_rights)];
    rows.extend(set.iter().map(|t| {
        let sid = cx.recipients.sid(t).unwrap_or_else(|| t.clone());
        let shown = trustee_display(cx, t, &sid);
        row(right, id, &shown, &sid, &[right.name()])
    }));
    rows
}

/// Keeps the rows of the trustee `-User`/`-Trustee` names, if given.
fn only_trustee(
    cx: &Context<'_>,
    p: &Parameters<'_>,
    right: Right,
    rows: Vec<Map<String, Value>>,
) -> Result<Vec<Map<String, Value>>, CmdletError> {
    let Some(name) = p.str(right.trustee_parameter()) else {
        return Ok(rows);
    };
    let sid_key = match right {
        Right::FullAccess => "UserSid",
        Right::SendAs => "TrusteeSidString",
    };
    let sid = if name.eq_ignore_ascii_case(SELF_NAME) {
        SELF_SID.to_owned()
    } else {
        let id = trustee_id(cx, &name)?;
        cx.recipients.sid(&id).unwrap_or(id)
    };
    Ok(rows
        .into_iter()
        .filter(|r| r.get(sid_key).and_then(Value::as_str) == Some(sid.as_str()))
        .collect())
}

pub(super) fn get_mailbox_permission(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    let identity = p.required("Identity")?;
    let id = mailbox_id(cx, &identity)?;
    let rows = permission_rows(cx, &id, Right::FullAccess);
    output(only_trustee(cx, p, Right::FullAccess, rows)?)
}

pub(super) fn get_recipient_permission(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    let rows = if let Some(identity) = p.str("Identity") {
        let id = mailbox_id(cx, &identity)?;
        permission_rows(cx, &id, Right::SendAs)
    } else {
        let mut ids: Vec<String> = cx.recipients.mailboxes.keys().cloned().collect();
        ids.sort();
        ids.iter()
            .flat_map(|id| permission_rows(cx, id, Right::SendAs))
            .collect()
    };
    output(only_trustee(cx, p, Right::SendAs, rows)?)
}
