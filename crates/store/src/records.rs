//! The records the store keeps.

use model::vault::{AttributeValueChange, Identity};
use model::{
    Anchor, AttributeName, Attributes, ConnectorName, IdentityId, ObjectChange, ObjectType,
    RuleName, Timestamp,
};
use serde::{Deserialize, Serialize};

pub use model::RunId;

/// The id of one object in a connector space. Stable for the object's life in the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CsId(pub i64);

/// How a connector-space object is linked to an identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub identity: IdentityId,
    /// The rule that made the link: an inbound rule (join or projection) or an outbound rule
    /// (provisioning, or an outbound join of an existing account).
    pub rule: RuleName,
    pub direction: LinkDirection,
    pub at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkDirection {
    /// The object feeds the identity (a source).
    Inbound,
    /// The identity feeds the object (a target account).
    Outbound,
}

/// One object in a connector space.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsObject {
    pub id: CsId,
    pub connector: ConnectorName,
    /// `None` while a provisioned object is not yet created in its system (a placeholder).
    pub anchor: Option<Anchor>,
    pub object_type: ObjectType,
    /// The last imported image, plus what idsync exported since, until a confirming import.
    pub attributes: Attributes,
    /// A hash of the imported image, for cheap comparison with the next import.
    pub digest: u64,
    pub link: Option<Link>,
    /// Changed since inbound sync last processed it.
    pub dirty: bool,
    /// When an outbound rule deprovisioned it (disabled it); cleared when it comes back into scope.
    pub deprovisioned_at: Option<Timestamp>,
}

/// The digest of one anchored object, for comparing an import with the connector space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsDigest {
    pub id: CsId,
    pub anchor: Anchor,
    pub digest: u64,
}

/// One identity as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityRecord {
    pub identity: Identity,
    /// To be re-evaluated by outbound sync.
    pub dirty: bool,
}

/// A change to an identity, with the run that made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub identity: IdentityId,
    pub run: RunId,
    pub at: Timestamp,
    /// What happened: `projected by hr-people`, `joined hr/E1 by hr-people`, `updated`, `deleted`.
    pub event: String,
    pub changes: Vec<AttributeValueChange>,
}

/// Whether an export has been handed to the connector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportState {
    Pending,
    /// Handed to the connector; no outcome recorded yet. After a crash, the next confirming
    /// import decides whether it landed.
    InFlight,
}

/// Why one attribute of an export changes: the rule and the values before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeReason {
    pub rule: RuleName,
    pub attribute: Option<AttributeName>,
    pub old: Vec<model::Value>,
    pub new: Vec<model::Value>,
    /// A sentence for plans: `out of scope of entra-users: [active] is "False"`.
    pub note: Option<String>,
}

/// What an export does, for counts and the guard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Create,
    Update,
    /// An update that deprovisions (disables) an account.
    Disable,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Disable => "disable",
            Operation::Delete => "delete",
        }
    }
}

/// A change idsync wants to make to one connector-space object. At most one per object: a
/// newer outbound evaluation replaces it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingExport {
    pub cs_id: CsId,
    pub connector: ConnectorName,
    pub identity: Option<IdentityId>,
    pub anchor: Option<Anchor>,
    pub object_type: ObjectType,
    pub operation: Operation,
    pub change: ObjectChange,
    pub reasons: Vec<ChangeReason>,
    pub state: ExportState,
    /// Failed attempts so far.
    pub attempts: u32,
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    /// Set aside after repeated failures; retried on the backoff schedule, never blocking others.
    pub quarantined: bool,
    pub created_run: RunId,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingCount {
    pub connector: ConnectorName,
    pub operation: Operation,
    pub quarantined: bool,
    pub count: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStart {
    pub started_at: Timestamp,
    /// `run`, `preview`, `staging`.
    pub mode: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunEnd {
    pub finished_at: Timestamp,
    /// `ok`, `errors`, `stopped_by_guard`, `failed`.
    pub status: String,
    /// The run report, as the engine serialises it.
    pub report: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: RunId,
    pub start: RunStart,
    /// `None` while running, or if the process died during the run.
    pub end: Option<RunEnd>,
}

/// One write. See [`WriteBatch`].
#[derive(Clone, Debug)]
pub enum Write {
    /// Insert or replace a connector-space object (by id). `keys` replaces the object's entries
    /// in the connector-space key index (attribute, value text), used to find target objects
    /// by a unique attribute; pass the attributes join rules read.
    ///
    /// Anchors are unique within a connector: a put that gives an object the anchor another
    /// object of the same connector holds fails the whole batch ([`crate::StoreError::Refused`]).
    /// Placeholders (no anchor) never clash.
    PutCs {
        object: CsObject,
        keys: Vec<(AttributeName, String)>,
    },
    /// Delete a connector-space object, its keys and its pending export.
    DeleteCs(CsId),
    /// Clear the dirty mark of a connector-space object.
    CleanCs(CsId),
    /// Set (or cut) the link of a connector-space object and clear its dirty mark, leaving
    /// its image and keys as they are. The narrow form of `PutCs` that inbound sync uses
    /// for every joined or projected object.
    SetLink {
        id: CsId,
        link: Option<Link>,
    },
    /// Insert or replace an identity. `keys` replaces its entries in the join index.
    PutIdentity {
        record: IdentityRecord,
        keys: Vec<(AttributeName, String)>,
    },
    /// Delete an identity, its keys and its history.
    DeleteIdentity(IdentityId),
    /// Clear the dirty mark of an identity.
    CleanIdentity(IdentityId),
    /// Mark an identity dirty, for outbound sync.
    TouchIdentity(IdentityId),
    AppendHistory(HistoryEntry),
    /// Insert or replace the pending export of a connector-space object.
    PutExport(PendingExport),
    /// Remove the pending export of a connector-space object (done, or no longer wanted).
    DropExport(CsId),
    /// Mark a pending export in flight: handed to the connector, outcome not yet recorded.
    MarkInFlight(CsId),
    /// Store a connector's watermark (with the import data it covers, in the same batch).
    SetWatermark {
        connector: ConnectorName,
        watermark: Option<String>,
    },
}

/// Writes applied together or not at all, in order.
///
/// Writes that address a record the store does not hold (cleaning, touching, deleting or
/// dropping the export of an absent object) do nothing, so replaying a batch is harmless.
#[derive(Clone, Debug, Default)]
pub struct WriteBatch {
    pub writes: Vec<Write>,
}

impl WriteBatch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, write: Write) {
        self.writes.push(write);
    }

    pub fn len(&self) -> usize {
        self.writes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}
