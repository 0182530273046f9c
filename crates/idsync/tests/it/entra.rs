//! HR to Entra ID, cloud-only: the binary provisions users with a manager and a license into
//! an emulated tenant, disables a leaver, and a run with nothing new changes nothing.

use graph_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use serde_json::Value as Json;
use testkit::{Workspace, idsync};

use crate::support::*;

/// An emulated tenant, served by a runtime of its own for as long as the test holds it
/// (the binary under test runs in another process).
struct Tenant {
    emulator: RunningEmulator,
    _runtime: tokio::runtime::Runtime,
}

impl Tenant {
    fn start(options: EmulatorOptions) -> Tenant {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let emulator = runtime.block_on(Emulator::start(options)).unwrap();
        Tenant {
            emulator,
            _runtime: runtime,
        }
    }
}

impl std::ops::Deref for Tenant {
    type Target = RunningEmulator;

    fn deref(&self) -> &RunningEmulator {
        &self.emulator
    }
}

/// HR as in the other scenarios, Entra as the target.
fn entra_config(emulator: &RunningEmulator) -> String {
    format!(
        r#"
[store]
path = "idsync.db"

[[connector]]
name = "hr"
type = "csv"
path = "hr.csv"
anchor = "EmployeeID"
object_type = "person"
columns = {{ HireDate = {{ type = "date", format = "%Y-%m-%d" }}, ManagerID = {{ type = "reference" }} }}

[[connector]]
name = "entra"
type = "graph"
tenant = "{tenant}"
client_id = "{client}"
client_secret = {{ file = "entra-secret" }}
login_url = "{login}"
graph_url = "{graph}"
object_types = ["user"]

[[inbound]]
name = "hr-people"
connector = "hr"
project = true
join = [ {{ vault = "employeeId", expr = "[EmployeeID]" }} ]
[inbound.flows]
employeeId = "[EmployeeID]"
givenName = "[FirstName]"
surname = "[LastName]"
department = "[Department]"
title = "[Title]"
manager = "[ManagerID]"
status = "[Status]"

[[outbound]]
name = "entra-users"
connector = "entra"
object_type = "user"
scope = '[status] = "Active"'
provision = true
deprovision = {{ action = "disable", attribute = "accountEnabled", value = "False", delete_after = "30d" }}
join = [ {{ vault = "employeeId", expr = "[employeeId]" }} ]
[outbound.flows]
userPrincipalName = {{ expr = 'Join(".", ToLower([givenName]), ToLower([surname]))', when = "create" }}
displayName = 'Join(" ", [givenName], [surname])'
givenName = "[givenName]"
surname = "[surname]"
employeeId = "[employeeId]"
department = "[department]"
jobTitle = "[title]"
usageLocation = '"US"'
manager = "[manager]"
licenses = '"ENTERPRISEPACK"'
accountEnabled = '"True"'
"#,
        tenant = emulator.info.tenant_id,
        client = emulator.info.client_id,
        login = emulator.login_url(),
        graph = emulator.graph_url(),
    )
}

fn state(emulator: &RunningEmulator) -> Json {
    emulator.state().directory().dump()
}

fn user<'a>(state: &'a Json, upn_prefix: &str) -> &'a Json {
    state["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| {
            u["userPrincipalName"]
                .as_str()
                .is_some_and(|upn| upn.starts_with(upn_prefix))
        })
        .unwrap_or_else(|| panic!("no user {upn_prefix}… in {state:#}"))
}

