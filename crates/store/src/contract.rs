//! The store contract suite: what every [`Store`] backend must do, written against the trait
//! only, so the embedded SQLite store and the PostgreSQL store are held to the same behaviour.
//!
//! A backend's test binary gives the suite a way to open stores by name:
//!
//! ```no_run
//! # fn open_my_store(name: &str) -> Box<dyn store::Store> { unimplemented!() }
//! store::contract::run_all(&mut |name: &str| open_my_store(name));
//! ```
//!
//! `open(name)` must return an empty store the first time a name is opened, and the same data
//! again when the name is opened after the previous handle was dropped: that is how the suite
//! checks that commits are durable. Each property opens its own names, so properties may run
//! in any order or in parallel against separate backends. Every property panics with a
//! message naming what broke.

use model::vault::{Identity, Offer, SourceLink};
use model::{
    Anchor, AttributeChange, AttributeName, Attributes, ConnectorName, IdentityId, ObjectChange,
    RunId, Timestamp, Value,
};

use crate::{
    ChangeReason, CsId, CsObject, ExportState, HistoryEntry, IdentityRecord, Link, LinkDirection,
    Operation, PendingCount, PendingExport, RunEnd, RunStart, Store, StoreError, Write, WriteBatch,
};

/// How the suite opens stores: see the module documentation.
pub type Open<'a> = &'a mut dyn FnMut(&str) -> Box<dyn Store>;

