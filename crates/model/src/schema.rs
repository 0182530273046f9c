//! What a connector says its system holds.

use serde::{Deserialize, Serialize};

use crate::{AttributeName, ObjectType};

/// The syntax of an attribute's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Syntax {
    String,
    Integer,
    Boolean,
    DateTime,
    Binary,
    /// A reference to another object of the same system (a manager, a group member).
    Reference,
}

impl std::fmt::Display for Syntax {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Syntax::String => "string",
            Syntax::Integer => "integer",
            Syntax::Boolean => "boolean",
            Syntax::DateTime => "date-time",
            Syntax::Binary => "binary",
            Syntax::Reference => "reference",
        })
    }
}

/// One attribute of an object type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeSchema {
    pub name: AttributeName,
    pub syntax: Syntax,
    pub multi_valued: bool,
    pub required: bool,
}

impl AttributeSchema {
    pub fn single(name: &str, syntax: Syntax) -> Self {
        Self {
            name: AttributeName::new(name),
            syntax,
            multi_valued: false,
            required: false,
        }
    }

    pub fn multi(name: &str, syntax: Syntax) -> Self {
        Self {
            name: AttributeName::new(name),
            syntax,
            multi_valued: true,
            required: false,
        }
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
}

/// One object type of a connected system and its attributes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectTypeSchema {
    pub name: ObjectType,
    /// The attribute (or attributes) the anchor is made of, when the system exposes it.
    pub anchor: Vec<AttributeName>,
    pub attributes: Vec<AttributeSchema>,
}

impl ObjectTypeSchema {
    pub fn attribute(&self, name: &AttributeName) -> Option<&AttributeSchema> {
        self.attributes.iter().find(|a| &a.name == name)
    }
}

/// Everything a connector's system holds, as discovered by `Connector::schema`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    pub object_types: Vec<ObjectTypeSchema>,
}

impl Schema {
    pub fn object_type(&self, name: &ObjectType) -> Option<&ObjectTypeSchema> {
        self.object_types.iter().find(|t| &t.name == name)
    }
}
