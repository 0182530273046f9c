//! The plan: the pending exports a run would apply, per connector, each with its reasons.

use std::fmt::Write as _;

use config::Config;
use serde::Serialize;
use store::{Operation, PendingExport, Store, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct ConnectorPlan {
    pub connector: String,
    pub creates: u64,
    pub updates: u64,
    pub disables: u64,
    pub deletes: u64,
    pub quarantined: u64,
    pub exports: Vec<PendingExport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub connectors: Vec<ConnectorPlan>,
}

impl Plan {
    /// Reads the plan: counts per connector from the store's aggregate, and the exports
    /// themselves up to `limit` per connector (`None` for all), so showing the first screen
    /// of a million pending creates does not load a million records.
    pub fn load(
        config: &Config,
        store: &dyn Store,
        limit: Option<usize>,
    ) -> Result<Plan, StoreError> {
        let counts = store.pending_counts()?;
        let mut connectors = Vec::new();
        for c in &config.connectors {
            let mut plan = ConnectorPlan {
                connector: c.name.to_string(),
                creates: 0,
                updates: 0,
                disables: 0,
                deletes: 0,
                quarantined: 0,
                exports: Vec::new(),
            };
            for count in counts.iter().filter(|p| p.connector == c.name) {
                if count.quarantined {
                    plan.quarantined += count.count;
                }
                match count.operation {
                    Operation::Create => plan.creates += count.count,
                    Operation::Update => plan.updates += count.count,
                    Operation::Disable => plan.disables += count.count,
                    Operation::Delete => plan.deletes += count.count,
                }
            }
            let wanted = limit.unwrap_or(usize::MAX);
            let mut after = None;
            while plan.exports.len() < wanted {
                let page = store.pending_exports(
                    &c.name,
                    after,
                    (wanted - plan.exports.len()).min(5000),
                )?;
                let Some(last) = page.last() else { break };
                after = Some(last.cs_id);
                plan.exports.extend(page);
            }
            connectors.push(plan);
        }
        Ok(Plan { connectors })
    }

    pub fn is_empty(&self) -> bool {
        self.connectors
            .iter()
            .all(|c| c.creates + c.updates + c.disables + c.deletes == 0)
    }

    /// The plan for people: a summary line per connector, then each export with its reasons,
    /// at most `limit` per connector.
    pub fn render(&self, limit: usize) -> String {
        let mut out = String::new();
        for c in &self.connectors {
            let _ = writeln!(
                out,
                "{}: {} creates, {} updates, {} disables, {} deletes{}",
                c.connector,
                c.creates,
                c.updates,
                c.disables,
                c.deletes,
                if c.quarantined > 0 {
                    format!(" ({} quarantined)", c.quarantined)
                } else {
                    String::new()
                }
            );
            let shown = c.exports.len().min(limit);
            for e in c.exports.iter().take(limit) {
                let object = match (&e.anchor, e.identity) {
                    (Some(anchor), Some(identity)) => format!("{anchor} ({identity})"),
                    (Some(anchor), None) => anchor.to_string(),
                    (None, Some(identity)) => format!("new {} for {identity}", e.object_type),
                    (None, None) => format!("#{}", e.cs_id.0),
                };
                let flag = if e.quarantined {
                    format!(
                        " [quarantined after {} attempts: {}]",
                        e.attempts,
                        e.last_error.as_deref().unwrap_or("")
                    )
                } else if let Some(error) = &e.last_error {
                    // Not quarantined but not landed yet: retrying, or waiting for the target.
                    format!(" [{error}]")
                } else {
                    String::new()
                };
                let _ = writeln!(out, "  {} {}{}", e.operation.as_str(), object, flag);
                render_changes(&mut out, e);
            }
            let total = c.creates + c.updates + c.disables + c.deletes;
            if total > shown as u64 {
                let _ = writeln!(
                    out,
                    "  ... and {} more (use --json for all)",
                    total - shown as u64
                );
            }
        }
        out
    }
}

/// The lines under one pending export: a create's attributes, then each reason (attribute
/// old → new, or a note) with its rule. Shared by the plan and `idsync show`.
pub fn render_changes(out: &mut String, e: &PendingExport) {
    if let model::ObjectChange::Create { attributes } = &e.change {
        for (name, values) in attributes.iter() {
            let _ = writeln!(out, "      {name}: {}", show(values));
        }
    }
    for r in &e.reasons {
        match (&r.attribute, &r.note) {
            (Some(attribute), _) => {
                let _ = writeln!(
                    out,
                    "      {attribute}: {} -> {}   ({})",
                    show(&r.old),
                    show(&r.new),
                    r.rule
                );
            }
            (None, Some(note)) => {
                let _ = writeln!(out, "      {note}   ({})", r.rule);
            }
            (None, None) => {}
        }
    }
}

/// Values for people: `"a"`, `["a", "b"]`, or `(none)`.
pub fn show(values: &[model::Value]) -> String {
    match values {
        [] => "(none)".into(),
        [one] => format!("{:?}", one.to_text()),
        many => format!(
            "[{}]",
            many.iter()
                .map(|v| format!("{:?}", v.to_text()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
