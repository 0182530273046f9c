//! A truncated or empty HR file stops at the guard before anything is exported.

use crate::support::*;

fn twenty_people() -> Vec<(String, String)> {
    (1..=20)
        .map(|n| (format!("E{n}"), format!("Person{n}")))
        .collect()
}

fn hr_with(people: &[(String, String)]) -> testkit::Csv {
    let rows: Vec<(&str, &str, &str, &str, &str, &str)> = people
        .iter()
        .map(|(id, name)| (id.as_str(), name.as_str(), "Example", "Ops", "", "Active"))
        .collect();
    hr_file(&rows)
}

#[test]
fn a_truncated_hr_file_is_held_by_the_guard_until_approved() {
    let ws = workspace();
    let people = twenty_people();
    hr(&ws, hr_with(&people));
    run_ok(&ws);
    assert_eq!(accounts(&ws).len(), 20);
    let before = ws.read("out/accounts.csv");

    // The export from HR was cut off after three rows.
    hr(&ws, hr_with(&people[..3]));
    let held = run(&ws, &[]);
    assert_eq!(
        held.code,
        Some(3),
        "exit code 3 = stopped by the guard\n{}\n{}",
        held.stdout,
        held.stderr
    );
    assert!(
        held.stdout
            .contains("17 deprovisioning disables pending exceed the disable threshold of 5"),
        "{}",
        held.stdout
    );
    assert_eq!(ws.read("out/accounts.csv"), before, "nothing was exported");

    // The preview shows the held plan.
    let preview = testkit::idsync(BIN, ws.path(), &["preview", "-c", "idsync.toml"], &[]);
    assert_eq!(preview.code, Some(3));
    assert!(preview.stdout.contains("17 disables"), "{}", preview.stdout);

    // Running again without approval changes nothing either.
    assert_eq!(run(&ws, &[]).code, Some(3));
    assert_eq!(ws.read("out/accounts.csv"), before);

    // Approved: the disables go through.
    let approved = run(&ws, &["--approve-deletes"]);
    assert_eq!(
        approved.code,
        Some(0),
        "{}\n{}",
        approved.stdout,
        approved.stderr
    );
    let a = accounts(&ws);
    assert_eq!(a.values().filter(|r| r["Enabled"] == "False").count(), 17);
}

#[test]
fn a_mistake_that_is_corrected_before_approval_exports_nothing() {
    let ws = workspace();
    let people = twenty_people();
    hr(&ws, hr_with(&people));
    run_ok(&ws);
    let before = ws.read("out/accounts.csv");
    // An empty file (header only).
    hr(&ws, hr_with(&[]));
    assert_eq!(run(&ws, &[]).code, Some(3));
    // The full file is back: the held disables are no longer wanted.
    hr(&ws, hr_with(&people));
    let r = run_ok(&ws);
    assert!(
        r.stdout.contains("20 joined"),
        "the identities were kept and rejoined: {}",
        r.stdout
    );
    assert_eq!(ws.read("out/accounts.csv"), before);
}

#[test]
fn staging_mode_syncs_but_exports_nothing() {
    let ws = workspace();
    hr(&ws, hr_with(&twenty_people()[..2]));
    let r = run(&ws, &["--staging"]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    assert!(!ws.exists("out/accounts.csv"));
    run_ok(&ws);
    assert_eq!(accounts(&ws).len(), 2);
}
