//! Domains: list, add, verify, delete.

use super::*;

fn domain_json(name: &str, verified: bool, initial: bool) -> Value {
    json!({
        "authenticationType": "Managed",
        "id": name,
        "isAdminManaged": true,
        "isDefault": initial,
        "isInitial": initial,
        "isRoot": true,
        "isVerified": verified,
        "supportedServices": if initial { json!(["Email", "OfficeCommunicationsOnline"]) } else { json!([]) },
    })
}

fn find_domain(dir: &crate::directory::Directory, id: &str) -> Result<Value, GraphError> {
    dir.domains()
        .iter()
        .enumerate()
        .find(|(_, (name, _))| name.eq_ignore_ascii_case(id))
        .map(|(i, (name, verified))| domain_json(name, *verified, i == 0))
        .ok_or_else(|| GraphError::not_found(id))
}

pub(super) async fn list_domains(State(state): Shared, base: Base) -> AppResult {
    let value: Vec<Value> = state
        .directory()
        .domains()
        .iter()
        .enumerate()
        .map(|(i, (name, verified))| domain_json(name, *verified, i == 0))
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("domains"), "value": value}),
    ))
}

pub(super) async fn get_domain(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
) -> AppResult {
    let mut body = find_domain(&state.directory(), &id)?;
    body["@odata.context"] = json!(base.context("domains/$entity"));
    Ok(odata_json(StatusCode::OK, &body))
}

/// `POST /domains` with `{"id": "fabrikam.com"}`: 201, unverified.
pub(super) async fn add_domain(State(state): Shared, base: Base, body: Bytes) -> AppResult {
    let body = parse_object(&body)?;
    let Some(name) = body.get("id").and_then(Value::as_str) else {
        return Err(GraphError::invalid_property_value("id", "Domain"));
    };
    let mut dir = state.directory();
    dir.add_domain(name)?;
    let mut out = find_domain(&dir, name)?;
    out["@odata.context"] = json!(base.context("domains/$entity"));
    Ok(odata_json(StatusCode::CREATED, &out))
}

/// `POST /domains/{id}/verify`: 200 with the now verified domain.
pub(super) async fn verify_domain(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
) -> AppResult {
    let mut dir = state.directory();
    dir.verify_domain(&id)?;
    let mut out = find_domain(&dir, &id)?;
    out["@odata.context"] = json!(base.context("domains/$entity"));
    Ok(odata_json(StatusCode::OK, &out))
}

pub(super) async fn delete_domain(State(state): Shared, Path(id): Path<String>) -> AppResult {
    state.directory().remove_domain(&id)?;
    Ok(empty(StatusCode::NO_CONTENT))
}
