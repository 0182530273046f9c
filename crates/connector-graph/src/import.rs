//! Full and delta import of users and groups.
//!
//! A full import pages through `/users` (`$top=999`) after asking for a delta link that
//! starts now, and walks the initial round of `/groups/delta`, which is the one way to get
//! every membership without a request per group. A delta import follows the stored delta
//! links. Both links together are the watermark.

use std::collections::HashSet;

use connector::{
    ImportEntry, ImportMode, ImportPage, ImportProblem, ImportedObject, PageCursor, Watermark,
};
use model::{AttributeChange, AttributeName, Attributes, ObjectType, Value};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::error::GraphError;
use crate::licenses::SkuCatalogue;
use crate::properties::{self, GROUP, LICENSES, MANAGER, MEMBERS, USER};

/// Users per page of a full import: Graph's maximum.
pub const USER_PAGE: usize = 999;

/// Groups per page of a delta round; each carries its members.
pub const GROUP_PAGE: usize = 200;

/// Both delta links: what a delta import continues from.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DeltaLinks {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<String>,
    /// What the import selected: a delta continues only while the rules use the same
    /// attributes, or attributes now used would never arrive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select: Option<String>,
    /// Tenant-wide role holders at the last import (role assignments have no delta query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<std::collections::BTreeMap<String, Vec<String>>>,
}

impl DeltaLinks {
    pub fn to_watermark(&self) -> Watermark {
        Watermark(serde_json::to_string(self).expect("links serialize"))
    }

    pub fn from_watermark(watermark: &Watermark) -> Option<Self> {
        serde_json::from_str(&watermark.0).ok()
    }
}

/// Which object type a page belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Users,
    Groups,
}

/// Where the next page starts: opaque to the engine.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Cursor {
    pub mode: ImportMode,
    pub stage: Stage,
    /// The URL of the next page of this stage.
    pub next: String,
    /// The delta links gathered so far.
    pub links: DeltaLinks,
}

impl Cursor {
    pub fn to_page_cursor(&self) -> PageCursor {
        PageCursor(serde_json::to_string(self).expect("cursor serializes"))
    }

    pub fn from_page_cursor(cursor: &PageCursor) -> Result<Self, GraphError> {
        serde_json::from_str(&cursor.0)
            .map_err(|e| GraphError::Protocol(format!("unreadable import cursor: {e}")))
    }
}

/// Properties every import reads: the id, and what decides how a user may be written.
const ALWAYS: &[&str] = &["id", "onPremisesSyncEnabled", "userType"];

fn wanted(name: &str, in_use: Option<&[AttributeName]>) -> bool {
    ALWAYS.contains(&name)
        || in_use.is_none_or(|names| names.iter().any(|n| n.as_str().eq_ignore_ascii_case(name)))
}

/// The `$select` list for users: the properties the rules use (every one idsync knows when
/// it was not told), in Graph's names.
pub fn user_select(extensions: &[String], in_use: Option<&[AttributeName]>) -> String {
    let mut names: Vec<&str> = properties::USER_PROPERTIES
        .iter()
        .filter(|p| p.name != MANAGER && p.name != LICENSES && p.name != properties::ROLES)
        .map(|p| p.name)
        .filter(|name| wanted(name, in_use))
        .collect();
    if wanted(LICENSES, in_use) {
        names.push("assignedLicenses");
    }
    names.extend(
        extensions
            .iter()
            .map(String::as_str)
            .filter(|name| wanted(name, in_use)),
    );
    names.join(",")
}

pub fn group_select(in_use: Option<&[AttributeName]>) -> String {
    properties::GROUP_PROPERTIES
        .iter()
        .filter(|p| p.name != properties::OWNERS)
        .map(|p| p.name)
        .filter(|name| wanted(name, in_use))
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether the users' `$select` asks for the manager (then by `$expand`).
pub fn wants_manager(in_use: Option<&[AttributeName]>) -> bool {
    wanted(MANAGER, in_use)
}

/// Turns Graph objects into import entries.
pub struct PageReader<'a> {
    pub mode: ImportMode,
    pub skus: &'a SkuCatalogue,
    /// Groups already returned in this round: a large group comes back on several pages,
    /// each with a part of its members.
    pub seen_groups: &'a mut HashSet<String>,
    /// Tenant-wide role holders, when users carry `roles`.
    pub roles: Option<&'a std::collections::BTreeMap<String, Vec<String>>>,
}

