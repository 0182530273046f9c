//! A target that refuses every export: the exports are quarantined with the reason, retried
//! on the backoff schedule rather than on every run, and exported once the target is fixed.

use crate::support::*;

fn export_counts(report: &serde_json::Value) -> (u64, u64) {
    let e = &report["connectors"]["directory"]["export"];
    (
        e["applied"].as_u64().unwrap(),
        e["quarantined"].as_u64().unwrap(),
    )
}

#[test]
fn exports_a_target_refuses_are_quarantined_and_retried_on_the_backoff_schedule() {
    let ws = workspace();
    hr(
        &ws,
        hr_file(&[
            ("E1", "Ada", "Lovelace", "Research", "", "Active"),
            ("E2", "Alan", "Turing", "Research", "", "Active"),
        ]),
    );
    // The target's file cannot be read or written: a directory stands where it should be.
    std::fs::create_dir_all(ws.join("out/accounts.csv")).unwrap();

    let first = run_at(&ws, "2030-01-01T00:00:00Z", &["--json"]);
    assert_eq!(first.code, Some(1), "{}\n{}", first.stdout, first.stderr);
    let report = first.json();
    assert_eq!(export_counts(&report), (0, 2), "{report}");
    let errors = report["errors"].to_string();
    assert!(
        errors.contains("Is a directory")
            && errors.contains("next attempt after 2030-01-01T00:01:00Z"),
        "{errors}"
    );

    // Within the backoff nothing is tried; at its end, both are tried once more, and the
    // next delay doubles.
    assert_eq!(
        export_counts(&run_at(&ws, "2030-01-01T00:00:30Z", &["--json"]).json()),
        (0, 0)
    );
    let second = run_at(&ws, "2030-01-01T00:01:00Z", &["--json"]).json();
    assert_eq!(export_counts(&second), (0, 2), "{second}");
    assert!(
        second["errors"]
            .to_string()
            .contains("next attempt after 2030-01-01T00:03:00Z"),
        "{second}"
    );
    let preview = testkit::idsync(
        BIN,
        ws.path(),
        &["preview", "-c", "idsync.toml"],
        &[("IDSYNC_NOW", "2030-01-01T00:01:30Z")],
    );
    assert!(
        preview.stdout.contains("(2 quarantined)"),
        "{}",
        preview.stdout
    );

    // The target is fixed: the next attempt exports both.
    std::fs::remove_dir(ws.join("out/accounts.csv")).unwrap();
    let back = run_at(&ws, "2030-01-01T00:03:00Z", &[]);
    assert_eq!(back.code, Some(0), "{}\n{}", back.stdout, back.stderr);
    assert_eq!(accounts(&ws).len(), 2);
}
