//! Outbound sync: what an identity's account in a target should look like, and the change
//! that gets it there.

use config::{DeprovisionAction, FlowWhen, OutboundRule};
use expr::{AttributeSource, EvalContext, Outcome, UniquenessOracle};
use model::vault::Identity;
use model::{AttributeChange, AttributeName, Attributes, Timestamp, Value};
use store::{ChangeReason, CsObject};

use crate::diff::{AttributeDiff, diff, diff_with};
use crate::inbound::FlowError;

/// The image an outbound rule wants in the target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Desired {
    pub attributes: Attributes,
    /// The attributes the rule manages for this object (flows that were not dropped).
    pub managed: Vec<AttributeName>,
    /// Managed attributes the target refuses for this object, and why (a user synchronized
    /// from on-premises AD, whose names Entra only takes from AD).
    pub withheld: Option<Withheld>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Withheld {
    pub attributes: Vec<AttributeName>,
    pub reason: String,
}

impl Desired {
    /// Stops managing the attributes the target refuses for this object.
    pub fn withhold(&mut self, attributes: Vec<AttributeName>, reason: &str) {
        let withheld: Vec<AttributeName> = self
            .managed
            .iter()
            .filter(|m| attributes.contains(m))
            .cloned()
            .collect();
        if withheld.is_empty() {
            return;
        }
        self.managed.retain(|m| !withheld.contains(m));
        self.withheld = Some(Withheld {
            attributes: withheld,
            reason: reason.to_owned(),
        });
    }
}

/// Whether the image is for a create (all flows) or an existing object (only `always` flows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Create,
    Update,
}

/// Answers `SelectUniqueValue` for a target: is this value of this attribute free?
pub trait TargetUniqueness {
    fn is_unique(&self, attribute: &AttributeName, candidate: &str) -> bool;
}

/// The oracle of one flow: the target's answer for the flow's attribute.
struct FlowUniqueness<'a> {
    target: &'a dyn TargetUniqueness,
    attribute: &'a AttributeName,
}

impl UniquenessOracle for FlowUniqueness<'_> {
    fn is_unique(&self, candidate: &str) -> bool {
        self.target.is_unique(self.attribute, candidate)
    }
}

/// The image the rule wants. `uniqueness` answers `SelectUniqueValue` from the target; it is
/// asked only for a create, as Entra does: an existing object's value is its own.
pub fn desired(
    rule: &OutboundRule,
    source: &dyn AttributeSource,
    purpose: Purpose,
    ctx: &EvalContext<'_>,
    uniqueness: Option<&dyn TargetUniqueness>,
) -> Result<Desired, FlowError> {
    let mut desired = Desired::default();
    for flow in &rule.flows {
        if flow.when == FlowWhen::Create && purpose == Purpose::Update {
            continue;
        }
        let oracle = uniqueness.map(|target| FlowUniqueness {
            target,
            attribute: &flow.target,
        });
        let mut flow_ctx = *ctx;
        if purpose == Purpose::Create
            && let Some(oracle) = &oracle
        {
            flow_ctx.uniqueness = Some(oracle);
        }
        match flow.expr.evaluate(source, &flow_ctx) {
            Ok(Outcome::Values(values)) => {
                // An empty string is no value: `IIF(…, "E3", "")` means "no license", and a
                // target that stores nothing must not look different from one that stores "".
                let values = values.into_iter().filter(|v| !v.is_empty()).collect();
                desired.attributes.set(flow.target.clone(), values);
                desired.managed.push(flow.target.clone());
            }
            Ok(Outcome::Ignored) => {}
            Err(e) => {
                return Err(FlowError {
                    attribute: flow.target.clone(),
                    message: e.message,
                });
            }
        }
    }
    Ok(desired)
}

