//! The configuration and data the scenarios share.

use testkit::{Csv, Run, Workspace, idsync};

pub const BIN: &str = env!("CARGO_BIN_EXE_idsync");

/// HR and contractors into the vault; accounts out to a directory file.
pub const CONFIG: &str = r#"
[store]
path = "idsync.db"

[guard]
deletion_threshold = 5
disable_threshold = 5

[retry]
max_attempts = 3
backoff = "1m"

[[connector]]
name = "hr"
type = "csv"
path = "hr.csv"
anchor = "EmployeeID"
object_type = "person"
columns = { HireDate = { type = "date", format = "%Y-%m-%d" }, ManagerID = { type = "reference" } }

[[connector]]
name = "contractors"
type = "csv"
path = "contractors.csv"
anchor = "ContractorId"
object_type = "person"

[[connector]]
name = "directory"
type = "csv"
path = "out/accounts.csv"
anchor = "AccountId"
object_type = "account"

[[inbound]]
name = "hr-people"
connector = "hr"
precedence = 10
project = true
join = [ { vault = "employeeId", expr = "[EmployeeID]" }, { vault = "mail", expr = "[Email]" } ]
[inbound.flows]
employeeId = "[EmployeeID]"
givenName = "[FirstName]"
surname = "[LastName]"
mail = "[Email]"
department = "[Department]"
title = "[Title]"
manager = "[ManagerID]"
status = "[Status]"
mobile = "[Mobile]"
hireDate = "[HireDate]"

[[inbound]]
name = "contractor-people"
connector = "contractors"
precedence = 20
project = true
join = [ { vault = "mail", expr = "[Email]" } ]
[inbound.flows]
givenName = "[GivenName]"
surname = "[FamilyName]"
mail = "[Email]"
title = "[JobTitle]"
status = "[Status]"
mobile = { expr = "[Mobile]", precedence = 5 }

[[outbound]]
name = "accounts"
connector = "directory"
object_type = "account"
scope = '[status] = "Active"'
provision = true
deprovision = { action = "disable", attribute = "Enabled", value = "False", delete_after = "30d" }
join = [ { vault = "identityId", expr = "[AccountId]" } ]
[outbound.flows]
AccountId = "[identityId]"
EmployeeID = "[employeeId]"
GivenName = "[givenName]"
Surname = "[surname]"
Mail = "[mail]"
Department = "[department]"
Title = "[title]"
Manager = "[manager]"
Mobile = "[mobile]"
Enabled = '"True"'
Upn = { expr = "[mail]", when = "create" }
"#;

pub const HR_HEADER: &[&str] = &[
    "EmployeeID",
    "FirstName",
    "LastName",
    "Email",
    "Department",
    "Title",
    "ManagerID",
    "Status",
    "Mobile",
    "HireDate",
];

pub const CONTRACTOR_HEADER: &[&str] = &[
    "ContractorId",
    "GivenName",
    "FamilyName",
    "Email",
    "JobTitle",
    "Status",
    "Mobile",
];

/// A workspace with the configuration and empty sources.
pub fn workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write("idsync.toml", CONFIG);
    ws.write("hr.csv", Csv::new(HR_HEADER).render());
    ws.write("contractors.csv", Csv::new(CONTRACTOR_HEADER).render());
    ws
}

pub fn hr(ws: &Workspace, csv: Csv) {
    ws.write("hr.csv", csv.render());
}

pub fn contractors(ws: &Workspace, csv: Csv) {
    ws.write("contractors.csv", csv.render());
}

pub fn run(ws: &Workspace, extra: &[&str]) -> Run {
    let mut args = vec!["run", "-c", "idsync.toml"];
    args.extend_from_slice(extra);
    idsync(BIN, ws.path(), &args, &[])
}

pub fn run_at(ws: &Workspace, now: &str, extra: &[&str]) -> Run {
    let mut args = vec!["run", "-c", "idsync.toml"];
    args.extend_from_slice(extra);
    idsync(BIN, ws.path(), &args, &[("IDSYNC_NOW", now)])
}

/// Runs and asserts a clean exit.
pub fn run_ok(ws: &Workspace) -> Run {
    let r = run(ws, &[]);
    assert_eq!(
        r.code,
        Some(0),
        "run failed:\nstdout:\n{}\nstderr:\n{}",
        r.stdout,
        r.stderr
    );
    r
}

/// Runs as if it were `now` and asserts a clean exit.
pub fn run_ok_at(ws: &Workspace, now: &str) -> Run {
    let r = run_at(ws, now, &[]);
    assert_eq!(
        r.code,
        Some(0),
        "run failed:\nstdout:\n{}\nstderr:\n{}",
        r.stdout,
        r.stderr
    );
    r
}

pub fn show(ws: &Workspace, target: &str) -> serde_json::Value {
    let r = idsync(
        BIN,
        ws.path(),
        &["show", "-c", "idsync.toml", target, "--json"],
        &[],
    );
    assert_eq!(r.code, Some(0), "show failed: {}\n{}", r.stdout, r.stderr);
    r.json()
}

pub fn show_text(ws: &Workspace, target: &str) -> String {
    let r = idsync(BIN, ws.path(), &["show", "-c", "idsync.toml", target], &[]);
    assert_eq!(r.code, Some(0), "show failed: {}\n{}", r.stdout, r.stderr);
    r.stdout
}

/// The directory's accounts, keyed by EmployeeID (or Mail when there is none).
pub fn accounts(
    ws: &Workspace,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> {
    if !ws.exists("out/accounts.csv") {
        return Default::default();
    }
    testkit::read_csv(&ws.join("out/accounts.csv"))
        .into_iter()
        .map(|row| {
            let key = row
                .get("EmployeeID")
                .filter(|v| !v.is_empty())
                .or_else(|| row.get("Mail"))
                .cloned()
                .unwrap_or_default();
            (key, row)
        })
        .collect()
}

/// The winning values of one attribute of an identity shown as JSON.
pub fn values(identity: &serde_json::Value, attribute: &str) -> Vec<String> {
    identity["identity"]["attributes"][attribute]
        .as_array()
        .and_then(|contributions| contributions.first())
        .and_then(|winner| winner["values"].as_array())
        .map(|vs| {
            vs.iter()
                .map(|v| {
                    v.as_object()
                        .and_then(|o| o.values().next())
                        .and_then(|x| x.as_str())
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// An HR file from rows of (id, first, last, department, manager, status).
pub fn hr_file(rows: &[(&str, &str, &str, &str, &str, &str)]) -> Csv {
    let mut csv = Csv::new(HR_HEADER);
    for (id, first, last, dept, manager, status) in rows {
        let mail = format!(
            "{}.{}@contoso.com",
            first.to_lowercase(),
            last.to_lowercase()
        );
        csv = csv.row(&[
            id,
            first,
            last,
            &mail,
            dept,
            "Engineer",
            manager,
            status,
            "",
            "2020-01-01",
        ]);
    }
    csv
}
