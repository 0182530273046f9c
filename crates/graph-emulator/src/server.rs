//! Starting the emulator: options, shared state, listeners and the request middleware.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::auth::{ClientSecret, RegisteredCertificate, TenantIdentity, TokenStore};
use crate::clock::{Clock, IdGenerator, SystemClock, inner_error_date};
use crate::directory::Directory;
use crate::error::GraphError;
use crate::odata::QueryOptions;
use crate::routes;
use crate::throttle::{RequestCost, TenantSize, Throttle, ThrottleLimits};
use crate::tls::{ClientCertificate, TlsMaterial};

/// How to run an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// Where to serve HTTPS with a self-signed CA; port 0 picks a free port.
    pub listen_https: Option<SocketAddr>,
    /// Where to serve plain HTTP; port 0 picks a free port.
    pub listen_http: Option<SocketAddr>,
    /// Where to write `ca.pem` when serving HTTPS (default: a directory under the system
    /// temporary directory, named after the process and port).
    pub tls_dir: Option<PathBuf>,
    /// Register a client certificate on the app (written next to `ca.pem`) for
    /// certificate credentials. Off by default: RSA key generation takes a moment.
    pub client_certificate: bool,
    /// Every throttling window runs this many times faster.
    pub time_scale: f64,
    /// Seed for ids and credentials; `None` differs per run.
    pub seed: Option<u64>,
    pub throttle: ThrottleLimits,
    /// The tenant's initial domain.
    pub initial_domain: String,
    /// More verified domains the tenant starts with (for userPrincipalNames such as
    /// `someone@contoso.com`); more can be added through `POST /domains`.
    pub verified_domains: Vec<String>,
    pub clock: Arc<dyn Clock>,
    /// Fraction (0.0–1.0) of authenticated Graph calls that fail with 503 or 504.
    pub fault_rate: f64,
    /// Delay added to every Graph call.
    pub latency: std::time::Duration,
    /// Fraction (0.0–1.0) of authenticated Graph calls whose connection is dropped
    /// without a response.
    pub drop_rate: f64,
    /// The tenant size that picks the resource-unit quota; `None` follows the user count
    /// (under 50 small, up to 500 medium, above that large).
    pub tenant_size: Option<TenantSize>,
    /// Eventual consistency: a created user or group stays invisible to reads (404 by id,
    /// missing from lists) for this long. Zero (the default) turns it off.
    pub eventual_consistency: std::time::Duration,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        Self {
            listen_https: None,
            listen_http: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            tls_dir: None,
            client_certificate: false,
            time_scale: 1.0,
            seed: None,
            throttle: ThrottleLimits::default(),
            initial_domain: "contoso.onmicrosoft.com".to_owned(),
            verified_domains: Vec::new(),
            clock: Arc::new(SystemClock),
            fault_rate: 0.0,
            latency: std::time::Duration::ZERO,
            drop_rate: 0.0,
            tenant_size: None,
            eventual_consistency: std::time::Duration::ZERO,
        }
    }
}

/// What a client needs to reach the emulator; the binary prints it as its first line.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionInfo {
    /// The `/v1.0` root (HTTPS when HTTPS is served).
    pub graph_url: String,
    /// The authority root (`{login_url}/{tenant_id}/oauth2/v2.0/token`).
    pub login_url: String,
    pub tenant_id: String,
    pub initial_domain: String,
    pub client_id: String,
    pub client_secret: String,
    /// The client certificate (PEM) registered on the app and its private key, when
    /// certificate credentials are enabled.
    pub certificate_path: Option<String>,
    pub private_key_path: Option<String>,
    /// The CA certificate (PEM) that signed the HTTPS certificate.
    pub ca_path: Option<String>,
    /// The plain-HTTP roots, when HTTP is served too.
    pub http_graph_url: Option<String>,
    pub http_login_url: Option<String>,
}

