//! Cmdlets as HTTPS calls to `InvokeCommand`, one per call or up to ten per `$batch`,
//! paced by the service's 429s.

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

/// Most cmdlet calls one `$batch` carries (the module flushes at ten; so does the service's limit).
pub const MAX_BATCH: usize = 10;

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
    /// HTTP requests to `InvokeCommand` and `$batch` (each page, each batch and each
    /// retry counts once; the calls inside a batch do not).
    pub requests: u64,
    /// Answers of 429, a throttled call inside a batch counting as one.
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

/// One cmdlet call of a `$batch`.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub cmdlet: &'a str,
    pub parameters: &'a Json,
}

#[derive(Debug)]
pub struct ExchangeClient {
    pub(crate) http: reqwest::Client,
    pub(crate) tokens: TokenSource,
    pub(crate) invoke_url: String,
    batch_url: String,
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
        // `{base}/adminapi/beta/{tenant}/InvokeCommand` and `…/{tenant}/$batch` are siblings.
        let batch_url = match invoke_url.rsplit_once('/') {
            Some((root, _)) => format!("{root}/$batch"),
            None => format!("{invoke_url}/$batch"),
        };
        Self {
            http,
            tokens,
            invoke_url,
            batch_url,
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
            let mut request = self.http.post(&url).bearer_auth(token.expose());
            for (name, value) in self.cmdlet_headers(cmdlet) {
                request = request.header(name, value);
            }
            let response = request
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
                .and_then(seconds);
            let bytes = response.bytes().await.map_err(|e| CmdletFailure::Busy {
                message: format!("Exchange's answer to {cmdlet} broke off: {e}"),
                retry_after: None,
            })?;
            if status == 429 || status == 503 {
                if status == 429 {
                    self.traffic.throttled += 1;
                }
                let wait = retry_after.unwrap_or_else(|| backoff(attempt));
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
            return interpret(cmdlet, status, &parse(&bytes));
        }
    }

    /// The headers every cmdlet call carries, alone or inside a batch.
    fn cmdlet_headers(&self, cmdlet: &str) -> [(&'static str, String); 5] {
        [
            ("X-CmdletName", cmdlet.to_owned()),
            ("X-AnchorMailbox", self.anchor.clone()),
            ("X-ResponseFormat", "json".to_owned()),
            ("Accept", "application/json".to_owned()),
            ("Prefer", format!("odata.maxpagesize={}", self.page_size)),
        ]
    }

    /// Runs up to [`MAX_BATCH`] cmdlets in one `$batch` and returns one result per call,
    /// in the order of `calls`, each read as [`Self::run`] reads a single call. Only the
    /// calls answered 429 or 503 go again, in a later batch after the longest
    /// `Retry-After` among them, within the retry limits of a single call: the others ran
    /// and must not run twice.
    pub async fn run_batch(&mut self, calls: &[Call<'_>]) -> Vec<Result<Page, CmdletFailure>> {
        assert!(
            calls.len() <= MAX_BATCH,
            "a batch carries at most {MAX_BATCH} cmdlets, not {}",
            calls.len()
        );
        let mut results: Vec<Result<Page, CmdletFailure>> = calls
            .iter()
            .map(|c| {
                Err(CmdletFailure::Protocol(format!(
                    "Exchange's batch answer left out {}",
                    c.cmdlet
                )))
            })
            .collect();
        let mut waiting: Vec<usize> = (0..calls.len()).collect();
        let mut attempt = 0;
        while !waiting.is_empty() {
            let answers = match self.post_batch(calls, &waiting).await {
                Ok(answers) => answers,
                Err(failure) => {
                    for &i in &waiting {
                        results[i] = Err(failure.clone());
                    }
                    break;
                }
            };
            let mut throttled = Vec::new();
            let mut wait = Duration::ZERO;
            for (&i, answer) in waiting.iter().zip(answers) {
                let Some(answer) = answer else { continue };
                if answer.status == 429 || answer.status == 503 {
                    wait = wait.max(answer.retry_after.unwrap_or_else(|| backoff(attempt)));
                    throttled.push((i, answer.status));
                    continue;
                }
                if answer.status == 401 {
                    self.tokens.invalidate();
                }
                results[i] = interpret(calls[i].cmdlet, answer.status, &answer.body);
            }
            if !throttled.is_empty() && attempt < THROTTLE_RETRIES && wait <= LONGEST_WAIT {
                attempt += 1;
                self.traffic.waited += wait;
                tokio::time::sleep(wait).await;
            } else {
                for &(i, status) in &throttled {
                    results[i] = Err(CmdletFailure::Busy {
                        message: format!("Exchange throttled {} (HTTP {status})", calls[i].cmdlet),
                        retry_after: Some(wait),
                    });
                }
                throttled.clear();
            }
            waiting = throttled.into_iter().map(|(i, _)| i).collect();
        }
        results
    }

    /// One `$batch` POST for the calls at `waiting` (their index in `calls` is their id);
    /// an answer per waiting call, `None` where the service left one out. A whole batch
    /// answered 429 or 503 reads as every call answered so.
    async fn post_batch(
        &mut self,
        calls: &[Call<'_>],
        waiting: &[usize],
    ) -> Result<Vec<Option<ItemAnswer>>, CmdletFailure> {
        let token = self.tokens.token(&self.http).await.map_err(from_graph)?;
        let requests: Vec<Json> = waiting
            .iter()
            .map(|&i| {
                let call = calls[i];
                let mut headers: Map<String, Json> = self
                    .cmdlet_headers(call.cmdlet)
                    .into_iter()
                    .map(|(name, value)| (name.to_owned(), Json::String(value)))
                    .collect();
                headers.insert(
                    "Authorization".to_owned(),
                    Json::String(format!("Bearer {}", token.expose())),
                );
                json!({
                    "id": i.to_string(),
                    "method": "POST",
                    "url": self.invoke_url,
                    "headers": headers,
                    "body": {"CmdletInput": {"CmdletName": call.cmdlet, "Parameters": call.parameters}},
                })
            })
            .collect();
        self.traffic.requests += 1;
        let response = self
            .http
            .post(&self.batch_url)
            .bearer_auth(token.expose())
            .header("Accept", "application/json")
            // Without it the service may stop at the first failing call.
            .header("Prefer", "odata.continue-on-error")
            .json(&json!({ "requests": requests }))
            .send()
            .await
            .map_err(|e| CmdletFailure::Busy {
                message: format!("cannot reach Exchange for a batch of cmdlets: {e}"),
                retry_after: None,
            })?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(seconds);
        let bytes = response.bytes().await.map_err(|e| CmdletFailure::Busy {
            message: format!("Exchange's answer to a batch of cmdlets broke off: {e}"),
            retry_after: None,
        })?;
        let body = parse(&bytes);
        if status == 200 {
            let answers = item_answers(&body, waiting);
            self.traffic.throttled +=
                answers.iter().flatten().filter(|a| a.status == 429).count() as u64;
            return Ok(answers);
        }
        if status == 429 {
            self.traffic.throttled += 1;
        }
        if status == 401 {
            self.tokens.invalidate();
        }
        Ok(waiting
            .iter()
            .map(|_| {
                Some(ItemAnswer {
                    status,
                    retry_after,
                    body: body.clone(),
                })
            })
            .collect())
    }
}

/// What the service answered one call of a batch.
#[derive(Debug, PartialEq)]
struct ItemAnswer {
    status: u16,
    retry_after: Option<Duration>,
    body: Json,
}

/// The answers in a `$batch` response to the calls with ids `waiting`, in that order,
/// whatever order the service answered in.
fn item_answers(body: &Json, waiting: &[usize]) -> Vec<Option<ItemAnswer>> {
    let responses = body["responses"].as_array().map_or(&[][..], Vec::as_slice);
    waiting
        .iter()
        .map(|i| {
            let id = i.to_string();
            let response = responses.iter().find(|r| match &r["id"] {
                Json::String(s) => *s == id,
                Json::Number(n) => n.to_string() == id,
                _ => false,
            })?;
            let retry_after = response["headers"]
                .as_object()
                .into_iter()
                .flatten()
                .find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))
                .and_then(|(_, value)| match value {
                    Json::String(s) => seconds(s),
                    Json::Number(n) => n.as_f64().map(|s| Duration::from_secs_f64(s.max(0.0))),
                    _ => None,
                });
            Some(ItemAnswer {
                status: response["status"]
                    .as_u64()
                    .and_then(|s| u16::try_from(s).ok())
                    .unwrap_or(0),
                retry_after,
                body: response["body"].clone(),
            })
        })
        .collect()
}

/// A `Retry-After` in seconds, possibly fractional.
fn seconds(text: &str) -> Option<Duration> {
    text.trim()
        .parse::<f64>()
        .ok()
        .map(|s| Duration::from_secs_f64(s.max(0.0)))
}

/// The wait after a 429 or 503 that named none: 2 s doubling, as the module does.
fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(2u64 << attempt.min(4))
}

