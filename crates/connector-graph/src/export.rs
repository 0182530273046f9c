//! Export: each request becomes a short sequence of Graph calls (create, then manager, then
//! licenses; or a PATCH, member adds and removes), and the calls of many requests travel
//! together in `$batch`es of 20, several batches at once.
//!
//! Calls of one request run in order; requests run side by side. How many batches are in
//! flight adapts to the service: halved on a 429, grown by one while the quota has room.
//! A throttled call waits its `Retry-After` and goes again; after a few tries the request
//! is handed back to the engine as transient.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use config::GraphSettings;
use connector::{ExportId, ExportOutcome, ExportRequest, ExportResult};
use model::{
    Anchor, AttributeChange, AttributeName, Attributes, ObjectChange, ObjectType, Value,
    ValueChange,
};
use reqwest::Method;
use serde_json::{Map, Value as Json, json};
use tokio::task::JoinSet;

use crate::client::{BATCH_LIMIT, BatchItem, GraphClient, LONGEST_WAIT, Reply, backoff};
use crate::licenses::SkuCatalogue;
use crate::properties::{self, Access, GROUP, LICENSES, MANAGER, MEMBERS, OWNERS, ROLES};
use crate::roles::RoleCatalogue;

/// Tries of one call before the request goes back to the engine as transient.
const CALL_ATTEMPTS: u32 = 5;

/// Batches in flight at most; Graph's per-app quota makes more pointless.
const MOST_IN_FLIGHT: usize = 8;

/// Members bound in one PATCH: Graph's limit for `members@odata.bind`.
const MEMBERS_PER_PATCH: usize = 20;

/// The placeholder for the object's id in a step's URL, filled in once a create returns it.
const ID: &str = "{id}";

/// What a successful reply means for the request.
#[derive(Clone, Debug)]
enum Then {
    Done,
    /// A create: the reply's `id` is the new object's anchor.
    Created,
    /// An invitation: the guest it created is `invitedUser.id`.
    Invited,
    /// A PATCH of up to 20 `members@odata.bind`: if Graph refuses it (one of them is a
    /// member already), add them one by one instead.
    BindMembers(Vec<String>),
    /// Reading the current members, to turn a whole-list replacement into adds and removes.
    ReplaceMembers(Vec<String>),
    /// Looking for a deleted user with this userPrincipalName, to restore instead of create.
    FindDeleted(String),
    /// Reading the user's role assignments, to remove these roles (by definition id) or,
    /// with `replace`, to make the user hold exactly them.
    SetRoles {
        roles: Vec<String>,
        replace: bool,
    },
    /// Reading the current licenses, likewise: the wanted SKU ids and their disabled plans.
    ReplaceLicenses(BTreeMap<String, Vec<String>>),
}

/// Replies that mean the change is already in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tolerate {
    Nothing,
    /// Deleting what is gone already (404).
    Missing,
    /// Adding a member that is one already, or removing one that is not (400/404).
    Membership,
    /// Creating what exists already (a duplicate role assignment: 400 or 409).
    Exists,
}

#[derive(Clone, Debug)]
struct Step {
    method: Method,
    url: String,
    body: Option<Json>,
    then: Then,
    tolerate: Tolerate,
}

impl Step {
    fn new(method: Method, url: impl Into<String>, body: Option<Json>) -> Self {
        Self {
            method,
            url: url.into(),
            body,
            then: Then::Done,
            tolerate: Tolerate::Nothing,
        }
    }

    fn then(mut self, then: Then) -> Self {
        self.then = then;
        self
    }

    fn tolerate(mut self, tolerate: Tolerate) -> Self {
        self.tolerate = tolerate;
        self
    }
}

/// One export request on its way.
#[derive(Debug)]
struct Job {
    id: ExportId,
    /// How messages name the object: `user alice@contoso.com`.
    what: String,
    object_id: Option<String>,
    created: bool,
    /// Whether any change has landed (a create, a PATCH): a failure after that is partial.
    landed: bool,
    steps: VecDeque<Step>,
    /// For a user create: what to PATCH onto a deleted user restored in its place.
    restore_patch: Option<Json>,
    attempts: u32,
    not_before: Option<Instant>,
    outcome: Option<ExportResult>,
}

impl Job {
    fn fail(&mut self, reason: String) {
        self.fail_at(None, reason);
    }

    /// Ends the request: permanent when nothing landed; partial when some call did, naming
    /// the attributes of the `failed` call and of every call not made.
    fn fail_at(&mut self, failed: Option<&Step>, reason: String) {
        let reason = match (&self.object_id, self.created) {
            (Some(id), true) => format!("{} was created as {id}, but {reason}", self.what),
            _ => format!("{}: {reason}", self.what),
        };
        if !self.landed {
            self.outcome = Some(ExportResult::Permanent { reason });
            return;
        }
        let mut unapplied: Vec<AttributeName> = Vec::new();
        for step in failed.into_iter().chain(self.steps.iter()) {
            for attribute in writes(step) {
                if !unapplied.contains(&attribute) {
                    unapplied.push(attribute);
                }
            }
        }
        self.outcome = Some(ExportResult::Partial {
            anchor: self
                .object_id
                .clone()
                .filter(|_| self.created)
                .map(Anchor::new),
            unapplied,
            reason,
        });
    }

