//! Delta rounds over users and groups.

use super::*;

impl Directory {
    /// `manager@delta` of a user: the manager set, or (`present: false`) the one removed,
    /// by the last change in the round's window; outside that, the current manager.
    pub fn manager_delta(&self, user: &str, cursor: DeltaCursor) -> Option<MemberDelta> {
        let last_change = (!cursor.initial)
            .then(|| {
                self.manager_log
                    .iter()
                    .rev()
                    .find(|(u, _, seq, _)| u == user && *seq > cursor.since && *seq <= cursor.upto)
            })
            .flatten();
        match last_change {
            Some((_, manager, _, false)) => Some(MemberDelta {
                id: manager.clone(),
                kind: Kind::User,
                present: false,
            }),
            _ => self.managers.get(user).map(|m| MemberDelta {
                id: m.clone(),
                kind: self.objects.get(m).map_or(Kind::User, |o| o.kind),
                present: true,
            }),
        }
    }

    /// One page of a delta round over objects of `kind`. Only changes to the selected
    /// properties make an object appear, as the delta documentation says.
    pub fn delta(
        &self,
        kind: Kind,
        cursor: DeltaCursor,
        select: Option<&[String]>,
        limit: usize,
    ) -> DeltaPage<'_> {
        let empty = BTreeMap::new();
        let order = self.order.get(&kind).unwrap_or(&empty);
        if cursor.initial {
            let mut entries = Vec::new();
            let mut last = cursor.after;
            let mut more = false;
            if cursor.after < cursor.upto {
                for (seq, id) in order.range(cursor.after + 1..=cursor.upto) {
                    if entries.len() == limit {
                        more = true;
                        break;
                    }
                    if let Some(o) = self.objects.get(id) {
                        entries.push((*seq, DeltaEntry::Object(o)));
                    }
                    last = *seq;
                }
            }
            return DeltaPage {
                entries,
                next: more.then_some(DeltaCursor {
                    after: last,
                    ..cursor
                }),
                next_round_since: cursor.upto,
            };
        }

        // Later rounds: every change in (after, upto], ordered by its sequence number.
        let window = cursor.after + 1..=cursor.upto;
        let mut changes: Vec<(u64, DeltaEntry<'_>)> = order
            .values()
            .filter_map(|id| self.objects.get(id))
            .map(|o| (o.last_change_of(select), o))
            .filter(|(seq, _)| window.contains(seq))
            .map(|(seq, o)| (seq, DeltaEntry::Object(o)))
            .collect();
        changes.extend(
            self.tombstones
                .iter()
                .filter(|t| t.kind == kind && window.contains(&t.seq))
                .map(|t| {
                    (
                        t.seq,
                        DeltaEntry::Removed {
                            id: t.id.clone(),
                            reason: t.reason,
                        },
                    )
                }),
        );
        changes.sort_by_key(|(seq, _)| *seq);
        let more = changes.len() > limit;
        changes.truncate(limit);
        let next = if more {
            changes.last().map(|(seq, _)| DeltaCursor {
                after: *seq,
                ..cursor
            })
        } else {
            None
        };
        DeltaPage {
            entries: changes,
            next,
            next_round_since: cursor.upto,
        }
    }
}