#[test]
fn hr_provisions_licensed_users_with_managers_into_entra_and_disables_a_leaver() {
    let emulator = Tenant::start(EmulatorOptions::default());
    let ws = Workspace::new();
    ws.write("idsync.toml", entra_config(&emulator));
    ws.write("entra-secret", &emulator.info.client_secret);
    hr(
        &ws,
        hr_file(&[
            ("E1", "Ada", "Lovelace", "Engineering", "", "Active"),
            ("E2", "Alan", "Turing", "Engineering", "E1", "Active"),
            ("E3", "Grace", "Hopper", "Research", "E1", "Active"),
        ]),
    );

    let first = run_ok(&ws);
    assert!(first.stdout.contains("entra"), "{}", first.stdout);
    let tenant = state(&emulator);
    let ada = user(&tenant, "ada.lovelace@");
    let alan = user(&tenant, "alan.turing@");
    assert_eq!(ada["displayName"], "Ada Lovelace");
    assert_eq!(ada["usageLocation"], "US");
    assert_eq!(ada["accountEnabled"], true);
    // The bare UPN got the tenant's initial domain.
    assert_eq!(
        ada["userPrincipalName"],
        format!("ada.lovelace@{}", emulator.info.initial_domain)
    );
    assert_eq!(alan["manager"], ada["id"], "manager set as a reference");
    assert_eq!(
        alan["assignedLicenses"][0]["skuId"].as_str().map(str::len),
        Some(36),
        "licensed: {alan:#}"
    );

    // check proves the token and shows the tenant; schema lists idsync's attributes too.
    let check = idsync(BIN, ws.path(), &["check", "-c", "idsync.toml"], &[]);
    assert_eq!(check.code, Some(0), "{}\n{}", check.stdout, check.stderr);
    assert!(
        check.stdout.contains("subscriptions: ENTERPRISEPACK"),
        "{}",
        check.stdout
    );
    let schema = idsync(
        BIN,
        ws.path(),
        &["schema", "-c", "idsync.toml", "entra"],
        &[],
    );
    assert!(
        schema.stdout.contains("licenses") && schema.stdout.contains("manager"),
        "{}",
        schema.stdout
    );
    assert!(
        !check.stdout.contains(&emulator.info.client_secret),
        "no secret in the output"
    );

    // Nothing changed: nothing is written.
    let writes_before = emulator.state().stats().writes;
    run_ok(&ws);
    assert_eq!(
        emulator.state().stats().writes,
        writes_before,
        "a run with nothing new wrote to Entra"
    );

    // Grace leaves: her account is disabled, not deleted (the grace period is 30 days).
    hr(
        &ws,
        hr_file(&[
            ("E1", "Ada", "Lovelace", "Engineering", "", "Active"),
            ("E2", "Alan", "Turing", "Engineering", "E1", "Active"),
            ("E3", "Grace", "Hopper", "Research", "E1", "Inactive"),
        ]),
    );
    run_ok(&ws);
    let tenant = state(&emulator);
    assert_eq!(user(&tenant, "grace.hopper@")["accountEnabled"], false);
    assert_eq!(user(&tenant, "ada.lovelace@")["accountEnabled"], true);
}

/// Users synchronized from AD: joined by immutable id; their on-premises attributes are
/// left to AD (and the plan says so), while licenses and cloud attributes are written.
#[test]
fn synchronized_users_are_joined_by_immutable_id_and_only_cloud_attributes_are_written() {
    let emulator = Tenant::start(EmulatorOptions::default());
    let domain = emulator.info.initial_domain.clone();
    for (name, immutable) in [
        ("ada", "AAAAAAAAAAAAAAAAAAAAAA=="),
        ("alan", "AQEBAQEBAQEBAQEBAQEBAQ=="),
    ] {
        let body = serde_json::json!({
            "userPrincipalName": format!("{name}@{domain}"),
            "displayName": format!("{name} (from AD)"),
            "mailNickname": name,
            "onPremisesSyncEnabled": true,
            "onPremisesImmutableId": immutable,
        });
        let Json::Object(body) = body else {
            unreachable!()
        };
        let state = emulator.state();
        let now = state.clock.now();
        state
            .directory()
            .seed_user(body, state.ids.guid(), now)
            .unwrap();
    }
    let ws = Workspace::new();
    let config = entra_config(&emulator)
        .replace(
            "join = [ { vault = \"employeeId\", expr = \"[employeeId]\" } ]\n[outbound.flows]",
            "join = [ { vault = \"immutableId\", expr = \"[onPremisesImmutableId]\" } ]\n[outbound.flows]",
        )
        .replace("provision = true\n", "provision = false\n")
        .replace("employeeId = \"[EmployeeID]\"\n", "employeeId = \"[EmployeeID]\"\nimmutableId = \"[Mobile]\"\n");
    assert!(config.contains("[onPremisesImmutableId]") && config.contains("provision = false"));
    ws.write("idsync.toml", config);
    ws.write("entra-secret", &emulator.info.client_secret);
    // The HR export carries each person's AD immutable id (in the Mobile column here).
    let mut csv = testkit::Csv::new(HR_HEADER);
    for (id, first, last, immutable) in [
        ("E1", "Ada", "Lovelace", "AAAAAAAAAAAAAAAAAAAAAA=="),
        ("E2", "Alan", "Turing", "AQEBAQEBAQEBAQEBAQEBAQ=="),
    ] {
        csv = csv.row(&[
            id,
            first,
            last,
            "",
            "Engineering",
            "Engineer",
            "",
            "Active",
            immutable,
            "2020-01-01",
        ]);
    }
    hr(&ws, csv);

    let preview = idsync(BIN, ws.path(), &["preview", "-c", "idsync.toml"], &[]);
    assert!(
        preview.stdout.contains("not written: displayName"),
        "the plan names what AD masters:\n{}\n{}",
        preview.stdout,
        preview.stderr
    );
    run_ok(&ws);
    run_ok(&ws);
    let tenant = state(&emulator);
    let ada = user(&tenant, "ada@");
    assert_eq!(ada["displayName"], "ada (from AD)", "AD's value stays");
    assert_eq!(ada["usageLocation"], "US", "a cloud attribute is written");
    assert_eq!(
        ada["assignedLicenses"].as_array().map(Vec::len),
        Some(1),
        "licensed: {ada:#}"
    );
}

