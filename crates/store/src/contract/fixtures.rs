//! Records and helpers the properties share.

// The properties share one vocabulary; re-exporting it keeps their imports to one line.
pub(super) use model::vault::{Identity, Offer, SourceLink};
pub(super) use model::{
    Anchor, AttributeChange, AttributeName, Attributes, ConnectorName, IdentityId, ObjectChange,
    RunId, Timestamp, Value,
};

pub(super) use super::Open;
pub(super) use crate::{
    ChangeReason, CsId, CsObject, ExportState, HistoryEntry, IdentityRecord, Link, LinkDirection,
    Operation, PendingCount, PendingExport, RunEnd, RunStart, Store, StoreError, Write, WriteBatch,
};

pub(super) const HR: &str = "hr";
pub(super) const AD: &str = "ad";

pub(super) fn connector(name: &str) -> ConnectorName {
    ConnectorName::new(name)
}

pub(super) fn at(text: &str) -> Timestamp {
    match text.parse() {
        Ok(at) => at,
        Err(e) => panic!("fixture timestamp {text:?}: {e}"),
    }
}

pub(super) fn t0() -> Timestamp {
    at("2024-05-01T08:00:00Z")
}

/// An anchored object with a bit of everything in its attributes.
pub(super) fn cs(id: CsId, connector_name: &str, anchor: &str) -> CsObject {
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

pub(super) fn placeholder(id: CsId, connector_name: &str) -> CsObject {
    CsObject {
        anchor: None,
        ..cs(id, connector_name, "unused")
    }
}

pub(super) fn link(identity: IdentityId) -> Link {
    Link {
        identity,
        rule: "hr-people".into(),
        direction: LinkDirection::Inbound,
        at: t0(),
    }
}

pub(super) fn identity(id: IdentityId, employee_id: &str) -> IdentityRecord {
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

pub(super) fn export(cs_id: CsId, connector_name: &str, operation: Operation) -> PendingExport {
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

pub(super) fn keys(pairs: &[(&str, &str)]) -> Vec<(AttributeName, String)> {
    pairs
        .iter()
        .map(|(name, value)| (AttributeName::new(*name), (*value).to_owned()))
        .collect()
}

pub(super) fn put_cs(object: CsObject) -> Write {
    Write::PutCs {
        object,
        keys: Vec::new(),
    }
}

pub(super) fn put_identity(record: IdentityRecord) -> Write {
    Write::PutIdentity {
        record,
        keys: Vec::new(),
    }
}

pub(super) fn commit(store: &mut dyn Store, writes: Vec<Write>) {
    let count = writes.len();
    if let Err(e) = store.commit(WriteBatch { writes }) {
        panic!("committing a valid batch of {count} writes failed: {e}");
    }
}

/// Unwraps a store result, naming the call that failed.
pub(super) fn ok<T>(what: &str, result: Result<T, StoreError>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what} failed: {e}"),
    }
}

pub(super) fn ids(objects: &[CsObject]) -> Vec<i64> {
    objects.iter().map(|o| o.id.0).collect()
}

pub(super) fn export_ids(exports: &[PendingExport]) -> Vec<i64> {
    exports.iter().map(|e| e.cs_id.0).collect()
}

/// Reads every page of a paged read with a small page size, checking that pages are in
/// ascending order and that a full page is followed by the next.
pub(super) fn all_pages<T>(
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
