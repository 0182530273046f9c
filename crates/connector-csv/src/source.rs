//! Opening a CSV file: encoding detection (UTF-8 with or without BOM, UTF-16 with BOM), the
//! header row, and a record reader that recovers from broken rows.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use connector::ConnectorError;

use crate::fingerprint::Fingerprint;

/// The bytes of a file after its byte-order mark, decoded to UTF-8.
///
/// UTF-8 files are read in place (offset past the BOM). UTF-16 files are decoded once into an
/// anonymous temporary file, so that both kinds can be seeked, which the recovery from
/// broken quoting needs, without holding a large file in memory.
#[derive(Debug)]
pub(crate) struct Source {
    file: File,
    /// Where the text starts in `file` (3 past a UTF-8 BOM, else 0).
    start: u64,
    /// The offset (from `start`) of the next byte `read` returns.
    position: u64,
    /// The offsets of the line-break bytes read but not yet passed by the record reader.
    /// `csv` reports a record's line as the line where its reader stood, before the line
    /// breaks that precede the record, so the record reader counts lines itself from these.
    breaks: VecDeque<(u64, u8)>,
}

impl Source {
    fn new(file: File, start: u64) -> Source {
        Source {
            file,
            start,
            position: 0,
            breaks: VecDeque::new(),
        }
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        for (i, &b) in buf[..n].iter().enumerate() {
            if b == b'\n' || b == b'\r' {
                self.breaks.push_back((self.position + i as u64, b));
            }
        }
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for Source {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let absolute = match pos {
            SeekFrom::Start(n) => self.file.seek(SeekFrom::Start(self.start + n))?,
            other => self.file.seek(other)?,
        };
        self.position = absolute.saturating_sub(self.start);
        self.breaks.clear();
        Ok(self.position)
    }
}

/// The text encodings recognised by their byte-order mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
}

/// A file opened for reading: its fingerprint (when asked for) and its text as UTF-8.
#[derive(Debug)]
pub(crate) struct OpenedFile {
    pub fingerprint: Option<Fingerprint>,
    pub source: Source,
}

/// The name used in messages and problem locations: the file name without its directory.
pub(crate) fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn unreadable(path: &Path, error: io::Error) -> ConnectorError {
    ConnectorError::Config(format!("cannot read {}: {error}", path.display()))
}

/// Opens `path`, fingerprints its raw bytes if asked, and decodes it to UTF-8.
///
/// The fingerprint is taken through the same open file that is then parsed, so when the
/// file is atomically replaced during an import, the import and its watermark both describe
/// the old content.
pub(crate) fn open(path: &Path, fingerprint: bool) -> Result<OpenedFile, ConnectorError> {
    let mut file = File::open(path).map_err(|e| unreadable(path, e))?;
    let fingerprint = if fingerprint {
        let fp = Fingerprint::of_reader(&mut file).map_err(|e| unreadable(path, e))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| unreadable(path, e))?;
        Some(fp)
    } else {
        None
    };
    let mut bom = [0u8; 3];
    let mut got = 0;
    while got < bom.len() {
        match file.read(&mut bom[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(unreadable(path, e)),
        }
    }
    let (encoding, start) = match &bom[..got] {
        [0xEF, 0xBB, 0xBF] => (Encoding::Utf8, 3),
        [0xFF, 0xFE, ..] => (Encoding::Utf16Le, 2),
        [0xFE, 0xFF, ..] => (Encoding::Utf16Be, 2),
        _ => (Encoding::Utf8, 0),
    };
    file.seek(SeekFrom::Start(start))
        .map_err(|e| unreadable(path, e))?;
    let source = match encoding {
        Encoding::Utf8 => Source::new(file, start),
        Encoding::Utf16Le | Encoding::Utf16Be => {
            let decoded = decode_utf16(file, encoding == Encoding::Utf16Be)
                .map_err(|e| unreadable(path, e))?;
            Source::new(decoded, 0)
        }
    };
    Ok(OpenedFile {
        fingerprint,
        source,
    })
}

/// Decodes UTF-16 text into a temporary file of UTF-8. Unpaired surrogates become U+FFFD,
/// as an editor would show them; a trailing odd byte is dropped.
fn decode_utf16(file: File, big_endian: bool) -> io::Result<File> {
    let mut units = Utf16Units {
        reader: BufReader::with_capacity(256 * 1024, file),
        big_endian,
        error: None,
    };
    let mut out = BufWriter::with_capacity(256 * 1024, tempfile::tempfile()?);
    let mut utf8 = [0u8; 4];
    for c in char::decode_utf16(&mut units) {
        let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
        out.write_all(c.encode_utf8(&mut utf8).as_bytes())?;
    }
    if let Some(error) = units.error {
        return Err(error);
    }
    let mut file = out.into_inner().map_err(|e| e.into_error())?;
    file.seek(SeekFrom::Start(0))?;
    Ok(file)
}

struct Utf16Units<R> {
    reader: R,
    big_endian: bool,
    error: Option<io::Error>,
}

impl<R: BufRead> Iterator for Utf16Units<R> {
    type Item = u16;

