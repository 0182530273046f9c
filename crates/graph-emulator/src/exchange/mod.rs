//! The Exchange Online admin endpoint the ExchangeOnlineManagement module uses for every
//! cmdlet: `POST /adminapi/beta/{tenant}/InvokeCommand` with
//! `{"CmdletInput":{"CmdletName":…,"Parameters":{…}}}`.
//!
//! It shares the tenant with Graph: users and groups are the [`crate::directory`]'s, so a
//! mailbox's `ExternalDirectoryObjectId` is the user's Graph id, a licensed user gets a
//! mailbox, and a distribution group made here is a mail-enabled group in Graph's `/groups`.
//! Exchange's own data (contacts, mailbox settings, permissions) is in [`recipients`].

pub mod cmdlets;
pub mod recipients;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};

use crate::error::GraphError;
use crate::server::{AppState, Scheme};
use recipients::Recipients;

/// The resource an Exchange token is issued for.
pub const AUDIENCE: &str = "https://outlook.office365.com";

/// Largest page `Prefer: odata.maxpagesize` may ask for, and the default.
pub const MAX_PAGE_SIZE: usize = 1000;

/// The cmdlet budget: a token bucket of `burst` cmdlets refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExchangeThrottle {
    pub burst: f64,
    pub per_second: f64,
}

impl Default for ExchangeThrottle {
    /// Microsoft publishes no figure for InvokeCommand; this is the RPS-era budget of 200
    /// cmdlets per 5 seconds in the facts we have, as a bucket.
    fn default() -> Self {
        Self {
            burst: 200.0,
            per_second: 40.0,
        }
    }
}

#[derive(Debug)]
struct Bucket {
    limits: ExchangeThrottle,
    tokens: f64,
    at: Option<Timestamp>,
}

impl Bucket {
    fn new(limits: ExchangeThrottle) -> Self {
        Self {
            limits,
            tokens: limits.burst,
            at: None,
        }
    }

    /// Takes one cmdlet, or says how long until one is available.
    fn take(&mut self, now: Timestamp) -> Result<(), Duration> {
        if let Some(at) = self.at {
            let elapsed = now.duration_since(at).as_secs_f64().max(0.0);
            self.tokens = (self.tokens + elapsed * self.limits.per_second).min(self.limits.burst);
        }
        self.at = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - self.tokens) / self.limits.per_second.max(0.001);
            Err(Duration::from_secs_f64(wait))
        }
    }
}

/// Counters served with the emulator's state, for the benchmark.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct ExchangeStats {
    pub requests: u64,
    pub cmdlets: u64,
    pub throttled: u64,
    pub unauthenticated: u64,
}

/// Exchange's part of the emulator's state.
#[derive(Debug)]
pub struct ExchangeState {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    recipients: Recipients,
    tokens: HashSet<String>,
    /// What the app was granted: the `Exchange.ManageAsApp` app role, and an Entra
    /// directory role (Exchange Administrator); Exchange needs both.
    grants: Grants,
    mailbox_delay: Duration,
    bucket: Bucket,
    stats: ExchangeStats,
}

impl Default for ExchangeState {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Inner {
                recipients: Recipients::default(),
                tokens: HashSet::new(),
                grants: Grants {
                    app_role: true,
                    directory_role: true,
                },
                mailbox_delay: Duration::ZERO,
                bucket: Bucket::new(ExchangeThrottle::default()),
                stats: ExchangeStats::default(),
            }),
        }
    }
}

/// The two grants an app needs before Exchange runs its cmdlets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grants {
    pub app_role: bool,
    pub directory_role: bool,
}

