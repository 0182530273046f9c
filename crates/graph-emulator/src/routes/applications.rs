//! The application and its directory extension properties.

use super::*;

/// The one application registered in the emulated tenant (the client the emulator hands
/// out). Its object id differs from its appId, as in Entra: here the appId's hex digits
/// reversed.
pub(super) fn application_object_id(state: &AppState) -> String {
    let hex: String = state
        .identity
        .client_id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .rev()
        .collect();
    if hex.len() != 32 {
        return state.identity.client_id.clone();
    }
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

pub(super) const APP_DISPLAY_NAME: &str = "idsync";

pub(super) fn application_json(state: &AppState) -> Value {
    json!({
        "id": application_object_id(state),
        "deletedDateTime": null,
        "appId": state.identity.client_id,
        "displayName": APP_DISPLAY_NAME,
        "signInAudience": "AzureADMyOrg",
        "publisherDomain": state.identity.initial_domain,
    })
}

/// Finds the application by object id; anything else is 404.
pub(super) fn application(state: &AppState, id: &str) -> Result<(), GraphError> {
    if id.eq_ignore_ascii_case(&application_object_id(state)) {
        Ok(())
    } else {
        Err(GraphError::not_found(id))
    }
}

pub(super) async fn list_applications(State(state): Shared, base: Base) -> AppResult {
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("applications"), "value": [application_json(&state)]}),
    ))
}

pub(super) async fn get_application(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
) -> AppResult {
    application(&state, &id)?;
    let mut body = application_json(&state);
    body["@odata.context"] = json!(base.context("applications/$entity"));
    Ok(odata_json(StatusCode::OK, &body))
}

pub(super) async fn list_extension_properties(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
) -> AppResult {
    application(&state, &id)?;
    let value: Vec<Value> = state
        .directory()
        .extensions()
        .iter()
        .map(|e| e.to_json(APP_DISPLAY_NAME))
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context(&format!("applications('{id}')/extensionProperties")), "value": value}),
    ))
}

pub(super) async fn create_extension_property(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult {
    application(&state, &id)?;
    let body = parse_object(&body)?;
    let extension = crate::extensions::ExtensionProperty::from_request(
        &body,
        &state.identity.client_id,
        state.ids.guid(),
    )?;
    let mut dir = state.directory();
    let extension = dir.register_extension(extension)?;
    let mut out = extension.to_json(APP_DISPLAY_NAME);
    out["@odata.context"] =
        json!(base.context(&format!("applications('{id}')/extensionProperties/$entity")));
    Ok(odata_json(StatusCode::CREATED, &out))
}

pub(super) async fn get_extension_property(
    State(state): Shared,
    base: Base,
    Path((id, ext)): Path<(String, String)>,
) -> AppResult {
    application(&state, &id)?;
    let dir = state.directory();
    let extension = dir
        .extensions()
        .iter()
        .find(|e| e.id.eq_ignore_ascii_case(&ext))
        .ok_or_else(|| GraphError::not_found(&ext))?;
    let mut out = extension.to_json(APP_DISPLAY_NAME);
    out["@odata.context"] =
        json!(base.context(&format!("applications('{id}')/extensionProperties/$entity")));
    Ok(odata_json(StatusCode::OK, &out))
}

pub(super) async fn delete_extension_property(
    State(state): Shared,
    Path((id, ext)): Path<(String, String)>,
) -> AppResult {
    application(&state, &id)?;
    state.directory().unregister_extension(&ext)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// The application named by its alternate key, `applications(appId='…')`, as Microsoft's
/// SDKs address it (`applications_with_app_id`). Any other single segment is unknown.
fn by_app_id(state: &AppState, segment: &str) -> Result<String, GraphError> {
    let app_id = segment
        .strip_prefix("applications(appId='")
        .and_then(|rest| rest.strip_suffix("')"))
        .ok_or_else(|| {
            GraphError::odata_bad_request(format!(
                "Resource not found for the segment '{segment}'."
            ))
        })?;
    if app_id.eq_ignore_ascii_case(&state.identity.client_id) {
        Ok(application_object_id(state))
    } else {
        Err(GraphError::not_found(app_id))
    }
}

pub(super) async fn application_by_app_id(
    State(state): Shared,
    base: Base,
    method: Method,
    Path(segment): Path<String>,
) -> AppResult {
    let id = by_app_id(&state, &segment)?;
    if method != Method::GET {
        return Err(method_not_allowed().await);
    }
    get_application(State(state), base, Path(id)).await
}

pub(super) async fn extension_properties_by_app_id(
    State(state): Shared,
    base: Base,
    method: Method,
    Path(segment): Path<String>,
    body: Bytes,
) -> AppResult {
    let id = by_app_id(&state, &segment)?;
    match method {
        Method::GET => list_extension_properties(State(state), base, Path(id)).await,
        Method::POST => create_extension_property(State(state), base, Path(id), body).await,
        _ => Err(method_not_allowed().await),
    }
}
