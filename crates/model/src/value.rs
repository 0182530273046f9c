//! Typed attribute values.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Timestamp;

/// One value of an attribute. Attributes are multi-valued: an attribute holds a list of these.
///
/// Serialised compactly (`{"s":"Ada"}`, `{"i":3}`, `{"d":"2024-01-01T00:00:00Z"}`), because
/// connector spaces and the vault store millions of them.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Value {
    #[serde(rename = "s")]
    String(String),
    #[serde(rename = "i")]
    Integer(i64),
    #[serde(rename = "b")]
    Boolean(bool),
    #[serde(rename = "d")]
    DateTime(Timestamp),
    #[serde(
        rename = "x",
        serialize_with = "to_base64",
        deserialize_with = "from_base64"
    )]
    Binary(Vec<u8>),
    /// A reference to another object. In a connector space it holds the anchor of the
    /// referenced object in the same connector; in the vault, the referenced identity's id.
    #[serde(rename = "r")]
    Reference(String),
}

impl Value {
    pub fn string(s: impl Into<String>) -> Self {
        Value::String(s.into())
    }

    /// The value as text, the way expressions and CSV files see it: dates in RFC 3339,
    /// booleans as `True`/`False` (as Entra's expression language prints them), binary in base64.
    pub fn to_text(&self) -> String {
        match self {
            Value::String(s) | Value::Reference(s) => s.clone(),
            other => other.to_string(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::Reference(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the value counts as empty for flows (`IsNullOrEmpty`, `Join` skipping empties).
    pub fn is_empty(&self) -> bool {
        matches!(self, Value::String(s) if s.is_empty())
    }

    /// The name of the value's syntax, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
            Value::Integer(_) => "integer",
            Value::Boolean(_) => "boolean",
            Value::DateTime(_) => "date-time",
            Value::Binary(_) => "binary",
            Value::Reference(_) => "reference",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) | Value::Reference(s) => f.write_str(s),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Boolean(true) => f.write_str("True"),
            Value::Boolean(false) => f.write_str("False"),
            Value::DateTime(t) => write!(f, "{t}"),
            Value::Binary(b) => f.write_str(&BASE64.encode(b)),
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) => write!(f, "{s:?}"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Boolean(b) => write!(f, "{b}"),
            Value::DateTime(t) => write!(f, "{t}"),
            Value::Binary(b) => write!(f, "binary({} bytes)", b.len()),
            Value::Reference(r) => write!(f, "ref({r})"),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Integer(i)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Boolean(b)
    }
}
impl From<Timestamp> for Value {
    fn from(t: Timestamp) -> Self {
        Value::DateTime(t)
    }
}

fn to_base64<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&BASE64.encode(bytes))
}

fn from_base64<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(d)?;
    BASE64.decode(text).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_serialise_compactly_and_round_trip() {
        let values = vec![
            Value::string("Ada"),
            Value::Integer(3),
            Value::Boolean(true),
            Value::DateTime("2024-01-02T03:04:05Z".parse().unwrap()),
            Value::Binary(vec![0, 1, 254]),
            Value::Reference("E42".into()),
        ];
        let json = serde_json::to_string(&values).unwrap();
        assert_eq!(
            json,
            r#"[{"s":"Ada"},{"i":3},{"b":true},{"d":"2024-01-02T03:04:05Z"},{"x":"AAH+"},{"r":"E42"}]"#
        );
        let back: Vec<Value> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, values);
    }

    #[test]
    fn booleans_print_the_way_expressions_print_them() {
        assert_eq!(Value::Boolean(false).to_text(), "False");
    }
}
