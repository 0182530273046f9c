//! Inbound sync: which rule reads a connector-space object, and what it offers its identity.

use config::InboundRule;
use expr::{AttributeSource, EvalContext, Outcome};
use model::vault::{Identity, Offer, SourceLink};
use model::{AttributeName, ObjectType};

/// A flow that could not be evaluated for one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowError {
    pub attribute: AttributeName,
    pub message: String,
}

impl std::fmt::Display for FlowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "flow to {}: {}", self.attribute, self.message)
    }
}

/// The first rule (in configuration order) that reads objects of this type and whose scope
/// admits the object.
pub fn rule_for<'r>(
    rules: &[&'r InboundRule],
    object_type: &ObjectType,
    source: &dyn AttributeSource,
    ctx: &EvalContext<'_>,
) -> Result<Option<&'r InboundRule>, String> {
    for rule in rules {
        if rule.source_type.as_ref().is_some_and(|t| t != object_type) {
            continue;
        }
        let in_scope = match &rule.scope {
            None => true,
            Some(scope) => scope
                .evaluate(source, ctx)
                .map_err(|e| format!("scope of {}: {}", rule.name, e.message))?
                .is_true(),
        };
        if in_scope {
            return Ok(Some(rule));
        }
    }
    Ok(None)
}

/// The values a source object offers its identity through `rule`, attribute by attribute,
/// each at the flow's precedence (or the rule's).
/// A flow that is dropped for this object (`IgnoreFlowIfNullOrEmpty`) keeps what this source
/// offered before, rather than clearing it.
pub fn offered(
    rule: &InboundRule,
    source: &dyn AttributeSource,
    link: &SourceLink,
    previous: Option<&Identity>,
    ctx: &EvalContext<'_>,
) -> Result<Vec<Offer>, FlowError> {
    let mut offered = Vec::with_capacity(rule.flows.len());
    for flow in &rule.flows {
        let precedence = flow.precedence.unwrap_or(rule.precedence);
        match flow.expr.evaluate(source, ctx) {
            Ok(Outcome::Values(values)) => {
                offered.push(Offer {
                    attribute: flow.target.clone(),
                    values,
                    precedence,
                });
            }
            Ok(Outcome::Ignored) => {
                let kept = previous
                    .and_then(|identity| identity.attribute(&flow.target))
                    .and_then(|attr| {
                        attr.contributions().iter().find(|c| {
                            c.lineage.connector == link.connector && c.lineage.anchor == link.anchor
                        })
                    })
                    .map(|c| c.values.clone())
                    .unwrap_or_default();
                offered.push(Offer {
                    attribute: flow.target.clone(),
                    values: kept,
                    precedence,
                });
            }
            Err(e) => {
                return Err(FlowError {
                    attribute: flow.target.clone(),
                    message: e.message,
                });
            }
        }
    }
    Ok(offered)
}
