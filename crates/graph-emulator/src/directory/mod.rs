//! The tenant's directory: users, groups, membership and the change log that delta reads.
//!
//! Pure state: no async, no clock (the caller passes the time and the new ids), so every
//! rule here can be unit-tested with plain values.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::clock::graph_datetime;
use crate::error::GraphError;
use crate::extensions::ExtensionProperty;
use crate::odata::{Filter, OrderBy, Search};
use crate::props::Props;
use crate::roles::RoleAssignment;
use crate::schema::{Schema, TypeMismatch};

mod delta;
mod domains;
mod extension_values;
mod licensing;
mod roles;
mod state;

/// The two kinds of directory object the emulator stores so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    /// The entity type name in the schema.
    pub fn entity(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Group => "group",
        }
    }

    /// The resource name Entra's messages use.
    pub fn resource(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    /// The `@odata.type` of an object of this kind.
    pub fn odata_type(self) -> &'static str {
        match self {
            Kind::User => "#microsoft.graph.user",
            Kind::Group => "#microsoft.graph.group",
        }
    }

    /// Properties returned when the request has no `$select`.
    pub fn default_properties(self) -> &'static [&'static str] {
        match self {
            Kind::User => USER_DEFAULT_PROPERTIES,
            Kind::Group => GROUP_DEFAULT_PROPERTIES,
        }
    }
}

/// "List users" documents this default property set.
const USER_DEFAULT_PROPERTIES: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

/// The properties of the documented "Create group" response, in its order.
const GROUP_DEFAULT_PROPERTIES: &[&str] = &[
    "id",
    "deletedDateTime",
    "classification",
    "createdDateTime",
    "description",
    "displayName",
    "expirationDateTime",
    "groupTypes",
    "isAssignableToRole",
    "mail",
    "mailEnabled",
    "mailNickname",
    "membershipRule",
    "membershipRuleProcessingState",
    "onPremisesDomainName",
    "onPremisesLastSyncDateTime",
    "onPremisesNetBiosName",
    "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier",
    "onPremisesSyncEnabled",
    "preferredDataLocation",
    "preferredLanguage",
    "proxyAddresses",
    "renewedDateTime",
    "resourceBehaviorOptions",
    "resourceProvisioningOptions",
    "securityEnabled",
    "securityIdentifier",
    "theme",
    "visibility",
    "onPremisesProvisioningErrors",
];

/// Properties a client can never write on a user through Graph.
const USER_READ_ONLY: &[&str] = &[
    "id",
    "createdDateTime",
    "deletedDateTime",
    "creationType",
    "proxyAddresses",
    "assignedLicenses",
    "assignedPlans",
    "provisionedPlans",
    "licenseAssignmentStates",
    "securityIdentifier",
    "signInActivity",
    "lastPasswordChangeDateTime",
    "signInSessionsValidFromDateTime",
    "onPremisesSyncEnabled",
    "onPremisesDistinguishedName",
    "onPremisesDomainName",
    "onPremisesLastSyncDateTime",
    "onPremisesProvisioningErrors",
    "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier",
    "onPremisesUserPrincipalName",
    "serviceProvisioningErrors",
    "identityParentId",
];

const GROUP_READ_ONLY: &[&str] = &[
    "id",
    "createdDateTime",
    "deletedDateTime",
    "mail",
    "proxyAddresses",
    "securityIdentifier",
    "renewedDateTime",
    "expirationDateTime",
    "onPremisesSyncEnabled",
    "onPremisesDomainName",
    "onPremisesLastSyncDateTime",
    "onPremisesNetBiosName",
    "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier",
    "onPremisesProvisioningErrors",
    "assignedLicenses",
    "hasMembersWithLicenseErrors",
];

/// Attributes an on-premises directory masters for a synced user (Entra rejects writes to
/// them). Graph documents no exact list; these are the AD-sourced ones.
const ON_PREMISES_MASTERED: &[&str] = &[
    "accountEnabled",
    "businessPhones",
    "city",
    "companyName",
    "country",
    "department",
    "displayName",
    "employeeId",
    "employeeType",
    "faxNumber",
    "givenName",
    "jobTitle",
    "mail",
    "mailNickname",
    "mobilePhone",
    "officeLocation",
    "onPremisesExtensionAttributes",
    "onPremisesImmutableId",
    "otherMails",
    "postalCode",
    "state",
    "streetAddress",
    "surname",
    "userPrincipalName",
];

/// What an on-premises directory masters on a synced group: its names and its members.
const GROUP_ON_PREMISES_MASTERED: &[&str] = &[
    "description",
    "displayName",
    "mail",
    "mailEnabled",
    "mailNickname",
    "securityEnabled",
];

fn on_premises_mastered() -> GraphError {
    GraphError::bad_request(
        "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.",
    )
}

/// Graph accepts at most this many `members@odata.bind` / `owners@odata.bind` per request.
pub const MAX_BINDS_PER_REQUEST: usize = 20;

/// A user or group as stored: its JSON properties and when each one last changed.
#[derive(Debug, Clone)]
pub struct DirObject {
    pub id: String,
    pub kind: Kind,
    pub created_seq: u64,
    pub props: Props,
    /// A user's password: never returned by Graph, kept for the state dump.
    pub password: Option<Box<str>>,
    /// Properties changed after creation and when; one absent here last changed when the
    /// object was created. Empty for most objects, which keeps a large tenant small.
    changed: Vec<(&'static str, u64)>,
    last_change: u64,
}

impl DirObject {
    /// The sequence number of the last change to any of `properties` (all when `None`).
    fn last_change_of(&self, properties: Option<&[String]>) -> u64 {
        match properties {
            None => self.last_change,
            Some(props) => props
                .iter()
                .filter_map(|p| {
                    self.changed
                        .iter()
                        .find(|(k, _)| k == p)
                        .map(|(_, seq)| *seq)
                })
                .max()
                .unwrap_or(self.created_seq)
                .max(self.created_seq),
        }
    }

    /// The object as a response shows it: the selected (or default) properties, `null` for
    /// those never set. Passwords are never returned.
    pub fn render(&self, select: Option<&[String]>) -> Map<String, Value> {
        let mut out = Map::new();
        let mut put = |name: &str| {
            let value = if name == "passwordProfile" {
                Value::Null
            } else {
                self.props
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| unset_value(self.kind, name))
            };
            out.insert(name.to_owned(), value);
        };
        match select {
            Some(props) => {
                for p in props {
                    put(p);
                }
            }
            None => {
                for p in self.kind.default_properties() {
                    put(p);
                }
            }
        }
        out.insert("id".to_owned(), Value::String(self.id.clone()));
        out
    }

    /// The properties changed after `since`, or `None` when the object itself is newer
    /// (then everything is new).
    pub fn changed_after(&self, since: u64) -> Option<Vec<&'static str>> {
        if self.created_seq > since {
            return None;
        }
        Some(
            self.changed
                .iter()
                .filter(|(_, seq)| *seq > since)
                .map(|(name, _)| *name)
                .collect(),
        )
    }

    fn touch(&mut self, property: &str, seq: u64) {
        match self.changed.iter_mut().find(|(k, _)| *k == property) {
            Some((_, at)) => *at = seq,
            None => self.changed.push((crate::props::intern(property), seq)),
        }
        self.last_change = seq;
    }
}

/// What selects objects of a collection: `$filter` and `$search`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Selection<'a> {
    pub filter: Option<&'a Filter>,
    pub search: Option<&'a Search>,
}

