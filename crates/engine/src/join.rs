//! Join decisions: which identity, if any, a connector-space object belongs to.
//!
//! Join keys compare without regard to case, because the attributes people join on (mail,
//! UPN, employee numbers) are compared that way by the systems that hold them.

use config::JoinRule;
use expr::{AttributeSource, EvalContext, Outcome};
use model::IdentityId;

/// The decision for one object, given the candidates each ordered join rule found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JoinDecision {
    /// The first rule with exactly one match.
    Joined { identity: IdentityId, rule: usize },
    /// No rule matched anything: the object may be projected.
    NoMatch,
    /// No rule had exactly one match, and at least one had several. Never projected: a
    /// duplicate identity is worse than an object left waiting for a person to decide.
    Ambiguous {
        rule: usize,
        candidates: Vec<IdentityId>,
    },
}

/// Applies "first rule with exactly one match wins" to the candidates of each rule, in order.
pub fn decide(candidates_per_rule: &[Vec<IdentityId>]) -> JoinDecision {
    let mut ambiguous = None;
    for (rule, candidates) in candidates_per_rule.iter().enumerate() {
        let mut unique = candidates.clone();
        unique.sort();
        unique.dedup();
        match unique.len() {
            0 => {}
            1 => {
                return JoinDecision::Joined {
                    identity: unique[0],
                    rule,
                };
            }
            _ => {
                if ambiguous.is_none() {
                    ambiguous = Some(JoinDecision::Ambiguous {
                        rule,
                        candidates: unique,
                    });
                }
            }
        }
    }
    ambiguous.unwrap_or(JoinDecision::NoMatch)
}

/// Normalises a value for the join index and for lookups.
pub fn key_text(text: &str) -> String {
    text.to_lowercase()
}

/// The keys one join rule yields for an object: the text of each value of its expression.
/// An expression that yields nothing, or fails, yields no key (the rule cannot match).
pub fn keys(
    rule: &JoinRule,
    source: &dyn AttributeSource,
    ctx: &EvalContext<'_>,
) -> Result<Vec<String>, String> {
    match rule.expr.evaluate(source, ctx) {
        Ok(Outcome::Values(values)) => Ok(values
            .iter()
            .map(|v| key_text(&v.to_text()))
            .filter(|k| !k.is_empty())
            .collect()),
        Ok(Outcome::Ignored) => Ok(Vec::new()),
        Err(e) => Err(format!("join rule on {}: {}", rule.vault, e.message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(candidates: &[&[i64]], expected: JoinDecision) {
        let candidates: Vec<Vec<IdentityId>> = candidates
            .iter()
            .map(|c| c.iter().copied().map(IdentityId).collect())
            .collect();
        assert_eq!(decide(&candidates), expected);
    }

    #[test]
    fn join_decisions() {
        check(&[], JoinDecision::NoMatch);
        check(&[&[], &[]], JoinDecision::NoMatch);
        check(
            &[&[7]],
            JoinDecision::Joined {
                identity: IdentityId(7),
                rule: 0,
            },
        );
        check(
            &[&[], &[3]],
            JoinDecision::Joined {
                identity: IdentityId(3),
                rule: 1,
            },
        );
        // The same identity found twice through multi-valued keys is one match.
        check(
            &[&[5, 5]],
            JoinDecision::Joined {
                identity: IdentityId(5),
                rule: 0,
            },
        );
        // An ambiguous first rule gives way to a later rule with exactly one match...
        check(
            &[&[1, 2], &[2]],
            JoinDecision::Joined {
                identity: IdentityId(2),
                rule: 1,
            },
        );
        // ...but with no such rule the object is ambiguous, never projected.
        check(
            &[&[1, 2], &[]],
            JoinDecision::Ambiguous {
                rule: 0,
                candidates: vec![IdentityId(1), IdentityId(2)],
            },
        );
    }

    #[test]
    fn keys_ignore_case() {
        assert_eq!(key_text("Ada@Contoso.COM"), "ada@contoso.com");
    }
}
