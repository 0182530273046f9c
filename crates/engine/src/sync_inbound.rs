//! The inbound sync driver: every changed connector-space object of one connector is scoped,
//! joined or projected, and flows its values into its identity.
//!
//! Objects are processed in chunks; each chunk's writes are committed together, so a run
//! killed mid-sync leaves the rest of the chunk dirty and the next run picks it up.

use std::collections::HashMap;

use config::{InboundRule, JoinRule, OutboundRule};
use model::vault::{Identity, SourceLink};
use model::{AttributeName, Attributes, ConnectorName, IdentityId, ObjectType, Value};
use store::{
    CsId, CsObject, HistoryEntry, IdentityRecord, Link, LinkDirection, Store, Write, WriteBatch,
};

use crate::EngineError;
use crate::inbound::{offered, rule_for};
use crate::join::{JoinDecision, decide, keys};
use crate::pipeline::crash_point;
use crate::report::{Phase, RunReport};
use crate::sync::{IdentityCache, RunContext};
use crate::sync_outbound::IDENTITY_ID;

/// How many identity ids are reserved at a time.
const ID_BLOCK: usize = 2000;

/// Identity ids reserved in blocks, so projecting a million identities is not a million
/// store round trips. Unused ids are simply never used.
pub(crate) struct IdPool {
    free: Vec<IdentityId>,
}

impl IdPool {
    pub fn new() -> Self {
        IdPool { free: Vec::new() }
    }

    pub fn next(&mut self, store: &mut dyn Store) -> Result<IdentityId, EngineError> {
        if self.free.is_empty() {
            let mut ids = store.allocate_identity_ids(ID_BLOCK)?;
            ids.reverse();
            self.free = ids;
        }
        Ok(self.free.pop().expect("a block of ids was just reserved"))
    }
}

/// The state of one chunk: its writes, the identities it touched, and the join keys of
/// identities it created (not yet visible in the store's index).
struct Chunk {
    batch: WriteBatch,
    identities: IdentityCache,
    new_keys: HashMap<(AttributeName, String), Vec<IdentityId>>,
}

pub(crate) fn sync_connector(
    ctx: &RunContext<'_>,
    store: &mut dyn Store,
    ids: &mut IdPool,
    name: &ConnectorName,
    report: &mut RunReport,
) -> Result<(), EngineError> {
    let rules: Vec<&InboundRule> = ctx
        .config
        .inbound
        .iter()
        .filter(|r| &r.connector == name)
        .collect();
    let outbound: Vec<&OutboundRule> = ctx
        .config
        .outbound
        .iter()
        .filter(|r| &r.connector == name && !r.join.is_empty())
        .collect();
    let mut pass = InboundPass {
        ctx,
        rules,
        outbound,
        ids,
        references: ReferenceCache {
            refers: crate::connectors::reference_targets(ctx.config, name),
            ..ReferenceCache::default()
        },
    };
    let mut after: Option<CsId> = None;
    let mut deferred: Vec<CsId> = Vec::new();
    loop {
        let page = store.dirty_cs(name, after, ctx.config.sync.batch_size)?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        deferred.extend(pass.process_chunk(store, page, false, report)?);
        crash_point("inbound-chunk");
    }
    // Objects whose references pointed at objects not linked yet (a manager further down the
    // file): pass again while passes make progress; the last pass drops what is still unknown.
    while !deferred.is_empty() {
        let before = deferred.len();
        let mut still = Vec::new();
        for chunk in deferred.chunks(ctx.config.sync.batch_size) {
            let page = store.cs_by_ids(chunk)?;
            still.extend(pass.process_chunk(store, page, false, report)?);
        }
        if still.len() == before {
            for chunk in still.chunks(ctx.config.sync.batch_size) {
                let page = store.cs_by_ids(chunk)?;
                pass.process_chunk(store, page, true, report)?;
            }
            break;
        }
        deferred = still;
    }
    Ok(())
}

