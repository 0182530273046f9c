//! Configuration errors that point at `file:line:col`, rendered like rustc: the message, the
//! location, the offending line with a caret under the span, and a `help:` line.
//!
//! While loading, problems are recorded against a [`Loc`] (a file and a byte span) and only
//! resolved into [`Diagnostic`]s at the end, when every source file is known.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem in a configuration, located in its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as it was named (the path given to [`crate::load`], or an included file
    /// joined to its directory).
    pub file: PathBuf,
    /// 1-based; 0 when the problem concerns the whole file (it could not be read).
    pub line: usize,
    /// 1-based, in characters; 0 when `line` is 0.
    pub column: usize,
    pub message: String,
    pub help: Option<String>,
    /// Where something related is, such as the first definition of a duplicate name.
    pub note: Option<String>,
    /// The offending line as shown, with secret values masked.
    pub source_line: String,
    /// How many characters of `source_line` the caret underlines.
    pub width: usize,
    /// Where the caret starts in `source_line` (1-based characters); differs from `column`
    /// only when a masked secret precedes it on the line.
    caret_column: usize,
}

impl Diagnostic {
    /// `file:line:col`, the form editors and terminals turn into links.
    pub fn location(&self) -> String {
        if self.line == 0 {
            self.file.display().to_string()
        } else {
            format!("{}:{}:{}", self.file.display(), self.line, self.column)
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        let gutter = if self.line == 0 { 1 } else { digits(self.line) };
        let pad = " ".repeat(gutter);
        write!(f, "{pad}--> {}", self.location())?;
        if self.line > 0 {
            // Tabs would make the caret drift, so the shown line and the caret both use spaces.
            let shown = self.source_line.replace('\t', "    ");
            let before: usize = self
                .source_line
                .chars()
                .take(self.caret_column - 1)
                .map(|c| if c == '\t' { 4 } else { 1 })
                .sum();
            write!(f, "\n{pad} |\n{} | {}\n", self.line, shown.trim_end())?;
            write!(
                f,
                "{pad} | {}{}",
                " ".repeat(before),
                "^".repeat(self.width.max(1))
            )?;
        }
        if let Some(note) = &self.note {
            write!(f, "\n{pad} = note: {note}")?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n{pad} = help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

fn digits(n: usize) -> usize {
    n.to_string().len()
}

/// Every problem found in a configuration, in file order. Its `Display` renders them all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Which loaded file a span belongs to: an index into [`Sources`].
pub(crate) type FileId = usize;

/// A byte span in one source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Loc {
    pub file: FileId,
    pub span: Range<usize>,
}

impl Loc {
    pub fn new(file: FileId, span: Range<usize>) -> Self {
        Loc { file, span }
    }
}

/// One loaded configuration file.
#[derive(Debug)]
pub(crate) struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
    /// Spans of secret values, masked wherever a line holding them is shown.
    pub redactions: Vec<Range<usize>>,
}

impl SourceFile {
    pub fn new(path: PathBuf, text: String) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            path,
            text,
            line_starts,
            redactions: Vec::new(),
        }
    }

    /// The directory relative paths written in this file are resolved against.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }

    /// The 0-based line index holding byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1)
    }

    fn line_range(&self, line: usize) -> Range<usize> {
        let start = self.line_starts[line];
        let end = self
            .line_starts
            .get(line + 1)
            .map_or(self.text.len(), |&next| next);
        let text = &self.text[start..end];
        start..start + text.trim_end_matches(['\n', '\r']).len()
    }

    /// `file:line:col` of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = self.clamp(offset);
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        (line + 1, self.text[start..offset].chars().count() + 1)
    }

    fn clamp(&self, mut offset: usize) -> usize {
        offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// The source line holding `span.start`, with secrets masked, the 1-based column of the
    /// span start in the shown line, and the caret width (the span, cut at the line's end).
    fn excerpt(&self, span: &Range<usize>) -> (String, usize, usize) {
        let line = self.line_range(self.line_of(self.clamp(span.start)));
        let start = self.clamp(span.start).min(line.end);
        let end = self.clamp(span.end).clamp(start, line.end);

        // The line in pieces, each plain or a secret shown as "***".
        let mut secrets: Vec<Range<usize>> = self
            .redactions
            .iter()
            .filter(|r| r.start < line.end && r.end > line.start)
            .map(|r| r.start.max(line.start)..r.end.min(line.end))
            .collect();
        secrets.sort_by_key(|r| r.start);
        let mut pieces: Vec<(Range<usize>, bool)> = Vec::new();
        let mut at = line.start;
        for secret in secrets {
            if secret.start < at {
                continue;
            }
            if secret.start > at {
                pieces.push((at..secret.start, false));
            }
            at = secret.end;
            pieces.push((secret, true));
        }
        if at < line.end {
            pieces.push((at..line.end, false));
        }

        let mut shown = String::new();
        let mut column = None;
        let mut width = 0;
        for (range, secret) in pieces {
            let before = shown.chars().count();
            let overlaps = range.start < end && start < range.end;
            if secret {
                shown.push_str("\"***\"");
                if range.contains(&start) {
                    column = Some(before + 1);
                }
                if overlaps {
                    width += 5;
                }
            } else {
                shown.push_str(&self.text[range.clone()]);
                if range.contains(&start) {
                    column = Some(before + self.text[range.start..start].chars().count() + 1);
                }
                if overlaps {
                    width += self.text[start.max(range.start)..end.min(range.end)]
                        .chars()
                        .count();
                }
            }
        }
        let column = column.unwrap_or_else(|| shown.chars().count() + 1);
        (shown, column, width.max(1))
    }
}

