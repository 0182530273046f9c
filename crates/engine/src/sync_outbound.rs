//! The outbound sync driver: every changed identity is weighed against every outbound rule,
//! and the difference between what the target should hold and what it holds becomes a
//! pending export, with the reason for each attribute.

use std::collections::{HashMap, HashSet};

use config::{DeprovisionAction, OutboundRule};
use model::{AttributeChange, Attributes, IdentityId, ObjectChange, Value, ValueChange};
use store::{
    CsId, CsObject, ExportState, Link, LinkDirection, Operation, PendingExport, Store, Write,
    WriteBatch,
};

use crate::EngineError;
use crate::connectors::planned_anchor;
use crate::join::key_text;
use crate::outbound::{
    Decision, Purpose, Scope, Target, TargetUniqueness, decide, desired, grace_expired,
    grace_reason, in_scope,
};
use crate::pipeline::crash_point;
use crate::report::{Phase, RunReport};
use crate::sync::RunContext;

/// The virtual attribute that holds an identity's id in outbound flows and join rules.
pub const IDENTITY_ID: &str = "identityId";

pub(crate) fn sync_identities(
    ctx: &RunContext<'_>,
    store: &mut dyn Store,
    report: &mut RunReport,
) -> Result<usize, EngineError> {
    let mut waiting = 0;
    let mut after: Option<IdentityId> = None;
    // Kept for the whole pass: the accounts of managers provisioned in earlier chunks are
    // looked up once.
    let mut targets = TargetLookup::default();
    loop {
        let ids = store.dirty_identities(after, ctx.config.sync.batch_size)?;
        let Some(last) = ids.last() else { break };
        after = Some(*last);
        targets.in_progress = ids.iter().copied().collect();
        targets.chunk_last = *last;
        let records = store.identities(&ids)?;
        let mut links: HashMap<IdentityId, Vec<CsObject>> = HashMap::new();
        for cs in store.cs_linked_to(&ids)? {
            if let Some(link) = &cs.link {
                links.entry(link.identity).or_default().push(cs);
            }
        }
        let mut batch = WriteBatch::new();
        for record in records {
            let identity = &record.identity;
            let linked = links.remove(&identity.id).unwrap_or_default();
            if !identity.has_source() && linked.is_empty() {
                // Nothing feeds it and nothing depends on it any more.
                batch.push(Write::DeleteIdentity(identity.id));
                continue;
            }
            let mut unresolved = false;
            let mut failed = false;
            for rule in &ctx.config.outbound {
                match evaluate_rule(
                    ctx,
                    store,
                    &mut targets,
                    identity,
                    rule,
                    &linked,
                    &mut batch,
                    report,
                ) {
                    Ok(resolved) => unresolved |= !resolved,
                    Err(RuleFailure::Object(message)) => {
                        // Kept dirty: the error is reported again each run until fixed.
                        failed = true;
                        report.error(
                            Phase::Outbound,
                            &rule.connector,
                            identity.id.to_string(),
                            message,
                        );
                    }
                    Err(RuleFailure::Run(e)) => return Err(e),
                }
            }
            if unresolved {
                waiting += 1;
            }
            if !unresolved && !failed {
                batch.push(Write::CleanIdentity(identity.id));
            }
        }
        store.commit(batch)?;
        crash_point("outbound-chunk");
    }
    Ok(waiting)
}

enum RuleFailure {
    Object(String),
    Run(EngineError),
}

impl From<EngineError> for RuleFailure {
    fn from(e: EngineError) -> Self {
        RuleFailure::Run(e)
    }
}

impl From<store::StoreError> for RuleFailure {
    fn from(e: store::StoreError) -> Self {
        RuleFailure::Run(e.into())
    }
}

/// The target-side anchors of identities, per connector, for translating vault references
/// (a manager) into references the target understands.
struct TargetLookup {
    anchors: HashMap<(String, IdentityId), TargetRef>,
    /// (connector, attribute, value) of unique values chosen by creates in this pass.
    claimed: HashSet<(String, String, String)>,
    /// The identities of the chunk being processed: one without an account yet may get one.
    in_progress: HashSet<IdentityId>,
    /// The last identity of the chunk: dirty identities after it are processed later in
    /// this pass, and may get an account then.
    chunk_last: IdentityId,
}

