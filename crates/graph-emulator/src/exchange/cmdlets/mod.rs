//! The cmdlets: each checks its parameters the way the real one does (an unknown parameter
//! is an error, not ignored) and changes the shared tenant.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

mod filter;
mod mail_users;
mod permissions;
mod shared_mailboxes;
mod synced;
mod users;

use permissions::{Right, change_permission, get_mailbox_permission, get_recipient_permission};

use super::recipients::{DistributionGroup, MailContact, RecipientRef, Recipients, strip_smtp};
use super::{CmdletError, CmdletOutput, Refusal};
use crate::clock::IdGenerator;
use crate::directory::{Directory, Kind};

#[derive(Debug)]
pub struct Context<'a> {
    pub dir: &'a mut Directory,
    pub recipients: &'a mut Recipients,
    pub ids: &'a IdGenerator,
    pub now: Timestamp,
    /// The tenant's initial domain, for addresses Exchange makes up.
    pub domain: &'a str,
}

type Params = Map<String, Value>;
type Outcome = Result<CmdletOutput, Refusal>;

/// Parameters every cmdlet accepts.
const COMMON: &[&str] = &["Confirm", "ErrorAction", "WarningAction", "Verbose"];

/// The cmdlets this emulator knows, with the parameters each takes.
const CMDLETS: &[(&str, &[&str])] = &[
    (
        "Get-Recipient",
        &[
            "Identity",
            "RecipientTypeDetails",
            "ResultSize",
            "Properties",
            "Filter",
        ],
    ),
    (
        "Get-Mailbox",
        &["Identity", "RecipientTypeDetails", "ResultSize", "Filter"],
    ),
    (
        "Set-Mailbox",
        &[
            "Identity",
            "HiddenFromAddressListsEnabled",
            "LitigationHoldEnabled",
            "Type",
            "EmailAddresses",
        ],
    ),
    (
        "New-Mailbox",
        &[
            "Shared",
            "Name",
            "DisplayName",
            "Alias",
            "PrimarySmtpAddress",
            "Password",
            "MicrosoftOnlineServicesID",
            "FirstName",
            "LastName",
        ],
    ),
    ("Remove-Mailbox", &["Identity", "Permanent"]),
    ("Enable-Mailbox", &["Identity", "Archive"]),
    ("Disable-Mailbox", &["Identity", "Archive"]),
    ("Get-MailContact", &["Identity", "ResultSize", "Filter"]),
    (
        "New-MailContact",
        &[
            "Name",
            "ExternalEmailAddress",
            "DisplayName",
            "Alias",
            "FirstName",
            "LastName",
        ],
    ),
    (
        "Set-MailContact",
        &[
            "Identity",
            "Name",
            "DisplayName",
            "Alias",
            "ExternalEmailAddress",
            "HiddenFromAddressListsEnabled",
        ],
    ),
    ("Remove-MailContact", &["Identity"]),
    (
        "Get-DistributionGroup",
        &["Identity", "ResultSize", "RecipientTypeDetails", "Filter"],
    ),
    ("Get-MailUser", &["Identity", "ResultSize", "Filter"]),
    (
        "Get-User",
        &["Identity", "ResultSize", "Filter", "RecipientTypeDetails"],
    ),
    (
        "New-MailUser",
        &[
            "Name",
            "ExternalEmailAddress",
            "MicrosoftOnlineServicesID",
            "Password",
            "DisplayName",
            "Alias",
            "FirstName",
            "LastName",
        ],
    ),
    (
        "Set-MailUser",
        &[
            "Identity",
            "ExternalEmailAddress",
            "EmailAddresses",
            "HiddenFromAddressListsEnabled",
            "DisplayName",
            "CustomAttribute1",
            "CustomAttribute2",
            "CustomAttribute3",
            "CustomAttribute4",
            "CustomAttribute5",
            "CustomAttribute6",
            "CustomAttribute7",
            "CustomAttribute8",
            "CustomAttribute9",
            "CustomAttribute10",
            "CustomAttribute11",
            "CustomAttribute12",
            "CustomAttribute13",
            "CustomAttribute14",
            "CustomAttribute15",
        ],
    ),
    ("Remove-MailUser", &["Identity"]),
    (
        "New-DistributionGroup",
        &[
            "Name",
            "DisplayName",
            "Alias",
            "PrimarySmtpAddress",
            "Type",
            "Members",
        ],
    ),
    (
        "Set-DistributionGroup",
        &[
            "Identity",
            "DisplayName",
            "HiddenFromAddressListsEnabled",
            "BypassSecurityGroupManagerCheck",
        ],
    ),
    (
        "Remove-DistributionGroup",
        &["Identity", "BypassSecurityGroupManagerCheck"],
    ),
    ("Get-DistributionGroupMember", &["Identity", "ResultSize"]),
    (
        "Add-DistributionGroupMember",
        &["Identity", "Member", "BypassSecurityGroupManagerCheck"],
    ),
    (
        "Remove-DistributionGroupMember",
        &["Identity", "Member", "BypassSecurityGroupManagerCheck"],
    ),
    ("Get-MailboxPermission", &["Identity", "User", "ResultSize"]),
    (
        "Add-MailboxPermission",
        &[
            "Identity",
            "User",
            "AccessRights",
            "InheritanceType",
            "AutoMapping",
        ],
    ),
    (
        "Remove-MailboxPermission",
        &["Identity", "User", "AccessRights", "InheritanceType"],
    ),
    (
        "Get-RecipientPermission",
        &["Identity", "Trustee", "ResultSize"],
    ),
    (
        "Add-RecipientPermission",
        &["Identity", "Trustee", "AccessRights"],
    ),
    (
        "Remove-RecipientPermission",
        &["Identity", "Trustee", "AccessRights"],
    ),
];

