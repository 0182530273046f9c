//! The embedded store: one SQLite file in WAL mode.
//!
//! One [`SqliteStore`] owns one connection. Reads run in autocommit mode (reads made of several
//! queries share one snapshot); every write goes through one IMMEDIATE transaction per batch.
//! Other processes may open the same file: WAL lets them read while a run commits.
//!
//! Queryable fields (connector, anchor, link, dirty marks, export state) are columns with
//! indexes; the rest of each record is JSON beside them, so a record type can grow a field
//! without a migration. See `schema.rs` for the tables.

mod codec;
mod schema;
mod write;

use std::path::Path;
use std::time::Duration;

use model::{Anchor, AttributeName, ConnectorName, IdentityId, Timestamp};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use crate::{
    CsDigest, CsId, CsObject, HistoryEntry, IdentityRecord, PendingCount, PendingExport, Result,
    RunEnd, RunId, RunRecord, RunStart, Store, StoreError, WriteBatch,
};
use codec::{CS_COLUMNS, CsRow, HISTORY_COLUMNS, RUN_COLUMNS, attribute_key, db_error};

/// How long a statement waits for another process's write lock before it fails. A run's
/// commits are short, so a few seconds covers a concurrent `idsync show` or backup.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The page cache per connection, in KiB.
/// Pages (4 KiB) of WAL between automatic checkpoints.
const WAL_AUTOCHECKPOINT_PAGES: i64 = 16_384;

const PAGE_CACHE_KIB: i64 = 64 * 1024;

/// A commit prepares a handful of statements per write kind; keep them all cached.
const STATEMENT_CACHE: usize = 64;

/// The embedded store backend.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    /// Where the store lives, for error messages.
    path: String,
    /// Ids this handle reserved in the store and has not handed out yet.
    identity_ids: IdBlock,
    cs_ids: IdBlock,
}

/// How many ids a handle reserves at a time. Unused ones are lost when the handle closes,
/// which only leaves gaps.
const ID_BLOCK: i64 = 1024;

/// A range of reserved ids, `next..end`.
#[derive(Clone, Copy, Debug, Default)]
struct IdBlock {
    next: i64,
    end: i64,
}

/// The id counters the store keeps.
#[derive(Clone, Copy, Debug)]
enum Counter {
    Identity,
    Cs,
}

impl Counter {
    /// The counter's row in `id_counters`.
    fn name(self) -> &'static str {
        match self {
            Counter::Identity => "identity",
            Counter::Cs => "cs",
        }
    }
}

impl SqliteStore {
    /// Opens the store at `path`, creating the file if it does not exist, and brings its
    /// schema up to date. Fails with [`StoreError::TooNew`] if a newer idsync wrote it.
    pub fn open(path: &Path) -> Result<Self> {
        let shown = path.display().to_string();
        let open_error = |e: rusqlite::Error| StoreError::Open {
            path: shown.clone(),
            message: e.to_string(),
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(open_error)?;
        // Wait for another process's lock from the first statement on, including this check.
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        // Before anything persistent (the journal mode is stored in the file), make sure the
        // file is an idsync store or empty.
        schema::refuse_foreign_database(&conn).map_err(|e| StoreError::Open {
            path: shown.clone(),
            message: match e {
                StoreError::Backend(message) => message,
                e => e.to_string(),
            },
        })?;
        // WAL lets readers (the UI, `idsync show`) run while a sync commits. With WAL, NORMAL
        // sync survives any process crash; a power loss can cost the last commits, which the
        // next run re-derives from its connectors (except in-flight marks: see write.rs).
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(open_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Open {
                path: shown,
                message: format!(
                    "cannot switch to write-ahead logging (journal mode stays {mode:?})"
                ),
            });
        }
        Self::setup(conn, shown)
    }

    /// A private store in memory, gone when dropped. For tests.
    pub fn open_in_memory() -> Result<Self> {
        let conn = Connection::open_in_memory().map_err(|e| StoreError::Open {
            path: ":memory:".into(),
            message: e.to_string(),
        })?;
        Self::setup(conn, ":memory:".into())
    }