impl Selection<'_> {
    fn matches(&self, props: &Props) -> bool {
        self.filter.is_none_or(|f| f.matches(props)) && self.search.is_none_or(|s| s.matches(props))
    }
}

/// Why an object left the directory, as delta's `@removed.reason` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovedReason {
    /// Soft-deleted: still restorable from deleted items.
    Changed,
    /// Permanently deleted.
    Deleted,
}

impl RemovedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RemovedReason::Changed => "changed",
            RemovedReason::Deleted => "deleted",
        }
    }
}

#[derive(Debug, Clone)]
struct Tombstone {
    id: String,
    kind: Kind,
    seq: u64,
    reason: RemovedReason,
}

/// Where a delta round stands; encoded into `$skiptoken` and `$deltatoken`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeltaCursor {
    /// True in the initial round, which lists every object.
    pub initial: bool,
    /// Changes after this sequence number are reported.
    pub since: u64,
    /// The last sequence number this round covers (fixed when the round starts).
    pub upto: u64,
    /// Paging position: created_seq (initial round) or change seq (later rounds).
    pub after: u64,
}

/// One entry of a delta page.
#[derive(Debug)]
pub enum DeltaEntry<'a> {
    Object(&'a DirObject),
    Removed { id: String, reason: RemovedReason },
}

/// One page of a delta round: either a cursor for the next page or the `since` of the
/// next round's delta link.
#[derive(Debug)]
pub struct DeltaPage<'a> {
    /// Each entry with the sequence number that orders it in this round.
    pub entries: Vec<(u64, DeltaEntry<'a>)>,
    pub next: Option<DeltaCursor>,
    pub next_round_since: u64,
}

/// One membership change, kept for `members@delta`.
#[derive(Debug, Clone)]
struct MemberChange {
    group: String,
    member: String,
    member_kind: Kind,
    seq: u64,
    added: bool,
}

/// A member as `members@delta` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDelta {
    pub id: String,
    pub kind: Kind,
    /// False when the member left the group (or was deleted).
    pub present: bool,
}

/// Live objects by id. Boxed: a million-user table then holds pointers, not 112-byte
/// objects, in its (at most half full) buckets.
#[derive(Debug, Default)]
struct Objects(HashMap<String, Box<DirObject>>);

impl Objects {
    fn get(&self, id: &str) -> Option<&DirObject> {
        self.0.get(id).map(|b| &**b)
    }

    fn get_mut(&mut self, id: &str) -> Option<&mut DirObject> {
        self.0.get_mut(id).map(|b| &mut **b)
    }

    fn contains_key(&self, id: &str) -> bool {
        self.0.contains_key(id)
    }

    fn remove(&mut self, id: &str) -> Option<DirObject> {
        self.0.remove(id).map(|b| *b)
    }

    fn insert(&mut self, id: String, object: DirObject) -> &mut DirObject {
        self.0.entry(id).insert_entry(Box::new(object)).into_mut()
    }
}

impl<Q: AsRef<str> + ?Sized> std::ops::Index<&Q> for Objects {
    type Output = DirObject;

    fn index(&self, id: &Q) -> &DirObject {
        &self.0[id.as_ref()]
    }
}

/// The tenant's directory.
#[derive(Debug)]
pub struct Directory {
    member_log: Vec<MemberChange>,
    /// user id → manager id.
    managers: HashMap<String, String>,
    /// The groups a soft-deleted user was a direct member of, given back on restore.
    deleted_memberships: HashMap<String, Vec<String>>,
    /// Manager changes (user, manager, seq, set or removed), kept for `manager@delta`.
    manager_log: Vec<(String, String, u64, bool)>,
    /// Verified domains; the first is the initial `*.onmicrosoft.com` one.
    verified_domains: Vec<String>,
    /// Domains added but not verified yet (no user can use them).
    unverified_domains: Vec<String>,
    seq: u64,
    objects: Objects,
    order: HashMap<Kind, BTreeMap<u64, String>>,
    upn_index: HashMap<String, String>,
    nickname_index: HashMap<(Kind, String), String>,
    members: HashMap<String, Vec<String>>,
    /// group id → owner ids.
    owners: HashMap<String, Vec<String>>,
    /// Directory extensions registered on the application.
    extensions: Vec<ExtensionProperty>,
    role_assignments: Vec<RoleAssignment>,
    deleted: HashMap<String, DirObject>,
    tombstones: Vec<Tombstone>,
}

impl Directory {
    pub fn new(verified_domains: Vec<String>) -> Self {
        Self {
            verified_domains,
            unverified_domains: Vec::new(),
            seq: 0,
            objects: Objects::default(),
            order: HashMap::new(),
            upn_index: HashMap::new(),
            nickname_index: HashMap::new(),
            members: HashMap::new(),
            owners: HashMap::new(),
            extensions: Vec::new(),
            role_assignments: Vec::new(),
            deleted: HashMap::new(),
            tombstones: Vec::new(),
            member_log: Vec::new(),
            managers: HashMap::new(),
            manager_log: Vec::new(),
            deleted_memberships: HashMap::new(),
        }
    }

    /// `PUT /users/{id}/manager/$ref`.
    pub fn set_manager(&mut self, user: &str, manager: &str) -> Result<(), GraphError> {
        let user_id = self.get(Kind::User, user)?.id.clone();
        let manager_id = manager.to_lowercase();
        if !self.objects.contains_key(&manager_id) {
            return Err(GraphError::not_found(manager));
        }
        if self.managers.get(&user_id) == Some(&manager_id) {
            return Ok(());
        }
        self.managers.insert(user_id.clone(), manager_id.clone());
        let seq = self.bump();
        self.manager_log
            .push((user_id.clone(), manager_id, seq, true));
        if let Some(u) = self.objects.get_mut(&user_id) {
            u.touch("manager", seq);
        }
        Ok(())
    }

    /// `GET /users/{id}/manager`.
    pub fn manager(&self, user: &str) -> Result<&DirObject, GraphError> {
        let user_id = &self.get(Kind::User, user)?.id;
        self.managers
            .get(user_id)
            .and_then(|m| self.objects.get(m))
            .ok_or_else(|| GraphError::not_found("manager"))
    }

    /// `DELETE /users/{id}/manager/$ref`.
    pub fn remove_manager(&mut self, user: &str) -> Result<(), GraphError> {
        let user_id = self.get(Kind::User, user)?.id.clone();
        let Some(former) = self.managers.remove(&user_id) else {
            return Err(GraphError::not_found("manager"));
        };
        let seq = self.bump();
        self.manager_log.push((user_id.clone(), former, seq, false));
        if let Some(u) = self.objects.get_mut(&user_id) {
            u.touch("manager", seq);
        }
        Ok(())
    }

    /// `GET /users/{id}/directReports`, in creation order.
    pub fn direct_reports(&self, user: &str) -> Result<Vec<&DirObject>, GraphError> {
        let manager_id = &self.get(Kind::User, user)?.id;
        let mut reports: Vec<&DirObject> = self
            .managers
            .iter()
            .filter(|(_, m)| *m == manager_id)
            .filter_map(|(u, _)| self.objects.get(u))
            .collect();
        reports.sort_by_key(|o| o.created_seq);
        Ok(reports)
    }

    fn log_member(&mut self, group: &str, member: &str, seq: u64, added: bool) {
        let member_kind = self
            .objects
            .get(member)
            .or_else(|| self.deleted.get(member))
            .map_or(Kind::User, |o| o.kind);
        self.member_log.push(MemberChange {
            group: group.to_owned(),
            member: member.to_owned(),
            member_kind,
            seq,
            added,
        });
    }