/// Runs one cmdlet.
pub fn run(cx: &mut Context<'_>, name: &str, params: &Params) -> Outcome {
    let Some((canonical, allowed)) = CMDLETS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))
    else {
        return Err(Refusal::UnknownCmdlet);
    };
    for key in params.keys() {
        if !allowed
            .iter()
            .chain(COMMON)
            .any(|p| p.eq_ignore_ascii_case(key))
        {
            return Err(CmdletError::bad_request(
                "System.Management.Automation.ParameterBindingException",
                format!("A parameter cannot be found that matches parameter name '{key}'."),
            )
            .into());
        }
    }
    let p = Parameters(params);
    synced::refuse_synchronized(cx, canonical, allowed, &p)?;
    match *canonical {
        "Get-Recipient" => get_recipient(cx, &p),
        "Get-Mailbox" => get_mailbox(cx, &p),
        "Set-Mailbox" => set_mailbox(cx, &p),
        "New-Mailbox" => shared_mailboxes::new(cx, &p),
        "Remove-Mailbox" => shared_mailboxes::remove(cx, &p),
        "Enable-Mailbox" => archive(cx, &p, true),
        "Disable-Mailbox" => archive(cx, &p, false),
        "Get-MailContact" => get_contacts(cx, &p),
        "New-MailContact" => new_contact(cx, &p),
        "Set-MailContact" => set_contact(cx, &p),
        "Remove-MailContact" => remove_contact(cx, &p),
        "Get-DistributionGroup" => get_groups(cx, &p),
        "Get-MailUser" => mail_users::get(cx, &p),
        "Get-User" => users::get(cx, &p),
        "New-MailUser" => mail_users::new(cx, &p),
        "Set-MailUser" => mail_users::set(cx, &p),
        "Remove-MailUser" => mail_users::remove(cx, &p),
        "New-DistributionGroup" => new_group(cx, &p),
        "Set-DistributionGroup" => set_group(cx, &p),
        "Remove-DistributionGroup" => remove_group(cx, &p),
        "Get-DistributionGroupMember" => group_members(cx, &p),
        "Add-DistributionGroupMember" => change_member(cx, &p, true),
        "Remove-DistributionGroupMember" => change_member(cx, &p, false),
        "Get-MailboxPermission" => get_mailbox_permission(cx, &p),
        "Add-MailboxPermission" => change_permission(cx, &p, Right::FullAccess, true),
        "Remove-MailboxPermission" => change_permission(cx, &p, Right::FullAccess, false),
        "Get-RecipientPermission" => get_recipient_permission(cx, &p),
        "Add-RecipientPermission" => change_permission(cx, &p, Right::SendAs, true),
        "Remove-RecipientPermission" => change_permission(cx, &p, Right::SendAs, false),
        _ => Err(Refusal::UnknownCmdlet),
    }
}

