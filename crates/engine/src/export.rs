//! The export driver: hands approved pending exports to their connector in batches and
//! records each object's outcome.
//!
//! Before a batch is handed over it is marked in flight (committed), so a run killed during
//! the call leaves a trace: the next run's confirming import decides whether it landed, and a
//! create is never repeated blindly.

use std::collections::HashMap;
use std::time::Duration;

use config::RetryConfig;
use connector::{ExportId, ExportRequest, ExportResult};
use model::{ConnectorName, ObjectChange, Timestamp};
use store::{CsId, CsObject, ExportState, Operation, PendingExport, Store, Write, WriteBatch};

use crate::EngineError;
use crate::connectors::AnyConnector;
use crate::digest::digest;
use crate::guard::ApprovedPlan;
use crate::pipeline::{Progress, crash_point};
use crate::report::{Phase, RunReport, Waiting};
use crate::sync::RunContext;

/// The delay before attempt `attempts + 1`: doubling from `backoff`, capped at `max_backoff`.
pub fn backoff(retry: &RetryConfig, attempts: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
    retry.backoff.saturating_mul(factor).min(retry.max_backoff)
}

fn later(now: Timestamp, delay: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(delay)
        .ok()
        .and_then(|d| now.checked_add(d).ok())
        .unwrap_or(now)
}

/// Exports everything due for one approved connector.
pub(crate) async fn export_connector(
    ctx: &RunContext<'_>,
    store: &mut dyn Store,
    connector: &mut AnyConnector,
    name: &ConnectorName,
    // Only the guard makes an `ApprovedPlan`: holding one is the proof this connector may export.
    plan: &ApprovedPlan,
    progress: &dyn Progress,
    report: &mut RunReport,
) -> Result<(), EngineError> {
    if !plan.approves(name) {
        return Ok(());
    }
    let Some(batch_size) = connector.batch_size() else {
        return Ok(());
    };
    let mut after: Option<CsId> = None;
    let mut exported = false;
    loop {
        let due = store.due_exports(name, ctx.now, after, batch_size)?;
        let Some(last) = due.last() else { break };
        after = Some(last.cs_id);
        if !exported {
            progress.phase(Some(name), "export");
        }
        exported = true;

        let mut mark = WriteBatch::new();
        for export in &due {
            mark.push(Write::MarkInFlight(export.cs_id));
        }
        store.commit(mark)?;
        crash_point("export-before-call");

        let requests: Vec<ExportRequest> = due
            .iter()
            .map(|e| ExportRequest {
                id: ExportId(e.cs_id.0),
                object_type: e.object_type.clone(),
                anchor: e.anchor.clone(),
                change: e.change.clone(),
            })
            .collect();
        let outcomes: HashMap<ExportId, ExportResult> = match connector.export(requests).await {
            Ok(outcomes) => outcomes.into_iter().map(|o| (o.id, o.result)).collect(),
            Err(e) => {
                let result = if e.is_transient() {
                    ExportResult::Transient {
                        reason: e.to_string(),
                        retry_after: None,
                    }
                } else {
                    ExportResult::Permanent {
                        reason: e.to_string(),
                    }
                };
                due.iter()
                    .map(|x| (ExportId(x.cs_id.0), result.clone()))
                    .collect()
            }
        };
        crash_point("export-after-call");

        let ids: Vec<CsId> = due.iter().map(|e| e.cs_id).collect();
        let mut objects: HashMap<CsId, CsObject> = store
            .cs_by_ids(&ids)?
            .into_iter()
            .map(|cs| (cs.id, cs))
            .collect();
        let mut batch = WriteBatch::new();
        for export in due {
            let result = outcomes.get(&ExportId(export.cs_id.0)).cloned().unwrap_or(
                ExportResult::Transient {
                    reason: "the connector returned no outcome for this object".into(),
                    retry_after: None,
                },
            );
            let object = objects.remove(&export.cs_id);
            record_outcome(ctx, store, export, object, result, &mut batch, report)?;
        }
        store.commit(batch)?;
    }
    if exported && let Err(e) = connector.finish_export().await {
        report.error(
            Phase::Export,
            name,
            name.to_string(),
            format!("finishing the export failed: {e}; the next import will show what landed"),
        );
    }
    Ok(())
}