/// Failure to start the emulator.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("nothing to serve: give an HTTPS or an HTTP listen address")]
    NoListener,
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Shared state of a running emulator.
#[derive(Debug)]
pub struct AppState {
    pub identity: TenantIdentity,
    pub ids: IdGenerator,
    pub clock: Arc<dyn Clock>,
    directory: Mutex<Directory>,
    tokens: Mutex<TokenStore>,
    throttle: Mutex<Throttle>,
    limits: ThrottleLimits,
    time_scale: f64,
    /// The initial domain and the configured verified ones, which a reset keeps.
    domains: Vec<String>,
    stats: Mutex<Stats>,
    fault_rate: f64,
    latency: std::time::Duration,
    drop_rate: f64,
    tenant_size: Option<TenantSize>,
    eventual_consistency: std::time::Duration,
    /// Objects created within the eventual-consistency delay, oldest first.
    recently_created: Mutex<std::collections::VecDeque<(String, jiff::Timestamp)>>,
    /// Draws for faults come from their own sequence, so the ids a seed hands out do not
    /// depend on the fault rate.
    fault_draws: IdGenerator,
    /// Draws for the order of `$batch` responses, likewise separate.
    batch_draws: IdGenerator,
    /// The Exchange admin endpoint's own data and budget.
    pub exchange: crate::exchange::ExchangeState,
}

/// Request and throttling counters, served at `/_emulator/stats`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub graph_requests: u64,
    pub throttled: u64,
    pub unauthenticated: u64,
    pub resource_units: u64,
    pub writes: u64,
    pub faults: u64,
    pub dropped: u64,
}

impl AppState {
    pub fn new(options: &EmulatorOptions, certificate: Option<&ClientCertificate>) -> Self {
        let seed = options.seed.unwrap_or_else(IdGenerator::entropy_seed);
        let ids = IdGenerator::new(seed);
        let identity = TenantIdentity {
            tenant_id: ids.guid(),
            initial_domain: options.initial_domain.clone(),
            client_id: ids.guid(),
            client_secret: ClientSecret::new(client_secret(&ids)),
            certificates: certificate
                .map(|c| RegisteredCertificate {
                    x5t: c.x5t.clone(),
                    x5t_s256: c.x5t_s256.clone(),
                    public_key: c.public_key.clone(),
                })
                .into_iter()
                .collect(),
        };
        Self {
            directory: Mutex::new(Directory::new(configured_domains(options))),
            tokens: Mutex::new(TokenStore::default()),
            throttle: Mutex::new(Throttle::new(options.throttle.clone(), options.time_scale)),
            limits: options.throttle.clone(),
            time_scale: options.time_scale,
            domains: configured_domains(options),
            stats: Mutex::new(Stats::default()),
            fault_rate: options.fault_rate.clamp(0.0, 1.0),
            latency: options.latency,
            drop_rate: options.drop_rate.clamp(0.0, 1.0),
            tenant_size: options.tenant_size,
            eventual_consistency: options.eventual_consistency,
            recently_created: Mutex::default(),
            fault_draws: IdGenerator::new(seed ^ 0xFA17_FA17_FA17_FA17),
            batch_draws: IdGenerator::new(seed ^ 0xBA7C_BA7C_BA7C_BA7C),
            exchange: crate::exchange::ExchangeState::default(),
            identity,
            ids,
            clock: options.clock.clone(),
        }
    }

