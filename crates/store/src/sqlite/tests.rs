//! Unit tests of the SQLite backend: opening, schema versions, id blocks, corrupt rows.

use super::*;

#[test]
fn a_new_store_is_at_the_newest_schema_version() {
    let store = SqliteStore::open_in_memory().unwrap();
    assert_eq!(
        schema::read_version(&store.conn).unwrap(),
        SqliteStore::schema_version()
    );
}

#[test]
fn opening_a_store_written_by_a_newer_idsync_fails_with_too_new() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("idsync.db");
    let store = SqliteStore::open(&path).unwrap();
    let newer = SqliteStore::schema_version() + 1;
    store
        .conn
        .execute(
            "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
            [newer],
        )
        .unwrap();
    drop(store);
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found, supported } if found == newer && supported == newer - 1),
        "{err:?}"
    );
}

fn counter(store: &SqliteStore, name: &str) -> i64 {
    store
        .conn
        .query_row(
            "SELECT next FROM id_counters WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn ids_come_from_a_reserved_block_without_a_transaction_each() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let first = store.allocate_cs_ids(1).unwrap();
    assert_eq!(
        counter(&store, "cs"),
        first[0].0 + ID_BLOCK,
        "one block reserved"
    );
    let more = store.allocate_cs_ids(10).unwrap();
    assert_eq!(
        counter(&store, "cs"),
        first[0].0 + ID_BLOCK,
        "served from the block"
    );
    assert_eq!(more.first().map(|id| id.0), Some(first[0].0 + 1));
    // A request larger than what is left reserves a new block of at least its size.
    let big = store.allocate_cs_ids(5000).unwrap();
    assert_eq!(big.len(), 5000);
    assert!(big[0].0 >= first[0].0 + ID_BLOCK, "{:?}", big[0]);
    assert_eq!(counter(&store, "cs"), big[0].0 + 5000);
}

#[test]
fn an_unreserved_id_written_inside_the_block_is_not_handed_out() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let first = store.allocate_identity_ids(1).unwrap()[0];
    let squatter = IdentityId(first.0 + 5);
    let record = IdentityRecord {
        identity: model::vault::Identity::new(squatter, "person".into(), RunId(1)),
        dirty: false,
    };
    store
        .commit(WriteBatch {
            writes: vec![crate::Write::PutIdentity {
                record,
                keys: vec![],
            }],
        })
        .unwrap();
    let next = store.allocate_identity_ids(100).unwrap();
    assert!(
        !next.contains(&squatter),
        "{squatter} is in use but was handed out"
    );
    assert!(!next.contains(&first));
}

#[test]
fn a_file_store_uses_write_ahead_logging() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("idsync.db")).unwrap();
    let mode: String = store
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_file_that_is_not_a_store_is_an_open_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(
        &path,
        "these are not the droids you are looking for, repeated to fill a page".repeat(20),
    )
    .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(&err, StoreError::Open { path: p, .. } if p.ends_with("notes.txt")),
        "{err:?}"
    );
}

#[test]
fn a_missing_directory_is_an_open_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStore::open(&dir.path().join("no/such/dir/idsync.db")).unwrap_err();
    assert!(err.to_string().contains("no/such/dir/idsync.db"), "{err}");
}

#[test]
fn a_corrupt_identity_row_is_reported_not_panicked_on() {
    let store = SqliteStore::open_in_memory().unwrap();
    store
        .conn
        .execute(
            "INSERT INTO identities (id, record, dirty) VALUES (7, x'ff00ff', 1)",
            [],
        )
        .unwrap();
    let err = store.identities(&[IdentityId(7)]).unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { what, .. } if what == "identity I-7"),
        "{err:?}"
    );
    assert!(store.identity_page(None, 10).is_err());
}

#[test]
fn a_text_digest_is_corruption() {
    let store = SqliteStore::open_in_memory().unwrap();
    store
        .conn
        .execute(
            "INSERT INTO cs_objects (id, connector, anchor, object_type, attributes, digest, dirty)
             VALUES (1, 'hr', 'E1', 'person', '{}', 'abc', 0)",
            [],
        )
        .unwrap();
    let err = store.cs_page(&"hr".into(), None, 10).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
}

#[test]
fn marking_an_export_in_flight_commits_and_returns_to_normal_sync() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("idsync.db")).unwrap();
    let export = crate::PendingExport {
        cs_id: CsId(1),
        connector: "ad".into(),
        identity: None,
        anchor: None,
        object_type: "user".into(),
        operation: crate::Operation::Create,
        change: model::ObjectChange::Delete,
        reasons: vec![],
        state: crate::ExportState::InFlight,
        attempts: 0,
        next_attempt_at: None,
        last_error: None,
        quarantined: false,
        created_run: RunId(1),
    };
    store
        .commit(WriteBatch {
            writes: vec![crate::Write::PutExport(export)],
        })
        .unwrap();
    assert_eq!(store.in_flight_exports(&"ad".into()).unwrap().len(), 1);
    let synchronous: i64 = store
        .conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    assert_eq!(synchronous, 1, "NORMAL again after the in-flight batch");
}