/// One inbound pass over a connector's changed objects: its rules, and what the pass has
/// learned so far (links made, identity ids reserved).
struct InboundPass<'p, 'c> {
    ctx: &'p RunContext<'c>,
    rules: Vec<&'p InboundRule>,
    /// Outbound rules of this connector with join rules: they recognise existing accounts.
    outbound: Vec<&'p OutboundRule>,
    ids: &'p mut IdPool,
    references: ReferenceCache,
}

impl InboundPass<'_, '_> {
    /// Processes one page of objects and commits its writes. Returns the objects deferred
    /// because a reference could not be resolved yet.
    fn process_chunk(
        &mut self,
        store: &mut dyn Store,
        page: Vec<CsObject>,
        last_pass: bool,
        report: &mut RunReport,
    ) -> Result<Vec<CsId>, EngineError> {
        let ctx = self.ctx;
        let mut chunk = Chunk {
            batch: WriteBatch::new(),
            identities: IdentityCache::new(),
            new_keys: HashMap::new(),
        };
        let linked: Vec<IdentityId> = page
            .iter()
            .filter_map(|cs| cs.link.as_ref().map(|l| l.identity))
            .collect();
        chunk.identities.preload(store, &linked)?;
        let mut deferred = Vec::new();
        for cs in page {
            let name = cs.connector.clone();
            let object = describe(&cs);
            match self.process_object(store, cs, last_pass, &mut chunk, report) {
                Ok(Processed::Done) => {}
                Ok(Processed::Deferred(id)) => deferred.push(id),
                Err(ObjectFailure::Object(message)) => {
                    report.error(Phase::Inbound, &name, object, message)
                }
                Err(ObjectFailure::Run(e)) => return Err(e),
            }
        }
        chunk.identities.flush(&ctx.keys, &mut chunk.batch);
        store.commit(chunk.batch)?;
        Ok(deferred)
    }
}

enum Processed {
    Done,
    /// Left dirty for a second pass: a reference could not be resolved yet.
    Deferred(CsId),
}

enum ObjectFailure {
    /// This object could not be processed; it stays dirty and the run goes on.
    Object(String),
    Run(EngineError),
}

impl From<EngineError> for ObjectFailure {
    fn from(e: EngineError) -> Self {
        ObjectFailure::Run(e)
    }
}

impl From<store::StoreError> for ObjectFailure {
    fn from(e: store::StoreError) -> Self {
        ObjectFailure::Run(e.into())
    }
}

fn describe(cs: &CsObject) -> String {
    match &cs.anchor {
        Some(anchor) => format!("{}/{}", cs.connector, anchor),
        None => format!("{}/(pending create #{})", cs.connector, cs.id.0),
    }
}

/// Anchors of this connector's objects → the identity each is linked to, for resolving
/// references. Links made in this run are recorded as they are made, so a reference to an
/// object processed earlier in the same (uncommitted) chunk resolves.
#[derive(Default)]
struct ReferenceCache {
    /// Identities by the anchor of this connector's objects linked to them.
    linked: HashMap<String, IdentityId>,
    /// Attributes whose references are anchors of another connector (a groups file whose
    /// members are HR employee ids), with that connector.
    refers: HashMap<AttributeName, ConnectorName>,
    /// Identities by (other connector, anchor), once found.
    elsewhere: HashMap<(ConnectorName, String), IdentityId>,
}

impl ReferenceCache {
    fn record(&mut self, anchor: &model::Anchor, identity: IdentityId) {
        self.linked.insert(anchor.to_string(), identity);
    }
}

