//! Delta queries on users and groups: rounds, pages, tokens, members@delta.

use super::*;

/// What `$skiptoken` and `$deltatoken` carry in a delta round. The selected properties
/// travel in the token, so later links need not repeat `$select`.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct DeltaToken {
    i: bool,
    s: u64,
    u: u64,
    a: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sel: Option<Vec<String>>,
    /// When the round that issued the token started (Unix seconds), for expiry.
    #[serde(default)]
    t: i64,
    /// How many of the first group's `members@delta` earlier pages already carried (a
    /// large group is spread across pages).
    #[serde(default, skip_serializing_if = "is_zero")]
    m: usize,
    /// `$filter=id eq '…' or …`: only these objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    f: Option<Vec<String>>,
    /// `$expand=members` (groups).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    x: bool,
}

/// Delta takes `$filter` only as `id eq '…'` clauses joined by `or`, at most 50.
pub(super) const MAX_DELTA_FILTER_IDS: usize = 50;

pub(super) fn delta_filter_ids(filter: &crate::odata::Filter) -> Option<Vec<String>> {
    use crate::odata::{CmpOp, Filter, Literal};
    match filter {
        Filter::Cmp {
            property,
            op: CmpOp::Eq,
            value: Literal::Str(id),
        } if property == "id" => Some(vec![id.to_lowercase()]),
        Filter::Or(a, b) => {
            let mut ids = delta_filter_ids(a)?;
            ids.extend(delta_filter_ids(b)?);
            Some(ids)
        }
        _ => None,
    }
}

/// `Prefer: return=minimal`: later rounds carry only the changed properties.
pub(super) fn prefers_minimal(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("return=minimal"))
}

pub(super) fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Delta tokens for directory objects expire after 7 days.
pub(super) const DELTA_TOKEN_LIFETIME_SECS: i64 = 7 * 24 * 3600;

pub(super) fn sync_state_not_found() -> GraphError {
    // The documents name the code and a 40X status; 410 Gone is what the captured
    // (Outlook) form uses.
    GraphError::new(
        StatusCode::GONE,
        "syncStateNotFound",
        "The delta token is expired and data must be synchronized again.",
    )
}

pub(super) async fn users_delta(
    State(state): Shared,
    base: Base,
    headers: HeaderMap,
    Query(pairs): Pairs,
) -> AppResult {
    delta(&state, Kind::User, &base, &headers, &pairs)
}

pub(super) async fn groups_delta(
    State(state): Shared,
    base: Base,
    headers: HeaderMap,
    Query(pairs): Pairs,
) -> AppResult {
    delta(&state, Kind::Group, &base, &headers, &pairs)
}

