//! Directory extensions: `extensionProperty` definitions registered on the application
//! (`POST /applications/{id}/extensionProperties`) and the `extension_{appId}_{name}`
//! values they allow on users and groups.

use serde_json::{Value, json};

use crate::directory::Kind;
use crate::error::GraphError;

/// One registered directory extension.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtensionProperty {
    pub id: String,
    /// The full name, `extension_{appId without dashes}_{name}`.
    pub name: String,
    pub data_type: DataType,
    pub is_multi_valued: bool,
    pub target_objects: Vec<String>,
}

/// The documented data types of a directory extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    Binary,
    Boolean,
    DateTime,
    Integer,
    LargeInteger,
    String,
}

impl DataType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "Binary" => DataType::Binary,
            "Boolean" => DataType::Boolean,
            "DateTime" => DataType::DateTime,
            "Integer" => DataType::Integer,
            "LargeInteger" => DataType::LargeInteger,
            "String" => DataType::String,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DataType::Binary => "Binary",
            DataType::Boolean => "Boolean",
            DataType::DateTime => "DateTime",
            DataType::Integer => "Integer",
            DataType::LargeInteger => "LargeInteger",
            DataType::String => "String",
        }
    }

    fn edm(self) -> &'static str {
        match self {
            DataType::Binary => "Edm.Binary",
            DataType::Boolean => "Edm.Boolean",
            DataType::DateTime => "Edm.DateTimeOffset",
            DataType::Integer => "Edm.Int32",
            DataType::LargeInteger => "Edm.Int64",
            DataType::String => "Edm.String",
        }
    }

    /// String and Binary values hold at most 256 characters or bytes.
    fn accepts(self, value: &Value) -> bool {
        use base64::Engine;
        match (self, value) {
            (DataType::String, Value::String(s)) => s.chars().count() <= 256,
            (DataType::Boolean, Value::Bool(_)) => true,
            (DataType::Integer, Value::Number(n)) => {
                n.as_i64().is_some_and(|i| i32::try_from(i).is_ok())
            }
            (DataType::LargeInteger, Value::Number(n)) => n.as_i64().is_some(),
            (DataType::DateTime, Value::String(s)) => s.parse::<jiff::Timestamp>().is_ok(),
            (DataType::Binary, Value::String(s)) => base64::engine::general_purpose::STANDARD
                .decode(s)
                .is_ok_and(|b| b.len() <= 256),
            _ => false,
        }
    }
}

impl ExtensionProperty {
    /// Validates a `POST …/extensionProperties` body.
    pub fn from_request(
        body: &serde_json::Map<String, Value>,
        app_id: &str,
        id: String,
    ) -> Result<Self, GraphError> {
        let invalid =
            |property: &str| GraphError::invalid_property_value(property, "ExtensionProperty");
        let name = body
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .ok_or_else(|| invalid("name"))?;
        let data_type = body
            .get("dataType")
            .and_then(Value::as_str)
            .and_then(DataType::parse)
            .ok_or_else(|| invalid("dataType"))?;
        let target_objects: Vec<String> = body
            .get("targetObjects")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect();
        const TARGETS: &[&str] = &[
            "User",
            "Group",
            "AdministrativeUnit",
            "Application",
            "Device",
            "Organization",
        ];
        if target_objects.is_empty()
            || target_objects
                .iter()
                .any(|t| !TARGETS.contains(&t.as_str()))
        {
            return Err(invalid("targetObjects"));
        }
        let is_multi_valued = match body.get("isMultiValued") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(invalid("isMultiValued")),
        };
        Ok(Self {
            id,
            name: format!("extension_{}_{name}", app_id.replace('-', "")),
            data_type,
            is_multi_valued,
            target_objects,
        })
    }

    /// Reads back what [`ExtensionProperty::to_json`] wrote (emulator state files).
    pub fn from_dump(value: &serde_json::Map<String, Value>) -> Option<Self> {
        Some(Self {
            id: value.get("id")?.as_str()?.to_owned(),
            name: value.get("name")?.as_str()?.to_owned(),
            data_type: DataType::parse(value.get("dataType")?.as_str()?)?,
            is_multi_valued: value.get("isMultiValued")?.as_bool()?,
            target_objects: value
                .get("targetObjects")?
                .as_array()?
                .iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect(),
        })
    }

    pub fn targets(&self, kind: Kind) -> bool {
        self.target_objects.iter().any(|t| t == kind.resource())
    }

    /// Checks a value written to this extension on an object (`null` clears it).
    pub fn check_value(&self, value: &Value) -> Result<(), GraphError> {
        let ok = match value {
            Value::Null => true,
            Value::Array(items) if self.is_multi_valued => {
                items.iter().all(|v| self.data_type.accepts(v))
            }
            single if !self.is_multi_valued => self.data_type.accepts(single),
            _ => false,
        };
        if ok {
            return Ok(());
        }
        let expected = if self.is_multi_valued {
            format!("Collection({})", self.data_type.edm())
        } else {
            self.data_type.edm().to_owned()
        };
        Err(GraphError::odata_bad_request(format!(
            "Cannot convert the literal '{value}' to the expected type '{expected}'."
        )))
    }

    /// The resource as Graph returns it.
    pub fn to_json(&self, app_display_name: &str) -> Value {
        json!({
            "id": self.id,
            "deletedDateTime": null,
            "appDisplayName": app_display_name,
            "dataType": self.data_type.as_str(),
            "isMultiValued": self.is_multi_valued,
            "isSyncedFromOnPremises": false,
            "name": self.name,
            "targetObjects": self.target_objects,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_follow_the_definition() {
        let serde_json::Value::Object(body) =
            json!({"name": "jobGroup", "dataType": "Integer", "targetObjects": ["User"]})
        else {
            unreachable!()
        };
        let e = ExtensionProperty::from_request(
            &body,
            "b7d8e648-520f-41d3-b9c0-fdeb91768a0a",
            "1".into(),
        )
        .unwrap();
        assert_eq!(
            e.name,
            "extension_b7d8e648520f41d3b9c0fdeb91768a0a_jobGroup"
        );
        assert!(e.targets(Kind::User) && !e.targets(Kind::Group));
        assert!(e.check_value(&json!(7)).is_ok());
        assert!(e.check_value(&json!(null)).is_ok());
        assert!(e.check_value(&json!("7")).is_err());
        assert!(e.check_value(&json!(1_i64 << 40)).is_err());
        assert!(e.check_value(&json!([7])).is_err());
    }
}