    /// `members@delta` of a group: every current member in an initial round, otherwise the
    /// last change of each member within `(since, upto]`.
    pub fn members_delta(&self, group: &str, cursor: DeltaCursor) -> Vec<MemberDelta> {
        if cursor.initial {
            return self
                .members
                .get(group)
                .into_iter()
                .flatten()
                .filter_map(|m| self.objects.get(m))
                .map(|o| MemberDelta {
                    id: o.id.clone(),
                    kind: o.kind,
                    present: true,
                })
                .collect();
        }
        let mut out: Vec<MemberDelta> = Vec::new();
        for c in self
            .member_log
            .iter()
            .filter(|c| c.group == group && c.seq > cursor.since && c.seq <= cursor.upto)
        {
            out.retain(|d| d.id != c.member);
            out.push(MemberDelta {
                id: c.member.clone(),
                kind: c.member_kind,
                present: c.added,
            });
        }
        out
    }

    pub fn user_count(&self) -> usize {
        self.order.get(&Kind::User).map_or(0, BTreeMap::len)
    }

    /// The current change sequence number (a new delta round starts here).
    pub fn current_seq(&self) -> u64 {
        self.seq
    }

    fn bump(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    // ---- users ----------------------------------------------------------------------

    /// `POST /users`.
    pub fn create_user(
        &mut self,
        body: Map<String, Value>,
        id: String,
        now: Timestamp,
    ) -> Result<&DirObject, GraphError> {
        check_payload(Kind::User, &body, USER_READ_ONLY)?;
        self.check_extension_values(Kind::User, &body)?;
        self.check_extension_limit(None, &body)?;
        for required in [
            "accountEnabled",
            "displayName",
            "mailNickname",
            "userPrincipalName",
            "passwordProfile",
        ] {
            if body.get(required).is_none_or(Value::is_null) {
                return Err(GraphError::invalid_property_value(required, "User"));
            }
        }
        if body["passwordProfile"]
            .get("password")
            .is_none_or(Value::is_null)
        {
            return Err(GraphError::invalid_property_value(
                "passwordProfile",
                "User",
            ));
        }
        let upn = body["userPrincipalName"].as_str().unwrap_or_default();
        self.check_upn(upn, None)?;
        let nickname = body["mailNickname"].as_str().unwrap_or_default();
        self.check_nickname(Kind::User, nickname, None)?;

        let mut body = body;
        let password = take_password(&mut body);
        // Unset properties (nulls, empty collections) are not stored: rendering fills
        // them in from the schema.
        let mut props = Props::from(body);
        props.insert("id", json!(id));
        props.insert("createdDateTime", json!(graph_datetime(now)));
        props.insert_default("userType", || json!("Member"));
        Ok(self.insert(Kind::User, id, props, password))
    }

    fn insert(
        &mut self,
        kind: Kind,
        id: String,
        props: Props,
        password: Option<Box<str>>,
    ) -> &DirObject {
        let seq = self.bump();
        if let Some(upn) = props.get("userPrincipalName").and_then(Value::as_str) {
            self.upn_index.insert(upn.to_lowercase(), id.clone());
        }
        if let Some(nick) = props.get("mailNickname").and_then(Value::as_str)
            && (kind == Kind::User || is_unified(props.get("groupTypes")))
        {
            self.nickname_index
                .insert((kind, nick.to_lowercase()), id.clone());
        }
        self.order.entry(kind).or_default().insert(seq, id.clone());
        let object = DirObject {
            id: id.clone(),
            kind,
            created_seq: seq,
            props,
            password,
            changed: Vec::new(),
            last_change: seq,
        };
        self.objects.insert(id, object)
    }

    fn check_upn(&self, upn: &str, current: Option<&str>) -> Result<(), GraphError> {
        let Some((local, domain)) = upn.split_once('@') else {
            return Err(GraphError::invalid_property_value(
                "userPrincipalName",
                "User",
            ));
        };
        let local_ok = !local.is_empty()
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "'.-_!#^~".contains(c));
        if !local_ok || domain.contains('@') {
            return Err(GraphError::invalid_property_value(
                "userPrincipalName",
                "User",
            ));
        }
        if !self
            .verified_domains
            .iter()
            .any(|d| d.eq_ignore_ascii_case(domain))
        {
            return Err(GraphError::bad_request(
                "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.",
            ));
        }
        match self.upn_index.get(&upn.to_lowercase()) {
            Some(owner) if Some(owner.as_str()) != current => {
                Err(GraphError::object_conflict("userPrincipalName"))
            }
            _ => Ok(()),
        }
    }

    fn check_nickname(
        &self,
        kind: Kind,
        nickname: &str,
        current: Option<&str>,
    ) -> Result<(), GraphError> {
        match self.nickname_index.get(&(kind, nickname.to_lowercase())) {
            Some(owner) if Some(owner.as_str()) != current => {
                Err(GraphError::object_conflict("mailNickname"))
            }
            _ => Ok(()),
        }
    }

    /// Adds a user as directory synchronization would, read-only properties included
    /// (`onPremisesSyncEnabled`, `onPremises*`, `proxyAddresses`…), for seeding a tenant.
    /// Types and uniqueness are still checked.
    pub fn seed_user(
        &mut self,
        body: Map<String, Value>,
        id: String,
        now: Timestamp,
    ) -> Result<&DirObject, GraphError> {
        check_payload(Kind::User, &body, &["id"])?;
        self.check_extension_values(Kind::User, &body)?;
        for required in ["displayName", "userPrincipalName"] {
            if body.get(required).is_none_or(Value::is_null) {
                return Err(GraphError::invalid_property_value(required, "User"));
            }
        }
        let upn = body["userPrincipalName"].as_str().unwrap_or_default();
        self.check_upn(upn, None)?;
        if let Some(nick) = body.get("mailNickname").and_then(Value::as_str) {
            self.check_nickname(Kind::User, nick, None)?;
        }
        let mut body = body;
        let password = take_password(&mut body);
        let mut props = Props::from(body);
        props.insert("id", json!(id));
        props.insert_default("createdDateTime", || json!(graph_datetime(now)));
        props.insert("deletedDateTime", Value::Null);
        props.insert_default("accountEnabled", || json!(true));
        props.insert_default("userType", || json!("Member"));
        Ok(self.insert(Kind::User, id, props, password))
    }

