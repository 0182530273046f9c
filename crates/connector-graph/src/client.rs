//! HTTP to Graph: bearer tokens, error classification, retries that honour `Retry-After`,
//! and JSON batching.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value as Json, json};
use tokio::sync::Mutex;

use crate::auth::TokenSource;
use crate::error::{GraphError, strip_query};

/// Graph's limit of requests in one `$batch`.
pub const BATCH_LIMIT: usize = 20;

/// How often a read is tried before the import gives up for this run.
const READ_ATTEMPTS: u32 = 6;

/// The longest a single wait for `Retry-After` may be; a longer one ends the attempt and the
/// engine schedules the retry.
pub(crate) const LONGEST_WAIT: Duration = Duration::from_secs(120);

/// One answer: status, the headers that matter and the JSON body (`Null` when empty).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<Duration>,
    /// `x-ms-throttle-limit-percentage`: how close the app is to its quota (1.0 = at it).
    pub throttle_percentage: Option<f64>,
    pub body: Json,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Throttled, unavailable or timed out: the same request may succeed later.
    pub fn is_transient(&self) -> bool {
        matches!(self.status, 429 | 500 | 502 | 503 | 504)
    }

    /// The error this reply stands for, with Graph's code and message.
    pub fn error(&self, what: &str) -> GraphError {
        let code = self.body["error"]["code"]
            .as_str()
            .unwrap_or("unknown")
            .to_owned();
        let message = self.body["error"]["message"]
            .as_str()
            .unwrap_or("no message")
            .to_owned();
        if self.is_transient() {
            GraphError::Unavailable {
                message: format!("{what}: HTTP {} {code}: {message}", self.status),
                retry_after: self.retry_after,
            }
        } else {
            GraphError::Rejected {
                status: self.status,
                code,
                message,
            }
        }
    }
}

/// Counters for benchmarks and run reports.
#[derive(Debug, Default)]
pub struct Traffic {
    /// HTTP requests sent to Graph (a `$batch` is one).
    pub requests: AtomicU64,
    /// Requests or batch items answered 429.
    pub throttled: AtomicU64,
    /// Requests inside batches.
    pub batch_items: AtomicU64,
}

impl Traffic {
    pub fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.requests.load(Ordering::Relaxed),
            self.throttled.load(Ordering::Relaxed),
            self.batch_items.load(Ordering::Relaxed),
        )
    }
}

/// One request inside a `$batch`; `url` is relative to the version root.
#[derive(Debug, Clone)]
pub struct BatchItem {
    pub method: Method,
    pub url: String,
    pub body: Option<Json>,
}

#[derive(Debug)]
pub struct GraphClient {
    http: reqwest::Client,
    /// The version root, such as `https://graph.microsoft.com/v1.0`.
    root: String,
    tokens: Mutex<TokenSource>,
    pub traffic: Traffic,
}

impl GraphClient {
    pub(crate) fn new(http: reqwest::Client, root: String, tokens: TokenSource) -> Arc<Self> {
        Arc::new(Self {
            http,
            root,
            tokens: Mutex::new(tokens),
            traffic: Traffic::default(),
        })
    }