/// Case-insensitive parameter access.
struct Parameters<'a>(&'a Params);

impl Parameters<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    }

    fn str(&self, name: &str) -> Option<String> {
        self.get(name).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }

    fn required(&self, name: &str) -> Result<String, CmdletError> {
        self.str(name).filter(|s| !s.trim().is_empty()).ok_or_else(|| {
            CmdletError::bad_request(
                "System.Management.Automation.ParameterBindingValidationException",
                format!("Cannot validate argument on parameter '{name}'. The argument is null or empty."),
            )
        })
    }

    fn bool(&self, name: &str) -> Result<Option<bool>, CmdletError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(other) => Err(CmdletError::bad_request(
                "System.Management.Automation.ParameterBindingArgumentTransformationException",
                format!(
                    "Cannot process argument transformation on parameter '{name}'. Cannot convert value \"{other}\" to type \"System.Boolean\"."
                ),
            )),
        }
    }

    fn list(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Some(Value::String(s)) => s.split(',').map(|x| x.trim().to_owned()).collect(),
            Some(other) => vec![other.to_string()],
        }
    }
}

fn output(objects: Vec<Map<String, Value>>) -> Outcome {
    Ok(CmdletOutput {
        objects,
        warnings: Vec::new(),
    })
}

fn nothing() -> Outcome {
    output(Vec::new())
}

fn warning(text: String) -> Outcome {
    Ok(CmdletOutput {
        objects: Vec::new(),
        warnings: vec![text],
    })
}

fn resolve(cx: &Context<'_>, identity: &str) -> Result<RecipientRef, CmdletError> {
    cx.recipients
        .resolve(cx.dir, identity)
        .ok_or_else(|| CmdletError::not_found(identity))
}

/// Keeps the objects `-RecipientTypeDetails` and `-Filter` select.
fn narrow(
    objects: Vec<Map<String, Value>>,
    p: &Parameters<'_>,
) -> Result<Vec<Map<String, Value>>, CmdletError> {
    let wanted = p.list("RecipientTypeDetails");
    let filter = p
        .str("Filter")
        .map(|f| filter::Filter::parse(&f))
        .transpose()?;
    Ok(objects
        .into_iter()
        .filter(|o| {
            wanted.is_empty()
                || o.get("RecipientTypeDetails")
                    .and_then(Value::as_str)
                    .is_some_and(|d| wanted.iter().any(|w| w.eq_ignore_ascii_case(d)))
        })
        .filter(|o| filter.as_ref().is_none_or(|f| f.matches(o)))
        .collect())
}

fn get_recipient(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    if let Some(identity) = p.str("Identity") {
        let r = resolve(cx, &identity)?;
        let object = cx
            .recipients
            .recipient_object(cx.dir, &r)
            .ok_or_else(|| CmdletError::not_found(&identity))?;
        return output(vec![object]);
    }
    output(narrow(cx.recipients.all(cx.dir), p)?)
}

fn mailbox_id(cx: &Context<'_>, identity: &str) -> Result<String, CmdletError> {
    match resolve(cx, identity)? {
        RecipientRef::Mailbox(id) => Ok(id),
        _ => Err(CmdletError::not_found(identity)),
    }
}

fn get_mailbox(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    if let Some(identity) = p.str("Identity") {
        let id = mailbox_id(cx, &identity)?;
        let user = cx
            .dir
            .get(Kind::User, &id)
            .map_err(|_| CmdletError::not_found(&identity))?;
        return output(cx.recipients.mailbox_object(user).into_iter().collect());
    }
    let all = cx
        .recipients
        .all(cx.dir)
        .into_iter()
        .filter(|o| o.get("RecipientType").and_then(Value::as_str) == Some("UserMailbox"))
        .collect();
    output(narrow(all, p)?)
}