    /// The step's body with the object's id filled in (a role assignment names its
    /// principal in the body).
    fn body(&self, step: &Step) -> Option<Json> {
        let body = step.body.as_ref()?;
        match &self.object_id {
            Some(id) if body.to_string().contains(ID) => {
                serde_json::from_str(&body.to_string().replace(ID, id)).ok()
            }
            _ => Some(body.clone()),
        }
    }

    fn url(&self, step: &Step) -> String {
        match &self.object_id {
            Some(id) => step.url.replace(ID, id),
            None => step.url.clone(),
        }
    }
}

/// What export needs to know about the tenant.
pub struct ExportContext<'a> {
    pub client: &'a Arc<GraphClient>,
    pub skus: &'a SkuCatalogue,
    pub roles: &'a RoleCatalogue,
    pub settings: &'a GraphSettings,
    /// The UPN suffix for new users whose flows give a bare name.
    pub user_domain: &'a str,
}

/// How fast to send, learned from the service and carried from one export call to the next.
///
/// Graph's quotas are token buckets: a full bucket takes a burst, then only the refill rate
/// is sustainable. The calls that succeed between two 429s are what the bucket refilled in
/// that time, so their count over the time between the two is the refill rate. Once known,
/// calls are spaced to stay just under it, and the 429s stop.
#[derive(Debug, Clone)]
pub struct Pacing {
    pub in_flight: usize,
    /// Calls per second the service sustains, once learned.
    rate: Option<f64>,
    last_throttled: Option<Instant>,
    /// Calls that succeeded since the last 429.
    since_throttled: usize,
    /// When the next round may leave.
    next_round: Option<Instant>,
    /// When the rate was last raised to probe for room.
    probed: Option<Instant>,
}

/// The share of the learned rate to use: a little under it, so that the bucket never runs dry.
const RATE_MARGIN: f64 = 0.97;

impl Default for Pacing {
    fn default() -> Self {
        Self {
            in_flight: 4,
            rate: None,
            last_throttled: None,
            since_throttled: 0,
            next_round: None,
            probed: None,
        }
    }
}

impl Pacing {
    /// Waits until a round of `calls` may leave, and books its time.
    async fn admit(&mut self, calls: usize) {
        let Some(mut rate) = self.rate else { return };
        let now = Instant::now();
        // A learned rate may be low (or the service may have more room now): raise it by 2%
        // a second until a 429 measures it again.
        let since = self.probed.unwrap_or(now);
        rate *= 1.0 + 0.02 * (now - since).as_secs_f64().min(5.0);
        self.rate = Some(rate);
        self.probed = Some(now);
        if let Some(at) = self.next_round
            && at > now
        {
            tokio::time::sleep(at - now).await;
        }
        let start = self.next_round.map_or(now, |at| at.max(now));
        self.next_round =
            Some(start + Duration::from_secs_f64(calls as f64 / (rate * RATE_MARGIN)));
    }

    fn succeeded(&mut self, calls: usize) {
        self.since_throttled += calls;
    }

    fn throttled(&mut self) {
        let now = Instant::now();
        if let Some(last) = self.last_throttled {
            let seconds = (now - last).as_secs_f64();
            // Two 429s in the same round say nothing about the rate.
            if seconds > 0.05 && self.since_throttled > 0 {
                let measured = self.since_throttled as f64 / seconds;
                self.rate = Some(match self.rate {
                    Some(rate) => rate.min(measured * 1.05).max(measured * 0.7),
                    None => measured,
                });
            }
        }
        self.last_throttled = Some(now);
        self.since_throttled = 0;
    }
}

pub async fn export(
    ctx: &ExportContext<'_>,
    pacing: &mut Pacing,
    requests: Vec<ExportRequest>,
) -> Vec<ExportOutcome> {
    let mut jobs: Vec<Job> = requests.into_iter().map(|r| plan(ctx, r)).collect();
    run(ctx.client, pacing, &mut jobs).await;
    jobs.into_iter()
        .map(|job| ExportOutcome {
            id: job.id,
            result: job.outcome.unwrap_or(ExportResult::Applied {
                anchor: job.object_id.filter(|_| job.created).map(Anchor::new),
            }),
        })
        .collect()
}