impl ExchangeState {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether Exchange masters this group (a distribution list or mail-enabled security
    /// group made with `New-DistributionGroup`): Graph then refuses to change it.
    pub fn masters_group(&self, id: &str) -> bool {
        self.lock().recipients.groups.contains_key(id)
    }

    /// Takes grants away (or gives them back), to rehearse an app that is not fully
    /// permissioned: without the app role Exchange answers 401, with only the app role 403.
    pub fn set_grants(&self, grants: Grants) {
        self.lock().grants = grants;
    }

    /// How long after a user is first licensed for Exchange the mailbox appears.
    pub fn set_mailbox_delay(&self, delay: Duration) {
        self.lock().mailbox_delay = delay;
    }

    /// Replaces the cmdlet budget (and refills it).
    pub fn set_throttle(&self, limits: ExchangeThrottle) {
        self.lock().bucket = Bucket::new(limits);
    }

    pub fn stats(&self) -> ExchangeStats {
        self.lock().stats
    }

    /// Forgets Exchange's data (the directory is reset separately); tokens stay.
    pub fn reset(&self) {
        let mut inner = self.lock();
        inner.recipients = Recipients::default();
        inner.stats = ExchangeStats::default();
        let limits = inner.bucket.limits;
        inner.bucket = Bucket::new(limits);
    }
}

/// Seeding for tests, beside `Directory::seed_user`/`seed_group`: what directory
/// synchronization would bring into Exchange Online.
impl AppState {
    /// Adds a mail contact synchronized from on-premises AD (read-only to Exchange's
    /// cmdlets) and returns its `Guid`.
    pub fn seed_synced_mail_contact(
        &self,
        name: &str,
        external_email: &str,
    ) -> Result<String, GraphError> {
        let dir = self.directory();
        let mut inner = self.exchange.lock();
        let email = recipients::strip_smtp(external_email).to_owned();
        for taken in [name, email.as_str()] {
            if inner.recipients.in_use(&dir, taken) {
                return Err(GraphError::bad_request(format!(
                    "Cannot seed the synced mail contact '{name}': '{taken}' is already used by another recipient."
                )));
            }
        }
        let guid = self.ids.guid();
        let contact = recipients::MailContact {
            guid: guid.clone(),
            name: name.to_owned(),
            display_name: name.to_owned(),
            alias: name.chars().filter(char::is_ascii_alphanumeric).collect(),
            external_email: email,
            hidden: false,
            synced: true,
        };
        inner.recipients.contacts.insert(guid.clone(), contact);
        Ok(guid)
    }

    /// Marks a mail-enabled group Exchange knows (by directory id, Name, alias or address)
    /// as synchronized from on-premises AD: `onPremisesSyncEnabled` in the directory,
    /// `IsDirSynced` here, and read-only to Exchange's cmdlets. (A mail-enabled group
    /// seeded with `Directory::seed_group` and `onPremisesSyncEnabled: true` is adopted
    /// by Exchange without this.)
    pub fn mark_mail_group_synced(&self, group: &str) -> Result<(), GraphError> {
        let mut dir = self.directory();
        let inner = self.exchange.lock();
        let Some(recipients::RecipientRef::Group(id)) = inner.recipients.resolve(&dir, group)
        else {
            return Err(GraphError::bad_request(format!(
                "Cannot mark '{group}' synced: it is not a mail-enabled group Exchange knows."
            )));
        };
        dir.mark_synchronized(&id)
    }
}

/// The Exchange routes (they authenticate on their own, outside Graph's gate).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/adminapi/beta/{tenant}/InvokeCommand",
            post(invoke_command),
        )
        .route("/adminapi/beta/{tenant}/$batch", post(batch))
}

