//! Export: each request becomes a few cmdlets, run in order. A request whose first cmdlet
//! fails fails as a whole; one whose later cmdlet fails is `Partial`, naming what did not
//! land. Mailboxes are made by licences, so a mailbox that does not exist yet is a wait.
//!
//! Requests progress together: in waves, the next cmdlet of every request still under way
//! goes out, ten to a `$batch`, so a wave of 50 requests costs 5 HTTP requests instead of
//! 50. Within a request, per-value cmdlets (a member, a trustee) do not depend on each
//! other, so up to [`FAN_OUT`] of them go out in one wave: 600 new members take 60 HTTP
//! requests, not 600. Each request is a small state machine ([`Pending`]) that its
//! cmdlets' results move on; what cmdlets a change takes is planned in [`plan`], without
//! calling Exchange.

mod plan;

use std::collections::VecDeque;
use std::time::Duration;

use connector::{ConnectorError, ExportId, ExportOutcome, ExportRequest, ExportResult};
use model::{Anchor, AttributeChange, AttributeName, Attributes, ObjectChange, Value};
use serde_json::{Value as Json, json};

use crate::client::{Call, CmdletFailure, ExchangeClient, MAX_BATCH, Page};
use crate::schema::{DISTRIBUTION_GROUP, MAIL_CONTACT, MAIL_USER, MAILBOX};
use plan::{NewObject, Step};

/// Most independent steps one request sends in one wave: a batch's worth, so that a large
/// membership change fills batches without holding the other requests of the wave back.
const FAN_OUT: usize = MAX_BATCH;

pub async fn export(
    client: &mut ExchangeClient,
    batch: Vec<ExportRequest>,
) -> Result<Vec<ExportOutcome>, ConnectorError> {
    let mut pending = batch
        .into_iter()
        .map(Pending::new)
        .collect::<Result<Vec<_>, _>>()?;
    loop {
        // This wave's calls: each request's next step, or its next few independent ones.
        let wave: Vec<(usize, &Step)> = pending
            .iter()
            .enumerate()
            .flat_map(|(i, p)| p.next_steps().iter().map(move |step| (i, step)))
            .collect();
        if wave.is_empty() {
            break;
        }
        let mut results: Vec<Vec<Result<Page, CmdletFailure>>> =
            pending.iter().map(|_| Vec::new()).collect();
        for chunk in wave.chunks(MAX_BATCH) {
            let calls: Vec<Call<'_>> = chunk.iter().map(|(_, step)| step.call()).collect();
            for (&(i, _), result) in chunk.iter().zip(client.run_batch(&calls).await) {
                // A denied app is denied for every call: stop before the next batch.
                if let Err(CmdletFailure::Denied(message)) = &result {
                    return Err(ConnectorError::Denied(message.clone()));
                }
                results[i].push(result);
            }
        }
        for (request, results) in pending.iter_mut().zip(results) {
            if !results.is_empty() {
                request.advance(results)?;
            }
        }
    }
    Ok(pending.into_iter().map(Pending::outcome).collect())
}

/// One request on its way: what it waits for, and how far it got.
struct Pending {
    id: ExportId,
    /// The object as messages name it (`mailContact 4f1c…`, `mailbox ann@contoso.com`).
    what: String,
    object_type: String,
    /// What Exchange makes on its own that this request needs, so that "not found" means
    /// "not made yet" (a wait) rather than a rejection.
    awaited: Option<Awaited>,
    /// The anchor a create got, or the mailbox it adopted: a failure after it is `Partial`.
    created: Option<Anchor>,
    /// Whether a step has landed: a failure after one is `Partial`.
    first_done: bool,
    stage: Stage,
}

enum Stage {
    /// `New-MailContact`, `New-DistributionGroup` or `New-Mailbox -Shared`; what follows
    /// needs the new object's anchor, so it is planned when it returns.
    Create(NewObject),
    /// `Get-Mailbox` or `Get-MailUser` for the recipient Exchange made (after a licence, an
    /// invitation); adopting it sets `attributes`.
    Adopt {
        step: Step,
        identity: String,
        attributes: Attributes,
    },
    /// Reads of what a replace is diffed against; the steps are planned when all are in.
    Read {
        reads: VecDeque<Step>,
        current: Vec<(AttributeName, Vec<String>)>,
        anchor: Anchor,
        changes: Vec<AttributeChange>,
    },
    /// Cmdlets still to run, in order; leading per-value ones may run together.
    Steps(Vec<Step>),
    Done(ExportResult),
}