impl Default for TargetLookup {
    fn default() -> Self {
        TargetLookup {
            anchors: HashMap::new(),
            claimed: HashSet::new(),
            in_progress: Default::default(),
            chunk_last: IdentityId(0),
        }
    }
}

#[derive(Clone)]
enum TargetRef {
    Anchor(String),
    /// The referenced identity's account is still being created.
    Pending,
    None,
}

impl TargetLookup {
    fn get(
        &mut self,
        ctx: &RunContext<'_>,
        store: &dyn Store,
        connector: &model::ConnectorName,
        id: IdentityId,
    ) -> Result<TargetRef, EngineError> {
        let key = (connector.to_string(), id);
        if let Some(found) = self.anchors.get(&key) {
            return Ok(found.clone());
        }
        let found = store
            .cs_linked_to(&[id])?
            .into_iter()
            .filter(|cs| &cs.connector == connector)
            .map(|cs| match cs.anchor {
                Some(anchor) => TargetRef::Anchor(anchor.to_string()),
                // A create not yet exported: its anchor is known if the target takes it from
                // the planned attributes the placeholder holds.
                None => planned(ctx, connector, &cs.attributes),
            })
            .next()
            .unwrap_or(TargetRef::None);
        let found = match found {
            TargetRef::None
                if self.in_progress.contains(&id)
                    || (id > self.chunk_last
                        && store.identities(&[id])?.first().is_some_and(|r| r.dirty)) =>
            {
                TargetRef::Pending
            }
            other => other,
        };
        // Only settled answers are kept: a pending one may settle later in this pass.
        if !matches!(found, TargetRef::Pending) {
            self.anchors.insert(key, found.clone());
        }
        Ok(found)
    }

    /// An account for `id` in `connector` is being created in this run.
    fn provisioning(
        &mut self,
        connector: &model::ConnectorName,
        id: IdentityId,
        anchor: TargetRef,
    ) {
        self.anchors.insert((connector.to_string(), id), anchor);
    }
}

/// `SelectUniqueValue`'s answers from the target's connector space (existing objects and
/// planned creates), plus the values chosen earlier in this pass.
struct StoreUniqueness<'a> {
    store: &'a dyn Store,
    connector: &'a model::ConnectorName,
    claimed: &'a HashSet<(String, String, String)>,
}

impl TargetUniqueness for StoreUniqueness<'_> {
    fn is_unique(&self, attribute: &model::AttributeName, candidate: &str) -> bool {
        let key = key_text(candidate);
        let claim = (
            self.connector.to_string(),
            attribute.as_str().to_ascii_lowercase(),
            key.clone(),
        );
        if self.claimed.contains(&claim) {
            return false;
        }
        // A store that cannot answer is treated as "taken": never risk a duplicate.
        self.store
            .cs_find(self.connector, attribute, &key)
            .is_ok_and(|found| found.is_empty())
    }
}

/// The anchor a planned create will have, if the target takes it from the attributes.
fn planned(
    ctx: &RunContext<'_>,
    connector: &model::ConnectorName,
    attributes: &Attributes,
) -> TargetRef {
    ctx.config
        .connector(connector)
        .and_then(|c| planned_anchor(c, attributes))
        .map(|a| TargetRef::Anchor(a.to_string()))
        .unwrap_or(TargetRef::Pending)
}

