//! The import driver: reads one connector page by page into its connector space.
//!
//! Each page is committed on its own; the watermark is stored only in the batch that ends a
//! complete import, so a run killed mid-import starts that import over and converges.

use std::collections::{HashMap, HashSet};

use connector::{ImportEntry, ImportMode, ImportRequest, ImportedObject, Watermark};
use model::{Anchor, ConnectorName};
use store::{CsId, CsObject, Store, Write, WriteBatch};

use crate::EngineError;
use crate::connectors::AnyConnector;
use crate::digest::digest;
use crate::pipeline::crash_point;
use crate::report::{Phase, RunReport};
use crate::sync::{IdentityCache, RunContext, obsolete};

/// What a full import compares with: the stored digests, and the anchors seen so far.
struct FullImport {
    stored: HashMap<Anchor, (CsId, u64)>,
    seen: HashSet<Anchor>,
    /// Rows that could not be read and whose anchor is unknown: then nobody can tell which
    /// stored objects are really gone, so none is treated as deleted.
    unreadable: u64,
}

/// Imports one connector. Returns whether the import completed.
pub(crate) async fn import_connector(
    ctx: &RunContext<'_>,
    store: &mut dyn Store,
    connector: &mut AnyConnector,
    name: &ConnectorName,
    report: &mut RunReport,
) -> Result<bool, EngineError> {
    let watermark = store.watermark(name)?;
    let mut request = ImportRequest {
        mode: if watermark.is_some() {
            ImportMode::Delta
        } else {
            ImportMode::Full
        },
        watermark: watermark.map(Watermark),
        cursor: None,
    };
    let mut full: Option<FullImport> = None;
    let mut problems = 0u64;
    loop {
        let page = match connector.import(request.clone()).await {
            Ok(page) => page,
            Err(e) => {
                report.connector(name).import.mode = "failed".into();
                report.error(
                    Phase::Import,
                    name,
                    name.to_string(),
                    format!("import failed: {e}"),
                );
                return Ok(false);
            }
        };
        if request.cursor.is_none() {
            report.connector(name).import.mode = match page.mode {
                ImportMode::Full => "full",
                ImportMode::Delta => "delta",
            }
            .into();
            if page.mode == ImportMode::Full {
                let stored = store
                    .cs_digests(name)?
                    .into_iter()
                    .map(|d| (d.anchor, (d.id, d.digest)))
                    .collect();
                full = Some(FullImport {
                    stored,
                    seen: HashSet::new(),
                    unreadable: 0,
                });
            }
        }

        let mut batch = WriteBatch::new();
        let mut identities = IdentityCache::new();
        for problem in &page.problems {
            problems += 1;
            report.error(
                Phase::Import,
                name,
                problem.location.clone(),
                problem.reason.clone(),
            );
            if let Some(full) = &mut full {
                match &problem.anchor {
                    Some(anchor) => {
                        full.seen.insert(anchor.clone());
                    }
                    None => full.unreadable += 1,
                }
            }
        }
        report.connector(name).import.problems += page.problems.len() as u64;

        let mut changed: Vec<(CsId, ImportedObject, u64)> = Vec::new();
        let mut added: Vec<(ImportedObject, u64)> = Vec::new();
        for entry in page.entries {
            match entry {
                ImportEntry::Upsert(object) => {
                    let d = digest(&object.object_type, &object.attributes);
                    let existing = match &mut full {
                        Some(full) => {
                            full.seen.insert(object.anchor.clone());
                            full.stored.get(&object.anchor).copied()
                        }
                        None => store
                            .cs_by_anchor(name, &object.anchor)?
                            .map(|cs| (cs.id, cs.digest)),
                    };
                    match existing {
                        Some((_, stored)) if stored == d => {
                            report.connector(name).import.unchanged += 1
                        }
                        Some((id, _)) => changed.push((id, object, d)),
                        None => added.push((object, d)),
                    }
                }
                ImportEntry::Modify {
                    anchor,
                    object_type,
                    changes,
                } => match store.cs_by_anchor(name, &anchor)? {
                    Some(mut cs) => {
                        for change in &changes {
                            cs.attributes.apply(change);
                        }
                        cs.object_type = object_type;
                        cs.digest = digest(&cs.object_type, &cs.attributes);
                        cs.dirty = true;
                        report.connector(name).import.updated += 1;
                        let keys = ctx.keys.cs_keys(&cs);
                        batch.push(Write::PutCs { object: cs, keys });
                    }
                    // An object created since the last import: a delta (Graph's, DirSync's)
                    // states everything a new object has, so the changes are its image.
                    None => {
                        if let Some(full) = &mut full {
                            full.seen.insert(anchor.clone());
                        }
                        let mut attributes = model::Attributes::new();
                        for change in &changes {
                            attributes.apply(change);
                        }
                        let d = digest(&object_type, &attributes);
                        added.push((
                            ImportedObject {
                                anchor,
                                object_type,
                                attributes,
                            },
                            d,
                        ));
                    }
                },
                ImportEntry::Delete { anchor, .. } => {
                    if let Some(cs) = store.cs_by_anchor(name, &anchor)? {
                        obsolete(ctx, store, &cs, &mut identities, &mut batch)?;
                        report.connector(name).import.deleted += 1;
                    }
                }
            }
        }

        if !changed.is_empty() {
            let ids: Vec<CsId> = changed.iter().map(|(id, _, _)| *id).collect();
            let mut records: HashMap<CsId, CsObject> = store
                .cs_by_ids(&ids)?
                .into_iter()
                .map(|cs| (cs.id, cs))
                .collect();
            for (id, object, d) in changed {
                let Some(mut cs) = records.remove(&id) else {
                    continue;
                };
                cs.object_type = object.object_type;
                cs.attributes = object.attributes;
                cs.digest = d;
                cs.dirty = true;
                report.connector(name).import.updated += 1;
                let keys = ctx.keys.cs_keys(&cs);
                batch.push(Write::PutCs { object: cs, keys });
            }
        }
        if !added.is_empty() {
            let ids = store.allocate_cs_ids(added.len())?;
            for (id, (object, d)) in ids.into_iter().zip(added) {
                let cs = CsObject {
                    id,
                    connector: name.clone(),
                    anchor: Some(object.anchor),
                    object_type: object.object_type,
                    attributes: object.attributes,
                    digest: d,
                    link: None,
                    dirty: true,
                    deprovisioned_at: None,
                };
                report.connector(name).import.added += 1;
                let keys = ctx.keys.cs_keys(&cs);
                batch.push(Write::PutCs { object: cs, keys });
            }
        }

        let last = page.next.is_none();
        if last {
            if let Some(full) = &full {
                sweep(ctx, store, name, full, &mut identities, &mut batch, report)?;
            }
            // A watermark over a file with unreadable rows would skip that file next time and
            // hide the problems; re-reading it is cheap and keeps them in every report.
            if problems == 0 {
                batch.push(Write::SetWatermark {
                    connector: name.clone(),
                    watermark: page.watermark.map(|w| w.0),
                });
            } else {
                batch.push(Write::SetWatermark {
                    connector: name.clone(),
                    watermark: None,
                });
            }
        }
        identities.flush(&ctx.keys, &mut batch);
        store.commit(batch)?;
        crash_point("import-page");
        match page.next {
            Some(cursor) => request.cursor = Some(cursor),
            None => return Ok(true),
        }
    }
}

/// After a complete full import: every stored object that was not seen is gone.
fn sweep(
    ctx: &RunContext<'_>,
    store: &dyn Store,
    name: &ConnectorName,
    full: &FullImport,
    identities: &mut IdentityCache,
    batch: &mut WriteBatch,
    report: &mut RunReport,
) -> Result<(), EngineError> {
    let gone: Vec<CsId> = full
        .stored
        .iter()
        .filter(|(anchor, _)| !full.seen.contains(*anchor))
        .map(|(_, (id, _))| *id)
        .collect();
    if gone.is_empty() {
        return Ok(());
    }
    if full.unreadable > 0 {
        report.error(
            Phase::Import,
            name,
            name.to_string(),
            format!(
                "{} rows could not be read, so the {} objects missing from this import are kept rather than treated as deleted",
                full.unreadable,
                gone.len()
            ),
        );
        return Ok(());
    }
    for chunk in gone.chunks(1000) {
        for cs in store.cs_by_ids(chunk)? {
            obsolete(ctx, store, &cs, identities, batch)?;
            report.connector(name).import.deleted += 1;
        }
    }
    Ok(())
}