    fn setup(mut conn: Connection, path: String) -> Result<Self> {
        let open_error = |e: rusqlite::Error| StoreError::Open {
            path: path.clone(),
            message: e.to_string(),
        };
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_error)?;
        // A run touches every index of a connector space; the default 2 MiB page cache
        // spills to the WAL mid-transaction on large batches.
        conn.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)
            .map_err(open_error)?;
        // A run rewrites the same pages (indexes, counters) in many consecutive batches;
        // checkpointing every 4 MiB of WAL (the default) copies them to the database again
        // and again. 64 MiB between checkpoints copies each hot page once per many batches.
        conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)
            .map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        schema::migrate(&mut conn, schema::MIGRATIONS).map_err(|e| match e {
            // A failed migration names the file. TooNew stays itself so callers can match it;
            // the caller knows which path it opened.
            StoreError::Backend(message) => StoreError::Open {
                path: path.clone(),
                message,
            },
            e => e,
        })?;
        Ok(Self {
            conn,
            path,
            identity_ids: IdBlock::default(),
            cs_ids: IdBlock::default(),
        })
    }

    /// The schema version this build of idsync writes.
    pub fn schema_version() -> i64 {
        schema::supported_version()
    }

    /// Writes a consistent copy of the store to `path` (which must not exist), while other
    /// handles keep reading and writing. The copy is a complete store: open it to restore.
    pub fn backup_to(&self, path: &Path) -> Result<()> {
        let shown = path.display().to_string();
        // VACUUM INTO reads one snapshot and writes a compact copy, without blocking writers
        // for longer than a read does.
        self.conn
            .execute("VACUUM INTO ?1", [&shown])
            .map_err(db_error(format!("back up {} to {shown}", self.path)))?;
        Ok(())
    }

    /// Where the store lives (`:memory:` for an in-memory store).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Hands out `count` ids from this handle's block, reserving a new block in the store
    /// when the current one runs short. Reserving a block per call would cost a transaction
    /// per placeholder when the engine provisions accounts one by one.
    fn allocate(&mut self, counter: Counter, count: usize) -> Result<Vec<i64>> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let too_many = || {
            StoreError::Backend(format!(
                "cannot reserve {count} {} ids: the counter would overflow",
                counter.name()
            ))
        };
        let wanted = i64::try_from(count).map_err(|_| too_many())?;
        let mut block = *self.block(counter);
        if block.end - block.next < wanted {
            // What is left of the old block is given up: ids may have gaps, never repeats.
            let size = wanted.max(ID_BLOCK);
            let first = self.reserve(counter, size)?;
            block = IdBlock {
                next: first,
                end: first.checked_add(size).ok_or_else(too_many)?,
            };
        }
        let ids = (block.next..block.next + wanted).collect();
        block.next += wanted;
        *self.block(counter) = block;
        Ok(ids)
    }

    fn block(&mut self, counter: Counter) -> &mut IdBlock {
        match counter {
            Counter::Identity => &mut self.identity_ids,
            Counter::Cs => &mut self.cs_ids,
        }
    }

    /// Reserves `size` ids in the store, in their own short transaction, so the reservation
    /// holds even if the batch that uses them never commits. Returns the first.
    fn reserve(&mut self, counter: Counter, size: i64) -> Result<i64> {
        let name = counter.name();
        let action = || format!("reserve {size} {name} ids");
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_error(action()))?;
        let first: i64 = tx
            .query_row(
                "SELECT next FROM id_counters WHERE name = ?1",
                [name],
                |row| row.get(0),
            )
            .map_err(db_error(action()))?;
        let end = first.checked_add(size).ok_or_else(|| {
            StoreError::Backend(format!(
                "cannot {}: the {name} id counter would overflow",
                action()
            ))
        })?;
        tx.execute(
            "UPDATE id_counters SET next = ?2 WHERE name = ?1",
            params![name, end],
        )
        .map_err(db_error(action()))?;
        tx.commit().map_err(db_error(action()))?;
        Ok(first)
    }

    /// Runs several queries as one read from a single snapshot, so a read made of many
    /// point queries does not mix states when another process commits in between.
    fn snapshot<T>(&self, action: &str, read: impl FnOnce() -> Result<T>) -> Result<T> {
        // Reads never hold a transaction across calls and a commit needs `&mut self`, so no
        // other transaction can be open on this connection here.
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(db_error(action))?;
        let result = read();
        // Ending a read transaction cannot lose anything; its error only matters if the read
        // itself succeeded.
        let ended = tx.rollback().map_err(db_error(action));
        let value = result?;
        ended?;
        Ok(value)
    }

    /// Runs a query and converts each row, stopping at the first row that does not decode.
    fn query<P, R, T>(
        &self,
        action: &str,
        sql: &str,
        params: P,
        read: fn(&rusqlite::Row<'_>) -> rusqlite::Result<R>,
        convert: impl Fn(R) -> Result<T>,
    ) -> Result<Vec<T>>
    where
        P: rusqlite::Params,
    {
        let mut stmt = self.conn.prepare_cached(sql).map_err(db_error(action))?;
        let rows = stmt.query_map(params, read).map_err(db_error(action))?;
        rows.map(|row| row.map_err(db_error(action)).and_then(&convert))
            .collect()
    }

    fn cs_query<P: rusqlite::Params>(
        &self,
        action: &str,
        where_clause: &str,
        params: P,
    ) -> Result<Vec<CsObject>> {
        let sql = format!("SELECT {CS_COLUMNS} FROM cs_objects WHERE {where_clause}");
        self.query(action, &sql, params, CsRow::read, CsRow::into_object)
    }

    fn export_query<P: rusqlite::Params>(
        &self,
        action: &str,
        where_clause: &str,
        params: P,
    ) -> Result<Vec<PendingExport>> {
        let sql = format!("SELECT cs_id, record, state FROM pending_exports WHERE {where_clause}");
        self.query(
            action,
            &sql,
            params,
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, Vec<u8>>(1)?,
                    row.get::<_, String>(2)?,
                ))
            },
            // The state column is authoritative: `MarkInFlight` updates only the column.
            |(id, record, state)| {
                let mut export = codec::pending_export(id, &record)?;
                export.state = codec::state_from_text(&state)?;
                Ok(export)
            },
        )
    }

    fn count(&self, action: &str, sql: &str, params: impl rusqlite::Params) -> Result<u64> {
        let count: i64 = self
            .conn
            .query_row(sql, params, |row| row.get(0))
            .map_err(db_error(action))?;
        u64::try_from(count).map_err(|_| StoreError::Corrupt {
            what: action.to_owned(),
            message: format!("count {count}"),
        })
    }
}

