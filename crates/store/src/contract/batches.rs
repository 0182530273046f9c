//! Whole batches: order, absent records, atomicity and durability.

use super::fixtures::*;

pub fn a_batch_applies_its_writes_in_order(open: Open<'_>) {
    let mut store = open("a_batch_applies_its_writes_in_order");
    let mut clean = identity(IdentityId(2), "E2");
    clean.dirty = false;
    commit(
        &mut *store,
        vec![
            put_cs(cs(CsId(1), HR, "E1")),
            Write::DeleteCs(CsId(1)),
            Write::DeleteCs(CsId(2)),
            put_cs(cs(CsId(2), HR, "E2")),
            put_identity(clean),
            Write::TouchIdentity(IdentityId(2)),
            Write::PutExport(export(CsId(2), HR, Operation::Update)),
            Write::DropExport(CsId(2)),
        ],
    );
    assert_eq!(
        ids(&ok("reading hr", store.cs_page(&connector(HR), None, 10))),
        vec![2],
        "put then delete, delete then put"
    );
    assert_eq!(
        ok("dirty identities", store.dirty_identities(None, 10)),
        vec![IdentityId(2)],
        "touch after put"
    );
    assert!(
        ok(
            "reading exports",
            store.pending_exports(&connector(HR), None, 10)
        )
        .is_empty(),
        "drop after put"
    );
    // An object moved to a new anchor in the same batch that frees the old one.
    commit(
        &mut *store,
        vec![Write::DeleteCs(CsId(2)), put_cs(cs(CsId(3), HR, "E2"))],
    );
    assert_eq!(
        ok(
            "reading by anchor",
            store.cs_by_anchor(&connector(HR), &Anchor::new("E2"))
        )
        .map(|o| o.id),
        Some(CsId(3))
    );
}

/// Writes that address a record the store does not hold do nothing, so a batch replayed
/// after a crash, or one that cleans an object deleted earlier in the run, still commits.
pub fn writes_to_absent_records_do_nothing(open: Open<'_>) {
    let mut store = open("writes_to_absent_records_do_nothing");
    commit(
        &mut *store,
        vec![
            Write::CleanCs(CsId(9)),
            Write::DeleteCs(CsId(9)),
            Write::CleanIdentity(IdentityId(9)),
            Write::TouchIdentity(IdentityId(9)),
            Write::DeleteIdentity(IdentityId(9)),
            Write::DropExport(CsId(9)),
            Write::SetWatermark {
                connector: connector(HR),
                watermark: None,
            },
        ],
    );
    assert_eq!(
        ok("counting identities", store.identity_count()),
        0,
        "touching an absent identity creates nothing"
    );
    assert!(ok("dirty identities", store.dirty_identities(None, 10)).is_empty());
    assert!(ok("reading by ids", store.cs_by_ids(&[CsId(9)])).is_empty());
    commit(&mut *store, Vec::new());
}

/// A batch that fails part way leaves nothing of itself behind, and the store keeps working.
pub fn a_failing_batch_leaves_nothing_applied(open: Open<'_>) {
    let mut store = open("a_failing_batch_leaves_nothing_applied");
    let hr = connector(HR);
    let mut existing = cs(CsId(1), HR, "E1");
    existing.dirty = true;
    let before_identity = identity(IdentityId(1), "E1");
    commit(
        &mut *store,
        vec![
            Write::PutCs {
                object: existing.clone(),
                keys: keys(&[("mail", "e1@example.com")]),
            },
            Write::PutIdentity {
                record: before_identity.clone(),
                keys: keys(&[("employeeId", "E1")]),
            },
            Write::PutExport(export(CsId(1), HR, Operation::Update)),
            Write::SetWatermark {
                connector: hr.clone(),
                watermark: Some("w1".into()),
            },
        ],
    );

    let mut changed_identity = identity(IdentityId(1), "E1-changed");
    changed_identity.dirty = false;
    let entry = HistoryEntry {
        identity: IdentityId(1),
        run: crate::RunId(2),
        at: t0(),
        event: "updated".into(),
        changes: Vec::new(),
    };
    let batch = vec![
        Write::PutCs {
            object: cs(CsId(2), HR, "E2"),
            keys: keys(&[("mail", "e2@example.com")]),
        },
        Write::CleanCs(CsId(1)),
        Write::PutIdentity {
            record: changed_identity,
            keys: keys(&[("employeeId", "E1-changed")]),
        },
        Write::PutIdentity {
            record: identity(IdentityId(2), "E2"),
            keys: keys(&[("employeeId", "E2")]),
        },
        Write::AppendHistory(entry),
        Write::DropExport(CsId(1)),
        Write::PutExport(export(CsId(2), HR, Operation::Create)),
        Write::SetWatermark {
            connector: hr.clone(),
            watermark: Some("w2".into()),
        },
        // Another object claiming hr's anchor E1: the batch must fail here, after all of the above.
        put_cs(cs(CsId(3), HR, "E1")),
        Write::DeleteIdentity(IdentityId(1)),
    ];
    let result = store.commit(WriteBatch { writes: batch });
    match result {
        Err(StoreError::Refused { .. }) => {}
        Err(e) => panic!("a clashing anchor must be refused (StoreError::Refused), not: {e}"),
        Ok(()) => panic!("a batch giving two hr objects the anchor E1 committed"),
    }

    assert_eq!(
        ok("reading hr", store.cs_page(&hr, None, 10)),
        vec![existing.clone()],
        "no object added, none cleaned"
    );
    assert_eq!(
        ok(
            "finding",
            store.cs_find(&hr, &"mail".into(), "e2@example.com")
        ),
        vec![],
        "no key added"
    );
    assert_eq!(
        ok(
            "finding",
            store.cs_find(&hr, &"mail".into(), "e1@example.com")
        ),
        vec![CsId(1)]
    );
    assert_eq!(
        ok("reading the vault", store.identity_page(None, 10)),
        vec![before_identity],
        "the vault is unchanged"
    );
    assert_eq!(
        ok("finding", store.find_identities(&"employeeId".into(), "E1")),
        vec![IdentityId(1)]
    );
    assert!(ok("finding", store.find_identities(&"employeeId".into(), "E2")).is_empty());
    assert!(
        ok("reading history", store.identity_history(IdentityId(1))).is_empty(),
        "no history appended"
    );
    assert_eq!(
        export_ids(&ok("reading exports", store.pending_exports(&hr, None, 10))),
        vec![1],
        "exports unchanged"
    );
    assert_eq!(
        ok("reading a watermark", store.watermark(&hr)).as_deref(),
        Some("w1"),
        "the watermark did not advance"
    );

    // The store is still usable, and the same writes without the clash commit.
    commit(
        &mut *store,
        vec![put_cs(cs(CsId(2), HR, "E2")), Write::CleanCs(CsId(1))],
    );
    assert_eq!(
        ids(&ok("reading hr", store.cs_page(&hr, None, 10))),
        vec![1, 2]
    );
    assert!(ok("reading dirty", store.dirty_cs(&hr, None, 10)).is_empty());
}