async fn run(client: &Arc<GraphClient>, pacing: &mut Pacing, jobs: &mut [Job]) {
    loop {
        let now = Instant::now();
        let waiting = |j: &Job| j.outcome.is_none() && !j.steps.is_empty();
        let ready: Vec<usize> = (0..jobs.len())
            .filter(|&i| waiting(&jobs[i]) && jobs[i].not_before.is_none_or(|t| t <= now))
            .take(BATCH_LIMIT * pacing.in_flight)
            .collect();
        if ready.is_empty() {
            let next = jobs
                .iter()
                .filter(|j| waiting(j))
                .filter_map(|j| j.not_before)
                .min();
            match next {
                Some(at) => {
                    tokio::time::sleep(at.saturating_duration_since(now)).await;
                    continue;
                }
                None => break,
            }
        }
        pacing.admit(ready.len()).await;
        let mut calls = JoinSet::new();
        for chunk in ready.chunks(BATCH_LIMIT) {
            let items: Vec<BatchItem> = chunk
                .iter()
                .map(|&i| {
                    let job = &jobs[i];
                    let step = job.steps.front().expect("ready jobs have a step");
                    BatchItem {
                        method: step.method.clone(),
                        url: job.url(step),
                        body: job.body(step),
                    }
                })
                .collect();
            let client = client.clone();
            let chunk = chunk.to_vec();
            calls.spawn(async move {
                let replies = client.batch(&items).await;
                (chunk, replies)
            });
        }
        let mut throttled = false;
        let mut pause: Option<Duration> = None;
        let mut fullest: f64 = 0.0;
        while let Some(joined) = calls.join_next().await {
            let (chunk, replies) = joined.expect("a batch task does not panic");
            match replies {
                Ok(replies) => {
                    for (i, reply) in chunk.into_iter().zip(replies) {
                        if reply.status == 429 {
                            throttled = true;
                            pause = pause.max(reply.retry_after);
                        } else {
                            pacing.succeeded(1);
                        }
                        fullest = fullest.max(reply.throttle_percentage.unwrap_or(0.0));
                        settle(&mut jobs[i], reply);
                    }
                }
                Err(error) => {
                    // The batch as a whole failed (unreachable, throttled): every call in it
                    // is retried like a throttled call.
                    let retry_after = match &error {
                        crate::GraphError::Unavailable { retry_after, .. } => *retry_after,
                        _ => None,
                    };
                    throttled = true;
                    for i in chunk {
                        if error.is_transient() {
                            retry(&mut jobs[i], error.to_string(), retry_after);
                        } else {
                            jobs[i].fail(error.to_string());
                        }
                    }
                }
            }
        }
        // The quota is shared: once one call is throttled, every other call would be too
        // until the wait is over, so all of them wait instead of collecting 429s.
        if throttled {
            pacing.throttled();
        }
        if let Some(pause) = pause {
            let until = Instant::now() + pause;
            for job in jobs.iter_mut().filter(|j| waiting(j)) {
                job.not_before = Some(job.not_before.map_or(until, |t| t.max(until)));
            }
        }
        pacing.in_flight = if throttled {
            (pacing.in_flight / 2).max(1)
        } else if fullest < 0.8 {
            (pacing.in_flight + 1).min(MOST_IN_FLIGHT)
        } else {
            pacing.in_flight
        };
    }
}