/// Lets the token endpoint issue tokens for Exchange: a request for
/// `https://outlook.office365.com/.default` is checked like a Graph one, and the token it
/// gets is recorded as an Exchange token (only those pass [`invoke_command`]).
pub async fn token_scope(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != axum::http::Method::POST
        || !request.uri().path().ends_with("/oauth2/v2.0/token")
    {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, 1 << 20).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let mut form: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let mut exchange = false;
    for (key, value) in &mut form {
        if key == "scope"
            && value
                .trim()
                .eq_ignore_ascii_case(&format!("{AUDIENCE}/.default"))
        {
            exchange = true;
            *value = "https://graph.microsoft.com/.default".to_owned();
        }
    }
    let body = if exchange {
        Body::from(serde_urlencoded::to_string(&form).unwrap_or_default())
    } else {
        Body::from(bytes)
    };
    let response = next.run(Request::from_parts(parts, body)).await;
    if !exchange || response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, 1 << 20).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Some(token) = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v["access_token"].as_str().map(str::to_owned))
    {
        state.exchange.lock().tokens.insert(token);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A failed cmdlet, rendered in the OData error envelope.
#[derive(Debug, Clone)]
pub struct CmdletError {
    pub status: StatusCode,
    pub code: &'static str,
    /// `ExNNNNNN|Exception.Type|text`, as `details[0].message` carries it.
    pub detail: String,
}

impl CmdletError {
    pub fn not_found(identity: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "NotFound",
            detail: format!(
                "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object '{identity}' couldn't be found on 'EMULATOR01DC001.PROD.OUTLOOK.COM'."
            ),
        }
    }

    pub fn bad_request(exception: &str, text: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "BadRequest",
            detail: format!("Ex0D3A41|{exception}|{}", text.into()),
        }
    }

    /// Exchange's refusal to write to an object directory synchronization masters.
    pub fn synchronized(cmdlet: &str, parameter: &str, object: &str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "BadRequest",
            detail: format!(
                "Ex5814FB|Microsoft.Exchange.Configuration.Tasks.TaskException|The action '{cmdlet}', '{parameter}', can't be performed on the object '{object}' because the object is being synchronized from your on-premises organization. This action should be performed on the object in your on-premises organization."
            ),
        }
    }

    fn response(&self) -> Response {
        let body = json!({
            "error": {
                "code": self.code,
                "message": "Error executing cmdlet",
                "details": [{"code": "Client", "target": "", "message": self.detail}],
                "innererror": {
                    "message": "Error executing cmdlet",
                    "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
                },
            },
            "adminapi.warnings@odata.type": "#Collection(String)",
            "@adminapi.warnings": [],
        });
        json_response(self.status, &body)
    }
}

/// What a cmdlet returns: objects and warnings.
#[derive(Debug, Default)]
pub struct CmdletOutput {
    pub objects: Vec<Map<String, Value>>,
    pub warnings: Vec<String>,
}

/// Why a cmdlet did not run.
#[derive(Debug)]
pub enum Refusal {
    /// The cmdlet is unknown (or not permitted): a bare 403.
    UnknownCmdlet,
    Failed(CmdletError),
}

impl From<CmdletError> for Refusal {
    fn from(e: CmdletError) -> Self {
        Refusal::Failed(e)
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
        ),
    );
    response
        .headers_mut()
        .insert("odata-version", HeaderValue::from_static("4.0"));
    response
}

fn unauthorized(message: &str) -> Response {
    json_response(
        StatusCode::UNAUTHORIZED,
        &json!({"error": {"code": "Unauthorized", "message": message}}),
    )
}

fn page_size(headers: &HeaderMap) -> usize {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([',', ';']))
        .filter_map(|p| p.trim().strip_prefix("odata.maxpagesize="))
        .filter_map(|n| n.trim().parse::<usize>().ok())
        .next()
        .map_or(MAX_PAGE_SIZE, |n| n.clamp(1, MAX_PAGE_SIZE))
}

/// `POST /adminapi/beta/{tenant}/InvokeCommand`.
async fn invoke_command(
    State(state): State<Arc<AppState>>,
    Path(tenant): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    scheme: Option<axum::Extension<Scheme>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let scheme = scheme.map_or("http", |s| s.0.0);
    execute(&state, &tenant, &query, scheme, &headers, &body)
}

/// Most sub-requests one `$batch` takes.
pub const MAX_BATCH: usize = 10;

