//! The user and group properties idsync reads and writes, with their types, and the
//! conversion between Graph's JSON and idsync's values.
//!
//! Names are Graph's own (`userPrincipalName`), so a rule reads like Entra's attribute
//! mappings. Three attributes are idsync's: `manager` (a reference), `members` (references)
//! and `licenses` (SKU part numbers such as `SPE_E3`), which Graph keeps as relationships or
//! as `assignedLicenses`.

use std::collections::HashMap;
use std::sync::LazyLock;

use model::{AttributeName, AttributeSchema, ObjectType, ObjectTypeSchema, Syntax, Value};
use serde_json::Value as Json;

pub const USER: &str = "user";
pub const GROUP: &str = "group";

pub const MANAGER: &str = "manager";
pub const MEMBERS: &str = "members";
pub const LICENSES: &str = "licenses";
pub const ROLES: &str = "roles";
pub const OWNERS: &str = "owners";

/// How a property may be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    ReadWrite,
    /// Only on create (Graph refuses a change later, or it is never changed).
    CreateOnly,
    ReadOnly,
}

#[derive(Clone, Copy, Debug)]
pub struct Property {
    pub name: &'static str,
    pub syntax: Syntax,
    pub multi: bool,
    pub access: Access,
    /// Mastered on-premises for a synchronized user: Entra refuses writes to it.
    pub on_premises: bool,
}

const fn p(
    name: &'static str,
    syntax: Syntax,
    multi: bool,
    access: Access,
    on_premises: bool,
) -> Property {
    Property {
        name,
        syntax,
        multi,
        access,
        on_premises,
    }
}

use Access::{CreateOnly, ReadOnly, ReadWrite};
use Syntax::{Boolean, DateTime, Reference, String as Text};

pub const USER_PROPERTIES: &[Property] = &[
    p("id", Text, false, ReadOnly, false),
    p("accountEnabled", Boolean, false, ReadWrite, true),
    p("userPrincipalName", Text, false, ReadWrite, true),
    p("displayName", Text, false, ReadWrite, true),
    p("givenName", Text, false, ReadWrite, true),
    p("surname", Text, false, ReadWrite, true),
    p("mail", Text, false, ReadWrite, true),
    p("mailNickname", Text, false, ReadWrite, true),
    p("otherMails", Text, true, ReadWrite, false),
    p("jobTitle", Text, false, ReadWrite, true),
    p("department", Text, false, ReadWrite, true),
    p("companyName", Text, false, ReadWrite, true),
    p("officeLocation", Text, false, ReadWrite, true),
    p("employeeId", Text, false, ReadWrite, true),
    p("employeeType", Text, false, ReadWrite, true),
    p("employeeHireDate", DateTime, false, ReadWrite, false),
    p("mobilePhone", Text, false, ReadWrite, true),
    p("businessPhones", Text, true, ReadWrite, true),
    p("streetAddress", Text, false, ReadWrite, true),
    p("city", Text, false, ReadWrite, true),
    p("state", Text, false, ReadWrite, true),
    p("postalCode", Text, false, ReadWrite, true),
    p("country", Text, false, ReadWrite, true),
    p("usageLocation", Text, false, ReadWrite, false),
    p("preferredLanguage", Text, false, ReadWrite, false),
    p("userType", Text, false, ReadWrite, false),
    p("onPremisesImmutableId", Text, false, ReadWrite, true),
    p("onPremisesSyncEnabled", Boolean, false, ReadOnly, false),
    p("onPremisesSamAccountName", Text, false, ReadOnly, false),
    p("externalUserState", Text, false, ReadOnly, false),
    p("proxyAddresses", Text, true, ReadOnly, false),
    p("createdDateTime", DateTime, false, ReadOnly, false),
    p(MANAGER, Reference, false, ReadWrite, true),
    p(LICENSES, Text, true, ReadWrite, false),
    p(ROLES, Text, true, ReadWrite, false),
];

pub const GROUP_PROPERTIES: &[Property] = &[
    p("id", Text, false, ReadOnly, false),
    p("displayName", Text, false, ReadWrite, false),
    p("description", Text, false, ReadWrite, false),
    p("mailNickname", Text, false, ReadWrite, false),
    p("mailEnabled", Boolean, false, CreateOnly, false),
    p("securityEnabled", Boolean, false, ReadWrite, false),
    p("groupTypes", Text, true, CreateOnly, false),
    p("visibility", Text, false, ReadWrite, false),
    p("mail", Text, false, ReadOnly, false),
    p("onPremisesSyncEnabled", Boolean, false, ReadOnly, false),
    p(MEMBERS, Reference, true, ReadWrite, false),
    // Written, not imported: Graph's group delta does not carry owners.
    p(OWNERS, Reference, true, ReadWrite, false),
];

