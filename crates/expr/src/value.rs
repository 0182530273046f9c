//! How the expression language reads one `model::Value` as text, number, boolean or date,
//! and how it compares two values.

use std::borrow::Cow;
use std::cmp::Ordering;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use model::{Timestamp, Value};

use crate::datetime;

/// The value as the language's text: dates in the .NET invariant form, booleans as
/// `True`/`False`, binary in base64.
pub(crate) fn text(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(s) | Value::Reference(s) => Cow::Borrowed(s),
        Value::Integer(i) => Cow::Owned(i.to_string()),
        Value::Boolean(true) => Cow::Borrowed("True"),
        Value::Boolean(false) => Cow::Borrowed("False"),
        Value::DateTime(t) => Cow::Owned(datetime::default_text(*t)),
        Value::Binary(b) => Cow::Owned(BASE64.encode(b)),
    }
}

/// A whole number: an integer, or text holding one (`"42"`, `" 7 "`, `"&HF"`).
pub(crate) fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(i) => Some(*i),
        Value::Boolean(b) => Some(i64::from(*b)),
        Value::String(s) => parse_integer(s),
        _ => None,
    }
}

pub(crate) fn parse_integer(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Some(hex) = text.strip_prefix("&H").or_else(|| text.strip_prefix("&h")) {
        return i64::from_str_radix(hex, 16).ok();
    }
    text.parse().ok().or_else(|| {
        let f: f64 = text.parse().ok()?;
        (f.fract() == 0.0 && f.abs() < 9.0e18).then_some(f as i64)
    })
}

/// A whole number for integer arithmetic: an integer, or text that is exactly one (`"42"`),
/// not a decimal or a boolean.
pub(crate) fn parse_integer_value(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(i) => Some(*i),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A number for comparisons and arithmetic.
pub(crate) fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(i) => Some(*i as f64),
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty()
                || s.eq_ignore_ascii_case("nan")
                || s.to_ascii_lowercase().contains("inf")
            {
                return None;
            }
            s.parse()
                .ok()
                .or_else(|| parse_integer(s).map(|i| i as f64))
        }
        _ => None,
    }
}

/// A boolean: `True`/`False` in any case, or a number (non-zero is true, as CBool).
pub(crate) fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Boolean(b) => Some(*b),
        Value::Integer(i) => Some(*i != 0),
        Value::String(s) => {
            let s = s.trim();
            if s.eq_ignore_ascii_case("true") {
                Some(true)
            } else if s.eq_ignore_ascii_case("false") {
                Some(false)
            } else {
                number(&Value::String(s.to_owned())).map(|n| n != 0.0)
            }
        }
        _ => None,
    }
}

pub(crate) fn date(value: &Value) -> Option<Timestamp> {
    match value {
        Value::DateTime(t) => Some(*t),
        Value::String(s) => datetime::parse_lenient(s),
        _ => None,
    }
}

/// Bytes of a binary value; text is read as base64 (how binary travels in JSON and CSV).
pub(crate) fn bytes(value: &Value) -> Option<Cow<'_, [u8]>> {
    match value {
        Value::Binary(b) => Some(Cow::Borrowed(b)),
        Value::String(s) => BASE64.decode(s.trim()).ok().map(Cow::Owned),
        _ => None,
    }
}

/// Whether a value counts as empty (`""`).
pub(crate) fn is_empty(value: &Value) -> bool {
    match value {
        Value::String(s) | Value::Reference(s) => s.is_empty(),
        Value::Binary(b) => b.is_empty(),
        _ => false,
    }
}

/// Compares two values the way the comparison operators do: as numbers when one side is a
/// number and the other reads as one, as dates when one side is a date, as booleans when one
/// side is a boolean, otherwise as case-sensitive text. `None` when they cannot be ordered.
pub(crate) fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::DateTime(_), _) | (_, Value::DateTime(_)) => Some(date(a)?.cmp(&date(b)?)),
        (Value::Boolean(_), _) | (_, Value::Boolean(_)) => {
            let (x, y) = (boolean(a), boolean(b));
            match (x, y) {
                (Some(x), Some(y)) => Some(x.cmp(&y)),
                _ => Some(text(a).cmp(&text(b))),
            }
        }
        (Value::Integer(x), Value::Integer(y)) => Some(x.cmp(y)),
        (Value::Integer(_), _) | (_, Value::Integer(_)) => match (number(a), number(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => Some(text(a).cmp(&text(b))),
        },
        _ => Some(text(a).as_ref().cmp(text(b).as_ref())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_with_numeric_text() {
        assert_eq!(
            compare(&Value::Integer(10), &Value::string("10")),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare(&Value::Integer(9), &Value::string("10")),
            Some(Ordering::Less)
        );
        // Two texts compare as text, so "01" and "1" differ.
        assert_eq!(
            compare(&Value::string("01"), &Value::string("1")),
            Some(Ordering::Less)
        );
    }

    #[test]
    fn booleans_read_the_words_in_any_case() {
        assert_eq!(boolean(&Value::string("TRUE")), Some(true));
        assert_eq!(boolean(&Value::string("0")), Some(false));
        assert_eq!(boolean(&Value::string("maybe")), None);
    }
}
