//! The connector contract.
//!
//! A [`Connector`] reads one connected system: it discovers the schema, checks its health and
//! imports, page by page, fully or from a [`Watermark`]. Writing is a separate capability,
//! [`Exporter`], so a read-only source cannot be the target of an outbound rule.
//!
//! **No connector knows about another connector or about the store.** A connector returns
//! values; the engine decides what they mean.

pub mod contract;
mod error;
mod export;
mod import;

pub use error::ConnectorError;
pub use export::{Additions, ExportId, ExportOutcome, ExportRequest, ExportResult, Exporter};
pub use import::{
    ImportEntry, ImportMode, ImportPage, ImportProblem, ImportRequest, ImportedObject, PageCursor,
    Watermark,
};

use std::future::Future;

use model::Schema;

/// What a health check found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Health {
    /// One line per thing checked that passed (`read /srv/hr/employees.csv`).
    pub passed: Vec<String>,
    /// One line per problem; empty when healthy.
    pub problems: Vec<String>,
}

impl Health {
    pub fn is_healthy(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The read side of a connected system.
pub trait Connector: Send {
    /// The object types and attributes the system holds.
    fn schema(&mut self) -> impl Future<Output = Result<Schema, ConnectorError>> + Send;

    /// Reach, authenticate and check permissions, without changing anything.
    fn check(&mut self) -> impl Future<Output = Result<Health, ConnectorError>> + Send;

    /// Reads one page. The first call of an import passes no cursor; each page says whether
    /// more follow. A delta request may be answered with a full import (when the watermark
    /// is missing or expired): the first page's `mode` says which was served.
    fn import(
        &mut self,
        request: ImportRequest,
    ) -> impl Future<Output = Result<ImportPage, ConnectorError>> + Send;
}