/// Turns references to other objects of the same connector into references to their
/// identities. Returns `None` when some reference cannot be resolved yet.
fn resolve_references(
    store: &dyn Store,
    cs: &CsObject,
    cache: &mut ReferenceCache,
    drop_unresolved: bool,
) -> Result<Option<Attributes>, EngineError> {
    if !cs
        .attributes
        .iter()
        .any(|(_, values)| values.iter().any(|v| matches!(v, Value::Reference(_))))
    {
        return Ok(Some(cs.attributes.clone()));
    }
    let mut resolved = Attributes::new();
    for (name, values) in cs.attributes.iter() {
        let mut out = Vec::with_capacity(values.len());
        for value in values {
            let Value::Reference(anchor) = value else {
                out.push(value.clone());
                continue;
            };
            let identity = match (cache.refers.get(name), cache.linked.get(anchor)) {
                (Some(target), _) => {
                    let key = (target.clone(), anchor.clone());
                    match cache.elsewhere.get(&key) {
                        Some(found) => Some(*found),
                        None => {
                            let found = store
                                .cs_by_anchor(target, &anchor.as_str().into())?
                                .and_then(|object| object.link)
                                .map(|link| link.identity);
                            if let Some(id) = found {
                                cache.elsewhere.insert(key, id);
                            }
                            found
                        }
                    }
                }
                (None, Some(found)) => Some(*found),
                (None, None) => {
                    let found = store
                        .cs_by_anchor(&cs.connector, &anchor.as_str().into())?
                        .and_then(|target| target.link)
                        .map(|link| link.identity);
                    if let Some(id) = found {
                        cache.linked.insert(anchor.clone(), id);
                    }
                    found
                }
            };
            match identity {
                Some(id) => out.push(Value::Reference(id.to_string())),
                None if drop_unresolved => {}
                None => return Ok(None),
            }
        }
        resolved.set(name.clone(), out);
    }
    Ok(Some(resolved))
}

