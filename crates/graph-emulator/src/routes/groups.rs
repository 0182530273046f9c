//! Groups: create, read, update, delete, members, owners, casts and group licensing.

use super::*;

pub(super) async fn list_groups(
    State(state): Shared,
    base: Base,
    headers: HeaderMap,
    Query(pairs): Pairs,
) -> AppResult {
    list(&state, Kind::Group, &GROUP_FILTERS, &base, &headers, &pairs)
}

pub(super) async fn create_group(State(state): Shared, base: Base, body: Bytes) -> AppResult {
    let body = parse_object(&body)?;
    let id = state.ids.guid();
    let sid = security_identifier(&id);
    let now = state.clock.now();
    let mut dir = state.directory();
    let group = dir.create_group(body, id, sid, now)?;
    state.note_created(&group.id);
    Ok(created(&base, "groups", group))
}

/// Entra derives a cloud group's SID from its object id: `S-1-12-1-` and the GUID's 16
/// bytes as four little-endian 32-bit numbers.
pub(super) fn security_identifier(id: &str) -> String {
    let hex: String = id.chars().filter(char::is_ascii_hexdigit).collect();
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect();
    // GUID byte order: the first three fields are stored little-endian.
    let mut b = [0u8; 16];
    if bytes.len() == 16 {
        b.copy_from_slice(&bytes);
        b[0..4].reverse();
        b[4..6].reverse();
        b[6..8].reverse();
    }
    let parts: Vec<String> = b
        .chunks(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]).to_string())
        .collect();
    format!("S-1-12-1-{}", parts.join("-"))
}

pub(super) async fn get_group(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    Query(pairs): Pairs,
) -> AppResult {
    get_one(&state, Kind::Group, &base, &id, &pairs)
}

