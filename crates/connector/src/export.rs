use std::future::Future;
use std::time::Duration;

use model::{Anchor, ObjectChange, ObjectType};
use serde::{Deserialize, Serialize};

use crate::{Connector, ConnectorError};

/// How many objects a planned export gives each value of each counted attribute.
pub type Additions = std::collections::BTreeMap<(model::AttributeName, String), u64>;

/// Identifies one request within a batch, so outcomes can be matched to requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExportId(pub i64);

/// One object to change in the target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRequest {
    pub id: ExportId,
    pub object_type: ObjectType,
    /// The object's anchor; `None` for a create, where the system assigns it.
    pub anchor: Option<Anchor>,
    pub change: ObjectChange,
}

/// What happened to one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportResult {
    /// Done. For a create, the anchor the system gave the new object.
    Applied { anchor: Option<Anchor> },
    /// Some of it landed and some did not: a user was created but its license could not be
    /// assigned. The engine records what landed and keeps the rest pending, so that neither
    /// a repeated create nor a forgotten license follows.
    Partial {
        /// For a create, the anchor the new object got.
        anchor: Option<Anchor>,
        /// The attributes whose change did not land.
        unapplied: Vec<model::AttributeName>,
        reason: String,
    },
    /// Not done; may succeed later (busy, throttled, unreachable).
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Not done and will not succeed as it is (rejected by the target's rules).
    Permanent { reason: String },
    /// Not done because the target is still making something the change needs, on its own
    /// schedule (Exchange provisions a mailbox some time after a licence). Nothing failed:
    /// the engine tries again after `retry_after` without counting an attempt, so a wait
    /// never ends in quarantine, and the run report lists it as waiting, not as an error.
    Waiting {
        reason: String,
        retry_after: Duration,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportOutcome {
    pub id: ExportId,
    pub result: ExportResult,
}

/// The write side of a connected system. The connector classifies each outcome; the engine
/// owns retries, backoff and quarantine.
pub trait Exporter: Connector {
    /// The most requests the engine should pass in one call.
    fn batch_size(&self) -> usize;

    /// Applies a batch; returns exactly one outcome per request, in any order.
    fn export(
        &mut self,
        batch: Vec<ExportRequest>,
    ) -> impl Future<Output = Result<Vec<ExportOutcome>, ConnectorError>> + Send;

    /// Attributes whose values draw on a limited supply (licenses on seats): the engine
    /// counts how many of each value the planned export adds, and asks
    /// [`Exporter::capacity_problems`] before anything is sent.
    fn counted_attributes(&self) -> Vec<model::AttributeName> {
        Vec::new()
    }

    /// What the system cannot take of `additions` (attribute and value → how many objects
    /// get it), one sentence per shortage. The guard holds the export when there is any.
    fn capacity_problems(
        &mut self,
        additions: &Additions,
    ) -> impl Future<Output = Result<Vec<String>, ConnectorError>> + Send {
        let _ = additions;
        async { Ok(Vec::new()) }
    }

    /// Called once after the last batch of a run. File-drop targets write their file here;
    /// the next confirming import proves what landed.
    fn finish(&mut self) -> impl Future<Output = Result<(), ConnectorError>> + Send;
}
