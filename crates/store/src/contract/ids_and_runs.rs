//! Id reservation and the run history.

use super::fixtures::*;

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