pub(super) async fn update_group(
    State(state): Shared,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult {
    let patch = parse_object(&body)?;
    refuse_exchange_group(&state, &id)?;
    state.directory().update_group(&id, patch)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// Graph reads distribution lists and mail-enabled security groups but changes them only
/// through Exchange, with this 400.
fn refuse_exchange_group(state: &crate::server::AppState, id: &str) -> Result<(), GraphError> {
    if state.exchange.masters_group(id) {
        return Err(GraphError::bad_request(
            "Cannot Update a mail-enabled security groups and or distribution list.",
        ));
    }
    Ok(())
}

pub(super) async fn delete_group(State(state): Shared, Path(id): Path<String>) -> AppResult {
    state.directory().delete_group(&id)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct MembersToken {
    o: usize,
}

pub(super) async fn group_members(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    Query(pairs): Pairs,
) -> AppResult {
    let q = QueryOptions::parse(&pairs)?;
    if let Some(select) = &q.select {
        check_select(Kind::User, select)?;
    }
    let after = match &q.skiptoken {
        Some(t) => decode_token::<MembersToken>(t).ok_or_else(bad_skiptoken)?.o,
        None => 0,
    };
    let dir = state.directory();
    let (page, next) = dir.members(&id, after, q.page_size())?;
    let value: Vec<Value> = page
        .iter()
        .map(|o| with_type(o, q.select.as_deref()))
        .collect();
    let mut body = json!({"@odata.context": base.context("directoryObjects")});
    if let Some(offset) = next {
        let token = encode_token(&MembersToken { o: offset });
        body["@odata.nextLink"] = json!(link(
            &base,
            &format!("groups/{id}/members"),
            &pairs,
            ("$skiptoken", token)
        ));
    }
    body["value"] = Value::Array(value);
    Ok(odata_json(StatusCode::OK, &body))
}

/// The type an OData cast segment names: `microsoft.graph.user` or the SDKs'
/// `graph.user` alias (and the same for groups).
pub(super) fn cast_kind(cast: &str) -> Result<Kind, GraphError> {
    let name = cast
        .strip_prefix("microsoft.graph.")
        .or_else(|| cast.strip_prefix("graph."));
    match name {
        Some("user") => Ok(Kind::User),
        Some("group") => Ok(Kind::Group),
        _ => Err(GraphError::odata_bad_request(format!(
            "Resource not found for the segment '{cast}'."
        ))),
    }
}

/// A cast collection (`…/members/microsoft.graph.user`): only objects of that type,
/// without `@odata.type` (the context names the type), paged by offset.
pub(super) fn cast_collection(
    base: &Base,
    path: &str,
    kind: Kind,
    objects: Vec<&DirObject>,
    pairs: &[(String, String)],
) -> AppResult {
    let q = QueryOptions::parse(pairs)?;
    if let Some(select) = &q.select {
        check_select(kind, select)?;
    }
    let offset = match &q.skiptoken {
        Some(t) => decode_token::<MembersToken>(t).ok_or_else(bad_skiptoken)?.o,
        None => 0,
    };
    let of_kind: Vec<&DirObject> = objects.into_iter().filter(|o| o.kind == kind).collect();
    let rest = of_kind.get(offset..).unwrap_or(&[]);
    let limit = q.page_size();
    let value: Vec<Value> = rest
        .iter()
        .take(limit)
        .map(|o| Value::Object(o.render(q.select.as_deref())))
        .collect();
    let set = match kind {
        Kind::User => "users",
        Kind::Group => "groups",
    };
    let mut body = json!({"@odata.context": base.context(set)});
    if rest.len() > limit {
        let token = encode_token(&MembersToken { o: offset + limit });
        body["@odata.nextLink"] = json!(link(base, path, pairs, ("$skiptoken", token)));
    }
    body["value"] = Value::Array(value);
    Ok(odata_json(StatusCode::OK, &body))
}

pub(super) async fn group_members_cast(
    State(state): Shared,
    base: Base,
    Path((id, cast)): Path<(String, String)>,
    Query(pairs): Pairs,
) -> AppResult {
    let kind = cast_kind(&cast)?;
    let dir = state.directory();
    let (members, _) = dir.members(&id, 0, usize::MAX)?;
    cast_collection(
        &base,
        &format!("groups/{id}/members/{cast}"),
        kind,
        members,
        &pairs,
    )
}

pub(super) async fn user_member_of_cast(
    State(state): Shared,
    base: Base,
    Path((id, cast)): Path<(String, String)>,
    Query(pairs): Pairs,
) -> AppResult {
    let kind = cast_kind(&cast)?;
    let dir = state.directory();
    let groups = dir.member_of(Kind::User, &id)?;
    cast_collection(
        &base,
        &format!("users/{id}/memberOf/{cast}"),
        kind,
        groups,
        &pairs,
    )
}

pub(super) async fn user_transitive_member_of_cast(
    State(state): Shared,
    base: Base,
    Path((id, cast)): Path<(String, String)>,
    Query(pairs): Pairs,
) -> AppResult {
    let kind = cast_kind(&cast)?;
    let dir = state.directory();
    let groups = dir.transitive_member_of(Kind::User, &id)?;
    let path = format!("users/{id}/transitiveMemberOf/{cast}");
    cast_collection(&base, &path, kind, groups, &pairs)
}

pub(super) async fn group_transitive_members_cast(
    State(state): Shared,
    base: Base,
    Path((id, cast)): Path<(String, String)>,
    Query(pairs): Pairs,
) -> AppResult {
    let kind = cast_kind(&cast)?;
    let dir = state.directory();
    let members = dir.transitive_members(&id)?;
    let path = format!("groups/{id}/transitiveMembers/{cast}");
    cast_collection(&base, &path, kind, members, &pairs)
}

pub(super) async fn add_member(
    State(state): Shared,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult {
    let member = reference_in(&body)?;
    refuse_exchange_group(&state, &id)?;
    state.directory().add_member(&id, &member)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(super) async fn remove_member(
    State(state): Shared,
    Path((id, member)): Path<(String, String)>,
) -> AppResult {
    refuse_exchange_group(&state, &id)?;
    state.directory().remove_member(&id, &member)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `POST /groups/{id}/assignLicense`: 202 Accepted with the group and a `Location`
/// header, as documented (the real service applies the licenses to members
/// asynchronously; here they apply before the response).
pub(super) async fn assign_group_license(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult {
    let body = parse_object(&body)?;
    let mut dir = state.directory();
    let group = dir.assign_group_license(&id, &body)?;
    let mut out = Map::new();
    out.insert(
        "@odata.context".to_owned(),
        json!(base.context("groups/$entity")),
    );
    out.extend(group.render(None));
    out.insert(
        "assignedLicenses".to_owned(),
        group
            .props
            .get("assignedLicenses")
            .cloned()
            .unwrap_or(json!([])),
    );
    let mut response = odata_json(StatusCode::ACCEPTED, &Value::Object(out));
    if let Ok(location) = HeaderValue::from_str(&format!("{}/v1.0/groups/{}", base.0, group.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

pub(super) async fn group_owners(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    Query(pairs): Pairs,
) -> AppResult {
    let q = QueryOptions::parse(&pairs)?;
    if let Some(select) = &q.select {
        check_select(Kind::User, select)?;
    }
    let dir = state.directory();
    let value: Vec<Value> = dir
        .owners(&id)?
        .into_iter()
        .map(|o| with_type(o, q.select.as_deref()))
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("directoryObjects"), "value": value}),
    ))
}

pub(super) async fn add_owner(
    State(state): Shared,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult {
    let owner = reference_in(&body)?;
    state.directory().add_owner(&id, &owner)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(super) async fn remove_owner(
    State(state): Shared,
    Path((id, owner)): Path<(String, String)>,
) -> AppResult {
    state.directory().remove_owner(&id, &owner)?;
    Ok(empty(StatusCode::NO_CONTENT))
}
