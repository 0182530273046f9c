//! The store contract and the embedded backend.
//!
//! The store keeps, per connector, the **connector space** (the last imported image of each
//! object, its link to an identity, its pending export), the **identity vault** (identities
//! with per-value lineage, a key index for joins, and their history), **watermarks** and the
//! **run history**. Every write goes through [`Store::commit`], which applies a whole
//! [`WriteBatch`] atomically: the engine decides what a consistent step is, the store makes it
//! all-or-nothing, so a process killed at any point leaves a state the next run converges from.
//!
//! The store holds values; it makes no sync decision.
//!
//! [`SqliteStore`] is the embedded backend (one file, WAL). [`contract`] is the suite every
//! backend passes; a backend's tests call it with a way to open stores by name.

pub mod contract;
mod records;
mod sqlite;

pub use records::*;
pub use sqlite::SqliteStore;

use model::{Anchor, AttributeName, ConnectorName, IdentityId, Timestamp};

/// A failure of the store itself. These stop a run: the store is the run's ground truth.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: {message}")]
    Open { path: String, message: String },
    #[error(
        "store schema version {found} is newer than this idsync understands ({supported}); upgrade idsync"
    )]
    TooNew { found: i64, supported: i64 },
    #[error("store: {0}")]
    Backend(String),
    #[error("store holds a record it cannot read ({what}): {message}")]
    Corrupt { what: String, message: String },
    /// A write names a record the store does not hold, where that is an error (finishing a
    /// run that was never begun).
    #[error("store has no {what}")]
    NotFound { what: String },
    /// The store refused a batch because it breaks an invariant (two objects of one connector
    /// with the same anchor). Nothing of the batch was applied; this is a bug in the caller.
    #[error("store refused {what}: {message}")]
    Refused { what: String, message: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The store contract. Reads are plain queries; every write goes through [`Store::commit`].
///
/// Paged reads take `after` (the last id of the previous page, or `None`) and `limit`, and
/// return records in ascending id order, so callers can stream millions of rows in bounded
/// memory. Reads by a list of ids return each stored record once, in ascending id order, and
/// leave out ids the store does not hold.
///
/// `store::contract` holds the suite every implementation must pass.
pub trait Store: Send {
    // --- ids ---------------------------------------------------------------------------

    /// Reserves `count` new identity ids. Ids are never reused, even if the batch that would
    /// have used them is never committed.
    fn allocate_identity_ids(&mut self, count: usize) -> Result<Vec<IdentityId>>;

    /// Reserves `count` new connector-space object ids.
    fn allocate_cs_ids(&mut self, count: usize) -> Result<Vec<CsId>>;

    // --- runs --------------------------------------------------------------------------

    /// Records the start of a run and returns its id.
    fn begin_run(&mut self, start: &RunStart) -> Result<RunId>;

    /// Records the end of a run with its report.
    fn finish_run(&mut self, run: RunId, end: &RunEnd) -> Result<()>;

    /// The most recent runs, newest first.
    fn runs(&self, limit: usize) -> Result<Vec<RunRecord>>;

    // --- connector spaces ----------------------------------------------------------------

    /// The stored watermark of a connector's last complete import.
    fn watermark(&self, connector: &ConnectorName) -> Result<Option<String>>;

    /// Anchor → (id, content hash) of every object of a connector that has an anchor: what a
    /// full import compares each row with. Placeholders (creates not yet confirmed) are left out.
    fn cs_digests(&self, connector: &ConnectorName) -> Result<Vec<CsDigest>>;

    fn cs_by_anchor(&self, connector: &ConnectorName, anchor: &Anchor) -> Result<Option<CsObject>>;

    fn cs_by_ids(&self, ids: &[CsId]) -> Result<Vec<CsObject>>;

    /// Objects of one connector marked dirty (changed since inbound sync last saw them).
    fn dirty_cs(
        &self,
        connector: &ConnectorName,
        after: Option<CsId>,
        limit: usize,
    ) -> Result<Vec<CsObject>>;

    /// Every connector-space object linked to one of these identities.
    fn cs_linked_to(&self, identities: &[IdentityId]) -> Result<Vec<CsObject>>;

    /// Objects of a connector that were deprovisioned (disabled, awaiting deletion).
    fn cs_deprovisioned(
        &self,
        connector: &ConnectorName,
        after: Option<CsId>,
        limit: usize,
    ) -> Result<Vec<CsObject>>;

    /// All objects of a connector, paged (for preview, show and checks).
    fn cs_page(
        &self,
        connector: &ConnectorName,
        after: Option<CsId>,
        limit: usize,
    ) -> Result<Vec<CsObject>>;

    /// How many objects a connector space holds.
    fn cs_count(&self, connector: &ConnectorName) -> Result<u64>;

    /// Objects of a connector whose attribute `attribute` has a value whose text is `value`,
    /// through the key index the writes maintain (see [`Write::PutCs`]).
    fn cs_find(
        &self,
        connector: &ConnectorName,
        attribute: &AttributeName,
        value: &str,
    ) -> Result<Vec<CsId>>;

    // --- the vault ----------------------------------------------------------------------

    fn identities(&self, ids: &[IdentityId]) -> Result<Vec<IdentityRecord>>;

    /// Identities whose key `attribute` has the text `value` (the join index).
    fn find_identities(&self, attribute: &AttributeName, value: &str) -> Result<Vec<IdentityId>>;

    /// Identities marked dirty (to be re-evaluated by outbound sync).
    fn dirty_identities(&self, after: Option<IdentityId>, limit: usize) -> Result<Vec<IdentityId>>;

    /// All identities, paged.
    fn identity_page(&self, after: Option<IdentityId>, limit: usize)
    -> Result<Vec<IdentityRecord>>;

    fn identity_count(&self) -> Result<u64>;

    /// The history of one identity, oldest first.
    fn identity_history(&self, id: IdentityId) -> Result<Vec<HistoryEntry>>;

    // --- pending exports -----------------------------------------------------------------

    /// Pending exports of a connector, paged by connector-space id; quarantined ones included.
    fn pending_exports(
        &self,
        connector: &ConnectorName,
        after: Option<CsId>,
        limit: usize,
    ) -> Result<Vec<PendingExport>>;

    /// Pending exports of a connector that are due at `now`: not in flight, and whose
    /// `next_attempt_at` is unset or not after `now`.
    fn due_exports(
        &self,
        connector: &ConnectorName,
        now: Timestamp,
        after: Option<CsId>,
        limit: usize,
    ) -> Result<Vec<PendingExport>>;

    /// Exports marked in flight: started but with no recorded outcome (the process died).
    fn in_flight_exports(&self, connector: &ConnectorName) -> Result<Vec<PendingExport>>;

    /// Every quarantined export, all connectors.
    fn quarantined(&self) -> Result<Vec<PendingExport>>;

    /// Counts of pending exports per connector and operation.
    fn pending_counts(&self) -> Result<Vec<PendingCount>>;

    // --- writes --------------------------------------------------------------------------

    /// Applies every write of the batch, or none of them.
    fn commit(&mut self, batch: WriteBatch) -> Result<()>;
}
