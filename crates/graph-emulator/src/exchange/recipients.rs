//! What Exchange Online keeps beside the directory: mail contacts, the settings and
//! permissions of user mailboxes, and the Exchange side of mail-enabled groups. Users and
//! groups themselves live in the Graph [`Directory`], so both APIs see one tenant.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};

use crate::directory::{DirObject, Directory, Kind, Selection};
use crate::licenses;

/// The service plan whose assignment gives a user a mailbox.
pub const EXCHANGE_PLANS: &[&str] = &["EXCHANGE_S_ENTERPRISE", "EXCHANGE_S_STANDARD"];

/// A mail contact (an external address in the address book). Exchange-only here: the
/// emulator does not mirror contacts into Graph's `/contacts`.
#[derive(Debug, Clone)]
pub struct MailContact {
    pub guid: String,
    pub name: String,
    pub display_name: String,
    pub alias: String,
    pub external_email: String,
    pub hidden: bool,
}

/// The settings Exchange keeps for one user's mailbox.
#[derive(Debug, Clone, Default)]
pub struct MailboxSettings {
    pub exchange_guid: String,
    pub hidden: bool,
    pub litigation_hold: bool,
    pub archive: bool,
    pub shared: bool,
    /// Proxy addresses beyond the primary one (`smtp:` lower-case prefix).
    pub extra_addresses: Vec<String>,
    /// Users (directory ids) with FullAccess.
    pub full_access: BTreeSet<String>,
    /// Users (directory ids) with SendAs.
    pub send_as: BTreeSet<String>,
}

/// The Exchange side of a mail-enabled group whose directory object has the same id.
#[derive(Debug, Clone)]
pub struct DistributionGroup {
    pub guid: String,
    pub name: String,
    pub alias: String,
    pub primary_smtp: String,
    pub security: bool,
    pub hidden: bool,
    /// Mail contacts among the members (users and groups are members in the directory).
    pub contact_members: Vec<String>,
}

/// One recipient an `Identity` parameter named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientRef {
    /// A user with a mailbox (directory id).
    Mailbox(String),
    /// A user without a mailbox yet (directory id).
    UserWithoutMailbox(String),
    Contact(String),
    /// A mail-enabled group (directory id).
    Group(String),
}

/// Exchange's own store.
#[derive(Debug, Default)]
pub struct Recipients {
    pub contacts: BTreeMap<String, MailContact>,
    pub mailboxes: HashMap<String, MailboxSettings>,
    pub groups: BTreeMap<String, DistributionGroup>,
    /// When each user was first seen licensed for Exchange; the mailbox appears after the
    /// provisioning delay from then.
    licensed_since: HashMap<String, Timestamp>,
}

