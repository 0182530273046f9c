//! The schema of the embedded store and its migrations.
//!
//! The schema version lives in the `meta` table. Each migration is one step from version
//! `n` to `n + 1`; steps are only ever appended, never edited, because a store written by an
//! older idsync must reach the current schema by replaying exactly the steps it missed.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::{Result, StoreError};

/// One schema step. `MIGRATIONS[n]` brings a store from version `n` to version `n + 1`.
#[derive(Debug)]
pub(crate) struct Migration {
    /// What the step does, for errors.
    pub(crate) name: &'static str,
    pub(crate) sql: &'static str,
}

/// Every schema step, in order. Append only.
pub(crate) const MIGRATIONS: &[Migration] = &[Migration {
    name: "initial schema",
    sql: r#"
-- Counters for ids the engine reserves before it commits (see allocate_*_ids): a counter
-- only moves forward, so an id handed out is never handed out again, committed or not.
CREATE TABLE id_counters (
    name TEXT PRIMARY KEY,
    next INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO id_counters (name, next) VALUES ('identity', 1), ('cs', 1);

-- AUTOINCREMENT so a run id is never reused, even if the newest run row were removed.
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    mode TEXT NOT NULL,
    finished_at TEXT,
    status TEXT,
    report TEXT
);

CREATE TABLE cs_objects (
    id INTEGER PRIMARY KEY,
    connector TEXT NOT NULL,
    -- NULL for a placeholder (a create not yet confirmed); SQLite lets several NULLs share
    -- a UNIQUE constraint, which is what placeholders need.
    anchor TEXT,
    object_type TEXT NOT NULL,
    attributes TEXT NOT NULL,
    -- The u64 digest, its bits stored as a signed integer.
    digest INTEGER NOT NULL,
    link_identity INTEGER,
    link_rule TEXT,
    link_direction TEXT,
    link_at TEXT,
    dirty INTEGER NOT NULL,
    deprovisioned_at TEXT,
    UNIQUE (connector, anchor)
);
CREATE INDEX cs_objects_by_connector ON cs_objects (connector, id);
CREATE INDEX cs_objects_dirty ON cs_objects (connector, id) WHERE dirty = 1;
CREATE INDEX cs_objects_deprovisioned ON cs_objects (connector, id) WHERE deprovisioned_at IS NOT NULL;
CREATE INDEX cs_objects_by_identity ON cs_objects (link_identity) WHERE link_identity IS NOT NULL;

-- Attribute names are stored ASCII-lowercased: AttributeName compares without case.
CREATE TABLE cs_keys (
    connector TEXT NOT NULL,
    attribute TEXT NOT NULL,
    value TEXT NOT NULL,
    cs_id INTEGER NOT NULL,
    PRIMARY KEY (connector, attribute, value, cs_id)
) WITHOUT ROWID;
CREATE INDEX cs_keys_by_object ON cs_keys (cs_id);

CREATE TABLE identities (
    id INTEGER PRIMARY KEY,
    record TEXT NOT NULL,
    dirty INTEGER NOT NULL
);
CREATE INDEX identities_dirty ON identities (id) WHERE dirty = 1;

CREATE TABLE identity_keys (
    attribute TEXT NOT NULL,
    value TEXT NOT NULL,
    identity INTEGER NOT NULL,
    PRIMARY KEY (attribute, value, identity)
) WITHOUT ROWID;
CREATE INDEX identity_keys_by_identity ON identity_keys (identity);

-- seq keeps append order, which is the order history is read back in.
CREATE TABLE identity_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    identity INTEGER NOT NULL,
    run INTEGER NOT NULL,
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    changes TEXT NOT NULL
);
CREATE INDEX identity_history_by_identity ON identity_history (identity, seq);

-- The full record is kept as JSON; the columns beside it are what queries filter on.
-- next_attempt_at is split into whole seconds and nanoseconds (both floored), because a
-- timestamp in nanoseconds does not fit an INTEGER over jiff's whole range and text does not
-- sort by time; the pair compares exactly.
CREATE TABLE pending_exports (
    cs_id INTEGER PRIMARY KEY,
    connector TEXT NOT NULL,
    operation TEXT NOT NULL,
    state TEXT NOT NULL,
    quarantined INTEGER NOT NULL,
    next_attempt_s INTEGER,
    next_attempt_ns INTEGER,
    record TEXT NOT NULL
);
CREATE INDEX pending_exports_by_connector ON pending_exports (connector, cs_id);
CREATE INDEX pending_exports_in_flight ON pending_exports (connector, cs_id) WHERE state = 'in_flight';
CREATE INDEX pending_exports_quarantined ON pending_exports (cs_id) WHERE quarantined = 1;

CREATE TABLE watermarks (
    connector TEXT PRIMARY KEY,
    watermark TEXT NOT NULL
) WITHOUT ROWID;
"#,
}];

