//! Attributes, contexts and results as JSON, for `idsync expr` and the conformance tests.
//! Only conversions: reading and writing the JSON text is the caller's business.

use model::{AttributeName, Attributes, Timestamp, Value};
use serde_json::Value as Json;

use crate::{EvalContext, Outcome, UniquenessOracle, value};

/// Reads `{"givenName": "Ada", "proxyAddresses": ["SMTP:a@x", "smtp:b@x"], "manager": null}`.
/// Strings, numbers and booleans become values; arrays are multi-valued; `null` (or an empty
/// array) means the attribute is absent.
pub fn attributes_from_json(json: &Json) -> Result<Attributes, String> {
    let Json::Object(object) = json else {
        return Err("attributes must be a JSON object of name → value".into());
    };
    let mut attributes = Attributes::new();
    for (name, raw) in object {
        let values = match raw {
            Json::Null => Vec::new(),
            Json::Array(items) => items
                .iter()
                .map(|item| {
                    scalar(item).ok_or_else(|| {
                        format!("attribute {name}: {item} is not a string, number or boolean")
                    })
                })
                .collect::<Result<_, _>>()?,
            other => vec![scalar(other).ok_or_else(|| {
                format!("attribute {name}: {other} is not a string, number or boolean")
            })?],
        };
        attributes.set(AttributeName::new(name.as_str()), values);
    }
    Ok(attributes)
}

fn scalar(json: &Json) -> Option<Value> {
    match json {
        Json::String(s) => Some(Value::String(s.clone())),
        Json::Bool(b) => Some(Value::Boolean(*b)),
        Json::Number(n) => Some(
            n.as_i64()
                .map_or_else(|| Value::String(n.to_string()), Value::Integer),
        ),
        _ => None,
    }
}

/// A value as the language writes it (dates `M/d/yyyy h:mm:ss tt` in UTC, booleans
/// `True`/`False`, binary in base64).
pub fn value_text(value: &Value) -> String {
    value::text(value).into_owned()
}

/// Reads a date the way CDate does (ISO 8601, `M/d/yyyy h:mm:ss tt`, with or without an
/// offset; UTC when none is given).
pub fn date_from_text(text: &str) -> Option<Timestamp> {
    crate::datetime::parse_lenient(text)
}

/// Values as JSON: `null` for none, a string for one, an array of strings for several.
pub fn values_to_json(values: &[Value]) -> Json {
    match values {
        [] => Json::Null,
        [one] => Json::String(value_text(one)),
        many => Json::Array(many.iter().map(|v| Json::String(value_text(v))).collect()),
    }
}

/// One line of `idsync expr --batch` output for an outcome: `{"id": …, "value": …}` or
/// `{"id": …, "ignored": true}`.
pub fn outcome_to_json(id: &Json, outcome: &Outcome) -> Json {
    match outcome {
        Outcome::Values(values) => serde_json::json!({ "id": id, "value": values_to_json(values) }),
        Outcome::Ignored => serde_json::json!({ "id": id, "ignored": true }),
    }
}

/// The evaluation context of a test case or a batch line, owned, read from
/// `{"now_utc": …, "default_domain": …, "existing_target_values": […], "parameters": {…}, "seed": …}`.
#[derive(Clone, Debug)]
pub struct CaseContext {
    pub now: Timestamp,
    pub seed: u64,
    pub default_domain: Option<String>,
    /// Values the target already holds: SelectUniqueValue skips them (compared ignoring case,
    /// as directories compare UPNs and mail addresses).
    pub existing_target_values: Vec<String>,
    pub parameters: Vec<(String, String)>,
}

impl CaseContext {
    pub fn new(now: Timestamp) -> Self {
        CaseContext {
            now,
            seed: 0,
            default_domain: None,
            existing_target_values: Vec::new(),
            parameters: Vec::new(),
        }
    }

    /// Reads the fields present in `json` over `self`'s defaults.
    pub fn with_json(mut self, json: &Json) -> Result<Self, String> {
        let Json::Object(object) = json else {
            return if json.is_null() {
                Ok(self)
            } else {
                Err("context must be a JSON object".into())
            };
        };
        for (key, field) in object {
            match key.as_str() {
                "now_utc" | "now" => {
                    let text = field.as_str().ok_or("now_utc must be an RFC 3339 text")?;
                    self.now = text.parse().map_err(|e| format!("now_utc {text:?}: {e}"))?;
                }
                "seed" => self.seed = field.as_u64().ok_or("seed must be a whole number")?,
                "default_domain" => self.default_domain = field.as_str().map(str::to_owned),
                "existing_target_values" => {
                    self.existing_target_values = match field {
                        Json::Null => Vec::new(),
                        Json::Array(items) => items
                            .iter()
                            .map(|v| {
                                v.as_str()
                                    .map(str::to_owned)
                                    .ok_or("existing_target_values must hold texts")
                            })
                            .collect::<Result<_, _>>()?,
                        _ => return Err("existing_target_values must be an array".into()),
                    };
                }
                "parameters" => {
                    self.parameters = match field {
                        Json::Null => Vec::new(),
                        Json::Object(map) => map
                            .iter()
                            .map(|(k, v)| {
                                (
                                    k.clone(),
                                    v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                                )
                            })
                            .collect(),
                        _ => return Err("parameters must be an object of name → text".into()),
                    };
                }
                _ => {}
            }
        }
        Ok(self)
    }

    pub fn eval_context(&self) -> EvalContext<'_> {
        EvalContext {
            now: self.now,
            seed: self.seed,
            default_domain: self.default_domain.as_deref(),
            uniqueness: Some(self),
            parameters: &self.parameters,
        }
    }
}

impl UniquenessOracle for CaseContext {
    fn is_unique(&self, candidate: &str) -> bool {
        !self
            .existing_target_values
            .iter()
            .any(|v| v.eq_ignore_ascii_case(candidate))
    }
}
