//! Pending exports, their schedule, quarantine and counts.

use super::fixtures::*;

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

pub fn mark_in_flight_changes_only_the_state(open: Open<'_>) {
    let mut store = open("mark_in_flight_changes_only_the_state");
    let pending = export(CsId(1), AD, Operation::Update);
    commit(&mut *store, vec![Write::PutExport(pending.clone())]);
    commit(&mut *store, vec![Write::MarkInFlight(CsId(1))]);
    let in_flight = ok("reading in flight", store.in_flight_exports(&connector(AD)));
    assert_eq!(
        in_flight,
        vec![PendingExport {
            state: ExportState::InFlight,
            ..pending.clone()
        }]
    );
    assert!(
        ok(
            "reading due",
            store.due_exports(&connector(AD), t0(), None, 10)
        )
        .is_empty(),
        "an export in flight is not due"
    );
    // Putting the export again (its outcome) replaces the state too.
    commit(&mut *store, vec![Write::PutExport(pending.clone())]);
    assert!(ok("reading in flight", store.in_flight_exports(&connector(AD))).is_empty());
}
