//! Role definitions, unified role assignments and the legacy directoryRoles view.

use super::*;

pub(super) const ROLE_ASSIGNMENT_FILTERS: FilterRules = FilterRules {
    resource: "UnifiedRoleAssignment",
    comparable: &["id", "principalId", "roleDefinitionId", "directoryScopeId"],
    starts_with: &[],
    ends_with: &[],
};

pub(super) async fn list_role_definitions(State(_state): Shared, base: Base) -> AppResult {
    let value: Vec<Value> = crate::roles::ROLE_DEFINITIONS
        .iter()
        .map(crate::roles::definition_json)
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("roleManagement/directory/roleDefinitions"), "value": value}),
    ))
}

pub(super) async fn get_role_definition(base: Base, Path(id): Path<String>) -> AppResult {
    let definition = crate::roles::definition(&id).ok_or_else(|| GraphError::not_found(&id))?;
    let mut body = crate::roles::definition_json(definition);
    body["@odata.context"] =
        json!(base.context("roleManagement/directory/roleDefinitions/$entity"));
    Ok(odata_json(StatusCode::OK, &body))
}

pub(super) async fn list_role_assignments(
    State(state): Shared,
    base: Base,
    Query(pairs): Pairs,
) -> AppResult {
    let q = QueryOptions::parse(&pairs)?;
    if let Some(filter) = &q.filter {
        filter.validate(&ROLE_ASSIGNMENT_FILTERS, false)?;
    }
    let dir = state.directory();
    let value: Vec<Value> = dir
        .role_assignments()
        .iter()
        .map(crate::roles::RoleAssignment::to_json)
        .filter(|a| {
            let Value::Object(map) = a.clone() else {
                return false;
            };
            q.filter
                .as_ref()
                .is_none_or(|f| f.matches(&crate::props::Props::from(map)))
        })
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("roleManagement/directory/roleAssignments"), "value": value}),
    ))
}

pub(super) async fn create_role_assignment(
    State(state): Shared,
    base: Base,
    body: Bytes,
) -> AppResult {
    let body = parse_object(&body)?;
    let text = |name: &str| body.get(name).and_then(Value::as_str);
    let (Some(role), Some(principal)) = (text("roleDefinitionId"), text("principalId")) else {
        return Err(GraphError::bad_request(
            "Both 'roleDefinitionId' and 'principalId' are required.",
        ));
    };
    let scope = match (text("directoryScopeId"), text("appScopeId")) {
        (Some(scope), None) => scope,
        (None, Some(_)) => {
            return Err(GraphError::bad_request(
                "Role assignments at an application scope (appScopeId) are not emulated; use directoryScopeId.",
            ));
        }
        _ => {
            return Err(GraphError::bad_request(
                "Exactly one of 'directoryScopeId' and 'appScopeId' must be given.",
            ));
        }
    };
    let mut dir = state.directory();
    let assignment = dir.assign_role(role, principal, scope)?;
    let mut out = assignment.to_json();
    out["@odata.context"] = json!(base.context("roleManagement/directory/roleAssignments/$entity"));
    Ok(odata_json(StatusCode::CREATED, &out))
}

pub(super) async fn get_role_assignment(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
) -> AppResult {
    let dir = state.directory();
    let assignment = dir
        .role_assignments()
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| GraphError::not_found(&id))?;
    let mut out = assignment.to_json();
    out["@odata.context"] = json!(base.context("roleManagement/directory/roleAssignments/$entity"));
    Ok(odata_json(StatusCode::OK, &out))
}

pub(super) async fn delete_role_assignment(
    State(state): Shared,
    Path(id): Path<String>,
) -> AppResult {
    state.directory().remove_role_assignment(&id)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(super) fn directory_role_json(d: &crate::roles::RoleDefinition) -> Value {
    json!({
        "id": crate::roles::directory_role_id(d),
        "deletedDateTime": null,
        "description": d.description,
        "displayName": d.display_name,
        "roleTemplateId": d.template_id,
    })
}

/// Activated roles: Global Administrator always, others once someone holds them.
pub(super) async fn list_directory_roles(State(state): Shared, base: Base) -> AppResult {
    let dir = state.directory();
    let value: Vec<Value> = crate::roles::ROLE_DEFINITIONS
        .iter()
        .enumerate()
        .filter(|(i, d)| *i == 0 || !dir.role_members(d.template_id).is_empty())
        .map(|(_, d)| directory_role_json(d))
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("directoryRoles"), "value": value}),
    ))
}

pub(super) fn directory_role(
    key: &str,
) -> Result<&'static crate::roles::RoleDefinition, GraphError> {
    crate::roles::by_directory_role_key(key).ok_or_else(|| GraphError::not_found(key))
}

pub(super) async fn get_directory_role(base: Base, Path(id): Path<String>) -> AppResult {
    let mut body = directory_role_json(directory_role(&id)?);
    body["@odata.context"] = json!(base.context("directoryRoles/$entity"));
    Ok(odata_json(StatusCode::OK, &body))
}

pub(super) async fn directory_role_members(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
) -> AppResult {
    let role = directory_role(&id)?;
    let dir = state.directory();
    let value: Vec<Value> = dir
        .role_members(role.template_id)
        .into_iter()
        .map(|o| with_type(o, None))
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("directoryObjects"), "value": value}),
    ))
}

pub(super) async fn add_directory_role_member(
    State(state): Shared,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult {
    let role = directory_role(&id)?;
    let member = reference_in(&body)?;
    let mut dir = state.directory();
    if dir
        .role_members(role.template_id)
        .iter()
        .any(|m| m.id.eq_ignore_ascii_case(&member))
    {
        return Err(GraphError::bad_request(
            "One or more added object references already exist for the following modified properties: 'members'.",
        ));
    }
    dir.assign_role(role.template_id, &member, "/")?;
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(super) async fn remove_directory_role_member(
    State(state): Shared,
    Path((id, member)): Path<(String, String)>,
) -> AppResult {
    let role = directory_role(&id)?;
    state
        .directory()
        .remove_role_member(role.template_id, &member)?;
    Ok(empty(StatusCode::NO_CONTENT))
}
