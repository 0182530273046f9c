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
    /// Synchronized from on-premises AD, so read-only here.
    pub synced: bool,
}

/// The Exchange side of a mail user: a directory user whose mail goes to an outside
/// address. Exchange Online makes one for an invited guest, or with `New-MailUser`.
#[derive(Debug, Clone, Default)]
pub struct MailUser {
    pub guid: String,
    /// The recipient's Name; a guest's is its UPN's local part.
    pub name: String,
    pub external_email: String,
    pub guest: bool,
    pub hidden: bool,
    /// Proxy addresses beyond the primary one (`smtp:` lower-case prefix).
    pub extra_addresses: Vec<String>,
    /// `CustomAttribute1`..`15`, by number.
    pub custom_attributes: BTreeMap<u8, String>,
}

/// The settings Exchange keeps for one user's mailbox.
#[derive(Debug, Clone, Default)]
pub struct MailboxSettings {
    pub exchange_guid: String,
    /// The recipient's Name when Exchange made the mailbox (`New-Mailbox -Name`); else the alias.
    pub name: Option<String>,
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
    /// A mail user (directory id).
    MailUser(String),
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
    /// Mail users, by directory id.
    pub mail_users: BTreeMap<String, MailUser>,
    /// When each user was first seen licensed for Exchange; the mailbox appears after the
    /// provisioning delay from then.
    licensed_since: HashMap<String, Timestamp>,
    /// When each guest was first seen; its mail user appears after the same delay.
    guest_since: HashMap<String, Timestamp>,
    sids: Sids,
}

/// Windows security identifiers for the directory's users and groups, as Exchange shows
/// trustees: `S-1-5-21-X-Y-Z-RID`, one domain part per tenant and a RID per object.
///
/// The RID is a hash of the object id (probing on a collision), so it comes out the same
/// after a state save and load, which keeps only the directory. An object keeps its SID
/// after deletion, as a permission entry keeps the orphaned SID.
#[derive(Debug, Default)]
struct Sids {
    domain: String,
    by_id: HashMap<String, u32>,
    taken: HashMap<u32, String>,
}