/// 30 hires and 25 seats: the guard stops the export before the first user, saying why,
/// instead of Entra refusing the last five one by one.
#[test]
fn more_licenses_than_free_seats_stop_at_the_guard() {
    let emulator = Tenant::start(EmulatorOptions::default());
    let ws = Workspace::new();
    ws.write("idsync.toml", entra_config(&emulator));
    ws.write("entra-secret", &emulator.info.client_secret);
    let names: Vec<(String, String)> = (0..30)
        .map(|i| (format!("E{i}"), format!("Person{i}")))
        .collect();
    let rows: Vec<(&str, &str, &str, &str, &str, &str)> = names
        .iter()
        .map(|(id, last)| (id.as_str(), "Pat", last.as_str(), "Sales", "", "Active"))
        .collect();
    hr(&ws, hr_file(&rows));
    let run = idsync(BIN, ws.path(), &["run", "-c", "idsync.toml"], &[]);
    let all = format!("{}\n{}", run.stdout, run.stderr);
    assert_ne!(run.code, Some(0), "{all}");
    assert!(
        all.contains("30 users would get ENTERPRISEPACK but only 25 of its 25 seats are free"),
        "{all}"
    );
    assert_eq!(
        state(&emulator)["users"].as_array().map(Vec::len),
        Some(0),
        "nothing was created"
    );
}

