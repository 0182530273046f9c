//! The store contract suite against [`SqliteStore`] on a real file in a temporary directory,
//! one test per property so a failure names the property.

use std::path::Path;

use store::{SqliteStore, Store, contract};

/// Runs one property with stores that live as files under a fresh temporary directory.
fn check(property: contract::Property) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let mut open = |name: &str| -> Box<dyn Store> {
        Box::new(open_file(&dir.path().join(format!("{name}.db"))))
    };
    property(&mut open);
}

fn open_file(path: &Path) -> SqliteStore {
    match SqliteStore::open(path) {
        Ok(store) => store,
        Err(e) => panic!("open {}: {e}", path.display()),
    }
}

macro_rules! properties {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check(contract::$name);
            }
        )*

        /// Every property in `contract::PROPERTIES` has a test here, so a property added to
        /// the suite cannot be forgotten by this backend.
        #[test]
        fn every_contract_property_has_a_test() {
            let here = [$(stringify!($name)),*];
            for (name, _) in contract::PROPERTIES {
                assert!(here.contains(name), "contract property {name} has no test against SQLite");
            }
        }
    };
}

properties!(
    set_link_changes_only_the_link_and_the_dirty_mark,
    mark_in_flight_changes_only_the_state,
    ids_are_never_reused,
    ids_written_without_reservation_are_not_handed_out,
    runs_begin_finish_and_list_newest_first,
    cs_objects_round_trip_by_anchor_and_ids,
    cs_put_replaces_the_object,
    placeholders_share_a_connector_until_anchored,
    cs_digests_leave_out_placeholders,
    cs_page_and_count_cover_one_connector,
    dirty_cs_pages_in_id_order,
    cs_linked_to_finds_objects_of_the_identities,
    cs_deprovisioned_pages_in_id_order,
    cs_find_uses_the_key_index,
    find_identities_uses_the_key_index,
    identities_put_read_dirty_clean_touch,
    deleting_an_identity_removes_its_keys_and_history,
    history_reads_back_in_append_order,
    pending_exports_put_replace_drop,
    due_exports_honour_next_attempt_and_skip_in_flight,
    in_flight_and_quarantined_exports,
    pending_counts_group_by_connector_operation_quarantine,
    watermarks_set_and_clear,
    a_batch_applies_its_writes_in_order,
    writes_to_absent_records_do_nothing,
    a_failing_batch_leaves_nothing_applied,
    data_survives_close_and_reopen,
);

/// The whole suite through `run_all`, against one directory, the way another backend would
/// call it.
#[test]
fn run_all_passes() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let mut open = |name: &str| -> Box<dyn Store> {
        Box::new(open_file(&dir.path().join(format!("{name}.db"))))
    };
    contract::run_all(&mut open);
}
