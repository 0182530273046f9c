//! Objects synchronized from on-premises AD are mastered there: Exchange Online refuses to
//! change or remove them, naming the cmdlet, the parameter and the object.

use super::{Context, Parameters};
use crate::exchange::CmdletError;

/// The cmdlets that write to an existing recipient, and the parameter the refusal names
/// when it is not a changed property (`None`: the first property given).
const GUARDED: &[(&str, Option<&str>)] = &[
    ("Set-MailContact", None),
    ("Remove-MailContact", Some("Identity")),
    ("Set-MailUser", None),
    ("Remove-MailUser", Some("Identity")),
    ("Set-DistributionGroup", None),
    ("Remove-DistributionGroup", Some("Identity")),
    ("Add-DistributionGroupMember", Some("Members")),
    ("Remove-DistributionGroupMember", Some("Members")),
    ("Remove-Mailbox", Some("Identity")),
];

/// Parameters that say how to run a cmdlet rather than what to change.
const NOT_PROPERTIES: &[&str] = &["Identity", "BypassSecurityGroupManagerCheck"];

/// Refuses a write to a synchronized recipient. An identity that names nothing passes, so
/// the cmdlet itself answers 404.
pub(super) fn refuse_synchronized(
    cx: &Context<'_>,
    cmdlet: &str,
    allowed: &[&str],
    p: &Parameters<'_>,
) -> Result<(), CmdletError> {
    let Some((_, fixed)) = GUARDED.iter().find(|(c, _)| *c == cmdlet) else {
        return Ok(());
    };
    let Some(identity) = p.str("Identity") else {
        return Ok(());
    };
    let Some(name) = cx
        .recipients
        .resolve(cx.dir, &identity)
        .and_then(|r| cx.recipients.synced_name(cx.dir, &r))
    else {
        return Ok(());
    };
    let parameter = fixed
        .or_else(|| {
            allowed
                .iter()
                .copied()
                .filter(|a| !NOT_PROPERTIES.contains(a))
                .find(|a| p.get(a).is_some())
        })
        .unwrap_or("Identity");
    Err(CmdletError::synchronized(cmdlet, parameter, &name))
}
