//! The guard: mass changes stop here unless explicitly approved, and staging mode and
//! preview export nothing. Only [`review`] can make an [`ApprovedPlan`], and only an approved
//! plan reaches the export stage.

use model::ConnectorName;

use crate::report::Held;

/// What is pending for one connector, as the guard weighs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingTally {
    pub connector: ConnectorName,
    pub deletes: u64,
    pub disables: u64,
    pub deletion_threshold: u32,
    pub disable_threshold: u32,
    /// What the target cannot take (more licenses than free seats); approval does not help.
    pub shortages: Vec<String>,
}

/// How the run was asked to treat the guard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuardPolicy {
    /// `--approve-deletes`: let deletes and disables past their thresholds.
    pub approve_deletes: bool,
    /// Staging mode or preview: import and sync, but export nothing.
    pub export_nothing: bool,
}

/// The connectors whose pending exports may be exported in this run.
#[derive(Debug, PartialEq, Eq)]
pub struct ApprovedPlan {
    connectors: Vec<ConnectorName>,
}

impl ApprovedPlan {
    pub fn approves(&self, connector: &ConnectorName) -> bool {
        self.connectors.contains(connector)
    }

    pub fn connectors(&self) -> &[ConnectorName] {
        &self.connectors
    }
}

/// Weighs what is pending per connector. A connector over a threshold is held whole: with a
/// truncated HR file the disables are the symptom, and the updates that come with them are
/// just as wrong.
pub fn review(tallies: &[PendingTally], policy: GuardPolicy) -> (ApprovedPlan, Vec<Held>) {
    let mut approved = Vec::new();
    let mut held = Vec::new();
    for t in tallies {
        let mut reasons = Vec::new();
        if !policy.approve_deletes {
            if t.deletes > u64::from(t.deletion_threshold) {
                reasons.push(format!(
                    "{} deletes pending exceed the deletion threshold of {}",
                    t.deletes, t.deletion_threshold
                ));
            }
            if t.disables > u64::from(t.disable_threshold) {
                reasons.push(format!(
                    "{} deprovisioning disables pending exceed the disable threshold of {}",
                    t.disables, t.disable_threshold
                ));
            }
        }
        let over_threshold = !reasons.is_empty();
        reasons.extend(t.shortages.iter().cloned());
        if !reasons.is_empty() {
            let advice = if over_threshold {
                "Review them with `idsync preview`, then run with --approve-deletes or raise the threshold"
            } else {
                "Free or buy what is short, or change the rules, then run again"
            };
            held.push(Held {
                connector: t.connector.clone(),
                reason: format!(
                    "{}; nothing was exported to {}. {advice}",
                    reasons.join(" and "),
                    t.connector
                ),
                deletes: t.deletes,
                disables: t.disables,
            });
        } else if !policy.export_nothing {
            approved.push(t.connector.clone());
        }
    }
    (
        ApprovedPlan {
            connectors: approved,
        },
        held,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(deletes: u64, disables: u64) -> PendingTally {
        PendingTally {
            connector: "ad".into(),
            deletes,
            disables,
            deletion_threshold: 10,
            disable_threshold: 5,
            shortages: Vec::new(),
        }
    }

    #[test]
    fn a_shortage_holds_the_connector_even_with_approval() {
        let mut short = tally(0, 0);
        short
            .shortages
            .push("30 users would get SPE_E3 but only 5 of its 25 seats are free".into());
        let policy = GuardPolicy {
            approve_deletes: true,
            export_nothing: false,
        };
        let (plan, held) = review(&[short], policy);
        assert!(!plan.approves(&"ad".into()));
        assert!(
            held[0].reason.contains("only 5 of its 25 seats"),
            "{}",
            held[0].reason
        );
        assert!(held[0].reason.contains("Free or buy"), "{}", held[0].reason);
    }

    #[test]
    fn under_the_thresholds_everything_is_approved() {
        let (plan, held) = review(&[tally(10, 5)], GuardPolicy::default());
        assert!(plan.approves(&"ad".into()));
        assert!(held.is_empty());
    }

    #[test]
    fn over_a_threshold_the_connector_is_held_and_says_why() {
        let (plan, held) = review(&[tally(11, 0)], GuardPolicy::default());
        assert!(!plan.approves(&"ad".into()));
        assert_eq!(held.len(), 1);
        assert!(
            held[0]
                .reason
                .contains("11 deletes pending exceed the deletion threshold of 10"),
            "{}",
            held[0].reason
        );
        let (_, held) = review(&[tally(0, 6)], GuardPolicy::default());
        assert!(held[0].reason.contains("6 deprovisioning disables"));
    }

    #[test]
    fn approval_lets_mass_deletes_through() {
        let (plan, held) = review(
            &[tally(1000, 1000)],
            GuardPolicy {
                approve_deletes: true,
                export_nothing: false,
            },
        );
        assert!(plan.approves(&"ad".into()));
        assert!(held.is_empty());
    }

    #[test]
    fn staging_exports_nothing_but_still_reports_what_would_be_held() {
        let (plan, held) = review(
            &[tally(0, 0), tally(100, 0)],
            GuardPolicy {
                approve_deletes: false,
                export_nothing: true,
            },
        );
        assert!(plan.connectors().is_empty());
        assert_eq!(held.len(), 1);
    }
}