/// Applies one reply to its request.
fn settle(job: &mut Job, reply: Reply) {
    let step = job.steps.front().expect("a settled job has a step").clone();
    // Graph replicates a new object for a moment: a read of what was just created may not
    // find it yet, and is tried again rather than taken as an answer.
    let not_replicated = job.created && reply.status == 404 && step.method == Method::GET;
    if reply.is_transient() || not_replicated {
        let error = reply.error(&format!("{} {}", step.method, job.url(&step)));
        retry(job, error.to_string(), reply.retry_after);
        return;
    }
    job.steps.pop_front();
    job.attempts = 0;
    job.not_before = None;
    if reply.is_success() && step.method != Method::GET {
        job.landed = true;
    }
    if !reply.is_success() {
        let tolerated = match step.tolerate {
            Tolerate::Nothing => false,
            Tolerate::Missing => reply.status == 404,
            Tolerate::Membership => matches!(reply.status, 400 | 404),
            Tolerate::Exists => matches!(reply.status, 400 | 409),
        };
        if tolerated {
            return;
        }
        if let Then::BindMembers(members) = &step.then
            && reply.status == 400
        {
            // One of the 20 is a member already (or gone): bind them one at a time, so the
            // others still land.
            for member in members.iter().rev() {
                job.steps.push_front(add_member(member));
            }
            return;
        }
        if matches!(step.then, Then::Created)
            && let Some(patch) = job.restore_patch.take()
            && is_conflict_on(&reply, "userPrincipalName")
        {
            // The user was deleted and comes back (a rehire): restore it from deleted items,
            // with its id, mailbox and history, instead of failing on its reserved name.
            let upn = patch["userPrincipalName"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            job.restore_patch = Some(patch);
            job.steps.push_front(
                Step::new(
                    Method::GET,
                    "directory/deletedItems/microsoft.graph.user?$select=id,userPrincipalName&$top=999",
                    None,
                )
                .then(Then::FindDeleted(upn)),
            );
            return;
        }
        let error = reply.error("");
        let reason = format!("{} {} failed: {error}", step.method, job.url(&step));
        job.fail_at(Some(&step), reason);
        return;
    }
    match step.then {
        Then::Done | Then::BindMembers(_) => {}
        Then::Invited => match reply.body["invitedUser"]["id"].as_str() {
            Some(id) => {
                job.object_id = Some(id.to_owned());
                job.created = true;
            }
            None => job.fail("Graph answered the invitation without the guest's id".into()),
        },
        Then::Created => match reply.body["id"].as_str() {
            Some(id) => {
                job.object_id = Some(id.to_owned());
                job.created = true;
            }
            None => job.fail("Graph answered the create without an id".into()),
        },
        Then::FindDeleted(upn) => {
            let found = reply.body["value"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|u| {
                    u["userPrincipalName"]
                        .as_str()
                        .is_some_and(|x| x.eq_ignore_ascii_case(&upn))
                })
                .and_then(|u| u["id"].as_str());
            let (Some(id), Some(mut patch)) = (found, job.restore_patch.take()) else {
                job.fail(format!("{upn} is taken by another object"));
                return;
            };
            job.object_id = Some(id.to_owned());
            job.created = true;
            if let Some(body) = patch.as_object_mut() {
                body.remove("passwordProfile");
                body.remove("userPrincipalName");
            }
            job.steps
                .push_front(Step::new(Method::PATCH, format!("users/{ID}"), Some(patch)));
            job.steps.push_front(Step::new(
                Method::POST,
                format!("directory/deletedItems/{ID}/restore"),
                None,
            ));
        }
        Then::SetRoles { roles, replace } => {
            // Tenant-wide assignments only: a role scoped to an administrative unit is
            // someone else's business.
            let current: Vec<(String, String)> = reply.body["value"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|a| a["directoryScopeId"].as_str() == Some("/"))
                .filter_map(|a| {
                    Some((
                        a["id"].as_str()?.to_owned(),
                        a["roleDefinitionId"].as_str()?.to_owned(),
                    ))
                })
                .collect();
            let removes: Vec<&String> = current
                .iter()
                .filter(|(_, role)| contains(&roles, role) != replace)
                .map(|(assignment, _)| assignment)
                .collect();
            for assignment in removes {
                job.steps.push_front(
                    Step::new(
                        Method::DELETE,
                        format!("roleManagement/directory/roleAssignments/{assignment}"),
                        None,
                    )
                    .tolerate(Tolerate::Missing),
                );
            }
            if replace {
                for role in roles
                    .iter()
                    .filter(|r| !current.iter().any(|(_, c)| c.eq_ignore_ascii_case(r)))
                {
                    job.steps.push_front(assign_role(role));
                }
            }
        }
        Then::ReplaceMembers(desired) => {
            let current: Vec<String> = ids(&reply.body["value"]);
            let (adds, removes) = difference(&current, &desired);
            let mut steps = member_steps(&adds, &removes);
            while let Some(step) = steps.pop_back() {
                job.steps.push_front(step);
            }
        }
        Then::ReplaceLicenses(wanted) => {
            let desired: Vec<String> = wanted.keys().cloned().collect();
            let current: Vec<String> = reply.body["assignedLicenses"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|l| l["skuId"].as_str().map(str::to_owned))
                .collect();
            let (adds, removes) = difference(&current, &desired);
            if !adds.is_empty() || !removes.is_empty() {
                job.steps
                    .push_front(assign_licenses_ids(&adds, &removes, &wanted));
            }
        }
    }
}

fn retry(job: &mut Job, reason: String, retry_after: Option<Duration>) {
    job.attempts += 1;
    let wait = retry_after.unwrap_or_else(|| backoff(job.attempts));
    if (job.attempts >= CALL_ATTEMPTS || wait > LONGEST_WAIT) && job.landed {
        // Part of the request landed: repeating all of it would create twice.
        job.fail(format!(
            "{reason} (still failing after {} tries)",
            job.attempts
        ));
    } else if job.attempts >= CALL_ATTEMPTS || wait > LONGEST_WAIT {
        job.outcome = Some(ExportResult::Transient {
            reason: format!("{}: {reason}", job.what),
            retry_after: Some(wait),
        });
    } else {
        job.not_before = Some(Instant::now() + wait);
    }
}

/// The attributes a call writes, for naming what did not land when it fails.
fn writes(step: &Step) -> Vec<AttributeName> {
    let url = step.url.as_str();
    let one = |name: &str| vec![AttributeName::new(name)];
    if url.ends_with("/manager/$ref") {
        return one(MANAGER);
    }
    if url.ends_with("/assignLicense") || matches!(step.then, Then::ReplaceLicenses(_)) {
        return one(LICENSES);
    }
    if url.contains("/owners") {
        return one(OWNERS);
    }
    if url.contains("roleAssignments") || matches!(step.then, Then::SetRoles { .. }) {
        return one(ROLES);
    }
    if url.contains("/members")
        || matches!(step.then, Then::BindMembers(_) | Then::ReplaceMembers(_))
    {
        return one(MEMBERS);
    }
    if step.method != Method::PATCH {
        return Vec::new();
    }
    step.body
        .as_ref()
        .and_then(Json::as_object)
        .into_iter()
        .flat_map(|body| body.keys())
        .map(|key| {
            if key == "members@odata.bind" {
                AttributeName::new(MEMBERS)
            } else {
                AttributeName::new(key.as_str())
            }
        })
        .collect()
}

/// Whether Graph refused a create because `property` is taken (`ObjectConflict`).
fn is_conflict_on(reply: &Reply, property: &str) -> bool {
    reply.body["error"]["details"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|d| {
            d["code"] == "ObjectConflict"
                && d["target"]
                    .as_str()
                    .is_some_and(|t| t.eq_ignore_ascii_case(property))
        })
}

/// What to add to `current` and remove from it to make it `desired` (ids, any case).
fn difference(current: &[String], desired: &[String]) -> (Vec<String>, Vec<String>) {
    let adds = desired
        .iter()
        .filter(|d| !contains(current, d))
        .cloned()
        .collect();
    let removes = current
        .iter()
        .filter(|c| !contains(desired, c))
        .cloned()
        .collect();
    (adds, removes)
}

fn contains(list: &[String], value: &str) -> bool {
    list.iter().any(|v| v.eq_ignore_ascii_case(value))
}

fn ids(json: &Json) -> Vec<String> {
    json.as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["id"].as_str().map(str::to_owned))
        .collect()
}