/// `POST /adminapi/beta/{tenant}/$batch`: up to ten InvokeCommand sub-requests, each
/// authenticated and metered on its own; failures stay inside (the batch answers 200).
async fn batch(
    State(state): State<Arc<AppState>>,
    Path(tenant): Path<String>,
    scheme: Option<axum::Extension<Scheme>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let scheme = scheme.map_or("http", |s| s.0.0);
    let Ok(input) = serde_json::from_slice::<Value>(&body) else {
        return CmdletError::bad_request(
            "System.ArgumentException",
            "The batch body is not valid JSON.",
        )
        .response();
    };
    let requests = input["requests"].as_array().cloned().unwrap_or_default();
    if requests.is_empty() || requests.len() > MAX_BATCH {
        return CmdletError::bad_request(
            "System.ArgumentException",
            format!(
                "A batch holds 1 to {MAX_BATCH} requests; this one holds {}.",
                requests.len()
            ),
        )
        .response();
    }
    let mut responses = Vec::new();
    for item in requests {
        let url = item["url"].as_str().unwrap_or_default();
        let query: Vec<(String, String)> = url
            .split_once('?')
            .and_then(|(_, q)| serde_urlencoded::from_str(q).ok())
            .unwrap_or_default();
        let mut item_headers = HeaderMap::new();
        if let Some(auth) = headers.get(header::AUTHORIZATION) {
            item_headers.insert(header::AUTHORIZATION, auth.clone());
        }
        if let Some(h) = headers.get(header::HOST) {
            item_headers.insert(header::HOST, h.clone());
        }
        for (name, value) in item["headers"].as_object().into_iter().flatten() {
            if let (Ok(n), Some(Ok(v))) = (
                axum::http::HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()),
                value.as_str().map(HeaderValue::from_str),
            ) {
                item_headers.insert(n, v);
            }
        }
        let item_body = item["body"].to_string();
        let response = if url.contains("/InvokeCommand") {
            execute(
                &state,
                &tenant,
                &query,
                scheme,
                &item_headers,
                item_body.as_bytes(),
            )
        } else {
            CmdletError::bad_request(
                "System.ArgumentException",
                format!("A batch item must call InvokeCommand, not {url}."),
            )
            .response()
        };
        let status = response.status().as_u16();
        let item_response_headers = item_headers_of(response.headers());
        let bytes = to_bytes(response.into_body(), 64 << 20)
            .await
            .unwrap_or_default();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        responses.push(json!({
            "id": item["id"],
            "status": status,
            "headers": item_response_headers,
            "body": body,
        }));
    }
    json_response(StatusCode::OK, &json!({ "responses": responses }))
}

/// The headers a batch item carries: those of the same call made alone that a client acts
/// on (`Retry-After` above all, so a throttled item can be retried on its own).
fn item_headers_of(headers: &HeaderMap) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, shown) in [
        (header::CONTENT_TYPE, "Content-Type"),
        (header::RETRY_AFTER, "Retry-After"),
    ] {
        if let Some(value) = headers.get(&name).and_then(|v| v.to_str().ok()) {
            out.insert(shown.to_owned(), json!(value));
        }
    }
    out
}

