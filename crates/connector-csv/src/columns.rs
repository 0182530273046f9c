//! How the columns of a file map to typed attributes: reading a cell into values and
//! writing values back into a cell.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use config::{ColumnSpec, CsvSettings};
use connector::ConnectorError;
use jiff::Timestamp;
use jiff::fmt::strtime;
use jiff::tz::TimeZone;
use model::{Anchor, AttributeName, AttributeSchema, Syntax, Value};

/// The separator written between the values of a multi-valued cell when the column names none.
pub(crate) const DEFAULT_SEPARATOR: &str = ";";

/// One column of the file and how its cells are read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Column {
    pub name: AttributeName,
    pub syntax: Syntax,
    /// For dates: the strftime format of the cells.
    pub format: Option<String>,
    /// For multi-valued columns: the separator between values.
    pub multi: Option<String>,
}

impl Column {
    /// The column called `name`, typed by the settings when they mention it.
    pub fn new(name: &str, settings: &CsvSettings) -> Column {
        let name = AttributeName::new(name);
        match spec_for(settings, &name) {
            Some(spec) => Column {
                name,
                syntax: spec.syntax,
                format: spec.format.clone(),
                multi: spec.multi.clone().filter(|s| !s.is_empty()),
            },
            None => Column {
                name,
                syntax: Syntax::String,
                format: None,
                multi: None,
            },
        }
    }

    pub fn schema(&self, anchor: bool) -> AttributeSchema {
        AttributeSchema {
            name: self.name.clone(),
            syntax: self.syntax,
            multi_valued: self.multi.is_some(),
            required: anchor,
        }
    }

    /// Reads one cell. An empty cell holds no value; a multi-valued cell is split on its
    /// separator, with parts trimmed and empty parts dropped.
    pub fn parse(&self, cell: &str) -> Result<Vec<Value>, CellError> {
        if cell.is_empty() {
            return Ok(Vec::new());
        }
        match &self.multi {
            Some(separator) => cell
                .split(separator.as_str())
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(|part| self.parse_one(part))
                .collect(),
            None => {
                if self.syntax != Syntax::String && cell.trim().is_empty() {
                    return Ok(Vec::new());
                }
                Ok(vec![self.parse_one(cell)?])
            }
        }
    }

