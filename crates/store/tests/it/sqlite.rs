//! Behaviour specific to the SQLite backend.

use store::{CsId, CsObject, SqliteStore, Store, StoreError, Write, WriteBatch};

fn object(id: i64, anchor: &str) -> CsObject {
    CsObject {
        id: CsId(id),
        connector: "hr".into(),
        anchor: Some(anchor.into()),
        object_type: "person".into(),
        attributes: model::Attributes::new().with("employeeId", anchor),
        digest: id as u64,
        link: None,
        dirty: true,
        deprovisioned_at: None,
    }
}

#[test]
fn a_clashing_anchor_names_the_write_and_the_holder() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    store
        .commit(WriteBatch {
            writes: vec![Write::PutCs {
                object: object(1, "E1"),
                keys: vec![],
            }],
        })
        .unwrap();
    let err = store
        .commit(WriteBatch {
            writes: vec![
                Write::CleanCs(CsId(1)),
                Write::PutCs {
                    object: object(2, "E1"),
                    keys: vec![],
                },
            ],
        })
        .unwrap_err();
    let StoreError::Refused { what, message } = &err else {
        panic!("expected a refusal, got {err:?}")
    };
    assert_eq!(what, "write 2 of 2 (put connector-space object 2 (hr E1))");
    assert_eq!(
        message,
        "anchor E1 of hr already belongs to connector-space object 1"
    );
}

#[test]
fn two_handles_on_one_file_see_each_others_commits_and_never_share_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("idsync.db");
    let mut writer = SqliteStore::open(&path).unwrap();
    let mut reader = SqliteStore::open(&path).unwrap();
    writer
        .commit(WriteBatch {
            writes: vec![Write::PutCs {
                object: object(1, "E1"),
                keys: vec![],
            }],
        })
        .unwrap();
    assert_eq!(reader.cs_count(&"hr".into()).unwrap(), 1);
    let mut ids = writer.allocate_cs_ids(10).unwrap();
    ids.extend(reader.allocate_cs_ids(10).unwrap());
    ids.extend(writer.allocate_cs_ids(10).unwrap());
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        30,
        "two handles handed out the same id: {ids:?}"
    );
    assert!(!ids.contains(&CsId(1)), "id 1 is in use");
}

#[test]
fn a_large_batch_commits_in_one_transaction() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let writes = (1..=20_000)
        .map(|id| Write::PutCs {
            object: object(id, &format!("E{id}")),
            keys: vec![("mail".into(), format!("e{id}@example.com"))],
        })
        .collect();
    store.commit(WriteBatch { writes }).unwrap();
    assert_eq!(store.cs_count(&"hr".into()).unwrap(), 20_000);
    assert_eq!(
        store
            .cs_find(&"hr".into(), &"MAIL".into(), "e777@example.com")
            .unwrap(),
        vec![CsId(777)]
    );
    assert_eq!(
        store
            .dirty_cs(&"hr".into(), Some(CsId(19_998)), 10)
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn an_object_moved_to_another_connector_takes_its_keys_along() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let mail = || vec![("mail".into(), "ada@example.com".to_owned())];
    store
        .commit(WriteBatch {
            writes: vec![Write::PutCs {
                object: object(1, "E1"),
                keys: mail(),
            }],
        })
        .unwrap();
    let moved = CsObject {
        connector: "ad".into(),
        ..object(1, "E1")
    };
    store
        .commit(WriteBatch {
            writes: vec![Write::PutCs {
                object: moved,
                keys: mail(),
            }],
        })
        .unwrap();
    assert!(
        store
            .cs_find(&"hr".into(), &"mail".into(), "ada@example.com")
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .cs_find(&"ad".into(), &"mail".into(), "ada@example.com")
            .unwrap(),
        vec![CsId(1)]
    );
}

#[test]
fn another_applications_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
        .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(&err, StoreError::Open { path: p, message } if p.ends_with("crm.db") && message.contains("not an idsync store")),
        "{err:?}"
    );
    let tables: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 1, "only the application's own table");
    let mode: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete", "the journal mode is left as it was");
}

/// Two processes (here, two threads with their own handles) committing to one file wait for
/// each other's write lock instead of failing with "database is locked".
#[test]
fn concurrent_writers_on_one_file_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("idsync.db");
    drop(SqliteStore::open(&path).unwrap());
    let writers: Vec<_> = (0..2)
        .map(|writer| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut store = SqliteStore::open(&path).unwrap();
                for round in 0..50 {
                    let ids = store.allocate_cs_ids(20).unwrap();
                    let writes = ids
                        .iter()
                        .map(|id| Write::PutCs {
                            object: object(id.0, &format!("W{writer}-{round}-{}", id.0)),
                            keys: vec![],
                        })
                        .collect();
                    store.commit(WriteBatch { writes }).unwrap();
                    // Read in between, so readers and writers interleave too.
                    store.cs_count(&"hr".into()).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("a writer panicked");
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.cs_count(&"hr".into()).unwrap(), 2 * 50 * 20);
}

#[test]
fn a_backup_is_a_complete_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("idsync.db")).unwrap();
    store
        .commit(WriteBatch {
            writes: vec![
                Write::PutCs {
                    object: object(1, "E1"),
                    keys: vec![("mail".into(), "ada@example.com".into())],
                },
                Write::SetWatermark {
                    connector: "hr".into(),
                    watermark: Some("w1".into()),
                },
            ],
        })
        .unwrap();
    let copy = dir.path().join("backup.db");
    store.backup_to(&copy).unwrap();
    let err = store.backup_to(&copy).unwrap_err();
    assert!(err.to_string().contains("backup.db"), "{err}");

    let restored = SqliteStore::open(&copy).unwrap();
    assert_eq!(
        restored.cs_by_ids(&[CsId(1)]).unwrap(),
        vec![object(1, "E1")]
    );
    assert_eq!(
        restored
            .cs_find(&"hr".into(), &"mail".into(), "ada@example.com")
            .unwrap(),
        vec![CsId(1)]
    );
    assert_eq!(
        restored.watermark(&"hr".into()).unwrap().as_deref(),
        Some("w1")
    );
}