/// The identity's attributes with references translated for one target. Returns whether
/// every reference could be resolved (a reference to an account being created cannot yet).
fn translate(
    ctx: &RunContext<'_>,
    store: &dyn Store,
    targets: &mut TargetLookup,
    connector: &model::ConnectorName,
    attributes: Attributes,
) -> Result<(Attributes, bool), EngineError> {
    if !attributes
        .iter()
        .any(|(_, vs)| vs.iter().any(|v| matches!(v, Value::Reference(_))))
    {
        return Ok((attributes, true));
    }
    let mut complete = true;
    let mut out = Attributes::new();
    for (name, values) in attributes {
        let mut translated = Vec::with_capacity(values.len());
        for value in values {
            let Value::Reference(text) = &value else {
                translated.push(value);
                continue;
            };
            let Ok(id) = text.parse::<IdentityId>() else {
                continue;
            };
            match targets.get(ctx, store, connector, id)? {
                TargetRef::Anchor(anchor) => translated.push(Value::Reference(anchor)),
                TargetRef::Pending => complete = false,
                TargetRef::None => {}
            }
        }
        out.set(name, translated);
    }
    Ok((out, complete))
}

/// Makes the pending exports of one identity under one rule.
struct Exports<'a> {
    ctx: &'a RunContext<'a>,
    rule: &'a OutboundRule,
    identity: IdentityId,
}

impl Exports<'_> {
    /// The write that puts (or replaces) the pending export of one connector-space object.
    fn put(
        &self,
        cs_id: CsId,
        anchor: Option<model::Anchor>,
        operation: Operation,
        change: ObjectChange,
        reasons: Vec<store::ChangeReason>,
    ) -> Write {
        Write::PutExport(PendingExport {
            cs_id,
            connector: self.rule.connector.clone(),
            identity: Some(self.identity),
            anchor,
            object_type: self.rule.target_type.clone(),
            operation,
            change,
            reasons,
            state: ExportState::Pending,
            attempts: 0,
            next_attempt_at: None,
            last_error: None,
            quarantined: false,
            created_run: self.ctx.run,
        })
    }
}

