//! Connector-space objects, their indexes and reads.

use super::fixtures::*;

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

pub fn set_link_changes_only_the_link_and_the_dirty_mark(open: Open<'_>) {
    let mut store = open("set_link_changes_only_the_link_and_the_dirty_mark");
    let mut object = cs(CsId(1), HR, "E1");
    object.dirty = true;
    commit(&mut *store, vec![put_cs(object.clone())]);
    commit(
        &mut *store,
        vec![Write::SetLink {
            id: CsId(1),
            link: Some(link(IdentityId(7))),
        }],
    );
    let linked = CsObject {
        link: Some(link(IdentityId(7))),
        dirty: false,
        ..object.clone()
    };
    assert_eq!(
        ok("reading by ids", store.cs_by_ids(&[CsId(1)])),
        vec![linked],
        "only the link and the dirty mark changed"
    );
    assert_eq!(
        ids(&ok("reading linked", store.cs_linked_to(&[IdentityId(7)]))),
        vec![1]
    );
    commit(
        &mut *store,
        vec![Write::SetLink {
            id: CsId(1),
            link: None,
        }],
    );
    assert!(
        ok("reading linked", store.cs_linked_to(&[IdentityId(7)])).is_empty(),
        "the link is cut"
    );
    assert_eq!(
        ok("reading by ids", store.cs_by_ids(&[CsId(1)]))[0].attributes,
        object.attributes
    );
}