    /// Adds a group as directory synchronization would (`onPremisesSyncEnabled`,
    /// `onPremisesSecurityIdentifier`… allowed), with `members` given as a list of ids.
    /// A synced group's membership and names are then read-only through Graph.
    pub fn seed_group(
        &mut self,
        mut body: Map<String, Value>,
        id: String,
        security_identifier: String,
        now: Timestamp,
    ) -> Result<&DirObject, GraphError> {
        let members: Vec<String> = match body.remove("members") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(ids)) => ids
                .iter()
                .map(|m| {
                    m.as_str().map(str::to_lowercase).ok_or_else(|| {
                        GraphError::odata_bad_request("'members' must hold object ids.")
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(GraphError::odata_bad_request(
                    "'members' must hold object ids.",
                ));
            }
        };
        check_payload(Kind::Group, &body, &["id"])?;
        self.check_extension_values(Kind::Group, &body)?;
        if body.get("displayName").is_none_or(Value::is_null) {
            return Err(GraphError::invalid_property_value("displayName", "Group"));
        }
        if let Some(missing) = members.iter().find(|m| !self.objects.contains_key(m)) {
            return Err(GraphError::not_found(missing));
        }
        let mut props = Props::default();
        for p in GROUP_DEFAULT_PROPERTIES {
            props.insert(p, Value::Null);
        }
        for list in [
            "groupTypes",
            "proxyAddresses",
            "resourceBehaviorOptions",
            "resourceProvisioningOptions",
        ] {
            props.insert(list, json!([]));
        }
        props.insert("mailEnabled", json!(false));
        props.insert("securityEnabled", json!(true));
        for (key, value) in body {
            props.insert(&key, value);
        }
        props.insert("id", json!(id));
        props.insert("createdDateTime", json!(graph_datetime(now)));
        props.insert("securityIdentifier", json!(security_identifier));
        let seq = self
            .insert(Kind::Group, id.clone(), props, None)
            .created_seq;
        for m in &members {
            self.log_member(&id, m, seq, true);
        }
        self.members.insert(id.clone(), members);
        Ok(&self.objects[&id])
    }

    /// Finds a live object of `kind` by id, or a user by userPrincipalName.
    pub fn get(&self, kind: Kind, key: &str) -> Result<&DirObject, GraphError> {
        let id = self
            .resolve(kind, key)
            .ok_or_else(|| GraphError::not_found(key))?;
        self.objects
            .get(&id)
            .filter(|o| o.kind == kind)
            .ok_or_else(|| GraphError::not_found(key))
    }

    fn resolve(&self, kind: Kind, key: &str) -> Option<String> {
        if kind == Kind::User && key.contains('@') {
            self.upn_index.get(&key.to_lowercase()).cloned()
        } else {
            Some(key.to_lowercase())
        }
    }

    /// One page of a collection in creation order, after the object created at `after`.
    pub fn list(
        &self,
        kind: Kind,
        query: Selection<'_>,
        after: u64,
        limit: usize,
    ) -> (Vec<&DirObject>, Option<u64>) {
        let Some(order) = self.order.get(&kind) else {
            return (Vec::new(), None);
        };
        let mut page = Vec::with_capacity(limit.min(1000));
        for id in order.range(after + 1..).map(|(_, id)| id) {
            let Some(object) = self.objects.get(id) else {
                continue;
            };
            if !query.matches(&object.props) {
                continue;
            }
            if page.len() == limit {
                let last: &DirObject = page[limit - 1];
                return (page, Some(last.created_seq));
            }
            page.push(object);
        }
        (page, None)
    }

    /// One page of a collection sorted by `$orderby` (case-insensitive; unset values
    /// last), after `offset` objects.
    pub fn list_sorted(
        &self,
        kind: Kind,
        query: Selection<'_>,
        order_by: &OrderBy,
        offset: usize,
        limit: usize,
    ) -> (Vec<&DirObject>, Option<usize>) {
        let mut all: Vec<(Option<String>, &DirObject)> = self
            .order
            .get(&kind)
            .into_iter()
            .flat_map(|o| o.values())
            .filter_map(|id| self.objects.get(id))
            .filter(|o| query.matches(&o.props))
            .map(|o| {
                let key = match o.props.get(&order_by.property) {
                    Some(Value::String(s)) => Some(s.to_lowercase()),
                    Some(Value::Null) | None => None,
                    Some(other) => Some(other.to_string()),
                };
                (key, o)
            })
            .collect();
        all.sort_by(|(a, x), (b, y)| {
            let by_value = match (a, b) {
                (Some(a), Some(b)) if order_by.descending => b.cmp(a),
                (Some(a), Some(b)) => a.cmp(b),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            };
            by_value.then(x.created_seq.cmp(&y.created_seq))
        });
        let rest = all.get(offset..).unwrap_or(&[]);
        let page: Vec<&DirObject> = rest.iter().take(limit).map(|(_, o)| *o).collect();
        let next = (rest.len() > limit).then_some(offset + limit);
        (page, next)
    }

    /// Counts the objects of `kind` that match (for `$count=true`).
    pub fn count(&self, kind: Kind, query: Selection<'_>) -> usize {
        self.order.get(&kind).map_or(0, |order| {
            order
                .values()
                .filter_map(|id| self.objects.get(id))
                .filter(|o| query.matches(&o.props))
                .count()
        })
    }

    /// `PATCH /users/{id}`: only the given properties change.
    pub fn update_user(&mut self, key: &str, patch: Map<String, Value>) -> Result<(), GraphError> {
        let user = self.get(Kind::User, key)?;
        let id = user.id.clone();
        let synced = user.props.get("onPremisesSyncEnabled") == Some(&Value::Bool(true));
        check_payload(Kind::User, &patch, USER_READ_ONLY)?;
        self.check_extension_values(Kind::User, &patch)?;
        self.check_extension_limit(Some(user), &patch)?;
        if synced
            && patch
                .keys()
                .any(|k| ON_PREMISES_MASTERED.contains(&k.as_str()))
        {
            return Err(GraphError::bad_request(
                "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.",
            ));
        }
        for not_clearable in [
            "displayName",
            "userPrincipalName",
            "mailNickname",
            "accountEnabled",
        ] {
            if patch.get(not_clearable).is_some_and(Value::is_null) {
                return Err(GraphError::invalid_property_value(not_clearable, "User"));
            }
        }
        if let Some(upn) = patch.get("userPrincipalName").and_then(Value::as_str) {
            self.check_upn(upn, Some(&id))?;
        }
        if let Some(nick) = patch.get("mailNickname").and_then(Value::as_str) {
            self.check_nickname(Kind::User, nick, Some(&id))?;
        }
        self.apply_patch(&id, patch);
        Ok(())
    }

    fn apply_patch(&mut self, id: &str, patch: Map<String, Value>) {
        let changes: Vec<(String, Value)> = {
            let Some(object) = self.objects.get(id) else {
                return;
            };
            patch
                .into_iter()
                .filter(|(k, v)| object.props.get(k).unwrap_or(&Value::Null) != v)
                .collect()
        };
        if changes.is_empty() {
            return;
        }
        let seq = self.bump();
        let kind = self.objects[id].kind;
        for (key, value) in changes {
            let old = self.objects[id].props.get(&key).cloned();
            match key.as_str() {
                "userPrincipalName" => {
                    if let Some(old) = old.as_ref().and_then(Value::as_str) {
                        self.upn_index.remove(&old.to_lowercase());
                    }
                    if let Some(new) = value.as_str() {
                        self.upn_index.insert(new.to_lowercase(), id.to_owned());
                    }
                }
                "mailNickname" if self.nickname_index.values().any(|v| v == id) => {
                    if let Some(old) = old.as_ref().and_then(Value::as_str) {
                        self.nickname_index.remove(&(kind, old.to_lowercase()));
                    }
                    if let Some(new) = value.as_str() {
                        self.nickname_index
                            .insert((kind, new.to_lowercase()), id.to_owned());
                    }
                }
                _ => {}
            }
            if let Some(object) = self.objects.get_mut(id) {
                object.props.insert(&key, value);
                object.touch(&key, seq);
            }
        }
    }

    /// `DELETE /users/{id}`: the user moves to deleted items (restorable), leaves its
    /// groups, and delta reports it as removed with reason `changed`.
    pub fn delete_user(&mut self, key: &str, now: Timestamp) -> Result<(), GraphError> {
        let id = self.get(Kind::User, key)?.id.clone();
        let seq = self.bump();
        let mut object = self.objects.remove(&id).expect("resolved above");
        if let Some(order) = self.order.get_mut(&Kind::User) {
            order.remove(&object.created_seq);
        }
        object
            .props
            .insert("deletedDateTime", json!(graph_datetime(now)));
        let groups: Vec<String> = self
            .members
            .iter()
            .filter(|(_, m)| m.contains(&id))
            .map(|(g, _)| g.clone())
            .collect();
        if !groups.is_empty() {
            self.deleted_memberships.insert(id.clone(), groups);
        }
        self.leave_all_groups(&id, seq);
        // The deleted user's reports lose their manager.
        let reports: Vec<String> = self
            .managers
            .iter()
            .filter(|(_, m)| **m == id)
            .map(|(u, _)| u.clone())
            .collect();
        for report in reports {
            self.managers.remove(&report);
            self.manager_log
                .push((report.clone(), id.clone(), seq, false));
            if let Some(u) = self.objects.get_mut(&report) {
                u.touch("manager", seq);
            }
        }
        self.tombstones.push(Tombstone {
            id: id.clone(),
            kind: Kind::User,
            seq,
            reason: RemovedReason::Changed,
        });
        // A soft-deleted user keeps its userPrincipalName: a new user with the same
        // name still conflicts until the deleted one is purged.
        self.deleted.insert(id, object);
        Ok(())
    }

    /// The soft-deleted users, oldest first.
    pub fn deleted_users(&self) -> Vec<&DirObject> {
        let mut users: Vec<&DirObject> = self
            .deleted
            .values()
            .filter(|o| o.kind == Kind::User)
            .collect();
        users.sort_by_key(|o| o.created_seq);
        users
    }

    /// A soft-deleted object by id.
    pub fn deleted_item(&self, id: &str) -> Result<&DirObject, GraphError> {
        self.deleted
            .get(&id.to_lowercase())
            .ok_or_else(|| GraphError::not_found(id))
    }

    /// `POST /directory/deletedItems/{id}/restore`: the object comes back with its id,
    /// properties and group memberships, and delta reports it again.
    pub fn restore(&mut self, id: &str) -> Result<&DirObject, GraphError> {
        let key = id.to_lowercase();
        let Some(mut object) = self.deleted.remove(&key) else {
            return Err(GraphError::not_found(id));
        };
        let seq = self.bump();
        object.props.insert("deletedDateTime", Value::Null);
        let names: Vec<&'static str> = object.props.keys().collect();
        for name in names {
            object.touch(name, seq);
        }
        self.order
            .entry(object.kind)
            .or_default()
            .insert(object.created_seq, key.clone());
        self.objects.insert(key.clone(), object);
        // Soft deletion keeps the user's memberships; restoring gives back those in
        // groups that still exist.
        for group in self.deleted_memberships.remove(&key).unwrap_or_default() {
            if !self.objects.contains_key(&group) {
                continue;
            }
            let list = self.members.entry(group.clone()).or_default();
            if list.contains(&key) {
                continue;
            }
            list.push(key.clone());
            self.log_member(&group, &key, seq, true);
            if let Some(g) = self.objects.get_mut(&group) {
                g.touch("members", seq);
            }
            self.membership_changed(&group, &key);
        }
        Ok(&self.objects[&key])
    }

    /// `DELETE /directory/deletedItems/{id}`: gone for good, its names free again, and
    /// delta reports reason `deleted`.
    pub fn purge(&mut self, id: &str) -> Result<(), GraphError> {
        let key = id.to_lowercase();
        let Some(object) = self.deleted.remove(&key) else {
            return Err(GraphError::not_found(id));
        };
        self.deleted_memberships.remove(&key);
        if let Some(upn) = object
            .props
            .get("userPrincipalName")
            .and_then(Value::as_str)
        {
            self.upn_index.remove(&upn.to_lowercase());
        }
        if let Some(nick) = object.props.get("mailNickname").and_then(Value::as_str) {
            let index_key = (object.kind, nick.to_lowercase());
            if self.nickname_index.get(&index_key) == Some(&key) {
                self.nickname_index.remove(&index_key);
            }
        }
        let seq = self.bump();
        self.tombstones.push(Tombstone {
            id: key,
            kind: object.kind,
            seq,
            reason: RemovedReason::Deleted,
        });
        Ok(())
    }

    fn leave_all_groups(&mut self, member: &str, seq: u64) {
        self.role_assignments.retain(|a| a.principal_id != member);
        for owners in self.owners.values_mut() {
            owners.retain(|o| o != member);
        }
        let groups: Vec<String> = self
            .members
            .iter()
            .filter(|(_, m)| m.iter().any(|x| x == member))
            .map(|(g, _)| g.clone())
            .collect();
        for g in groups {
            if let Some(list) = self.members.get_mut(&g) {
                list.retain(|x| x != member);
            }
            self.log_member(&g, member, seq, false);
            if let Some(group) = self.objects.get_mut(&g) {
                group.touch("members", seq);
            }
        }
    }

    // ---- groups ---------------------------------------------------------------------

    /// `POST /groups`. Only security groups and Microsoft 365 groups can be created;
    /// Graph refuses mail-enabled security groups and distribution groups.
    pub fn create_group(
        &mut self,
        mut body: Map<String, Value>,
        id: String,
        security_identifier: String,
        now: Timestamp,
    ) -> Result<&DirObject, GraphError> {
        let members = take_binds(&mut body, "members@odata.bind")?;
        let owners = take_binds(&mut body, "owners@odata.bind")?;
        if members.len() + owners.len() > MAX_BINDS_PER_REQUEST {
            return Err(GraphError::bad_request(format!(
                "A maximum of {MAX_BINDS_PER_REQUEST} relationships can be added in a single request."
            )));
        }
        check_payload(Kind::Group, &body, GROUP_READ_ONLY)?;
        self.check_extension_values(Kind::Group, &body)?;
        self.check_extension_limit(None, &body)?;
        for required in [
            "displayName",
            "mailEnabled",
            "mailNickname",
            "securityEnabled",
        ] {
            if body.get(required).is_none_or(Value::is_null) {
                return Err(GraphError::invalid_property_value(required, "Group"));
            }
        }
        let unified = is_unified(body.get("groupTypes"));
        let mail_enabled = body["mailEnabled"].as_bool().unwrap_or(false);
        if !unified && mail_enabled {
            return Err(GraphError::bad_request(
                "Creating mail-enabled security groups or distribution groups is not supported through the Microsoft Graph groups API. Use Exchange Online instead.",
            ));
        }
        let nickname = body["mailNickname"].as_str().unwrap_or_default().to_owned();
        if unified {
            self.check_nickname(Kind::Group, &nickname, None)?;
        }
        for m in members.iter().chain(owners.iter()) {
            if !self.objects.contains_key(m) {
                return Err(GraphError::not_found(m));
            }
        }

        let created = json!(graph_datetime(now));
        let mut props = Props::default();
        for p in GROUP_DEFAULT_PROPERTIES {
            props.insert(p, Value::Null);
        }
        for list in [
            "groupTypes",
            "proxyAddresses",
            "resourceBehaviorOptions",
            "resourceProvisioningOptions",
            "onPremisesProvisioningErrors",
        ] {
            props.insert(list, json!([]));
        }
        for (key, value) in body {
            props.insert(&key, value);
        }
        props.insert("id", json!(id));
        props.insert("createdDateTime", created.clone());
        props.insert("renewedDateTime", created);
        props.insert("securityIdentifier", json!(security_identifier));
        if unified {
            let domain = self.verified_domains.first().cloned().unwrap_or_default();
            let mail = format!("{nickname}@{domain}");
            props.insert("proxyAddresses", json!([format!("SMTP:{mail}")]));
            props.insert("mail", json!(mail));
            if props.get("visibility").is_none_or(Value::is_null) {
                props.insert("visibility", json!("Public"));
            }
        }
        let seq = self
            .insert(Kind::Group, id.clone(), props, None)
            .created_seq;
        for m in &members {
            self.log_member(&id, m, seq, true);
        }
        self.members.insert(id.clone(), members);
        if !owners.is_empty() {
            self.owners.insert(id.clone(), owners);
        }
        Ok(&self.objects[&id])
    }

    /// `PATCH /groups/{id}`.
    pub fn update_group(&mut self, key: &str, patch: Map<String, Value>) -> Result<(), GraphError> {
        let mut patch = patch;
        let id = self.get(Kind::Group, key)?.id.clone();
        let members = take_binds(&mut patch, "members@odata.bind")?;
        let owners = take_binds(&mut patch, "owners@odata.bind")?;
        if members.len() + owners.len() > MAX_BINDS_PER_REQUEST {
            return Err(GraphError::bad_request(format!(
                "A maximum of {MAX_BINDS_PER_REQUEST} relationships can be added in a single request."
            )));
        }
        if (!members.is_empty()
            || patch
                .keys()
                .any(|k| GROUP_ON_PREMISES_MASTERED.contains(&k.as_str())))
            && self.is_synced(&id)
        {
            return Err(on_premises_mastered());
        }
        check_payload(Kind::Group, &patch, GROUP_READ_ONLY)?;
        self.check_extension_values(Kind::Group, &patch)?;
        self.check_extension_limit(self.objects.get(&id), &patch)?;
        if patch.get("displayName").is_some_and(Value::is_null) {
            return Err(GraphError::invalid_property_value("displayName", "Group"));
        }
        // All or nothing: one bad reference fails the whole request.
        let current = self.members.get(&id).cloned().unwrap_or_default();
        for (i, m) in members.iter().enumerate() {
            if !self.objects.contains_key(m) {
                return Err(GraphError::not_found(m));
            }
            if current.contains(m) {
                return Err(already_member());
            }
            if members[..i].contains(m) {
                return Err(GraphError::bad_request(format!(
                    "Object '[ResourceType={},Id={m}]' referenced from '[ResourceType=Group,Id={id}]' can only be present once as an add/remove change.",
                    self.objects[m].kind.resource()
                )));
            }
        }
        let current_owners = self.owners.get(&id).cloned().unwrap_or_default();
        for (i, o) in owners.iter().enumerate() {
            if !self.objects.contains_key(o) {
                return Err(GraphError::not_found(o));
            }
            if current_owners.contains(o) || owners[..i].contains(o) {
                return Err(already_related("owners"));
            }
        }
        self.apply_patch(&id, patch);
        for m in members {
            self.add_member(&id, &m)?;
        }
        for o in owners {
            self.add_owner(&id, &o)?;
        }
        Ok(())
    }

    /// `POST /groups/{id}/members/$ref`.
    pub fn add_member(&mut self, group: &str, member: &str) -> Result<(), GraphError> {
        let group_id = self.get(Kind::Group, group)?.id.clone();
        self.refuse_if_synced(&group_id)?;
        let member_id = member.to_lowercase();
        if !self.objects.contains_key(&member_id) {
            return Err(GraphError::not_found(member));
        }
        let list = self.members.entry(group_id.clone()).or_default();
        if list.contains(&member_id) {
            return Err(already_member());
        }
        list.push(member_id.clone());
        let seq = self.bump();
        self.log_member(&group_id, &member_id, seq, true);
        if let Some(g) = self.objects.get_mut(&group_id) {
            g.touch("members", seq);
        }
        self.membership_changed(&group_id, &member_id);
        Ok(())
    }

    /// `DELETE /groups/{id}/members/{memberId}/$ref`.
    pub fn remove_member(&mut self, group: &str, member: &str) -> Result<(), GraphError> {
        let group_id = self.get(Kind::Group, group)?.id.clone();
        self.refuse_if_synced(&group_id)?;
        let member_id = member.to_lowercase();
        let list = self.members.entry(group_id.clone()).or_default();
        let Some(pos) = list.iter().position(|m| *m == member_id) else {
            if !self.objects.contains_key(&member_id) {
                return Err(GraphError::not_found(member));
            }
            return Err(GraphError::bad_request(
                "One or more removed object references do not exist for the following modified properties: 'members'.",
            ));
        };
        list.remove(pos);
        let seq = self.bump();
        self.log_member(&group_id, &member_id, seq, false);
        if let Some(g) = self.objects.get_mut(&group_id) {
            g.touch("members", seq);
        }
        self.membership_changed(&group_id, &member_id);
        Ok(())
    }

    fn is_synced(&self, id: &str) -> bool {
        self.objects
            .get(id)
            .is_some_and(|o| o.props.get("onPremisesSyncEnabled") == Some(&Value::Bool(true)))
    }

    fn refuse_if_synced(&self, group_id: &str) -> Result<(), GraphError> {
        if self.is_synced(group_id) {
            return Err(on_premises_mastered());
        }
        Ok(())
    }

    /// `POST /groups/{id}/owners/$ref`. Owners are users (or service principals); they are
    /// not members.
    pub fn add_owner(&mut self, group: &str, owner: &str) -> Result<(), GraphError> {
        let group_id = self.get(Kind::Group, group)?.id.clone();
        let owner_id = owner.to_lowercase();
        if !self
            .objects
            .get(&owner_id)
            .is_some_and(|o| o.kind == Kind::User)
        {
            return Err(GraphError::not_found(owner));
        }
        let list = self.owners.entry(group_id).or_default();
        if list.contains(&owner_id) {
            return Err(already_related("owners"));
        }
        list.push(owner_id);
        Ok(())
    }

    /// `DELETE /groups/{id}/owners/{ownerId}/$ref`. A Microsoft 365 group keeps at least
    /// one owner.
    pub fn remove_owner(&mut self, group: &str, owner: &str) -> Result<(), GraphError> {
        let group = self.get(Kind::Group, group)?;
        let group_id = group.id.clone();
        let unified = is_unified(group.props.get("groupTypes"));
        let owner_id = owner.to_lowercase();
        let list = self.owners.entry(group_id).or_default();
        let Some(pos) = list.iter().position(|o| *o == owner_id) else {
            if !self.objects.contains_key(&owner_id) {
                return Err(GraphError::not_found(owner));
            }
            return Err(GraphError::bad_request(
                "One or more removed object references do not exist for the following modified properties: 'owners'.",
            ));
        };
        if unified && list.len() == 1 {
            return Err(GraphError::bad_request(
                "The group must have at least one owner, hence this owner cannot be removed.",
            ));
        }
        list.remove(pos);
        Ok(())
    }

    /// A group's owners, in the order they were added.
    pub fn owners(&self, group: &str) -> Result<Vec<&DirObject>, GraphError> {
        let group_id = &self.get(Kind::Group, group)?.id;
        Ok(self
            .owners
            .get(group_id)
            .into_iter()
            .flatten()
            .filter_map(|o| self.objects.get(o))
            .collect())
    }

    /// `POST /invitations`: a guest user with `userType: Guest`, `creationType: Invitation`
    /// and `externalUserState: PendingAcceptance`, named `alias_domain#EXT#@{initial
    /// domain}`. Inviting an address again returns the existing guest.
    pub fn invite_guest(
        &mut self,
        email: &str,
        display_name: Option<&str>,
        user_type: &str,
        id: String,
        now: Timestamp,
    ) -> Result<&DirObject, GraphError> {
        let Some((local, domain)) = email.split_once('@').filter(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.contains('@') && !l.contains(char::is_whitespace)
        }) else {
            return Err(GraphError::bad_request(format!(
                "The invited user email address '{email}' is not valid."
            )));
        };
        let initial = self.verified_domains.first().cloned().unwrap_or_default();
        let alias = format!("{local}_{domain}").to_lowercase();
        let upn = format!("{alias}#EXT#@{initial}");
        if let Some(existing) = self.upn_index.get(&upn.to_lowercase()).cloned()
            && self.objects.contains_key(&existing)
        {
            return Ok(&self.objects[&existing]);
        }
        let mut props = Props::default();
        props.insert("id", json!(id));
        props.insert("accountEnabled", json!(true));
        props.insert("displayName", json!(display_name.unwrap_or(local)));
        props.insert("mail", json!(email));
        props.insert("mailNickname", json!(alias.replace(['#', '\''], "_")));
        props.insert("otherMails", json!([email]));
        props.insert("userPrincipalName", json!(upn));
        props.insert("userType", json!(user_type));
        props.insert("creationType", json!("Invitation"));
        props.insert("externalUserState", json!("PendingAcceptance"));
        props.insert(
            "externalUserStateChangeDateTime",
            json!(graph_datetime(now)),
        );
        props.insert("createdDateTime", json!(graph_datetime(now)));
        props.insert(
            "identities",
            json!([{"signInType": "userPrincipalName", "issuer": initial, "issuerAssignedId": upn}]),
        );
        Ok(self.insert(Kind::User, id, props, None))
    }