/// One property of the contract.
pub type Property = fn(Open<'_>);

/// Every property, by name, so a backend's test binary can run each as its own test.
pub const PROPERTIES: &[(&str, Property)] = &[
    ("ids_are_never_reused", ids_are_never_reused),
    (
        "ids_written_without_reservation_are_not_handed_out",
        ids_written_without_reservation_are_not_handed_out,
    ),
    (
        "runs_begin_finish_and_list_newest_first",
        runs_begin_finish_and_list_newest_first,
    ),
    (
        "cs_objects_round_trip_by_anchor_and_ids",
        cs_objects_round_trip_by_anchor_and_ids,
    ),
    ("cs_put_replaces_the_object", cs_put_replaces_the_object),
    (
        "placeholders_share_a_connector_until_anchored",
        placeholders_share_a_connector_until_anchored,
    ),
    (
        "cs_digests_leave_out_placeholders",
        cs_digests_leave_out_placeholders,
    ),
    (
        "cs_page_and_count_cover_one_connector",
        cs_page_and_count_cover_one_connector,
    ),
    ("dirty_cs_pages_in_id_order", dirty_cs_pages_in_id_order),
    (
        "cs_linked_to_finds_objects_of_the_identities",
        cs_linked_to_finds_objects_of_the_identities,
    ),
    (
        "cs_deprovisioned_pages_in_id_order",
        cs_deprovisioned_pages_in_id_order,
    ),
    ("cs_find_uses_the_key_index", cs_find_uses_the_key_index),
    (
        "find_identities_uses_the_key_index",
        find_identities_uses_the_key_index,
    ),
    (
        "identities_put_read_dirty_clean_touch",
        identities_put_read_dirty_clean_touch,
    ),
    (
        "deleting_an_identity_removes_its_keys_and_history",
        deleting_an_identity_removes_its_keys_and_history,
    ),
    (
        "history_reads_back_in_append_order",
        history_reads_back_in_append_order,
    ),
    (
        "pending_exports_put_replace_drop",
        pending_exports_put_replace_drop,
    ),
    (
        "due_exports_honour_next_attempt_and_skip_in_flight",
        due_exports_honour_next_attempt_and_skip_in_flight,
    ),
    (
        "in_flight_and_quarantined_exports",
        in_flight_and_quarantined_exports,
    ),
    (
        "pending_counts_group_by_connector_operation_quarantine",
        pending_counts_group_by_connector_operation_quarantine,
    ),
    ("watermarks_set_and_clear", watermarks_set_and_clear),
    (
        "a_batch_applies_its_writes_in_order",
        a_batch_applies_its_writes_in_order,
    ),
    (
        "writes_to_absent_records_do_nothing",
        writes_to_absent_records_do_nothing,
    ),
    (
        "a_failing_batch_leaves_nothing_applied",
        a_failing_batch_leaves_nothing_applied,
    ),
    (
        "data_survives_close_and_reopen",
        data_survives_close_and_reopen,
    ),
];

/// Runs every property in turn.
pub fn run_all(open: Open<'_>) {
    for (_, property) in PROPERTIES {
        property(open);
    }
}

// --- fixtures ----------------------------------------------------------------------------

const HR: &str = "hr";
const AD: &str = "ad";

fn connector(name: &str) -> ConnectorName {
    ConnectorName::new(name)
}

fn at(text: &str) -> Timestamp {
    match text.parse() {
        Ok(at) => at,
        Err(e) => panic!("fixture timestamp {text:?}: {e}"),
    }
}

fn t0() -> Timestamp {
    at("2024-05-01T08:00:00Z")
}

/// An anchored object with a bit of everything in its attributes.
fn cs(id: CsId, connector_name: &str, anchor: &str) -> CsObject {
    let mut attributes = Attributes::new()
        .with("employeeId", anchor)
        .with("givenName", "Ada")
        .with("active", true)
        .with("level", 7_i64)
        .with("hired", at("2019-02-03T04:05:06.123456789Z"));
    attributes.set(
        "member".into(),
        vec![
            Value::Reference("G1".into()),
            Value::Binary(vec![0, 159, 255]),
        ],
    );
    CsObject {
        id,
        connector: connector(connector_name),
        anchor: Some(Anchor::new(anchor)),
        object_type: "person".into(),
        attributes,
        digest: 0xfeed_f00d_dead_beef,
        link: None,
        dirty: false,
        deprovisioned_at: None,
    }
}

fn placeholder(id: CsId, connector_name: &str) -> CsObject {
    CsObject {
        anchor: None,
        ..cs(id, connector_name, "unused")
    }
}

fn link(identity: IdentityId) -> Link {
    Link {
        identity,
        rule: "hr-people".into(),
        direction: LinkDirection::Inbound,
        at: t0(),
    }
}

fn identity(id: IdentityId, employee_id: &str) -> IdentityRecord {
    let mut identity = Identity::new(id, "person".into(), RunId(1));
    let source = SourceLink {
        connector: connector(HR),
        anchor: Anchor::new(employee_id),
        rule: "hr-people".into(),
    };
    identity.contribute(
        &source,
        vec![
            Offer::new("employeeId", vec![employee_id.into()], 10),
            Offer::new(
                "mail",
                vec![format!("{employee_id}@example.com").into()],
                10,
            ),
        ],
        RunId(1),
        t0(),
    );
    IdentityRecord {
        identity,
        dirty: true,
    }
}

fn export(cs_id: CsId, connector_name: &str, operation: Operation) -> PendingExport {
    PendingExport {
        cs_id,
        connector: connector(connector_name),
        identity: Some(IdentityId(1)),
        anchor: Some(Anchor::new(format!("A{}", cs_id.0))),
        object_type: "user".into(),
        operation,
        change: ObjectChange::Update {
            changes: vec![AttributeChange::replace(
                "title".into(),
                vec!["Engineer".into()],
            )],
        },
        reasons: vec![ChangeReason {
            rule: "ad-users".into(),
            attribute: Some("title".into()),
            old: vec![],
            new: vec!["Engineer".into()],
            note: None,
        }],
        state: ExportState::Pending,
        attempts: 0,
        next_attempt_at: None,
        last_error: None,
        quarantined: false,
        created_run: RunId(1),
    }
}

fn keys(pairs: &[(&str, &str)]) -> Vec<(AttributeName, String)> {
    pairs
        .iter()
        .map(|(name, value)| (AttributeName::new(*name), (*value).to_owned()))
        .collect()
}

fn put_cs(object: CsObject) -> Write {
    Write::PutCs {
        object,
        keys: Vec::new(),
    }
}

fn put_identity(record: IdentityRecord) -> Write {
    Write::PutIdentity {
        record,
        keys: Vec::new(),
    }
}

fn commit(store: &mut dyn Store, writes: Vec<Write>) {
    let count = writes.len();
    if let Err(e) = store.commit(WriteBatch { writes }) {
        panic!("committing a valid batch of {count} writes failed: {e}");
    }
}

/// Unwraps a store result, naming the call that failed.
fn ok<T>(what: &str, result: Result<T, StoreError>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what} failed: {e}"),
    }
}

fn ids(objects: &[CsObject]) -> Vec<i64> {
    objects.iter().map(|o| o.id.0).collect()
}

fn export_ids(exports: &[PendingExport]) -> Vec<i64> {
    exports.iter().map(|e| e.cs_id.0).collect()
}

/// Reads every page of a paged read with a small page size, checking that pages are in
/// ascending order and that a full page is followed by the next.
fn all_pages<T>(
    page_size: usize,
    mut read: impl FnMut(Option<i64>, usize) -> Vec<T>,
    id: impl Fn(&T) -> i64,
) -> Vec<i64> {
    let mut seen: Vec<i64> = Vec::new();
    let mut after = None;
    loop {
        let page = read(after, page_size);
        assert!(
            page.len() <= page_size,
            "a page of limit {page_size} held {} records",
            page.len()
        );
        let page_ids: Vec<i64> = page.iter().map(&id).collect();
        for id in &page_ids {
            assert!(
                seen.last().is_none_or(|last| last < id),
                "page after {after:?} is not in ascending id order: {page_ids:?}"
            );
            seen.push(*id);
        }
        if page.len() < page_size {
            return seen;
        }
        after = seen.last().copied();
    }
}

// --- ids -----------------------------------------------------------------------------------