    /// Reads one value of this column's syntax.
    pub fn parse_one(&self, text: &str) -> Result<Value, CellError> {
        let trimmed = text.trim();
        let invalid = |expected: String| CellError {
            column: self.name.clone(),
            value: text.to_owned(),
            expected,
        };
        match self.syntax {
            Syntax::String => Ok(Value::String(text.to_owned())),
            Syntax::Reference => Ok(Value::Reference(trimmed.to_owned())),
            Syntax::Integer => {
                trimmed.parse::<i64>().map(Value::Integer).map_err(|_| invalid("is not an integer".into()))
            }
            Syntax::Boolean => match trimmed.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Ok(Value::Boolean(true)),
                "false" | "no" | "0" => Ok(Value::Boolean(false)),
                _ => Err(invalid("is not a boolean (expected true/false, yes/no or 1/0)".into())),
            },
            Syntax::Binary => BASE64
                .decode(trimmed)
                .map(Value::Binary)
                .map_err(|_| invalid("is not base64".into())),
            Syntax::DateTime => match &self.format {
                Some(format) => parse_date_with_format(format, trimmed)
                    .map(Value::DateTime)
                    .ok_or_else(|| invalid(format!("does not match the date format {format}"))),
                None => parse_date_default(trimmed).map(Value::DateTime).ok_or_else(|| {
                    invalid("is not a date (expected RFC 3339 such as 2024-12-31T09:00:00Z, or YYYY-MM-DD)".into())
                }),
            },
        }
    }

    /// Writes values into a cell: the inverse of [`Column::parse`].
    pub fn format(&self, values: &[Value]) -> Result<String, CellError> {
        let separator = self.multi.as_deref().unwrap_or(DEFAULT_SEPARATOR);
        let mut cell = String::new();
        for (i, value) in values.iter().enumerate() {
            let text = self.format_one(value)?;
            if values.len() > 1 && text.contains(separator) {
                return Err(CellError {
                    column: self.name.clone(),
                    value: text,
                    expected: format!(
                        "contains the separator {separator:?} of this multi-valued column"
                    ),
                });
            }
            if i > 0 {
                cell.push_str(separator);
            }
            cell.push_str(&text);
        }
        Ok(cell)
    }

    /// Writes one value the way this column reads it back.
    pub fn format_one(&self, value: &Value) -> Result<String, CellError> {
        match (value, &self.format) {
            (Value::DateTime(t), Some(format)) => {
                strtime::format(format.as_str(), &t.to_zoned_datetime(TimeZone::UTC)).map_err(|e| {
                    CellError {
                        column: self.name.clone(),
                        value: t.to_string(),
                        expected: format!("cannot be written in the date format {format}: {e}"),
                    }
                })
            }
            (Value::Boolean(b), _) if self.syntax == Syntax::Boolean => Ok(b.to_string()),
            _ => Ok(value.to_text()),
        }
    }

    /// Whether the text of one part of a cell holds `value`, comparing typed values where the
    /// text parses (so `TRUE` in the file matches `Boolean(true)` in a change).
    pub fn holds(&self, part: &str, value: &Value, formatted: &str) -> bool {
        part == formatted || self.parse_one(part).is_ok_and(|v| &v == value)
    }

    /// The parts of a cell, as `parse` would split it, without interpreting them.
    pub fn parts<'a>(&self, cell: &'a str) -> Vec<&'a str> {
        match &self.multi {
            Some(separator) => cell
                .split(separator.as_str())
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect(),
            None if cell.is_empty() => Vec::new(),
            None => vec![cell],
        }
    }

    pub fn separator(&self) -> &str {
        self.multi.as_deref().unwrap_or(DEFAULT_SEPARATOR)
    }
}

fn spec_for<'s>(settings: &'s CsvSettings, name: &AttributeName) -> Option<&'s ColumnSpec> {
    settings
        .columns
        .iter()
        .find(|(k, _)| AttributeName::new(k.as_str()) == *name)
        .map(|(_, spec)| spec)
}

/// A date in a strftime format. A date without a time is midnight; without an offset, UTC.
fn parse_date_with_format(format: &str, text: &str) -> Option<Timestamp> {
    let parsed = strtime::parse(format, text).ok()?;
    if parsed.offset().is_some() {
        return parsed.to_timestamp().ok();
    }
    let datetime = parsed.to_datetime().ok()?;
    TimeZone::UTC.to_timestamp(datetime).ok()
}

/// RFC 3339, or a plain `YYYY-MM-DD` taken as midnight UTC.
fn parse_date_default(text: &str) -> Option<Timestamp> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Some(t);
    }
    let date = text.parse::<jiff::civil::Date>().ok()?;
    TimeZone::UTC
        .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .ok()
}

/// A cell whose text is not a value of its column's syntax.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {value:?} {expected}", value = shorten(value))]
pub(crate) struct CellError {
    pub column: AttributeName,
    pub value: String,
    pub expected: String,
}

/// Long values (a base64 photo) are cut in messages.
fn shorten(value: &str) -> String {
    const MAX: usize = 60;
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_owned(),
    }
}

/// The columns of one file: the header, each column typed, and where the anchor comes from.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub columns: Vec<Column>,
    /// Indexes of the anchor columns, in the order of `settings.anchor`.
    pub anchor: Vec<usize>,
}