fn user_has_exchange_plan(user: &DirObject) -> bool {
    let licenses = user.props.get("assignedLicenses").and_then(Value::as_array);
    licenses.into_iter().flatten().any(|license| {
        let disabled: Vec<&str> = license["disabledPlans"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        license["skuId"]
            .as_str()
            .and_then(licenses::sku)
            .is_some_and(|s| {
                s.plans.iter().any(|p| {
                    EXCHANGE_PLANS.contains(&p.name)
                        && !disabled.iter().any(|d| d.eq_ignore_ascii_case(p.id))
                })
            })
    })
}

/// A user's primary SMTP address: `mail` when set, the UPN otherwise.
pub fn user_smtp(user: &DirObject) -> String {
    user.props
        .get("mail")
        .and_then(Value::as_str)
        .or_else(|| user.props.get("userPrincipalName").and_then(Value::as_str))
        .unwrap_or_default()
        .to_owned()
}

fn user_alias(user: &DirObject) -> String {
    user.props
        .get("mailNickname")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| {
            user_smtp(user)
                .split('@')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
}

fn str_prop<'a>(object: &'a DirObject, name: &str) -> &'a str {
    object
        .props
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

impl Recipients {
    /// Brings mailboxes in line with licenses: a licensed user gets one once `delay` has
    /// passed since the licence was first seen; a user who lost it (or is gone) loses it.
    pub fn provision(
        &mut self,
        dir: &Directory,
        now: Timestamp,
        delay: SignedDuration,
        guid: impl Fn() -> String,
    ) {
        let (users, _) = dir.list(Kind::User, Selection::default(), 0, usize::MAX);
        let licensed: BTreeSet<String> = users
            .iter()
            .filter(|u| user_has_exchange_plan(u))
            .map(|u| u.id.clone())
            .collect();
        self.licensed_since.retain(|id, _| licensed.contains(id));
        self.mailboxes.retain(|id, _| licensed.contains(id));
        for id in licensed {
            let since = *self.licensed_since.entry(id.clone()).or_insert(now);
            let ready = since.checked_add(delay).is_ok_and(|at| at <= now);
            if ready && !self.mailboxes.contains_key(&id) {
                self.mailboxes.insert(
                    id,
                    MailboxSettings {
                        exchange_guid: guid(),
                        ..MailboxSettings::default()
                    },
                );
            }
        }
    }

    /// Finds the recipient an `Identity` names: an id (directory or Exchange GUID), a name,
    /// an alias, or an address.
    pub fn resolve(&self, dir: &Directory, identity: &str) -> Option<RecipientRef> {
        let key = identity.trim().to_lowercase();
        let key = key.strip_prefix("smtp:").unwrap_or(&key).to_owned();
        if let Some(c) = self.contacts.values().find(|c| {
            c.guid == key
                || c.name.to_lowercase() == key
                || c.alias.to_lowercase() == key
                || strip_smtp(&c.external_email).to_lowercase() == key
        }) {
            return Some(RecipientRef::Contact(c.guid.clone()));
        }
        if let Some((id, _)) = self.groups.iter().find(|(id, g)| {
            **id == key
                || g.guid == key
                || g.name.to_lowercase() == key
                || g.alias.to_lowercase() == key
                || g.primary_smtp.to_lowercase() == key
        }) {
            return Some(RecipientRef::Group(id.clone()));
        }
        let (users, _) = dir.list(Kind::User, Selection::default(), 0, usize::MAX);
        let user = users.into_iter().find(|u| {
            u.id == key
                || str_prop(u, "userPrincipalName").to_lowercase() == key
                || str_prop(u, "mail").to_lowercase() == key
                || user_alias(u).to_lowercase() == key
                || self.mailboxes.get(&u.id).is_some_and(|m| {
                    m.exchange_guid == key
                        || m.extra_addresses
                            .iter()
                            .any(|a| strip_smtp(a).to_lowercase() == key)
                })
        })?;
        Some(if self.mailboxes.contains_key(&user.id) {
            RecipientRef::Mailbox(user.id.clone())
        } else {
            RecipientRef::UserWithoutMailbox(user.id.clone())
        })
    }

    /// Whether any recipient already uses this name, alias or address.
    pub fn in_use(&self, dir: &Directory, value: &str) -> bool {
        self.resolve(dir, value).is_some()
    }

    /// `Get-Mailbox` output for one user.
    pub fn mailbox_object(&self, user: &DirObject) -> Option<Map<String, Value>> {
        let settings = self.mailboxes.get(&user.id)?;
        let smtp = user_smtp(user);
        let mut addresses = vec![format!("SMTP:{smtp}")];
        addresses.extend(settings.extra_addresses.iter().cloned());
        let details = if settings.shared {
            "SharedMailbox"
        } else {
            "UserMailbox"
        };
        let value = json!({
            "Identity": user.id,
            "Guid": settings.exchange_guid,
            "ExchangeGuid": settings.exchange_guid,
            "ExternalDirectoryObjectId": user.id,
            "Name": user_alias(user),
            "Alias": user_alias(user),
            "DisplayName": str_prop(user, "displayName"),
            "UserPrincipalName": str_prop(user, "userPrincipalName"),
            "PrimarySmtpAddress": smtp,
            "EmailAddresses@odata.type": "#Collection(String)",
            "EmailAddresses": addresses,
            "RecipientType": "UserMailbox",
            "RecipientTypeDetails": details,
            // A user synchronized from AD has its mail attributes mastered there.
            "IsDirSynced": user.props.get("onPremisesSyncEnabled").and_then(Value::as_bool).unwrap_or(false),
            "HiddenFromAddressListsEnabled": settings.hidden,
            "LitigationHoldEnabled": settings.litigation_hold,
            "LitigationHoldDuration": "Unlimited",
            "ArchiveStatus": if settings.archive { "Active" } else { "None" },
            "ArchiveGuid": if settings.archive { settings.exchange_guid.replacen('0', "a", 1) } else { "00000000-0000-0000-0000-000000000000".to_owned() },
        });
        value.as_object().cloned()
    }

    pub fn contact_object(contact: &MailContact) -> Map<String, Value> {
        let smtp = strip_smtp(&contact.external_email).to_owned();
        json!({
            "Identity": contact.name,
            "Guid": contact.guid,
            "ExternalDirectoryObjectId": contact.guid,
            "Name": contact.name,
            "Alias": contact.alias,
            "DisplayName": contact.display_name,
            "ExternalEmailAddress": format!("SMTP:{smtp}"),
            "PrimarySmtpAddress": smtp,
            "EmailAddresses@odata.type": "#Collection(String)",
            "EmailAddresses": [format!("SMTP:{smtp}")],
            "RecipientType": "MailContact",
            "RecipientTypeDetails": "MailContact",
            "HiddenFromAddressListsEnabled": contact.hidden,
        })
        .as_object()
        .cloned()
        .unwrap_or_default()
    }

    pub fn group_object(&self, dir: &Directory, id: &str) -> Option<Map<String, Value>> {
        let group = self.groups.get(id)?;
        let display = dir
            .get(Kind::Group, id)
            .ok()
            .map(|g| str_prop(g, "displayName").to_owned())
            .unwrap_or_default();
        let (kind, details) = if group.security {
            ("MailUniversalSecurityGroup", "MailUniversalSecurityGroup")
        } else {
            (
                "MailUniversalDistributionGroup",
                "MailUniversalDistributionGroup",
            )
        };
        json!({
            "Identity": group.name,
            "Guid": group.guid,
            "ExternalDirectoryObjectId": id,
            "Name": group.name,
            "Alias": group.alias,
            "DisplayName": display,
            "PrimarySmtpAddress": group.primary_smtp,
            "EmailAddresses@odata.type": "#Collection(String)",
            "EmailAddresses": [format!("SMTP:{}", group.primary_smtp)],
            "RecipientType": kind,
            "RecipientTypeDetails": details,
            "GroupType": if group.security { "Universal, SecurityEnabled" } else { "Universal" },
            "HiddenFromAddressListsEnabled": group.hidden,
        })
        .as_object()
        .cloned()
    }

    /// The output object of any recipient.
    pub fn recipient_object(
        &self,
        dir: &Directory,
        r: &RecipientRef,
    ) -> Option<Map<String, Value>> {
        match r {
            RecipientRef::Mailbox(id) => {
                let user = dir.get(Kind::User, id).ok()?;
                self.mailbox_object(user)
            }
            RecipientRef::UserWithoutMailbox(_) => None,
            RecipientRef::Contact(guid) => self.contacts.get(guid).map(Self::contact_object),
            RecipientRef::Group(id) => self.group_object(dir, id),
        }
    }

    /// Every recipient, in a stable order: mailboxes, contacts, groups.
    pub fn all(&self, dir: &Directory) -> Vec<Map<String, Value>> {
        let (users, _) = dir.list(Kind::User, Selection::default(), 0, usize::MAX);
        let mut out: Vec<Map<String, Value>> = users
            .iter()
            .filter_map(|u| self.mailbox_object(u))
            .collect();
        out.extend(self.contacts.values().map(Self::contact_object));
        out.extend(
            self.groups
                .keys()
                .filter_map(|id| self.group_object(dir, id)),
        );
        out
    }
}

pub fn strip_smtp(address: &str) -> &str {
    address
        .split_once(':')
        .filter(|(p, _)| p.eq_ignore_ascii_case("smtp"))
        .map_or(address, |(_, a)| a)
}