fn set_mailbox(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    let identity = p.required("Identity")?;
    let id = mailbox_id(cx, &identity)?;
    let hidden = p.bool("HiddenFromAddressListsEnabled")?;
    let hold = p.bool("LitigationHoldEnabled")?;
    let shared = match p.str("Type") {
        None => None,
        Some(t) if t.eq_ignore_ascii_case("Shared") => Some(true),
        Some(t) if t.eq_ignore_ascii_case("Regular") => Some(false),
        Some(t) => {
            return Err(CmdletError::bad_request(
                "System.Management.Automation.ParameterBindingException",
                format!("Cannot process argument transformation on parameter 'Type'. Cannot convert value \"{t}\" to type \"Microsoft.Exchange.Data.Directory.Management.ConvertibleMailboxSubType\". Error: \"Unable to match the identifier name {t} to a valid enumerator name. Specify one of the following enumerator names and try again: Regular, Room, Equipment, Shared\"."),
            )
            .into());
        }
    };
    let addresses = p.get("EmailAddresses").cloned();
    let settings = cx
        .recipients
        .mailboxes
        .get_mut(&id)
        .ok_or_else(|| CmdletError::not_found(&identity))?;
    if let Some(h) = hidden {
        settings.hidden = h;
    }
    if let Some(h) = hold {
        settings.litigation_hold = h;
    }
    if let Some(s) = shared {
        settings.shared = s;
    }
    if let Some(addresses) = addresses {
        apply_addresses(&mut settings.extra_addresses, &addresses);
    }
    nothing()
}

/// Applies `-EmailAddresses` to a recipient's secondary addresses: either a full list or
/// the `@{Add=…; Remove=…}` hashtable. The primary (`SMTP:`) address is kept apart.
fn apply_addresses(extra: &mut Vec<String>, addresses: &Value) {
    let as_list = |v: &Value| -> Vec<String> {
        match v {
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            Value::String(s) => vec![s.clone()],
            _ => Vec::new(),
        }
    };
    let secondary = |a: &String| !a.starts_with("SMTP:");
    match addresses {
        Value::Object(changes) => {
            for (key, value) in changes {
                let values = as_list(value);
                if key.eq_ignore_ascii_case("add") {
                    for v in values.into_iter().filter(secondary) {
                        if !extra.iter().any(|a| a.eq_ignore_ascii_case(&v)) {
                            extra.push(v);
                        }
                    }
                } else if key.eq_ignore_ascii_case("remove") {
                    extra.retain(|a| !values.iter().any(|v| v.eq_ignore_ascii_case(a)));
                }
            }
        }
        other => *extra = as_list(other).into_iter().filter(secondary).collect(),
    }
}

fn archive(cx: &mut Context<'_>, p: &Parameters<'_>, enable: bool) -> Outcome {
    let identity = p.required("Identity")?;
    if p.bool("Archive")? != Some(true) {
        return Err(CmdletError::bad_request(
            "System.InvalidOperationException",
            "The emulator only enables or disables archives; pass -Archive.",
        )
        .into());
    }
    let id = mailbox_id(cx, &identity)?;
    let settings = cx
        .recipients
        .mailboxes
        .get_mut(&id)
        .ok_or_else(|| CmdletError::not_found(&identity))?;
    if settings.archive == enable {
        let text = if enable {
            format!("The mailbox '{identity}' already has an archive.")
        } else {
            format!("The mailbox '{identity}' has no archive.")
        };
        return Err(CmdletError::bad_request(
            "Microsoft.Exchange.Management.Tasks.RecipientTaskException",
            text,
        )
        .into());
    }
    settings.archive = enable;
    nothing()
}

fn get_contacts(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    if let Some(identity) = p.str("Identity") {
        let RecipientRef::Contact(guid) = resolve(cx, &identity)? else {
            return Err(CmdletError::not_found(&identity).into());
        };
        return output(vec![Recipients::contact_object(
            &cx.recipients.contacts[&guid],
        )]);
    }
    let all = cx
        .recipients
        .contacts
        .values()
        .map(Recipients::contact_object)
        .collect();
    output(narrow(all, p)?)
}