impl Layout {
    /// Types the header's columns. Fails when an anchor column is missing or a name repeats,
    /// since either would make every row ambiguous.
    pub fn from_header(
        file: &str,
        header: &[String],
        settings: &CsvSettings,
    ) -> Result<Layout, ConnectorError> {
        let mut seen: HashMap<AttributeName, usize> = HashMap::new();
        let mut columns = Vec::with_capacity(header.len());
        for (i, name) in header.iter().enumerate() {
            if name.is_empty() {
                return Err(ConnectorError::Config(format!(
                    "{file}: header column {} has no name (columns: {})",
                    i + 1,
                    header.join(", ")
                )));
            }
            let column = Column::new(name, settings);
            if let Some(first) = seen.insert(column.name.clone(), i) {
                return Err(ConnectorError::Config(format!(
                    "{file}: column {name} appears twice in the header (columns {} and {})",
                    first + 1,
                    i + 1
                )));
            }
            columns.push(column);
        }
        if settings.anchor.is_empty() {
            return Err(ConnectorError::Config(format!(
                "{file}: no anchor column is configured"
            )));
        }
        let mut anchor = Vec::with_capacity(settings.anchor.len());
        for name in &settings.anchor {
            match seen.get(&AttributeName::new(name.as_str())) {
                Some(&i) => anchor.push(i),
                None => {
                    return Err(ConnectorError::Config(format!(
                        "{file} has no anchor column {name} (its columns: {})",
                        header.join(", ")
                    )));
                }
            }
        }
        Ok(Layout { columns, anchor })
    }

    /// The columns the settings name, for a target file not written yet: the anchor columns,
    /// the export columns, then the typed columns.
    pub fn configured(settings: &CsvSettings) -> Layout {
        let mut columns: Vec<Column> = Vec::new();
        let names = settings
            .anchor
            .iter()
            .chain(&settings.export_columns)
            .chain(settings.columns.keys());
        for name in names {
            let column = Column::new(name, settings);
            if !columns.iter().any(|c| c.name == column.name) {
                columns.push(column);
            }
        }
        let anchor = settings
            .anchor
            .iter()
            .filter_map(|a| {
                columns
                    .iter()
                    .position(|c| c.name == AttributeName::new(a.as_str()))
            })
            .collect();
        Layout { anchor, columns }
    }

    pub fn anchor_names(&self) -> Vec<AttributeName> {
        self.anchor
            .iter()
            .map(|&i| self.columns[i].name.clone())
            .collect()
    }
}