    /// An absolute URL for a path relative to the version root; a nextLink or deltaLink is
    /// already absolute.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("https://") || path.starts_with("http://") {
            path.to_owned()
        } else {
            format!("{}/{}", self.root, path.trim_start_matches('/'))
        }
    }

    /// The path relative to the version root, as a batch item wants it.
    pub fn relative<'a>(&self, url: &'a str) -> &'a str {
        url.strip_prefix(&self.root).unwrap_or(url)
    }

    pub(crate) async fn token(&self) -> Result<config::Secret, GraphError> {
        self.tokens.lock().await.token(&self.http).await
    }

    /// Sends one request once (a refused token is renewed and the request sent again).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Json>,
        headers: &[(&str, &str)],
    ) -> Result<Reply, GraphError> {
        let url = self.url(path);
        let mut renewed = false;
        loop {
            let token = self.token().await?;
            let mut request = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(token.expose());
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            self.traffic.requests.fetch_add(1, Ordering::Relaxed);
            let response = request
                .send()
                .await
                .map_err(|e| GraphError::unreachable(&url, &e))?;
            let status = response.status();
            let response_headers = response.headers().clone();
            let bytes = response
                .bytes()
                .await
                .map_err(|e| GraphError::unreachable(&url, &e))?;
            if status == StatusCode::UNAUTHORIZED && !renewed {
                // An expired or revoked token: get a new one and try once more.
                self.tokens.lock().await.invalidate();
                renewed = true;
                continue;
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                self.traffic.throttled.fetch_add(1, Ordering::Relaxed);
            }
            let body = if bytes.is_empty() {
                Json::Null
            } else {
                serde_json::from_slice(&bytes).unwrap_or(Json::Null)
            };
            return Ok(Reply {
                status: status.as_u16(),
                retry_after: retry_after(&response_headers),
                throttle_percentage: header_f64(
                    &response_headers,
                    "x-ms-throttle-limit-percentage",
                ),
                body,
            });
        }
    }

    /// GETs JSON, waiting out throttling and outages a few times before giving up.
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Result<Json, GraphError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self.send(Method::GET, path, None, headers).await;
            let error = match outcome {
                Ok(reply) if reply.is_success() => return Ok(reply.body),
                Ok(reply) => reply.error(&format!("GET {}", strip_query(&self.url(path)))),
                Err(e) => e,
            };
            let GraphError::Unavailable { retry_after, .. } = &error else {
                return Err(error);
            };
            let wait = retry_after.unwrap_or_else(|| backoff(attempt));
            if attempt >= READ_ATTEMPTS || wait > LONGEST_WAIT {
                return Err(error);
            }
            tracing::debug!(
                path = strip_query(path),
                attempt,
                ?wait,
                "graph read failed; retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Sends up to [`BATCH_LIMIT`] requests as one `$batch`; the replies come back in the
    /// order of `items`, whatever order Graph answered in.
    pub async fn batch(&self, items: &[BatchItem]) -> Result<Vec<Reply>, GraphError> {
        debug_assert!(items.len() <= BATCH_LIMIT);
        let requests: Vec<Json> = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let mut request = json!({
                    "id": (i + 1).to_string(),
                    "method": item.method.as_str(),
                    // Spaces in a `$filter` are encoded, as any HTTP client would on its own.
                    "url": format!("/{}", self.relative(&item.url).trim_start_matches('/')).replace(' ', "%20"),
                });
                if let Some(body) = &item.body {
                    request["body"] = body.clone();
                    request["headers"] = json!({"Content-Type": "application/json"});
                }
                request
            })
            .collect();
        self.traffic
            .batch_items
            .fetch_add(items.len() as u64, Ordering::Relaxed);
        let reply = self
            .send(
                Method::POST,
                "$batch",
                Some(&json!({ "requests": requests })),
                &[],
            )
            .await?;
        if !reply.is_success() {
            return Err(reply.error("POST $batch"));
        }
        let mut replies: Vec<Option<Reply>> = vec![None; items.len()];
        for response in reply.body["responses"].as_array().into_iter().flatten() {
            let index = response["id"]
                .as_str()
                .and_then(|id| id.parse::<usize>().ok())
                .and_then(|n| n.checked_sub(1))
                .filter(|&i| i < items.len());
            let Some(index) = index else { continue };
            let status = response["status"].as_u64().unwrap_or(0) as u16;
            if status == 429 {
                self.traffic.throttled.fetch_add(1, Ordering::Relaxed);
            }
            let headers = &response["headers"];
            replies[index] = Some(Reply {
                status,
                retry_after: json_header(headers, "retry-after")
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .map(Duration::from_secs_f64),
                throttle_percentage: json_header(headers, "x-ms-throttle-limit-percentage")
                    .and_then(|v| v.trim().parse().ok())
                    .or(reply.throttle_percentage),
                body: response["body"].clone(),
            });
        }
        replies
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.ok_or_else(|| {
                    GraphError::Protocol(format!(
                        "the $batch answer has no response for request {}",
                        i + 1
                    ))
                })
            })
            .collect()
    }
}

/// Exponential backoff for when Graph gives no `Retry-After`: 1, 2, 4, … seconds.
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1 << attempt.saturating_sub(1).min(6))
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?;
    value
        .trim()
        .parse::<f64>()
        .ok()
        .map(Duration::from_secs_f64)
}

fn header_f64(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// A header of a batch item; Graph writes their names in any case.
fn json_header<'a>(headers: &'a Json, name: &str) -> Option<&'a str> {
    headers
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}
