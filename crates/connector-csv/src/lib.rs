//! The HR file connector: one CSV file is one connected system.
//!
//! As a source, [`CsvConnector`] imports the file in pages from one open reader: typed
//! columns, multi-valued cells, anchors from one or several columns. A bad row never stops
//! the file: it becomes an [`ImportProblem`](connector::ImportProblem) naming the line, the
//! column and the value, with the anchor when it could be read.
//!
//! A CSV file cannot say what changed, and this connector knows nothing of the store, so its
//! watermark is a fingerprint of the file's bytes: an unchanged file answers a delta request
//! with an empty delta page; a changed one is served in full and the engine compares.
//!
//! As an export target (a system that takes a file drop), the file *is* the target's state:
//! the first export of a run loads it, requests change it in memory, and `finish` writes it
//! atomically, plus a time-stamped copy in the drop directory when one is configured.

mod columns;
mod export;
mod fingerprint;
mod import;
mod source;

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

use config::CsvSettings;
use connector::{
    Connector, ConnectorError, ExportOutcome, ExportRequest, Exporter, Health, ImportMode,
    ImportPage, ImportRequest, Watermark,
};
use model::{AttributeName, ObjectTypeSchema, Schema, Timestamp};

use crate::columns::Layout;
use crate::export::ExportTable;
use crate::import::ImportSession;
use crate::source::{RecordReader, display_name};

/// Objects per import page unless set with [`CsvConnector::with_page_size`].
pub const DEFAULT_PAGE_SIZE: usize = 5_000;

/// Requests per export batch: applying one is an in-memory change, so batches can be large.
pub const EXPORT_BATCH_SIZE: usize = 10_000;

/// Where the connector reads the time, for naming drop copies. Tests pass a fixed clock.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// A CSV file as a connected system: a source, and a file-drop export target.
pub struct CsvConnector {
    settings: CsvSettings,
    page_size: usize,
    clock: Clock,
    /// The import being served, between pages.
    session: Option<ImportSession>,
    /// The target file's rows during an export run, from the first `export` to `finish`.
    export: Option<ExportTable>,
    missing_is_empty: bool,
}

/// The watermark of a target file that does not exist yet.
const MISSING_FILE_WATERMARK: &str = "missing";

impl fmt::Debug for CsvConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsvConnector")
            .field("path", &self.settings.path)
            .field("page_size", &self.page_size)
            .field("importing", &self.session.is_some())
            .field("exporting", &self.export.is_some())
            .finish_non_exhaustive()
    }
}

impl CsvConnector {
    pub fn new(settings: CsvSettings) -> CsvConnector {
        CsvConnector {
            settings,
            page_size: DEFAULT_PAGE_SIZE,
            clock: Arc::new(Timestamp::now),
            session: None,
            export: None,
            missing_is_empty: false,
        }
    }

    /// Treat a missing file as an empty system. For a file idsync itself writes (an export
    /// target), which does not exist before the first export; never for a source, where a
    /// missing file must not read as "everyone left".
    pub fn with_missing_as_empty(mut self, missing_is_empty: bool) -> CsvConnector {
        self.missing_is_empty = missing_is_empty;
        self
    }

    /// Objects per import page (at least one).
    pub fn with_page_size(mut self, page_size: usize) -> CsvConnector {
        self.page_size = page_size.max(1);
        self
    }

    /// The clock that names drop copies.
    pub fn with_clock(mut self, clock: Clock) -> CsvConnector {
        self.clock = clock;
        self
    }

    pub fn settings(&self) -> &CsvSettings {
        &self.settings
    }

    fn path(&self) -> &Path {
        &self.settings.path
    }

    /// The header of the file, typed by the settings.
    fn read_layout(&self) -> Result<Layout, ConnectorError> {
        let opened = source::open(self.path(), false)?;
        let reader = RecordReader::new(self.path(), opened.source, self.settings.delimiter)?;
        Layout::from_header(&display_name(self.path()), reader.header(), &self.settings)
    }

    fn import_page(&mut self, mode: ImportMode) -> Result<ImportPage, ConnectorError> {
        let Some(session) = self.session.as_mut() else {
            return Err(ConnectorError::Protocol(format!(
                "{}: no import in progress",
                self.settings.path.display()
            )));
        };
        let rows = match session.next_page(self.page_size, &self.settings) {
            Ok(rows) => rows,
            Err(e) => {
                self.session = None;
                return Err(e);
            }
        };
        let (next, watermark) = if session.is_done() {
            let watermark = session.watermark();
            self.session = None;
            (None, Some(watermark))
        } else {
            (Some(session.cursor()), None)
        };
        Ok(ImportPage {
            mode,
            entries: rows.entries,
            problems: rows.problems,
            next,
            watermark,
        })
    }
}

