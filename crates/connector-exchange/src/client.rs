//! One cmdlet as one HTTPS call to `InvokeCommand`, paced by the service's 429s.

use std::time::Duration;

use connector_graph::GraphError;
use connector_graph::auth::TokenSource;
use serde_json::{Map, Value as Json, json};

/// The anchor the module sends for app-only calls (the organisation's system mailbox).
const SYSTEM_MAILBOX: &str = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}";

/// How often one cmdlet is retried after a 429 before the caller is told to come back.
const THROTTLE_RETRIES: u32 = 5;

/// The longest single wait the connector sits out itself; longer ones go back to the engine.
const LONGEST_WAIT: Duration = Duration::from_secs(30);

/// What a cmdlet call can end in, besides its output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CmdletFailure {
    /// Throttled past the retries, or the service is unavailable: try later.
    #[error("{message}")]
    Busy {
        message: String,
        retry_after: Option<Duration>,
    },
    /// The object the cmdlet names does not exist (404 `NotFound`).
    #[error("{0}")]
    NotFound(String),
    /// Refused as it is (400): the text of `details[0].message`.
    #[error("{0}")]
    Rejected(String),
    /// The token or the app's roles were refused (401, 403).
    #[error("{0}")]
    Denied(String),
    #[error("{0}")]
    Protocol(String),
}

/// Requests and throttling seen, for the benchmark and the run report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// HTTP requests to `InvokeCommand` (each page and each retry counts).
    pub requests: u64,
    /// Answers of 429.
    pub throttled: u64,
    /// Time spent waiting on `Retry-After`.
    pub waited: Duration,
}

/// One page of a cmdlet's output.
#[derive(Debug, Default)]
pub struct Page {
    pub objects: Vec<Map<String, Json>>,
    pub warnings: Vec<String>,
    pub next: Option<String>,
}

#[derive(Debug)]
pub struct ExchangeClient {
    pub(crate) http: reqwest::Client,
    pub(crate) tokens: TokenSource,
    pub(crate) invoke_url: String,
    pub(crate) anchor: String,
    pub(crate) page_size: usize,
    pub traffic: Traffic,
}

impl ExchangeClient {
    pub fn new(
        http: reqwest::Client,
        tokens: TokenSource,
        invoke_url: String,
        tenant: &str,
        page_size: usize,
    ) -> Self {
        Self {
            http,
            tokens,
            invoke_url,
            anchor: format!("APP:{SYSTEM_MAILBOX}@{tenant}"),
            page_size,
            traffic: Traffic::default(),
        }
    }

    /// Runs a cmdlet and returns its first page (write cmdlets have one).
    pub async fn run(&mut self, cmdlet: &str, parameters: Json) -> Result<Page, CmdletFailure> {
        self.page(cmdlet, &parameters, None, None).await
    }

    /// One page: the first (`next` = `None`) or the one a nextLink names. `select` limits
    /// the properties returned.
    pub async fn page(
        &mut self,
        cmdlet: &str,
        parameters: &Json,
        select: Option<&str>,
        next: Option<&str>,
    ) -> Result<Page, CmdletFailure> {
        let url = match (next, select) {
            (Some(link), _) => link.to_owned(),
            (None, Some(select)) => format!("{}?$select={select}", self.invoke_url),
            (None, None) => self.invoke_url.clone(),
        };
        // The module re-posts the same body to the nextLink.
        let body = json!({"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}});
        let mut attempt = 0;
        loop {
            let token = self.tokens.token(&self.http).await.map_err(from_graph)?;
            self.traffic.requests += 1;
            let response = self
                .http
                .post(&url)
                .bearer_auth(token.expose())
                .header("X-CmdletName", cmdlet)
                .header("X-AnchorMailbox", &self.anchor)
                .header("X-ResponseFormat", "json")
                .header("Accept", "application/json")
                .header("Prefer", format!("odata.maxpagesize={}", self.page_size))
                .json(&body)
                .send()
                .await
                .map_err(|e| CmdletFailure::Busy {
                    message: format!("cannot reach Exchange for {cmdlet}: {e}"),
                    retry_after: None,
                })?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .map(|s| Duration::from_secs_f64(s.max(0.0)));
            let bytes = response.bytes().await.map_err(|e| CmdletFailure::Busy {
                message: format!("Exchange's answer to {cmdlet} broke off: {e}"),
                retry_after: None,
            })?;
            if status == 429 || status == 503 {
                if status == 429 {
                    self.traffic.throttled += 1;
                }
                let wait = retry_after.unwrap_or(Duration::from_secs(2u64 << attempt.min(4)));
                if attempt < THROTTLE_RETRIES && wait <= LONGEST_WAIT {
                    attempt += 1;
                    self.traffic.waited += wait;
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(CmdletFailure::Busy {
                    message: format!("Exchange throttled {cmdlet} (HTTP {status})"),
                    retry_after: Some(wait),
                });
            }
            if status == 401 {
                self.tokens.invalidate();
            }
            return interpret(cmdlet, status, &bytes);
        }
    }
}

fn from_graph(error: GraphError) -> CmdletFailure {
    match error {
        GraphError::Unavailable {
            message,
            retry_after,
        } => CmdletFailure::Busy {
            message,
            retry_after,
        },
        GraphError::Denied(m) | GraphError::Credential(m) => CmdletFailure::Denied(m),
        other => CmdletFailure::Protocol(other.to_string()),
    }
}

/// The readable part of `ExNNN|Exception.Type|text`.
fn detail_text(body: &Json) -> String {
    let message = body["error"]["details"][0]["message"]
        .as_str()
        .or_else(|| body["error"]["message"].as_str())
        .unwrap_or("no details");
    message.rsplit('|').next().unwrap_or(message).to_owned()
}

fn interpret(cmdlet: &str, status: u16, bytes: &[u8]) -> Result<Page, CmdletFailure> {
    let body: Json = if bytes.is_empty() {
        Json::Null
    } else {
        serde_json::from_slice(bytes).unwrap_or(Json::Null)
    };
    match status {
        200..=299 => {
            let objects = body["value"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_object().cloned())
                .collect();
            let warnings = body["@adminapi.warnings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|w| w.as_str().map(str::to_owned))
                .collect();
            Ok(Page {
                objects,
                warnings,
                next: body["@odata.nextLink"].as_str().map(str::to_owned),
            })
        }
        401 => Err(CmdletFailure::Denied(format!(
            "Exchange refused the token for {cmdlet} (401): the app needs the Exchange.ManageAsApp role and a token for the Exchange resource"
        ))),
        // The service answers a bare 403 both for a cmdlet it does not know and for one the
        // app's directory role does not allow.
        403 => Err(CmdletFailure::Denied(format!(
            "Exchange refused {cmdlet} (403): the app's directory role does not allow it, or the cmdlet does not exist"
        ))),
        404 => Err(CmdletFailure::NotFound(detail_text(&body))),
        500..=599 => Err(CmdletFailure::Busy {
            message: format!(
                "Exchange failed {cmdlet} (HTTP {status}): {}",
                detail_text(&body)
            ),
            retry_after: None,
        }),
        _ => Err(CmdletFailure::Rejected(detail_text(&body))),
    }
}