/// The calls that carry out one export request, or its failure before any call.
fn plan(ctx: &ExportContext<'_>, request: ExportRequest) -> Job {
    let group = request.object_type.as_str().eq_ignore_ascii_case(GROUP);
    let set = if group { "groups" } else { "users" };
    let what = describe(&request, group);
    let mut job = Job {
        id: request.id,
        what,
        object_id: request.anchor.as_ref().map(|a| a.as_str().to_owned()),
        created: false,
        landed: false,
        steps: VecDeque::new(),
        restore_patch: None,
        attempts: 0,
        not_before: None,
        outcome: None,
    };
    let planned = match &request.change {
        ObjectChange::Create { attributes } => {
            plan_create(ctx, &request.object_type, attributes, group)
        }
        ObjectChange::Update { changes } => plan_update(ctx, &request.object_type, changes, group),
        ObjectChange::Delete => Ok(vec![
            Step::new(Method::DELETE, format!("{set}/{ID}"), None).tolerate(Tolerate::Missing),
        ]),
    };
    if let (false, ObjectChange::Create { .. }) = (group, &request.change)
        && let Ok(steps) = &planned
    {
        job.restore_patch = steps.first().and_then(|s| s.body.clone());
    }
    match planned {
        Ok(steps) => {
            if job.object_id.is_none() && !matches!(request.change, ObjectChange::Create { .. }) {
                job.fail("the object has no anchor (Graph id) to change".into());
            }
            job.steps = steps.into();
        }
        Err(reason) => job.fail(reason),
    }
    job
}

fn describe(request: &ExportRequest, group: bool) -> String {
    let key = if group {
        "displayName"
    } else {
        "userPrincipalName"
    };
    let name = match &request.change {
        ObjectChange::Create { attributes } => attributes
            .first(&AttributeName::new(key))
            .map(Value::to_text),
        _ => None,
    };
    let kind = if group { "group" } else { "user" };
    match (name, &request.anchor) {
        (Some(name), _) => format!("{kind} {name}"),
        (None, Some(anchor)) => format!("{kind} {anchor}"),
        (None, None) => kind.to_owned(),
    }
}

