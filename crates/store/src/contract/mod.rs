//! The store contract suite: what every [`Store`] backend must do, written against the trait
//! only, so the embedded SQLite store and the PostgreSQL store are held to the same behaviour.
//!
//! A backend's test binary gives the suite a way to open stores by name:
//!
//! ```no_run
//! use store::{SqliteStore, Store};
//!
//! let dir = std::env::temp_dir().join("idsync-contract");
//! store::contract::run_all(&mut |name: &str| -> Box<dyn Store> {
//!     Box::new(SqliteStore::open(&dir.join(format!("{name}.db"))).expect("open the store"))
//! });
//! ```
//!
//! `open(name)` must return an empty store the first time a name is opened, and the same data
//! again when the name is opened after the previous handle was dropped: that is how the suite
//! checks that commits are durable. Names are short lowercase ASCII identifiers (the
//! property's own name), so a backend may use them as file, schema or database names. Each
//! property opens its own names, so properties may run in any order, or in parallel against
//! separate backends. Every property panics with a message naming what broke.
//!
//! The suite pins down what the trait's documentation leaves to interpretation: list reads
//! return records in ascending id order, a clashing anchor is [`crate::StoreError::Refused`],
//! writes to absent records are no-ops, and a batch applies its writes in order.

use crate::Store;

mod batches;
mod connector_space;
mod exports;
mod fixtures;
mod ids_and_runs;
mod vault;

pub use batches::*;
pub use connector_space::*;
pub use exports::*;
pub use ids_and_runs::*;
pub use vault::*;

/// How the suite opens stores: see the module documentation.
pub type Open<'a> = &'a mut dyn FnMut(&str) -> Box<dyn Store>;

/// One property of the contract.
pub type Property = fn(Open<'_>);

/// Every property, by name, so a backend's test binary can run each as its own test.
pub const PROPERTIES: &[(&str, Property)] = &[
    (
        "set_link_changes_only_the_link_and_the_dirty_mark",
        set_link_changes_only_the_link_and_the_dirty_mark,
    ),
    (
        "mark_in_flight_changes_only_the_state",
        mark_in_flight_changes_only_the_state,
    ),
    ("ids_are_never_reused", ids_are_never_reused),
    (
        "ids_written_without_reservation_are_not_handed_out",
        ids_written_without_reservation_are_not_handed_out,
    ),
    (
        "runs_begin_finish_and_list_newest_first",
        runs_begin_finish_and_list_newest_first,
    ),
    (
        "cs_objects_round_trip_by_anchor_and_ids",
        cs_objects_round_trip_by_anchor_and_ids,
    ),
    ("cs_put_replaces_the_object", cs_put_replaces_the_object),
    (
        "placeholders_share_a_connector_until_anchored",
        placeholders_share_a_connector_until_anchored,
    ),
    (
        "cs_digests_leave_out_placeholders",
        cs_digests_leave_out_placeholders,
    ),
    (
        "cs_page_and_count_cover_one_connector",
        cs_page_and_count_cover_one_connector,
    ),
    ("dirty_cs_pages_in_id_order", dirty_cs_pages_in_id_order),
    (
        "cs_linked_to_finds_objects_of_the_identities",
        cs_linked_to_finds_objects_of_the_identities,
    ),
    (
        "cs_deprovisioned_pages_in_id_order",
        cs_deprovisioned_pages_in_id_order,
    ),
    ("cs_find_uses_the_key_index", cs_find_uses_the_key_index),
    (
        "find_identities_uses_the_key_index",
        find_identities_uses_the_key_index,
    ),
    (
        "identities_put_read_dirty_clean_touch",
        identities_put_read_dirty_clean_touch,
    ),
    (
        "deleting_an_identity_removes_its_keys_and_history",
        deleting_an_identity_removes_its_keys_and_history,
    ),
    (
        "history_reads_back_in_append_order",
        history_reads_back_in_append_order,
    ),
    (
        "pending_exports_put_replace_drop",
        pending_exports_put_replace_drop,
    ),
    (
        "due_exports_honour_next_attempt_and_skip_in_flight",
        due_exports_honour_next_attempt_and_skip_in_flight,
    ),
    (
        "in_flight_and_quarantined_exports",
        in_flight_and_quarantined_exports,
    ),
    (
        "pending_counts_group_by_connector_operation_quarantine",
        pending_counts_group_by_connector_operation_quarantine,
    ),
    ("watermarks_set_and_clear", watermarks_set_and_clear),
    (
        "a_batch_applies_its_writes_in_order",
        a_batch_applies_its_writes_in_order,
    ),
    (
        "writes_to_absent_records_do_nothing",
        writes_to_absent_records_do_nothing,
    ),
    (
        "a_failing_batch_leaves_nothing_applied",
        a_failing_batch_leaves_nothing_applied,
    ),
    (
        "data_survives_close_and_reopen",
        data_survives_close_and_reopen,
    ),
];

/// Runs every property in turn.
pub fn run_all(open: Open<'_>) {
    for (_, property) in PROPERTIES {
        property(open);
    }
}
