//! [`Store::commit`](crate::Store::commit) for SQLite: every write of a batch in one
//! transaction, with cached statements: a batch of 100,000 writes is one transaction and one
//! append to the write-ahead log.

use model::AttributeName;
use rusqlite::{
    Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior, params,
};

use crate::{
    CsObject, ExportState, IdentityRecord, PendingExport, Result, StoreError, Write, WriteBatch,
};

use super::Counter;
use super::codec::{
    attribute_key, db_error, digest_to_sql, direction_text, state_text, timestamp_parts,
    timestamp_text, to_record,
};

/// Why one write failed, before it is put in the batch's context.
#[derive(Debug)]
enum Failure {
    Sql(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure::Sql(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

/// The highest ids a batch writes, so the id counters can be moved past them.
#[derive(Debug, Default)]
pub(super) struct Highest {
    pub(super) cs: Option<i64>,
    pub(super) identity: Option<i64>,
}

/// Applies a batch; returns the highest ids it wrote.
pub(super) fn commit(conn: &mut Connection, batch: WriteBatch) -> Result<Highest> {
    if batch.is_empty() {
        return Ok(Highest::default());
    }
    // A batch that marks exports in flight is committed with a full sync: the engine calls
    // the connector right after, and if a power loss took the mark back, the next run would
    // not know the export may have landed and could create the object twice. Other batches
    // keep NORMAL, whose losses the next run re-derives.
    let marks_in_flight = batch.writes.iter().any(|w| {
        matches!(w, Write::PutExport(e) if e.state == ExportState::InFlight)
            || matches!(w, Write::MarkInFlight(_))
    });
    if !marks_in_flight {
        return apply_batch(conn, batch);
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db_error("switch to full sync to mark exports in flight"))?;
    let result = apply_batch(conn, batch);
    let restored = conn
        .pragma_update(None, "synchronous", "NORMAL")
        .map_err(db_error("switch back to normal sync"));
    let highest = result?;
    restored?;
    Ok(highest)
}

fn apply_batch(conn: &mut Connection, batch: WriteBatch) -> Result<Highest> {
    let total = batch.len();
    // IMMEDIATE takes the write lock up front: a deferred transaction that later needs to
    // upgrade its lock can fail with SQLITE_BUSY at once, without waiting the busy timeout.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_error(format!("begin a batch of {total} writes")))?;
    let mut highest = Highest::default();
    for (index, write) in batch.writes.iter().enumerate() {
        if let Err(failure) = apply(&tx, write, &mut highest) {
            // Dropping `tx` rolls back everything this batch wrote.
            return Err(explain(&tx, index, total, write, failure));
        }
    }
    // Ids are meant to come from allocate_*_ids; if a caller wrote an id it did not reserve,
    // move the counter past it so no later reservation includes it. (The handle that
    // committed also gives up its block; other open handles keep theirs: writing ids nobody
    // reserved is a caller bug, and this is only a guard.)
    for (counter, id) in [
        (Counter::Cs, highest.cs),
        (Counter::Identity, highest.identity),
    ] {
        if let Some(id) = id {
            let name = counter.name();
            tx.prepare_cached("UPDATE id_counters SET next = max(next, ?2) WHERE name = ?1")
                .and_then(|mut stmt| stmt.execute(params![name, id.saturating_add(1)]))
                .map_err(db_error(format!("advance the {name} id counter")))?;
        }
    }
    tx.commit()
        .map_err(db_error(format!("commit a batch of {total} writes")))?;
    Ok(highest)
}

fn apply(tx: &Transaction<'_>, write: &Write, highest: &mut Highest) -> Result<(), Failure> {
    match write {
        Write::PutCs { object, keys } => {
            put_cs(tx, object)?;
            replace_cs_keys(tx, object, keys)?;
            highest.cs = highest.cs.max(Some(object.id.0));
        }
        Write::DeleteCs(id) => {
            tx.prepare_cached("DELETE FROM cs_objects WHERE id = ?1")?
                .execute([id.0])?;
            tx.prepare_cached("DELETE FROM cs_keys WHERE cs_id = ?1")?
                .execute([id.0])?;
            tx.prepare_cached("DELETE FROM pending_exports WHERE cs_id = ?1")?
                .execute([id.0])?;
        }
        Write::SetLink { id, link } => {
            let link = link.as_ref();
            tx.prepare_cached(
                "UPDATE cs_objects SET link_identity = ?2, link_rule = ?3, link_direction = ?4, link_at = ?5, dirty = 0
                 WHERE id = ?1",
            )?
            .execute(params![
                id.0,
                link.map(|l| l.identity.0),
                link.map(|l| l.rule.as_str()),
                link.map(|l| direction_text(l.direction)),
                link.map(|l| timestamp_text(l.at)),
            ])?;
        }
        Write::MarkInFlight(id) => {
            tx.prepare_cached("UPDATE pending_exports SET state = 'in_flight' WHERE cs_id = ?1")?
                .execute([id.0])?;
        }
        Write::CleanCs(id) => {
            tx.prepare_cached("UPDATE cs_objects SET dirty = 0 WHERE id = ?1")?
                .execute([id.0])?;
        }
        Write::PutIdentity { record, keys } => {
            put_identity(tx, record)?;
            let id = record.identity.id.0;
            replace_identity_keys(tx, id, keys)?;
            highest.identity = highest.identity.max(Some(id));
        }
        Write::DeleteIdentity(id) => {
            tx.prepare_cached("DELETE FROM identities WHERE id = ?1")?
                .execute([id.0])?;
            tx.prepare_cached("DELETE FROM identity_keys WHERE identity = ?1")?
                .execute([id.0])?;
            tx.prepare_cached("DELETE FROM identity_history WHERE identity = ?1")?
                .execute([id.0])?;
        }
        Write::CleanIdentity(id) => {
            tx.prepare_cached("UPDATE identities SET dirty = 0 WHERE id = ?1")?
                .execute([id.0])?;
        }
        Write::TouchIdentity(id) => {
            tx.prepare_cached("UPDATE identities SET dirty = 1 WHERE id = ?1")?
                .execute([id.0])?;
        }
        Write::AppendHistory(entry) => {
            let changes = to_record(&entry.changes, || {
                format!("a history entry of {}", entry.identity)
            })?;
            tx.prepare_cached(
                "INSERT INTO identity_history (identity, run, at, event, changes) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![entry.identity.0, entry.run.0, timestamp_text(entry.at), entry.event, changes])?;
        }
        Write::PutExport(export) => put_export(tx, export)?,
        Write::DropExport(id) => {
            tx.prepare_cached("DELETE FROM pending_exports WHERE cs_id = ?1")?
                .execute([id.0])?;
        }
        Write::SetWatermark {
            connector,
            watermark: Some(watermark),
        } => {
            tx.prepare_cached(
                "INSERT INTO watermarks (connector, watermark) VALUES (?1, ?2)
                 ON CONFLICT (connector) DO UPDATE SET watermark = excluded.watermark",
            )?
            .execute(params![connector.as_str(), watermark])?;
        }
        Write::SetWatermark {
            connector,
            watermark: None,
        } => {
            tx.prepare_cached("DELETE FROM watermarks WHERE connector = ?1")?
                .execute([connector.as_str()])?;
        }
    }
    Ok(())
}

fn put_cs(tx: &Transaction<'_>, object: &CsObject) -> Result<(), Failure> {
    let attributes = to_record(&object.attributes, || {
        format!("the attributes of connector-space object {}", object.id.0)
    })?;
    let link = object.link.as_ref();
    // An upsert on the id only: a clash on (connector, anchor) with another object must fail
    // the batch. INSERT OR REPLACE would instead delete that other object silently.
    tx.prepare_cached(
        "INSERT INTO cs_objects (id, connector, anchor, object_type, attributes, digest,
                                 link_identity, link_rule, link_direction, link_at, dirty, deprovisioned_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (id) DO UPDATE SET
             connector = excluded.connector, anchor = excluded.anchor, object_type = excluded.object_type,
             attributes = excluded.attributes, digest = excluded.digest,
             link_identity = excluded.link_identity, link_rule = excluded.link_rule,
             link_direction = excluded.link_direction, link_at = excluded.link_at,
             dirty = excluded.dirty, deprovisioned_at = excluded.deprovisioned_at",
    )?
    .execute(params![
        object.id.0,
        object.connector.as_str(),
        object.anchor.as_ref().map(|a| a.as_str()),
        object.object_type.as_str(),
        attributes,
        digest_to_sql(object.digest),
        link.map(|l| l.identity.0),
        link.map(|l| l.rule.as_str()),
        link.map(|l| direction_text(l.direction)),
        link.map(|l| timestamp_text(l.at)),
        object.dirty,
        object.deprovisioned_at.map(timestamp_text),
    ])?;
    Ok(())
}

/// The wanted key entries of a put: attribute names folded, duplicates removed.
fn wanted_keys(keys: &[(AttributeName, String)]) -> Vec<(String, &str)> {
    let mut wanted: Vec<(String, &str)> = keys
        .iter()
        .map(|(attribute, value)| (attribute_key(attribute), value.as_str()))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    wanted
}

/// Makes an object's key entries exactly `keys`, writing only the entries that change: most
/// puts rewrite an object whose keys are as they were, and reading the few entries is much
/// cheaper than deleting and re-inserting them and their index entries.
fn replace_cs_keys(
    tx: &Transaction<'_>,
    object: &CsObject,
    keys: &[(AttributeName, String)],
) -> Result<(), Failure> {
    let connector = object.connector.as_str();
    let id = object.id.0;
    let wanted = wanted_keys(keys);
    let current: Vec<(String, String, String)> = tx
        .prepare_cached("SELECT connector, attribute, value FROM cs_keys WHERE cs_id = ?1")?
        .query_map([id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (c, attribute, value) in &current {
        // An entry under another connector can only come from an object moved between
        // connectors; it goes too.
        if c != connector || !wanted.iter().any(|(a, v)| a == attribute && v == value) {
            tx.prepare_cached(
                "DELETE FROM cs_keys WHERE connector = ?1 AND attribute = ?2 AND value = ?3 AND cs_id = ?4",
            )?
            .execute(params![c, attribute, value, id])?;
        }
    }
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO cs_keys (connector, attribute, value, cs_id) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (attribute, value) in &wanted {
        if !current
            .iter()
            .any(|(c, a, v)| c == connector && a == attribute && v == value)
        {
            insert.execute(params![connector, attribute, value, id])?;
        }
    }
    Ok(())
}

/// As [`replace_cs_keys`], for an identity's entries in the join index.
fn replace_identity_keys(
    tx: &Transaction<'_>,
    id: i64,
    keys: &[(AttributeName, String)],
) -> Result<(), Failure> {
    let wanted = wanted_keys(keys);
    let current: Vec<(String, String)> = tx
        .prepare_cached("SELECT attribute, value FROM identity_keys WHERE identity = ?1")?
        .query_map([id], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (attribute, value) in &current {
        if !wanted.iter().any(|(a, v)| a == attribute && v == value) {
            tx.prepare_cached(
                "DELETE FROM identity_keys WHERE attribute = ?1 AND value = ?2 AND identity = ?3",
            )?
            .execute(params![attribute, value, id])?;
        }
    }
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO identity_keys (attribute, value, identity) VALUES (?1, ?2, ?3)",
    )?;
    for (attribute, value) in &wanted {
        if !current.iter().any(|(a, v)| a == attribute && v == value) {
            insert.execute(params![attribute, value, id])?;
        }
    }
    Ok(())
}

fn put_identity(tx: &Transaction<'_>, record: &IdentityRecord) -> Result<(), Failure> {
    let id = record.identity.id;
    let json = to_record(&record.identity, || format!("identity {id}"))?;
    tx.prepare_cached(
        "INSERT INTO identities (id, record, dirty) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET record = excluded.record, dirty = excluded.dirty",
    )?
    .execute(params![id.0, json, record.dirty])?;
    Ok(())
}

fn put_export(tx: &Transaction<'_>, export: &PendingExport) -> Result<(), Failure> {
    let json = to_record(export, || {
        format!(
            "the pending export of connector-space object {}",
            export.cs_id.0
        )
    })?;
    let next = export.next_attempt_at.map(timestamp_parts);
    tx.prepare_cached(
        "INSERT INTO pending_exports (cs_id, connector, operation, state, quarantined,
                                      next_attempt_s, next_attempt_ns, record)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (cs_id) DO UPDATE SET
             connector = excluded.connector, operation = excluded.operation, state = excluded.state,
             quarantined = excluded.quarantined, next_attempt_s = excluded.next_attempt_s,
             next_attempt_ns = excluded.next_attempt_ns, record = excluded.record",
    )?
    .execute(params![
        export.cs_id.0,
        export.connector.as_str(),
        export.operation.as_str(),
        state_text(export.state),
        export.quarantined,
        next.map(|(s, _)| s),
        next.map(|(_, ns)| ns),
        json,
    ])?;
    Ok(())
}

/// Names the write that failed and why. A put that clashes with another object's anchor is
/// a refusal (the batch is wrong), named with the object that holds the anchor.
fn explain(
    tx: &Transaction<'_>,
    index: usize,
    total: usize,
    write: &Write,
    failure: Failure,
) -> StoreError {
    let what = format!("write {} of {total} ({})", index + 1, describe(write));
    match failure {
        Failure::Store(e) => e,
        Failure::Sql(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
            let message = match write {
                Write::PutCs { object, .. } => anchor_holder(tx, object)
                    .map(|holder| {
                        format!(
                            "anchor {} of {} already belongs to connector-space object {holder}",
                            object.anchor.as_ref().map_or("", |a| a.as_str()),
                            object.connector
                        )
                    })
                    .unwrap_or_else(|| e.to_string()),
                _ => e.to_string(),
            };
            StoreError::Refused { what, message }
        }
        Failure::Sql(e) => db_error(what)(e),
    }
}

fn anchor_holder(tx: &Transaction<'_>, object: &CsObject) -> Option<i64> {
    let anchor = object.anchor.as_ref()?;
    tx.query_row(
        "SELECT id FROM cs_objects WHERE connector = ?1 AND anchor = ?2 AND id <> ?3",
        params![object.connector.as_str(), anchor.as_str(), object.id.0],
        |row| row.get(0),
    )
    .optional()
    .ok()
    .flatten()
}

/// A short description of a write, for errors.
fn describe(write: &Write) -> String {
    match write {
        Write::PutCs { object, .. } => match &object.anchor {
            Some(anchor) => format!(
                "put connector-space object {} ({} {anchor})",
                object.id.0, object.connector
            ),
            None => format!(
                "put connector-space object {} ({} placeholder)",
                object.id.0, object.connector
            ),
        },
        Write::DeleteCs(id) => format!("delete connector-space object {}", id.0),
        Write::CleanCs(id) => format!("clean connector-space object {}", id.0),
        Write::SetLink { id, .. } => format!("set the link of connector-space object {}", id.0),
        Write::MarkInFlight(id) => format!(
            "mark the export of connector-space object {} in flight",
            id.0
        ),
        Write::PutIdentity { record, .. } => format!("put identity {}", record.identity.id),
        Write::DeleteIdentity(id) => format!("delete identity {id}"),
        Write::CleanIdentity(id) => format!("clean identity {id}"),
        Write::TouchIdentity(id) => format!("touch identity {id}"),
        Write::AppendHistory(entry) => format!("append history to {}", entry.identity),
        Write::PutExport(export) => format!(
            "put the export of connector-space object {}",
            export.cs_id.0
        ),
        Write::DropExport(id) => format!("drop the export of connector-space object {}", id.0),
        Write::SetWatermark { connector, .. } => format!("set the watermark of {connector}"),
    }
}
