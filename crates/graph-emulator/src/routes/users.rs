//! Users: create, read, update, delete, manager, licenses, membership reads and delta.

use super::*;

pub(super) async fn list_users(
    State(state): Shared,
    base: Base,
    headers: HeaderMap,
    Query(pairs): Pairs,
) -> AppResult {
    list(&state, Kind::User, &USER_FILTERS, &base, &headers, &pairs)
}

pub(super) async fn count_users(
    State(state): Shared,
    headers: HeaderMap,
    Query(pairs): Pairs,
) -> AppResult {
    count_segment(&state, Kind::User, &USER_FILTERS, &headers, &pairs)
}

pub(super) async fn count_groups(
    State(state): Shared,
    headers: HeaderMap,
    Query(pairs): Pairs,
) -> AppResult {
    count_segment(&state, Kind::Group, &GROUP_FILTERS, &headers, &pairs)
}

/// `GET /users/$count`: a plain-text number, only as an advanced query.
pub(super) fn count_segment(
    state: &AppState,
    kind: Kind,
    rules: &FilterRules,
    headers: &HeaderMap,
    pairs: &[(String, String)],
) -> AppResult {
    if !is_eventual(headers) {
        return Err(GraphError::bad_request(
            "$count is not currently supported.",
        ));
    }
    let q = QueryOptions::parse(pairs)?;
    if let Some(filter) = &q.filter {
        filter.validate(rules, true)?;
    }
    let query = Selection {
        filter: q.filter.as_ref(),
        search: q.search.as_ref(),
    };
    let n = state.directory().count(kind, query);
    let mut response = (StatusCode::OK, n.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=utf-8"),
    );
    Ok(response)
}

pub(super) async fn create_user(State(state): Shared, base: Base, body: Bytes) -> AppResult {
    let body = parse_object(&body)?;
    let id = state.ids.guid();
    let now = state.clock.now();
    let mut dir = state.directory();
    let user = dir.create_user(body, id, now)?;
    state.note_created(&user.id);
    Ok(created(&base, "users", user))
}

pub(super) async fn get_user(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    Query(pairs): Pairs,
) -> AppResult {
    get_one(&state, Kind::User, &base, &id, &pairs)
}

pub(super) async fn update_user(
    State(state): Shared,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult {
    let patch = parse_object(&body)?;
    state.directory().update_user(&id, patch)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(super) async fn delete_user(State(state): Shared, Path(id): Path<String>) -> AppResult {
    let now = state.clock.now();
    state.directory().delete_user(&id, now)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(super) async fn user_member_of(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    Query(pairs): Pairs,
) -> AppResult {
    let q = QueryOptions::parse(&pairs)?;
    let dir = state.directory();
    let groups = dir.member_of(Kind::User, &id)?;
    let value: Vec<Value> = groups
        .iter()
        .map(|g| with_type(g, q.select.as_deref()))
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("directoryObjects"), "value": value}),
    ))
}

/// A collection of directory objects, each with its `@odata.type`.
pub(super) fn directory_objects(
    base: &Base,
    objects: &[&DirObject],
    pairs: &[(String, String)],
) -> AppResult {
    let q = QueryOptions::parse(pairs)?;
    let value: Vec<Value> = objects
        .iter()
        .map(|o| with_type(o, q.select.as_deref()))
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("directoryObjects"), "value": value}),
    ))
}

pub(super) async fn user_transitive_member_of(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    Query(pairs): Pairs,
) -> AppResult {
    let dir = state.directory();
    directory_objects(&base, &dir.transitive_member_of(Kind::User, &id)?, &pairs)
}

pub(super) async fn group_member_of(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    Query(pairs): Pairs,
) -> AppResult {
    let dir = state.directory();
    directory_objects(&base, &dir.member_of(Kind::Group, &id)?, &pairs)
}

pub(super) async fn group_transitive_member_of(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    Query(pairs): Pairs,
) -> AppResult {
    let dir = state.directory();
    directory_objects(&base, &dir.transitive_member_of(Kind::Group, &id)?, &pairs)
}