/// FNV-1a: stable across runs and platforms, unlike `DefaultHasher`.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Sids {
    /// The tenant's domain part, from its initial domain (stable without a seed).
    fn set_tenant(&mut self, initial_domain: &str) {
        if self.domain.is_empty() {
            let h = fnv1a(&initial_domain.to_lowercase());
            let part = |n: u64| 1_000_000_000 + (n % 3_000_000_000);
            self.domain = format!(
                "S-1-5-21-{}-{}-{}",
                part(h),
                part(h.rotate_left(21)),
                part(h.rotate_left(42))
            );
        }
    }

    fn allocate(&mut self, id: &str) {
        if self.by_id.contains_key(id) {
            return;
        }
        // RIDs below 1000 are Windows' well-known accounts.
        let mut rid = 1000 + (fnv1a(id) % (u64::from(u32::MAX) - 1000)) as u32;
        while self.taken.contains_key(&rid) {
            rid = rid.checked_add(1).unwrap_or(1000);
        }
        self.taken.insert(rid, id.to_owned());
        self.by_id.insert(id.to_owned(), rid);
    }

    fn of(&self, id: &str) -> Option<String> {
        self.by_id
            .get(id)
            .map(|rid| format!("{}-{rid}", self.domain))
    }

    fn owner(&self, sid: &str) -> Option<&str> {
        let rid = sid
            .strip_prefix(self.domain.as_str())?
            .strip_prefix('-')?
            .parse::<u32>()
            .ok()?;
        self.taken.get(&rid).map(String::as_str)
    }
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
        initial_domain: &str,
        now: Timestamp,
        delay: SignedDuration,
        guid: impl Fn() -> String,
    ) {
        let (users, _) = dir.list(Kind::User, Selection::default(), 0, usize::MAX);
        let (groups, _) = dir.list(Kind::Group, Selection::default(), 0, usize::MAX);
        self.sids.set_tenant(initial_domain);
        for object in users.iter().chain(groups.iter()) {
            self.sids.allocate(&object.id);
        }
        self.adopt_synced_groups(&groups, &guid);
        self.provision_guests(&users, now, delay, &guid);
        let existing: BTreeSet<&str> = users.iter().map(|u| u.id.as_str()).collect();
        self.mail_users
            .retain(|id, _| existing.contains(id.as_str()));
        let licensed: BTreeSet<String> = users
            .iter()
            .filter(|u| user_has_exchange_plan(u))
            .map(|u| u.id.clone())
            .collect();
        self.licensed_since.retain(|id, _| licensed.contains(id));
        // A shared mailbox needs no licence, so it stays while its user does.
        self.mailboxes
            .retain(|id, m| licensed.contains(id) || (m.shared && existing.contains(id.as_str())));
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

    /// An invited guest becomes a `GuestMailUser` once the provisioning delay has passed
    /// since it was first seen; a guest that is gone or no longer a guest loses it.
    fn provision_guests(
        &mut self,
        users: &[&DirObject],
        now: Timestamp,
        delay: SignedDuration,
        guid: &impl Fn() -> String,
    ) {
        let guests: Vec<&DirObject> = users
            .iter()
            .copied()
            .filter(|u| str_prop(u, "userType").eq_ignore_ascii_case("Guest"))
            .filter(|u| !str_prop(u, "mail").is_empty())
            .collect();
        self.guest_since
            .retain(|id, _| guests.iter().any(|g| g.id == *id));
        for guest in guests {
            let since = *self.guest_since.entry(guest.id.clone()).or_insert(now);
            let ready = since.checked_add(delay).is_ok_and(|at| at <= now);
            if ready && !self.mail_users.contains_key(&guest.id) {
                let upn = str_prop(guest, "userPrincipalName");
                self.mail_users.insert(
                    guest.id.clone(),
                    MailUser {
                        guid: guid(),
                        name: upn.rsplit_once('@').map_or(upn, |(l, _)| l).to_owned(),
                        external_email: str_prop(guest, "mail").to_owned(),
                        guest: true,
                        // Exchange hides guests from the address lists until told otherwise.
                        hidden: true,
                        ..MailUser::default()
                    },
                );
            }
        }
    }

    /// A mail-enabled security or distribution group synchronized from AD (seeded into
    /// the directory) is a distribution group here too, as Exchange Online shows it.
    fn adopt_synced_groups(&mut self, groups: &[&DirObject], guid: &impl Fn() -> String) {
        for group in groups {
            let mail_enabled = group.props.get("mailEnabled") == Some(&Value::Bool(true));
            let unified = group
                .props
                .get("groupTypes")
                .and_then(Value::as_array)
                .is_some_and(|t| t.iter().any(|x| x.as_str() == Some("Unified")));
            if !mail_enabled || unified || !is_synced(group) || self.groups.contains_key(&group.id)
            {
                continue;
            }
            let alias = str_prop(group, "mailNickname").to_owned();
            let name = str_prop(group, "displayName").to_owned();
            let mail = str_prop(group, "mail");
            self.groups.insert(
                group.id.clone(),
                DistributionGroup {
                    guid: guid(),
                    primary_smtp: if mail.is_empty() {
                        alias.clone()
                    } else {
                        mail.to_owned()
                    },
                    name,
                    alias,
                    security: group.props.get("securityEnabled") == Some(&Value::Bool(true)),
                    hidden: false,
                    contact_members: Vec::new(),
                },
            );
        }
    }

    /// Gives an object Exchange just made in the directory its SID (otherwise it gets one
    /// at the next cmdlet).
    pub fn assign_sid(&mut self, id: &str) {
        self.sids.allocate(id);
    }

    /// The Name of a recipient that directory synchronization masters, if this one is.
    pub fn synced_name(&self, dir: &Directory, r: &RecipientRef) -> Option<String> {
        let synced_user = |id: &str| dir.get(Kind::User, id).ok().is_some_and(is_synced);
        match r {
            RecipientRef::Contact(guid) => self
                .contacts
                .get(guid)
                .filter(|c| c.synced)
                .map(|c| c.name.clone()),
            RecipientRef::Group(id) => self
                .groups
                .get(id)
                .filter(|_| dir.get(Kind::Group, id).ok().is_some_and(is_synced))
                .map(|g| g.name.clone()),
            RecipientRef::MailUser(id) => self
                .mail_users
                .get(id)
                .filter(|_| synced_user(id))
                .map(|m| m.name.clone()),
            RecipientRef::Mailbox(id) => {
                dir.get(Kind::User, id)
                    .ok()
                    .filter(|u| is_synced(u))
                    .map(|u| {
                        self.mailboxes
                            .get(id)
                            .and_then(|m| m.name.clone())
                            .unwrap_or_else(|| user_alias(u))
                    })
            }
            RecipientRef::UserWithoutMailbox(_) => None,
        }
    }

    /// The Windows SID Exchange shows for a directory user or group, deleted ones included.
    pub fn sid(&self, id: &str) -> Option<String> {
        self.sids.of(id)
    }

    /// The directory object a SID names (it may have been deleted since).
    pub fn sid_owner(&self, sid: &str) -> Option<&str> {
        self.sids.owner(sid)
    }

    /// Finds the recipient an `Identity` names: an id (directory or Exchange GUID), a SID,
    /// a name, an alias, or an address.
    pub fn resolve(&self, dir: &Directory, identity: &str) -> Option<RecipientRef> {
        let key = identity.trim().to_lowercase();
        let key = key.strip_prefix("smtp:").unwrap_or(&key).to_owned();
        if let Some(owner) = self.sid_owner(&identity.trim().to_uppercase()) {
            let owner = owner.to_owned();
            return self.resolve(dir, &owner);
        }
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
                        || m.name.as_ref().is_some_and(|n| n.to_lowercase() == key)
                        || m.extra_addresses
                            .iter()
                            .any(|a| strip_smtp(a).to_lowercase() == key)
                })
                || self.mail_users.get(&u.id).is_some_and(|m| {
                    m.guid == key
                        || m.name.to_lowercase() == key
                        || strip_smtp(&m.external_email).to_lowercase() == key
                        || m.extra_addresses
                            .iter()
                            .any(|a| strip_smtp(a).to_lowercase() == key)
                })
        })?;
        Some(if self.mailboxes.contains_key(&user.id) {
            RecipientRef::Mailbox(user.id.clone())
        } else if self.mail_users.contains_key(&user.id) {
            RecipientRef::MailUser(user.id.clone())
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
            "Sid": self.sid(&user.id),
            "Name": settings.name.clone().unwrap_or_else(|| user_alias(user)),
            "Alias": user_alias(user),
            "DisplayName": str_prop(user, "displayName"),
            "UserPrincipalName": str_prop(user, "userPrincipalName"),
            "PrimarySmtpAddress": smtp,
            "EmailAddresses@odata.type": "#Collection(String)",
            "EmailAddresses": addresses,
            "RecipientType": "UserMailbox",
            "RecipientTypeDetails": details,
            // A user synchronized from AD has its mail attributes mastered there.
            "IsDirSynced": is_synced(user),
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
            "IsDirSynced": contact.synced,
            "HiddenFromAddressListsEnabled": contact.hidden,
        })
        .as_object()
        .cloned()
        .unwrap_or_default()
    }

    /// `Get-MailUser` output for one user.
    pub fn mail_user_object(&self, user: &DirObject) -> Option<Map<String, Value>> {
        // One recipient per user: a licensed guest is listed by its mailbox only.
        if self.mailboxes.contains_key(&user.id) {
            return None;
        }
        let mail_user = self.mail_users.get(&user.id)?;
        // A guest's primary address is its outside one; a cloud mail user's is its UPN.
        let primary = if mail_user.guest {
            strip_smtp(&mail_user.external_email).to_owned()
        } else {
            str_prop(user, "userPrincipalName").to_owned()
        };
        let mut addresses = vec![format!("SMTP:{primary}")];
        addresses.extend(mail_user.extra_addresses.iter().cloned());
        let mut object = json!({
            "Identity": user.id,
            "Guid": mail_user.guid,
            "ExternalDirectoryObjectId": user.id,
            "Sid": self.sid(&user.id),
            "Name": mail_user.name,
            "Alias": user_alias(user),
            "DisplayName": str_prop(user, "displayName"),
            "UserPrincipalName": str_prop(user, "userPrincipalName"),
            "MicrosoftOnlineServicesID": str_prop(user, "userPrincipalName"),
            "PrimarySmtpAddress": primary,
            "ExternalEmailAddress": format!("SMTP:{}", strip_smtp(&mail_user.external_email)),
            "EmailAddresses@odata.type": "#Collection(String)",
            "EmailAddresses": addresses,
            "RecipientType": "MailUser",
            "RecipientTypeDetails": if mail_user.guest { "GuestMailUser" } else { "MailUser" },
            "IsDirSynced": is_synced(user),
            "HiddenFromAddressListsEnabled": mail_user.hidden,
        })
        .as_object()
        .cloned()?;
        for n in 1..=15u8 {
            let value = mail_user
                .custom_attributes
                .get(&n)
                .cloned()
                .unwrap_or_default();
            object.insert(format!("CustomAttribute{n}"), json!(value));
        }
        Some(object)
    }

    /// `Get-User` output: any directory user, mail-enabled or not, with its SID.
    pub fn user_object(&self, user: &DirObject) -> Map<String, Value> {
        let enabled = user.props.get("accountEnabled") != Some(&Value::Bool(false));
        let mailbox = self.mailboxes.get(&user.id);
        let mail_user = self.mail_users.get(&user.id);
        let (kind, details) = match (mailbox, mail_user) {
            (Some(m), _) if m.shared => ("UserMailbox", "SharedMailbox"),
            (Some(_), _) => ("UserMailbox", "UserMailbox"),
            (None, Some(m)) if m.guest => ("MailUser", "GuestMailUser"),
            (None, Some(_)) => ("MailUser", "MailUser"),
            (None, None) if enabled => ("User", "User"),
            (None, None) => ("User", "DisabledUser"),
        };
        let guid = mailbox
            .map(|m| m.exchange_guid.clone())
            .or_else(|| mail_user.map(|m| m.guid.clone()));
        let name = mailbox
            .and_then(|m| m.name.clone())
            .or_else(|| mail_user.map(|m| m.name.clone()))
            .unwrap_or_else(|| user_alias(user));
        json!({
            "Identity": user.id,
            "Guid": guid,
            "ExternalDirectoryObjectId": user.id,
            "Sid": self.sid(&user.id),
            "Name": name,
            "DisplayName": str_prop(user, "displayName"),
            "UserPrincipalName": str_prop(user, "userPrincipalName"),
            "RecipientType": kind,
            "RecipientTypeDetails": details,
            "AccountDisabled": !enabled,
            "IsDirSynced": is_synced(user),
        })
        .as_object()
        .cloned()
        .unwrap_or_default()
    }

    pub fn group_object(&self, dir: &Directory, id: &str) -> Option<Map<String, Value>> {
        let group = self.groups.get(id)?;
        let directory_group = dir.get(Kind::Group, id).ok();
        let display = directory_group
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
            "Sid": self.sid(id),
            "IsDirSynced": directory_group.is_some_and(is_synced),
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
            RecipientRef::MailUser(id) => {
                let user = dir.get(Kind::User, id).ok()?;
                self.mail_user_object(user)
            }
            RecipientRef::Contact(guid) => self.contacts.get(guid).map(Self::contact_object),
            RecipientRef::Group(id) => self.group_object(dir, id),
        }
    }

    /// Every mail user, in the directory's order.
    pub fn all_mail_users(&self, dir: &Directory) -> Vec<Map<String, Value>> {
        let (users, _) = dir.list(Kind::User, Selection::default(), 0, usize::MAX);
        users
            .iter()
            .filter_map(|u| self.mail_user_object(u))
            .collect()
    }

    /// Every recipient, in a stable order: mailboxes, mail users, contacts, groups.
    pub fn all(&self, dir: &Directory) -> Vec<Map<String, Value>> {
        let (users, _) = dir.list(Kind::User, Selection::default(), 0, usize::MAX);
        let mut out: Vec<Map<String, Value>> = users
            .iter()
            .filter_map(|u| self.mailbox_object(u))
            .collect();
        out.extend(self.all_mail_users(dir));
        out.extend(self.contacts.values().map(Self::contact_object));
        out.extend(
            self.groups
                .keys()
                .filter_map(|id| self.group_object(dir, id)),
        );
        out
    }
}

