//! Graph's error shape: `{"error":{"code","message","details"?,"innerError":{date,request-id,client-request-id}}}`.
//!
//! Handlers return a [`GraphError`]; the request-context middleware renders it, because only
//! the middleware knows the request id and the time the `innerError` must carry.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// One entry of `error.details`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    pub target: String,
}

/// An error as Microsoft Graph reports it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct GraphError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub details: Vec<ErrorDetail>,
    /// Seconds for the `Retry-After` header of a 429 (always an integer: kiota's retry
    /// handler parses it with `int()`).
    pub retry_after: Option<u64>,
    /// Extra response headers (throttle scope and information).
    pub headers: Vec<(&'static str, String)>,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
            headers: Vec::new(),
        }
    }

    /// `Request_ResourceNotFound` for a directory object that does not exist.
    pub fn not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }

    /// A directory-level `Request_BadRequest`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
    }

    /// An OData-level `BadRequest` (payload or URL that the gateway rejects before the
    /// directory sees it).
    pub fn odata_bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    pub fn unsupported_query(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", message)
    }

    /// The uniqueness violation Entra reports for userPrincipalName and mailNickname.
    pub fn object_conflict(property: &str) -> Self {
        let message =
            format!("Another object with the same value for property {property} already exists.");
        let mut e = Self::bad_request(message.clone());
        e.details.push(ErrorDetail {
            code: "ObjectConflict".to_owned(),
            message,
            target: property.to_owned(),
        });
        e
    }

    pub fn invalid_property_value(property: &str, resource: &str) -> Self {
        Self::bad_request(format!(
            "Invalid value specified for property '{property}' of resource '{resource}'."
        ))
    }

    pub fn invalid_token(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
    }

    pub fn invalid_json() -> Self {
        Self::odata_bad_request(
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )
    }

    pub fn too_many_requests(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Please retry again later.",
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// The JSON body, given the request's identifiers and the time.
    pub fn body(&self, request_id: &str, client_request_id: &str, date: &str) -> Value {
        let mut inner = json!({
            "date": date,
            "request-id": request_id,
            "client-request-id": client_request_id,
        });
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            // The documented 429 sample carries these extra innerError fields.
            inner["code"] = json!("429");
            inner["message"] = json!("Please retry after");
            inner["status"] = json!("429");
        }
        let mut error = json!({ "code": self.code, "message": self.message });
        if !self.details.is_empty() {
            error["details"] = self
                .details
                .iter()
                .map(|d| json!({"code": d.code, "message": d.message, "target": d.target}))
                .collect();
        }
        error["innerError"] = inner;
        json!({ "error": error })
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        // The body is written by `server::request_context`, which finds the error here.
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}