/// A property by Graph's exact name, with its attribute name made once: an import meets
/// every property of every object, and a linear search with a fresh name for each would
/// cost more than the JSON parsing.
pub fn lookup(object_type: &ObjectType, key: &str) -> Option<&'static (Property, AttributeName)> {
    static USERS: LazyLock<HashMap<&'static str, (Property, AttributeName)>> =
        LazyLock::new(|| index(USER_PROPERTIES));
    static GROUPS: LazyLock<HashMap<&'static str, (Property, AttributeName)>> =
        LazyLock::new(|| index(GROUP_PROPERTIES));
    let table = if object_type.as_str().eq_ignore_ascii_case(GROUP) {
        &GROUPS
    } else {
        &USERS
    };
    table.get(key)
}

fn index(properties: &'static [Property]) -> HashMap<&'static str, (Property, AttributeName)> {
    properties
        .iter()
        .map(|p| (p.name, (*p, AttributeName::new(p.name))))
        .collect()
}

/// The properties of an object type; directory extensions are looked up by name.
pub fn properties(object_type: &ObjectType) -> &'static [Property] {
    if object_type.as_str().eq_ignore_ascii_case(GROUP) {
        GROUP_PROPERTIES
    } else {
        USER_PROPERTIES
    }
}

/// The property named `name` (case-insensitive, as attribute names are), or a directory
/// extension (`extension_<appId>_<name>`), which is a single string.
pub fn find(object_type: &ObjectType, name: &AttributeName) -> Option<Property> {
    if let Some(p) = properties(object_type)
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name.as_str()))
    {
        return Some(*p);
    }
    is_extension(name.as_str()).then_some(Property {
        name: "",
        syntax: Text,
        multi: false,
        access: ReadWrite,
        on_premises: false,
    })
}

/// The attributes Entra refuses to change on this object because Active Directory masters
/// them: every on-premises attribute of a user with `onPremisesSyncEnabled = true`.
pub fn mastered_on_premises(
    object_type: &ObjectType,
    current: &model::Attributes,
) -> Vec<AttributeName> {
    let synced = current
        .first(&AttributeName::new("onPremisesSyncEnabled"))
        .is_some_and(|v| v.to_text().eq_ignore_ascii_case("true"));
    if !synced || object_type.as_str().eq_ignore_ascii_case(GROUP) {
        return Vec::new();
    }
    USER_PROPERTIES
        .iter()
        .filter(|p| p.on_premises)
        .map(|p| AttributeName::new(p.name))
        .collect()
}

pub fn is_extension(name: &str) -> bool {
    name.len() > "extension__".len()
        && name[..10].eq_ignore_ascii_case("extension_")
        && name[10..].contains('_')
}

pub fn object_schema(object_type: &str, extensions: &[String]) -> ObjectTypeSchema {
    let object_type = ObjectType::new(object_type);
    let mut attributes: Vec<AttributeSchema> = properties(&object_type)
        .iter()
        .map(|p| {
            let schema = if p.multi {
                AttributeSchema::multi(p.name, p.syntax)
            } else {
                AttributeSchema::single(p.name, p.syntax)
            };
            match p.name {
                "displayName" | "userPrincipalName" => schema.required(),
                _ => schema,
            }
        })
        .collect();
    attributes.extend(
        extensions
            .iter()
            .map(|name| AttributeSchema::single(name, Text)),
    );
    ObjectTypeSchema {
        name: object_type,
        anchor: vec![AttributeName::new("id")],
        attributes,
    }
}

/// Graph JSON → values; `null` and an empty array are no values.
pub fn from_json(property: &Property, json: &Json) -> Result<Vec<Value>, String> {
    match json {
        Json::Null => Ok(Vec::new()),
        Json::Array(items) => items
            .iter()
            .map(|v| one_from_json(property.syntax, v))
            .collect(),
        single => Ok(vec![one_from_json(property.syntax, single)?]),
    }
}