/// Ids are unique across calls, even when nothing is committed, and across a reopen.
pub fn ids_are_never_reused(open: Open<'_>) {
    let mut store = open("ids_are_never_reused");
    assert!(ok("allocating 0 identity ids", store.allocate_identity_ids(0)).is_empty());
    let mut identity_ids = ok("allocating identity ids", store.allocate_identity_ids(3));
    identity_ids.extend(ok(
        "allocating identity ids",
        store.allocate_identity_ids(2),
    ));
    let mut cs_ids = ok("allocating cs ids", store.allocate_cs_ids(4));
    cs_ids.extend(ok("allocating cs ids", store.allocate_cs_ids(1)));
    // Nothing was committed: a restart must still not hand these out again.
    drop(store);
    let mut store = open("ids_are_never_reused");
    identity_ids.extend(ok(
        "allocating identity ids after reopen",
        store.allocate_identity_ids(3),
    ));
    cs_ids.extend(ok(
        "allocating cs ids after reopen",
        store.allocate_cs_ids(3),
    ));
    assert_eq!(identity_ids.len(), 8);
    assert_eq!(cs_ids.len(), 8);
    let mut distinct = identity_ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 8, "identity ids repeat: {identity_ids:?}");
    let mut distinct = cs_ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 8, "connector-space ids repeat: {cs_ids:?}");
    assert!(
        identity_ids.iter().all(|id| id.0 > 0),
        "identity ids must be positive: {identity_ids:?}"
    );
    assert!(
        cs_ids.iter().all(|id| id.0 > 0),
        "connector-space ids must be positive: {cs_ids:?}"
    );
}

/// An id a batch writes without having reserved it is never reserved later: the store must
/// not hand out an id it already holds.
pub fn ids_written_without_reservation_are_not_handed_out(open: Open<'_>) {
    let mut store = open("ids_written_without_reservation_are_not_handed_out");
    commit(
        &mut *store,
        vec![
            put_cs(cs(CsId(1000), HR, "E1")),
            put_identity(identity(IdentityId(1000), "E1")),
        ],
    );
    let cs_ids = ok("allocating cs ids", store.allocate_cs_ids(1000));
    assert!(
        !cs_ids.contains(&CsId(1000)),
        "connector-space id 1000 is in use but was handed out"
    );
    let identity_ids = ok("allocating identity ids", store.allocate_identity_ids(1000));
    assert!(
        !identity_ids.contains(&IdentityId(1000)),
        "I-1000 is in use but was handed out"
    );
}

// --- runs ----------------------------------------------------------------------------------

pub fn runs_begin_finish_and_list_newest_first(open: Open<'_>) {
    let mut store = open("runs_begin_finish_and_list_newest_first");
    assert!(ok("reading runs of a new store", store.runs(10)).is_empty());
    let starts: Vec<RunStart> = ["run", "preview", "run"]
        .iter()
        .enumerate()
        .map(|(i, mode)| RunStart {
            started_at: at(&format!("2024-05-0{}T08:00:00.5Z", i + 1)),
            mode: (*mode).into(),
        })
        .collect();
    let ids: Vec<_> = starts
        .iter()
        .map(|s| ok("beginning a run", store.begin_run(s)))
        .collect();
    assert!(
        ids[0] < ids[1] && ids[1] < ids[2],
        "run ids must increase: {ids:?}"
    );
    let end = RunEnd {
        finished_at: at("2024-05-02T08:01:00Z"),
        status: "errors".into(),
        report: serde_json::json!({ "imported": 3, "errors": ["hr E7: bad date"] }),
    };
    ok("finishing a run", store.finish_run(ids[1], &end));

    let runs = ok("reading runs", store.runs(10));
    assert_eq!(
        runs.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![ids[2], ids[1], ids[0]],
        "runs, newest first"
    );
    assert_eq!(runs[2].start, starts[0]);
    assert_eq!(runs[1].start, starts[1]);
    assert_eq!(runs[1].end.as_ref(), Some(&end));
    assert_eq!(runs[0].end, None, "an unfinished run has no end");
    assert_eq!(ok("reading 2 runs", store.runs(2)).len(), 2);

    let unknown = crate::RunId(ids[2].0 + 100);
    assert!(
        store.finish_run(unknown, &end).is_err(),
        "finishing a run that never began must fail"
    );
}

// --- connector spaces ------------------------------------------------------------------------

