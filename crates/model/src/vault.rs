//! The identity vault's records: one identity per person or group, each attribute with the
//! candidate values every source offered and the lineage of the one that won.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    Anchor, AttributeName, Attributes, ConnectorName, IdentityId, ObjectType, RuleName, RunId,
    Timestamp, Value,
};

/// Where a value came from: which connector object, through which rule, in which run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lineage {
    pub connector: ConnectorName,
    pub anchor: Anchor,
    pub rule: RuleName,
    pub run: RunId,
    #[serde(with = "crate::timestamp_compact")]
    pub at: Timestamp,
}

/// The values one source offers for one attribute of an identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    pub values: Vec<Value>,
    /// Lower wins.
    pub precedence: i32,
    pub lineage: Lineage,
    /// False once the source object is gone: the value is kept (so a rehire rejoins and the
    /// history stays explainable) but any connected source beats it.
    pub connected: bool,
}

impl Contribution {
    /// The order of precedence: connected sources first, then the lower precedence number,
    /// then the earlier contribution, so the outcome never depends on processing order.
    fn rank(&self) -> (bool, i32, &ConnectorName, &Anchor) {
        (
            !self.connected,
            self.precedence,
            &self.lineage.connector,
            &self.lineage.anchor,
        )
    }
}

/// One attribute of an identity: every candidate, the winner first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VaultAttribute {
    contributions: Vec<Contribution>,
}

impl VaultAttribute {
    pub fn winner(&self) -> Option<&Contribution> {
        self.contributions.first()
    }

    pub fn values(&self) -> &[Value] {
        self.winner().map(|c| c.values.as_slice()).unwrap_or(&[])
    }

    /// The candidates that lost on precedence.
    pub fn losers(&self) -> &[Contribution] {
        self.contributions.get(1..).unwrap_or(&[])
    }

    pub fn contributions(&self) -> &[Contribution] {
        &self.contributions
    }

    /// Puts the contribution of one source object, replacing its earlier one.
    fn offer(&mut self, contribution: Contribution) {
        self.withdraw(
            &contribution.lineage.connector,
            &contribution.lineage.anchor,
        );
        self.contributions.push(contribution);
        self.contributions.sort_by(|a, b| a.rank().cmp(&b.rank()));
    }

    fn withdraw(&mut self, connector: &ConnectorName, anchor: &Anchor) -> bool {
        let before = self.contributions.len();
        self.contributions
            .retain(|c| !(&c.lineage.connector == connector && &c.lineage.anchor == anchor));
        before != self.contributions.len()
    }

    fn disconnect(&mut self, connector: &ConnectorName, anchor: &Anchor) {
        for c in &mut self.contributions {
            if &c.lineage.connector == connector && &c.lineage.anchor == anchor {
                c.connected = false;
            }
        }
        self.contributions.sort_by(|a, b| a.rank().cmp(&b.rank()));
    }
}

/// What one source offers for one attribute, at what precedence (lower wins).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    pub attribute: AttributeName,
    pub values: Vec<Value>,
    pub precedence: i32,
}

impl Offer {
    pub fn new(attribute: &str, values: Vec<Value>, precedence: i32) -> Self {
        Offer {
            attribute: AttributeName::new(attribute),
            values,
            precedence,
        }
    }
}

/// A connector-space object that feeds an identity through an inbound rule.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceLink {
    pub connector: ConnectorName,
    pub anchor: Anchor,
    pub rule: RuleName,
}

/// One identity in the vault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub id: IdentityId,
    pub object_type: ObjectType,
    pub attributes: BTreeMap<AttributeName, VaultAttribute>,
    /// The source objects currently joined to this identity. When the last one goes, the
    /// identity leaves the scope of every outbound rule and is deprovisioned.
    pub sources: Vec<SourceLink>,
    pub created_run: RunId,
    pub updated_run: RunId,
}

impl Identity {
    pub fn new(id: IdentityId, object_type: ObjectType, run: RunId) -> Self {
        Self {
            id,
            object_type,
            attributes: BTreeMap::new(),
            sources: Vec::new(),
            created_run: run,
            updated_run: run,
        }
    }