impl Pending {
    fn new(request: ExportRequest) -> Result<Self, ConnectorError> {
        let object_type = request.object_type.as_str().to_owned();
        let mut pending = Self {
            id: request.id,
            what: describe(&request),
            awaited: Awaited::for_type(&object_type),
            object_type,
            created: None,
            first_done: false,
            stage: Stage::Steps(Vec::new()),
        };
        pending.stage = pending.first_stage(request);
        pending.settle()?;
        Ok(pending)
    }

    fn first_stage(&mut self, request: ExportRequest) -> Stage {
        let what = &self.what;
        let permanent = |reason: String| Stage::Done(ExportResult::Permanent { reason });
        match request.change {
            ObjectChange::Delete => {
                let cmdlet = match self.object_type.as_str() {
                    MAIL_CONTACT => "Remove-MailContact",
                    DISTRIBUTION_GROUP => "Remove-DistributionGroup",
                    MAIL_USER => {
                        return permanent(format!(
                            "{what}: idsync does not delete mail users (that deletes the Entra account); remove the guest or user in Entra instead"
                        ));
                    }
                    _ => {
                        return permanent(format!(
                            "{what}: idsync does not delete mailboxes; remove the Exchange licence in Entra instead"
                        ));
                    }
                };
                let Some(anchor) = request.anchor else {
                    return permanent(format!("{what}: a delete needs an anchor"));
                };
                let parameters = json!({"Identity": anchor.as_str(), "Confirm": false});
                // Gone already: the delete is done.
                let step = Step::new(cmdlet, &[], parameters).absent_is_done();
                Stage::Steps(vec![step])
            }
            ObjectChange::Create { attributes } => match self.object_type.as_str() {
                MAIL_CONTACT | DISTRIBUTION_GROUP => {
                    Stage::Create(NewObject::plan(&self.object_type, &attributes))
                }
                MAILBOX if plan::makes_shared_mailbox(&attributes) => {
                    Stage::Create(NewObject::plan(&self.object_type, &attributes))
                }
                _ => {
                    // A licence makes a mailbox, an invitation a guest's mail user: "create"
                    // adopts the recipient once Exchange has made it.
                    let Some(identity) = plan::recipient_identity(&attributes) else {
                        return permanent(format!(
                            "{what}: a {} is found by externalDirectoryObjectId, userPrincipalName or an address; the rule gives none",
                            self.object_type
                        ));
                    };
                    self.what = format!("{} {identity}", self.object_type);
                    let get = if self.object_type == MAIL_USER {
                        "Get-MailUser"
                    } else {
                        "Get-Mailbox"
                    };
                    Stage::Adopt {
                        step: Step::new(get, &[], json!({"Identity": identity})),
                        identity,
                        attributes,
                    }
                }
            },
            ObjectChange::Update { changes } => {
                let Some(anchor) = request.anchor else {
                    return permanent(format!("{what}: an update needs an anchor"));
                };
                self.update(anchor, changes)
            }
        }
    }

    /// An update begins with the reads its replaces are diffed against (perhaps none).
    fn update(&self, anchor: Anchor, changes: Vec<AttributeChange>) -> Stage {
        Stage::Read {
            reads: plan::reads(&self.object_type, anchor.as_str(), &changes).into(),
            current: Vec::new(),
            anchor,
            changes,
        }
    }

    /// The cmdlets this request sends in the next wave: one, or several independent
    /// per-value ones; none once it has its outcome.
    fn next_steps(&self) -> &[Step] {
        match &self.stage {
            Stage::Create(new) => std::slice::from_ref(&new.step),
            Stage::Adopt { step, .. } => std::slice::from_ref(step),
            Stage::Read { reads, .. } => reads.front().map_or(&[], std::slice::from_ref),
            Stage::Steps(steps) => &steps[..plan::fan_out(steps, FAN_OUT)],
            Stage::Done(_) => &[],
        }
    }

