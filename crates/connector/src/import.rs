use model::{Anchor, AttributeChange, Attributes, ObjectType};
use serde::{Deserialize, Serialize};

/// Opaque to everyone but the connector that made it: a delta link, a syncrepl cookie, a
/// file's content hash. Stored with the data it covers, in the same transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Watermark(pub String);

/// Where the next page of an import starts. Opaque like a watermark.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PageCursor(pub String);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Every object, in pages; objects not returned are gone.
    Full,
    /// Only what changed since the watermark.
    Delta,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportRequest {
    pub mode: ImportMode,
    pub watermark: Option<Watermark>,
    /// `None` on the first page.
    pub cursor: Option<PageCursor>,
}

/// One object as the system holds it now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedObject {
    pub anchor: Anchor,
    pub object_type: ObjectType,
    pub attributes: Attributes,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportEntry {
    /// The whole current image of an object (new or changed).
    Upsert(ImportedObject),
    /// Only the attributes that changed (DirSync, Graph delta), applied to the stored image.
    Modify {
        anchor: Anchor,
        object_type: ObjectType,
        changes: Vec<AttributeChange>,
    },
    /// The object is gone. Only delta imports report deletes; a full import implies them.
    Delete {
        anchor: Anchor,
        object_type: ObjectType,
    },
}

impl ImportEntry {
    pub fn anchor(&self) -> &Anchor {
        match self {
            ImportEntry::Upsert(o) => &o.anchor,
            ImportEntry::Modify { anchor, .. } | ImportEntry::Delete { anchor, .. } => anchor,
        }
    }
}

/// A record the connector could not turn into an object. The rest of the import goes on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProblem {
    /// Where in the source: `employees.csv:14` or a DN.
    pub location: String,
    /// The anchor, when it could be read.
    pub anchor: Option<Anchor>,
    pub reason: String,
}

impl std::fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.reason)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportPage {
    /// The mode actually served (a delta request may be answered in full).
    pub mode: ImportMode,
    pub entries: Vec<ImportEntry>,
    pub problems: Vec<ImportProblem>,
    /// `Some` while more pages follow.
    pub next: Option<PageCursor>,
    /// On the last page: the watermark to store once the whole import is committed.
    pub watermark: Option<Watermark>,
}

impl ImportPage {
    /// Whether a full import was served but some records could not be read. The engine must
    /// not treat unread objects as deleted then.
    pub fn has_problems(&self) -> bool {
        !self.problems.is_empty()
    }
}
