//! Hire, change, rename, leave (disable, then delete after the grace period), rehire.

use crate::support::*;

#[test]
fn hire_change_rename_leave_and_rehire() {
    let ws = workspace();

    // Hire: two people, one the other's manager.
    hr(
        &ws,
        hr_file(&[
            ("E1", "Ada", "Lovelace", "Research", "", "Active"),
            ("E2", "Alan", "Turing", "Research", "E1", "Active"),
        ]),
    );
    let first = run_ok(&ws);
    assert!(first.stdout.contains("2 projected"), "{}", first.stdout);
    let alan_id = format!("I-{}", show(&ws, "hr:E2")["identity"]["id"]);
    let accounts1 = accounts(&ws);
    assert_eq!(accounts1.len(), 2);
    assert_eq!(accounts1["E1"]["Enabled"], "True");
    assert_eq!(accounts1["E1"]["Upn"], "ada.lovelace@contoso.com");
    // The manager's account was being created in the same run; the reference lands next run.
    run_ok(&ws);
    let accounts2 = accounts(&ws);
    assert_eq!(
        accounts2["E2"]["Manager"], accounts2["E1"]["AccountId"],
        "{accounts2:?}"
    );

    // Attribute change: department and manager.
    hr(
        &ws,
        hr_file(&[
            ("E1", "Ada", "Lovelace", "Research", "", "Active"),
            ("E2", "Alan", "Turing", "Crypto", "", "Active"),
        ]),
    );
    let changed = run_ok(&ws);
    assert!(changed.stdout.contains("1 updated"), "{}", changed.stdout);
    let a = accounts(&ws);
    assert_eq!(a["E2"]["Department"], "Crypto");
    assert_eq!(a["E2"]["Manager"], "");

    // Rename: the name flows, the create-only UPN does not change.
    hr(
        &ws,
        hr_file(&[
            ("E1", "Ada", "King", "Research", "", "Active"),
            ("E2", "Alan", "Turing", "Crypto", "", "Active"),
        ]),
    );
    run_ok(&ws);
    let a = accounts(&ws);
    assert_eq!(a["E1"]["Surname"], "King");
    assert_eq!(a["E1"]["Mail"], "ada.king@contoso.com");
    assert_eq!(
        a["E1"]["Upn"], "ada.lovelace@contoso.com",
        "a create-only flow must not change after the create"
    );

    // Leave: the row disappears; the account is disabled, not deleted.
    hr(
        &ws,
        hr_file(&[("E1", "Ada", "King", "Research", "", "Active")]),
    );
    let leave = run_ok(&ws);
    assert!(leave.stdout.contains("1 disables"), "{}", leave.stdout);
    let a = accounts(&ws);
    assert_eq!(a["E2"]["Enabled"], "False");
    let alan = show(&ws, &alan_id);
    let account = alan["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["connector"] == "directory")
        .cloned()
        .unwrap();
    assert!(account["deprovisioned_at"].is_string(), "{alan}");
    assert!(show_text(&ws, &alan_id).contains("no source any more"));

    // Rehire within the grace period: the same identity, re-enabled.
    hr(
        &ws,
        hr_file(&[
            ("E1", "Ada", "King", "Research", "", "Active"),
            ("E2", "Alan", "Turing", "Crypto", "", "Active"),
        ]),
    );
    run_ok(&ws);
    let a = accounts(&ws);
    assert_eq!(a["E2"]["Enabled"], "True");
    assert_eq!(
        format!("I-{}", show(&ws, "hr:E2")["identity"]["id"]),
        alan_id,
        "a rehire rejoins the same identity"
    );

    // Leave again, and let the grace period pass: the account is deleted.
    hr(
        &ws,
        hr_file(&[("E1", "Ada", "King", "Research", "", "Active")]),
    );
    run_ok(&ws);
    let later = run_at(&ws, "2099-01-01T00:00:00Z", &[]);
    assert_eq!(later.code, Some(0), "{}{}", later.stdout, later.stderr);
    let a = accounts(&ws);
    assert!(
        !a.contains_key("E2"),
        "deleted after the grace period: {a:?}"
    );
    assert!(a.contains_key("E1"));
}

#[test]
fn a_status_change_to_terminated_disables_and_back_to_active_re_enables() {
    let ws = workspace();
    hr(
        &ws,
        hr_file(&[("E1", "Grace", "Hopper", "Navy", "", "Active")]),
    );
    run_ok(&ws);
    hr(
        &ws,
        hr_file(&[("E1", "Grace", "Hopper", "Navy", "", "Terminated")]),
    );
    run_ok(&ws);
    assert_eq!(accounts(&ws)["E1"]["Enabled"], "False");
    hr(
        &ws,
        hr_file(&[("E1", "Grace", "Hopper", "Navy", "", "Active")]),
    );
    run_ok(&ws);
    assert_eq!(accounts(&ws)["E1"]["Enabled"], "True");
}

#[test]
fn a_run_with_nothing_changed_changes_nothing() {
    let ws = workspace();
    hr(
        &ws,
        hr_file(&[("E1", "Ada", "Lovelace", "Research", "", "Active")]),
    );
    run_ok(&ws);
    run_ok(&ws);
    let before = ws.read("out/accounts.csv");
    let third = run(&ws, &["--json"]);
    assert_eq!(third.code, Some(0));
    let report = third.json();
    let hr_report = &report["connectors"]["hr"];
    assert_eq!(hr_report["import"]["mode"], "delta", "{report}");
    assert_eq!(hr_report["import"]["added"], 0);
    assert_eq!(hr_report["import"]["updated"], 0);
    assert_eq!(
        report["connectors"]["directory"]["export"]["applied"], 0,
        "{report}"
    );
    assert_eq!(ws.read("out/accounts.csv"), before);
}

#[test]
fn a_second_process_on_the_same_store_is_refused() {
    let ws = workspace();
    hr(
        &ws,
        hr_file(&[("E1", "Ada", "Lovelace", "Research", "", "Active")]),
    );
    run_ok(&ws);
    // Another process holds the store's lock (as a running `idsync run` does).
    let lock = std::fs::File::create(ws.join("idsync.lock")).unwrap();
    lock.lock().unwrap();
    let refused = run(&ws, &[]);
    assert_eq!(
        refused.code,
        Some(1),
        "{}\n{}",
        refused.stdout,
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("another idsync process is using the store"),
        "{}",
        refused.stderr
    );
    lock.unlock().unwrap();
    run_ok(&ws);
}
