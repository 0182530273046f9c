//! Typed reading of a parsed TOML tree that keeps every span and reports, instead of
//! stopping at, each wrong type, missing key and unknown key (with a "did you mean").

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::{FileId, Loc, Problem, Problems};
use crate::suggest;

/// A value with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sp<T> {
    pub value: T,
    pub loc: Loc,
}

impl<T> Sp<T> {
    pub fn new(value: T, loc: Loc) -> Self {
        Sp { value, loc }
    }
}

/// A TOML table being read: a `[header]`, an array-of-tables entry or an inline table.
#[derive(Clone, Debug)]
pub(crate) struct Table<'a, 'i> {
    pub file: FileId,
    table: &'a DeTable<'i>,
    /// The header, or the whole inline table.
    span: Range<usize>,
    /// How messages name it: `[[connector]]`, `deprovision`.
    pub name: String,
}

/// One `key = value` of a table, or one element of an array (which reuses its array's key).
#[derive(Clone, Debug)]
pub(crate) struct Item<'a, 'i> {
    pub file: FileId,
    pub key: &'a str,
    key_span: Range<usize>,
    value: &'a Spanned<DeValue<'i>>,
}

impl<'a, 'i> Table<'a, 'i> {
    pub fn root(file: FileId, table: &'a Spanned<DeTable<'i>>) -> Self {
        Table {
            file,
            table: table.get_ref(),
            span: 0..0,
            name: "the top level".into(),
        }
    }

    pub fn loc(&self) -> Loc {
        Loc::new(self.file, self.span.clone())
    }

    /// The entries in the order they were written (the parser keeps them sorted by key).
    pub fn entries(&self) -> Vec<Item<'a, 'i>> {
        let mut items: Vec<Item<'a, 'i>> = self
            .table
            .iter()
            .map(|(key, value)| Item {
                file: self.file,
                key: key.get_ref().as_ref(),
                key_span: key.span(),
                value,
            })
            .collect();
        items.sort_by_key(|item| item.key_span.start);
        items
    }

    pub fn get(&self, key: &str) -> Option<Item<'a, 'i>> {
        self.table.get_key_value(key).map(|(k, value)| Item {
            file: self.file,
            key: k.get_ref().as_ref(),
            key_span: k.span(),
            value,
        })
    }

    /// Reports each key not in `allowed`, with the closest allowed key as help.
    pub fn check_keys(&self, allowed: &[&str], problems: &mut Problems) {
        for item in self.entries() {
            if !allowed.contains(&item.key) {
                problems
                    .error(
                        &item.key_loc(),
                        format!("unknown key \"{}\" in {}", item.key, self.name),
                    )
                    .help(suggest::help_for(item.key, allowed));
            }
        }
    }

    /// The item at `key`, or an error at the table's header when it is missing.
    pub fn require(&self, key: &str, problems: &mut Problems) -> Option<Item<'a, 'i>> {
        let item = self.get(key);
        // A misspelling of the key is reported as an unknown key with a suggestion; saying
        // also that the key is missing would be the same mistake twice.
        let misspelt = self
            .entries()
            .iter()
            .any(|e| suggest::did_you_mean(e.key, [key]).is_some());
        if item.is_none() && !misspelt {
            let problem = problems.error(
                &self.loc(),
                format!("missing key \"{key}\" in {}", self.name),
            );
            if let Some(example) = crate::raw::example_for(key) {
                problem.help(format!("add {example}"));
            }
        }
        item
    }

    pub fn str(&self, key: &str, problems: &mut Problems) -> Option<Sp<String>> {
        self.get(key)?.str(problems)
    }

    pub fn required_str(&self, key: &str, problems: &mut Problems) -> Option<Sp<String>> {
        self.require(key, problems)?.str(problems)
    }

    pub fn bool(&self, key: &str, problems: &mut Problems) -> Option<Sp<bool>> {
        self.get(key)?.bool(problems)
    }

    pub fn int(&self, key: &str, problems: &mut Problems) -> Option<Sp<i64>> {
        self.get(key)?.int(problems)
    }
}

impl<'a, 'i> Item<'a, 'i> {
    pub fn loc(&self) -> Loc {
        Loc::new(self.file, self.value.span())
    }

    pub fn key_loc(&self) -> Loc {
        Loc::new(self.file, self.key_span.clone())
    }

    pub fn value(&self) -> &'a DeValue<'i> {
        self.value.get_ref()
    }

    pub fn type_error<'p>(&self, expected: &str, problems: &'p mut Problems) -> &'p mut Problem {
        problems.error(
            &self.loc(),
            format!(
                "\"{}\" must be {expected}, not {}",
                self.key,
                article(self.value().type_str())
            ),
        )
    }

    pub fn str(&self, problems: &mut Problems) -> Option<Sp<String>> {
        match self.value() {
            DeValue::String(s) => Some(Sp::new(s.to_string(), self.loc())),
            _ => {
                self.type_error("a string", problems);
                None
            }
        }
    }

    pub fn bool(&self, problems: &mut Problems) -> Option<Sp<bool>> {
        match self.value() {
            DeValue::Boolean(b) => Some(Sp::new(*b, self.loc())),
            _ => {
                self.type_error("true or false", problems);
                None
            }
        }
    }

    pub fn int(&self, problems: &mut Problems) -> Option<Sp<i64>> {
        match self.value() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Some(Sp::new(n, self.loc())),
                Err(_) => {
                    problems.error(&self.loc(), format!("\"{}\" is too large", self.key));
                    None
                }
            },
            _ => {
                self.type_error("an integer", problems);
                None
            }
        }
    }

    /// The value as a table named `name` in messages.
    pub fn table(&self, name: impl Into<String>, problems: &mut Problems) -> Option<Table<'a, 'i>> {
        match self.value() {
            DeValue::Table(table) => Some(Table {
                file: self.file,
                table,
                span: self.value.span(),
                name: name.into(),
            }),
            _ => {
                self.type_error("a table", problems);
                None
            }
        }
    }

    /// The elements of an array; each keeps this item's key for messages.
    pub fn array(&self, problems: &mut Problems) -> Option<Vec<Item<'a, 'i>>> {
        match self.value() {
            DeValue::Array(array) => Some(
                array
                    .iter()
                    .map(|value| Item {
                        file: self.file,
                        key: self.key,
                        key_span: self.key_span.clone(),
                        value,
                    })
                    .collect(),
            ),
            _ => {
                self.type_error("an array", problems);
                None
            }
        }
    }

    /// An array of strings; a wrong element is reported and skipped.
    pub fn strings(&self, problems: &mut Problems) -> Option<Sp<Vec<Sp<String>>>> {
        let items = self.array(problems)?;
        let strings = items.iter().filter_map(|item| item.str(problems)).collect();
        Some(Sp::new(strings, self.loc()))
    }
}