pub fn cs_objects_round_trip_by_anchor_and_ids(open: Open<'_>) {
    let mut store = open("cs_objects_round_trip_by_anchor_and_ids");
    let mut linked = cs(CsId(1), HR, "E1");
    linked.link = Some(link(IdentityId(5)));
    linked.dirty = true;
    linked.digest = u64::MAX;
    let mut deprovisioned = cs(CsId(2), AD, "E1");
    deprovisioned.link = Some(Link {
        direction: LinkDirection::Outbound,
        ..link(IdentityId(5))
    });
    deprovisioned.deprovisioned_at = Some(at("2024-05-01T09:00:00.000000001Z"));
    let pending = placeholder(CsId(3), AD);
    commit(
        &mut *store,
        vec![
            put_cs(linked.clone()),
            put_cs(deprovisioned.clone()),
            put_cs(pending.clone()),
        ],
    );

    let by_anchor = ok(
        "reading by anchor",
        store.cs_by_anchor(&connector(HR), &Anchor::new("E1")),
    );
    assert_eq!(
        by_anchor.as_ref(),
        Some(&linked),
        "hr E1 read back by anchor"
    );
    let by_anchor = ok(
        "reading by anchor",
        store.cs_by_anchor(&connector(AD), &Anchor::new("E1")),
    );
    assert_eq!(
        by_anchor.as_ref(),
        Some(&deprovisioned),
        "the same anchor in another connector is another object"
    );
    assert_eq!(
        ok(
            "reading by anchor",
            store.cs_by_anchor(&connector(HR), &Anchor::new("e1"))
        ),
        None,
        "anchors are exact"
    );
    assert_eq!(
        ok(
            "reading by anchor",
            store.cs_by_anchor(&connector(HR), &Anchor::new("E9"))
        ),
        None
    );

    let by_ids = ok(
        "reading by ids",
        store.cs_by_ids(&[CsId(3), CsId(99), CsId(1), CsId(3), CsId(2)]),
    );
    assert_eq!(
        by_ids,
        vec![linked, deprovisioned, pending],
        "by ids: each stored object once, in id order, unknown ids left out"
    );
    assert!(ok("reading no ids", store.cs_by_ids(&[])).is_empty());
}

pub fn cs_put_replaces_the_object(open: Open<'_>) {
    let mut store = open("cs_put_replaces_the_object");
    let mut object = cs(CsId(1), HR, "E1");
    object.link = Some(link(IdentityId(5)));
    object.dirty = true;
    object.deprovisioned_at = Some(t0());
    commit(&mut *store, vec![put_cs(object.clone())]);
    let replacement = CsObject {
        attributes: Attributes::new()
            .with("employeeId", "E1")
            .with("title", "CTO"),
        digest: 42,
        ..cs(CsId(1), HR, "E1")
    };
    commit(&mut *store, vec![put_cs(replacement.clone())]);
    assert_eq!(
        ok("reading by ids", store.cs_by_ids(&[CsId(1)])),
        vec![replacement],
        "a put replaces every field"
    );
    assert!(
        ok("reading linked", store.cs_linked_to(&[IdentityId(5)])).is_empty(),
        "the old link is gone"
    );
    assert!(
        ok("reading dirty", store.dirty_cs(&connector(HR), None, 10)).is_empty(),
        "the dirty mark is gone"
    );
    assert!(
        ok(
            "reading deprovisioned",
            store.cs_deprovisioned(&connector(HR), None, 10)
        )
        .is_empty()
    );
    assert_eq!(ok("counting", store.cs_count(&connector(HR))), 1);
}

pub fn placeholders_share_a_connector_until_anchored(open: Open<'_>) {
    let mut store = open("placeholders_share_a_connector_until_anchored");
    commit(
        &mut *store,
        vec![
            put_cs(placeholder(CsId(1), AD)),
            put_cs(placeholder(CsId(2), AD)),
        ],
    );
    assert_eq!(
        ok("counting", store.cs_count(&connector(AD))),
        2,
        "several placeholders in one connector"
    );
    // The confirming import gives the placeholder its anchor.
    let confirmed = cs(CsId(2), AD, "guid-2");
    commit(&mut *store, vec![put_cs(confirmed.clone())]);
    assert_eq!(
        ok(
            "reading by anchor",
            store.cs_by_anchor(&connector(AD), &Anchor::new("guid-2"))
        ),
        Some(confirmed)
    );
}

pub fn cs_digests_leave_out_placeholders(open: Open<'_>) {
    let mut store = open("cs_digests_leave_out_placeholders");
    let mut second = cs(CsId(2), HR, "E2");
    second.digest = 1 << 63;
    commit(
        &mut *store,
        vec![
            put_cs(cs(CsId(1), HR, "E1")),
            put_cs(second),
            put_cs(placeholder(CsId(3), HR)),
            put_cs(cs(CsId(4), AD, "E4")),
        ],
    );
    let mut digests = ok("reading digests", store.cs_digests(&connector(HR)));
    digests.sort_by_key(|d| d.id);
    let got: Vec<(i64, &str, u64)> = digests
        .iter()
        .map(|d| (d.id.0, d.anchor.as_str(), d.digest))
        .collect();
    assert_eq!(
        got,
        vec![(1, "E1", 0xfeed_f00d_dead_beef), (2, "E2", 1 << 63)],
        "digests of hr, without the placeholder"
    );
    assert!(ok("reading digests", store.cs_digests(&connector("nobody"))).is_empty());
}

