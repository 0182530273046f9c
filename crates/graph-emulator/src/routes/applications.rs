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