impl Connector for CsvConnector {
    /// One object type whose attributes are the header's columns. For an export target not
    /// written yet, the columns the settings name.
    async fn schema(&mut self) -> Result<Schema, ConnectorError> {
        let layout = match self.read_layout() {
            Ok(layout) => layout,
            Err(_) if !self.path().exists() => Layout::configured(&self.settings),
            Err(e) => return Err(e),
        };
        let attributes = layout
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| c.schema(layout.anchor.contains(&i)))
            .collect();
        Ok(Schema {
            object_types: vec![ObjectTypeSchema {
                name: self.settings.object_type.clone(),
                anchor: layout.anchor_names(),
                attributes,
            }],
        })
    }

    async fn check(&mut self) -> Result<Health, ConnectorError> {
        let mut health = Health::default();
        let path = self.path().display().to_string();
        match self.read_layout() {
            Ok(layout) => {
                health.passed.push(format!("read the header of {path}"));
                let names: Vec<String> = layout
                    .anchor_names()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                health.passed.push(format!(
                    "{path} has the anchor column(s) {}",
                    names.join(", ")
                ));
                // A target file gains typed columns as values flow into them; a source that
                // lacks one is probably misconfigured.
                let sources_columns = if self.missing_is_empty {
                    &BTreeMap::new()
                } else {
                    &self.settings.columns
                };
                for name in sources_columns.keys() {
                    let name = AttributeName::new(name.as_str());
                    if !layout.columns.iter().any(|c| c.name == name) {
                        health.problems.push(format!(
                            "{path} has no column {name}, which the settings type"
                        ));
                    }
                }
            }
            Err(_) if self.missing_is_empty && !self.path().exists() => {
                health.passed.push(format!(
                    "{path} does not exist yet; the first export creates it"
                ));
            }
            Err(e) => health.problems.push(e.to_string()),
        }
        if let Some(dir) = &self.settings.drop_dir {
            if dir.is_dir() {
                health
                    .passed
                    .push(format!("drop directory {} exists", dir.display()));
            } else if dir.exists() {
                health.problems.push(format!(
                    "drop directory {} is not a directory",
                    dir.display()
                ));
            } else {
                // `finish` creates it, as it creates the target file's directory.
                health.passed.push(format!(
                    "drop directory {} is created at the first export",
                    dir.display()
                ));
            }
        }
        Ok(health)
    }

    async fn import(&mut self, request: ImportRequest) -> Result<ImportPage, ConnectorError> {
        match &request.cursor {
            None => {
                // A new import replaces any abandoned one.
                self.session = None;
                if self.missing_is_empty && !self.path().exists() {
                    return Ok(ImportPage {
                        mode: ImportMode::Full,
                        entries: Vec::new(),
                        problems: Vec::new(),
                        next: None,
                        watermark: Some(Watermark(MISSING_FILE_WATERMARK.to_owned())),
                    });
                }
                let opened = source::open(self.path(), true)?;
                let fingerprint = opened.fingerprint.ok_or_else(|| {
                    ConnectorError::Protocol(format!(
                        "{}: the file was not fingerprinted",
                        self.path().display()
                    ))
                })?;
                let session =
                    ImportSession::start(self.path(), opened.source, fingerprint, &self.settings)?;
                if request.mode == ImportMode::Delta
                    && request.watermark.as_ref() == Some(&session.watermark())
                {
                    // The same bytes as at the last import: nothing changed, nothing to parse.
                    return Ok(ImportPage {
                        mode: ImportMode::Delta,
                        entries: Vec::new(),
                        problems: Vec::new(),
                        next: None,
                        watermark: Some(session.watermark()),
                    });
                }
                self.session = Some(session);
                self.import_page(ImportMode::Full)
            }
            Some(cursor) => {
                let expected = self.session.as_ref().map(ImportSession::cursor);
                if expected.as_ref() != Some(cursor) {
                    let now = match expected {
                        Some(c) => format!("the import in progress is at {}", c.0),
                        None => "no import is in progress".to_owned(),
                    };
                    return Err(ConnectorError::Protocol(format!(
                        "{}: page cursor {} is stale ({now}); start the import again",
                        self.path().display(),
                        cursor.0
                    )));
                }
                self.import_page(ImportMode::Full)
            }
        }
    }
}

impl Exporter for CsvConnector {
    fn batch_size(&self) -> usize {
        EXPORT_BATCH_SIZE
    }

    async fn export(
        &mut self,
        batch: Vec<ExportRequest>,
    ) -> Result<Vec<ExportOutcome>, ConnectorError> {
        if self.export.is_none() {
            self.export = Some(ExportTable::load(&self.settings)?);
        }
        let Some(table) = self.export.as_mut() else {
            return Err(ConnectorError::Protocol(
                "the export table was not loaded".to_owned(),
            ));
        };
        Ok(batch
            .into_iter()
            .map(|request| table.apply(request, &self.settings))
            .collect())
    }

    /// Writes the target file when this run exported anything; a run with nothing to export
    /// leaves the file (and the drop directory) untouched.
    async fn finish(&mut self) -> Result<(), ConnectorError> {
        let Some(table) = self.export.take() else {
            return Ok(());
        };
        let now = (self.clock)();
        table.write(&self.settings, now).map_err(|e| match e {
            export::WriteError::Io { path, error } if error.kind() == io::ErrorKind::NotFound => {
                ConnectorError::Config(format!("cannot write {}: {error}", path.display()))
            }
            other => ConnectorError::unavailable(other.to_string()),
        })
    }
}