/// Whether an identity is in a rule's scope: it still has a source, it is of the rule's type,
/// and the scope filter (if any) is true.
pub fn in_scope(
    identity: &Identity,
    rule: &OutboundRule,
    source: &dyn AttributeSource,
    ctx: &EvalContext<'_>,
) -> Result<Scope, String> {
    if identity.object_type != rule.vault_type {
        return Ok(Scope::Out(format!(
            "{} is a {}, not a {}",
            identity.id, identity.object_type, rule.vault_type
        )));
    }
    if !identity.has_source() {
        return Ok(Scope::Out(format!(
            "{} has no source any more",
            identity.id
        )));
    }
    match &rule.scope {
        None => Ok(Scope::In),
        Some(scope) => {
            let outcome = scope
                .evaluate(source, ctx)
                .map_err(|e| format!("scope of {}: {}", rule.name, e.message))?;
            if outcome.is_true() {
                Ok(Scope::In)
            } else {
                Ok(Scope::Out(format!(
                    "scope {} is not true",
                    scope.source().trim()
                )))
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    In,
    /// Out of scope, with the reason for plans.
    Out(String),
}

/// What the identity's object in the target is, as far as the connector space knows.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    None,
    /// Provisioned but not yet created (a create is pending).
    Placeholder,
    Existing(&'a CsObject),
}

/// The decision of one outbound rule for one identity.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    Nothing,
    Provision {
        attributes: Attributes,
        reasons: Vec<ChangeReason>,
    },
    Update {
        changes: Vec<AttributeChange>,
        reasons: Vec<ChangeReason>,
        reenable: bool,
    },
    Disable {
        changes: Vec<AttributeChange>,
        reasons: Vec<ChangeReason>,
    },
    /// The target already holds the disabled value: only record that it is deprovisioned.
    MarkDeprovisioned,
    Delete {
        reasons: Vec<ChangeReason>,
    },
    Disconnect,
    /// The identity left scope before its pending create was exported.
    DropPlaceholder,
}

fn reasons_from(rule: &OutboundRule, diffs: &[AttributeDiff]) -> Vec<ChangeReason> {
    diffs
        .iter()
        .map(|d| ChangeReason {
            rule: rule.name.clone(),
            attribute: Some(d.change.name.clone()),
            old: d.old.clone(),
            new: d.new.clone(),
            note: None,
        })
        .collect()
}

fn note(rule: &OutboundRule, text: String) -> Vec<ChangeReason> {
    vec![ChangeReason {
        rule: rule.name.clone(),
        attribute: None,
        old: vec![],
        new: vec![],
        note: Some(text),
    }]
}

/// Decides what to do. `desired` is the image for the target as it is (for a create when
/// there is no object yet); it is only read when the identity is in scope. The attributes
/// in `multi_valued` (the target's, per rule) change by adds and removes.
pub fn decide(
    rule: &OutboundRule,
    scope: &Scope,
    target: Target<'_>,
    desired: Option<&Desired>,
    multi_valued: &[AttributeName],
) -> Decision {
    match (scope, target) {
        (Scope::In, Target::None | Target::Placeholder) => {
            if !rule.provision {
                return Decision::Nothing;
            }
            let attributes = desired.map(|d| d.attributes.clone()).unwrap_or_default();
            // The plan shows a create's attributes from the change itself; the reason says why.
            let reasons = note(rule, format!("in scope of {}: provisioned", rule.name));
            Decision::Provision {
                attributes,
                reasons,
            }
        }
        (Scope::In, Target::Existing(cs)) => {
            let empty = Desired::default();
            let desired = desired.unwrap_or(&empty);
            let mut diffs = diff_with(
                &cs.attributes,
                &desired.attributes,
                &desired.managed,
                multi_valued,
            );
            let reenable = cs.deprovisioned_at.is_some();
            if reenable
                && let DeprovisionAction::Disable { attribute, .. } = &rule.deprovision
                && !desired.managed.contains(attribute)
                && let Some(old) = cs.attributes.get(attribute)
            {
                // Nothing flows the disable attribute, so re-enabling means taking our value away.
                diffs.push(AttributeDiff {
                    change: AttributeChange::replace(attribute.clone(), vec![]),
                    old: old.to_vec(),
                    new: vec![],
                });
            }
            if diffs.is_empty() && !reenable {
                return Decision::Nothing;
            }
            let mut reasons = reasons_from(rule, &diffs);
            if let Some(withheld) = &desired.withheld {
                let differing: Vec<String> =
                    diff(&cs.attributes, &desired.attributes, &withheld.attributes)
                        .iter()
                        .map(|d| d.change.name.to_string())
                        .collect();
                if !differing.is_empty() {
                    reasons.extend(note(
                        rule,
                        format!(
                            "not written: {} ({})",
                            differing.join(", "),
                            withheld.reason
                        ),
                    ));
                }
            }
            if reenable {
                reasons.extend(note(rule, "back in scope: re-enabled".into()));
            }
            Decision::Update {
                changes: diffs.into_iter().map(|d| d.change).collect(),
                reasons,
                reenable,
            }
        }
        (Scope::Out(_), Target::None) => Decision::Nothing,
        (Scope::Out(_), Target::Placeholder) => Decision::DropPlaceholder,
        (Scope::Out(why), Target::Existing(cs)) => {
            if cs.deprovisioned_at.is_some() {
                return Decision::Nothing;
            }
            match &rule.deprovision {
                DeprovisionAction::Delete => Decision::Delete {
                    reasons: note(rule, format!("out of scope: {why}")),
                },
                DeprovisionAction::Disconnect => Decision::Disconnect,
                DeprovisionAction::Disable {
                    attribute, value, ..
                } => {
                    let current = cs.attributes.get(attribute).unwrap_or(&[]);
                    if current.len() == 1 && current[0].to_text() == value.to_text() {
                        return Decision::MarkDeprovisioned;
                    }
                    let mut reasons = vec![ChangeReason {
                        rule: rule.name.clone(),
                        attribute: Some(attribute.clone()),
                        old: current.to_vec(),
                        new: vec![value.clone()],
                        note: None,
                    }];
                    reasons.extend(note(rule, format!("out of scope: {why}; disabled")));
                    Decision::Disable {
                        changes: vec![AttributeChange::replace(
                            attribute.clone(),
                            vec![value.clone()],
                        )],
                        reasons,
                    }
                }
            }
        }
    }
}

/// Whether a deprovisioned (disabled) object's grace period is over, so it is deleted now.
pub fn grace_expired(rule: &OutboundRule, cs: &CsObject, now: Timestamp) -> bool {
    let (
        Some(since),
        DeprovisionAction::Disable {
            delete_after: Some(grace),
            ..
        },
    ) = (cs.deprovisioned_at, &rule.deprovision)
    else {
        return false;
    };
    let Ok(grace) = jiff::SignedDuration::try_from(*grace) else {
        return false;
    };
    since
        .checked_add(grace)
        .map(|due| now >= due)
        .unwrap_or(false)
}

/// A reason line for a grace-period delete.
pub fn grace_reason(rule: &OutboundRule, cs: &CsObject) -> Vec<ChangeReason> {
    let since = cs
        .deprovisioned_at
        .map(|t| t.to_string())
        .unwrap_or_default();
    note(
        rule,
        format!("disabled since {since}; grace period over: deleted"),
    )
}

/// Values that cannot leave as they are: a vault reference is translated by the driver.
pub fn is_reference(value: &Value) -> bool {
    matches!(value, Value::Reference(_))
}