    /// The guest accepts its invitation (outside Graph: the emulator has no redemption
    /// page). Only an invited user still pending can.
    pub fn redeem_invitation(
        &mut self,
        user: &str,
        now: Timestamp,
    ) -> Result<&DirObject, GraphError> {
        let guest = self.get(Kind::User, user)?;
        let id = guest.id.clone();
        if guest.props.get("externalUserState").and_then(Value::as_str) != Some("PendingAcceptance")
        {
            return Err(GraphError::bad_request(format!(
                "User {id} has no pending invitation."
            )));
        }
        let mut patch = Map::new();
        patch.insert("externalUserState".to_owned(), json!("Accepted"));
        patch.insert(
            "externalUserStateChangeDateTime".to_owned(),
            json!(graph_datetime(now)),
        );
        self.apply_patch(&id, patch);
        Ok(&self.objects[&id])
    }

    /// One page of a group's direct members, after position `after`.
    pub fn members(
        &self,
        group: &str,
        after: usize,
        limit: usize,
    ) -> Result<(Vec<&DirObject>, Option<usize>), GraphError> {
        let group_id = self.get(Kind::Group, group)?.id.clone();
        let list = self
            .members
            .get(&group_id)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let rest = list.get(after..).unwrap_or(&[]);
        let page: Vec<&DirObject> = rest
            .iter()
            .take(limit)
            .filter_map(|m| self.objects.get(m))
            .collect();
        let next = (rest.len() > limit).then_some(after + limit);
        Ok((page, next))
    }