pub(super) async fn group_transitive_members(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    Query(pairs): Pairs,
) -> AppResult {
    let dir = state.directory();
    directory_objects(&base, &dir.transitive_members(&id)?, &pairs)
}

pub(super) async fn assign_license(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult {
    let body = parse_object(&body)?;
    let mut dir = state.directory();
    let user = dir.assign_license(&id, &body)?;
    let mut out = Map::new();
    out.insert(
        "@odata.context".to_owned(),
        json!(base.context("users/$entity")),
    );
    out.extend(user.render(None));
    Ok(odata_json(StatusCode::OK, &Value::Object(out)))
}

pub(super) async fn user_license_details(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
) -> AppResult {
    let dir = state.directory();
    let user = dir.get(Kind::User, &id)?;
    let value: Vec<Value> = user
        .props
        .get("assignedLicenses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| {
            let sku = crate::licenses::sku(l["skuId"].as_str()?)?;
            let disabled: Vec<String> = l["disabledPlans"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str().map(str::to_owned))
                .collect();
            Some(crate::licenses::license_details(&user.id, sku, &disabled))
        })
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context(&format!("users('{}')/licenseDetails", user.id)), "value": value}),
    ))
}

pub(super) async fn organization(State(state): Shared, base: Base) -> AppResult {
    let domain = &state.identity.initial_domain;
    let org = json!({
        "id": state.identity.tenant_id,
        "deletedDateTime": null,
        "displayName": "Contoso",
        "countryLetterCode": "US",
        "preferredLanguage": "en",
        "tenantType": "AAD",
        "onPremisesSyncEnabled": null,
        "verifiedDomains": [{
            "capabilities": "Email, OfficeCommunicationsOnline",
            "isDefault": true, "isInitial": true, "name": domain, "type": "Managed"
        }],
    });
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("organization"), "value": [org]}),
    ))
}

pub(super) async fn domains(State(state): Shared, base: Base) -> AppResult {
    let domain = json!({
        "authenticationType": "Managed",
        "id": state.identity.initial_domain,
        "isAdminManaged": true,
        "isDefault": true,
        "isInitial": true,
        "isRoot": true,
        "isVerified": true,
        "supportedServices": ["Email", "OfficeCommunicationsOnline"],
    });
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("domains"), "value": [domain]}),
    ))
}

pub(super) async fn subscribed_skus(State(state): Shared, base: Base) -> AppResult {
    let dir = state.directory();
    let value: Vec<Value> = crate::licenses::SKUS
        .iter()
        .map(|s| {
            crate::licenses::subscribed_sku(
                &state.identity.tenant_id,
                s,
                dir.consumed_units(s.sku_id),
            )
        })
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("subscribedSkus"), "value": value}),
    ))
}

pub(super) fn reference_in(body: &Bytes) -> Result<String, GraphError> {
    let body = parse_object(body)?;
    body.get("@odata.id")
        .and_then(Value::as_str)
        .and_then(reference_id)
        .map(str::to_owned)
        .ok_or_else(|| {
            GraphError::odata_bad_request(
                "The request body must contain an '@odata.id' with a directoryObjects reference URL.",
            )
        })
}

pub(super) async fn get_manager(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
) -> AppResult {
    let dir = state.directory();
    let manager = dir.manager(&id)?;
    let mut body = json!({"@odata.context": base.context("directoryObjects/$entity")});
    if let (Value::Object(target), Value::Object(source)) = (&mut body, with_type(manager, None)) {
        target.extend(source);
    }
    Ok(odata_json(StatusCode::OK, &body))
}

pub(super) async fn set_manager(
    State(state): Shared,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult {
    let manager = reference_in(&body)?;
    state.directory().set_manager(&id, &manager)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(super) async fn remove_manager(State(state): Shared, Path(id): Path<String>) -> AppResult {
    state.directory().remove_manager(&id)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(super) async fn direct_reports(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
) -> AppResult {
    let dir = state.directory();
    let value: Vec<Value> = dir
        .direct_reports(&id)?
        .into_iter()
        .map(|o| with_type(o, None))
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("directoryObjects"), "value": value}),
    ))
}

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
