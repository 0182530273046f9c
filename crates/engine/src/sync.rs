//! What the drivers share within one run: the run's context, the key indexes, and the
//! handling of a connector-space object that disappeared.

use std::collections::HashMap;

use config::Config;
use expr::EvalContext;
use model::vault::Identity;
use model::{AttributeName, ConnectorName, IdentityId, RuleName, RunId, Timestamp};
use store::{CsObject, HistoryEntry, IdentityRecord, LinkDirection, Store, Write, WriteBatch};

use crate::EngineError;
use crate::join::key_text;

/// The facts every stage of one run reads.
pub(crate) struct RunContext<'c> {
    pub config: &'c Config,
    pub run: RunId,
    pub now: Timestamp,
    pub keys: Keys,
    /// Per outbound rule, the attributes its target holds several values of (computed once
    /// per run, not once per identity).
    multi_valued: HashMap<RuleName, Vec<AttributeName>>,
}

impl<'c> RunContext<'c> {
    pub fn new(config: &'c Config, run: RunId, now: Timestamp) -> Self {
        RunContext {
            config,
            run,
            now,
            keys: Keys::from_config(config),
            multi_valued: config
                .outbound
                .iter()
                .map(|rule| {
                    let names =
                        crate::connectors::multi_valued(config, &rule.connector, &rule.target_type);
                    (rule.name.clone(), names)
                })
                .collect(),
        }
    }

    /// The attributes the target of `rule` holds several values of.
    pub fn multi_valued(&self, rule: &RuleName) -> &[AttributeName] {
        self.multi_valued.get(rule).map_or(&[], Vec::as_slice)
    }

    /// The evaluation context of expressions in this run. The seed is the run id, so random
    /// functions are reproducible for a given run.
    pub fn eval(&self) -> EvalContext<'_> {
        let mut ctx = EvalContext::new(self.now);
        ctx.seed = self.run.0 as u64;
        ctx
    }

    /// The evaluation context for one identity: random functions (`RandomString` for an
    /// initial password, `Guid`) differ per identity and per run, and repeat for the same
    /// identity in the same run.
    pub fn eval_for(&self, identity: IdentityId) -> EvalContext<'_> {
        let mut ctx = self.eval();
        ctx.seed = (self.run.0 as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ (identity.0 as u64).rotate_left(32);
        ctx
    }
}

/// Which attributes are indexed: identity attributes that join rules look up, and target
/// attributes whose uniqueness a flow asks about.
pub(crate) struct Keys {
    identity: Vec<AttributeName>,
    cs: HashMap<ConnectorName, Vec<AttributeName>>,
}

impl Keys {
    fn from_config(config: &Config) -> Self {
        let mut identity: Vec<AttributeName> = config
            .inbound
            .iter()
            .flat_map(|r| r.join.iter())
            .chain(config.outbound.iter().flat_map(|r| r.join.iter()))
            .map(|j| j.vault.clone())
            .collect();
        identity.sort();
        identity.dedup();
        let mut cs: HashMap<ConnectorName, Vec<AttributeName>> = HashMap::new();
        for rule in &config.outbound {
            for flow in &rule.flows {
                // SelectUniqueValue may only be the outermost function, so this finds them all.
                if flow.expr.top_function() == Some("SelectUniqueValue") {
                    cs.entry(rule.connector.clone())
                        .or_default()
                        .push(flow.target.clone());
                }
            }
        }
        Keys { identity, cs }
    }

    pub fn identity_keys(&self, identity: &Identity) -> Vec<(AttributeName, String)> {
        self.identity
            .iter()
            .flat_map(|name| {
                identity
                    .values(name)
                    .iter()
                    .map(move |v| (name.clone(), key_text(&v.to_text())))
            })
            .filter(|(_, k)| !k.is_empty())
            .collect()
    }