/// The lower bound of a page: ids are positive, but any id beats `i64::MIN`.
fn after_bound(after: Option<i64>) -> i64 {
    after.unwrap_or(i64::MIN)
}

/// SQLite's LIMIT takes an i64; a limit beyond that is no limit.
fn limit_bound(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// Sorts and de-duplicates requested ids, so list reads return each record once, in id order.
fn distinct_sorted<T: Ord + Copy>(ids: &[T]) -> Vec<T> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}

impl Store for SqliteStore {
    fn allocate_identity_ids(&mut self, count: usize) -> Result<Vec<IdentityId>> {
        Ok(self
            .allocate(Counter::Identity, count)?
            .into_iter()
            .map(IdentityId)
            .collect())
    }

    fn allocate_cs_ids(&mut self, count: usize) -> Result<Vec<CsId>> {
        Ok(self
            .allocate(Counter::Cs, count)?
            .into_iter()
            .map(CsId)
            .collect())
    }

    fn begin_run(&mut self, start: &RunStart) -> Result<RunId> {
        self.conn
            .prepare_cached("INSERT INTO runs (started_at, mode) VALUES (?1, ?2)")
            .and_then(|mut stmt| {
                stmt.execute(params![codec::timestamp_text(start.started_at), start.mode])
            })
            .map_err(db_error("record the start of a run"))?;
        Ok(RunId(self.conn.last_insert_rowid()))
    }

