//! Bad input gets a clear error naming the file, line and reason; the rest of the file is
//! processed; nothing already in the store is lost.

use crate::support::*;

const GOOD: &str = "E1,Ada,Lovelace,ada@contoso.com,Research,Engineer,,Active,,2020-01-01\n\
E2,Alan,Turing,alan@contoso.com,Research,Engineer,,Active,,2020-01-01\n\
E3,Grace,Hopper,grace@contoso.com,Navy,Engineer,,Active,,2020-01-01\n";

fn header() -> String {
    HR_HEADER.join(",") + "\n"
}

#[test]
fn bad_rows_are_reported_by_line_and_the_rest_is_imported() {
    let ws = workspace();
    ws.write("hr.csv", header() + GOOD);
    run_ok(&ws);
    assert_eq!(accounts(&ws).len(), 3);

    // Line 2: a date in the wrong format for a person already known; line 3: too few
    // fields; line 5: a duplicate anchor; line 6: a new, good person.
    ws.write(
        "hr.csv",
        header()
            + "E1,Ada,Lovelace,ada@contoso.com,Research,Engineer,,Active,,01/02/2020\n\
E2,Alan,Turing\n\
E3,Grace,Hopper,grace@contoso.com,Navy,Admiral,,Active,,2020-01-01\n\
E3,Grace,Hopper,grace@contoso.com,Navy,Captain,,Active,,2020-01-01\n\
E4,Katherine,Johnson,kj@contoso.com,Flight,Engineer,,Active,,2021-01-01\n",
    );
    let r = run(&ws, &[]);
    assert_eq!(
        r.code,
        Some(1),
        "per-object errors give exit code 1\n{}\n{}",
        r.stdout,
        r.stderr
    );
    assert!(
        r.stdout.contains("hr.csv:2"),
        "the bad date is reported by line: {}",
        r.stdout
    );
    assert!(r.stdout.contains("HireDate"), "{}", r.stdout);
    assert!(
        r.stdout.contains("hr.csv:3"),
        "the short row is reported by line: {}",
        r.stdout
    );
    assert!(
        r.stdout.contains("hr.csv:5"),
        "the duplicate anchor is reported by line: {}",
        r.stdout
    );

    let a = accounts(&ws);
    assert!(
        a.contains_key("E4"),
        "the good new row was processed: {a:?}"
    );
    assert_eq!(
        a["E3"]["Title"], "Admiral",
        "the first of two duplicate rows is used"
    );
    // E1 and E2 could not be read this time: they are kept as they were, not deprovisioned.
    assert_eq!(a["E1"]["Enabled"], "True");
    assert_eq!(a["E2"]["Enabled"], "True");
    assert_eq!(a["E2"]["Surname"], "Turing");
}

#[test]
fn a_missing_anchor_column_fails_the_import_and_loses_nothing() {
    let ws = workspace();
    ws.write("hr.csv", header() + GOOD);
    run_ok(&ws);
    ws.write("hr.csv", "EmpID,FirstName,LastName\nE1,Ada,Lovelace\n");
    let r = run(&ws, &[]);
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("EmployeeID"),
        "the error names the missing column: {}",
        r.stdout
    );
    assert!(
        r.stdout.contains("hr.csv"),
        "the error names the file: {}",
        r.stdout
    );
    let a = accounts(&ws);
    assert_eq!(a.len(), 3);
    assert!(
        a.values().all(|r| r["Enabled"] == "True"),
        "nothing was deprovisioned: {a:?}"
    );
}

#[test]
fn a_flow_that_reads_an_unknown_column_is_an_error_and_nothing_is_cleared() {
    let ws = workspace();
    ws.write("hr.csv", header() + GOOD);
    run_ok(&ws);
    // The HR system renamed Department to Dept.
    ws.write("hr.csv", header().replace("Department", "Dept") + GOOD);
    let r = run(&ws, &[]);
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("[Department]"), "{}", r.stdout);
    assert!(
        r.stdout.contains("Dept"),
        "the error lists what the file has: {}",
        r.stdout
    );
    assert_eq!(
        accounts(&ws)["E1"]["Department"],
        "Research",
        "nothing was cleared"
    );

    let check = testkit::idsync(BIN, ws.path(), &["check", "-c", "idsync.toml"], &[]);
    assert_eq!(check.code, Some(2), "{}\n{}", check.stdout, check.stderr);
    assert!(
        check
            .stdout
            .contains("flow department of rule hr-people reads [Department]"),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains("idsync.toml:46:14: flow department"),
        "the error points into the configuration: {}",
        check.stdout
    );
}

#[test]
fn a_config_with_mistakes_reports_all_of_them_with_file_line_and_column() {
    let ws = workspace();
    ws.write(
        "idsync.toml",
        CONFIG
            .replace("connector = \"contractors\"", "connector = \"contractor\"")
            .replace("precedence = 10", "precedense = 10"),
    );
    let r = testkit::idsync(BIN, ws.path(), &["check", "-c", "idsync.toml"], &[]);
    assert_eq!(r.code, Some(2), "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("idsync.toml:"), "{}", r.stderr);
    assert!(
        r.stderr.contains("contractors"),
        "did you mean the connector: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains("precedence"),
        "did you mean the key: {}",
        r.stderr
    );
}
