//! Conversions between records and SQLite columns.
//!
//! Everything read from the database is checked: a value that does not decode is a
//! [`StoreError::Corrupt`] naming the record, never a panic.

use model::vault::Identity;
use model::{Anchor, AttributeName, ConnectorName, IdentityId, Timestamp};
use rusqlite::Row;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{
    CsId, CsObject, ExportState, HistoryEntry, IdentityRecord, Link, LinkDirection, PendingExport,
    Result, RunEnd, RunId, RunRecord, RunStart, StoreError,
};

/// Turns a rusqlite error into a store error that says what the store was doing. A value of
/// the wrong type in a column is corruption, not an outage.
pub(crate) fn db_error(
    action: impl std::fmt::Display,
) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| match e {
        rusqlite::Error::InvalidColumnType(..) | rusqlite::Error::FromSqlConversionFailure(..) => {
            StoreError::Corrupt {
                what: action.to_string(),
                message: e.to_string(),
            }
        }
        e => StoreError::Backend(format!("cannot {action}: {e}")),
    }
}

/// The key under which an attribute name is indexed: ASCII-lowercased, because
/// [`AttributeName`] compares without regard to ASCII case.
pub(crate) fn attribute_key(name: &AttributeName) -> String {
    name.as_str().to_ascii_lowercase()
}

/// Timestamps are kept as RFC 3339 text with as many fractional digits as they need, which
/// reads back to the same instant and stays readable in the sqlite3 shell.
pub(crate) fn timestamp_text(at: Timestamp) -> String {
    at.to_string()
}

pub(crate) fn parse_timestamp(text: &str, what: impl FnOnce() -> String) -> Result<Timestamp> {
    text.parse().map_err(|e| StoreError::Corrupt {
        what: what(),
        message: format!("{text:?} is not a timestamp: {e}"),
    })
}

/// A timestamp as (whole seconds, nanoseconds), both floored, so that comparing the pairs
/// compares the instants exactly.
pub(crate) fn timestamp_parts(at: Timestamp) -> (i64, i64) {
    let nanos = at.as_nanosecond();
    let seconds = nanos.div_euclid(1_000_000_000);
    let rest = nanos.rem_euclid(1_000_000_000);
    // jiff keeps timestamps within ±10,000 years, so the seconds fit an i64 with room to spare.
    (
        i64::try_from(seconds).unwrap_or(if seconds < 0 { i64::MIN } else { i64::MAX }),
        rest as i64,
    )
}

/// The digest is a u64; SQLite integers are i64, so the bits are stored as they are.
pub(crate) fn digest_to_sql(digest: u64) -> i64 {
    digest as i64
}

pub(crate) fn digest_from_sql(digest: i64) -> u64 {
    digest as u64
}

pub(crate) fn to_json<T: Serialize>(value: &T, what: impl FnOnce() -> String) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Backend(format!("cannot encode {}: {e}", what())))
}

/// Stored records (attributes, identities, exports, history) are encoded with postcard, a
/// compact binary serde format: a run encodes and decodes millions of them, and JSON's
/// text (attribute names repeated, values escaped) cost a third of a full cycle.
pub(crate) fn to_record<T: Serialize>(value: &T, what: impl FnOnce() -> String) -> Result<Vec<u8>> {
    postcard::to_stdvec(value)
        .map_err(|e| StoreError::Backend(format!("cannot encode {}: {e}", what())))
}

pub(crate) fn from_record<T: DeserializeOwned>(
    bytes: &[u8],
    what: impl FnOnce() -> String,
) -> Result<T> {
    postcard::from_bytes(bytes).map_err(|e| StoreError::Corrupt {
        what: what(),
        message: e.to_string(),
    })
}

pub(crate) fn from_json<T: DeserializeOwned>(
    text: &str,
    what: impl FnOnce() -> String,
) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what: what(),
        message: e.to_string(),
    })
}

pub(crate) fn direction_text(direction: LinkDirection) -> &'static str {
    match direction {
        LinkDirection::Inbound => "inbound",
        LinkDirection::Outbound => "outbound",
    }
}