impl PageReader<'_> {
    /// Reads a page's objects, taking their values out of `body` rather than copying them.
    pub fn read(&mut self, stage: Stage, body: &mut Json, page: &mut ImportPage) {
        let items = match body["value"].take() {
            Json::Array(items) => items,
            _ => Vec::new(),
        };
        for item in items {
            let Some(id) = item["id"].as_str().map(str::to_owned) else {
                page.problems.push(ImportProblem {
                    location: format!("{stage:?} page"),
                    anchor: None,
                    reason: "an object without an id".into(),
                });
                continue;
            };
            let object_type = ObjectType::new(match stage {
                Stage::Users => USER,
                Stage::Groups => GROUP,
            });
            let anchor = model::Anchor::new(id.as_str());
            if !item["@removed"].is_null() {
                // A full round can name objects deleted meanwhile; only a delta reports them.
                if self.mode == ImportMode::Delta {
                    page.entries.push(ImportEntry::Delete {
                        anchor,
                        object_type,
                    });
                }
                continue;
            }
            let entry = match stage {
                Stage::Users => self.user(item, anchor, object_type.clone()),
                Stage::Groups => Ok(self.group(&id, &item, anchor, object_type.clone())),
            };
            match entry {
                Ok(entry) => page.entries.push(entry),
                Err(reason) => page.problems.push(ImportProblem {
                    location: format!("{} {id}", object_type.as_str()),
                    anchor: Some(model::Anchor::new(id.as_str())),
                    reason,
                }),
            }
        }
    }

    fn user(
        &self,
        item: Json,
        anchor: model::Anchor,
        object_type: ObjectType,
    ) -> Result<ImportEntry, String> {
        let Json::Object(object) = item else {
            return Err("not a JSON object".into());
        };
        let mut read: Vec<(AttributeName, Vec<Value>)> = Vec::with_capacity(object.len());
        for (key, json) in object {
            if key == "assignedLicenses" {
                read.push((AttributeName::new(LICENSES), self.licenses(&json)));
                continue;
            }
            if key == MANAGER {
                // `$expand=manager` on a list.
                let id = json["id"]
                    .as_str()
                    .map(|id| Value::Reference(id.to_owned()));
                read.push((AttributeName::new(MANAGER), id.into_iter().collect()));
                continue;
            }
            if key == "manager@delta" {
                let current = json
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|m| m["@removed"].is_null())
                    .filter_map(|m| m["id"].as_str())
                    .map(|id| Value::Reference(id.to_owned()))
                    .next();
                read.push((AttributeName::new(MANAGER), current.into_iter().collect()));
                continue;
            }
            if key.contains('@') {
                continue;
            }
            let (property, name) = match properties::lookup(&object_type, &key) {
                Some((property, name)) => (*property, name.clone()),
                None if properties::is_extension(&key) => {
                    let name = AttributeName::new(key.as_str());
                    match properties::find(&object_type, &name) {
                        Some(property) => (property, name),
                        None => continue,
                    }
                }
                None => continue,
            };
            let values =
                properties::from_json_owned(&property, json).map_err(|e| format!("{key}: {e}"))?;
            read.push((name, values));
        }
        if let Some(holders) = self.roles {
            let names = holders.get(anchor.as_str()).cloned().unwrap_or_default();
            read.push((
                AttributeName::new(properties::ROLES),
                names.into_iter().map(Value::String).collect(),
            ));
        }
        Ok(match self.mode {
            ImportMode::Full => {
                let mut attributes = Attributes::new();
                for (name, values) in read {
                    attributes.set(name, values);
                }
                ImportEntry::Upsert(ImportedObject {
                    anchor,
                    object_type,
                    attributes,
                })
            }
            ImportMode::Delta => ImportEntry::Modify {
                anchor,
                object_type,
                changes: read
                    .into_iter()
                    .map(|(name, values)| AttributeChange::replace(name, values))
                    .collect(),
            },
        })
    }

    fn group(
        &mut self,
        id: &str,
        item: &Json,
        anchor: model::Anchor,
        object_type: ObjectType,
    ) -> ImportEntry {
        let mut changes = Vec::new();
        for property in properties::GROUP_PROPERTIES {
            if property.name == MEMBERS || property.name == properties::OWNERS {
                continue;
            }
            if let Some(json) = item.get(property.name)
                && let Ok(values) = properties::from_json(property, json)
            {
                changes.push(AttributeChange::replace(
                    AttributeName::new(property.name),
                    values,
                ));
            }
        }
        let members = AttributeName::new(MEMBERS);
        let (mut added, mut removed) = (Vec::new(), Vec::new());
        for member in item["members@delta"].as_array().into_iter().flatten() {
            let Some(member_id) = member["id"].as_str() else {
                continue;
            };
            let value = Value::Reference(member_id.to_owned());
            if member["@removed"].is_null() {
                added.push(value);
            } else {
                removed.push(value);
            }
        }
        let repeat = !self.seen_groups.insert(id.to_owned());
        if self.mode == ImportMode::Full && !repeat {
            changes.push(AttributeChange::replace(members, added));
            return self.entry(anchor, object_type, changes);
        }
        // A later page of the same group, or a delta: members change by adds and removes.
        if !added.is_empty() {
            changes.push(AttributeChange::add(members.clone(), added));
        }
        if !removed.is_empty() {
            changes.push(AttributeChange::remove(members, removed));
        }
        if repeat {
            changes.retain(|c| c.name.as_str() == MEMBERS);
        }
        ImportEntry::Modify {
            anchor,
            object_type,
            changes,
        }
    }

    /// A full import states the whole object; a delta states what it carries.
    fn entry(
        &self,
        anchor: model::Anchor,
        object_type: ObjectType,
        changes: Vec<AttributeChange>,
    ) -> ImportEntry {
        match self.mode {
            ImportMode::Full => {
                let mut attributes = Attributes::new();
                for change in &changes {
                    attributes.apply(change);
                }
                ImportEntry::Upsert(ImportedObject {
                    anchor,
                    object_type,
                    attributes,
                })
            }
            ImportMode::Delta => ImportEntry::Modify {
                anchor,
                object_type,
                changes,
            },
        }
    }

    /// `assignedLicenses` → SKU part numbers; an unknown SKU keeps its id.
    fn licenses(&self, json: &Json) -> Vec<Value> {
        let mut names: Vec<String> = json
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l["skuId"].as_str())
            .map(|id| {
                self.skus
                    .by_id(id)
                    .map_or_else(|| id.to_owned(), |s| s.part_number.clone())
            })
            .collect();
        names.sort();
        names.into_iter().map(Value::String).collect()
    }
}

/// Whether a delta link was refused because it expired or the service lost its state.
pub fn is_expired_link(error: &GraphError) -> bool {
    match error {
        GraphError::Rejected { status, code, .. } => {
            *status == 410
                || code.eq_ignore_ascii_case("syncStateNotFound")
                || code.eq_ignore_ascii_case("resyncRequired")
        }
        _ => false,
    }
}