pub fn cs_page_and_count_cover_one_connector(open: Open<'_>) {
    let mut store = open("cs_page_and_count_cover_one_connector");
    let mut writes = Vec::new();
    for id in 1..=7 {
        let name = if id % 3 == 0 { AD } else { HR };
        writes.push(put_cs(cs(CsId(id), name, &format!("E{id}"))));
    }
    commit(&mut *store, writes);
    let hr = connector(HR);
    let paged = all_pages(
        2,
        |after, limit| ok("paging", store.cs_page(&hr, after.map(CsId), limit)),
        |o| o.id.0,
    );
    assert_eq!(paged, vec![1, 2, 4, 5, 7]);
    assert_eq!(ok("counting", store.cs_count(&hr)), 5);
    assert_eq!(ok("counting", store.cs_count(&connector(AD))), 2);
    assert_eq!(ok("counting", store.cs_count(&connector("nobody"))), 0);
    assert!(
        ok("a page of 0", store.cs_page(&hr, None, 0)).is_empty(),
        "limit 0 reads nothing"
    );
    assert_eq!(
        ids(&ok("a page after 5", store.cs_page(&hr, Some(CsId(5)), 10))),
        vec![7]
    );
}

pub fn dirty_cs_pages_in_id_order(open: Open<'_>) {
    let mut store = open("dirty_cs_pages_in_id_order");
    let mut writes = Vec::new();
    // Written out of id order, so insertion order cannot pass for id order.
    for id in [9, 3, 7, 1, 5, 2, 8] {
        let mut object = cs(CsId(id), if id == 8 { AD } else { HR }, &format!("E{id}"));
        object.dirty = id != 2;
        writes.push(put_cs(object));
    }
    commit(&mut *store, writes);
    let hr = connector(HR);
    let dirty = all_pages(
        2,
        |after, limit| ok("reading dirty", store.dirty_cs(&hr, after.map(CsId), limit)),
        |o| o.id.0,
    );
    assert_eq!(
        dirty,
        vec![1, 3, 5, 7, 9],
        "dirty objects of hr, in id order"
    );
    assert!(
        ok("reading dirty", store.dirty_cs(&hr, None, 10))
            .iter()
            .all(|o| o.dirty)
    );

    commit(
        &mut *store,
        vec![Write::CleanCs(CsId(3)), Write::CleanCs(CsId(9))],
    );
    assert_eq!(
        ids(&ok("reading dirty", store.dirty_cs(&hr, None, 10))),
        vec![1, 5, 7],
        "cleaned objects leave the dirty set"
    );
    assert_eq!(
        ids(&ok(
            "reading dirty",
            store.dirty_cs(&connector(AD), None, 10)
        )),
        vec![8]
    );
    let cleaned = ok("reading by ids", store.cs_by_ids(&[CsId(3)]));
    assert_eq!(
        cleaned.first().map(|o| o.dirty),
        Some(false),
        "CleanCs clears the mark and keeps the object"
    );
}

pub fn cs_linked_to_finds_objects_of_the_identities(open: Open<'_>) {
    let mut store = open("cs_linked_to_finds_objects_of_the_identities");
    let linked = |id: i64, connector_name: &str, identity: i64| {
        let mut object = cs(CsId(id), connector_name, &format!("E{id}"));
        object.link = Some(link(IdentityId(identity)));
        put_cs(object)
    };
    commit(
        &mut *store,
        vec![
            linked(4, HR, 1),
            linked(2, AD, 1),
            linked(3, HR, 2),
            linked(1, HR, 3),
            put_cs(cs(CsId(5), HR, "E5")),
        ],
    );
    let found = ok(
        "reading linked",
        store.cs_linked_to(&[IdentityId(2), IdentityId(1), IdentityId(1), IdentityId(77)]),
    );
    assert_eq!(
        ids(&found),
        vec![2, 3, 4],
        "objects linked to I-1 and I-2, each once, in id order"
    );
    assert_eq!(
        found[0].link.as_ref().map(|l| l.identity),
        Some(IdentityId(1))
    );
    assert!(ok("reading linked", store.cs_linked_to(&[])).is_empty());
}

pub fn cs_deprovisioned_pages_in_id_order(open: Open<'_>) {
    let mut store = open("cs_deprovisioned_pages_in_id_order");
    let mut writes = Vec::new();
    for id in [6, 2, 4, 1, 3, 5] {
        let mut object = cs(CsId(id), if id == 5 { HR } else { AD }, &format!("E{id}"));
        if id != 3 {
            object.deprovisioned_at = Some(t0());
        }
        writes.push(put_cs(object));
    }
    commit(&mut *store, writes);
    let ad = connector(AD);
    let found = all_pages(
        2,
        |after, limit| {
            ok(
                "reading deprovisioned",
                store.cs_deprovisioned(&ad, after.map(CsId), limit),
            )
        },
        |o| o.id.0,
    );
    assert_eq!(
        found,
        vec![1, 2, 4, 6],
        "deprovisioned objects of ad, in id order"
    );
    // Back in scope: the engine puts the object with the mark cleared.
    commit(&mut *store, vec![put_cs(cs(CsId(4), AD, "E4"))]);
    assert_eq!(
        ids(&ok(
            "reading deprovisioned",
            store.cs_deprovisioned(&ad, None, 10)
        )),
        vec![1, 2, 6]
    );
}

