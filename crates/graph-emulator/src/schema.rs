//! Property names and types of the Graph v1.0 entities, from a subset of Microsoft's
//! published CSDL (msgraph-metadata `schemas/v1.0-Prod.csdl`), embedded at build time.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

const SUBSET: &str = include_str!("schema-v1.0-subset.json");

#[derive(Debug, Deserialize)]
struct RawSchema {
    #[serde(rename = "entityTypes")]
    entity_types: HashMap<String, RawType>,
    #[serde(rename = "complexTypes")]
    complex_types: HashMap<String, RawType>,
}

#[derive(Debug, Deserialize)]
struct RawType {
    #[serde(rename = "baseType")]
    base_type: Option<String>,
    #[serde(default)]
    properties: Vec<Property>,
}

/// One structural property of an entity or complex type.
#[derive(Debug, Clone, Deserialize)]
pub struct Property {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default = "yes")]
    pub nullable: bool,
}

fn yes() -> bool {
    true
}

/// The schema subset: entity types with their inherited properties, and complex types.
#[derive(Debug)]
pub struct Schema {
    entities: HashMap<String, HashMap<String, Property>>,
    complex: HashMap<String, HashMap<String, Property>>,
}

/// Why a value does not fit a property's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeMismatch {
    /// The value has the wrong JSON shape; carries the expected EDM type.
    Literal { literal: String, expected: String },
    /// A nested object names a property its complex type does not have.
    UnknownProperty { property: String, on_type: String },
    /// `null` for a property that is not nullable.
    NotNullable,
}

impl Schema {
    /// The embedded schema, parsed once.
    pub fn v1() -> &'static Schema {
        static SCHEMA: OnceLock<Schema> = OnceLock::new();
        SCHEMA.get_or_init(|| {
            let raw: RawSchema =
                serde_json::from_str(SUBSET).expect("the embedded schema subset is valid JSON");
            Schema::from_raw(raw)
        })
    }

    fn from_raw(raw: RawSchema) -> Schema {
        let mut entities = HashMap::new();
        for name in raw.entity_types.keys() {
            let mut props = HashMap::new();
            let mut current = Some(name.as_str());
            while let Some(type_name) = current {
                let Some(t) = raw.entity_types.get(type_name) else {
                    break;
                };
                for p in &t.properties {
                    props.entry(p.name.clone()).or_insert_with(|| p.clone());
                }
                current = t
                    .base_type
                    .as_deref()
                    .map(|b| b.strip_prefix("graph.").unwrap_or(b));
            }
            // `entity.id` is a key, absent from the subset's property lists.
            props.entry("id".to_owned()).or_insert(Property {
                name: "id".to_owned(),
                ty: "Edm.String".to_owned(),
                nullable: false,
            });
            entities.insert(name.clone(), props);
        }
        let complex = raw
            .complex_types
            .into_iter()
            .map(|(name, t)| {
                let props = t
                    .properties
                    .into_iter()
                    .map(|p| (p.name.clone(), p))
                    .collect();
                (name, props)
            })
            .collect();
        Schema { entities, complex }
    }

    /// A property of an entity type (`user`, `group`), including inherited ones.
    pub fn property(&self, entity: &str, name: &str) -> Option<&Property> {
        self.entities.get(entity)?.get(name)
    }

    /// Checks a JSON value against an EDM type name such as `Edm.Boolean`,
    /// `Collection(Edm.String)` or `graph.passwordProfile`.
    pub fn check(&self, ty: &str, nullable: bool, value: &Value) -> Result<(), TypeMismatch> {
        if value.is_null() {
            return if nullable {
                Ok(())
            } else {
                Err(TypeMismatch::NotNullable)
            };
        }
        if let Some(item) = ty
            .strip_prefix("Collection(")
            .and_then(|t| t.strip_suffix(')'))
        {
            let Value::Array(items) = value else {
                return Err(mismatch(value, ty));
            };
            return items.iter().try_for_each(|v| self.check(item, false, v));
        }
        let ok = match ty {
            "Edm.String" | "Edm.Binary" | "Edm.Date" | "Edm.Duration" | "Edm.TimeOfDay" => {
                value.is_string()
            }
            "Edm.Boolean" => value.is_boolean(),
            "Edm.Int32" => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            "Edm.Int64" => value.is_i64(),
            "Edm.Double" | "Edm.Single" | "Edm.Decimal" => value.is_number(),
            "Edm.Guid" => value.as_str().is_some_and(is_guid),
            "Edm.DateTimeOffset" => value
                .as_str()
                .is_some_and(|s| s.parse::<jiff::Timestamp>().is_ok()),
            other => {
                let name = other.strip_prefix("graph.").unwrap_or(other);
                let Some(props) = self.complex.get(name) else {
                    // Enum and unlisted types: accept what the client sends.
                    return Ok(());
                };
                let Value::Object(map) = value else {
                    return Err(mismatch(value, ty));
                };
                for (key, v) in map {
                    if key.starts_with('@') {
                        continue;
                    }
                    let Some(p) = props.get(key) else {
                        return Err(TypeMismatch::UnknownProperty {
                            property: key.clone(),
                            on_type: format!("microsoft.graph.{name}"),
                        });
                    };
                    self.check(&p.ty, p.nullable, v)?;
                }
                true
            }
        };
        if ok { Ok(()) } else { Err(mismatch(value, ty)) }
    }
}

fn mismatch(value: &Value, ty: &str) -> TypeMismatch {
    let literal = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    TypeMismatch::Literal {
        literal,
        expected: ty.to_owned(),
    }
}

/// True for a GUID in 8-4-4-4-12 hex form, any case.
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_inherits_directory_object_properties() {
        let s = Schema::v1();
        assert_eq!(
            s.property("user", "accountEnabled").unwrap().ty,
            "Edm.Boolean"
        );
        assert!(s.property("user", "deletedDateTime").is_some());
        assert!(s.property("user", "id").is_some());
        assert!(s.property("user", "noSuchThing").is_none());
    }

    #[test]
    fn complex_values_are_checked_recursively() {
        let s = Schema::v1();
        assert!(
            s.check(
                "graph.passwordProfile",
                true,
                &json!({"password": "x", "forceChangePasswordNextSignIn": true})
            )
            .is_ok()
        );
        assert!(matches!(
            s.check("graph.passwordProfile", true, &json!({"pw": "x"})),
            Err(TypeMismatch::UnknownProperty { .. })
        ));
        assert!(
            s.check("Collection(Edm.String)", false, &json!(["a", 1]))
                .is_err()
        );
        assert!(s.check("Edm.Boolean", true, &json!("true")).is_err());
    }
}