fn name_in_use(name: &str) -> CmdletError {
    CmdletError::bad_request(
        "Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException",
        format!("The name \"{name}\" is already being used. Please try another name."),
    )
}

fn address_in_use(address: &str) -> CmdletError {
    CmdletError::bad_request(
        "Microsoft.Exchange.Data.Directory.ProxyAddressExistsException",
        format!(
            "The proxy address \"SMTP:{address}\" is already being used by the proxy addresses or LegacyExchangeDN. Please choose another proxy address."
        ),
    )
}

/// The directory refused a change Exchange passed on to it.
fn directory_refused(e: crate::error::GraphError) -> CmdletError {
    CmdletError::bad_request(
        "Microsoft.Exchange.Data.Directory.ADOperationException",
        e.message,
    )
}

/// PowerShell's answer when mandatory parameters of the chosen parameter set are absent.
fn mandatory(p: &Parameters<'_>, names: &[&str]) -> Result<(), CmdletError> {
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| p.str(n).is_none_or(|v| v.trim().is_empty()))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(CmdletError::bad_request(
        "System.Management.Automation.ParameterBindingException",
        format!(
            "Cannot process command because of one or more missing mandatory parameters: {}.",
            missing.join(" ")
        ),
    ))
}

fn alias_of(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-' || *c == '_')
        .collect()
}

fn new_contact(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    let name = p.required("Name")?;
    let email = strip_smtp(&p.required("ExternalEmailAddress")?).to_owned();
    if cx.recipients.in_use(cx.dir, &name) {
        return Err(name_in_use(&name).into());
    }
    if cx.recipients.in_use(cx.dir, &email) {
        return Err(address_in_use(&email).into());
    }
    let alias = p.str("Alias").unwrap_or_else(|| alias_of(&name));
    let contact = MailContact {
        guid: cx.ids.guid(),
        display_name: p.str("DisplayName").unwrap_or_else(|| name.clone()),
        name,
        alias,
        external_email: email,
        hidden: false,
        synced: false,
    };
    let object = Recipients::contact_object(&contact);
    cx.recipients.contacts.insert(contact.guid.clone(), contact);
    output(vec![object])
}

fn contact_guid(cx: &Context<'_>, identity: &str) -> Result<String, CmdletError> {
    match resolve(cx, identity)? {
        RecipientRef::Contact(guid) => Ok(guid),
        _ => Err(CmdletError::not_found(identity)),
    }
}

fn set_contact(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    let identity = p.required("Identity")?;
    let guid = contact_guid(cx, &identity)?;
    if let Some(email) = p.str("ExternalEmailAddress") {
        let email = strip_smtp(&email).to_owned();
        if cx
            .recipients
            .resolve(cx.dir, &email)
            .is_some_and(|r| r != RecipientRef::Contact(guid.clone()))
        {
            return Err(address_in_use(&email).into());
        }
    }
    if let Some(name) = p.str("Name")
        && cx
            .recipients
            .resolve(cx.dir, &name)
            .is_some_and(|r| r != RecipientRef::Contact(guid.clone()))
    {
        return Err(name_in_use(&name).into());
    }
    let hidden = p.bool("HiddenFromAddressListsEnabled")?;
    let contact = cx
        .recipients
        .contacts
        .get_mut(&guid)
        .ok_or_else(|| CmdletError::not_found(&identity))?;
    let before = format!("{contact:?}");
    if let Some(v) = p.str("Name") {
        contact.name = v;
    }
    if let Some(v) = p.str("DisplayName") {
        contact.display_name = v;
    }
    if let Some(v) = p.str("Alias") {
        contact.alias = v;
    }
    if let Some(v) = p.str("ExternalEmailAddress") {
        contact.external_email = strip_smtp(&v).to_owned();
    }
    if let Some(h) = hidden {
        contact.hidden = h;
    }
    if before == format!("{contact:?}") {
        return warning(format!(
            "The command completed successfully but no settings of '{identity}' have been modified."
        ));
    }
    nothing()
}

