//! The CSV file as an export target: the file's rows in memory during a run, changed by
//! export requests, written back atomically by `finish`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use config::CsvSettings;
use connector::{ConnectorError, ExportOutcome, ExportRequest, ExportResult};
use jiff::fmt::strtime;
use jiff::tz::TimeZone;
use model::{
    Anchor, AttributeChange, AttributeName, Attributes, ObjectChange, Timestamp, ValueChange,
};

use crate::columns::{Column, Layout, make_anchor};
use crate::source::{self, RecordReader, RowShape, display_name};

/// One row, compact: all cells in one string with their end offsets. A million rows of a
/// dozen columns as `Vec<String>` would cost a dozen allocations each; this costs two.
#[derive(Clone, Debug)]
struct Row {
    text: Box<str>,
    ends: Box<[u32]>,
}

impl Row {
    fn new<S: AsRef<str>>(cells: &[S]) -> Row {
        // Trailing empty cells are implied, so a new column costs the old rows nothing.
        let used = cells
            .iter()
            .rposition(|c| !c.as_ref().is_empty())
            .map_or(0, |i| i + 1);
        let mut text = String::new();
        let mut ends = Vec::with_capacity(used);
        for cell in &cells[..used] {
            text.push_str(cell.as_ref());
            // A row longer than 4 GiB cannot be held; such a file is not an HR export.
            ends.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
        }
        Row {
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
        }
    }

    fn cell(&self, index: usize) -> &str {
        let Some(&end) = self.ends.get(index) else {
            return "";
        };
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        self.text.get(start as usize..end as usize).unwrap_or("")
    }

    fn cells(&self, count: usize) -> Vec<String> {
        (0..count).map(|i| self.cell(i).to_owned()).collect()
    }
}

/// The target file's content during an export run.
#[derive(Debug)]
pub(crate) struct ExportTable {
    file: String,
    columns: Vec<Column>,
    index: HashMap<AttributeName, usize>,
    anchor: Vec<usize>,
    /// In file order; deleted rows leave `None`, so indexes stay valid.
    rows: Vec<Option<Row>>,
    by_anchor: HashMap<Anchor, usize>,
}

impl ExportTable {
    /// Loads the target file, or starts an empty table when there is none yet. Rows without
    /// a usable anchor, and later duplicates, are kept as they are: no request can address
    /// them, but rewriting the file must not lose them.
    pub fn load(settings: &CsvSettings) -> Result<ExportTable, ConnectorError> {
        let path = &settings.path;
        let file = display_name(path);
        if !path.exists() {
            return Ok(ExportTable::new(file, Layout::configured(settings)));
        }
        let opened = source::open(path, false)?;
        let mut reader = RecordReader::new(path, opened.source, settings.delimiter)?;
        let layout = Layout::from_header(&file, reader.header(), settings)?;
        let mut table = ExportTable::new(file, layout);
        let mut malformed = Vec::new();
        while reader.advance().map_err(|e| {
            ConnectorError::unavailable(format!("cannot read {}: {e}", path.display()))
        })? {
            let cells: Option<Vec<&str>> = (0..reader.len())
                .map(|i| reader.field(i).and_then(|f| std::str::from_utf8(f).ok()))
                .collect();
            match (reader.shape(), cells) {
                (RowShape::Complete, Some(cells)) => table.push_loaded(&cells),
                _ => malformed.push(reader.line().to_string()),
            }
        }
        if !malformed.is_empty() {
            // Rewriting would drop these rows, so the export stops until someone looks.
            return Err(ConnectorError::Protocol(format!(
                "cannot export to {}: line(s) {} are malformed and would be lost when the file is rewritten",
                path.display(),
                malformed.join(", ")
            )));
        }
        Ok(table)
    }

    fn new(file: String, layout: Layout) -> ExportTable {
        let index = layout
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        ExportTable {
            file,
            columns: layout.columns,
            index,
            anchor: layout.anchor,
            rows: Vec::new(),
            by_anchor: HashMap::new(),
        }
    }