impl InboundPass<'_, '_> {
    fn process_object(
        &mut self,
        store: &mut dyn Store,
        cs: CsObject,
        last_pass: bool,
        chunk: &mut Chunk,
        report: &mut RunReport,
    ) -> Result<Processed, ObjectFailure> {
        let InboundPass {
            ctx,
            rules,
            outbound,
            ids,
            references,
        } = self;
        let ctx = *ctx;
        let name = cs.connector.clone();
        // A target account changed in its system: its identity decides whether to put it back.
        if let Some(link) = &cs.link
            && link.direction == LinkDirection::Outbound
        {
            let identity = link.identity;
            if let Some(record) = chunk.identities.get(store, identity)? {
                record.dirty = true;
                chunk.identities.touch(identity);
            }
            chunk.batch.push(Write::CleanCs(cs.id));
            report.connector(&name).inbound.unchanged += 1;
            return Ok(Processed::Done);
        }
        let Some(anchor) = cs.anchor.clone() else {
            chunk.batch.push(Write::CleanCs(cs.id));
            return Ok(Processed::Done);
        };
        let Some(attributes) = resolve_references(store, &cs, references, last_pass)? else {
            return Ok(Processed::Deferred(cs.id));
        };
        let eval = ctx.eval();
        let rule =
            rule_for(rules, &cs.object_type, &attributes, &eval).map_err(ObjectFailure::Object)?;

        match (cs.link.clone(), rule) {
            (Some(link), Some(rule)) => {
                let source = SourceLink {
                    connector: name.clone(),
                    anchor: anchor.clone(),
                    rule: rule.name.clone(),
                };
                let Some(record) = chunk.identities.get(store, link.identity)? else {
                    // The identity is gone (deleted by a concurrent change): treat as unlinked.
                    chunk.batch.push(Write::SetLink {
                        id: cs.id,
                        link: None,
                    });
                    return Ok(Processed::Done);
                };
                let values = offered(rule, &attributes, &source, Some(&record.identity), &eval)
                    .map_err(|e| ObjectFailure::Object(e.to_string()))?;
                let had_source = record.identity.sources.contains(&source);
                let changes = record
                    .identity
                    .contribute(&source, values, ctx.run, ctx.now);
                let id = record.identity.id;
                if !changes.is_empty() || !had_source {
                    record.dirty = true;
                    chunk.batch.push(Write::AppendHistory(HistoryEntry {
                        identity: id,
                        run: ctx.run,
                        at: ctx.now,
                        event: format!("updated from {name}/{anchor} by {}", rule.name),
                        changes,
                    }));
                    chunk.identities.touch(id);
                    report.connector(&name).inbound.updated += 1;
                } else {
                    report.connector(&name).inbound.unchanged += 1;
                }
                if link.rule != rule.name {
                    chunk.batch.push(Write::SetLink {
                        id: cs.id,
                        link: Some(Link {
                            rule: rule.name.clone(),
                            ..link
                        }),
                    });
                } else {
                    chunk.batch.push(Write::CleanCs(cs.id));
                }
            }
            (Some(link), None) => {
                // No rule wants the object any more: it stops being a source.
                if let Some(record) = chunk.identities.get(store, link.identity)? {
                    let changes = record.identity.disconnect(&name, &anchor, ctx.run);
                    record.dirty = true;
                    chunk.batch.push(Write::AppendHistory(HistoryEntry {
                        identity: link.identity,
                        run: ctx.run,
                        at: ctx.now,
                        event: format!(
                            "{name}/{anchor} left the scope of {}; disconnected",
                            link.rule
                        ),
                        changes,
                    }));
                    chunk.identities.touch(link.identity);
                }
                report.connector(&name).inbound.disconnected += 1;
                chunk.batch.push(Write::SetLink {
                    id: cs.id,
                    link: None,
                });
            }
            (None, Some(rule)) => {
                let decision = join(
                    ctx,
                    store,
                    chunk,
                    &rule.join,
                    &rule.vault_type,
                    &attributes,
                    Some((&name, &anchor)),
                )?;
                let source = SourceLink {
                    connector: name.clone(),
                    anchor: anchor.clone(),
                    rule: rule.name.clone(),
                };
                let (id, event) = match decision {
                    JoinDecision::Joined {
                        identity,
                        rule: index,
                    } => {
                        report.connector(&name).inbound.joined += 1;
                        (
                            identity,
                            format!(
                                "joined {name}/{anchor} by {} (join rule {} on {})",
                                rule.name,
                                index + 1,
                                rule.join[index].vault
                            ),
                        )
                    }
                    JoinDecision::Ambiguous {
                        rule: index,
                        candidates,
                    } => {
                        let list: Vec<String> = candidates.iter().map(|c| c.to_string()).collect();
                        return Err(ObjectFailure::Object(format!(
                            "join rule {} of {} on {} matches {} identities ({}); not joined and not projected",
                            index + 1,
                            rule.name,
                            rule.join[index].vault,
                            candidates.len(),
                            list.join(", ")
                        )));
                    }
                    JoinDecision::NoMatch if rule.project => {
                        let id = ids.next(store)?;
                        chunk.identities.insert(IdentityRecord {
                            identity: Identity::new(id, rule.vault_type.clone(), ctx.run),
                            dirty: true,
                        });
                        report.connector(&name).inbound.projected += 1;
                        (
                            id,
                            format!("projected from {name}/{anchor} by {}", rule.name),
                        )
                    }
                    JoinDecision::NoMatch => {
                        // A disconnector: kept in the connector space, linked to nothing.
                        report.connector(&name).inbound.unchanged += 1;
                        chunk.batch.push(Write::CleanCs(cs.id));
                        return Ok(Processed::Done);
                    }
                };
                let Some(record) = chunk.identities.get(store, id)? else {
                    return Err(ObjectFailure::Object(format!(
                        "identity {id} vanished while joining"
                    )));
                };
                let values = offered(rule, &attributes, &source, Some(&record.identity), &eval)
                    .map_err(|e| ObjectFailure::Object(e.to_string()))?;
                let changes = record
                    .identity
                    .contribute(&source, values, ctx.run, ctx.now);
                record.dirty = true;
                for (key_name, key) in ctx.keys.identity_keys(&record.identity) {
                    chunk.new_keys.entry((key_name, key)).or_default().push(id);
                }
                chunk.identities.touch(id);
                chunk.batch.push(Write::AppendHistory(HistoryEntry {
                    identity: id,
                    run: ctx.run,
                    at: ctx.now,
                    event,
                    changes,
                }));
                references.record(&anchor, id);
                chunk.batch.push(Write::SetLink {
                    id: cs.id,
                    link: Some(Link {
                        identity: id,
                        rule: rule.name.clone(),
                        direction: LinkDirection::Inbound,
                        at: ctx.now,
                    }),
                });
            }
            (None, None) => {
                join_target(ctx, store, chunk, outbound, cs, &attributes, report)?;
            }
        }
        Ok(Processed::Done)
    }
}