    /// The directory. A panic while it was held leaves it usable: every mutation checks
    /// before it writes.
    pub fn directory(&self) -> MutexGuard<'_, Directory> {
        self.directory.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn tokens(&self) -> MutexGuard<'_, TokenStore> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn throttle(&self) -> MutexGuard<'_, Throttle> {
        self.throttle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// True for `drop_rate` of the calls (drawn from the fault sequence, only when on).
    fn draw_drop(&self) -> bool {
        if self.drop_rate <= 0.0 {
            return false;
        }
        let draw = self.fault_draws.next_u64();
        ((draw >> 11) as f64 / (1u64 << 53) as f64) < self.drop_rate
    }

    /// A 503 or 504 for `fault_rate` of the calls.
    fn draw_fault(&self) -> Option<GraphError> {
        if self.fault_rate <= 0.0 {
            return None;
        }
        let draw = self.fault_draws.next_u64();
        let unit = (draw >> 11) as f64 / (1u64 << 53) as f64;
        if unit >= self.fault_rate {
            return None;
        }
        Some(if draw & 1 == 0 {
            let mut e = GraphError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "serviceNotAvailable",
                "The service is temporarily unavailable. Please retry later.",
            );
            e.retry_after = Some(1);
            e
        } else {
            GraphError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "GatewayTimeout",
                "The gateway did not receive a timely response from the service.",
            )
        })
    }

    /// Shuffles `$batch` responses (Fisher-Yates from the seed): Graph does not promise
    /// to answer in request order, so clients must match responses by id.
    pub fn shuffle_batch<T>(&self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.batch_draws.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }

    pub fn stats(&self) -> MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a created object for the eventual-consistency delay.
    pub fn note_created(&self, id: &str) {
        if self.eventual_consistency.is_zero() {
            return;
        }
        let now = self.clock.now();
        let mut recent = self
            .recently_created
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        recent.push_back((id.to_lowercase(), now));
    }

    /// True while an object created less than the eventual-consistency delay ago should
    /// not be seen by reads.
    pub fn not_yet_visible(&self, id: &str) -> bool {
        if self.eventual_consistency.is_zero() {
            return false;
        }
        let now = self.clock.now();
        let delay = jiff::SignedDuration::try_from(self.eventual_consistency).unwrap_or_default();
        let mut recent = self
            .recently_created
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        while recent
            .front()
            .is_some_and(|(_, at)| at.checked_add(delay).is_ok_and(|visible| visible <= now))
        {
            recent.pop_front();
        }
        recent
            .iter()
            .any(|(recent_id, _)| recent_id.eq_ignore_ascii_case(id))
    }

    /// Replaces the directory with a dumped state (all or nothing).
    pub fn load_state(&self, state: &serde_json::Value) -> Result<(), GraphError> {
        let loaded = Directory::load(self.domains.clone(), state)?;
        *self.directory() = loaded;
        Ok(())
    }

    /// Empties the directory and refills the throttling buckets; credentials stay.
    pub fn reset(&self) {
        *self.directory() = Directory::new(self.domains.clone());
        *self.throttle() = Throttle::new(self.limits.clone(), self.time_scale);
        *self.stats() = Stats::default();
        self.exchange.reset();
    }
}

/// The initial domain first, then the configured verified ones.
fn configured_domains(options: &EmulatorOptions) -> Vec<String> {
    let mut domains = vec![options.initial_domain.to_lowercase()];
    for d in &options.verified_domains {
        if !domains.iter().any(|x| x.eq_ignore_ascii_case(d)) {
            domains.push(d.to_lowercase());
        }
    }
    domains
}

/// A secret shaped like Entra's (40 characters with a `~` after the first three).
fn client_secret(ids: &IdGenerator) -> String {
    let raw = URL_SAFE_NO_PAD
        .encode(ids.bytes(30))
        .replace(['-', '_'], "x");
    format!("{}8Q~{}", &raw[..3], &raw[3..36])
}

