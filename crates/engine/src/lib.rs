//! The sync pipeline of idsync.
//!
//! [`pipeline`] reads like the table of contents of a run: import → inbound sync → outbound
//! sync → guard → export. The stages in [`join`], [`inbound`], [`outbound`], [`diff`] and
//! [`guard`] are plain functions over values: no I/O, no clock, no store. Only the drivers
//! ([`pipeline`], [`import`], [`export`]) touch the store and the connectors.

pub mod clock;
pub mod connectors;
pub mod diff;
pub mod digest;
pub mod export;
pub mod guard;
pub mod import;
pub mod inbound;
pub mod join;
pub mod outbound;
pub mod pipeline;
pub mod plan;
pub mod report;
pub mod schema_check;
mod sync;
mod sync_inbound;
mod sync_outbound;

pub use clock::{Clock, FixedClock, SystemClock};
pub use pipeline::{Engine, RunMode, RunOptions};
pub use report::{RunOutcome, RunReport};

/// A failure of the run itself (not of one object: those go in the run report).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("connector {connector}: {message}")]
    Connector {
        connector: model::ConnectorName,
        message: String,
    },
}
