//! The run report: counts per connector and phase, and every per-object error.

use std::collections::BTreeMap;

use model::{ConnectorName, RunId, Timestamp};
use serde::{Deserialize, Serialize};

/// The most per-object errors a report keeps in full; the rest are counted.
const MAX_ERRORS_KEPT: usize = 1000;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    pub added: u64,
    pub updated: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub problems: u64,
    /// `full`, `delta`, or `skipped` when the connector failed.
    pub mode: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundCounts {
    pub projected: u64,
    pub joined: u64,
    pub updated: u64,
    pub disconnected: u64,
    pub unchanged: u64,
    /// Target objects recognised as an identity's account by an outbound rule's join.
    pub joined_outbound: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundCounts {
    pub creates: u64,
    pub updates: u64,
    pub disables: u64,
    pub deletes: u64,
    pub disconnects: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportCounts {
    pub applied: u64,
    pub retrying: u64,
    pub quarantined: u64,
    /// Held back by the guard or staging mode.
    pub held: u64,
    /// Waiting for the target to make something they need (a mailbox after a licence).
    #[serde(default)]
    pub waiting: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorReport {
    pub import: ImportCounts,
    pub inbound: InboundCounts,
    pub outbound: OutboundCounts,
    pub export: ExportCounts,
}

/// The phase in which a per-object error happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Import,
    Inbound,
    Outbound,
    Guard,
    Export,
}

/// One object that could not be processed, and why. The run went on without it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectError {
    pub phase: Phase,
    pub connector: ConnectorName,
    /// The object: `hr/E1001`, `employees.csv:14`, `I-42`.
    pub object: String,
    pub message: String,
}

impl std::fmt::Display for ObjectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} {} {}: {}",
            self.phase, self.connector, self.object, self.message
        )
    }
}

/// One export that waits for the target, with what it waits for. Not an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub connector: ConnectorName,
    pub object: String,
    pub reason: String,
    /// When the engine will try again.
    pub until: Timestamp,
}

/// What the guard held back, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub connector: ConnectorName,
    pub reason: String,
    pub deletes: u64,
    pub disables: u64,
}

/// How a run ended, which decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    Ok,
    /// Finished, with per-object errors.
    Errors,
    /// The guard held exports back.
    StoppedByGuard,
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Ok => "ok",
            RunOutcome::Errors => "errors",
            RunOutcome::StoppedByGuard => "stopped_by_guard",
        }
    }
}

/// How long one phase took, for operators and `idsync bench`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseTiming {
    pub phase: String,
    pub connector: Option<ConnectorName>,
    pub seconds: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub run: RunId,
    pub mode: String,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub connectors: BTreeMap<ConnectorName, ConnectorReport>,
    pub held: Vec<Held>,
    pub errors: Vec<ObjectError>,
    /// Errors beyond the ones kept in `errors`.
    pub errors_not_kept: u64,
    /// Exports waiting for the target (as many as `errors` keeps; the count is complete).
    #[serde(default)]
    pub waiting: Vec<Waiting>,
    /// Wall time per phase, in the order they ran.
    #[serde(default)]
    pub phases: Vec<PhaseTiming>,
}

impl RunReport {
    pub fn new(run: RunId, mode: &str, started_at: Timestamp) -> Self {
        RunReport {
            run,
            mode: mode.to_owned(),
            started_at,
            finished_at: None,
            connectors: BTreeMap::new(),
            held: Vec::new(),
            errors: Vec::new(),
            errors_not_kept: 0,
            waiting: Vec::new(),
            phases: Vec::new(),
        }
    }

    /// Records how long a phase took (measured by the driver, never read by the core).
    pub fn timed(
        &mut self,
        phase: &str,
        connector: Option<&ConnectorName>,
        since: std::time::Instant,
    ) {
        self.phases.push(PhaseTiming {
            phase: phase.to_owned(),
            connector: connector.cloned(),
            seconds: since.elapsed().as_secs_f64(),
        });
    }

    pub fn connector(&mut self, name: &ConnectorName) -> &mut ConnectorReport {
        self.connectors.entry(name.clone()).or_default()
    }

    pub fn error(
        &mut self,
        phase: Phase,
        connector: &ConnectorName,
        object: impl Into<String>,
        message: impl Into<String>,
    ) {
        let error = ObjectError {
            phase,
            connector: connector.clone(),
            object: object.into(),
            message: message.into(),
        };
        tracing::warn!(connector = %error.connector, object = %error.object, phase = ?phase, error = %error.message, "object not processed");
        if self.errors.len() < MAX_ERRORS_KEPT {
            self.errors.push(error);
        } else {
            self.errors_not_kept += 1;
        }
    }

    /// Records an export that waits for the target; the run still ends `ok`.
    pub fn waiting(&mut self, waiting: Waiting) {
        tracing::info!(connector = %waiting.connector, object = %waiting.object, reason = %waiting.reason, until = %waiting.until, "export waits for the target");
        self.connector(&waiting.connector).export.waiting += 1;
        if self.waiting.len() < MAX_ERRORS_KEPT {
            self.waiting.push(waiting);
        }
    }

    pub fn error_count(&self) -> u64 {
        self.errors.len() as u64 + self.errors_not_kept
    }

    pub fn outcome(&self) -> RunOutcome {
        if !self.held.is_empty() {
            RunOutcome::StoppedByGuard
        } else if self.error_count() > 0 {
            RunOutcome::Errors
        } else {
            RunOutcome::Ok
        }
    }
}