    fn finish_run(&mut self, run: RunId, end: &RunEnd) -> Result<()> {
        let action = format!("record the end of {run}");
        let report = codec::to_json(&end.report, || format!("the report of {run}"))?;
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE runs SET finished_at = ?2, status = ?3, report = ?4 WHERE id = ?1",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    run.0,
                    codec::timestamp_text(end.finished_at),
                    end.status,
                    report
                ])
            })
            .map_err(db_error(&action))?;
        if changed == 0 {
            return Err(StoreError::NotFound {
                what: run.to_string(),
            });
        }
        Ok(())
    }

    fn runs(&self, limit: usize) -> Result<Vec<RunRecord>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?1");
        self.query(
            "read the run history",
            &sql,
            [limit_bound(limit)],
            codec::run_row,
            codec::into_run_record,
        )
    }

    fn watermark(&self, connector: &ConnectorName) -> Result<Option<String>> {
        self.conn
            .prepare_cached("SELECT watermark FROM watermarks WHERE connector = ?1")
            .and_then(|mut stmt| {
                stmt.query_row([connector.as_str()], |row| row.get(0))
                    .optional()
            })
            .map_err(db_error(format!("read the watermark of {connector}")))
    }

    fn cs_digests(&self, connector: &ConnectorName) -> Result<Vec<CsDigest>> {
        self.query(
            &format!("read the digests of {connector}"),
            "SELECT id, anchor, digest FROM cs_objects WHERE connector = ?1 AND anchor IS NOT NULL ORDER BY id",
            [connector.as_str()],
            |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?)),
            |(id, anchor, digest)| {
                Ok(CsDigest { id: CsId(id), anchor: Anchor::new(anchor), digest: codec::digest_from_sql(digest) })
            },
        )
    }

    fn cs_by_anchor(&self, connector: &ConnectorName, anchor: &Anchor) -> Result<Option<CsObject>> {
        let found = self.cs_query(
            &format!("read object {anchor} of {connector}"),
            "connector = ?1 AND anchor = ?2",
            [connector.as_str(), anchor.as_str()],
        )?;
        Ok(found.into_iter().next())
    }

    fn cs_by_ids(&self, ids: &[CsId]) -> Result<Vec<CsObject>> {
        // One indexed point query per id: in-process SQLite answers these in microseconds,
        // and it avoids building SQL of unbounded length.
        self.snapshot("read connector-space objects by id", || {
            let mut objects = Vec::with_capacity(ids.len());
            for id in distinct_sorted(ids) {
                objects.extend(self.cs_query(
                    &format!("read connector-space object {}", id.0),
                    "id = ?1",
                    [id.0],
                )?);
            }
            Ok(objects)
        })
    }

    fn dirty_cs(
        &self,
        connector: &ConnectorName,
        after: Option<CsId>,
        limit: usize,
    ) -> Result<Vec<CsObject>> {
        self.cs_query(
            &format!("read the dirty objects of {connector}"),
            "connector = ?1 AND dirty = 1 AND id > ?2 ORDER BY id LIMIT ?3",
            params![
                connector.as_str(),
                after_bound(after.map(|a| a.0)),
                limit_bound(limit)
            ],
        )
    }

    fn cs_linked_to(&self, identities: &[IdentityId]) -> Result<Vec<CsObject>> {
        self.snapshot("read the objects linked to identities", || {
            let mut objects = Vec::new();
            for identity in distinct_sorted(identities) {
                objects.extend(self.cs_query(
                    &format!("read the objects linked to {identity}"),
                    "link_identity = ?1",
                    [identity.0],
                )?);
            }
            objects.sort_by_key(|o| o.id);
            Ok(objects)
        })
    }

    fn cs_deprovisioned(
        &self,
        connector: &ConnectorName,
        after: Option<CsId>,
        limit: usize,
    ) -> Result<Vec<CsObject>> {
        self.cs_query(
            &format!("read the deprovisioned objects of {connector}"),
            "connector = ?1 AND deprovisioned_at IS NOT NULL AND id > ?2 ORDER BY id LIMIT ?3",
            params![
                connector.as_str(),
                after_bound(after.map(|a| a.0)),
                limit_bound(limit)
            ],
        )
    }

    fn cs_page(
        &self,
        connector: &ConnectorName,
        after: Option<CsId>,
        limit: usize,
    ) -> Result<Vec<CsObject>> {
        self.cs_query(
            &format!("read the connector space of {connector}"),
            "connector = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            params![
                connector.as_str(),
                after_bound(after.map(|a| a.0)),
                limit_bound(limit)
            ],
        )
    }

    fn cs_count(&self, connector: &ConnectorName) -> Result<u64> {
        self.count(
            &format!("count the objects of {connector}"),
            "SELECT count(*) FROM cs_objects WHERE connector = ?1",
            [connector.as_str()],
        )
    }

    fn cs_find(
        &self,
        connector: &ConnectorName,
        attribute: &AttributeName,
        value: &str,
    ) -> Result<Vec<CsId>> {
        self.query(
            &format!("find objects of {connector} by {attribute}"),
            "SELECT cs_id FROM cs_keys WHERE connector = ?1 AND attribute = ?2 AND value = ?3 ORDER BY cs_id",
            params![connector.as_str(), attribute_key(attribute), value],
            |row| row.get::<_, i64>(0),
            |id| Ok(CsId(id)),
        )
    }

    fn identities(&self, ids: &[IdentityId]) -> Result<Vec<IdentityRecord>> {
        self.snapshot("read identities by id", || {
            let mut records = Vec::with_capacity(ids.len());
            for id in distinct_sorted(ids) {
                let row = self
                    .conn
                    .prepare_cached("SELECT record, dirty FROM identities WHERE id = ?1")
                    .and_then(|mut stmt| {
                        stmt.query_row([id.0], |row| {
                            Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, bool>(1)?))
                        })
                        .optional()
                    })
                    .map_err(db_error(format!("read identity {id}")))?;
                if let Some((record, dirty)) = row {
                    records.push(codec::identity_record(id.0, &record, dirty)?);
                }
            }
            Ok(records)
        })
    }

    fn find_identities(&self, attribute: &AttributeName, value: &str) -> Result<Vec<IdentityId>> {
        self.query(
            &format!("find identities by {attribute}"),
            "SELECT identity FROM identity_keys WHERE attribute = ?1 AND value = ?2 ORDER BY identity",
            params![attribute_key(attribute), value],
            |row| row.get::<_, i64>(0),
            |id| Ok(IdentityId(id)),
        )
    }

    fn dirty_identities(&self, after: Option<IdentityId>, limit: usize) -> Result<Vec<IdentityId>> {
        self.query(
            "read the dirty identities",
            "SELECT id FROM identities WHERE dirty = 1 AND id > ?1 ORDER BY id LIMIT ?2",
            params![after_bound(after.map(|a| a.0)), limit_bound(limit)],
            |row| row.get::<_, i64>(0),
            |id| Ok(IdentityId(id)),
        )
    }

    fn identity_page(
        &self,
        after: Option<IdentityId>,
        limit: usize,
    ) -> Result<Vec<IdentityRecord>> {
        self.query(
            "read the vault",
            "SELECT id, record, dirty FROM identities WHERE id > ?1 ORDER BY id LIMIT ?2",
            params![after_bound(after.map(|a| a.0)), limit_bound(limit)],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, Vec<u8>>(1)?,
                    row.get::<_, bool>(2)?,
                ))
            },
            |(id, record, dirty)| codec::identity_record(id, &record, dirty),
        )
    }

    fn identity_count(&self) -> Result<u64> {
        self.count(
            "count the identities",
            "SELECT count(*) FROM identities",
            [],
        )
    }

    fn identity_history(&self, id: IdentityId) -> Result<Vec<HistoryEntry>> {
        let sql = format!(
            "SELECT {HISTORY_COLUMNS} FROM identity_history WHERE identity = ?1 ORDER BY seq"
        );
        self.query(
            &format!("read the history of {id}"),
            &sql,
            [id.0],
            codec::history_entry,
            codec::into_history_entry,
        )
    }

    fn pending_exports(
        &self,
        connector: &ConnectorName,
        after: Option<CsId>,
        limit: usize,
    ) -> Result<Vec<PendingExport>> {
        self.export_query(
            &format!("read the pending exports of {connector}"),
            "connector = ?1 AND cs_id > ?2 ORDER BY cs_id LIMIT ?3",
            params![
                connector.as_str(),
                after_bound(after.map(|a| a.0)),
                limit_bound(limit)
            ],
        )
    }

    fn due_exports(
        &self,
        connector: &ConnectorName,
        now: Timestamp,
        after: Option<CsId>,
        limit: usize,
    ) -> Result<Vec<PendingExport>> {
        let (seconds, nanos) = codec::timestamp_parts(now);
        self.export_query(
            &format!("read the due exports of {connector}"),
            "connector = ?1 AND state = 'pending' AND cs_id > ?2
               AND (next_attempt_s IS NULL OR next_attempt_s < ?3 OR (next_attempt_s = ?3 AND next_attempt_ns <= ?4))
             ORDER BY cs_id LIMIT ?5",
            params![connector.as_str(), after_bound(after.map(|a| a.0)), seconds, nanos, limit_bound(limit)],
        )
    }

    fn in_flight_exports(&self, connector: &ConnectorName) -> Result<Vec<PendingExport>> {
        self.export_query(
            &format!("read the in-flight exports of {connector}"),
            "connector = ?1 AND state = 'in_flight' ORDER BY cs_id",
            [connector.as_str()],
        )
    }

    fn quarantined(&self) -> Result<Vec<PendingExport>> {
        self.export_query(
            "read the quarantined exports",
            "quarantined = 1 ORDER BY cs_id",
            [],
        )
    }

    fn pending_counts(&self) -> Result<Vec<PendingCount>> {
        let mut counts = self.query(
            "count the pending exports",
            "SELECT connector, operation, quarantined, count(*) FROM pending_exports
             GROUP BY connector, operation, quarantined",
            [],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, bool>(2)?,
                    row.get::<_, i64>(3)?,
                ))
            },
            |(connector, operation, quarantined, count)| {
                let what = || format!("pending exports of {connector}");
                Ok(PendingCount {
                    operation: codec::parse_operation(&operation, what)?,
                    connector: ConnectorName::new(connector),
                    quarantined,
                    count: u64::try_from(count).unwrap_or(0),
                })
            },
        )?;
        // Operations sort by their declaration order, not their text.
        counts.sort_by(|a, b| {
            (&a.connector, a.operation, a.quarantined).cmp(&(
                &b.connector,
                b.operation,
                b.quarantined,
            ))
        });
        Ok(counts)
    }

    fn commit(&mut self, batch: WriteBatch) -> Result<()> {
        let written = write::commit(&mut self.conn, batch)?;
        // The batch wrote ids it did not get from this handle, inside this handle's block:
        // the store's counter has moved past them, so give the block up rather than hand
        // them out again.
        for (counter, highest) in [
            (Counter::Cs, written.cs),
            (Counter::Identity, written.identity),
        ] {
            let block = self.block(counter);
            if highest.is_some_and(|id| id >= block.next) {
                *block = IdBlock::default();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