/// The emulator's entry point.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Binds the listeners and serves in the background until the returned handle is
    /// dropped or shut down.
    pub async fn start(options: EmulatorOptions) -> Result<RunningEmulator, StartError> {
        let certificate = if options.client_certificate {
            Some(ClientCertificate::generate()?)
        } else {
            None
        };
        let state = Arc::new(AppState::new(&options, certificate.as_ref()));
        let mut tasks = Vec::new();
        let (tx, rx) = tokio::sync::watch::channel(false);

        let mut https = None;
        if let Some(addr) = options.listen_https {
            let listener = std::net::TcpListener::bind(addr)
                .map_err(|source| StartError::Bind { addr, source })?;
            let local = listener
                .local_addr()
                .map_err(|source| StartError::Bind { addr, source })?;
            let material = TlsMaterial::generate()?;
            let dir = options.tls_dir.clone().unwrap_or_else(|| {
                std::env::temp_dir().join(format!(
                    "idsync-graph-emulator-{}-{}",
                    std::process::id(),
                    local.port()
                ))
            });
            let ca_path = material.write_ca(&dir)?;
            let config = axum_server::tls_rustls::RustlsConfig::from_pem(
                material.chain_pem.into_bytes(),
                material.key_pem.into_bytes(),
            )
            .await
            .map_err(crate::tls::TlsError::Load)?;
            let server = axum_server::tls_rustls::from_tcp_rustls(listener, config)
                .map_err(|source| StartError::Bind { addr, source })?;
            let handle = axum_server::Handle::new();
            let router = app(state.clone(), "https");
            let server = server.handle(handle.clone());
            let mut stop = rx.clone();
            tasks.push(tokio::spawn(async move {
                tokio::spawn(async move {
                    let _ = stop.wait_for(|s| *s).await;
                    handle.graceful_shutdown(None);
                });
                if let Err(error) = server.serve(router.into_make_service()).await {
                    tracing::error!(%error, "graph emulator (https) stopped");
                }
            }));
            https = Some((format!("https://{local}"), ca_path));
        }

        let mut http = None;
        if let Some(addr) = options.listen_http {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::Bind { addr, source })?;
            let local = listener
                .local_addr()
                .map_err(|source| StartError::Bind { addr, source })?;
            let router = app(state.clone(), "http");
            let mut stop = rx.clone();
            tasks.push(tokio::spawn(async move {
                let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|s| *s).await;
                });
                if let Err(error) = serve.await {
                    tracing::error!(%error, "graph emulator (http) stopped");
                }
            }));
            http = Some(format!("http://{local}"));
        }

        let (base, ca_path) = match (&https, &http) {
            (Some((base, ca)), _) => (base.clone(), Some(ca.display().to_string())),
            (None, Some(base)) => (base.clone(), None),
            (None, None) => return Err(StartError::NoListener),
        };
        let both = https.is_some() && http.is_some();
        let (certificate_path, private_key_path) = match &certificate {
            Some(c) => {
                let dir = options.tls_dir.clone().unwrap_or_else(|| {
                    std::env::temp_dir()
                        .join(format!("idsync-graph-emulator-{}", std::process::id()))
                });
                let (cert, key) = c.write(&dir)?;
                (
                    Some(cert.display().to_string()),
                    Some(key.display().to_string()),
                )
            }
            None => (None, None),
        };
        let info = ConnectionInfo {
            graph_url: format!("{base}/v1.0"),
            login_url: base,
            tenant_id: state.identity.tenant_id.clone(),
            initial_domain: state.identity.initial_domain.clone(),
            client_id: state.identity.client_id.clone(),
            client_secret: state.identity.client_secret.expose().to_owned(),
            certificate_path,
            private_key_path,
            ca_path,
            http_graph_url: http.as_ref().filter(|_| both).map(|b| format!("{b}/v1.0")),
            http_login_url: http.filter(|_| both),
        };
        Ok(RunningEmulator {
            info,
            state,
            shutdown: Some(tx),
            tasks,
        })
    }
}

/// A running emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningEmulator {
    pub info: ConnectionInfo,
    state: Arc<AppState>,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningEmulator {
    pub fn graph_url(&self) -> &str {
        &self.info.graph_url
    }

    pub fn login_url(&self) -> &str {
        &self.info.login_url
    }

    /// The token endpoint of the emulated tenant.
    pub fn token_url(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.info.login_url, self.info.tenant_id
        )
    }

    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Stops accepting connections and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }

    /// Serves until the process is interrupted (for the binary).
    pub async fn wait(mut self) {
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
    }
}

/// The URL scheme a listener serves, for building absolute links.
#[derive(Debug, Clone, Copy)]
pub struct Scheme(pub &'static str);

/// The whole HTTP surface: identity platform endpoints and Graph under `/v1.0`.
pub fn app(state: Arc<AppState>, scheme: &'static str) -> Router {
    let graph =
        routes::graph_routes().layer(middleware::from_fn_with_state(state.clone(), graph_gate));
    routes::identity_routes()
        .merge(graph)
        .merge(routes::inspection_routes())
        .merge(crate::exchange::routes())
        .fallback(routes::unknown_segment)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::exchange::token_scope,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_context,
        ))
        .layer(axum::Extension(Scheme(scheme)))
        .with_state(state)
}