fn plan_create(
    ctx: &ExportContext<'_>,
    object_type: &ObjectType,
    attributes: &Attributes,
    group: bool,
) -> Result<Vec<Step>, String> {
    let mut body = Map::new();
    let mut manager = None;
    let mut licenses = Vec::new();
    let mut members = Vec::new();
    let mut roles = Vec::new();
    let mut owners = Vec::new();
    for (name, values) in attributes.iter() {
        // An empty string is no value: Graph would store "" or refuse it.
        let values: Vec<Value> = values.iter().filter(|v| !v.is_empty()).cloned().collect();
        if values.is_empty() {
            continue;
        }
        let values = values.as_slice();
        let property = properties::find(object_type, name)
            .ok_or_else(|| format!("Graph has no {} property \"{name}\"", object_type.as_str()))?;
        match property.name {
            MANAGER => manager = values.first().map(Value::to_text),
            LICENSES => licenses = values.iter().map(Value::to_text).collect(),
            MEMBERS => members = values.iter().map(Value::to_text).collect(),
            ROLES => roles = values.iter().map(Value::to_text).collect(),
            OWNERS => owners = values.iter().map(Value::to_text).collect(),
            _ if property.access == Access::ReadOnly => {
                return Err(format!("{name} is read-only in Graph"));
            }
            _ => {
                let key = if property.name.is_empty() {
                    name.as_str()
                } else {
                    property.name
                };
                let json =
                    properties::to_json(&property, values).map_err(|e| format!("{name} {e}"))?;
                if !json.is_null() {
                    body.insert(key.to_owned(), json);
                }
            }
        }
    }
    let mut steps = Vec::new();
    if group {
        let display = body
            .get("displayName")
            .and_then(Json::as_str)
            .ok_or("a group needs a displayName")?;
        if !body.contains_key("mailNickname") {
            let nickname = nickname(display);
            body.insert("mailNickname".into(), json!(nickname));
        }
        body.entry("mailEnabled").or_insert(json!(false));
        body.entry("securityEnabled").or_insert(json!(true));
        let (first, rest) = members.split_at(members.len().min(MEMBERS_PER_PATCH));
        // Owners on the create itself: a Microsoft 365 group made by an app needs one.
        if !owners.is_empty() {
            let binds: Vec<String> = owners.iter().map(|o| directory_object(o)).collect();
            body.insert("owners@odata.bind".into(), json!(binds));
        }
        if !first.is_empty() {
            body.insert(
                "members@odata.bind".into(),
                json!(
                    first
                        .iter()
                        .map(|m| directory_object(m))
                        .collect::<Vec<_>>()
                ),
            );
        }
        steps.push(Step::new(Method::POST, "groups", Some(Json::Object(body))).then(Then::Created));
        steps.extend(member_steps(rest, &[]));
        return Ok(steps);
    }
    let guest = body
        .get("userType")
        .and_then(Json::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("Guest"));
    let role_steps = roles
        .iter()
        .map(|name| ctx.roles.id(name).map(|id| assign_role(id.as_str())))
        .collect::<Result<Vec<_>, _>>()?;
    if guest {
        let mut steps = plan_invitation(ctx, body, manager, licenses)?;
        steps.extend(role_steps);
        return Ok(steps);
    }
    let upn = body
        .get("userPrincipalName")
        .and_then(Json::as_str)
        .ok_or("a user needs a userPrincipalName")?
        .to_owned();
    let upn = if upn.contains('@') {
        upn
    } else {
        format!("{upn}@{}", ctx.user_domain)
    };
    if !body.contains_key("mailNickname") {
        body.insert(
            "mailNickname".into(),
            json!(nickname(upn.split('@').next().unwrap_or(&upn))),
        );
    }
    body.insert("userPrincipalName".into(), json!(upn));
    body.entry("accountEnabled").or_insert(json!(true));
    // Graph requires a password; the user sets their own at first sign-in. It is never
    // logged or stored: the connector space holds only what the flows gave.
    body.insert(
        "passwordProfile".into(),
        json!({"forceChangePasswordNextSignIn": true, "password": initial_password()}),
    );
    let license_step = if licenses.is_empty() {
        None
    } else {
        if !body.contains_key("usageLocation") {
            return Err("licenses need a usageLocation; add a flow for usageLocation (a two-letter country code)".into());
        }
        Some(assign_licenses(ctx, &licenses, &[])?)
    };
    steps.push(Step::new(Method::POST, "users", Some(Json::Object(body))).then(Then::Created));
    if let Some(manager) = manager {
        steps.push(set_manager(&manager));
    }
    steps.extend(license_step);
    steps.extend(role_steps);
    Ok(steps)
}

/// A guest: invited by their external address (Entra makes the account and its
/// `#EXT#` name), then given the rest of the attributes, a manager and licenses.
fn plan_invitation(
    ctx: &ExportContext<'_>,
    mut body: Map<String, Json>,
    manager: Option<String>,
    licenses: Vec<String>,
) -> Result<Vec<Step>, String> {
    let address = body
        .remove("mail")
        .and_then(|m| m.as_str().map(str::to_owned))
        .ok_or("a guest needs a mail flow: the address the invitation goes to")?;
    let invitation = json!({
        "invitedUserEmailAddress": address,
        "invitedUserDisplayName": body.get("displayName").cloned().unwrap_or(Json::Null),
        "inviteRedirectUrl": ctx.settings.invite_redirect_url,
        "sendInvitationMessage": ctx.settings.send_invitations,
        "invitedUserType": "Guest",
    });
    // Entra names the guest and fixes its type; the rest is set once it exists.
    for fixed in ["userPrincipalName", "userType", "mailNickname"] {
        body.remove(fixed);
    }
    if !licenses.is_empty() && !body.contains_key("usageLocation") {
        return Err("licenses need a usageLocation; add a flow for usageLocation (a two-letter country code)".into());
    }
    let mut steps =
        vec![Step::new(Method::POST, "invitations", Some(invitation)).then(Then::Invited)];
    if !body.is_empty() {
        steps.push(Step::new(
            Method::PATCH,
            format!("users/{ID}"),
            Some(Json::Object(body)),
        ));
    }
    if let Some(manager) = manager {
        steps.push(set_manager(&manager));
    }
    if !licenses.is_empty() {
        steps.push(assign_licenses(ctx, &licenses, &[])?);
    }
    Ok(steps)
}