/// [`from_json`], moving strings out of the JSON instead of copying them.
pub fn from_json_owned(property: &Property, json: Json) -> Result<Vec<Value>, String> {
    match json {
        Json::Null => Ok(Vec::new()),
        Json::Array(items) => items
            .into_iter()
            .map(|v| one_from_json_owned(property.syntax, v))
            .collect(),
        single => Ok(vec![one_from_json_owned(property.syntax, single)?]),
    }
}

fn one_from_json_owned(syntax: Syntax, json: Json) -> Result<Value, String> {
    match (syntax, json) {
        (Reference, Json::String(s)) => Ok(Value::Reference(s)),
        (Text, Json::String(s)) => Ok(Value::String(s)),
        (syntax, other) => one_from_json(syntax, &other),
    }
}

fn one_from_json(syntax: Syntax, json: &Json) -> Result<Value, String> {
    match (syntax, json) {
        (Boolean, Json::Bool(b)) => Ok(Value::Boolean(*b)),
        (DateTime, Json::String(s)) => s
            .parse::<jiff::Timestamp>()
            .map(Value::DateTime)
            .map_err(|e| format!("\"{s}\" is not a date-time: {e}")),
        (Syntax::Integer, Json::Number(n)) => n
            .as_i64()
            .map(Value::Integer)
            .ok_or_else(|| format!("{n} is not an integer")),
        (Reference, Json::String(s)) => Ok(Value::Reference(s.clone())),
        (_, Json::String(s)) => Ok(Value::String(s.clone())),
        (_, Json::Bool(b)) => Ok(Value::String(b.to_string())),
        (_, Json::Number(n)) => Ok(Value::String(n.to_string())),
        (_, other) => Err(format!("unexpected JSON {other}")),
    }
}

/// Values → Graph JSON for a PATCH or a create; no values is `null` (clears the property).
pub fn to_json(property: &Property, values: &[Value]) -> Result<Json, String> {
    let converted: Result<Vec<Json>, String> = values
        .iter()
        .map(|v| one_to_json(property.syntax, v))
        .collect();
    let mut converted = converted?;
    Ok(if property.multi {
        Json::Array(converted)
    } else {
        match converted.len() {
            0 => Json::Null,
            1 => converted.remove(0),
            n => return Err(format!("takes one value, not {n}")),
        }
    })
}

fn one_to_json(syntax: Syntax, value: &Value) -> Result<Json, String> {
    Ok(match (syntax, value) {
        (Boolean, Value::Boolean(b)) => Json::Bool(*b),
        (Boolean, other) => match other.to_text().to_ascii_lowercase().as_str() {
            "true" => Json::Bool(true),
            "false" => Json::Bool(false),
            text => return Err(format!("\"{text}\" is not a boolean")),
        },
        (DateTime, Value::DateTime(t)) => {
            Json::String(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        }
        (DateTime, other) => {
            let text = other.to_text();
            let t: jiff::Timestamp = text
                .parse()
                .map_err(|e| format!("\"{text}\" is not a date-time: {e}"))?;
            Json::String(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        }
        (_, Value::Integer(i)) if syntax == Syntax::Integer => Json::from(*i),
        (_, other) => Json::String(other.to_text()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_names_are_recognised() {
        assert!(is_extension("extension_0b1f3a2c4d5e_employeeNumber"));
        assert!(!is_extension("extensionAttribute1"));
        assert!(!is_extension("extension_"));
    }

    #[test]
    fn values_round_trip_through_json() {
        let enabled = find(
            &ObjectType::new(USER),
            &AttributeName::new("accountenabled"),
        )
        .unwrap();
        assert_eq!(
            to_json(&enabled, &[Value::string("TRUE")]).unwrap(),
            Json::Bool(true)
        );
        assert_eq!(
            from_json(&enabled, &Json::Bool(false)).unwrap(),
            vec![Value::Boolean(false)]
        );
        let phones = find(
            &ObjectType::new(USER),
            &AttributeName::new("businessPhones"),
        )
        .unwrap();
        assert_eq!(to_json(&phones, &[]).unwrap(), Json::Array(vec![]));
        let title = find(&ObjectType::new(USER), &AttributeName::new("jobTitle")).unwrap();
        assert_eq!(to_json(&title, &[]).unwrap(), Json::Null);
        assert!(to_json(&title, &[Value::string("a"), Value::string("b")]).is_err());
    }
}