    fn push_loaded(&mut self, cells: &[&str]) {
        let anchor = make_anchor(
            self.anchor
                .iter()
                .map(|&i| (&self.columns[i].name, cells[i])),
        );
        let row = self.rows.len();
        self.rows.push(Some(Row::new(cells)));
        if let Ok(anchor) = anchor {
            self.by_anchor.entry(anchor).or_insert(row);
        }
    }

    /// Applies one request; the outcome says whether it landed.
    pub fn apply(&mut self, request: ExportRequest, settings: &CsvSettings) -> ExportOutcome {
        let result = if request.object_type != settings.object_type {
            permanent(format!(
                "{} holds only {} objects, not {}",
                self.file, settings.object_type, request.object_type
            ))
        } else {
            match request.change {
                ObjectChange::Create { attributes } => self.create(&attributes, settings),
                ObjectChange::Update { changes } => match request.anchor {
                    Some(anchor) => self.update(&anchor, &changes, settings),
                    None => permanent("an update needs the anchor of the row to change".to_owned()),
                },
                ObjectChange::Delete => match request.anchor {
                    Some(anchor) => self.delete(&anchor),
                    None => permanent("a delete needs the anchor of the row to remove".to_owned()),
                },
            }
        };
        ExportOutcome {
            id: request.id,
            result,
        }
    }

    /// A create is an upsert: a row with the same anchor is replaced, so a create repeated
    /// after a lost outcome never duplicates a row.
    fn create(&mut self, attributes: &Attributes, settings: &CsvSettings) -> ExportResult {
        let mut parts = Vec::with_capacity(self.anchor.len());
        for &i in &self.anchor {
            let column = &self.columns[i];
            let text = match attributes.first(&column.name).map(|v| column.format_one(v)) {
                Some(Ok(text)) => text,
                Some(Err(e)) => return permanent(format!("create rejected: {e}")),
                None => String::new(),
            };
            parts.push((column.name.clone(), text));
        }
        let anchor = match make_anchor(parts.iter().map(|(n, t)| (n, t.as_str()))) {
            Ok(anchor) => anchor,
            Err(column) => {
                return permanent(format!(
                    "create rejected: the anchor column {column} has no value"
                ));
            }
        };
        let mut cells: Vec<(Column, String)> = Vec::with_capacity(attributes.len());
        for (name, values) in attributes.iter() {
            let column = self.column(name, settings);
            match column.format(values) {
                Ok(text) => cells.push((column, text)),
                Err(e) => return permanent(format!("create of {anchor} rejected: {e}")),
            }
        }
        let mut row = vec![String::new(); self.columns.len()];
        for (column, text) in cells {
            let i = self.ensure_column(column);
            if row.len() <= i {
                row.resize(i + 1, String::new());
            }
            row[i] = text;
        }
        let row = Some(Row::new(&row));
        match self.by_anchor.get(&anchor) {
            Some(&i) => self.rows[i] = row,
            None => {
                self.by_anchor.insert(anchor.clone(), self.rows.len());
                self.rows.push(row);
            }
        }
        ExportResult::Applied {
            anchor: Some(anchor),
        }
    }

