//! Export: each request becomes a few cmdlets, run in order. A request whose first cmdlet
//! fails fails as a whole; one whose later cmdlet fails is `Partial`, naming what did not
//! land. Mailboxes are made by licences, so a mailbox that does not exist yet is a wait.
//!
//! Requests progress together: in waves, the next cmdlet of every request still under way
//! goes out, ten to a `$batch`, so a wave of 50 requests costs 5 HTTP requests instead of
//! 50. Each request is a small state machine ([`Pending`]) that a cmdlet's result moves on;
//! what cmdlets a change takes is planned in [`plan`], without calling Exchange.

mod plan;

use std::collections::VecDeque;
use std::time::Duration;

use connector::{ConnectorError, ExportId, ExportOutcome, ExportRequest, ExportResult};
use model::{Anchor, AttributeChange, AttributeName, Attributes, ObjectChange, Value};
use serde_json::{Value as Json, json};

use crate::client::{Call, CmdletFailure, ExchangeClient, MAX_BATCH, Page};
use crate::schema::{DISTRIBUTION_GROUP, MAIL_CONTACT, MAIL_USER, MAILBOX};
use plan::{NewObject, Step};

pub async fn export(
    client: &mut ExchangeClient,
    batch: Vec<ExportRequest>,
) -> Result<Vec<ExportOutcome>, ConnectorError> {
    let mut pending = batch
        .into_iter()
        .map(Pending::new)
        .collect::<Result<Vec<_>, _>>()?;
    loop {
        let wave: Vec<usize> = (0..pending.len())
            .filter(|&i| pending[i].next_step().is_some())
            .collect();
        if wave.is_empty() {
            break;
        }
        for chunk in wave.chunks(MAX_BATCH) {
            let calls: Vec<Call<'_>> = chunk
                .iter()
                .filter_map(|&i| pending[i].next_step())
                .map(Step::call)
                .collect();
            let results = client.run_batch(&calls).await;
            for (&i, result) in chunk.iter().zip(results) {
                pending[i].advance(result)?;
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
    /// Cmdlets still to run, in order.
    Steps(VecDeque<Step>),
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
            stage: Stage::Steps(VecDeque::new()),
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
                Stage::Steps(VecDeque::from([step]))
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

    /// The cmdlet this request waits on; `None` once it has its outcome.
    fn next_step(&self) -> Option<&Step> {
        match &self.stage {
            Stage::Create(new) => Some(&new.step),
            Stage::Adopt { step, .. } => Some(step),
            Stage::Read { reads, .. } => reads.front(),
            Stage::Steps(steps) => steps.front(),
            Stage::Done(_) => None,
        }
    }

    /// Moves on with the result of [`Self::next_step`]. `Err` only when the whole export
    /// cannot go on (the app was denied).
    fn advance(&mut self, result: Result<Page, CmdletFailure>) -> Result<(), ConnectorError> {
        let stage = std::mem::replace(&mut self.stage, Stage::Steps(VecDeque::new()));
        self.stage = match (stage, result) {
            // A request with its outcome takes no more results.
            (done @ Stage::Done(_), _) => done,
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
            (Stage::Steps(mut steps), result) => match result {
                Err(failure) if !steps.front().is_some_and(|s| s.already_so(&failure)) => {
                    if self.first_done || self.created.is_some() {
                        Stage::Done(self.partial(&steps, failure)?)
                    } else {
                        Stage::Done(failed(&self.what, failure, self.awaited)?)
                    }
                }
                // Done, or already so.
                _ => {
                    steps.pop_front();
                    self.first_done = true;
                    Stage::Steps(steps)
                }
            },
        };
        self.settle()
    }

    /// A later step failed: what landed stays, the failing step and those after it are
    /// named as unapplied.
    fn partial(
        &self,
        steps: &VecDeque<Step>,
        failure: CmdletFailure,
    ) -> Result<ExportResult, ConnectorError> {
        let cmdlet = steps.front().map_or("", |s| s.cmdlet);
        let reason = match failed(&format!("{} ({cmdlet})", self.what), failure, self.awaited)? {
            ExportResult::Transient { reason, .. }
            | ExportResult::Permanent { reason }
            | ExportResult::Waiting { reason, .. } => reason,
            ExportResult::Applied { .. } | ExportResult::Partial { .. } => String::new(),
        };
        let mut unapplied: Vec<AttributeName> = steps
            .iter()
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
                    Ok(steps) => Stage::Steps(steps.into()),
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

    fn members_replace(members: &[&str]) -> Pending {
        Pending::new(ExportRequest {
            id: ExportId(1),
            object_type: ObjectType::new(DISTRIBUTION_GROUP),
            anchor: Some(Anchor::new("g1")),
            change: ObjectChange::Update {
                changes: vec![AttributeChange::replace(
                    AttributeName::new("members"),
                    members
                        .iter()
                        .map(|m| Value::Reference((*m).to_owned()))
                        .collect(),
                )],
            },
        })
        .unwrap()
    }

    fn next_cmdlet(pending: &Pending) -> Option<&'static str> {
        pending.next_step().map(|s| s.cmdlet)
    }

    #[test]
    fn a_replace_reads_the_members_then_adds_and_removes_in_order() {
        let mut pending = members_replace(&["new"]);
        assert_eq!(next_cmdlet(&pending), Some("Get-DistributionGroupMember"));
        pending
            .advance(Ok(page(json!([{"ExternalDirectoryObjectId": "old"}]))))
            .unwrap();
        assert_eq!(next_cmdlet(&pending), Some("Add-DistributionGroupMember"));
        pending.advance(Ok(Page::default())).unwrap();
        assert_eq!(
            next_cmdlet(&pending),
            Some("Remove-DistributionGroupMember")
        );
        // Gone already: "already so".
        let gone =
            CmdletFailure::Rejected("The recipient \"old\" isn't a member of the group".into());
        pending.advance(Err(gone)).unwrap();
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
            .advance(Err(CmdletFailure::Busy {
                message: "HTTP 503".into(),
                retry_after: None,
            }))
            .unwrap();
        assert!(matches!(
            pending.outcome().result,
            ExportResult::Transient { .. }
        ));

        let mut pending = members_replace(&["new"]);
        pending.advance(Ok(Page::default())).unwrap();
        pending
            .advance(Err(CmdletFailure::NotFound("new".into())))
            .unwrap();
        let ExportResult::Permanent { reason } = pending.outcome().result else {
            panic!("the first step failed: the request fails");
        };
        assert!(reason.contains("distributionGroup g1"), "{reason}");

        let mut pending = members_replace(&["new"]);
        let denied = pending.advance(Err(CmdletFailure::Denied("403".into())));
        assert!(matches!(denied, Err(ConnectorError::Denied(_))));
    }
}