/// Applies one rule to one identity. Returns whether every reference could be resolved.
#[allow(clippy::too_many_arguments)]
fn evaluate_rule(
    ctx: &RunContext<'_>,
    store: &mut dyn Store,
    targets: &mut TargetLookup,
    identity: &model::vault::Identity,
    rule: &OutboundRule,
    linked: &[CsObject],
    batch: &mut WriteBatch,
    report: &mut RunReport,
) -> Result<bool, RuleFailure> {
    let eval = ctx.eval_for(identity.id);
    let (mut attributes, resolved) = translate(
        ctx,
        store,
        targets,
        &rule.connector,
        identity.current_attributes(),
    )?;
    // The identity's own id is offered to outbound flows as `identityId`: an anchor for
    // targets that take one from us, and a key their join rules can match exactly.
    let identity_id = model::AttributeName::new(IDENTITY_ID);
    if !attributes.contains(&identity_id) {
        attributes.set(identity_id, vec![Value::String(identity.id.to_string())]);
    }
    let scope = in_scope(identity, rule, &attributes, &eval).map_err(RuleFailure::Object)?;
    let target_cs = linked.iter().find(|cs| {
        cs.connector == rule.connector
            && cs
                .link
                .as_ref()
                .is_some_and(|l| l.rule == rule.name && l.direction == LinkDirection::Outbound)
    });
    let target = match target_cs {
        None => Target::None,
        Some(cs) if cs.anchor.is_none() => Target::Placeholder,
        Some(cs) => Target::Existing(cs),
    };
    let uniqueness = StoreUniqueness {
        store: &*store,
        connector: &rule.connector,
        claimed: &targets.claimed,
    };
    let wanted = match (&scope, target) {
        (Scope::In, Target::Existing(cs)) => Some(
            desired(rule, &attributes, Purpose::Update, &eval, None).map(|mut wanted| {
                if let Some((attributes, reason)) =
                    crate::connectors::mastered_elsewhere(ctx.config, &rule.connector, cs)
                {
                    wanted.withhold(attributes, reason);
                }
                wanted
            }),
        ),
        (Scope::In, _) => Some(desired(
            rule,
            &attributes,
            Purpose::Create,
            &eval,
            Some(&uniqueness),
        )),
        (Scope::Out(_), _) => None,
    }
    .transpose()
    .map_err(|e| RuleFailure::Object(format!("{} ({})", e, rule.name)))?;
    let exports = Exports {
        ctx,
        rule,
        identity: identity.id,
    };
    let counts = &mut report.connector(&rule.connector).outbound;
    match decide(
        rule,
        &scope,
        target,
        wanted.as_ref(),
        ctx.multi_valued(&rule.name),
    ) {
        Decision::Nothing => {
            if let Some(cs) = target_cs
                && cs.anchor.is_some()
            {
                batch.push(Write::DropExport(cs.id));
            }
        }
        Decision::Provision {
            attributes,
            reasons,
        } => {
            counts.creates += 1;
            // Values chosen for unique attributes are taken from now on, even before the
            // placeholder that holds them is committed.
            for (name, value) in ctx.keys.cs_keys_of(&rule.connector, &attributes) {
                targets.claimed.insert((
                    rule.connector.to_string(),
                    name.as_str().to_ascii_lowercase(),
                    value,
                ));
            }
            targets.provisioning(
                &rule.connector,
                identity.id,
                planned(ctx, &rule.connector, &attributes),
            );
            let cs_id = match target_cs {
                Some(cs) => cs.id,
                None => store.allocate_cs_ids(1)?[0],
            };
            let placeholder = CsObject {
                id: cs_id,
                connector: rule.connector.clone(),
                anchor: None,
                object_type: rule.target_type.clone(),
                // The planned values: they count as taken for uniqueness, and a reference to
                // this account resolves to its planned anchor before it is created.
                attributes: attributes.clone(),
                digest: 0,
                link: Some(Link {
                    identity: identity.id,
                    rule: rule.name.clone(),
                    direction: LinkDirection::Outbound,
                    at: ctx.now,
                }),
                dirty: false,
                deprovisioned_at: None,
            };
            let keys = ctx.keys.cs_keys(&placeholder);
            batch.push(Write::PutCs {
                object: placeholder,
                keys,
            });
            batch.push(exports.put(
                cs_id,
                None,
                Operation::Create,
                ObjectChange::Create { attributes },
                reasons,
            ));
        }
        Decision::Update {
            changes,
            reasons,
            reenable,
        } => {
            let Some(cs) = target_cs else {
                return Ok(resolved);
            };
            if reenable {
                let mut cs = cs.clone();
                cs.deprovisioned_at = None;
                batch.push(Write::PutCs {
                    keys: ctx.keys.cs_keys(&cs),
                    object: cs,
                });
            }
            let changes = spare_unmanaged_references(&*store, rule, changes)?;
            if changes.is_empty() {
                batch.push(Write::DropExport(cs.id));
            } else {
                counts.updates += 1;
                batch.push(exports.put(
                    cs.id,
                    cs.anchor.clone(),
                    Operation::Update,
                    ObjectChange::Update { changes },
                    reasons,
                ));
            }
        }
        Decision::Disable { changes, reasons } => {
            let Some(cs) = target_cs else {
                return Ok(resolved);
            };
            counts.disables += 1;
            batch.push(exports.put(
                cs.id,
                cs.anchor.clone(),
                Operation::Disable,
                ObjectChange::Update { changes },
                reasons,
            ));
        }
        Decision::MarkDeprovisioned => {
            let Some(cs) = target_cs else {
                return Ok(resolved);
            };
            let mut cs = cs.clone();
            cs.deprovisioned_at = Some(ctx.now);
            batch.push(Write::DropExport(cs.id));
            batch.push(Write::PutCs {
                keys: ctx.keys.cs_keys(&cs),
                object: cs,
            });
        }
        Decision::Delete { reasons } => {
            let Some(cs) = target_cs else {
                return Ok(resolved);
            };
            counts.deletes += 1;
            batch.push(exports.put(
                cs.id,
                cs.anchor.clone(),
                Operation::Delete,
                ObjectChange::Delete,
                reasons,
            ));
        }
        Decision::Disconnect => {
            let Some(cs) = target_cs else {
                return Ok(resolved);
            };
            counts.disconnects += 1;
            let mut cs = cs.clone();
            cs.link = None;
            batch.push(Write::DropExport(cs.id));
            batch.push(Write::PutCs {
                keys: ctx.keys.cs_keys(&cs),
                object: cs,
            });
        }
        Decision::DropPlaceholder => {
            if let Some(cs) = target_cs {
                batch.push(Write::DeleteCs(cs.id));
            }
        }
    }
    Ok(resolved)
}