    fn update(
        &mut self,
        anchor: &Anchor,
        changes: &[AttributeChange],
        settings: &CsvSettings,
    ) -> ExportResult {
        let Some(row) = self
            .by_anchor
            .get(anchor)
            .and_then(|&i| self.rows[i].as_ref())
        else {
            return permanent(format!(
                "update of {anchor} rejected: {} has no row with that anchor",
                self.file
            ));
        };
        let mut cells = row.cells(self.columns.len());
        let mut added: Vec<Column> = Vec::new();
        for change in changes {
            let (i, column) = match self.index.get(&change.name) {
                Some(&i) => (i, self.columns[i].clone()),
                None => match added.iter().position(|c| c.name == change.name) {
                    Some(j) => (self.columns.len() + j, added[j].clone()),
                    None => {
                        added.push(self.column(&change.name, settings));
                        cells.push(String::new());
                        (cells.len() - 1, added[added.len() - 1].clone())
                    }
                },
            };
            let new = match apply_change(&column, &cells[i], &change.change) {
                Ok(text) => text,
                Err(e) => return permanent(format!("update of {anchor} rejected: {e}")),
            };
            if self.anchor.contains(&i) && new.trim() != cells[i].trim() {
                return permanent(format!(
                    "update of {anchor} rejected: {} is an anchor column and cannot change",
                    column.name
                ));
            }
            cells[i] = new;
        }
        for column in added {
            self.ensure_column(column);
        }
        if let Some(&i) = self.by_anchor.get(anchor) {
            self.rows[i] = Some(Row::new(&cells));
        }
        ExportResult::Applied { anchor: None }
    }

    /// Deleting a row that is not there is applied: the target is already as asked.
    fn delete(&mut self, anchor: &Anchor) -> ExportResult {
        if let Some(i) = self.by_anchor.remove(anchor) {
            self.rows[i] = None;
        }
        ExportResult::Applied { anchor: None }
    }

    /// The column for an attribute: the file's, or a new one typed by the settings.
    fn column(&self, name: &AttributeName, settings: &CsvSettings) -> Column {
        match self.index.get(name) {
            Some(&i) => self.columns[i].clone(),
            None => Column::new(name.as_str(), settings),
        }
    }

    fn ensure_column(&mut self, column: Column) -> usize {
        if let Some(&i) = self.index.get(&column.name) {
            return i;
        }
        self.index.insert(column.name.clone(), self.columns.len());
        self.columns.push(column);
        self.columns.len() - 1
    }

    /// The order columns are written in: anchor columns, the configured export columns, then
    /// every other column by name.
    fn column_order(&mut self, settings: &CsvSettings) -> Vec<usize> {
        let mut order: Vec<usize> = self.anchor.clone();
        for name in &settings.export_columns {
            let i = self.ensure_column(Column::new(name, settings));
            if !order.contains(&i) {
                order.push(i);
            }
        }
        let mut rest: Vec<usize> = (0..self.columns.len())
            .filter(|i| !order.contains(i))
            .collect();
        rest.sort_by(|&a, &b| self.columns[a].name.cmp(&self.columns[b].name));
        order.extend(rest);
        order
    }

    /// Writes the file atomically (a temporary file in the same directory, synced, renamed
    /// over the target), then the drop copy if a drop directory is set.
    pub fn write(mut self, settings: &CsvSettings, now: Timestamp) -> Result<(), WriteError> {
        let path = settings.path.as_path();
        let order = self.column_order(settings);
        let dir = parent_dir(path);
        let io_error = |error: io::Error| WriteError::Io {
            path: path.to_owned(),
            error,
        };
        // The first export creates the target's directory, as it creates the file.
        std::fs::create_dir_all(dir).map_err(io_error)?;
        let temp = tempfile::NamedTempFile::new_in(dir).map_err(io_error)?;
        let mut writer = csv::WriterBuilder::new()
            .delimiter(settings.delimiter)
            .from_writer(BufWriter::with_capacity(256 * 1024, temp));
        let csv_error = |e: csv::Error| io_error(io::Error::other(e));
        writer
            .write_record(order.iter().map(|&i| self.columns[i].name.as_str()))
            .map_err(csv_error)?;
        for row in self.rows.iter().flatten() {
            writer
                .write_record(order.iter().map(|&i| row.cell(i)))
                .map_err(csv_error)?;
        }
        let temp = writer
            .into_inner()
            .map_err(|e| io_error(io::Error::other(e.to_string())))?
            .into_inner()
            .map_err(|e| io_error(e.into_error()))?;
        temp.as_file().sync_all().map_err(io_error)?;
        let mut written = temp.persist(path).map_err(|e| io_error(e.error))?;
        sync_dir(dir).map_err(io_error)?;
        if let Some(drop_dir) = &settings.drop_dir {
            written.seek(SeekFrom::Start(0)).map_err(io_error)?;
            drop_copy(&mut written, path, drop_dir, now)?;
        }
        Ok(())
    }
}

