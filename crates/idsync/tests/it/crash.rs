//! A run killed at any point leaves the store consistent; the next run converges to the same
//! state as an uninterrupted run, with no duplicated creates.

use testkit::{Workspace, idsync};

use crate::support::*;

/// Enough people for several inbound and outbound chunks.
fn big_hr(n: usize) -> String {
    let mut text = HR_HEADER.join(",") + "\n";
    for i in 1..=n {
        let manager = if i > 1 {
            format!("E{}", i / 2)
        } else {
            String::new()
        };
        text += &format!(
            "E{i},First{i},Last{i},p{i}@contoso.com,Dept{},Engineer,{manager},Active,,2020-01-01\n",
            i % 7
        );
    }
    text
}

fn prepared(n: usize) -> Workspace {
    let ws = workspace();
    // Small batches, so each crash point falls in the middle of its phase.
    ws.write(
        "idsync.toml",
        format!("{CONFIG}\n[sync]\nbatch_size = 1000\n"),
    );
    ws.write("hr.csv", big_hr(n));
    ws
}

fn converge(ws: &Workspace) {
    for _ in 0..3 {
        let r = run(ws, &[]);
        assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    }
}

/// The final state that matters: the accounts file, sorted, without the anchors (identity
/// ids may differ between runs only by allocation gaps, so they are compared by shape).
fn final_accounts(ws: &Workspace) -> Vec<String> {
    let mut rows: Vec<String> = testkit::read_csv(&ws.join("out/accounts.csv"))
        .into_iter()
        .map(|r| {
            format!(
                "{}|{}|{}|{}",
                r["EmployeeID"],
                r["Mail"],
                r["Enabled"],
                !r["Manager"].is_empty()
            )
        })
        .collect();
    rows.sort();
    rows
}

fn crash_then_converge(point: &str) {
    let n = 4500;
    let reference = prepared(n);
    converge(&reference);
    let expected = final_accounts(&reference);
    assert_eq!(expected.len(), n);

    let ws = prepared(n);
    let crashed = idsync(
        BIN,
        ws.path(),
        &["run", "-c", "idsync.toml"],
        &[("IDSYNC_CRASH_AT", point)],
    );
    assert!(
        crashed.crashed(),
        "the run should have been killed at {point}: {:?}\n{}",
        crashed.code,
        crashed.stderr
    );
    converge(&ws);
    let got = final_accounts(&ws);
    assert_eq!(
        got.len(),
        n,
        "no duplicated or missing accounts after a crash at {point}"
    );
    let missing: Vec<&String> = expected
        .iter()
        .filter(|r| !got.contains(r))
        .take(5)
        .collect();
    let extra: Vec<&String> = got
        .iter()
        .filter(|r| !expected.contains(r))
        .take(5)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "after a crash at {point}, expected but missing: {missing:?}; unexpected: {extra:?}"
    );
    // Every account appears exactly once (the anchor column is unique).
    let raw = testkit::read_csv(&ws.join("out/accounts.csv"));
    let mut ids: Vec<&String> = raw.iter().map(|r| &r["EmployeeID"]).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n);
}

#[test]
fn killed_mid_import_converges() {
    crash_then_converge("import-page:1");
}

#[test]
fn killed_mid_inbound_sync_converges() {
    crash_then_converge("inbound-chunk:1");
}

#[test]
fn killed_mid_outbound_sync_converges() {
    crash_then_converge("outbound-chunk:1");
}

#[test]
fn killed_while_a_batch_is_being_exported_converges_without_duplicates() {
    crash_then_converge("export-before-call:1");
}

#[test]
fn killed_after_the_target_accepted_a_batch_converges_without_duplicates() {
    crash_then_converge("export-after-call:1");
}