/// One page of `/users/delta` or `/groups/delta`.
pub(super) fn delta(
    state: &AppState,
    kind: Kind,
    base: &Base,
    headers: &HeaderMap,
    pairs: &[(String, String)],
) -> AppResult {
    let set = match kind {
        Kind::User => "users",
        Kind::Group => "groups",
    };
    let q = QueryOptions::parse(pairs)?;
    if q.top.is_some() {
        return Err(GraphError::unsupported_query(
            "The $top query parameter is not supported with delta queries.",
        ));
    }
    let filter_ids = match &q.filter {
        None => None,
        Some(filter) => {
            let ids = delta_filter_ids(filter).ok_or_else(|| {
                GraphError::unsupported_query(
                    "Unsupported or invalid query filter clause specified for delta query.",
                )
            })?;
            if ids.len() > MAX_DELTA_FILTER_IDS {
                return Err(GraphError::unsupported_query(format!(
                    "A delta query can filter on at most {MAX_DELTA_FILTER_IDS} ids."
                )));
            }
            Some(ids)
        }
    };
    let expand_members = match (kind, q.expand.as_slice()) {
        (_, []) => false,
        (Kind::Group, [e]) if e.property == "members" => true,
        _ => {
            return Err(GraphError::unsupported_query(
                "The $expand query parameter is not supported with delta queries (except members on groups).",
            ));
        }
    };
    let minimal = prefers_minimal(headers);
    let now = state.clock.now().as_second();
    let dir = state.directory();
    let current = dir.current_seq();
    let mut member_offset = 0;
    let (cursor, select, first_page, filter_ids, expand_members) = if let Some(token) = &q.skiptoken
    {
        let t: DeltaToken = decode_token(token).ok_or_else(bad_skiptoken)?;
        let cursor = DeltaCursor {
            initial: t.i,
            since: t.s,
            upto: t.u,
            after: t.a,
        };
        member_offset = t.m;
        (cursor, t.sel, false, t.f, t.x)
    } else if let Some(token) = &q.deltatoken {
        if token == "latest" {
            // "Sync from now": no data, only a delta link.
            let link_token = encode_token(&DeltaToken {
                t: now,
                i: false,
                s: current,
                u: 0,
                a: 0,
                sel: q.select.clone(),
                m: 0,
                f: filter_ids,
                x: expand_members,
            });
            return Ok(odata_json(
                StatusCode::OK,
                &json!({
                    "@odata.context": base.context(set),
                    "@odata.deltaLink": format!("{}/v1.0/{set}/delta?$deltatoken={link_token}", base.0),
                    "value": [],
                }),
            ));
        }
        let t: DeltaToken = decode_token(token).ok_or_else(sync_state_not_found)?;
        if now - t.t > DELTA_TOKEN_LIFETIME_SECS {
            return Err(sync_state_not_found());
        }
        let cursor = DeltaCursor {
            initial: false,
            since: t.s,
            upto: current,
            after: t.s,
        };
        (cursor, t.sel, false, t.f, t.x)
    } else {
        if let Some(select) = &q.select {
            check_select(kind, select)?;
        }
        let cursor = DeltaCursor {
            initial: true,
            since: 0,
            upto: current,
            after: 0,
        };
        (cursor, q.select.clone(), true, filter_ids, expand_members)
    };
    let wanted = |id: &str| {
        filter_ids
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|f| f.eq_ignore_ascii_case(id)))
    };
    let view = DeltaView {
        cursor,
        select: select.as_deref(),
        members: expand_members,
        minimal: minimal && !cursor.initial,
    };
    let limit = max_page_size(headers).unwrap_or(crate::odata::DEFAULT_PAGE_SIZE);
    let page = dir.delta(kind, cursor, select.as_deref(), limit);
    // A page carries at most `limit` member references in all; a group with more is
    // continued on the next page (the group again, with the next members).
    let mut member_budget = limit;
    let mut next = page.next;
    let mut next_member_offset = 0;
    let mut value: Vec<Value> = Vec::new();
    for (i, (seq, entry)) in page.entries.iter().enumerate() {
        match entry {
            DeltaEntry::Object(o) if !wanted(&o.id) => continue,
            DeltaEntry::Removed { id, .. } if !wanted(id) => continue,
            DeltaEntry::Object(o) => {
                let skip = if i == 0 { member_offset } else { 0 };
                let (rendered, rest) = render_delta_object(&dir, o, &view, skip, member_budget);
                value.push(rendered);
                if let Some(taken) = rest {
                    next = Some(DeltaCursor {
                        after: seq - 1,
                        ..cursor
                    });
                    next_member_offset = skip + taken;
                    break;
                }
            }
            DeltaEntry::Removed { id, reason } => {
                value.push(json!({"id": id, "@removed": {"reason": reason.as_str()}}));
            }
        }
        if matches!(entry, DeltaEntry::Object(o) if o.kind == Kind::Group) {
            member_budget = member_budget.saturating_sub(
                value
                    .last()
                    .and_then(|v| v.get("members@delta"))
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len),
            );
        }
    }
    let context = if first_page {
        context_with_select(base, set, select.as_deref(), false)
    } else {
        base.context(set)
    };
    let mut body = json!({"@odata.context": context});
    match next {
        Some(next) => {
            let token = encode_token(&DeltaToken {
                t: now,
                i: next.initial,
                s: next.since,
                u: next.upto,
                a: next.after,
                sel: select.clone(),
                m: next_member_offset,
                f: filter_ids,
                x: expand_members,
            });
            body["@odata.nextLink"] =
                json!(format!("{}/v1.0/{set}/delta?$skiptoken={token}", base.0));
        }
        None => {
            let token = encode_token(&DeltaToken {
                t: now,
                i: false,
                s: page.next_round_since,
                u: 0,
                a: 0,
                sel: select.clone(),
                m: 0,
                f: filter_ids,
                x: expand_members,
            });
            body["@odata.deltaLink"] =
                json!(format!("{}/v1.0/{set}/delta?$deltatoken={token}", base.0));
        }
    }
    body["value"] = Value::Array(value);
    let minimal = view.minimal;
    let mut response = odata_json(StatusCode::OK, &body);
    if minimal {
        response.headers_mut().insert(
            "preference-applied",
            HeaderValue::from_static("return=minimal"),
        );
    }
    Ok(response)
}