    /// Moves on with the results of [`Self::next_steps`], in their order. `Err` only when
    /// the whole export cannot go on (the app was denied).
    fn advance(&mut self, results: Vec<Result<Page, CmdletFailure>>) -> Result<(), ConnectorError> {
        let stage = std::mem::replace(&mut self.stage, Stage::Steps(Vec::new()));
        self.stage = match stage {
            Stage::Steps(steps) => self.after_steps(steps, results)?,
            stage => {
                let [result]: [_; 1] = results
                    .try_into()
                    .expect("a request sends one cmdlet at a time until its steps are planned");
                self.after_one(stage, result)?
            }
        };
        self.settle()
    }

    /// The next stage after the one cmdlet of a create, an adoption or a read.
    fn after_one(
        &mut self,
        stage: Stage,
        result: Result<Page, CmdletFailure>,
    ) -> Result<Stage, ConnectorError> {
        Ok(match (stage, result) {
            // A request with its outcome takes no more results; steps go by `after_steps`.
            (stage @ (Stage::Done(_) | Stage::Steps(_)), _) => stage,
            (Stage::Create(_) | Stage::Adopt { .. } | Stage::Read { .. }, Err(failure)) => {
                Stage::Done(failed(&self.what, failure, self.awaited)?)
            }
            (Stage::Create(new), Ok(page)) => {
                match page
                    .objects
                    .first()
                    .and_then(|o| o.get(new.anchor_key))
                    .and_then(Json::as_str)
                {
                    Some(anchor) => {
                        let anchor = Anchor::new(anchor);
                        self.created = Some(anchor.clone());
                        self.update(anchor, new.then)
                    }
                    None => Stage::Done(ExportResult::Permanent {
                        reason: format!(
                            "{}: {} returned no {}",
                            self.what, new.step.cmdlet, new.anchor_key
                        ),
                    }),
                }
            }
            (
                Stage::Adopt {
                    identity,
                    attributes,
                    ..
                },
                Ok(page),
            ) => {
                let found = page.objects.first().and_then(|o| {
                    let anchor = o.get("ExternalDirectoryObjectId")?.as_str()?;
                    Some((o, Anchor::new(anchor)))
                });
                match found {
                    Some((recipient, anchor)) => {
                        self.created = Some(anchor.clone());
                        let changes =
                            plan::adoption_changes(&self.object_type, recipient, &attributes);
                        self.update(anchor, changes)
                    }
                    None => Stage::Done(failed(
                        &self.what,
                        CmdletFailure::NotFound(identity),
                        self.awaited,
                    )?),
                }
            }
            (
                Stage::Read {
                    mut reads,
                    mut current,
                    anchor,
                    changes,
                },
                Ok(page),
            ) => {
                if let Some(read) = reads.pop_front() {
                    for attribute in read.attributes {
                        let values =
                            plan::current_values(&self.object_type, attribute.as_str(), &page);
                        current.push((attribute, values));
                    }
                }
                Stage::Read {
                    reads,
                    current,
                    anchor,
                    changes,
                }
            }
        })
    }

    /// The next stage after the steps this request sent in one wave (the first of
    /// `steps`, one result each). Those that landed count even when a sibling failed.
    fn after_steps(
        &mut self,
        mut steps: Vec<Step>,
        results: Vec<Result<Page, CmdletFailure>>,
    ) -> Result<Stage, ConnectorError> {
        debug_assert_eq!(results.len(), plan::fan_out(&steps, FAN_OUT));
        let sent: Vec<Step> = steps.drain(..results.len()).collect();
        let mut landed = false;
        let mut first_failure = None;
        let mut failed_steps = Vec::new();
        for (step, result) in sent.into_iter().zip(results) {
            match result {
                Err(failure) if !step.already_so(&failure) => {
                    if let CmdletFailure::Denied(message) = failure {
                        return Err(ConnectorError::Denied(message));
                    }
                    first_failure.get_or_insert((step.cmdlet, failure));
                    failed_steps.push(step);
                }
                // Done, or already so.
                _ => landed = true,
            }
        }
        let Some((cmdlet, failure)) = first_failure else {
            self.first_done = true;
            return Ok(Stage::Steps(steps));
        };
        Ok(Stage::Done(
            if self.first_done || landed || self.created.is_some() {
                let unapplied = failed_steps.iter().chain(&steps);
                self.partial(cmdlet, failure, unapplied)?
            } else {
                // Nothing of this request has landed: it failed as a whole.
                failed(&self.what, failure, self.awaited)?
            },
        ))
    }

