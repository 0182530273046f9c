//! JSON batching.

use super::*;

/// Graph runs at most this many requests in one `$batch`.
pub const MAX_BATCH_REQUESTS: usize = 20;

/// `POST /v1.0/$batch`: each item runs through the whole Graph pipeline (authentication,
/// throttling, handler), so a batch is charged per item and an item can get its own 429.
/// Items run in order; one whose `dependsOn` failed gets 424. The responses come back
/// shuffled, as Graph may reorder them.
pub async fn batch(
    State(state): Shared,
    Extension(scheme): Extension<Scheme>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult {
    let body = parse_object(&body)?;
    let Some(Value::Array(requests)) = body.get("requests") else {
        return Err(GraphError::odata_bad_request(
            "Invalid batch payload format: the 'requests' property is missing.",
        ));
    };
    if requests.len() > MAX_BATCH_REQUESTS {
        return Err(GraphError::odata_bad_request(format!(
            "Number of requests in a batch exceeds the limit of {MAX_BATCH_REQUESTS}."
        )));
    }
    let mut seen: Vec<String> = Vec::new();
    for r in requests {
        let (Some(id), Some(_), Some(_)) = (
            r.get("id").and_then(Value::as_str),
            r.get("method").and_then(Value::as_str),
            r.get("url").and_then(Value::as_str),
        ) else {
            return Err(GraphError::odata_bad_request(
                "Invalid batch payload format: every request needs 'id', 'method' and 'url'.",
            ));
        };
        let key = id.to_lowercase();
        if seen.contains(&key) {
            return Err(GraphError::odata_bad_request(format!(
                "Batch request id '{id}' is not unique."
            )));
        }
        seen.push(key);
    }

    let router = crate::server::app(state.clone(), scheme.0);
    let mut statuses: HashMap<String, u16> = HashMap::new();
    let mut responses = Vec::new();
    for r in requests {
        let id = r["id"].as_str().unwrap_or_default().to_owned();
        let failed_dependency = r
            .get("dependsOn")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|d| {
                !statuses
                    .get(&d.to_lowercase())
                    .is_some_and(|s| (200..300).contains(s))
            });
        let (status, item_headers, item_body) = if failed_dependency {
            let error = GraphError::new(
                StatusCode::FAILED_DEPENDENCY,
                "BadRequest",
                "Failed dependency.",
            );
            let date = crate::clock::inner_error_date(state.clock.now());
            let rid = state.ids.guid();
            (424, json!({}), error.body(&rid, &rid, &date))
        } else {
            run_batch_item(&state, &router, r, &headers).await
        };
        statuses.insert(id.to_lowercase(), status);
        let mut item = json!({"id": id, "status": status, "headers": item_headers});
        if !item_body.is_null() {
            item["body"] = item_body;
        }
        responses.push(item);
    }
    // Items ran in request order (so dependsOn holds); the answers come back in any order.
    state.shuffle_batch(&mut responses);
    Ok(odata_json(StatusCode::OK, &json!({"responses": responses})))
}

/// The path of a batch item relative to `/v1.0/`. Items usually carry a relative URL;
/// Microsoft's Python SDK sends the absolute one (scheme, host and version included).
pub(super) fn batch_item_path(url: &str) -> &str {
    let url = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => url,
    };
    let url = url.trim_start_matches('/');
    url.strip_prefix("v1.0/").unwrap_or(url)
}

pub(super) async fn run_batch_item(
    state: &AppState,
    router: &Router,
    item: &Value,
    outer: &HeaderMap,
) -> (u16, Value, Value) {
    use tower::ServiceExt;

    let method = item["method"]
        .as_str()
        .unwrap_or("GET")
        .to_ascii_uppercase();
    let url = batch_item_path(item["url"].as_str().unwrap_or_default());
    let item_headers = item.get("headers").and_then(Value::as_object);
    let item_error = |error: GraphError| {
        let rid = state.ids.guid();
        let date = crate::clock::inner_error_date(state.clock.now());
        (
            error.status.as_u16(),
            json!({}),
            error.body(&rid, &rid, &date),
        )
    };
    let body = match item.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(_)
            if item_headers
                .is_none_or(|h| !h.keys().any(|k| k.eq_ignore_ascii_case("content-type"))) =>
        {
            let error = GraphError::odata_bad_request(
                "Content-Type header is required when a request has a body.",
            );
            return item_error(error);
        }
        Some(b) => b.to_string().into_bytes(),
    };
    let mut builder = axum::http::Request::builder()
        .method(method.as_str())
        // Graph's own samples put `$filter=city eq null` in an item's URL as written: a
        // batch item is not an HTTP request line, so spaces and quotes are encoded here.
        .uri(
            format!("/v1.0/{url}")
                .replace(' ', "%20")
                .replace('"', "%22"),
        )
        .extension(crate::server::BatchItem);
    for name in [header::AUTHORIZATION, header::HOST] {
        if let Some(v) = outer.get(&name) {
            builder = builder.header(name, v);
        }
    }
    for (k, v) in item_headers.into_iter().flatten() {
        if let Some(v) = v.as_str() {
            builder = builder.header(k.as_str(), v);
        }
    }
    let Ok(request) = builder.body(axum::body::Body::from(body)) else {
        let error = GraphError::odata_bad_request("Invalid request URL or header in batch item.");
        return item_error(error);
    };
    let Ok(response) = router.clone().oneshot(request).await;
    let status = response.status().as_u16();
    let mut headers = Map::new();
    for (name, value) in response.headers() {
        let keep = matches!(
            name.as_str(),
            "retry-after" | "location" | "content-type" | "x-ms-resource-unit"
        );
        if keep && let Ok(v) = value.to_str() {
            let key = if name == header::RETRY_AFTER {
                "Retry-After".to_owned()
            } else {
                name.to_string()
            };
            headers.insert(key, json!(v));
        }
    }
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, Value::Object(headers), body)
}