fn plan_update(
    ctx: &ExportContext<'_>,
    object_type: &ObjectType,
    changes: &[AttributeChange],
    group: bool,
) -> Result<Vec<Step>, String> {
    let set = if group { "groups" } else { "users" };
    let mut patch = Map::new();
    let mut steps = Vec::new();
    let (mut license_adds, mut license_removes) = (Vec::new(), Vec::new());
    let (mut member_adds, mut member_removes) = (Vec::new(), Vec::new());
    for change in changes {
        let name = &change.name;
        let property = properties::find(object_type, name)
            .ok_or_else(|| format!("Graph has no {} property \"{name}\"", object_type.as_str()))?;
        let texts = |values: &[Value]| values.iter().map(Value::to_text).collect::<Vec<_>>();
        match (property.name, &change.change) {
            (MANAGER, ValueChange::Replace(values) | ValueChange::Add(values))
                if !values.is_empty() =>
            {
                steps.push(set_manager(&values[0].to_text()));
            }
            (MANAGER, _) => steps.push(
                Step::new(Method::DELETE, format!("users/{ID}/manager/$ref"), None)
                    .tolerate(Tolerate::Missing),
            ),
            (LICENSES, ValueChange::Add(values)) => license_adds.extend(texts(values)),
            (LICENSES, ValueChange::Remove(values)) => license_removes.extend(texts(values)),
            (LICENSES, ValueChange::Replace(values)) => {
                let wanted = resolve_licenses(ctx, &texts(values))?;
                steps.push(
                    Step::new(
                        Method::GET,
                        format!("users/{ID}?$select=assignedLicenses"),
                        None,
                    )
                    .then(Then::ReplaceLicenses(wanted)),
                );
            }
            (ROLES, change) => {
                let (values, replace) = match change {
                    ValueChange::Add(values) => {
                        for name in texts(values) {
                            steps.push(assign_role(&ctx.roles.id(&name)?));
                        }
                        continue;
                    }
                    ValueChange::Remove(values) => (values, false),
                    ValueChange::Replace(values) => (values, true),
                };
                let roles = texts(values)
                    .iter()
                    .map(|name| ctx.roles.id(name))
                    .collect::<Result<Vec<_>, _>>()?;
                steps.push(
                    Step::new(
                        Method::GET,
                        format!(
                            "roleManagement/directory/roleAssignments?$filter=principalId eq '{ID}'"
                        ),
                        None,
                    )
                    .then(Then::SetRoles { roles, replace }),
                );
            }
            (OWNERS, ValueChange::Add(values) | ValueChange::Replace(values)) => {
                // A replacement adds what is wanted; owners nobody asked idsync to remove stay.
                for owner in texts(values) {
                    steps.push(
                        Step::new(
                            Method::POST,
                            format!("groups/{ID}/owners/$ref"),
                            Some(json!({"@odata.id": directory_object(&owner)})),
                        )
                        .tolerate(Tolerate::Membership),
                    );
                }
            }
            (OWNERS, ValueChange::Remove(values)) => {
                for owner in texts(values) {
                    steps.push(
                        Step::new(
                            Method::DELETE,
                            format!("groups/{ID}/owners/{owner}/$ref"),
                            None,
                        )
                        .tolerate(Tolerate::Membership),
                    );
                }
            }
            (MEMBERS, ValueChange::Add(values)) => member_adds.extend(texts(values)),
            (MEMBERS, ValueChange::Remove(values)) => member_removes.extend(texts(values)),
            (MEMBERS, ValueChange::Replace(values)) => steps.push(
                Step::new(
                    Method::GET,
                    format!("groups/{ID}/members?$select=id&$top=999"),
                    None,
                )
                .then(Then::ReplaceMembers(texts(values))),
            ),
            (_, _) if property.access != Access::ReadWrite => {
                return Err(format!(
                    "{name} cannot be changed in Graph once the object exists"
                ));
            }
            (_, ValueChange::Replace(values)) => {
                let key = if property.name.is_empty() {
                    name.as_str()
                } else {
                    property.name
                };
                let json =
                    properties::to_json(&property, values).map_err(|e| format!("{name} {e}"))?;
                patch.insert(key.to_owned(), json);
            }
            (_, _) => {
                return Err(format!(
                    "{name} changes by adding or removing values, which Graph cannot do for this property; flow the whole list"
                ));
            }
        }
    }
    let mut ordered = Vec::new();
    // The PATCH first: a usageLocation must be in place before a license is assigned.
    if !patch.is_empty() {
        ordered.push(Step::new(
            Method::PATCH,
            format!("{set}/{ID}"),
            Some(Json::Object(patch)),
        ));
    }
    ordered.extend(steps);
    if !license_adds.is_empty() || !license_removes.is_empty() {
        ordered.push(assign_licenses(ctx, &license_adds, &license_removes)?);
    }
    ordered.extend(member_steps(&member_adds, &member_removes));
    Ok(ordered)
}

/// A tenant-wide assignment of a role (by definition id) to the object being exported.
fn assign_role(role: &str) -> Step {
    Step::new(
        Method::POST,
        "roleManagement/directory/roleAssignments",
        Some(json!({
            "@odata.type": "#microsoft.graph.unifiedRoleAssignment",
            "roleDefinitionId": role,
            "principalId": ID,
            "directoryScopeId": "/",
        })),
    )
    .tolerate(Tolerate::Exists)
}

