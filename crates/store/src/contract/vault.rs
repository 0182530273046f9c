//! Identities, the join index and history.

use super::fixtures::*;

pub fn identities_put_read_dirty_clean_touch(open: Open<'_>) {
    let mut store = open("identities_put_read_dirty_clean_touch");
    let mut records: Vec<IdentityRecord> = (1..=5)
        .map(|id| identity(IdentityId(id), &format!("E{id}")))
        .collect();
    records[1].dirty = false;
    records[3].dirty = false;
    commit(
        &mut *store,
        records.iter().rev().cloned().map(put_identity).collect(),
    );

    assert_eq!(ok("counting identities", store.identity_count()), 5);
    let read = ok(
        "reading identities",
        store.identities(&[IdentityId(4), IdentityId(2), IdentityId(9), IdentityId(2)]),
    );
    assert_eq!(
        read,
        vec![records[1].clone(), records[3].clone()],
        "each stored identity once, in id order"
    );
    let page = all_pages(
        2,
        |after, limit| {
            ok(
                "paging identities",
                store.identity_page(after.map(IdentityId), limit),
            )
        },
        |r| r.identity.id.0,
    );
    assert_eq!(page, vec![1, 2, 3, 4, 5]);
    assert_eq!(
        ok("reading a page", store.identity_page(None, 10)),
        records,
        "identities read back as written"
    );

    let dirty = all_pages(
        2,
        |after, limit| {
            ok(
                "reading dirty",
                store.dirty_identities(after.map(IdentityId), limit),
            )
        },
        |id| id.0,
    );
    assert_eq!(dirty, vec![1, 3, 5]);

    commit(
        &mut *store,
        vec![
            Write::CleanIdentity(IdentityId(1)),
            Write::TouchIdentity(IdentityId(4)),
        ],
    );
    let dirty = ok("reading dirty", store.dirty_identities(None, 10));
    assert_eq!(
        dirty,
        vec![IdentityId(3), IdentityId(4), IdentityId(5)],
        "clean removes, touch adds"
    );
    let read = ok(
        "reading identities",
        store.identities(&[IdentityId(1), IdentityId(4)]),
    );
    assert_eq!(
        read.iter().map(|r| r.dirty).collect::<Vec<_>>(),
        vec![false, true]
    );
    assert_eq!(
        read[1].identity, records[3].identity,
        "touching keeps the identity as it was"
    );

    let mut changed = identity(IdentityId(3), "E3");
    changed.identity.object_type = "contractor".into();
    changed.dirty = false;
    commit(&mut *store, vec![put_identity(changed.clone())]);
    assert_eq!(
        ok("reading identities", store.identities(&[IdentityId(3)])),
        vec![changed],
        "a re-put replaces the record"
    );
    assert_eq!(ok("counting identities", store.identity_count()), 5);
}

pub fn deleting_an_identity_removes_its_keys_and_history(open: Open<'_>) {
    let mut store = open("deleting_an_identity_removes_its_keys_and_history");
    let entry = |id: i64| HistoryEntry {
        identity: IdentityId(id),
        run: crate::RunId(1),
        at: t0(),
        event: "projected by hr-people".into(),
        changes: Vec::new(),
    };
    commit(
        &mut *store,
        vec![
            Write::PutIdentity {
                record: identity(IdentityId(1), "E1"),
                keys: keys(&[("employeeId", "E1")]),
            },
            Write::PutIdentity {
                record: identity(IdentityId(2), "E2"),
                keys: keys(&[("employeeId", "E2")]),
            },
            Write::AppendHistory(entry(1)),
            Write::AppendHistory(entry(2)),
        ],
    );
    commit(&mut *store, vec![Write::DeleteIdentity(IdentityId(1))]);
    assert!(
        ok("reading identities", store.identities(&[IdentityId(1)])).is_empty(),
        "the identity is gone"
    );
    assert!(
        ok("finding", store.find_identities(&"employeeId".into(), "E1")).is_empty(),
        "its keys are gone"
    );
    assert!(
        ok("reading history", store.identity_history(IdentityId(1))).is_empty(),
        "its history is gone"
    );
    assert_eq!(ok("counting identities", store.identity_count()), 1);
    assert_eq!(
        ok("dirty identities", store.dirty_identities(None, 10)),
        vec![IdentityId(2)]
    );
    assert_eq!(
        ok("finding", store.find_identities(&"employeeId".into(), "E2")),
        vec![IdentityId(2)],
        "others keep theirs"
    );
    assert_eq!(
        ok("reading history", store.identity_history(IdentityId(2))),
        vec![entry(2)]
    );
}

pub fn history_reads_back_in_append_order(open: Open<'_>) {
    let mut store = open("history_reads_back_in_append_order");
    let record = identity(IdentityId(1), "E1");
    let changes = record.identity.current_attributes();
    let projected = HistoryEntry {
        identity: IdentityId(1),
        run: crate::RunId(1),
        at: at("2024-05-01T08:00:00.000000001Z"),
        event: "projected by hr-people".into(),
        changes: {
            // Real changes, with lineage, so their encoding is exercised.
            let mut empty = Identity::new(IdentityId(1), "person".into(), crate::RunId(1));
            let source = SourceLink {
                connector: connector(HR),
                anchor: Anchor::new("E1"),
                rule: "hr-people".into(),
            };
            let offers = changes
                .into_iter()
                .map(|(attribute, values)| Offer {
                    attribute,
                    values,
                    precedence: 10,
                })
                .collect();
            empty.contribute(&source, offers, crate::RunId(1), t0())
        },
    };
    assert!(!projected.changes.is_empty());
    // The same instant twice and an earlier one last: the order is the order of appending.
    let updated = HistoryEntry {
        event: "updated".into(),
        run: crate::RunId(2),
        changes: Vec::new(),
        ..projected.clone()
    };
    let earlier = HistoryEntry {
        event: "joined ad/E1 by ad-join".into(),
        at: at("2020-01-01T00:00:00Z"),
        ..updated.clone()
    };
    let other = HistoryEntry {
        identity: IdentityId(2),
        ..updated.clone()
    };
    commit(
        &mut *store,
        vec![
            put_identity(record),
            Write::AppendHistory(projected.clone()),
            Write::AppendHistory(other.clone()),
        ],
    );
    commit(
        &mut *store,
        vec![
            Write::AppendHistory(updated.clone()),
            Write::AppendHistory(earlier.clone()),
        ],
    );
    assert_eq!(
        ok("reading history", store.identity_history(IdentityId(1))),
        vec![projected, updated, earlier],
        "oldest first"
    );
    assert_eq!(
        ok("reading history", store.identity_history(IdentityId(2))),
        vec![other]
    );
    assert!(ok("reading history", store.identity_history(IdentityId(3))).is_empty());
}