fn article(type_name: &str) -> String {
    match type_name {
        "array" | "integer" => format!("an {type_name}"),
        other => format!("a {other}"),
    }
}

/// The spans of every value that looks secret (under a key naming a password, secret or
/// token, or a URL with a password in it), so that no diagnostic ever shows it.
pub(crate) fn secret_spans(table: &DeTable<'_>) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    collect_secrets(table, &mut spans);
    spans
}

// `client_key`: the LDAP connector's TLS client key.
const SECRET_WORDS: [&str; 5] = ["password", "secret", "token", "credential", "client_key"];

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| key.contains(w))
}

/// The same found in the text, line by line: `password = "..."` up to the end of the line.
/// A line the TOML parser could not read has no value in the tree, but may still hold a
/// secret that a syntax error would show.
pub(crate) fn secret_lines(text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        if let Some((key, value)) = line.split_once('=') {
            let value_start = start + key.len() + 1 + (value.len() - value.trim_start().len());
            let value_end = start + line.trim_end().len();
            let inline_table = value.trim_start().starts_with('{');
            if is_secret_key(key.trim()) && !inline_table && value_end > value_start {
                spans.push(value_start..value_end);
            }
        }
        start += line.len();
    }
    spans
}

fn collect_secrets(table: &DeTable<'_>, spans: &mut Vec<Range<usize>>) {
    for (key, value) in table.iter() {
        let secret_key = is_secret_key(key.get_ref());
        collect_value(value, secret_key, spans);
    }
}

fn collect_value(value: &Spanned<DeValue<'_>>, secret_key: bool, spans: &mut Vec<Range<usize>>) {
    match value.get_ref() {
        DeValue::String(s) if secret_key || url_has_password(s) => spans.push(value.span()),
        DeValue::Table(table) => collect_secrets(table, spans),
        DeValue::Array(array) => array
            .iter()
            .for_each(|v| collect_value(v, secret_key, spans)),
        _ => {}
    }
}

/// Whether a URL carries a password (`postgres://user:password@host`).
pub(crate) fn url_has_password(url: &str) -> bool {
    url.split_once("://")
        .and_then(|(_, rest)| rest.split(['/', '?']).next())
        .and_then(|authority| authority.rsplit_once('@'))
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{SourceFile, Sources};

    fn read(text: &str, f: impl FnOnce(Table<'_, '_>, &mut Problems)) -> String {
        let parsed = DeTable::parse(text).unwrap();
        let mut sources = Sources::default();
        let file = sources.add(SourceFile::new("t.toml".into(), text.to_owned()));
        let mut problems = Problems::default();
        f(Table::root(file, &parsed), &mut problems);
        problems.into_diagnostics(&sources).to_string()
    }

    #[test]
    fn unknown_keys_get_a_suggestion() {
        let out = read("nmae = 1\n", |t, p| t.check_keys(&["name", "type"], p));
        assert!(
            out.contains("unknown key \"nmae\" in the top level"),
            "{out}"
        );
        assert!(out.contains("did you mean \"name\"?"), "{out}");
    }

    #[test]
    fn wrong_types_name_what_was_expected() {
        let out = read("name = 1\n", |t, p| {
            t.str("name", p);
        });
        assert!(
            out.starts_with("error: \"name\" must be a string, not an integer"),
            "{out}"
        );
    }

    #[test]
    fn entries_come_in_file_order() {
        read("b = 1\na = 2\n", |t, _| {
            let keys: Vec<&str> = t.entries().iter().map(|i| i.key).collect();
            assert_eq!(keys, ["b", "a"]);
        });
    }

    #[test]
    fn secrets_are_found_under_secret_keys_and_in_urls() {
        let text = "a = { password = \"x\" }\nurl = \"postgres://u:pw@db/x\"\nplain = \"postgres://u@db\"\n";
        let parsed = DeTable::parse(text).unwrap();
        let spans = secret_spans(parsed.get_ref());
        let secrets: Vec<&str> = spans.iter().map(|s| &text[s.clone()]).collect();
        assert_eq!(secrets.len(), 2, "{secrets:?}");
        assert!(secrets.contains(&"\"x\""));
    }

    #[test]
    fn secrets_are_found_on_lines_the_parser_could_not_read() {
        let text = "name = \"a\"\npassword = \"hunter2\nx = { password = { env = \"A\" } }\n";
        let spans = secret_lines(text);
        let secrets: Vec<&str> = spans.iter().map(|s| &text[s.clone()]).collect();
        assert_eq!(secrets, ["\"hunter2"]);
    }
}