/// Assigns the request ids, echoes `client-request-id`, and renders [`GraphError`]s with
/// Graph's `innerError`.
async fn request_context(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let request_id = state.ids.guid();
    let client_request_id = request
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| request_id.clone(), str::to_owned);
    let mut response = next.run(request).await;
    if let Some(error) = response.extensions_mut().remove::<GraphError>() {
        let date = inner_error_date(state.clock.now());
        let body = error.body(&request_id, &client_request_id, &date);
        let mut rendered = routes::odata_json(error.status, &body);
        let headers = rendered.headers_mut();
        if let Some(secs) = error.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        for (name, value) in &error.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        }
        for (name, value) in response.headers() {
            if name.as_str().starts_with("x-ms-") {
                headers.insert(name.clone(), value.clone());
            }
        }
        response = rendered;
    }
    let headers = response.headers_mut();
    for (name, value) in [
        ("request-id", &request_id),
        ("client-request-id", &client_request_id),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    }
    response
}

/// Authenticates and meters every Graph call before it reaches a handler.
async fn graph_gate(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let now = state.clock.now();
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    state.stats().graph_requests += 1;
    if let Err(error) = state.tokens().check_bearer(authorization, now) {
        state.stats().unauthenticated += 1;
        return error.into_response();
    }
    // A batch is charged per item, when each item runs through this gate.
    if request.uri().path() == "/v1.0/$batch" {
        return next.run(request).await;
    }
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    // A batch item cannot lose its connection on its own: the batch holds it.
    if request.extensions().get::<BatchItem>().is_none() && state.draw_drop() {
        state.stats().dropped += 1;
        return Response::new(Body::new(DroppedConnection));
    }
    if let Some(fault) = state.draw_fault() {
        state.stats().faults += 1;
        return fault.into_response();
    }
    let cost = cost_of(&request);
    let size = state
        .tenant_size
        .unwrap_or_else(|| TenantSize::for_user_count(state.directory().user_count()));
    let admitted = state.throttle().admit(cost, size, now);
    match admitted {
        Ok(admitted) => {
            {
                let mut stats = state.stats();
                stats.resource_units += u64::from(admitted.resource_units);
                stats.writes += u64::from(cost.writes);
            }
            let mut response = next.run(request).await;
            let headers = response.headers_mut();
            headers.insert(
                "x-ms-resource-unit",
                HeaderValue::from(admitted.resource_units),
            );
            if admitted.usage >= 0.8
                && let Ok(v) = HeaderValue::from_str(&format!("{:.1}", admitted.usage))
            {
                headers.insert("x-ms-throttle-limit-percentage", v);
            }
            response
        }
        Err(throttled) => {
            state.stats().throttled += 1;
            let mut error = GraphError::too_many_requests(throttled.retry_after_secs);
            error.headers.push((
                "x-ms-throttle-scope",
                format!(
                    "{}/{}/{}",
                    throttled.scope, state.identity.client_id, state.identity.tenant_id
                ),
            ));
            error.headers.push((
                "x-ms-throttle-information",
                throttled.information.to_owned(),
            ));
            error.into_response()
        }
    }
}

fn cost_of(request: &Request<Body>) -> RequestCost {
    let path = request.uri().path().trim_start_matches("/v1.0/");
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(request.uri().query().unwrap_or("")).unwrap_or_default();
    let q = QueryOptions::parse(&pairs).unwrap_or_default();
    let has_expand = pairs
        .iter()
        .any(|(k, _)| k.trim_start_matches('$') == "expand");
    RequestCost::of(
        request.method().as_str(),
        path,
        q.select.is_some(),
        has_expand,
        q.top,
    )
}

/// Marks the requests a `$batch` runs for its items.
#[derive(Debug, Clone, Copy)]
pub struct BatchItem;

/// A response body that fails before its first byte: hyper then closes the connection
/// without sending anything, which is what a client sees when a connection drops.
#[derive(Debug)]
pub struct DroppedConnection;

impl http_body::Body for DroppedConnection {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "fault injection: connection dropped",
        ))))
    }
}

/// A status with no body (204 and friends).
pub fn empty(status: StatusCode) -> Response {
    status.into_response()
}