/// Whether directory synchronization masters this user or group (`onPremisesSyncEnabled`).
pub fn is_synced(object: &DirObject) -> bool {
    object
        .props
        .get("onPremisesSyncEnabled")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

pub fn strip_smtp(address: &str) -> &str {
    address
        .split_once(':')
        .filter(|(p, _)| p.eq_ignore_ascii_case("smtp"))
        .map_or(address, |(_, a)| a)
}

#[cfg(test)]
mod tests {
    use super::Sids;

    fn sids(domain: &str) -> Sids {
        let mut sids = Sids::default();
        sids.set_tenant(domain);
        sids
    }

    #[test]
    fn a_sid_is_derived_so_a_fresh_table_gives_the_same_one() {
        let mut first = sids("contoso.onmicrosoft.com");
        let mut again = sids("Contoso.onmicrosoft.com");
        for s in [&mut first, &mut again] {
            s.allocate("4f1c0000-0000-4000-8000-000000000001");
        }
        let sid = first.of("4f1c0000-0000-4000-8000-000000000001").unwrap();
        assert!(sid.starts_with("S-1-5-21-"));
        assert_eq!(sid.split('-').count(), 8);
        assert_eq!(
            Some(sid.clone()),
            again.of("4f1c0000-0000-4000-8000-000000000001")
        );
        assert_eq!(
            first.owner(&sid),
            Some("4f1c0000-0000-4000-8000-000000000001")
        );
        assert_ne!(sids("fabrikam.onmicrosoft.com").domain, first.domain);
    }

    #[test]
    fn a_taken_rid_moves_the_next_object_along() {
        let mut probe = sids("contoso.onmicrosoft.com");
        probe.allocate("b");
        let natural = probe.by_id["b"];
        // Another object already holds the RID "b" hashes to.
        let mut table = sids("contoso.onmicrosoft.com");
        table.taken.insert(natural, "x".to_owned());
        table.by_id.insert("x".to_owned(), natural);
        table.allocate("b");
        table.allocate("b");
        assert_eq!(table.by_id["b"], natural + 1);
        assert_eq!(table.owner(&table.of("b").unwrap()), Some("b"));
    }
}