/// How a delta request wants its objects shown.
pub(super) struct DeltaView<'a> {
    cursor: DeltaCursor,
    select: Option<&'a [String]>,
    /// `$expand=members` on group delta.
    members: bool,
    /// `Prefer: return=minimal` on a later round: only changed properties.
    minimal: bool,
}

/// A changed object in a delta page. Groups carry `members@delta` when no `$select` is
/// given or when it names `members`: the members after `skip`, at most `budget` of them.
/// The second value is how many were taken when more remain for the next page.
pub(super) fn render_delta_object(
    dir: &crate::directory::Directory,
    object: &DirObject,
    view: &DeltaView<'_>,
    skip: usize,
    budget: usize,
) -> (Value, Option<usize>) {
    let (cursor, select) = (view.cursor, view.select);
    let mut props: Option<Vec<String>> = select.map(|s| {
        s.iter()
            .filter(|p| *p != "members" && *p != "manager")
            .cloned()
            .collect()
    });
    if view.minimal
        && let Some(changed) = object.changed_after(cursor.since)
    {
        // Only what changed (and was selected); `id` always comes.
        let changed: Vec<String> = changed
            .into_iter()
            .filter(|p| *p != "members" && *p != "manager")
            .filter(|p| props.as_ref().is_none_or(|s| s.iter().any(|x| x == p)))
            .map(str::to_owned)
            .collect();
        props = Some(changed);
    }
    let mut map = object.render(props.as_deref());
    if object.kind == Kind::User
        && select.is_some_and(|s| s.iter().any(|p| p == "manager"))
        && let Some(m) = dir.manager_delta(&object.id, cursor)
    {
        let mut entry = json!({"@odata.type": m.kind.odata_type(), "id": m.id});
        if !m.present {
            entry["@removed"] = json!({"reason": "deleted"});
        }
        map.insert("manager@delta".to_owned(), json!([entry]));
    }
    let with_members = view.members || select.is_none_or(|s| s.iter().any(|p| p == "members"));
    let mut rest = None;
    if object.kind == Kind::Group && with_members {
        let all = dir.members_delta(&object.id, cursor);
        let remaining = all.len().saturating_sub(skip);
        let taken = remaining.min(budget.max(1));
        if taken < remaining {
            rest = Some(taken);
        }
        let members: Vec<Value> = all
            .into_iter()
            .skip(skip)
            .take(taken)
            .map(|m| {
                let mut v = json!({"@odata.type": m.kind.odata_type(), "id": m.id});
                if !m.present {
                    v["@removed"] = json!({"reason": "deleted"});
                }
                v
            })
            .collect();
        map.insert("members@delta".to_owned(), Value::Array(members));
    }
    (Value::Object(map), rest)
}