fn remove_contact(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    let identity = p.required("Identity")?;
    let guid = contact_guid(cx, &identity)?;
    cx.recipients.contacts.remove(&guid);
    for group in cx.recipients.groups.values_mut() {
        group.contact_members.retain(|m| *m != guid);
    }
    nothing()
}

fn group_id(cx: &Context<'_>, identity: &str) -> Result<String, CmdletError> {
    match resolve(cx, identity)? {
        RecipientRef::Group(id) => Ok(id),
        _ => Err(CmdletError::not_found(identity)),
    }
}

fn get_groups(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    if let Some(identity) = p.str("Identity") {
        let id = group_id(cx, &identity)?;
        return output(
            cx.recipients
                .group_object(cx.dir, &id)
                .into_iter()
                .collect(),
        );
    }
    let all = cx
        .recipients
        .groups
        .keys()
        .filter_map(|id| cx.recipients.group_object(cx.dir, id))
        .collect();
    output(narrow(all, p)?)
}

fn new_group(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    let name = p.required("Name")?;
    let security = match p.str("Type") {
        None => false,
        Some(t) if t.eq_ignore_ascii_case("Distribution") => false,
        Some(t) if t.eq_ignore_ascii_case("Security") => true,
        Some(t) => {
            return Err(CmdletError::bad_request(
                "System.Management.Automation.ParameterBindingException",
                format!("Cannot convert value \"{t}\" to type \"Microsoft.Exchange.Data.Directory.Management.GroupType\". Specify one of the following enumerator names and try again: Distribution, Security"),
            )
            .into());
        }
    };
    let alias = p.str("Alias").unwrap_or_else(|| alias_of(&name));
    let domain = cx.domain;
    let smtp = p
        .str("PrimarySmtpAddress")
        .unwrap_or_else(|| format!("{alias}@{domain}"));
    if cx.recipients.in_use(cx.dir, &name) {
        return Err(name_in_use(&name).into());
    }
    if cx.recipients.in_use(cx.dir, &smtp) {
        return Err(address_in_use(&smtp).into());
    }
    let mut members = Vec::new();
    for m in p.list("Members") {
        members.push(resolve(cx, &m)?);
    }
    let display = p.str("DisplayName").unwrap_or_else(|| name.clone());
    let id = cx.ids.guid();
    let body = json!({
        "displayName": display,
        "mailEnabled": false,
        "mailNickname": alias,
        "securityEnabled": security,
    });
    let graph_error = |e: crate::error::GraphError| {
        CmdletError::bad_request(
            "Microsoft.Exchange.Data.Directory.ADOperationException",
            e.message,
        )
    };
    cx.dir
        .create_group(
            body.as_object().cloned().unwrap_or_default(),
            id.clone(),
            format!("S-1-12-1-{}", cx.ids.next_u64() % 1_000_000_000),
            cx.now,
        )
        .map_err(graph_error)?;
    // Graph refuses to create mail-enabled security and distribution groups; Exchange
    // makes them, so the flag is set behind Graph's API.
    cx.dir
        .update_group(
            &id,
            json!({"mailEnabled": true})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .map_err(graph_error)?;
    cx.recipients.groups.insert(
        id.clone(),
        DistributionGroup {
            guid: cx.ids.guid(),
            name,
            alias,
            primary_smtp: smtp,
            security,
            hidden: false,
            contact_members: Vec::new(),
        },
    );
    for m in members {
        add_member(cx, &id, &m)?;
    }
    output(
        cx.recipients
            .group_object(cx.dir, &id)
            .into_iter()
            .collect(),
    )
}

fn set_group(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    let identity = p.required("Identity")?;
    let id = group_id(cx, &identity)?;
    if let Some(display) = p.str("DisplayName") {
        cx.dir
            .update_group(
                &id,
                json!({"displayName": display})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            )
            .map_err(|e| {
                CmdletError::bad_request(
                    "Microsoft.Exchange.Data.Directory.ADOperationException",
                    e.message,
                )
            })?;
    }
    if let Some(h) = p.bool("HiddenFromAddressListsEnabled")?
        && let Some(g) = cx.recipients.groups.get_mut(&id)
    {
        g.hidden = h;
    }
    nothing()
}

fn remove_group(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    let identity = p.required("Identity")?;
    let id = group_id(cx, &identity)?;
    cx.recipients.groups.remove(&id);
    let _ = cx.dir.delete_group(&id);
    nothing()
}

fn member_key(r: &RecipientRef) -> &str {
    match r {
        RecipientRef::Mailbox(id)
        | RecipientRef::UserWithoutMailbox(id)
        | RecipientRef::MailUser(id)
        | RecipientRef::Group(id)
        | RecipientRef::Contact(id) => id,
    }
}

fn already_member(member: &str, group: &str) -> CmdletError {
    CmdletError::bad_request(
        "Microsoft.Exchange.Management.Tasks.MemberAlreadyExistsException",
        format!("The recipient \"{member}\" is already a member of the group \"{group}\"."),
    )
}

fn add_member(cx: &mut Context<'_>, group: &str, member: &RecipientRef) -> Result<(), CmdletError> {
    let group_name = cx
        .recipients
        .groups
        .get(group)
        .map(|g| g.name.clone())
        .unwrap_or_default();
    match member {
        RecipientRef::Contact(guid) => {
            let g = cx
                .recipients
                .groups
                .get_mut(group)
                .ok_or_else(|| CmdletError::not_found(group))?;
            if g.contact_members.contains(guid) {
                return Err(already_member(guid, &group_name));
            }
            g.contact_members.push(guid.clone());
            Ok(())
        }
        RecipientRef::UserWithoutMailbox(id) => Err(CmdletError::bad_request(
            "Microsoft.Exchange.Management.Tasks.RecipientTaskException",
            format!(
                "Couldn't find object \"{id}\" as a mail recipient. A user without a mailbox or mail user cannot be a member of a distribution group."
            ),
        )),
        other => {
            let id = member_key(other).to_owned();
            cx.dir.add_member(group, &id).map_err(|e| {
                if e.message.contains("already exist") {
                    already_member(&id, &group_name)
                } else {
                    CmdletError::bad_request(
                        "Microsoft.Exchange.Data.Directory.ADOperationException",
                        e.message,
                    )
                }
            })
        }
    }
}

fn group_members(cx: &mut Context<'_>, p: &Parameters<'_>) -> Outcome {
    let identity = p.required("Identity")?;
    let id = group_id(cx, &identity)?;
    let (members, _) = cx
        .dir
        .members(&id, 0, usize::MAX)
        .map_err(|_| CmdletError::not_found(&identity))?;
    let ids: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
    let mut objects = Vec::new();
    for member in ids {
        if let Some(r) = cx.recipients.resolve(cx.dir, &member)
            && let Some(o) = cx.recipients.recipient_object(cx.dir, &r)
        {
            objects.push(o);
        }
    }
    let contacts = cx
        .recipients
        .groups
        .get(&id)
        .map(|g| g.contact_members.clone())
        .unwrap_or_default();
    for guid in contacts {
        if let Some(c) = cx.recipients.contacts.get(&guid) {
            objects.push(Recipients::contact_object(c));
        }
    }
    output(objects)
}

fn change_member(cx: &mut Context<'_>, p: &Parameters<'_>, add: bool) -> Outcome {
    let identity = p.required("Identity")?;
    let id = group_id(cx, &identity)?;
    let member_name = p.required("Member")?;
    let member = resolve(cx, &member_name)?;
    if add {
        add_member(cx, &id, &member)?;
        return nothing();
    }
    let not_member = || {
        CmdletError::bad_request(
            "Microsoft.Exchange.Management.Tasks.MemberNotFoundException",
            format!("The recipient \"{member_name}\" isn't a member of the group \"{identity}\"."),
        )
    };
    match &member {
        RecipientRef::Contact(guid) => {
            let g = cx
                .recipients
                .groups
                .get_mut(&id)
                .ok_or_else(|| CmdletError::not_found(&identity))?;
            let before = g.contact_members.len();
            g.contact_members.retain(|m| m != guid);
            if g.contact_members.len() == before {
                return Err(not_member().into());
            }
        }
        other => {
            cx.dir
                .remove_member(&id, member_key(other))
                .map_err(|_| not_member())?;
        }
    }
    nothing()
}