    /// The groups an object is a direct member of.
    pub fn member_of(&self, kind: Kind, key: &str) -> Result<Vec<&DirObject>, GraphError> {
        let id = self.get(kind, key)?.id.clone();
        let mut groups: Vec<&DirObject> = self
            .members
            .iter()
            .filter(|(_, m)| m.contains(&id))
            .filter_map(|(g, _)| self.objects.get(g))
            .collect();
        groups.sort_by_key(|g| g.created_seq);
        Ok(groups)
    }

    /// Groups an object belongs to directly or through nested groups, each once, nearest
    /// first (`transitiveMemberOf`).
    pub fn transitive_member_of(
        &self,
        kind: Kind,
        key: &str,
    ) -> Result<Vec<&DirObject>, GraphError> {
        let id = self.get(kind, key)?.id.clone();
        let mut seen: Vec<String> = Vec::new();
        let mut frontier = vec![id];
        while let Some(current) = frontier.pop() {
            let mut parents: Vec<&String> = self
                .members
                .iter()
                .filter(|(_, m)| m.contains(&current))
                .map(|(g, _)| g)
                .collect();
            parents.sort_by_key(|g| self.objects.get(g.as_str()).map(|o| o.created_seq));
            for g in parents {
                if !seen.contains(g) {
                    seen.push(g.clone());
                    frontier.insert(0, g.clone());
                }
            }
        }
        Ok(seen.iter().filter_map(|g| self.objects.get(g)).collect())
    }

