//! `Get-User`: every directory user, mail-enabled or not. It is how a client turns the SID
//! of a permission entry back into an Entra id when the trustee has no mailbox.

use super::{Context, Outcome, Parameters, narrow, output, resolve};
use crate::directory::{Kind, Selection};
use crate::exchange::CmdletError;
use crate::exchange::recipients::RecipientRef;

pub(super) fn get(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    if let Some(identity) = p.str("Identity") {
        let id = match resolve(cx, &identity)? {
            RecipientRef::Mailbox(id)
            | RecipientRef::UserWithoutMailbox(id)
            | RecipientRef::MailUser(id) => id,
            RecipientRef::Contact(_) | RecipientRef::Group(_) => {
                return Err(CmdletError::not_found(&identity).into());
            }
        };
        let user = cx
            .dir
            .get(Kind::User, &id)
            .map_err(|_| CmdletError::not_found(&identity))?;
        return output(vec![cx.recipients.user_object(user)]);
    }
    let (users, _) = cx.dir.list(Kind::User, Selection::default(), 0, usize::MAX);
    let all = users.iter().map(|u| cx.recipients.user_object(u)).collect();
    output(narrow(all, p)?)
}