    /// A step failed after others landed: what landed stays; the failing steps and those
    /// that did not run are named as unapplied, the first failure gives the reason.
    fn partial<'s>(
        &self,
        cmdlet: &str,
        failure: CmdletFailure,
        unapplied: impl Iterator<Item = &'s Step>,
    ) -> Result<ExportResult, ConnectorError> {
        let reason = match failed(&format!("{} ({cmdlet})", self.what), failure, self.awaited)? {
            ExportResult::Transient { reason, .. }
            | ExportResult::Permanent { reason }
            | ExportResult::Waiting { reason, .. } => reason,
            ExportResult::Applied { .. } | ExportResult::Partial { .. } => String::new(),
        };
        let mut unapplied: Vec<AttributeName> = unapplied
            .flat_map(|s| s.attributes.iter().cloned())
            .collect();
        unapplied.sort();
        unapplied.dedup();
        Ok(ExportResult::Partial {
            anchor: self.created.clone(),
            unapplied,
            reason,
        })
    }

    /// Plans the steps once the reads are in, and ends a request with none left.
    fn settle(&mut self) -> Result<(), ConnectorError> {
        if let Stage::Read {
            reads,
            current,
            anchor,
            changes,
        } = &self.stage
            && reads.is_empty()
        {
            self.stage =
                match plan::update_steps(&self.object_type, anchor.as_str(), changes, current) {
                    Ok(steps) => Stage::Steps(steps),
                    Err(failure) => Stage::Done(failed(&self.what, failure, self.awaited)?),
                };
        }
        if matches!(&self.stage, Stage::Steps(steps) if steps.is_empty()) {
            self.stage = Stage::Done(ExportResult::Applied {
                anchor: self.created.clone(),
            });
        }
        Ok(())
    }

    fn outcome(self) -> ExportOutcome {
        let Stage::Done(result) = self.stage else {
            unreachable!("the export runs until every request has its outcome")
        };
        ExportOutcome {
            id: self.id,
            result,
        }
    }
}

fn describe(request: &ExportRequest) -> String {
    let anchor = request
        .anchor
        .as_ref()
        .map(|a| a.as_str().to_owned())
        .or_else(|| match &request.change {
            ObjectChange::Create { attributes } => {
                ["name", "userPrincipalName"].iter().find_map(|k| {
                    attributes
                        .first(&AttributeName::new(*k))
                        .map(Value::to_text)
                })
            }
            _ => None,
        })
        .unwrap_or_else(|| "(new)".to_owned());
    format!("{} {anchor}", request.object_type)
}

/// Turns a failure into an outcome; `Err` only when the whole run cannot go on.
/// A recipient Exchange makes on its own schedule, which idsync waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaited {
    Mailbox,
    MailUser,
}

impl Awaited {
    fn for_type(object_type: &str) -> Option<Self> {
        match object_type {
            MAILBOX => Some(Self::Mailbox),
            MAIL_USER => Some(Self::MailUser),
            _ => None,
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Self::Mailbox => {
                "waiting for the mailbox (Exchange has not provisioned it yet; it follows an Exchange licence)"
            }
            Self::MailUser => {
                "waiting for the mail user (Exchange makes one for an invited Entra guest; idsync does not run New-MailUser, which takes a password)"
            }
        }
    }
}