    pub fn values(&self, name: &AttributeName) -> &[Value] {
        self.attributes
            .get(name)
            .map(VaultAttribute::values)
            .unwrap_or(&[])
    }

    pub fn attribute(&self, name: &AttributeName) -> Option<&VaultAttribute> {
        self.attributes.get(name)
    }

    /// The winning values of every attribute, as a flow sees them.
    pub fn current_attributes(&self) -> Attributes {
        self.attributes
            .iter()
            .map(|(name, attr)| (name.clone(), attr.values().to_vec()))
            .collect()
    }

    pub fn has_source(&self) -> bool {
        !self.sources.is_empty()
    }

    /// Records what one source object offers now, attribute by attribute: offered attributes
    /// replace that source's earlier contribution, attributes it no longer offers are withdrawn.
    /// Returns the attributes whose winning values changed.
    pub fn contribute(
        &mut self,
        source: &SourceLink,
        offered: Vec<Offer>,
        run: RunId,
        at: Timestamp,
    ) -> Vec<AttributeValueChange> {
        // Only the attributes this source offers or offered can change.
        let mut touched: Vec<AttributeName> = offered.iter().map(|o| o.attribute.clone()).collect();
        touched.extend(self.attributes_from(&source.connector, &source.anchor));
        let before = self.snapshot(touched);
        if !self.sources.contains(source) {
            self.sources.push(source.clone());
            self.sources.sort();
        }
        let lineage = Lineage {
            connector: source.connector.clone(),
            anchor: source.anchor.clone(),
            rule: source.rule.clone(),
            run,
            at,
        };
        // Keep the lineage of values this source offers unchanged, so lineage says when a
        // value was set, not when it was last re-read.
        let mut previous: BTreeMap<AttributeName, Lineage> = BTreeMap::new();
        for (name, attr) in self.attributes.iter_mut() {
            if let Some(c) = attr.contributions.iter().find(|c| {
                c.lineage.connector == source.connector
                    && c.lineage.anchor == source.anchor
                    && c.connected
            }) && offered
                .iter()
                .any(|o| &o.attribute == name && o.values == c.values)
            {
                previous.insert(name.clone(), c.lineage.clone());
            }
            attr.withdraw(&source.connector, &source.anchor);
        }
        for Offer {
            attribute,
            values,
            precedence,
        } in offered
        {
            if values.is_empty() {
                continue;
            }
            let lineage = previous
                .remove(&attribute)
                .unwrap_or_else(|| lineage.clone());
            self.attributes
                .entry(attribute)
                .or_default()
                .offer(Contribution {
                    values,
                    precedence,
                    lineage,
                    connected: true,
                });
        }
        self.finish_change(before, run)
    }

    /// Marks a source object as gone: its values stay, marked disconnected, and lose to any
    /// connected source. Returns the attributes whose winning values changed.
    pub fn disconnect(
        &mut self,
        connector: &ConnectorName,
        anchor: &Anchor,
        run: RunId,
    ) -> Vec<AttributeValueChange> {
        let before = self.snapshot(self.attributes_from(connector, anchor));
        self.sources
            .retain(|s| !(&s.connector == connector && &s.anchor == anchor));
        for attr in self.attributes.values_mut() {
            attr.disconnect(connector, anchor);
        }
        self.finish_change(before, run)
    }