pub(crate) fn state_text(state: ExportState) -> &'static str {
    match state {
        ExportState::Pending => "pending",
        ExportState::InFlight => "in_flight",
    }
}

pub(crate) fn state_from_text(text: &str) -> Result<ExportState> {
    match text {
        "pending" => Ok(ExportState::Pending),
        "in_flight" => Ok(ExportState::InFlight),
        other => Err(StoreError::Corrupt {
            what: "the state of a pending export".to_owned(),
            message: format!("unknown state {other:?}"),
        }),
    }
}

pub(crate) fn parse_operation(
    text: &str,
    what: impl FnOnce() -> String,
) -> Result<crate::Operation> {
    use crate::Operation::*;
    [Create, Update, Disable, Delete]
        .into_iter()
        .find(|op| op.as_str() == text)
        .ok_or_else(|| StoreError::Corrupt {
            what: what(),
            message: format!("{text:?} is not an export operation"),
        })
}

/// The columns of `cs_objects`, in the order [`CsRow::read`] expects them.
pub(crate) const CS_COLUMNS: &str = "id, connector, anchor, object_type, attributes, digest, \
     link_identity, link_rule, link_direction, link_at, dirty, deprovisioned_at";

/// One `cs_objects` row as SQLite holds it, before it is checked.
#[derive(Debug)]
pub(crate) struct CsRow {
    id: i64,
    connector: String,
    anchor: Option<String>,
    object_type: String,
    attributes: Vec<u8>,
    digest: i64,
    link_identity: Option<i64>,
    link_rule: Option<String>,
    link_direction: Option<String>,
    link_at: Option<String>,
    dirty: bool,
    deprovisioned_at: Option<String>,
}

impl CsRow {
    pub(crate) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            connector: row.get(1)?,
            anchor: row.get(2)?,
            object_type: row.get(3)?,
            attributes: row.get(4)?,
            digest: row.get(5)?,
            link_identity: row.get(6)?,
            link_rule: row.get(7)?,
            link_direction: row.get(8)?,
            link_at: row.get(9)?,
            dirty: row.get(10)?,
            deprovisioned_at: row.get(11)?,
        })
    }

    pub(crate) fn into_object(self) -> Result<CsObject> {
        let id = self.id;
        let what = || format!("connector-space object {id}");
        let link = match self.link_identity {
            None => None,
            Some(identity) => {
                let (Some(rule), Some(direction), Some(at)) =
                    (self.link_rule, self.link_direction, self.link_at)
                else {
                    return Err(StoreError::Corrupt {
                        what: what(),
                        message: format!(
                            "its link to {} lacks a rule, a direction or a time",
                            IdentityId(identity)
                        ),
                    });
                };
                let direction = match direction.as_str() {
                    "inbound" => LinkDirection::Inbound,
                    "outbound" => LinkDirection::Outbound,
                    other => {
                        return Err(StoreError::Corrupt {
                            what: what(),
                            message: format!("{other:?} is not a link direction"),
                        });
                    }
                };
                Some(Link {
                    identity: IdentityId(identity),
                    rule: rule.into(),
                    direction,
                    at: parse_timestamp(&at, || format!("{} (link time)", what()))?,
                })
            }
        };
        Ok(CsObject {
            id: CsId(id),
            connector: ConnectorName::new(self.connector),
            anchor: self.anchor.map(Anchor::new),
            object_type: self.object_type.into(),
            attributes: from_record(&self.attributes, || format!("{} (attributes)", what()))?,
            digest: digest_from_sql(self.digest),
            link,
            dirty: self.dirty,
            deprovisioned_at: self
                .deprovisioned_at
                .map(|at| parse_timestamp(&at, || format!("{} (deprovisioned_at)", what())))
                .transpose()?,
        })
    }
}

pub(crate) fn identity_record(id: i64, record: &[u8], dirty: bool) -> Result<IdentityRecord> {
    let what = || format!("identity {}", IdentityId(id));
    let identity: Identity = from_record(record, what)?;
    if identity.id.0 != id {
        return Err(StoreError::Corrupt {
            what: what(),
            message: format!("its record holds the id {}", identity.id),
        });
    }
    Ok(IdentityRecord { identity, dirty })
}