fn describe(export: &PendingExport) -> String {
    match (&export.anchor, export.identity) {
        (Some(anchor), _) => format!("{}/{}", export.connector, anchor),
        (None, Some(identity)) => format!("{}/(create for {identity})", export.connector),
        (None, None) => format!("{}/#{}", export.connector, export.cs_id.0),
    }
}

fn record_outcome(
    ctx: &RunContext<'_>,
    store: &dyn Store,
    mut export: PendingExport,
    object: Option<CsObject>,
    result: ExportResult,
    batch: &mut WriteBatch,
    report: &mut RunReport,
) -> Result<(), EngineError> {
    let name = export.connector.clone();
    let retry = &ctx.config.retry;
    match result {
        ExportResult::Applied { anchor } => {
            report.connector(&name).export.applied += 1;
            let Some(mut cs) = object else {
                batch.push(Write::DropExport(export.cs_id));
                return Ok(());
            };
            match (&export.change, export.operation) {
                (ObjectChange::Create { attributes }, _) => {
                    let Some(anchor) = anchor.or_else(|| cs.anchor.clone()) else {
                        return fail(
                            ctx,
                            export,
                            format!("{} reported a create without the new object's anchor", name),
                            true,
                            batch,
                            report,
                        );
                    };
                    cs.attributes = attributes.clone();
                    // A create that landed on an object the connector space already holds
                    // (an upsert target): adopt that object instead of holding two.
                    if let Some(existing) = store.cs_by_anchor(&name, &anchor)?
                        && existing.id != cs.id
                    {
                        batch.push(Write::DeleteCs(existing.id));
                    }
                    cs.anchor = Some(anchor);
                    cs.digest = digest(&cs.object_type, &cs.attributes);
                }
                (ObjectChange::Update { changes }, operation) => {
                    for change in changes {
                        cs.attributes.apply(change);
                    }
                    cs.digest = digest(&cs.object_type, &cs.attributes);
                    if operation == Operation::Disable {
                        cs.deprovisioned_at = Some(ctx.now);
                    }
                }
                (ObjectChange::Delete, _) => {
                    if let Some(link) = &cs.link {
                        batch.push(Write::TouchIdentity(link.identity));
                    }
                    batch.push(Write::DeleteCs(cs.id));
                    return Ok(());
                }
            }
            batch.push(Write::DropExport(export.cs_id));
            batch.push(Write::PutCs {
                keys: ctx.keys.cs_keys(&cs),
                object: cs,
            });
        }
        ExportResult::Partial {
            anchor,
            unapplied,
            reason,
        } => {
            return record_partial(
                ctx, store, export, object, anchor, &unapplied, reason, batch, report,
            );
        }
        ExportResult::Transient {
            reason,
            retry_after,
        } => {
            export.attempts += 1;
            let delay = backoff(retry, export.attempts).max(retry_after.unwrap_or_default());
            export.next_attempt_at = Some(later(ctx.now, delay));
            export.quarantined = export.attempts >= retry.max_attempts;
            let what = if export.quarantined {
                "quarantined"
            } else {
                "will retry"
            };
            if export.quarantined {
                report.connector(&name).export.quarantined += 1;
            } else {
                report.connector(&name).export.retrying += 1;
            }
            report.error(
                Phase::Export,
                &name,
                describe(&export),
                format!(
                    "{} failed (attempt {}): {reason}; {what} after {}",
                    export.operation.as_str(),
                    export.attempts,
                    export
                        .next_attempt_at
                        .map(|t| t.to_string())
                        .unwrap_or_default()
                ),
            );
            export.last_error = Some(reason);
            export.state = ExportState::Pending;
            batch.push(Write::PutExport(export));
        }
        ExportResult::Permanent { reason } => {
            return fail(ctx, export, reason, true, batch, report);
        }
        ExportResult::Waiting {
            reason,
            retry_after,
        } => {
            let until = later(ctx.now, retry_after);
            report.waiting(Waiting {
                connector: name,
                object: describe(&export),
                reason: reason.clone(),
                until,
            });
            export.next_attempt_at = Some(until);
            export.last_error = Some(reason);
            // Nothing is wrong with it now, whatever earlier attempts met.
            export.quarantined = false;
            export.state = ExportState::Pending;
            batch.push(Write::PutExport(export));
        }
    }
    Ok(())
}