    /// The attributes one source object contributes to.
    fn attributes_from(&self, connector: &ConnectorName, anchor: &Anchor) -> Vec<AttributeName> {
        self.attributes
            .iter()
            .filter(|(_, a)| {
                a.contributions
                    .iter()
                    .any(|c| &c.lineage.connector == connector && &c.lineage.anchor == anchor)
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The winning values of some attributes, before a change.
    fn snapshot(&self, mut names: Vec<AttributeName>) -> Vec<(AttributeName, Vec<Value>)> {
        names.sort();
        names.dedup();
        names
            .into_iter()
            .map(|name| {
                let values = self.values(&name).to_vec();
                (name, values)
            })
            .collect()
    }

    fn finish_change(
        &mut self,
        before: Vec<(AttributeName, Vec<Value>)>,
        run: RunId,
    ) -> Vec<AttributeValueChange> {
        self.attributes.retain(|_, a| !a.contributions.is_empty());
        let changes: Vec<AttributeValueChange> = before
            .into_iter()
            .filter_map(|(attribute, old)| {
                let new = self.values(&attribute);
                (old.as_slice() != new).then(|| AttributeValueChange {
                    new: new.to_vec(),
                    lineage: self
                        .attribute(&attribute)
                        .and_then(|a| a.winner())
                        .map(|w| w.lineage.clone()),
                    attribute,
                    old,
                })
            })
            .collect();
        if !changes.is_empty() {
            self.updated_run = run;
        }
        changes
    }
}

/// How one attribute of an identity changed, for history and plans.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeValueChange {
    pub attribute: AttributeName,
    pub old: Vec<Value>,
    pub new: Vec<Value>,
    /// The lineage of the new winning value, if any.
    pub lineage: Option<Lineage>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(connector: &str, anchor: &str) -> SourceLink {
        SourceLink {
            connector: connector.into(),
            anchor: anchor.into(),
            rule: format!("{connector}-rule").into(),
        }
    }

    fn at() -> Timestamp {
        "2024-01-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn lower_precedence_wins_per_attribute_and_losers_are_kept() {
        let mut identity = Identity::new(IdentityId(1), "person".into(), RunId(1));
        identity.contribute(
            &link("hr", "E1"),
            vec![Offer::new("title", vec!["Engineer".into()], 10)],
            RunId(1),
            at(),
        );
        identity.contribute(
            &link("contractors", "C1"),
            vec![
                Offer::new("title", vec!["Consultant".into()], 20),
                Offer::new("mobile", vec!["+44 1".into()], 20),
            ],
            RunId(1),
            at(),
        );
        let title = AttributeName::new("title");
        assert_eq!(identity.values(&title), &[Value::from("Engineer")]);
        assert_eq!(
            identity.attribute(&title).unwrap().losers()[0]
                .lineage
                .connector
                .as_str(),
            "contractors"
        );
        assert_eq!(identity.values(&"mobile".into()), &[Value::from("+44 1")]);
    }

    #[test]
    fn a_disconnected_source_keeps_its_values_until_a_connected_one_offers() {
        let mut identity = Identity::new(IdentityId(1), "person".into(), RunId(1));
        identity.contribute(
            &link("hr", "E1"),
            vec![Offer::new("employeeId", vec!["E1".into()], 10)],
            RunId(1),
            at(),
        );
        let changes = identity.disconnect(&"hr".into(), &"E1".into(), RunId(2));
        assert!(changes.is_empty());
        assert!(!identity.has_source());
        assert_eq!(identity.values(&"employeeId".into()), &[Value::from("E1")]);
        identity.contribute(
            &link("hr", "E1"),
            vec![Offer::new("employeeId", vec!["E1".into()], 10)],
            RunId(3),
            at(),
        );
        assert!(identity.has_source());
        assert!(
            identity
                .attribute(&"employeeId".into())
                .unwrap()
                .winner()
                .unwrap()
                .connected
        );
    }

    #[test]
    fn a_source_that_stops_offering_an_attribute_withdraws_it() {
        let mut identity = Identity::new(IdentityId(1), "person".into(), RunId(1));
        identity.contribute(
            &link("hr", "E1"),
            vec![
                Offer::new("title", vec!["A".into()], 10),
                Offer::new("dept", vec!["X".into()], 10),
            ],
            RunId(1),
            at(),
        );
        let changes = identity.contribute(
            &link("hr", "E1"),
            vec![Offer::new("title", vec!["A".into()], 10)],
            RunId(2),
            at(),
        );
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].attribute, AttributeName::new("dept"));
        assert!(identity.attribute(&"dept".into()).is_none());
    }
}
