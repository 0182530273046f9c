//! Users: create, read, update, delete, manager, licenses, membership reads; also the
//! organization, domains and subscribedSkus.

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
    let verified: Vec<Value> = state
        .directory()
        .domains()
        .iter()
        .enumerate()
        .filter(|(_, (_, verified))| *verified)
        .map(|(i, (name, _))| {
            json!({"capabilities": if i == 0 { "Email, OfficeCommunicationsOnline" } else { "None" },
                   "isDefault": i == 0, "isInitial": i == 0, "name": name, "type": "Managed"})
        })
        .collect();
    let org = json!({
        "id": state.identity.tenant_id,
        "deletedDateTime": null,
        "displayName": "Contoso",
        "countryLetterCode": "US",
        "preferredLanguage": "en",
        "tenantType": "AAD",
        "onPremisesSyncEnabled": null,
        "verifiedDomains": verified,
    });
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("organization"), "value": [org]}),
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