/// Applies one attribute change to the text of a cell.
fn apply_change(
    column: &Column,
    cell: &str,
    change: &ValueChange,
) -> Result<String, crate::columns::CellError> {
    match change {
        ValueChange::Replace(values) => column.format(values),
        ValueChange::Add(values) => {
            let mut parts: Vec<String> =
                column.parts(cell).into_iter().map(str::to_owned).collect();
            for value in values {
                let text = column.format_one(value)?;
                if !parts.iter().any(|p| column.holds(p, value, &text)) {
                    parts.push(text);
                }
            }
            join_parts(column, parts)
        }
        ValueChange::Remove(values) => {
            let mut parts: Vec<String> =
                column.parts(cell).into_iter().map(str::to_owned).collect();
            for value in values {
                let text = column.format_one(value)?;
                parts.retain(|p| !column.holds(p, value, &text));
            }
            join_parts(column, parts)
        }
    }
}

fn join_parts(column: &Column, parts: Vec<String>) -> Result<String, crate::columns::CellError> {
    let separator = column.separator();
    if parts.len() > 1
        && let Some(part) = parts.iter().find(|p| p.contains(separator))
    {
        return Err(crate::columns::CellError {
            column: column.name.clone(),
            value: part.clone(),
            expected: format!("contains the separator {separator:?} of this multi-valued column"),
        });
    }
    Ok(parts.join(separator))
}

fn permanent(reason: String) -> ExportResult {
    ExportResult::Permanent { reason }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Makes a rename durable: on Unix, a rename is only on disk once its directory is synced.
fn sync_dir(dir: &Path) -> io::Result<()> {
    if cfg!(unix) {
        File::open(dir)?.sync_all()
    } else {
        Ok(())
    }
}

/// Copies the written file into the drop directory as `<stem>-<UTC time>.csv`, itself
/// atomically, so a system polling the directory never picks up half a file. A second
/// write in the same second gets a `-2`, `-3`… suffix rather than replacing the first.
fn drop_copy(
    written: &mut File,
    path: &Path,
    drop_dir: &Path,
    now: Timestamp,
) -> Result<(), WriteError> {
    let io_error = |error: io::Error| WriteError::Io {
        path: drop_dir.to_owned(),
        error,
    };
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".to_owned());
    let stamp = strtime::format("%Y%m%dT%H%M%SZ", &now.to_zoned_datetime(TimeZone::UTC))
        .map_err(|e| io_error(io::Error::other(e)))?;
    std::fs::create_dir_all(drop_dir).map_err(io_error)?;
    let mut temp = tempfile::NamedTempFile::new_in(drop_dir).map_err(io_error)?;
    io::copy(written, &mut temp).map_err(io_error)?;
    temp.as_file_mut().flush().map_err(io_error)?;
    temp.as_file().sync_all().map_err(io_error)?;
    let mut attempt = 1;
    loop {
        let name = if attempt == 1 {
            format!("{stem}-{stamp}.csv")
        } else {
            format!("{stem}-{stamp}-{attempt}.csv")
        };
        match temp.persist_noclobber(drop_dir.join(name)) {
            Ok(_) => break,
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists && attempt < 1000 => {
                temp = e.file;
                attempt += 1;
            }
            Err(e) => return Err(io_error(e.error)),
        }
    }
    sync_dir(drop_dir).map_err(io_error)
}

/// Writing the target file failed; the previous file is still in place.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteError {
    #[error("cannot write {}: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },
}