    /// The indexed (attribute, value) pairs of an image bound for `connector`.
    pub fn cs_keys_of(
        &self,
        connector: &ConnectorName,
        attributes: &model::Attributes,
    ) -> Vec<(AttributeName, String)> {
        let Some(names) = self.cs.get(connector) else {
            return Vec::new();
        };
        names
            .iter()
            .flat_map(|name| {
                attributes
                    .get(name)
                    .unwrap_or(&[])
                    .iter()
                    .map(move |v| (name.clone(), key_text(&v.to_text())))
            })
            .collect()
    }

    pub fn cs_keys(&self, cs: &CsObject) -> Vec<(AttributeName, String)> {
        self.cs_keys_of(&cs.connector, &cs.attributes)
    }
}

/// Identities loaded while building one batch, so two changes to the same identity in one
/// batch see each other. Only identities marked with [`IdentityCache::touch`] are written back.
pub(crate) struct IdentityCache {
    loaded: HashMap<IdentityId, (IdentityRecord, bool)>,
}

impl IdentityCache {
    pub fn new() -> Self {
        IdentityCache {
            loaded: HashMap::new(),
        }
    }

    pub fn get(
        &mut self,
        store: &dyn Store,
        id: IdentityId,
    ) -> Result<Option<&mut IdentityRecord>, EngineError> {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.loaded.entry(id) {
            match store.identities(&[id])?.pop() {
                Some(record) => {
                    slot.insert((record, false));
                }
                None => return Ok(None),
            }
        }
        Ok(self.loaded.get_mut(&id).map(|(record, _)| record))
    }

    /// Loads many identities with one query.
    pub fn preload(&mut self, store: &dyn Store, ids: &[IdentityId]) -> Result<(), EngineError> {
        let mut missing: Vec<IdentityId> = ids
            .iter()
            .copied()
            .filter(|id| !self.loaded.contains_key(id))
            .collect();
        missing.sort();
        missing.dedup();
        if !missing.is_empty() {
            for record in store.identities(&missing)? {
                self.loaded.insert(record.identity.id, (record, false));
            }
        }
        Ok(())
    }

    /// Adds a new identity (written back).
    pub fn insert(&mut self, record: IdentityRecord) {
        self.loaded.insert(record.identity.id, (record, true));
    }

    /// Marks an identity as changed, to be written back.
    pub fn touch(&mut self, id: IdentityId) {
        if let Some((_, modified)) = self.loaded.get_mut(&id) {
            *modified = true;
        }
    }

    /// Writes every changed identity into the batch (with its keys) and empties the cache.
    pub fn flush(&mut self, keys: &Keys, batch: &mut WriteBatch) {
        for (_, (record, modified)) in self.loaded.drain() {
            if modified {
                let identity_keys = keys.identity_keys(&record.identity);
                batch.push(Write::PutIdentity {
                    record,
                    keys: identity_keys,
                });
            }
        }
    }
}

/// A connector-space object is gone from its system. A source's identity keeps the values
/// (marked disconnected) and is re-evaluated by outbound sync, which deprovisions what the
/// rules say; a target object's identity is re-evaluated so a missing account is noticed.
pub(crate) fn obsolete(
    ctx: &RunContext<'_>,
    store: &dyn Store,
    cs: &CsObject,
    identities: &mut IdentityCache,
    batch: &mut WriteBatch,
) -> Result<(), EngineError> {
    if let Some(link) = &cs.link {
        if let Some(record) = identities.get(store, link.identity)? {
            if link.direction == LinkDirection::Inbound
                && let Some(anchor) = &cs.anchor
            {
                let changes = record.identity.disconnect(&cs.connector, anchor, ctx.run);
                batch.push(Write::AppendHistory(HistoryEntry {
                    identity: record.identity.id,
                    run: ctx.run,
                    at: ctx.now,
                    event: format!(
                        "source {}/{} deleted; its values are kept as disconnected",
                        cs.connector, anchor
                    ),
                    changes,
                }));
            }
            record.dirty = true;
        }
        identities.touch(link.identity);
    }
    batch.push(Write::DeleteCs(cs.id));
    Ok(())
}