pub fn cs_find_uses_the_key_index(open: Open<'_>) {
    let mut store = open("cs_find_uses_the_key_index");
    let hr = connector(HR);
    commit(
        &mut *store,
        vec![
            Write::PutCs {
                object: cs(CsId(1), HR, "E1"),
                keys: keys(&[("mail", "ada@example.com"), ("employeeId", "E1")]),
            },
            Write::PutCs {
                object: cs(CsId(2), HR, "E2"),
                keys: keys(&[("Mail", "ada@example.com")]),
            },
            Write::PutCs {
                object: cs(CsId(3), AD, "E3"),
                keys: keys(&[("mail", "ada@example.com")]),
            },
        ],
    );
    let find = |store: &dyn Store, attribute: &str, value: &str| {
        ok(
            "finding objects",
            store.cs_find(&hr, &AttributeName::new(attribute), value),
        )
        .into_iter()
        .map(|id| id.0)
        .collect::<Vec<_>>()
    };
    assert_eq!(
        find(&*store, "mail", "ada@example.com"),
        vec![1, 2],
        "both hr objects, not the ad one"
    );
    assert_eq!(
        find(&*store, "MAIL", "ada@example.com"),
        vec![1, 2],
        "attribute names ignore case"
    );
    assert_eq!(find(&*store, "employeeid", "E1"), vec![1]);
    assert!(
        find(&*store, "mail", "ADA@example.com").is_empty(),
        "values are compared exactly"
    );
    assert!(
        find(&*store, "givenName", "Ada").is_empty(),
        "only keys are indexed, not every attribute"
    );

    // A re-put replaces the object's keys.
    commit(
        &mut *store,
        vec![Write::PutCs {
            object: cs(CsId(1), HR, "E1"),
            keys: keys(&[("mail", "lovelace@example.com")]),
        }],
    );
    assert_eq!(
        find(&*store, "mail", "ada@example.com"),
        vec![2],
        "the old key is gone"
    );
    assert_eq!(find(&*store, "mail", "lovelace@example.com"), vec![1]);
    assert!(
        find(&*store, "employeeId", "E1").is_empty(),
        "a key not given again is gone"
    );

    commit(&mut *store, vec![Write::DeleteCs(CsId(2))]);
    assert!(
        find(&*store, "mail", "ada@example.com").is_empty(),
        "deleting an object removes its keys"
    );

    // A multi-valued attribute gives several entries; a repeated entry counts once.
    let proxies = keys(&[
        ("proxyAddresses", "smtp:a@example.com"),
        ("proxyAddresses", "smtp:b@example.com"),
        ("PROXYADDRESSES", "smtp:a@example.com"),
    ]);
    commit(
        &mut *store,
        vec![Write::PutCs {
            object: cs(CsId(4), HR, "E4"),
            keys: proxies.clone(),
        }],
    );
    assert_eq!(
        find(&*store, "proxyAddresses", "smtp:a@example.com"),
        vec![4]
    );
    assert_eq!(
        find(&*store, "proxyaddresses", "smtp:b@example.com"),
        vec![4]
    );
    // Re-putting the same keys in another spelling changes nothing.
    commit(
        &mut *store,
        vec![Write::PutCs {
            object: cs(CsId(4), HR, "E4"),
            keys: keys(&[
                ("ProxyAddresses", "smtp:b@example.com"),
                ("proxyaddresses", "smtp:a@example.com"),
            ]),
        }],
    );
    assert_eq!(
        find(&*store, "proxyAddresses", "smtp:a@example.com"),
        vec![4]
    );
    assert_eq!(
        find(&*store, "proxyAddresses", "smtp:b@example.com"),
        vec![4]
    );
    commit(
        &mut *store,
        vec![Write::PutCs {
            object: cs(CsId(4), HR, "E4"),
            keys: Vec::new(),
        }],
    );
    assert!(
        find(&*store, "proxyAddresses", "smtp:a@example.com").is_empty(),
        "a put with no keys clears them"
    );
}