fn set_manager(manager: &str) -> Step {
    Step::new(
        Method::PUT,
        format!("users/{ID}/manager/$ref"),
        Some(json!({"@odata.id": directory_object(manager)})),
    )
}

fn directory_object(id: &str) -> String {
    format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")
}

fn add_member(member: &str) -> Step {
    Step::new(
        Method::POST,
        format!("groups/{ID}/members/$ref"),
        Some(json!({"@odata.id": directory_object(member)})),
    )
    .tolerate(Tolerate::Membership)
}

/// Adds 20 to a PATCH; removes one at a time, as Graph has no bulk remove.
fn member_steps(adds: &[String], removes: &[String]) -> VecDeque<Step> {
    let mut steps = VecDeque::new();
    for chunk in adds.chunks(MEMBERS_PER_PATCH) {
        let binds: Vec<String> = chunk.iter().map(|m| directory_object(m)).collect();
        steps.push_back(
            Step::new(
                Method::PATCH,
                format!("groups/{ID}"),
                Some(json!({"members@odata.bind": binds})),
            )
            .then(Then::BindMembers(chunk.to_vec())),
        );
    }
    for member in removes {
        steps.push_back(
            Step::new(
                Method::DELETE,
                format!("groups/{ID}/members/{member}/$ref"),
                None,
            )
            .tolerate(Tolerate::Membership),
        );
    }
    steps
}

/// SKU part numbers → SKU ids with the ids of the plans the settings disable.
fn resolve_licenses(
    ctx: &ExportContext<'_>,
    parts: &[String],
) -> Result<BTreeMap<String, Vec<String>>, String> {
    parts
        .iter()
        .map(|part| {
            let plans = ctx
                .settings
                .disabled_plans
                .get(part)
                .cloned()
                .unwrap_or_default();
            ctx.skus.resolve(part, &plans)
        })
        .collect()
}

fn assign_licenses(
    ctx: &ExportContext<'_>,
    adds: &[String],
    removes: &[String],
) -> Result<Step, String> {
    let disabled = resolve_licenses(ctx, adds)?;
    let add_ids: Vec<String> = disabled.keys().cloned().collect();
    let remove_ids = removes
        .iter()
        .map(|part| ctx.skus.resolve(part, &[]).map(|(id, _)| id))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(assign_licenses_ids(&add_ids, &remove_ids, &disabled))
}

fn assign_licenses_ids(
    adds: &[String],
    removes: &[String],
    disabled: &BTreeMap<String, Vec<String>>,
) -> Step {
    let add: Vec<Json> = adds
        .iter()
        .map(|id| json!({"skuId": id, "disabledPlans": disabled.get(id).cloned().unwrap_or_default()}))
        .collect();
    Step::new(
        Method::POST,
        format!("users/{ID}/assignLicense"),
        Some(json!({"addLicenses": add, "removeLicenses": removes})),
    )
}

/// A mail nickname from a name: Graph allows ASCII letters, digits and `-._` only.
fn nickname(name: &str) -> String {
    let nick: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        .take(64)
        .collect();
    if nick.is_empty() {
        "group".into()
    } else {
        nick
    }
}

/// A random password meeting Entra's complexity rule (three of four character classes).
fn initial_password() -> String {
    const CLASSES: [&[u8]; 4] = [
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"abcdefghijkmnopqrstuvwxyz",
        b"23456789",
        b"!#%+-=?@",
    ];
    let rng = SystemRandom::new();
    let mut bytes = [0u8; 20];
    rng.fill(&mut bytes)
        .expect("the system random source works");
    bytes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let class = CLASSES[i % CLASSES.len()];
            class[*b as usize % class.len()] as char
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nicknames_keep_only_what_graph_allows() {
        assert_eq!(nickname("Sales & Marketing (EU)"), "SalesMarketingEU");
        assert_eq!(nickname("ÄÖÜ"), "group");
    }

    #[test]
    fn initial_passwords_have_every_character_class() {
        let password = initial_password();
        assert_eq!(password.len(), 20);
        assert!(password.chars().any(|c| c.is_ascii_uppercase()));
        assert!(password.chars().any(|c| c.is_ascii_lowercase()));
        assert!(password.chars().any(|c| c.is_ascii_digit()));
        assert_ne!(password, initial_password());
    }

    #[test]
    fn member_adds_go_twenty_to_a_patch_and_removes_one_by_one() {
        let adds: Vec<String> = (0..45).map(|i| format!("m{i}")).collect();
        let steps = member_steps(&adds, &["x".into()]);
        assert_eq!(steps.len(), 4);
        assert_eq!(steps[0].method, Method::PATCH);
        assert_eq!(steps[3].method, Method::DELETE);
        assert_eq!(steps[3].url, "groups/{id}/members/x/$ref");
    }
}