/// A team file whose members are HR employee ids becomes an Entra group: members are
/// added and removed one at a time, and a member added by hand in Entra stays.
#[test]
fn a_team_becomes_a_group_whose_hand_added_members_are_left_alone() {
    let emulator = Tenant::start(EmulatorOptions::default());
    let ws = Workspace::new();
    let config = entra_config(&emulator).replace(
        "object_types = [\"user\"]",
        "object_types = [\"user\", \"group\"]",
    ) + r#"
[[connector]]
name = "teams"
type = "csv"
path = "teams.csv"
anchor = "TeamId"
object_type = "team"
columns = { Members = { type = "reference", multi = "|", refers_to = "hr" } }

[[inbound]]
name = "teams"
connector = "teams"
vault_type = "group"
project = true
join = [ { vault = "teamId", expr = "[TeamId]" } ]
[inbound.flows]
teamId = "[TeamId]"
groupName = "[Name]"
members = "[Members]"

[[outbound]]
name = "entra-groups"
connector = "entra"
object_type = "group"
vault_type = "group"
provision = true
deprovision = { action = "delete" }
join = [ { vault = "groupName", expr = "[displayName]" } ]
[outbound.flows]
displayName = "[groupName]"
description = 'Join(" ", "Team", [groupName])'
members = "[members]"
"#;
    ws.write("idsync.toml", config);
    ws.write("entra-secret", &emulator.info.client_secret);
    hr(
        &ws,
        hr_file(&[
            ("E1", "Ada", "Lovelace", "Engineering", "", "Active"),
            ("E2", "Alan", "Turing", "Engineering", "E1", "Active"),
            ("E3", "Grace", "Hopper", "Research", "E1", "Active"),
        ]),
    );
    ws.write("teams.csv", "TeamId,Name,Members\nT1,Engines,E1|E2|E3\n");
    run_ok(&ws);
    let group_members = |emulator: &RunningEmulator| -> Vec<String> {
        let tenant = state(emulator);
        let group = tenant["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["displayName"] == "Engines")
            .unwrap_or_else(|| panic!("no group Engines in {tenant:#}"))
            .clone();
        let mut upns: Vec<String> = group["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| {
                tenant["users"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|u| u["id"] == *id)
                    .map(|u| {
                        u["userPrincipalName"]
                            .as_str()
                            .unwrap()
                            .split('@')
                            .next()
                            .unwrap()
                            .to_owned()
                    })
                    .unwrap_or_else(|| id.as_str().unwrap().to_owned())
            })
            .collect();
        upns.sort();
        upns
    };
    assert_eq!(
        group_members(&emulator),
        ["ada.lovelace", "alan.turing", "grace.hopper"]
    );

    // An administrator adds a service account to the group by hand.
    let service = {
        let state = emulator.state();
        let now = state.clock.now();
        let body = serde_json::json!({
            "userPrincipalName": format!("svc-build@{}", emulator.info.initial_domain),
            "displayName": "Build service",
            "mailNickname": "svc-build",
        });
        let Json::Object(body) = body else {
            unreachable!()
        };
        let id = state.ids.guid();
        state.directory().seed_user(body, id.clone(), now).unwrap();
        id
    };
    let group_id = state(&emulator)["groups"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    emulator
        .state()
        .directory()
        .add_member(&group_id, &service)
        .unwrap();

    // Grace leaves the team: she is removed; the service account stays.
    ws.write("teams.csv", "TeamId,Name,Members\nT1,Engines,E1|E2\n");
    run_ok(&ws);
    assert_eq!(
        group_members(&emulator),
        ["ada.lovelace", "alan.turing", "svc-build"]
    );
}

/// A leaver is disabled, deleted when the grace period is over, and restored (same object,
/// same id) when rehired.
#[test]
fn a_leaver_is_disabled_then_deleted_after_the_grace_period_and_restored_on_rehire() {
    let emulator = Tenant::start(EmulatorOptions::default());
    let ws = Workspace::new();
    ws.write("idsync.toml", entra_config(&emulator));
    ws.write("entra-secret", &emulator.info.client_secret);
    let staff = |grace: &str| {
        hr_file(&[
            ("E1", "Ada", "Lovelace", "Engineering", "", "Active"),
            ("E3", "Grace", "Hopper", "Research", "E1", grace),
        ])
    };
    hr(&ws, staff("Active"));
    run_ok_at(&ws, "2026-11-01T09:00:00Z");
    let id = user(&state(&emulator), "grace.hopper@")["id"].clone();

    hr(&ws, staff("Inactive"));
    run_ok_at(&ws, "2026-11-02T09:00:00Z");
    assert_eq!(
        user(&state(&emulator), "grace.hopper@")["accountEnabled"],
        false
    );

    // 31 days later the grace period (30 days) is over: the account is deleted (soft).
    let deleted = run_ok_at(&ws, "2026-12-03T09:00:00Z");
    assert!(deleted.stdout.contains("1 deletes"), "{}", deleted.stdout);
    let tenant = state(&emulator);
    assert!(
        tenant["deletedUsers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == id),
        "in deleted items: {tenant:#}"
    );

    // Rehired: the same account comes back from deleted items, enabled.
    hr(&ws, staff("Active"));
    run_ok_at(&ws, "2026-12-10T09:00:00Z");
    let back = user(&state(&emulator), "grace.hopper@").clone();
    assert_eq!(back["id"], id, "restored, not created anew");
    assert_eq!(back["accountEnabled"], true);
}

/// Throttled to a trickle and failing one call in ten: runs are repeated until nothing is
/// pending, and every user exists exactly once.
#[test]
fn throttling_and_faults_lose_and_repeat_no_write_and_the_runs_converge() {
    let emulator = Tenant::start(EmulatorOptions {
        throttle: graph_emulator::ThrottleLimits {
            app_tenant_writes: 30.0,
            app_tenant_write_window_secs: 2.0,
            ..Default::default()
        },
        fault_rate: 0.1,
        seed: Some(11),
        ..EmulatorOptions::default()
    });
    let ws = Workspace::new();
    ws.write(
        "idsync.toml",
        entra_config(&emulator)
            .replace(
                "[store]\n",
                "[retry]\nbackoff = \"1s\"\nmax_attempts = 20\n\n[store]\n",
            )
            .replace("licenses = '\"ENTERPRISEPACK\"'\n", ""),
    );
    ws.write("entra-secret", &emulator.info.client_secret);
    let ids: Vec<(String, String)> = (0..60)
        .map(|i| (format!("E{i}"), format!("Load{i}")))
        .collect();
    let rows: Vec<(&str, &str, &str, &str, &str, &str)> = ids
        .iter()
        .map(|(id, last)| (id.as_str(), "Pat", last.as_str(), "Sales", "E0", "Active"))
        .collect();
    hr(&ws, hr_file(&rows));
    let mut runs = 0;
    loop {
        runs += 1;
        let run = idsync(BIN, ws.path(), &["run", "-c", "idsync.toml"], &[]);
        let pending = run.stdout.contains("retrying") && !run.stdout.contains("0 retrying");
        let quarantined = !run.stdout.contains("0 quarantined");
        if run.code == Some(0) && !pending && !quarantined {
            break;
        }
        assert!(
            runs < 15,
            "did not converge:\n{}\n{}",
            run.stdout,
            run.stderr
        );
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    let tenant = state(&emulator);
    let upns: std::collections::BTreeSet<&str> = tenant["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["userPrincipalName"].as_str())
        .collect();
    assert_eq!(upns.len(), 60, "every user exactly once");
    assert_eq!(tenant["users"].as_array().unwrap().len(), 60);
    let managed = tenant["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["manager"].is_string())
        .count();
    assert_eq!(managed, 59, "everyone but E0 has E0 as manager");
}