/// Deprovisioned (disabled) accounts whose grace period is over are deleted. Their
/// identities have not changed, so this is a scan of the deprovisioned objects, not of the
/// dirty identities.
pub(crate) fn expire_grace_periods(
    ctx: &RunContext<'_>,
    store: &mut dyn Store,
    report: &mut RunReport,
) -> Result<(), EngineError> {
    for rule in &ctx.config.outbound {
        if !matches!(
            rule.deprovision,
            DeprovisionAction::Disable {
                delete_after: Some(_),
                ..
            }
        ) {
            continue;
        }
        let mut after = None;
        loop {
            let page =
                store.cs_deprovisioned(&rule.connector, after, ctx.config.sync.batch_size)?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            let mut batch = WriteBatch::new();
            for cs in &page {
                let Some(link) = &cs.link else { continue };
                if link.rule != rule.name || !grace_expired(rule, cs, ctx.now) {
                    continue;
                }
                report.connector(&rule.connector).outbound.deletes += 1;
                batch.push(
                    Exports {
                        ctx,
                        rule,
                        identity: link.identity,
                    }
                    .put(
                        cs.id,
                        cs.anchor.clone(),
                        Operation::Delete,
                        ObjectChange::Delete,
                        grace_reason(rule, cs),
                    ),
                );
            }
            store.commit(batch)?;
        }
    }
    Ok(())
}

/// Exports left in flight by a run that died: once the confirming import has run, a create
/// that did not land (no object joined its placeholder) is exported again, and any other
/// change is recomputed from the image the import proved.
pub(crate) fn recover_in_flight(
    store: &mut dyn Store,
    connector: &model::ConnectorName,
) -> Result<(), EngineError> {
    let in_flight = store.in_flight_exports(connector)?;
    if in_flight.is_empty() {
        return Ok(());
    }
    tracing::info!(connector = %connector, count = in_flight.len(), "recovering exports left in flight by an interrupted run");
    let mut batch = WriteBatch::new();
    for mut export in in_flight {
        match export.operation {
            Operation::Create => {
                export.state = ExportState::Pending;
                batch.push(Write::PutExport(export));
            }
            _ => {
                batch.push(Write::DropExport(export.cs_id));
                if let Some(identity) = export.identity {
                    batch.push(Write::TouchIdentity(identity));
                }
            }
        }
    }
    store.commit(batch)?;
    Ok(())
}

/// Removals of references to objects idsync does not manage (not in the connector space,
/// or there without an identity) are dropped: a member added by hand, a service account,
/// stays in the group. A rule that owns the attribute whole (`fully_managed`) removes them.
fn spare_unmanaged_references(
    store: &dyn Store,
    rule: &OutboundRule,
    changes: Vec<AttributeChange>,
) -> Result<Vec<AttributeChange>, EngineError> {
    let mut kept = Vec::with_capacity(changes.len());
    for change in changes {
        let ValueChange::Remove(values) = &change.change else {
            kept.push(change);
            continue;
        };
        if rule.fully_managed.contains(&change.name) {
            kept.push(change);
            continue;
        }
        let mut removes = Vec::new();
        for value in values {
            let managed = match value {
                Value::Reference(anchor) => store
                    .cs_by_anchor(&rule.connector, &model::Anchor::new(anchor.as_str()))?
                    .is_some_and(|cs| cs.link.is_some()),
                _ => true,
            };
            if managed {
                removes.push(value.clone());
            }
        }
        if !removes.is_empty() {
            kept.push(AttributeChange::remove(change.name, removes));
        }
    }
    Ok(kept)
}