/// Part of a change landed: the connector space takes what landed, and the rest stays
/// pending as an update, quarantined like a permanent failure with its reason.
#[allow(clippy::too_many_arguments)]
fn record_partial(
    ctx: &RunContext<'_>,
    store: &dyn Store,
    mut export: PendingExport,
    object: Option<CsObject>,
    anchor: Option<model::Anchor>,
    unapplied: &[model::AttributeName],
    reason: String,
    batch: &mut WriteBatch,
    report: &mut RunReport,
) -> Result<(), EngineError> {
    let name = export.connector.clone();
    let Some(mut cs) = object else {
        batch.push(Write::DropExport(export.cs_id));
        return Ok(());
    };
    let remaining: Vec<model::AttributeChange> = match &export.change {
        ObjectChange::Create { attributes } => {
            let Some(anchor) = anchor.or_else(|| cs.anchor.clone()) else {
                return fail(ctx, export, reason, true, batch, report);
            };
            if let Some(existing) = store.cs_by_anchor(&name, &anchor)?
                && existing.id != cs.id
            {
                batch.push(Write::DeleteCs(existing.id));
            }
            let mut landed = attributes.clone();
            let mut remaining = Vec::new();
            for attribute in unapplied {
                if let Some(values) = landed.remove(attribute) {
                    remaining.push(model::AttributeChange::replace(attribute.clone(), values));
                }
            }
            cs.attributes = landed;
            cs.anchor = Some(anchor);
            remaining
        }
        ObjectChange::Update { changes } => {
            let (missed, landed): (Vec<_>, Vec<_>) = changes
                .iter()
                .cloned()
                .partition(|c| unapplied.contains(&c.name));
            for change in &landed {
                cs.attributes.apply(change);
            }
            missed
        }
        ObjectChange::Delete => return fail(ctx, export, reason, true, batch, report),
    };
    cs.digest = digest(&cs.object_type, &cs.attributes);
    report.connector(&name).export.applied += 1;
    export.anchor = cs.anchor.clone();
    batch.push(Write::PutCs {
        keys: ctx.keys.cs_keys(&cs),
        object: cs,
    });
    if remaining.is_empty() {
        batch.push(Write::DropExport(export.cs_id));
        return Ok(());
    }
    export.operation = Operation::Update;
    export.change = ObjectChange::Update { changes: remaining };
    fail(ctx, export, reason, true, batch, report)
}

/// A permanent failure: the export is quarantined with its error and retried on the
/// backoff schedule, in case the target's rules or data change.
fn fail(
    ctx: &RunContext<'_>,
    mut export: PendingExport,
    reason: String,
    quarantine: bool,
    batch: &mut WriteBatch,
    report: &mut RunReport,
) -> Result<(), EngineError> {
    let name = export.connector.clone();
    export.attempts += 1;
    export.quarantined = quarantine;
    export.next_attempt_at = Some(later(ctx.now, backoff(&ctx.config.retry, export.attempts)));
    export.state = ExportState::Pending;
    report.connector(&name).export.quarantined += 1;
    report.error(
        Phase::Export,
        &name,
        describe(&export),
        format!(
            "{} rejected: {reason}; quarantined, next attempt after {}",
            export.operation.as_str(),
            export
                .next_attempt_at
                .map(|t| t.to_string())
                .unwrap_or_default()
        ),
    );
    export.last_error = Some(reason);
    batch.push(Write::PutExport(export));
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use config::RetryConfig;

    use super::backoff;

    #[test]
    fn backoff_doubles_from_the_first_delay_up_to_the_cap() {
        let retry = RetryConfig {
            max_attempts: 5,
            backoff: Duration::from_secs(60),
            max_backoff: Duration::from_secs(600),
        };
        let delays: Vec<u64> = (1..=6)
            .map(|attempt| backoff(&retry, attempt).as_secs())
            .collect();
        assert_eq!(delays, [60, 120, 240, 480, 600, 600]);
        // A huge attempt count saturates instead of overflowing.
        assert_eq!(backoff(&retry, u32::MAX).as_secs(), 600);
    }
}