    /// A group's members, direct and through nested groups (the nested groups included),
    /// each once (`transitiveMembers`).
    pub fn transitive_members(&self, group: &str) -> Result<Vec<&DirObject>, GraphError> {
        let id = self.get(Kind::Group, group)?.id.clone();
        let mut seen: Vec<String> = Vec::new();
        let mut queue = std::collections::VecDeque::from([id.clone()]);
        while let Some(current) = queue.pop_front() {
            for m in self.members.get(&current).into_iter().flatten() {
                if *m != id && !seen.contains(m) {
                    seen.push(m.clone());
                    if self.objects.get(m).is_some_and(|o| o.kind == Kind::Group) {
                        queue.push_back(m.clone());
                    }
                }
            }
        }
        Ok(seen.iter().filter_map(|m| self.objects.get(m)).collect())
    }

    /// Marks a user or group as mastered by directory synchronization
    /// (`onPremisesSyncEnabled: true`), as when an on-premises object is matched to it.
    pub fn mark_synchronized(&mut self, key: &str) -> Result<(), GraphError> {
        let id = self
            .get(Kind::Group, key)
            .or_else(|_| self.get(Kind::User, key))?
            .id
            .clone();
        let mut patch = Map::new();
        patch.insert("onPremisesSyncEnabled".to_owned(), json!(true));
        self.apply_patch(&id, patch);
        Ok(())
    }

    /// `DELETE /groups/{id}`. Security groups are deleted permanently (they cannot be
    /// restored), so delta reports reason `deleted`.
    pub fn delete_group(&mut self, key: &str) -> Result<(), GraphError> {
        let id = self.get(Kind::Group, key)?.id.clone();
        let seq = self.bump();
        let object = self.objects.remove(&id).expect("resolved above");
        if let Some(order) = self.order.get_mut(&Kind::Group) {
            order.remove(&object.created_seq);
        }
        if let Some(nick) = object.props.get("mailNickname").and_then(Value::as_str) {
            self.nickname_index
                .remove(&(Kind::Group, nick.to_lowercase()));
        }
        let former_members = self.members.remove(&id).unwrap_or_default();
        self.owners.remove(&id);
        self.leave_all_groups(&id, seq);
        // Licenses the members inherited from the group go with it.
        for member in &former_members {
            self.recompute_licenses(member, None);
        }
        self.tombstones.push(Tombstone {
            id,
            kind: Kind::Group,
            seq,
            reason: RemovedReason::Deleted,
        });
        Ok(())
    }
}

/// How an unset property renders: an empty collection or `null`, by the schema.
fn unset_value(kind: Kind, name: &str) -> Value {
    let collection = Schema::v1()
        .property(kind.entity(), name)
        .is_some_and(|p| p.ty.starts_with("Collection("));
    if collection { json!([]) } else { Value::Null }
}

/// Takes `passwordProfile` out of a create payload: the password is stored beside the
/// properties, since Graph never returns it.
fn take_password(body: &mut Map<String, Value>) -> Option<Box<str>> {
    body.remove("passwordProfile")?
        .get("password")?
        .as_str()
        .map(Box::from)
}