pub fn find_identities_uses_the_key_index(open: Open<'_>) {
    let mut store = open("find_identities_uses_the_key_index");
    commit(
        &mut *store,
        vec![
            Write::PutIdentity {
                record: identity(IdentityId(2), "E2"),
                keys: keys(&[("employeeId", "E2"), ("mail", "shared@example.com")]),
            },
            Write::PutIdentity {
                record: identity(IdentityId(1), "E1"),
                keys: keys(&[("EMPLOYEEID", "E1"), ("Mail", "shared@example.com")]),
            },
        ],
    );
    let find = |store: &dyn Store, attribute: &str, value: &str| {
        ok(
            "finding identities",
            store.find_identities(&AttributeName::new(attribute), value),
        )
    };
    assert_eq!(
        find(&*store, "employeeid", "E1"),
        vec![IdentityId(1)],
        "attribute names ignore case"
    );
    assert_eq!(find(&*store, "employeeId", "E2"), vec![IdentityId(2)]);
    assert_eq!(
        find(&*store, "mail", "shared@example.com"),
        vec![IdentityId(1), IdentityId(2)],
        "every match, in id order"
    );
    assert!(
        find(&*store, "employeeId", "e1").is_empty(),
        "values are compared exactly"
    );

    commit(
        &mut *store,
        vec![Write::PutIdentity {
            record: identity(IdentityId(1), "E1"),
            keys: keys(&[("employeeId", "E1b")]),
        }],
    );
    assert!(
        find(&*store, "employeeId", "E1").is_empty(),
        "a re-put replaces the keys"
    );
    assert_eq!(find(&*store, "employeeId", "E1b"), vec![IdentityId(1)]);
    assert_eq!(
        find(&*store, "mail", "shared@example.com"),
        vec![IdentityId(2)]
    );
}

// --- the vault -------------------------------------------------------------------------------

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

// --- pending exports -------------------------------------------------------------------------

pub fn pending_exports_put_replace_drop(open: Open<'_>) {
    let mut store = open("pending_exports_put_replace_drop");
    let ad = connector(AD);
    let mut writes = Vec::new();
    for id in [5, 1, 4, 2, 3] {
        let mut e = export(CsId(id), if id == 4 { HR } else { AD }, Operation::Update);
        e.quarantined = id == 2;
        writes.push(Write::PutExport(e));
    }
    commit(&mut *store, writes);
    let paged = all_pages(
        2,
        |after, limit| {
            ok(
                "reading exports",
                store.pending_exports(&ad, after.map(CsId), limit),
            )
        },
        |e| e.cs_id.0,
    );
    assert_eq!(
        paged,
        vec![1, 2, 3, 5],
        "exports of ad, quarantined included, in id order"
    );

    let mut replacement = export(CsId(3), AD, Operation::Delete);
    replacement.change = ObjectChange::Delete;
    replacement.attempts = 2;
    replacement.last_error = Some("ad rejected user A3: busy".into());
    replacement.next_attempt_at = Some(at("2024-05-01T09:00:00Z"));
    commit(
        &mut *store,
        vec![
            Write::PutExport(replacement.clone()),
            Write::DropExport(CsId(1)),
        ],
    );
    let exports = ok("reading exports", store.pending_exports(&ad, None, 10));
    assert_eq!(
        export_ids(&exports),
        vec![2, 3, 5],
        "a dropped export is gone"
    );
    assert_eq!(
        exports[1], replacement,
        "a put replaces the object's export"
    );

    // Deleting the object drops its export too.
    commit(
        &mut *store,
        vec![put_cs(cs(CsId(5), AD, "A5")), Write::DeleteCs(CsId(5))],
    );
    assert_eq!(
        export_ids(&ok("reading exports", store.pending_exports(&ad, None, 10))),
        vec![2, 3]
    );
}

pub fn due_exports_honour_next_attempt_and_skip_in_flight(open: Open<'_>) {
    let mut store = open("due_exports_honour_next_attempt_and_skip_in_flight");
    let now = at("2024-05-01T12:00:00.5Z");
    let at_nanos = |nanos: i128| match Timestamp::from_nanosecond(now.as_nanosecond() + nanos) {
        Ok(at) => at,
        Err(e) => panic!("fixture timestamp: {e}"),
    };
    let mut writes = Vec::new();
    let mut put = |id: i64,
                   connector_name: &str,
                   next: Option<Timestamp>,
                   state: ExportState,
                   quarantined: bool| {
        let mut e = export(CsId(id), connector_name, Operation::Update);
        e.next_attempt_at = next;
        e.state = state;
        e.quarantined = quarantined;
        writes.push(Write::PutExport(e));
    };
    put(1, AD, None, ExportState::Pending, false); // never tried: due
    put(
        2,
        AD,
        Some(at("2024-05-01T11:00:00Z")),
        ExportState::Pending,
        false,
    ); // retry in the past: due
    put(3, AD, Some(now), ExportState::Pending, false); // retry exactly now: due
    put(4, AD, Some(at_nanos(1)), ExportState::Pending, false); // one nanosecond later: not due
    put(
        5,
        AD,
        Some(at("2024-05-02T00:00:00Z")),
        ExportState::Pending,
        false,
    ); // tomorrow: not due
    put(6, AD, None, ExportState::InFlight, false); // in flight: never due
    put(7, AD, Some(at_nanos(-1)), ExportState::Pending, true); // quarantined, backoff over: due
    put(8, HR, None, ExportState::Pending, false); // another connector
    put(
        9,
        AD,
        Some(at("1969-07-20T20:17:40Z")),
        ExportState::Pending,
        false,
    ); // before the epoch: due
    commit(&mut *store, writes);
    let ad = connector(AD);
    let due = all_pages(
        2,
        |after, limit| {
            ok(
                "reading due exports",
                store.due_exports(&ad, now, after.map(CsId), limit),
            )
        },
        |e| e.cs_id.0,
    );
    assert_eq!(due, vec![1, 2, 3, 7, 9], "due at {now}");
    let later = at("2024-05-03T00:00:00Z");
    assert_eq!(
        export_ids(&ok(
            "reading due exports",
            store.due_exports(&ad, later, None, 100)
        )),
        vec![1, 2, 3, 4, 5, 7, 9]
    );
    assert_eq!(
        export_ids(&ok(
            "reading due exports",
            store.due_exports(&connector(HR), now, None, 100)
        )),
        vec![8]
    );
}