/// Makes an anchor from the anchor columns' texts, joined with `|`. Fails with the name of
/// the first anchor column that is empty.
pub(crate) fn make_anchor<'a>(
    parts: impl IntoIterator<Item = (&'a AttributeName, &'a str)>,
) -> Result<Anchor, String> {
    let mut anchor = String::new();
    for (i, (name, text)) in parts.into_iter().enumerate() {
        let text = text.trim();
        if text.is_empty() {
            return Err(name.to_string());
        }
        if i > 0 {
            anchor.push('|');
        }
        anchor.push_str(text);
    }
    Ok(Anchor::new(anchor))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(syntax: Syntax, format: Option<&str>, multi: Option<&str>) -> Column {
        Column {
            name: AttributeName::new("C"),
            syntax,
            format: format.map(str::to_owned),
            multi: multi.map(str::to_owned),
        }
    }

    fn ts(s: &str) -> Value {
        Value::DateTime(s.parse().unwrap())
    }

    /// Reads `cell` with a column of `syntax` and compares with `expected` (values or the error).
    fn check(c: &Column, cell: &str, expected: Result<Vec<Value>, &str>) {
        let got = c.parse(cell).map_err(|e| e.to_string());
        assert_eq!(got, expected.map_err(str::to_owned), "cell {cell:?}");
    }

    #[test]
    fn typed_cells() {
        let int = column(Syntax::Integer, None, None);
        check(&int, "42", Ok(vec![Value::Integer(42)]));
        check(&int, " -7 ", Ok(vec![Value::Integer(-7)]));
        check(&int, "", Ok(vec![]));
        check(&int, "abc", Err(r#"column C: "abc" is not an integer"#));

        let boolean = column(Syntax::Boolean, None, None);
        for (cell, b) in [
            ("TRUE", true),
            ("yes", true),
            ("1", true),
            ("False", false),
            ("NO", false),
            ("0", false),
        ] {
            check(&boolean, cell, Ok(vec![Value::Boolean(b)]));
        }
        check(
            &boolean,
            "maybe",
            Err(r#"column C: "maybe" is not a boolean (expected true/false, yes/no or 1/0)"#),
        );

        let date = column(Syntax::DateTime, Some("%Y-%m-%d"), None);
        check(&date, "2024-12-31", Ok(vec![ts("2024-12-31T00:00:00Z")]));
        check(
            &date,
            "31/12/2024",
            Err(r#"column C: "31/12/2024" does not match the date format %Y-%m-%d"#),
        );
        let dmy = column(Syntax::DateTime, Some("%d/%m/%Y %H:%M"), None);
        check(
            &dmy,
            "31/12/2024 09:30",
            Ok(vec![ts("2024-12-31T09:30:00Z")]),
        );
        let zoned = column(Syntax::DateTime, Some("%Y-%m-%dT%H:%M:%S%z"), None);
        check(
            &zoned,
            "2024-12-31T09:30:00+0100",
            Ok(vec![ts("2024-12-31T08:30:00Z")]),
        );

        let default_date = column(Syntax::DateTime, None, None);
        check(
            &default_date,
            "2024-12-31",
            Ok(vec![ts("2024-12-31T00:00:00Z")]),
        );
        check(
            &default_date,
            "2024-12-31T09:00:00+02:00",
            Ok(vec![ts("2024-12-31T07:00:00Z")]),
        );
        assert!(default_date.parse("yesterday").is_err());

        let reference = column(Syntax::Reference, None, None);
        check(&reference, "E7", Ok(vec![Value::Reference("E7".into())]));
        let binary = column(Syntax::Binary, None, None);
        check(&binary, "AAH+", Ok(vec![Value::Binary(vec![0, 1, 254])]));
        check(&binary, "!!", Err(r#"column C: "!!" is not base64"#));
    }

    #[test]
    fn multi_valued_cells_split_trim_and_drop_empty_parts() {
        let multi = column(Syntax::String, None, Some(";"));
        check(
            &multi,
            " a ; b;;c ;",
            Ok(vec!["a".into(), "b".into(), "c".into()]),
        );
        check(&multi, " ; ", Ok(vec![]));
        let ints = column(Syntax::Integer, None, Some("|"));
        check(&ints, "1|x", Err(r#"column C: "x" is not an integer"#));
    }

    #[test]
    fn formatting_reads_back() {
        let cases = [
            (
                column(Syntax::DateTime, Some("%Y-%m-%d"), None),
                vec![ts("2024-12-31T00:00:00Z")],
            ),
            (
                column(Syntax::DateTime, None, None),
                vec![ts("2024-12-31T09:15:00Z")],
            ),
            (
                column(Syntax::Boolean, None, None),
                vec![Value::Boolean(false)],
            ),
            (
                column(Syntax::Integer, None, Some(",")),
                vec![Value::Integer(1), Value::Integer(2)],
            ),
            (
                column(Syntax::Binary, None, None),
                vec![Value::Binary(vec![9, 8, 7])],
            ),
            (
                column(Syntax::Reference, None, None),
                vec![Value::Reference("E1".into())],
            ),
        ];
        for (c, values) in cases {
            let cell = c.format(&values).unwrap();
            assert_eq!(c.parse(&cell).unwrap(), values, "cell {cell:?}");
        }
    }

    #[test]
    fn a_value_holding_the_separator_cannot_be_written() {
        let multi = column(Syntax::String, None, Some(";"));
        let err = multi.format(&["a;b".into(), "c".into()]).unwrap_err();
        assert!(err.to_string().contains("separator"), "{err}");
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let err = column(Syntax::Integer, None, None)
            .parse(&"x".repeat(200))
            .unwrap_err()
            .to_string();
        assert!(err.len() < 120, "{err}");
    }
}