/// The skuIds in a user's `assignedLicenses`.
pub fn assigned_sku_ids(user: &DirObject) -> Vec<String> {
    user.props
        .get("assignedLicenses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| l["skuId"].as_str().map(str::to_owned))
        .collect()
}

fn is_unified(group_types: Option<&Value>) -> bool {
    group_types
        .and_then(Value::as_array)
        .is_some_and(|t| t.iter().any(|x| x.as_str() == Some("Unified")))
}

fn already_related(property: &str) -> GraphError {
    GraphError::bad_request(format!(
        "One or more added object references already exist for the following modified properties: '{property}'."
    ))
}

fn already_member() -> GraphError {
    GraphError::bad_request(
        "One or more added object references already exist for the following modified properties: 'members'.",
    )
}

/// Extracts the object ids from a `…@odata.bind` array of directoryObjects URLs.
fn take_binds(body: &mut Map<String, Value>, key: &str) -> Result<Vec<String>, GraphError> {
    let Some(value) = body.remove(key) else {
        return Ok(Vec::new());
    };
    let Value::Array(urls) = value else {
        return Err(GraphError::odata_bad_request(format!(
            "The property '{key}' must be a collection of entity reference URLs."
        )));
    };
    urls.iter()
        .map(|u| {
            u.as_str()
                .and_then(reference_id)
                .map(str::to_lowercase)
                .ok_or_else(|| {
                    GraphError::odata_bad_request(format!("Invalid object reference in '{key}'."))
                })
        })
        .collect()
}

/// The object id at the end of a reference URL such as
/// `https://graph.microsoft.com/v1.0/directoryObjects/{id}`.
pub fn reference_id(url: &str) -> Option<&str> {
    let tail = url.trim_end_matches('/').rsplit('/').next()?;
    let tail = tail
        .strip_prefix("directoryObjects('")
        .and_then(|t| t.strip_suffix("')"))
        .unwrap_or(tail);
    (!tail.is_empty() && tail.chars().all(|c| c.is_ascii_hexdigit() || c == '-')).then_some(tail)
}

/// Directory extension attributes are named `extension_{appId}_{name}`.
pub const EXTENSION_PREFIX: &str = "extension_";

/// Checks a request payload against the schema: known properties, right types, nothing
/// read-only.
fn check_payload(
    kind: Kind,
    body: &Map<String, Value>,
    read_only: &[&str],
) -> Result<(), GraphError> {
    let schema = Schema::v1();
    for (key, value) in body {
        // Directory extensions are checked against their registration by the caller.
        if key.starts_with("@odata.") || key.starts_with(EXTENSION_PREFIX) {
            continue;
        }
        let Some(property) = schema.property(kind.entity(), key) else {
            return Err(GraphError::odata_bad_request(format!(
                "Property '{key}' does not exist on type 'microsoft.graph.{}'. Make sure to only use property names that are defined by the type or mark the type as open type.",
                kind.entity()
            )));
        };
        if read_only.contains(&key.as_str()) {
            return Err(GraphError::bad_request(format!(
                "Property '{key}' is read-only and cannot be set."
            )));
        }
        match schema.check(&property.ty, property.nullable, value) {
            Ok(()) => {}
            Err(TypeMismatch::Literal { literal, expected }) => {
                return Err(GraphError::odata_bad_request(format!(
                    "Cannot convert the literal '{literal}' to the expected type '{expected}'."
                )));
            }
            Err(TypeMismatch::UnknownProperty { property, on_type }) => {
                return Err(GraphError::odata_bad_request(format!(
                    "Property '{property}' does not exist on type '{on_type}'. Make sure to only use property names that are defined by the type or mark the type as open type."
                )));
            }
            Err(TypeMismatch::NotNullable) => {
                return Err(GraphError::invalid_property_value(key, kind.resource()));
            }
        }
    }
    Ok(())
}

/// Checks `$select` names against the entity type.
pub fn check_select(kind: Kind, select: &[String]) -> Result<(), GraphError> {
    let schema = Schema::v1();
    for p in select {
        let known = p == "members"
            || p == "manager"
            || p.starts_with(EXTENSION_PREFIX)
            || schema.property(kind.entity(), p).is_some();
        if !known {
            return Err(GraphError::odata_bad_request(format!(
                "Could not find a property named '{p}' on type 'microsoft.graph.{}'.",
                kind.entity()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> Directory {
        Directory::new(vec!["contoso.onmicrosoft.com".to_owned()])
    }

    fn user_body(nick: &str) -> Map<String, Value> {
        let Value::Object(m) = json!({
            "accountEnabled": true, "displayName": nick, "mailNickname": nick,
            "userPrincipalName": format!("{nick}@contoso.onmicrosoft.com"),
            "passwordProfile": {"password": "xWwvJ]6NMw+bWH-d"}
        }) else {
            unreachable!()
        };
        m
    }

    fn now() -> Timestamp {
        Timestamp::from_second(1_700_000_000).unwrap()
    }

    #[test]
    fn duplicate_upn_is_an_object_conflict_even_after_soft_delete() {
        let mut d = dir();
        d.create_user(user_body("adele"), "a1".into(), now())
            .unwrap();
        d.delete_user("a1", now()).unwrap();
        let mut again = user_body("adele");
        again.insert("mailNickname".into(), json!("adele2"));
        let e = d.create_user(again, "a2".into(), now()).unwrap_err();
        assert_eq!(e.details[0].code, "ObjectConflict");
        assert_eq!(e.details[0].target, "userPrincipalName");
    }

    #[test]
    fn delta_reports_only_changes_to_selected_properties() {
        let mut d = dir();
        d.create_user(user_body("a"), "a1".into(), now()).unwrap();
        let since = d.current_seq();
        let select = vec!["displayName".to_owned()];
        let mut patch = Map::new();
        patch.insert("jobTitle".into(), json!("Engineer"));
        d.update_user("a1", patch).unwrap();
        let cursor = DeltaCursor {
            initial: false,
            since,
            upto: d.current_seq(),
            after: since,
        };
        assert!(
            d.delta(Kind::User, cursor, Some(&select), 10)
                .entries
                .is_empty()
        );
        assert_eq!(d.delta(Kind::User, cursor, None, 10).entries.len(), 1);
    }

    #[test]
    fn an_object_holds_at_most_100_extension_values() {
        use crate::extensions::{DataType, ExtensionProperty};
        let mut d = dir();
        let name = |i: usize| format!("extension_00_x{i}");
        for i in 0..=100 {
            d.register_extension(ExtensionProperty {
                id: format!("e{i}"),
                name: name(i),
                data_type: DataType::String,
                is_multi_valued: false,
                target_objects: vec!["User".to_owned()],
            })
            .unwrap();
        }
        let mut body = user_body("many");
        for i in 0..100 {
            body.insert(name(i), json!("v"));
        }
        d.create_user(body, "u1".into(), now()).unwrap();
        let mut one_more = Map::new();
        one_more.insert(name(100), json!("v"));
        assert!(d.update_user("u1", one_more.clone()).is_err());
        // Clearing one makes room for another.
        one_more.insert(name(0), Value::Null);
        d.update_user("u1", one_more).unwrap();
    }

    #[test]
    fn reference_ids_come_from_the_url_tail() {
        assert_eq!(
            reference_id("https://graph.microsoft.com/v1.0/directoryObjects/4f1c-00aa"),
            Some("4f1c-00aa")
        );
        assert_eq!(reference_id("nonsense url"), None);
    }
}