    fn next(&mut self) -> Option<u16> {
        let mut pair = [0u8; 2];
        match self.reader.read_exact(&mut pair) {
            Ok(()) => Some(if self.big_endian {
                u16::from_be_bytes(pair)
            } else {
                u16::from_le_bytes(pair)
            }),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => None,
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }
}

/// One row read from the file, before its values are interpreted.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RowShape {
    /// As many fields as the header.
    Complete,
    /// A different number of fields on one line (a stray delimiter, a missing field).
    WrongFieldCount { found: usize },
    /// A quoted field swallowed line breaks and the row came out the wrong length: the quote
    /// was never closed where it should have been. Reading resumes on the next line.
    BrokenQuoting { found: usize },
}

/// Reads records of a CSV file, one at a time, with their physical line numbers.
#[derive(Debug)]
pub(crate) struct RecordReader {
    reader: csv::Reader<Source>,
    header: Vec<String>,
    record: csv::ByteRecord,
    line: u64,
    /// Line feeds passed so far: the line of the current record is one more.
    line_feeds: u64,
    shape: RowShape,
    /// Records handed out so far; page cursors count in these.
    consumed: u64,
}

impl RecordReader {
    /// Reads the header row. A file without one, or with an unusable one, fails as a whole.
    pub fn new(path: &Path, source: Source, delimiter: u8) -> Result<RecordReader, ConnectorError> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .flexible(true)
            .buffer_capacity(256 * 1024)
            .from_reader(source);
        let name = display_name(path);
        let header_record = reader.byte_headers().map_err(|e| {
            ConnectorError::Config(format!(
                "cannot read the header row of {}: {e}",
                path.display()
            ))
        })?;
        let mut header = Vec::with_capacity(header_record.len());
        for (i, field) in header_record.iter().enumerate() {
            let text = std::str::from_utf8(field).map_err(|_| {
                ConnectorError::Config(format!(
                    "{name}: header column {} is not valid UTF-8",
                    i + 1
                ))
            })?;
            header.push(text.trim().to_owned());
        }
        if header.iter().all(String::is_empty) {
            return Err(ConnectorError::Config(format!("{name} has no header row")));
        }
        Ok(RecordReader {
            reader,
            header,
            record: csv::ByteRecord::new(),
            line: 0,
            line_feeds: 0,
            shape: RowShape::Complete,
            consumed: 0,
        })
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Records handed out so far.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Advances to the next record; `false` at the end of the file.
    pub fn advance(&mut self) -> io::Result<bool> {
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => return Ok(false),
                Ok(true) => break,
                Err(e) => match e.into_kind() {
                    csv::ErrorKind::Io(io) => return Err(io),
                    // The reader is flexible and works on bytes, so other kinds do not occur;
                    // should one, it is not worth stopping the file for.
                    _ => continue,
                },
            }
        }
        self.consumed += 1;
        let start = self.record.position().map_or(0, csv::Position::byte);
        let content = self.skip_to_content(start);
        self.line = self.line_feeds + 1;
        let found = self.record.len();
        self.shape = if found == self.header.len() {
            RowShape::Complete
        } else if self.record.iter().any(|f| f.contains(&b'\n')) {
            self.resume_after_first_line(content)?;
            RowShape::BrokenQuoting { found }
        } else {
            RowShape::WrongFieldCount { found }
        };
        Ok(true)
    }

    /// Passes the line breaks before the record that starts at byte `start` (those ending
    /// earlier records, blank lines), counting line feeds; returns the offset of the
    /// record's first byte.
    fn skip_to_content(&mut self, start: u64) -> u64 {
        let breaks = &mut self.reader.get_mut().breaks;
        let mut content = start;
        while let Some(&(offset, byte)) = breaks.front() {
            if offset < content {
                // A break inside an earlier record (a multi-line quoted value).
            } else if offset == content {
                content += 1;
            } else {
                break;
            }
            self.line_feeds += u64::from(byte == b'\n');
            breaks.pop_front();
        }
        content
    }

    /// Moves the reader to the line after the one where the current record began, so that
    /// an unclosed quote costs one row, not the rest of the file.
    fn resume_after_first_line(&mut self, content: u64) -> io::Result<()> {
        let next_line = self
            .reader
            .get_mut()
            .breaks
            .iter()
            .find(|&&(offset, byte)| offset >= content && byte == b'\n');
        let Some(&(line_feed, _)) = next_line else {
            return Ok(());
        };
        let resume = line_feed + 1;
        // Every line feed before `resume` is counted once the reader moves there.
        self.line_feeds = self.line;
        let mut position = csv::Position::new();
        position
            .set_byte(resume)
            .set_line(self.line + 1)
            .set_record(self.consumed + 1);
        self.reader
            .seek_raw(SeekFrom::Start(resume), position)
            .map_err(|e| match e.into_kind() {
                csv::ErrorKind::Io(io) => io,
                other => io::Error::other(format!("{other:?}")),
            })
    }

    /// The physical line (1-based) where the current record begins.
    pub fn line(&self) -> u64 {
        self.line
    }

    pub fn shape(&self) -> &RowShape {
        &self.shape
    }

    /// The current record's fields, as bytes (they may not be valid UTF-8).
    pub fn field(&self, index: usize) -> Option<&[u8]> {
        self.record.get(index)
    }

    pub fn len(&self) -> usize {
        self.record.len()
    }
}