/// The columns of `identity_history`, in the order [`history_entry`] expects them.
pub(crate) const HISTORY_COLUMNS: &str = "seq, identity, run, at, event, changes";

pub(crate) fn history_entry(
    row: &Row<'_>,
) -> rusqlite::Result<(i64, i64, i64, String, String, Vec<u8>)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

pub(crate) fn into_history_entry(
    (seq, identity, run, at, event, changes): (i64, i64, i64, String, String, Vec<u8>),
) -> Result<HistoryEntry> {
    let what = || format!("history entry {seq} of identity {}", IdentityId(identity));
    Ok(HistoryEntry {
        identity: IdentityId(identity),
        run: RunId(run),
        at: parse_timestamp(&at, what)?,
        event,
        changes: from_record(&changes, what)?,
    })
}

pub(crate) fn pending_export(cs_id: i64, record: &[u8]) -> Result<PendingExport> {
    let what = || format!("pending export of connector-space object {cs_id}");
    let export: PendingExport = from_record(record, what)?;
    if export.cs_id.0 != cs_id {
        return Err(StoreError::Corrupt {
            what: what(),
            message: format!("its record names object {}", export.cs_id.0),
        });
    }
    Ok(export)
}

/// The columns of `runs`, in the order [`run_row`] expects them.
pub(crate) const RUN_COLUMNS: &str = "id, started_at, mode, finished_at, status, report";

pub(crate) type RunRow = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub(crate) fn run_row(row: &Row<'_>) -> rusqlite::Result<RunRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

pub(crate) fn into_run_record(
    (id, started_at, mode, finished_at, status, report): RunRow,
) -> Result<RunRecord> {
    let run = RunId(id);
    let what = || run.to_string();
    let end = match (finished_at, status, report) {
        (None, _, _) => None,
        (Some(finished_at), Some(status), Some(report)) => Some(RunEnd {
            finished_at: parse_timestamp(&finished_at, what)?,
            status,
            report: from_json(&report, || format!("{run} (report)"))?,
        }),
        (Some(_), _, _) => {
            return Err(StoreError::Corrupt {
                what: what(),
                message: "it has an end time but no status or report".into(),
            });
        }
    };
    Ok(RunRecord {
        id: run,
        start: RunStart {
            started_at: parse_timestamp(&started_at, what)?,
            mode,
        },
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_parts_order_like_the_instants() {
        let instants: Vec<Timestamp> = [
            "-000001-06-01T00:00:00Z",
            "1969-12-31T23:59:59.5Z",
            "1970-01-01T00:00:00Z",
            "1970-01-01T00:00:00.000000001Z",
            "2024-01-01T00:00:00.999999999Z",
            "2024-01-01T00:00:01Z",
        ]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
        let parts: Vec<(i64, i64)> = instants.iter().map(|t| timestamp_parts(*t)).collect();
        let mut sorted = parts.clone();
        sorted.sort();
        assert_eq!(parts, sorted);
        assert_eq!(timestamp_parts(Timestamp::MIN).1, 0);
        assert!(timestamp_parts(Timestamp::MAX) > timestamp_parts(instants[5]));
    }

    #[test]
    fn timestamps_round_trip_through_text_at_full_precision() {
        let at: Timestamp = "2024-03-04T05:06:07.123456789Z".parse().unwrap();
        assert_eq!(
            parse_timestamp(&timestamp_text(at), String::new).unwrap(),
            at
        );
    }

    #[test]
    fn digests_keep_every_bit() {
        for digest in [0, 1, u64::MAX, 1 << 63, 0xdead_beef_dead_beef] {
            assert_eq!(digest_from_sql(digest_to_sql(digest)), digest);
        }
    }

    #[test]
    fn a_bad_timestamp_is_corruption_that_names_the_record() {
        let err = parse_timestamp("yesterday", || "run 3".into()).unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt { what, .. } if what == "run 3"),
            "{err:?}"
        );
    }

    #[test]
    fn attribute_keys_ignore_ascii_case() {
        assert_eq!(
            attribute_key(&"GivenName".into()),
            attribute_key(&"givenNAME".into())
        );
    }
}
