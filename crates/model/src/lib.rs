//! The vocabulary every other idsync crate speaks: names, values, objects, schemas,
//! attribute-level changes and the identity vault's records.
//!
//! `model` does no I/O and knows nothing of connectors, stores or the engine.

mod attributes;
mod change;
mod names;
mod schema;
pub mod timestamp_compact;
mod value;
pub mod vault;

pub use attributes::Attributes;
pub use change::{AttributeChange, ObjectChange, ValueChange};
pub use names::{Anchor, AttributeName, ConnectorName, IdentityId, ObjectType, RuleName, RunId};
pub use schema::{AttributeSchema, ObjectTypeSchema, Schema, Syntax};
pub use value::Value;

/// A point in time. The core never reads the clock; callers pass one in.
pub type Timestamp = jiff::Timestamp;