/// The schema version this code writes.
pub(crate) fn supported_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the store to the newest schema in `migrations`, one step per transaction.
///
/// Each step takes the write lock first (`BEGIN IMMEDIATE`) and reads the version again
/// inside it, so two processes opening the same old store do not both apply a step.
pub(crate) fn migrate(conn: &mut Connection, migrations: &[Migration]) -> Result<()> {
    let supported = migrations.len() as i64;
    refuse_foreign_database(conn)?;
    conn.execute_batch("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID")
        .map_err(|e| backend("create the meta table", e))?;
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| backend("lock the store to migrate its schema", e))?;
        let found = read_version(&tx)?;
        if found > supported {
            return Err(StoreError::TooNew { found, supported });
        }
        if found < 0 {
            return Err(StoreError::Corrupt {
                what: "schema version".to_owned(),
                message: format!("{found} is not a schema version"),
            });
        }
        let Some(step) = migrations.get(found as usize) else {
            // Up to date; nothing to commit.
            return Ok(());
        };
        let next = found + 1;
        tx.execute_batch(step.sql).map_err(|e| {
            backend(
                &format!("migrate the schema to version {next} ({})", step.name),
                e,
            )
        })?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [next],
        )
        .map_err(|e| backend(&format!("record schema version {next}"), e))?;
        tx.commit()
            .map_err(|e| backend(&format!("commit schema version {next}"), e))?;
    }
}

/// Fails if the database holds tables but no idsync schema version: migrating it would mix
/// idsync's tables into another application's database.
pub(crate) fn refuse_foreign_database(conn: &Connection) -> Result<()> {
    if !has_meta(conn)? && holds_other_tables(conn)? {
        return Err(StoreError::Backend(
            "the file is a SQLite database without an idsync schema version: it is not an idsync store".into(),
        ));
    }
    Ok(())
}

/// Whether the database has idsync's `meta` table.
fn has_meta(conn: &Connection) -> Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'meta')",
        [],
        |row| row.get(0),
    )
    .map_err(|e| backend("look for the meta table", e))
}

/// Whether the database holds tables besides `meta` (and SQLite's own).
fn holds_other_tables(conn: &Connection) -> Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema
                        WHERE type = 'table' AND name <> 'meta' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\')",
        [],
        |row| row.get(0),
    )
    .map_err(|e| backend("list the tables of the store", e))
}

/// The stored schema version; 0 for a new, empty store.
pub(crate) fn read_version(conn: &Connection) -> Result<i64> {
    let version: Option<i64> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(|e| backend("read the schema version", e))?;
    Ok(version.unwrap_or(0))
}

fn backend(action: &str, e: rusqlite::Error) -> StoreError {
    StoreError::Backend(format!("cannot {action}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEPS: &[Migration] = &[
        Migration {
            name: "create t",
            sql: "CREATE TABLE t (a INTEGER)",
        },
        Migration {
            name: "add t.b",
            sql: "ALTER TABLE t ADD COLUMN b INTEGER",
        },
    ];

    #[test]
    fn a_new_store_gets_every_step_and_the_newest_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, STEPS).unwrap();
        assert_eq!(read_version(&conn).unwrap(), 2);
        conn.execute("INSERT INTO t (a, b) VALUES (1, 2)", [])
            .unwrap();
    }

    #[test]
    fn an_older_store_gets_only_the_steps_it_missed() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, &STEPS[..1]).unwrap();
        assert_eq!(read_version(&conn).unwrap(), 1);
        conn.execute("INSERT INTO t (a) VALUES (1)", []).unwrap();
        // Replaying step 1 would fail ("table t already exists"), so success proves it was skipped.
        migrate(&mut conn, STEPS).unwrap();
        assert_eq!(read_version(&conn).unwrap(), 2);
        let row: (i64, Option<i64>) = conn
            .query_row("SELECT a, b FROM t", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!(row, (1, None));
    }

    #[test]
    fn migrating_an_up_to_date_store_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, STEPS).unwrap();
        migrate(&mut conn, STEPS).unwrap();
        assert_eq!(read_version(&conn).unwrap(), 2);
    }

    #[test]
    fn a_store_newer_than_the_code_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, STEPS).unwrap();
        let err = migrate(&mut conn, &STEPS[..1]).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::TooNew {
                    found: 2,
                    supported: 1
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn a_failing_step_leaves_the_previous_version() {
        let bad: &[Migration] = &[
            Migration {
                name: "create t",
                sql: "CREATE TABLE t (a INTEGER)",
            },
            Migration {
                name: "broken",
                sql: "CREATE TABLE t (a)",
            },
        ];
        let mut conn = Connection::open_in_memory().unwrap();
        let err = migrate(&mut conn, bad).unwrap_err();
        assert!(err.to_string().contains("version 2 (broken)"), "{err}");
        assert_eq!(read_version(&conn).unwrap(), 1);
    }

    #[test]
    fn another_applications_database_is_not_migrated() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE invoices (id INTEGER)")
            .unwrap();
        let err = migrate(&mut conn, STEPS).unwrap_err();
        assert!(err.to_string().contains("not an idsync store"), "{err}");
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 't'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0, "no migration step ran");
    }

    #[test]
    fn the_real_migrations_apply_to_a_new_store() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, MIGRATIONS).unwrap();
        assert_eq!(read_version(&conn).unwrap(), supported_version());
    }
}
