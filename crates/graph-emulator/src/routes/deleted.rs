//! Deleted items: list, get, restore, purge.

use super::*;

pub(super) async fn list_deleted_users(
    State(state): Shared,
    base: Base,
    Query(pairs): Pairs,
) -> AppResult {
    let q = QueryOptions::parse(&pairs)?;
    let dir = state.directory();
    let value: Vec<Value> = dir
        .deleted_users()
        .into_iter()
        .map(|o| with_type(o, q.select.as_deref()))
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("directory/deletedItems/microsoft.graph.user"), "value": value}),
    ))
}

pub(super) async fn get_deleted_item(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
) -> AppResult {
    let dir = state.directory();
    let object = dir.deleted_item(&id)?;
    let mut body = json!({"@odata.context": base.context("directoryObjects/$entity")});
    if let (Value::Object(target), Value::Object(source)) = (&mut body, with_type(object, None)) {
        target.extend(source);
    }
    Ok(odata_json(StatusCode::OK, &body))
}

pub(super) async fn restore_deleted_item(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
) -> AppResult {
    let mut dir = state.directory();
    let object = dir.restore(&id)?;
    let mut body = json!({"@odata.context": base.context("directoryObjects/$entity")});
    if let (Value::Object(target), Value::Object(source)) = (&mut body, with_type(object, None)) {
        target.extend(source);
    }
    Ok(odata_json(StatusCode::OK, &body))
}

pub(super) async fn purge_deleted_item(State(state): Shared, Path(id): Path<String>) -> AppResult {
    state.directory().purge(&id)?;
    Ok(empty(StatusCode::NO_CONTENT))
}