fn failed(
    what: &str,
    failure: CmdletFailure,
    awaited: Option<Awaited>,
) -> Result<ExportResult, ConnectorError> {
    Ok(match failure {
        CmdletFailure::Busy {
            message,
            retry_after,
        } => ExportResult::Transient {
            reason: format!("{what}: {message}"),
            retry_after,
        },
        // A licence was just assigned: Exchange provisions the mailbox later.
        // Not a failure: nothing is wrong until Microsoft's 24 hours have passed.
        CmdletFailure::NotFound(_) if awaited.is_some() => ExportResult::Waiting {
            reason: format!("{what}: {}", awaited.map_or("", Awaited::reason)),
            retry_after: Duration::from_secs(300),
        },
        CmdletFailure::NotFound(m) | CmdletFailure::Rejected(m) | CmdletFailure::Protocol(m) => {
            ExportResult::Permanent {
                reason: format!("Exchange rejected {what}: {m}"),
            }
        }
        CmdletFailure::Denied(m) => return Err(ConnectorError::Denied(m)),
    })
}

#[cfg(test)]
mod tests {
    use model::ObjectType;

    use super::*;

    fn page(objects: Json) -> Page {
        Page {
            objects: objects
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|o| o.as_object().cloned())
                .collect(),
            ..Page::default()
        }
    }

    fn group_update(changes: Vec<AttributeChange>) -> Pending {
        Pending::new(ExportRequest {
            id: ExportId(1),
            object_type: ObjectType::new(DISTRIBUTION_GROUP),
            anchor: Some(Anchor::new("g1")),
            change: ObjectChange::Update { changes },
        })
        .unwrap()
    }

    fn references(members: &[String]) -> Vec<Value> {
        members.iter().cloned().map(Value::Reference).collect()
    }

    fn members_replace(members: &[&str]) -> Pending {
        let members: Vec<String> = members.iter().map(|m| (*m).to_owned()).collect();
        group_update(vec![AttributeChange::replace(
            AttributeName::new("members"),
            references(&members),
        )])
    }

    fn members_add(count: usize) -> Pending {
        let members: Vec<String> = (0..count).map(|i| format!("m{i}")).collect();
        group_update(vec![AttributeChange::add(
            AttributeName::new("members"),
            references(&members),
        )])
    }

    fn in_flight(pending: &Pending) -> Vec<&'static str> {
        pending.next_steps().iter().map(|s| s.cmdlet).collect()
    }

    fn landed(count: usize) -> Vec<Result<Page, CmdletFailure>> {
        (0..count).map(|_| Ok(Page::default())).collect()
    }

    fn next_cmdlet(pending: &Pending) -> Option<&'static str> {
        pending.next_steps().first().map(|s| s.cmdlet)
    }

    #[test]
    fn a_replace_reads_the_members_then_adds_and_removes_together() {
        let mut pending = members_replace(&["new"]);
        assert_eq!(next_cmdlet(&pending), Some("Get-DistributionGroupMember"));
        pending
            .advance(vec![Ok(page(
                json!([{"ExternalDirectoryObjectId": "old"}]),
            ))])
            .unwrap();
        assert_eq!(
            in_flight(&pending),
            [
                "Add-DistributionGroupMember",
                "Remove-DistributionGroupMember"
            ]
        );
        // Gone already: "already so".
        let gone =
            CmdletFailure::Rejected("The recipient \"old\" isn't a member of the group".into());
        pending
            .advance(vec![Ok(Page::default()), Err(gone)])
            .unwrap();
        assert_eq!(next_cmdlet(&pending), None);
        assert_eq!(
            pending.outcome().result,
            ExportResult::Applied { anchor: None }
        );
    }

    #[test]
    fn a_failing_read_or_first_step_fails_the_request_and_a_denial_stops_the_export() {
        let mut pending = members_replace(&["new"]);
        pending
            .advance(vec![Err(CmdletFailure::Busy {
                message: "HTTP 503".into(),
                retry_after: None,
            })])
            .unwrap();
        assert!(matches!(
            pending.outcome().result,
            ExportResult::Transient { .. }
        ));

        let mut pending = members_replace(&["new"]);
        pending.advance(vec![Ok(Page::default())]).unwrap();
        pending
            .advance(vec![Err(CmdletFailure::NotFound("new".into()))])
            .unwrap();
        let ExportResult::Permanent { reason } = pending.outcome().result else {
            panic!("the first step failed: the request fails");
        };
        assert!(reason.contains("distributionGroup g1"), "{reason}");

        let mut pending = members_replace(&["new"]);
        let denied = pending.advance(vec![Err(CmdletFailure::Denied("403".into()))]);
        assert!(matches!(denied, Err(ConnectorError::Denied(_))));
    }

    #[test]
    fn member_adds_go_out_a_batch_at_a_time_after_the_set_step_alone() {
        let mut pending = group_update(vec![
            AttributeChange::replace(
                AttributeName::new("displayName"),
                vec![Value::string("Sales")],
            ),
            AttributeChange::add(
                AttributeName::new("members"),
                references(&(0..12).map(|i| format!("m{i}")).collect::<Vec<_>>()),
            ),
        ]);
        // The adds need the group as Set-DistributionGroup leaves it.
        assert_eq!(in_flight(&pending), ["Set-DistributionGroup"]);
        pending.advance(landed(1)).unwrap();
        assert_eq!(
            in_flight(&pending),
            ["Add-DistributionGroupMember"; FAN_OUT]
        );
        let mut wave = landed(FAN_OUT);
        wave[4] = Err(CmdletFailure::Rejected(
            "m4 is already a member of g1".into(),
        ));
        pending.advance(wave).unwrap();
        assert_eq!(in_flight(&pending), ["Add-DistributionGroupMember"; 2]);
        pending.advance(landed(2)).unwrap();
        assert_eq!(
            pending.outcome().result,
            ExportResult::Applied { anchor: None }
        );
    }

    #[test]
    fn a_failure_among_steps_in_flight_is_partial_and_their_landed_siblings_count() {
        let mut pending = members_add(12);
        let mut wave = landed(FAN_OUT);
        wave[3] = Err(CmdletFailure::NotFound(
            "Couldn't find object \"m3\"".into(),
        ));
        wave[7] = Err(CmdletFailure::Rejected("m7 is hidden".into()));
        pending.advance(wave).unwrap();
        // The request ends: the two adds after this wave never run.
        assert!(in_flight(&pending).is_empty());
        let ExportResult::Partial {
            anchor,
            unapplied,
            reason,
        } = pending.outcome().result
        else {
            panic!("some members landed: the request is partial");
        };
        assert_eq!(anchor, None);
        assert_eq!(unapplied, [AttributeName::new("members")]);
        assert!(reason.contains("Add-DistributionGroupMember"), "{reason}");
        assert!(
            reason.contains("m3"),
            "the first failure gives the reason: {reason}"
        );
    }

    #[test]
    fn steps_in_flight_that_all_fail_first_fail_the_request_and_a_denial_stops_the_export() {
        let mut pending = members_add(3);
        assert_eq!(in_flight(&pending).len(), 3);
        let rejected = |m: &str| Err(CmdletFailure::Rejected(format!("{m} is hidden")));
        pending
            .advance(vec![rejected("m0"), rejected("m1"), rejected("m2")])
            .unwrap();
        let ExportResult::Permanent { reason } = pending.outcome().result else {
            panic!("nothing landed: the request fails");
        };
        assert!(reason.contains("m0"), "{reason}");

        let mut pending = members_add(3);
        let denied = pending.advance(vec![
            Ok(Page::default()),
            rejected("m1"),
            Err(CmdletFailure::Denied("403".into())),
        ]);
        assert!(matches!(denied, Err(ConnectorError::Denied(_))));
    }

    #[test]
    fn an_add_and_a_remove_of_one_member_keep_their_order() {
        let mut pending = group_update(vec![
            AttributeChange::add(
                AttributeName::new("members"),
                references(&["a".into(), "b".into()]),
            ),
            AttributeChange::remove(AttributeName::new("members"), references(&["A".into()])),
        ]);
        assert_eq!(in_flight(&pending), ["Add-DistributionGroupMember"; 2]);
        pending.advance(landed(2)).unwrap();
        assert_eq!(in_flight(&pending), ["Remove-DistributionGroupMember"]);
    }
}