/// Everything committed is still there after the store is closed and opened again.
pub fn data_survives_close_and_reopen(open: Open<'_>) {
    const NAME: &str = "data_survives_close_and_reopen";
    let mut store = open(NAME);
    let run = ok(
        "beginning a run",
        store.begin_run(&RunStart {
            started_at: t0(),
            mode: "run".into(),
        }),
    );
    let mut object = cs(CsId(1), HR, "E1");
    object.link = Some(link(IdentityId(1)));
    object.dirty = true;
    let record = identity(IdentityId(1), "E1");
    let entry = HistoryEntry {
        identity: IdentityId(1),
        run,
        at: t0(),
        event: "projected by hr-people".into(),
        changes: Vec::new(),
    };
    let mut pending = export(CsId(2), AD, Operation::Create);
    pending.quarantined = true;
    pending.next_attempt_at = Some(at("2024-05-01T09:00:00Z"));
    commit(
        &mut *store,
        vec![
            Write::PutCs {
                object: object.clone(),
                keys: keys(&[("employeeId", "E1")]),
            },
            put_cs(placeholder(CsId(2), AD)),
            Write::PutIdentity {
                record: record.clone(),
                keys: keys(&[("employeeId", "E1")]),
            },
            Write::AppendHistory(entry.clone()),
            Write::PutExport(pending.clone()),
            Write::SetWatermark {
                connector: connector(HR),
                watermark: Some("w1".into()),
            },
        ],
    );
    let end = RunEnd {
        finished_at: t0(),
        status: "ok".into(),
        report: serde_json::json!({ "ok": true }),
    };
    ok("finishing a run", store.finish_run(run, &end));
    let reserved = ok("allocating", store.allocate_cs_ids(1));
    drop(store);

    let store = open(NAME);
    let runs = ok("reading runs", store.runs(10));
    assert_eq!(runs.len(), 1, "the run survives");
    assert_eq!(runs[0].end.as_ref(), Some(&end));
    assert_eq!(
        ok(
            "reading by anchor",
            store.cs_by_anchor(&connector(HR), &Anchor::new("E1"))
        ),
        Some(object)
    );
    assert_eq!(
        ok("counting", store.cs_count(&connector(AD))),
        1,
        "the placeholder survives"
    );
    assert_eq!(
        ok(
            "finding",
            store.cs_find(&connector(HR), &"employeeId".into(), "E1")
        ),
        vec![CsId(1)]
    );
    assert_eq!(
        ok("reading identities", store.identities(&[IdentityId(1)])),
        vec![record]
    );
    assert_eq!(
        ok("finding", store.find_identities(&"employeeId".into(), "E1")),
        vec![IdentityId(1)]
    );
    assert_eq!(
        ok("reading history", store.identity_history(IdentityId(1))),
        vec![entry]
    );
    assert_eq!(
        ok("reading quarantined", store.quarantined()),
        vec![pending]
    );
    assert_eq!(
        ok("reading a watermark", store.watermark(&connector(HR))).as_deref(),
        Some("w1")
    );
    drop(store);
    let mut store = open(NAME);
    let next = ok("allocating", store.allocate_cs_ids(1));
    assert!(
        next[0] != reserved[0] && next[0] != CsId(1) && next[0] != CsId(2),
        "an id reserved or written before the reopen was handed out again: {next:?}"
    );
}