/// Every file read while loading one configuration.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    pub files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        self.files.len() - 1
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id]
    }

    /// `file:line:col` of a location, for notes that refer to another place.
    pub fn describe(&self, loc: &Loc) -> String {
        let file = self.get(loc.file);
        let (line, column) = file.position(loc.span.start);
        format!("{}:{line}:{column}", file.path.display())
    }
}

/// A problem not yet resolved to a line and column.
#[derive(Debug)]
pub(crate) struct Problem {
    loc: Option<Loc>,
    /// For problems about a whole file (one that cannot be read).
    file: Option<PathBuf>,
    message: String,
    help: Option<String>,
    note: Option<String>,
}

impl Problem {
    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    pub fn note(&mut self, note: impl Into<String>) -> &mut Self {
        self.note = Some(note.into());
        self
    }
}

/// The problems found so far. Loading goes on after each one so that all are reported at once.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    list: Vec<Problem>,
}

impl Problems {
    pub fn error(&mut self, loc: &Loc, message: impl Into<String>) -> &mut Problem {
        self.list.push(Problem {
            loc: Some(loc.clone()),
            file: None,
            message: message.into(),
            help: None,
            note: None,
        });
        self.list.last_mut().expect("just pushed")
    }

    pub fn file_error(&mut self, file: &Path, message: impl Into<String>) -> &mut Problem {
        self.list.push(Problem {
            loc: None,
            file: Some(file.to_owned()),
            message: message.into(),
            help: None,
            note: None,
        });
        self.list.last_mut().expect("just pushed")
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Resolves every problem to a [`Diagnostic`], in file order, then by position.
    pub fn into_diagnostics(self, sources: &Sources) -> Diagnostics {
        let mut keyed: Vec<((usize, usize), Diagnostic)> = self
            .list
            .into_iter()
            .map(|problem| match problem.loc {
                Some(loc) => {
                    let file = sources.get(loc.file);
                    let (line, column) = file.position(loc.span.start);
                    let (source_line, caret_column, width) = file.excerpt(&loc.span);
                    let diagnostic = Diagnostic {
                        file: file.path.clone(),
                        line,
                        column,
                        message: problem.message,
                        help: problem.help,
                        note: problem.note,
                        source_line,
                        width,
                        caret_column,
                    };
                    ((loc.file, loc.span.start), diagnostic)
                }
                None => {
                    let diagnostic = Diagnostic {
                        file: problem.file.unwrap_or_default(),
                        line: 0,
                        column: 0,
                        message: problem.message,
                        help: problem.help,
                        note: problem.note,
                        source_line: String::new(),
                        width: 0,
                        caret_column: 0,
                    };
                    ((0, 0), diagnostic)
                }
            })
            .collect();
        keyed.sort_by_key(|(key, _)| *key);
        Diagnostics(keyed.into_iter().map(|(_, d)| d).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str, span: Range<usize>, redactions: Vec<Range<usize>>) -> String {
        let mut sources = Sources::default();
        let mut file = SourceFile::new("idsync.toml".into(), text.to_owned());
        file.redactions = redactions;
        let id = sources.add(file);
        let mut problems = Problems::default();
        problems
            .error(&Loc::new(id, span), "unknown connector \"hrr\"")
            .help("did you mean \"hr\"?");
        problems.into_diagnostics(&sources).to_string()
    }

    #[test]
    fn renders_like_rustc() {
        let text = "[[inbound]]\nname = \"x\"\nconnector = \"hrr\"\n";
        let start = text.find("\"hrr\"").unwrap();
        assert_eq!(
            render(text, start..start + 5, vec![]),
            "error: unknown connector \"hrr\"\n --> idsync.toml:3:13\n  |\n3 | connector = \"hrr\"\n  |             ^^^^^\n  = help: did you mean \"hr\"?"
        );
    }

    #[test]
    fn column_counts_characters_not_bytes() {
        let text = "name = \"Zoë\" # é\nx = 1";
        let start = text.find('#').unwrap();
        let out = render(text, start..start + 1, vec![]);
        assert!(out.contains("idsync.toml:1:14"), "{out}");
    }

    #[test]
    fn masks_secrets_in_the_shown_line() {
        let text = "password = \"hunter2\"\n";
        let start = text.find('"').unwrap();
        let out = render(
            text,
            start..text.len() - 1,
            std::iter::once(start..text.len() - 1).collect(),
        );
        assert!(!out.contains("hunter2"), "{out}");
        assert!(
            out.contains("1 | password = \"***\"\n  |            ^^^^^"),
            "{out}"
        );
    }

    #[test]
    fn a_span_at_the_end_of_the_file_points_past_the_last_character() {
        let text = "name = ";
        let out = render(text, 7..7, vec![]);
        assert!(out.contains("idsync.toml:1:8"), "{out}");
    }
}