pub fn in_flight_and_quarantined_exports(open: Open<'_>) {
    let mut store = open("in_flight_and_quarantined_exports");
    let mut writes = Vec::new();
    for (id, connector_name, state, quarantined) in [
        (1, AD, ExportState::InFlight, false),
        (2, AD, ExportState::Pending, true),
        (3, HR, ExportState::InFlight, true),
        (4, AD, ExportState::Pending, false),
        (5, AD, ExportState::InFlight, false),
    ] {
        let mut e = export(CsId(id), connector_name, Operation::Create);
        e.state = state;
        e.quarantined = quarantined;
        writes.push(Write::PutExport(e));
    }
    commit(&mut *store, writes);
    assert_eq!(
        export_ids(&ok(
            "reading in flight",
            store.in_flight_exports(&connector(AD))
        )),
        vec![1, 5]
    );
    assert_eq!(
        export_ids(&ok(
            "reading in flight",
            store.in_flight_exports(&connector(HR))
        )),
        vec![3]
    );
    let mut quarantined = export_ids(&ok("reading quarantined", store.quarantined()));
    quarantined.sort();
    assert_eq!(
        quarantined,
        vec![2, 3],
        "quarantined exports of every connector"
    );

    // The outcome is recorded: the export is pending again (or dropped).
    let mut settled = export(CsId(1), AD, Operation::Create);
    settled.attempts = 1;
    commit(
        &mut *store,
        vec![Write::PutExport(settled), Write::DropExport(CsId(5))],
    );
    assert!(ok("reading in flight", store.in_flight_exports(&connector(AD))).is_empty());
}

pub fn pending_counts_group_by_connector_operation_quarantine(open: Open<'_>) {
    let mut store = open("pending_counts_group_by_connector_operation_quarantine");
    let mut writes = Vec::new();
    for (id, connector_name, operation, quarantined) in [
        (1, AD, Operation::Create, false),
        (2, AD, Operation::Create, false),
        (3, AD, Operation::Create, true),
        (4, AD, Operation::Disable, false),
        (5, HR, Operation::Update, false),
        (6, HR, Operation::Delete, false),
        (7, HR, Operation::Delete, false),
    ] {
        let mut e = export(CsId(id), connector_name, operation);
        e.quarantined = quarantined;
        writes.push(Write::PutExport(e));
    }
    commit(&mut *store, writes);
    let mut counts = ok("counting pending exports", store.pending_counts());
    counts.sort_by(|a, b| {
        (&a.connector, a.operation, a.quarantined).cmp(&(&b.connector, b.operation, b.quarantined))
    });
    let count = |name: &str, operation, quarantined, count| PendingCount {
        connector: connector(name),
        operation,
        quarantined,
        count,
    };
    assert_eq!(
        counts,
        vec![
            count(AD, Operation::Create, false, 2),
            count(AD, Operation::Create, true, 1),
            count(AD, Operation::Disable, false, 1),
            count(HR, Operation::Update, false, 1),
            count(HR, Operation::Delete, false, 2),
        ]
    );
}

pub fn watermarks_set_and_clear(open: Open<'_>) {
    let mut store = open("watermarks_set_and_clear");
    let (hr, ad) = (connector(HR), connector(AD));
    assert_eq!(ok("reading a watermark", store.watermark(&hr)), None);
    let set = |connector: &ConnectorName, watermark: Option<&str>| Write::SetWatermark {
        connector: connector.clone(),
        watermark: watermark.map(str::to_owned),
    };
    commit(
        &mut *store,
        vec![set(&hr, Some("cookie-1")), set(&ad, Some("usn:100"))],
    );
    commit(&mut *store, vec![set(&hr, Some("cookie-2"))]);
    assert_eq!(
        ok("reading a watermark", store.watermark(&hr)).as_deref(),
        Some("cookie-2"),
        "a set replaces"
    );
    assert_eq!(
        ok("reading a watermark", store.watermark(&ad)).as_deref(),
        Some("usn:100")
    );
    commit(&mut *store, vec![set(&hr, None)]);
    assert_eq!(
        ok("reading a watermark", store.watermark(&hr)),
        None,
        "None clears"
    );
    assert_eq!(
        ok("reading a watermark", store.watermark(&ad)).as_deref(),
        Some("usn:100")
    );
}

// --- batches ---------------------------------------------------------------------------------

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