/// Runs one InvokeCommand request (alone or as a batch item).
fn execute(
    state: &Arc<AppState>,
    tenant: &str,
    query: &[(String, String)],
    scheme: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let tenant = tenant.to_owned();
    let now = state.clock.now();
    let exchange = &state.exchange;
    exchange.lock().stats.requests += 1;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.split_once(' '))
        .filter(|(s, _)| s.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned());
    let authorized = token.as_deref().is_some_and(|t| {
        state
            .tokens()
            .check_bearer(Some(&format!("Bearer {t}")), now)
            .is_ok()
            && exchange.lock().tokens.contains(t)
    });
    if !authorized {
        exchange.lock().stats.unauthenticated += 1;
        return unauthorized(
            "The access token is missing, expired, or not issued for https://outlook.office365.com.",
        );
    }
    // "Neither grant → 401, app role only → 403, both → 200", as measured against the
    // service; the 403 has no body, like the one for an unknown cmdlet.
    let grants = exchange.lock().grants;
    if !grants.app_role {
        return unauthorized("The token carries no Exchange.ManageAsApp role.");
    }
    if !grants.directory_role {
        return StatusCode::FORBIDDEN.into_response();
    }
    if !state.identity.names_tenant(&tenant) {
        return CmdletError {
            status: StatusCode::NOT_FOUND,
            code: "NotFound",
            detail: format!("|Microsoft.Exchange.Admin.OData.Core.TenantNotFoundException|Tenant '{tenant}' was not found."),
        }
        .response();
    }
    let admitted = exchange.lock().bucket.take(now);
    if let Err(wait) = admitted {
        exchange.lock().stats.throttled += 1;
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        let mut response = json_response(
            StatusCode::TOO_MANY_REQUESTS,
            &json!({"error": {"code": "TooManyRequests", "message": "Too many requests. Please retry after the time in Retry-After.", "details": []}}),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return response;
    }
    let Ok(input) = serde_json::from_slice::<Value>(body) else {
        return CmdletError::bad_request(
            "System.ArgumentException",
            "The request body is not valid JSON.",
        )
        .response();
    };
    let Some(name) = input["CmdletInput"]["CmdletName"]
        .as_str()
        .map(str::to_owned)
    else {
        return CmdletError::bad_request(
            "System.ArgumentException",
            "CmdletInput.CmdletName is required.",
        )
        .response();
    };
    if let Some(header_name) = headers.get("x-cmdletname").and_then(|v| v.to_str().ok())
        && !header_name.eq_ignore_ascii_case(&name)
    {
        return CmdletError::bad_request(
            "System.ArgumentException",
            format!("X-CmdletName '{header_name}' does not match CmdletName '{name}'."),
        )
        .response();
    }
    let parameters = input["CmdletInput"]["Parameters"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let output = {
        let mut dir = state.directory();
        let mut inner = exchange.lock();
        inner.stats.cmdlets += 1;
        let delay = SignedDuration::try_from(inner.mailbox_delay).unwrap_or_default();
        inner
            .recipients
            .provision(&dir, &state.identity.initial_domain, now, delay, || {
                state.ids.guid()
            });
        let mut context = cmdlets::Context {
            dir: &mut dir,
            recipients: &mut inner.recipients,
            ids: &state.ids,
            now,
            domain: &state.identity.initial_domain,
        };
        cmdlets::run(&mut context, &name, &parameters)
    };
    let output = match output {
        Ok(output) => output,
        Err(Refusal::UnknownCmdlet) => return StatusCode::FORBIDDEN.into_response(),
        Err(Refusal::Failed(error)) => return error.response(),
    };
    let mut output = output;
    // Eventual consistency (the emulator's `eventual_consistency` option): what a New-*
    // made is missing from reads for a while, as in Graph.
    let ids_of = |o: &Map<String, Value>| -> Vec<String> {
        ["Guid", "ExternalDirectoryObjectId"]
            .iter()
            .filter_map(|k| o.get(*k).and_then(Value::as_str).map(str::to_owned))
            .collect()
    };
    if name.to_ascii_lowercase().starts_with("new-") {
        for object in &output.objects {
            for id in ids_of(object) {
                state.note_created(&id);
            }
        }
    } else if name.to_ascii_lowercase().starts_with("get-") {
        output
            .objects
            .retain(|o| !ids_of(o).iter().any(|id| state.not_yet_visible(id)));
    }
    let select: Option<Vec<String>> = query
        .iter()
        .find(|(k, _)| k == "$select")
        .map(|(_, v)| v.split(',').map(|s| s.trim().to_owned()).collect());
    let skip: usize = query
        .iter()
        .find(|(k, _)| k == "$skiptoken")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let size = page_size(headers);
    let total = output.objects.len();
    let page: Vec<Value> = output
        .objects
        .into_iter()
        .skip(skip)
        .take(size)
        .map(|object| match &select {
            None => Value::Object(object),
            Some(names) => Value::Object(
                object
                    .into_iter()
                    .filter(|(k, _)| names.iter().any(|n| n.eq_ignore_ascii_case(k)))
                    .collect(),
            ),
        })
        .collect();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let root = format!("{scheme}://{host}/adminapi/beta/{tenant}");
    let mut body = json!({
        "@odata.context": format!("{root}/$metadata#Collection(Exchange.GenericHashTable)"),
        "adminapi.warnings@odata.type": "#Collection(String)",
        "@adminapi.warnings": output.warnings,
        "value": page,
    });
    if skip + size < total {
        let mut link = format!("{root}/InvokeCommand?$skiptoken={}", skip + size);
        if let Some(names) = &select {
            link.push_str(&format!("&$select={}", names.join(",")));
        }
        body["@odata.nextLink"] = json!(link);
    }
    json_response(StatusCode::OK, &body)
}
