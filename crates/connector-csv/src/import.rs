//! A full import of one file, served page by page from one open reader.

use std::collections::HashMap;
use std::path::Path;

use config::CsvSettings;
use connector::{
    ConnectorError, ImportEntry, ImportProblem, ImportedObject, PageCursor, Watermark,
};
use model::{Anchor, Attributes};

use crate::columns::{Layout, make_anchor};
use crate::fingerprint::Fingerprint;
use crate::source::{RecordReader, RowShape, Source, display_name};

/// An import in progress. It keeps the file open between pages, so memory stays bounded by
/// one page plus the anchors seen so far (needed to report duplicates).
#[derive(Debug)]
pub(crate) struct ImportSession {
    file: String,
    fingerprint: Fingerprint,
    reader: RecordReader,
    layout: Layout,
    /// The line of the row that first held each anchor.
    seen: HashMap<Anchor, u64>,
    done: bool,
}

/// One page's worth of rows.
pub(crate) struct PageRows {
    pub entries: Vec<ImportEntry>,
    pub problems: Vec<ImportProblem>,
}

impl ImportSession {
    pub fn start(
        path: &Path,
        source: Source,
        fingerprint: Fingerprint,
        settings: &CsvSettings,
    ) -> Result<ImportSession, ConnectorError> {
        let reader = RecordReader::new(path, source, settings.delimiter)?;
        let file = display_name(path);
        let layout = Layout::from_header(&file, reader.header(), settings)?;
        Ok(ImportSession {
            file,
            fingerprint,
            reader,
            layout,
            seen: HashMap::new(),
            done: false,
        })
    }

    pub fn watermark(&self) -> Watermark {
        Watermark(self.fingerprint.to_string())
    }

    /// Where the next page starts: the file's fingerprint and the number of records read.
    /// A cursor from another import, or one already served, does not match.
    pub fn cursor(&self) -> PageCursor {
        PageCursor(format!("{}@{}", self.fingerprint, self.reader.consumed()))
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Reads rows until `page_size` objects are ready or the file ends.
    pub fn next_page(
        &mut self,
        page_size: usize,
        settings: &CsvSettings,
    ) -> Result<PageRows, ConnectorError> {
        let mut page = PageRows {
            entries: Vec::with_capacity(page_size.min(16_384)),
            problems: Vec::new(),
        };
        while page.entries.len() < page_size {
            let more = self.reader.advance().map_err(|e| {
                ConnectorError::unavailable(format!(
                    "{}: read failed after line {}: {e}",
                    self.file,
                    self.reader.line()
                ))
            })?;
            if !more {
                self.done = true;
                break;
            }
            match self.read_row(settings) {
                Ok(object) => page.entries.push(ImportEntry::Upsert(object)),
                Err(problem) => page.problems.push(problem),
            }
        }
        Ok(page)
    }

    /// Turns the current record into an object, or says why it cannot be one.
    fn read_row(&mut self, settings: &CsvSettings) -> Result<ImportedObject, ImportProblem> {
        let line = self.reader.line();
        let file = &self.file;
        let anchor = self.read_anchor();
        let problem = |anchor: Option<Anchor>, reason: String| ImportProblem {
            location: format!("{file}:{line}"),
            anchor,
            reason,
        };
        let expected = self.layout.columns.len();
        match *self.reader.shape() {
            RowShape::Complete => {}
            RowShape::WrongFieldCount { found } => {
                return Err(problem(
                    anchor.ok(),
                    format!("the row has {found} fields but the header has {expected}"),
                ));
            }
            RowShape::BrokenQuoting { found } => {
                return Err(problem(
                    anchor.ok(),
                    format!(
                        "a quoted field is not closed on this line (the row ran on to {found} fields; \
                         the header has {expected}); reading resumes on line {}",
                        line + 1
                    ),
                ));
            }
        }
        let anchor = match anchor {
            Ok(anchor) => anchor,
            Err(reason) => return Err(problem(None, reason)),
        };
        if let Some(first) = self.seen.get(&anchor) {
            return Err(problem(
                Some(anchor.clone()),
                format!(
                    "duplicate anchor {anchor}: line {first} has the same anchor and is the one imported; this row is ignored"
                ),
            ));
        }
        self.seen.insert(anchor.clone(), line);

        let mut attributes = Attributes::new();
        let mut errors = Vec::new();
        for (i, column) in self.layout.columns.iter().enumerate() {
            let Some(bytes) = self.reader.field(i) else {
                continue;
            };
            let Ok(text) = std::str::from_utf8(bytes) else {
                errors.push(format!(
                    "column {}: the value is not valid UTF-8",
                    column.name
                ));
                continue;
            };
            match column.parse(text) {
                Ok(values) => attributes.set(column.name.clone(), values),
                Err(e) => errors.push(e.to_string()),
            }
        }
        if !errors.is_empty() {
            // The object is reported with its anchor and left out, so the engine keeps the
            // image it had instead of importing it without the bad attribute.
            return Err(problem(Some(anchor), errors.join("; ")));
        }
        Ok(ImportedObject {
            anchor,
            object_type: settings.object_type.clone(),
            attributes,
        })
    }

    /// The anchor of the current record, or why it has none.
    fn read_anchor(&self) -> Result<Anchor, String> {
        let mut parts = Vec::with_capacity(self.layout.anchor.len());
        for &i in &self.layout.anchor {
            let column = &self.layout.columns[i];
            let text = match self.reader.field(i).map(std::str::from_utf8) {
                Some(Ok(text)) if !text.contains('\n') => text,
                Some(Ok(_)) => {
                    return Err(format!(
                        "column {}: the anchor spans several lines",
                        column.name
                    ));
                }
                Some(Err(_)) => {
                    return Err(format!(
                        "column {}: the anchor is not valid UTF-8",
                        column.name
                    ));
                }
                None => {
                    return Err(format!(
                        "column {} is missing, so the row has no anchor",
                        column.name
                    ));
                }
            };
            parts.push((&column.name, text));
        }
        make_anchor(parts)
            .map_err(|column| format!("column {column} is empty, so the row has no anchor"))
    }
}