fn parse(bytes: &[u8]) -> Json {
    if bytes.is_empty() {
        Json::Null
    } else {
        serde_json::from_slice(bytes).unwrap_or(Json::Null)
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

fn interpret(cmdlet: &str, status: u16, body: &Json) -> Result<Page, CmdletFailure> {
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
        404 => Err(CmdletFailure::NotFound(detail_text(body))),
        500..=599 => Err(CmdletFailure::Busy {
            message: format!(
                "Exchange failed {cmdlet} (HTTP {status}): {}",
                detail_text(body)
            ),
            retry_after: None,
        }),
        _ => Err(CmdletFailure::Rejected(detail_text(body))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The service may answer a batch's calls in any order; they are matched by id.
    #[test]
    fn batch_answers_are_matched_by_id_not_by_position() {
        let body = json!({"responses": [
            {"id": "2", "status": 429, "headers": {"Retry-After": "3"}, "body": {}},
            {"id": "0", "status": 200, "headers": {}, "body": {"value": [{"Guid": "a"}]}},
            {"id": "1", "status": 404, "headers": {}, "body": {"error": {"details": [{"message": "Ex1|T|gone"}]}}},
        ]});
        let answers = item_answers(&body, &[0, 1, 2, 3]);
        let statuses: Vec<Option<u16>> = answers
            .iter()
            .map(|a| a.as_ref().map(|a| a.status))
            .collect();
        assert_eq!(statuses, [Some(200), Some(404), Some(429), None]);
        assert_eq!(
            answers[2].as_ref().unwrap().retry_after,
            Some(Duration::from_secs(3))
        );
        let first = interpret("Get-Recipient", 200, &answers[0].as_ref().unwrap().body).unwrap();
        assert_eq!(first.objects[0]["Guid"], "a");
        assert_eq!(
            interpret("Get-Recipient", 404, &answers[1].as_ref().unwrap().body).unwrap_err(),
            CmdletFailure::NotFound("gone".to_owned())
        );
    }
}
