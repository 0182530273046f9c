//! Changes at attribute level: what an import reports and what an export asks for.

use serde::{Deserialize, Serialize};

use crate::{AttributeName, Attributes, Value};

/// How the values of one attribute change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueChange {
    /// Add these values, keeping the others (a member add).
    Add(Vec<Value>),
    /// Remove these values, keeping the others (a member remove).
    Remove(Vec<Value>),
    /// Replace all values; an empty list clears the attribute.
    Replace(Vec<Value>),
}

/// A change to one attribute.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeChange {
    pub name: AttributeName,
    pub change: ValueChange,
}

impl AttributeChange {
    pub fn replace(name: AttributeName, values: Vec<Value>) -> Self {
        Self {
            name,
            change: ValueChange::Replace(values),
        }
    }

    pub fn add(name: AttributeName, values: Vec<Value>) -> Self {
        Self {
            name,
            change: ValueChange::Add(values),
        }
    }

    pub fn remove(name: AttributeName, values: Vec<Value>) -> Self {
        Self {
            name,
            change: ValueChange::Remove(values),
        }
    }
}

/// A change to one object in a connected system.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectChange {
    /// Create the object with these attributes.
    Create { attributes: Attributes },
    /// Change these attributes of an existing object.
    Update { changes: Vec<AttributeChange> },
    /// Delete the object.
    Delete,
}

impl ObjectChange {
    /// The word used in plans and reports.
    pub fn verb(&self) -> &'static str {
        match self {
            ObjectChange::Create { .. } => "create",
            ObjectChange::Update { .. } => "update",
            ObjectChange::Delete => "delete",
        }
    }
}