/// Finds the identity an object joins, by the ordered join rules. Candidates must be of the
/// rule's identity type and must not already have a connected source in this connector
/// (one identity, one object per source).
fn join(
    ctx: &RunContext<'_>,
    store: &mut dyn Store,
    chunk: &mut Chunk,
    join_rules: &[JoinRule],
    vault_type: &ObjectType,
    attributes: &Attributes,
    source: Option<(&ConnectorName, &model::Anchor)>,
) -> Result<JoinDecision, ObjectFailure> {
    let eval = ctx.eval();
    let mut per_rule = Vec::with_capacity(join_rules.len());
    for rule in join_rules {
        let mut candidates = Vec::new();
        let by_id = rule.vault.as_str().eq_ignore_ascii_case(IDENTITY_ID);
        for key in keys(rule, attributes, &eval).map_err(ObjectFailure::Object)? {
            if by_id {
                // `identityId` is not stored as an attribute: the key is the id itself.
                if let Ok(id) = key.to_uppercase().parse::<IdentityId>() {
                    candidates.push(id);
                }
                continue;
            }
            candidates.extend(store.find_identities(&rule.vault, &key)?);
            if let Some(new) = chunk.new_keys.get(&(rule.vault.clone(), key)) {
                candidates.extend(new.iter().copied());
            }
        }
        candidates.sort();
        candidates.dedup();
        let mut eligible = Vec::new();
        for id in candidates {
            let Some(record) = chunk.identities.get(store, id)? else {
                continue;
            };
            if &record.identity.object_type != vault_type {
                continue;
            }
            if let Some((connector, anchor)) = source
                && record
                    .identity
                    .sources
                    .iter()
                    .any(|s| &s.connector == connector && &s.anchor != anchor)
            {
                continue;
            }
            eligible.push(id);
        }
        per_rule.push(eligible);
    }
    Ok(decide(&per_rule))
}

/// An object no inbound rule reads may be an existing account of an identity in a target:
/// outbound rules with join rules recognise it, so an account created before idsync (or a
/// create whose outcome was lost in a crash) is linked instead of created again.
fn join_target(
    ctx: &RunContext<'_>,
    store: &mut dyn Store,
    chunk: &mut Chunk,
    outbound: &[&OutboundRule],
    cs: CsObject,
    attributes: &Attributes,
    report: &mut RunReport,
) -> Result<(), ObjectFailure> {
    let name = cs.connector.clone();
    for rule in outbound.iter().filter(|r| r.target_type == cs.object_type) {
        let JoinDecision::Joined { identity, .. } = join(
            ctx,
            store,
            chunk,
            &rule.join,
            &rule.vault_type,
            attributes,
            None,
        )?
        else {
            continue;
        };
        let existing: Vec<CsObject> = store
            .cs_linked_to(&[identity])?
            .into_iter()
            .filter(|other| other.connector == name && other.id != cs.id)
            .collect();
        if existing.iter().any(|other| other.anchor.is_some()) {
            // The identity already has an account here; this one is someone else's problem.
            continue;
        }
        for placeholder in existing {
            chunk.batch.push(Write::DeleteCs(placeholder.id));
        }
        if let Some(record) = chunk.identities.get(store, identity)? {
            record.dirty = true;
            chunk.identities.touch(identity);
        }
        chunk.batch.push(Write::AppendHistory(HistoryEntry {
            identity,
            run: ctx.run,
            at: ctx.now,
            event: format!(
                "account {}/{} joined by {}",
                name,
                cs.anchor.as_ref().map(|a| a.as_str()).unwrap_or("?"),
                rule.name
            ),
            changes: vec![],
        }));
        report.connector(&name).inbound.joined_outbound += 1;
        chunk.batch.push(Write::SetLink {
            id: cs.id,
            link: Some(Link {
                identity,
                rule: rule.name.clone(),
                direction: LinkDirection::Outbound,
                at: ctx.now,
            }),
        });
        return Ok(());
    }
    report.connector(&name).inbound.unchanged += 1;
    chunk.batch.push(Write::CleanCs(cs.id));
    Ok(())
}
