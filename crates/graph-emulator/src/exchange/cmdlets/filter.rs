//! The OPATH subset clients send in `-Filter`: comparisons joined by `-and`, such as
//! `ExternalDirectoryObjectId -eq '7cdb…'` or `CustomAttribute1 -ne $null`.

use serde_json::{Map, Value};

use crate::exchange::CmdletError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Eq,
    Ne,
    Like,
    NotLike,
}

/// One `Property -op value` term; `None` is `$null`.
#[derive(Debug)]
struct Comparison {
    property: String,
    operator: Operator,
    value: Option<String>,
}

/// A parsed `-Filter`: every comparison must hold.
#[derive(Debug)]
pub(super) struct Filter(Vec<Comparison>);

fn invalid(filter: &str, why: &str) -> CmdletError {
    CmdletError::bad_request(
        "Microsoft.Exchange.Management.Tasks.ParsingException",
        format!(
            "Cannot bind parameter 'Filter' to the target. Exception setting \"Filter\": \"Invalid filter syntax. {why} \"{filter}\"\"."
        ),
    )
}

impl Filter {
    pub(super) fn parse(text: &str) -> Result<Self, CmdletError> {
        let mut terms = Vec::new();
        for clause in split_and(text) {
            let clause = clause
                .trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .trim();
            let mut words = clause.splitn(3, char::is_whitespace);
            let (Some(property), Some(op), Some(value)) =
                (words.next(), words.next(), words.next())
            else {
                return Err(invalid(text, "Expected 'Property -operator value'."));
            };
            let operator = match op.to_ascii_lowercase().as_str() {
                "-eq" => Operator::Eq,
                "-ne" => Operator::Ne,
                "-like" => Operator::Like,
                "-notlike" => Operator::NotLike,
                _ => {
                    return Err(invalid(
                        text,
                        &format!("The operator '{op}' is not supported."),
                    ));
                }
            };
            let value = value.trim();
            let value = if value.eq_ignore_ascii_case("$null") {
                None
            } else {
                let unquoted = value
                    .strip_prefix('\'')
                    .and_then(|v| v.strip_suffix('\''))
                    .or_else(|| value.strip_prefix('"').and_then(|v| v.strip_suffix('"')))
                    .unwrap_or(value);
                Some(unquoted.trim_start_matches('$').to_owned())
            };
            terms.push(Comparison {
                property: property.to_owned(),
                operator,
                value,
            });
        }
        Ok(Self(terms))
    }

    pub(super) fn matches(&self, object: &Map<String, Value>) -> bool {
        self.0.iter().all(|c| c.matches(object))
    }
}

/// Splits at ` -and ` outside quotes.
fn split_and(text: &str) -> Vec<&str> {
    let lower = text.to_ascii_lowercase();
    let mut parts = Vec::new();
    let (mut start, mut quote) = (0, None);
    for (i, ch) in text.char_indices() {
        match (quote, ch) {
            (None, '\'' | '"') => quote = Some(ch),
            (Some(q), c) if c == q => quote = None,
            (None, ' ') if lower[i..].starts_with(" -and ") => {
                parts.push(&text[start..i]);
                start = i + " -and ".len();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

impl Comparison {
    fn matches(&self, object: &Map<String, Value>) -> bool {
        let actual = object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&self.property))
            .map(|(_, v)| v);
        let values: Vec<String> = match actual {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) if s.is_empty() => Vec::new(),
            Some(Value::Array(items)) => items.iter().map(plain).collect(),
            Some(other) => vec![plain(other)],
        };
        let hit = match &self.value {
            None => values.is_empty(),
            Some(wanted) => values.iter().any(|v| match self.operator {
                Operator::Eq | Operator::Ne => v.eq_ignore_ascii_case(wanted),
                Operator::Like | Operator::NotLike => wildcard(wanted, v),
            }),
        };
        match self.operator {
            Operator::Eq | Operator::Like => hit,
            Operator::Ne | Operator::NotLike => !hit,
        }
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `-like` with `*` wildcards, case-insensitive.
fn wildcard(pattern: &str, text: &str) -> bool {
    let (pattern, text) = (pattern.to_lowercase(), text.to_lowercase());
    let pieces: Vec<&str> = pattern.split('*').collect();
    if pieces.len() == 1 {
        return pattern == text;
    }
    let mut rest = text.as_str();
    for (i, piece) in pieces.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(piece) else {
                return false;
            };
            rest = r;
        } else if i == pieces.len() - 1 {
            return rest.ends_with(piece);
        } else if let Some(at) = rest.find(piece) {
            rest = &rest[at + piece.len()..];
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::Filter;

    fn check(filter: &str, object: serde_json::Value, expected: bool) {
        let parsed = Filter::parse(filter).unwrap();
        assert_eq!(
            parsed.matches(object.as_object().unwrap()),
            expected,
            "{filter}"
        );
    }

    #[test]
    fn comparisons_and_conjunctions() {
        let o = json!({"ExternalDirectoryObjectId": "AbC", "Name": "Ann Vendor", "HiddenFromAddressListsEnabled": true, "CustomAttribute1": "", "EmailAddresses": ["SMTP:a@x", "smtp:b@x"]});
        check("ExternalDirectoryObjectId -eq 'abc'", o.clone(), true);
        check("ExternalDirectoryObjectId -ne 'abc'", o.clone(), false);
        check("Name -like 'ann*'", o.clone(), true);
        check(
            "Name -eq 'Ann Vendor' -and HiddenFromAddressListsEnabled -eq $true",
            o.clone(),
            true,
        );
        check("CustomAttribute1 -eq $null", o.clone(), true);
        check("ExternalDirectoryObjectId -ne $null", o.clone(), true);
        check("EmailAddresses -eq 'smtp:b@x'", o, true);
        assert!(Filter::parse("Name").is_err());
        assert!(Filter::parse("Name -gt 'x'").is_err());
    }
}
