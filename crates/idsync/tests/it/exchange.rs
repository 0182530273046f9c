//! HR to Entra to Exchange Online: a hire gets a licensed Entra user; once Exchange has made
//! the mailbox, an Exchange rule puts it on litigation hold with an archive. Contractors
//! become mail contacts. Until the mailbox exists, the mailbox settings wait (pending), and
//! nothing is written twice.

use std::time::Duration;

use graph_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use testkit::{Csv, Workspace, idsync};

use crate::support::*;

fn exchange_config(emulator: &RunningEmulator) -> String {
    format!(
        r#"
[store]
path = "idsync.db"

[retry]
max_attempts = 10
backoff = "1m"

[[connector]]
name = "hr"
type = "csv"
path = "hr.csv"
anchor = "EmployeeID"
object_type = "person"

[[connector]]
name = "contractors"
type = "csv"
path = "contractors.csv"
anchor = "ContractorId"
object_type = "person"

[[connector]]
name = "entra"
type = "graph"
tenant = "{tenant}"
client_id = "{client}"
client_secret = {{ file = "app-secret" }}
login_url = "{login}"
graph_url = "{graph}"
object_types = ["user"]

[[connector]]
name = "exchange"
type = "exchange"
tenant = "{tenant}"
client_id = "{client}"
client_secret = {{ file = "app-secret" }}
login_url = "{login}"
exchange_url = "{login}"
object_types = ["mailbox", "mailContact"]
page_size = 2

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
status = "[Status]"
upn = 'Join("", ToLower([FirstName]), ".", ToLower([LastName]), "@{domain}")'

[[inbound]]
name = "contractor-people"
connector = "contractors"
vault_type = "contractor"
project = true
join = [ {{ vault = "mail", expr = "[Email]" }} ]
[inbound.flows]
givenName = "[GivenName]"
surname = "[FamilyName]"
mail = "[Email]"
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
userPrincipalName = {{ expr = "[upn]", when = "create" }}
displayName = 'Join(" ", [givenName], [surname])'
employeeId = "[employeeId]"
department = "[department]"
usageLocation = '"US"'
licenses = '"ENTERPRISEPACK"'
accountEnabled = '"True"'

[[outbound]]
name = "exchange-mailboxes"
connector = "exchange"
object_type = "mailbox"
scope = '[status] = "Active"'
provision = true
deprovision = {{ action = "disconnect" }}
join = [ {{ vault = "upn", expr = "[userPrincipalName]" }} ]
[outbound.flows]
userPrincipalName = {{ expr = "[upn]", when = "create" }}
litigationHold = '"True"'
archive = '"True"'

[[outbound]]
name = "exchange-contacts"
connector = "exchange"
vault_type = "contractor"
object_type = "mailContact"
scope = '[status] = "Active"'
provision = true
join = [ {{ vault = "mail", expr = "[externalEmailAddress]" }} ]
[outbound.flows]
name = {{ expr = 'Join("-", ToLower([givenName]), ToLower([surname]))', when = "create" }}
displayName = 'Join(" ", [givenName], [surname], "(contractor)")'
externalEmailAddress = "[mail]"
"#,
        tenant = emulator.info.tenant_id,
        client = emulator.info.client_id,
        login = emulator.login_url(),
        graph = emulator.graph_url(),
        domain = emulator.info.initial_domain,
    )
}

fn hr_rows(rows: &[(&str, &str, &str, &str, &str)]) -> Csv {
    let mut csv = Csv::new(&[
        "EmployeeID",
        "FirstName",
        "LastName",
        "Department",
        "Status",
    ]);
    for (id, first, last, dept, status) in rows {
        csv = csv.row(&[id, first, last, dept, status]);
    }
    csv
}

fn entra_user(emulator: &RunningEmulator, upn: &str) -> Option<serde_json::Value> {
    let state = emulator.state();
    let dir = state.directory();
    let users = dir.dump();
    let user = users["users"]
        .as_array()?
        .iter()
        .find(|u| u["userPrincipalName"].as_str() == Some(upn))?
        .clone();
    Some(user)
}

#[test]
fn a_licensed_hire_gets_litigation_hold_once_the_mailbox_exists_and_contractors_become_contacts() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime
        .block_on(Emulator::start(EmulatorOptions::default()))
        .unwrap();
    // Exchange takes its time to make the mailbox of a newly licensed user.
    emulator
        .state()
        .exchange
        .set_mailbox_delay(Duration::from_secs(3600));
    let domain = emulator.info.initial_domain.clone();
    let ws = Workspace::new();
    ws.write(
        "idsync.toml",
        exchange_config(&emulator).replace("max_attempts = 10", "max_attempts = 2"),
    );
    ws.write("app-secret", &emulator.info.client_secret);
    ws.write(
        "hr.csv",
        hr_rows(&[("E1", "Ada", "Lovelace", "Engineering", "Active")]).render(),
    );
    ws.write(
        "contractors.csv",
        Csv::new(CONTRACTOR_HEADER)
            .row(&[
                "C1",
                "Linus",
                "Pauling",
                "linus@partner.example",
                "Chemist",
                "Active",
                "",
            ])
            .render(),
    );

    // The mailbox settings wait: the run reports them as waiting, with the reason, and
    // ends ok, since nothing failed.
    let first = run_ok_at(&ws, "2030-01-01T08:00:00Z");
    assert!(
        first.stdout.contains("1 applied, 1 waiting, 0 retrying"),
        "{}",
        first.stdout
    );
    let upn = format!("ada.lovelace@{domain}");
    assert!(
        entra_user(&emulator, &upn).is_some(),
        "the Entra user exists"
    );
    assert!(
        first.stdout.contains("waiting for the mailbox")
            || first.stderr.contains("waiting for the mailbox"),
        "the mailbox settings wait, with the reason:\nstdout:\n{}\nstderr:\n{}",
        first.stdout,
        first.stderr
    );

    // Waiting counts no attempt: more runs than max_attempts (2 here) never quarantine it.
    for hour in ["09", "10", "11"] {
        let waiting = run_ok_at(&ws, &format!("2030-01-01T{hour}:00:00Z"));
        assert!(
            waiting.stdout.contains("1 waiting for their target")
                && !waiting.stdout.contains("quarantined after"),
            "{}",
            waiting.stdout
        );
    }
    let preview = idsync(
        BIN,
        ws.path(),
        &["preview", "-c", "idsync.toml"],
        &[("IDSYNC_NOW", "2030-01-01T11:30:00Z")],
    );
    assert!(
        preview.stdout.contains("waiting for the mailbox")
            && !preview.stdout.contains("quarantined"),
        "{}",
        preview.stdout
    );

    // Exchange has made the mailbox now; the next run after the retry delay sets it up.
    emulator.state().exchange.set_mailbox_delay(Duration::ZERO);
    let second = run_ok_at(&ws, "2030-01-01T12:00:00Z");
    let output = runtime.block_on(exchange_get(&emulator, "Get-Mailbox"));
    let ada = output
        .iter()
        .find(|m| m["UserPrincipalName"].as_str() == Some(upn.as_str()))
        .unwrap_or_else(|| panic!("no mailbox for {upn}: {output:?}\n{}", second.stdout));
    assert_eq!(ada["LitigationHoldEnabled"], true, "{ada}");
    assert_eq!(ada["ArchiveStatus"], "Active", "{ada}");

    let contacts = runtime.block_on(exchange_get(&emulator, "Get-MailContact"));
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    assert_eq!(contacts[0]["Name"], "linus-pauling");
    assert_eq!(contacts[0]["DisplayName"], "Linus Pauling (contractor)");
    assert_eq!(
        contacts[0]["ExternalEmailAddress"],
        "SMTP:linus@partner.example"
    );

    // check proves the Exchange token and a cmdlet, and prints no secret.
    let check = idsync(BIN, ws.path(), &["check", "-c", "idsync.toml"], &[]);
    assert_eq!(check.code, Some(0), "{}\n{}", check.stdout, check.stderr);
    assert!(
        check.stdout.contains("ran Get-Recipient"),
        "{}",
        check.stdout
    );
    assert!(
        !check.stdout.contains(&emulator.info.client_secret)
            && !check.stderr.contains(&emulator.info.client_secret),
        "no secret in the output"
    );

    // Nothing new: no cmdlet writes (reads only).
    let before = emulator.state().exchange.stats().cmdlets;
    let third = run_ok_at(&ws, "2030-01-01T13:00:00Z");
    let reads = emulator.state().exchange.stats().cmdlets - before;
    let written = runtime.block_on(exchange_get(&emulator, "Get-MailContact"));
    assert_eq!(written.len(), 1, "no second contact:\n{}", third.stdout);
    // One import reads mailboxes (and their two permission lists) and contacts; an export
    // would add Set-/New- cmdlets on top.
    assert!(
        reads <= 6,
        "a run with nothing new ran {reads} cmdlets:\n{}",
        third.stdout
    );

    // The contractor leaves: the contact is removed.
    ws.write(
        "contractors.csv",
        Csv::new(CONTRACTOR_HEADER)
            .row(&[
                "C1",
                "Linus",
                "Pauling",
                "linus@partner.example",
                "Chemist",
                "Inactive",
                "",
            ])
            .render(),
    );
    run_ok_at(&ws, "2030-01-01T14:00:00Z");
    let contacts = runtime.block_on(exchange_get(&emulator, "Get-MailContact"));
    assert!(contacts.is_empty(), "{contacts:?}");
}

/// Runs a read cmdlet directly against the emulator.
async fn exchange_get(emulator: &RunningEmulator, cmdlet: &str) -> Vec<serde_json::Value> {
    exchange_call(emulator, cmdlet, serde_json::json!({})).await
}

/// Runs a cmdlet directly against the emulator and returns its output objects.
async fn exchange_call(
    emulator: &RunningEmulator,
    cmdlet: &str,
    parameters: serde_json::Value,
) -> Vec<serde_json::Value> {
    let http = reqwest::Client::new();
    let info = &emulator.info;
    let token: serde_json::Value = http
        .post(emulator.token_url())
        .form(&[
            ("client_id", info.client_id.as_str()),
            ("client_secret", info.client_secret.as_str()),
            ("scope", "https://outlook.office365.com/.default"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let body: serde_json::Value = http
        .post(format!(
            "{}/adminapi/beta/{}/InvokeCommand",
            emulator.login_url(),
            info.tenant_id
        ))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&serde_json::json!({"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["value"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("{cmdlet} failed: {body}"))
}

/// HR lists departments' mailing lists beside the people; each becomes a distribution
/// group whose members are the people's mailboxes, and follows HR's changes by adds and
/// removes.
fn group_config(emulator: &RunningEmulator) -> String {
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
columns = {{ Members = {{ type = "reference", multi = ";" }} }}

[[connector]]
name = "exchange"
type = "exchange"
tenant = "{tenant}"
client_id = "{client}"
client_secret = {{ file = "app-secret" }}
login_url = "{login}"
exchange_url = "{login}"
object_types = ["mailbox", "distributionGroup"]

[[inbound]]
name = "hr-people"
connector = "hr"
scope = '[Kind] = "Person"'
project = true
join = [ {{ vault = "employeeId", expr = "[EmployeeID]" }} ]
[inbound.flows]
employeeId = "[EmployeeID]"
upn = "[Upn]"

[[inbound]]
name = "hr-lists"
connector = "hr"
vault_type = "list"
scope = '[Kind] = "List"'
project = true
join = [ {{ vault = "listId", expr = "[EmployeeID]" }} ]
[inbound.flows]
listId = "[EmployeeID]"
listName = "[Upn]"
members = "[Members]"

[[outbound]]
name = "exchange-mailboxes"
connector = "exchange"
object_type = "mailbox"
provision = true
deprovision = {{ action = "disconnect" }}
join = [ {{ vault = "upn", expr = "[userPrincipalName]" }} ]
[outbound.flows]
userPrincipalName = {{ expr = "[upn]", when = "create" }}

[[outbound]]
name = "exchange-lists"
connector = "exchange"
vault_type = "list"
object_type = "distributionGroup"
provision = true
join = [ {{ vault = "listName", expr = "[name]" }} ]
[outbound.flows]
name = {{ expr = "[listName]", when = "create" }}
displayName = "[listName]"
members = "[members]"
"#,
        tenant = emulator.info.tenant_id,
        client = emulator.info.client_id,
        login = emulator.login_url(),
    )
}

fn hr_with_lists(rows: &[(&str, &str, &str, &str)]) -> Csv {
    let mut csv = Csv::new(&["EmployeeID", "Kind", "Upn", "Members"]);
    for (id, kind, upn, members) in rows {
        csv = csv.row(&[id, kind, upn, members]);
    }
    csv
}

/// Users licensed for Exchange, seeded in Entra (so they have mailboxes); their ids.
fn licensed_users(emulator: &RunningEmulator, names: &[&str]) -> Vec<String> {
    let domain = &emulator.info.initial_domain;
    let state = emulator.state();
    let mut dir = state.directory();
    names
        .iter()
        .map(|name| {
            let body = serde_json::json!({
                "accountEnabled": true,
                "displayName": name,
                "mailNickname": name,
                "userPrincipalName": format!("{name}@{domain}"),
                "usageLocation": "US",
                "assignedLicenses": [{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900", "disabledPlans": []}],
            });
            let id = state.ids.guid();
            dir.seed_user(body.as_object().cloned().unwrap(), id.clone(), state.clock.now())
                .unwrap();
            id
        })
        .collect()
}

#[test]
fn a_department_list_becomes_a_distribution_group_kept_in_step_with_hr() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime
        .block_on(Emulator::start(EmulatorOptions::default()))
        .unwrap();
    let domain = emulator.info.initial_domain.clone();
    // Two licensed users with mailboxes, made in Entra beforehand.
    let ids = licensed_users(&emulator, &["ada", "alan"]);
    let ws = Workspace::new();
    ws.write("idsync.toml", group_config(&emulator));
    ws.write("app-secret", &emulator.info.client_secret);
    let ada = format!("ada@{domain}");
    let alan = format!("alan@{domain}");
    ws.write(
        "hr.csv",
        hr_with_lists(&[
            ("E1", "Person", &ada, ""),
            ("E2", "Person", &alan, ""),
            ("L1", "List", "engineering", "E1;E2"),
        ])
        .render(),
    );
    // The first run adopts the mailboxes; the group's members follow once they are linked.
    for hour in ["08", "09"] {
        let r = idsync(
            BIN,
            ws.path(),
            &["run", "-c", "idsync.toml"],
            &[("IDSYNC_NOW", &format!("2030-01-01T{hour}:00:00Z"))],
        );
        assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    }
    let members = runtime.block_on(group_members(&emulator, "engineering"));
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(members, expected, "both people are members");

    // Alan leaves the list: one remove, Ada stays.
    ws.write(
        "hr.csv",
        hr_with_lists(&[
            ("E1", "Person", &ada, ""),
            ("E2", "Person", &alan, ""),
            ("L1", "List", "engineering", "E1"),
        ])
        .render(),
    );
    let r = idsync(
        BIN,
        ws.path(),
        &["run", "-c", "idsync.toml"],
        &[("IDSYNC_NOW", "2030-01-01T10:00:00Z")],
    );
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    let members = runtime.block_on(group_members(&emulator, "engineering"));
    assert_eq!(members, vec![ids[0].clone()]);
    // The group is a mail-enabled group in Graph too.
    let dump = emulator.state().directory().dump();
    let group = dump["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["displayName"] == "engineering")
        .expect("the group is in Graph");
    assert_eq!(group["mailEnabled"], true);
}

/// A department's list also gets a shared mailbox, made by idsync with `New-Mailbox
/// -Shared` (no licence, no password), whose Full Access follows the list's members.
#[test]
fn a_departments_shared_mailbox_gives_full_access_to_its_members() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime
        .block_on(Emulator::start(EmulatorOptions::default()))
        .unwrap();
    let domain = emulator.info.initial_domain.clone();
    licensed_users(&emulator, &["ada", "alan"]);
    let ws = Workspace::new();
    let config = group_config(&emulator)
        + r#"
[[outbound]]
name = "exchange-shared"
connector = "exchange"
vault_type = "list"
object_type = "mailbox"
provision = true
deprovision = { action = "disconnect" }
join = [ { vault = "listName", expr = 'Replace([alias], "-desk", , , "", , )' } ]
[outbound.flows]
name = { expr = 'Join(" ", [listName], "desk")', when = "create" }
alias = { expr = 'Join("-", [listName], "desk")', when = "create" }
shared = { expr = '"True"', when = "create" }
fullAccess = "[members]"
"#;
    ws.write("idsync.toml", config);
    ws.write("app-secret", &emulator.info.client_secret);
    let ada = format!("ada@{domain}");
    let alan = format!("alan@{domain}");
    let hr = |members: &str| {
        hr_with_lists(&[
            ("E1", "Person", &ada, ""),
            ("E2", "Person", &alan, ""),
            ("L1", "List", "engineering", members),
        ])
        .render()
    };
    ws.write("hr.csv", hr("E1;E2"));
    // The first run adopts the people's mailboxes and makes the shared one; Full Access
    // follows once the people's mailboxes are linked.
    for hour in ["08", "09"] {
        run_ok_at(&ws, &format!("2030-01-01T{hour}:00:00Z"));
    }
    let desk = format!("engineering-desk@{domain}");
    let trustees = runtime.block_on(full_access(&emulator, &desk));
    assert_eq!(trustees, [ada.clone(), alan.clone()]);
    let mailboxes = runtime.block_on(exchange_get(&emulator, "Get-Mailbox"));
    let shared = mailboxes
        .iter()
        .find(|m| m["Alias"] == "engineering-desk")
        .unwrap_or_else(|| panic!("{mailboxes:?}"));
    assert_eq!(shared["RecipientTypeDetails"], "SharedMailbox");
    assert_eq!(shared["Name"], "engineering desk");

    // Alan leaves the department: his Full Access goes, Ada's stays, nothing is remade.
    ws.write("hr.csv", hr("E1"));
    let r = run_ok_at(&ws, "2030-01-01T10:00:00Z");
    assert_eq!(
        runtime.block_on(full_access(&emulator, &desk)),
        [ada],
        "{}",
        r.stdout
    );
    let after = runtime.block_on(exchange_get(&emulator, "Get-Mailbox"));
    assert_eq!(after.len(), mailboxes.len(), "no second shared mailbox");
}

/// The Full Access trustees of a mailbox, as Exchange names them (UPNs), without SELF.
async fn full_access(emulator: &RunningEmulator, mailbox: &str) -> Vec<String> {
    let rows = exchange_call(
        emulator,
        "Get-MailboxPermission",
        serde_json::json!({"Identity": mailbox}),
    )
    .await;
    let mut users: Vec<String> = rows
        .iter()
        .filter(|r| r["IsInherited"] == false)
        .filter_map(|r| r["User"].as_str().map(str::to_owned))
        .filter(|u| !u.starts_with("NT AUTHORITY"))
        .collect();
    users.sort();
    users
}

async fn group_members(emulator: &RunningEmulator, group: &str) -> Vec<String> {
    let members = exchange_call(
        emulator,
        "Get-DistributionGroupMember",
        serde_json::json!({"Identity": group}),
    )
    .await;
    let mut ids: Vec<String> = members
        .iter()
        .filter_map(|m| m["ExternalDirectoryObjectId"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

/// A user synchronized from AD: Exchange takes its mailbox settings from idsync, but the
/// mail attributes AD masters are withheld, on adoption and on every update after.
#[test]
fn a_synchronized_users_mailbox_gets_its_settings_but_not_the_attributes_ad_masters() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime
        .block_on(Emulator::start(EmulatorOptions::default()))
        .unwrap();
    let upn = format!("ada.lovelace@{}", emulator.info.initial_domain);
    {
        let state = emulator.state();
        let now = state.clock.now();
        let body = serde_json::json!({
            "userPrincipalName": upn,
            "displayName": "Ada Lovelace (from AD)",
            "mailNickname": "ada.lovelace",
            "onPremisesSyncEnabled": true,
            "usageLocation": "GB",
            "employeeId": "E1",
        });
        let serde_json::Value::Object(body) = body else {
            unreachable!()
        };
        state
            .directory()
            .seed_user(body, state.ids.guid(), now)
            .unwrap();
    }
    let config = exchange_config(&emulator)
        .replace("page_size = 2\n", "")
        .replace(
            "litigationHold = '\"True\"'",
            "litigationHold = '\"True\"'\nhiddenFromAddressLists = '\"True\"'",
        );
    let ws = Workspace::new();
    ws.write("idsync.toml", config);
    ws.write("app-secret", &emulator.info.client_secret);
    hr(
        &ws,
        hr_rows(&[("E1", "Ada", "Lovelace", "Engineering", "Active")]),
    );
    ws.write(
        "contractors.csv",
        "ContractorId,GivenName,FamilyName,Email,Status\n",
    );
    // The first run licenses the (joined) user; Exchange makes the mailbox at once here.
    run_ok_at(&ws, "2030-01-01T08:00:00Z");
    run_ok_at(&ws, "2030-01-01T09:00:00Z");
    let output = runtime.block_on(exchange_get(&emulator, "Get-Mailbox"));
    let ada = output
        .iter()
        .find(|m| m["UserPrincipalName"].as_str() == Some(upn.as_str()))
        .unwrap_or_else(|| panic!("no mailbox for {upn}: {output:?}"));
    assert_eq!(ada["IsDirSynced"], true, "{ada}");
    assert_eq!(
        ada["LitigationHoldEnabled"], true,
        "a setting is written: {ada}"
    );
    assert_eq!(
        ada["HiddenFromAddressListsEnabled"], false,
        "AD's attribute is not: {ada}"
    );
}

/// Exchange slow to show what it made and short of cmdlets: runs repeat until nothing is
/// pending, and every contractor is a mail contact exactly once.
#[test]
fn under_a_replication_delay_and_a_tiny_cmdlet_budget_contacts_are_written_exactly_once() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime
        .block_on(Emulator::start(EmulatorOptions {
            eventual_consistency: Duration::from_millis(1500),
            ..EmulatorOptions::default()
        }))
        .unwrap();
    emulator
        .state()
        .exchange
        .set_throttle(graph_emulator::exchange::ExchangeThrottle {
            burst: 5.0,
            per_second: 10.0,
        });
    let ws = Workspace::new();
    ws.write(
        "idsync.toml",
        exchange_config(&emulator).replace(
            "max_attempts = 10\nbackoff = \"1m\"",
            "max_attempts = 20\nbackoff = \"1s\"",
        ),
    );
    ws.write("app-secret", &emulator.info.client_secret);
    hr(&ws, hr_rows(&[]));
    let mut contractors = Csv::new(CONTRACTOR_HEADER);
    let rows: Vec<[String; 7]> = (0..25)
        .map(|i| {
            [
                format!("C{i}"),
                "Pat".into(),
                format!("Partner{i}"),
                format!("pat{i}@partner.example"),
                "Consultant".into(),
                "Active".into(),
                String::new(),
            ]
        })
        .collect();
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        contractors = contractors.row(&cells);
    }
    ws.write("contractors.csv", contractors.render());
    let mut runs = 0;
    loop {
        runs += 1;
        let run = idsync(BIN, ws.path(), &["run", "-c", "idsync.toml"], &[]);
        // Settled: a run that found nothing to plan and nothing to export.
        let settled = run.code == Some(0)
            && !run.stdout.contains("outbound:")
            && !run.stdout.contains("export:");
        if settled {
            break;
        }
        assert!(
            runs < 15,
            "did not converge:\n{}\n{}",
            run.stdout,
            run.stderr
        );
        std::thread::sleep(Duration::from_millis(1600));
    }
    let contacts = runtime.block_on(exchange_get(&emulator, "Get-MailContact"));
    let mut names: Vec<&str> = contacts.iter().filter_map(|c| c["Name"].as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 25, "{contacts:?}");
    assert_eq!(contacts.len(), 25, "no contact twice");
}

/// Partners as B2B guests: the contractor source invites each into Entra, and Exchange's
/// mail user for the guest (made by Exchange, never by a password-taking cmdlet) is
/// adopted and shown in the address book with a company address beside the outside one.
#[test]
fn a_contractor_invited_as_a_guest_gets_a_mail_user_shown_in_the_address_book() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime
        .block_on(Emulator::start(EmulatorOptions::default()))
        .unwrap();
    let ws = Workspace::new();
    ws.write(
        "idsync.toml",
        format!(
            r#"
[store]
path = "idsync.db"

[[connector]]
name = "contractors"
type = "csv"
path = "contractors.csv"
anchor = "ContractorId"
object_type = "person"

[[connector]]
name = "entra"
type = "graph"
tenant = "{tenant}"
client_id = "{client}"
client_secret = {{ file = "app-secret" }}
login_url = "{login}"
graph_url = "{graph}"
object_types = ["user"]
send_invitations = false

[[connector]]
name = "exchange"
type = "exchange"
tenant = "{tenant}"
client_id = "{client}"
client_secret = {{ file = "app-secret" }}
login_url = "{login}"
exchange_url = "{login}"
object_types = ["mailUser"]

[[inbound]]
name = "contractor-people"
connector = "contractors"
project = true
join = [ {{ vault = "mail", expr = "[Email]" }} ]
[inbound.flows]
givenName = "[GivenName]"
surname = "[FamilyName]"
mail = "[Email]"
status = "[Status]"

[[outbound]]
name = "entra-guests"
connector = "entra"
object_type = "user"
scope = '[status] = "Active"'
provision = true
join = [ {{ vault = "mail", expr = "[mail]" }} ]
[outbound.flows]
userType = {{ expr = '"Guest"', when = "create" }}
mail = {{ expr = "[mail]", when = "create" }}
displayName = 'Join(" ", [givenName], [surname], "(partner)")'

[[outbound]]
name = "exchange-guests"
connector = "exchange"
object_type = "mailUser"
scope = '[status] = "Active"'
provision = true
deprovision = {{ action = "disconnect" }}
join = [ {{ vault = "mail", expr = "[externalEmailAddress]" }} ]
[outbound.flows]
externalEmailAddress = {{ expr = "[mail]", when = "create" }}
hiddenFromAddressLists = '"False"'
emailAddresses = 'Join("", "smtp:", ToLower([givenName]), ".partner@{domain}")'
"#,
            tenant = emulator.info.tenant_id,
            client = emulator.info.client_id,
            login = emulator.login_url(),
            graph = emulator.graph_url(),
            domain = emulator.info.initial_domain,
        ),
    );
    ws.write("app-secret", &emulator.info.client_secret);
    ws.write(
        "contractors.csv",
        Csv::new(CONTRACTOR_HEADER)
            .row(&[
                "C1",
                "Pia",
                "Lund",
                "pia@partner.example",
                "Designer",
                "Active",
                "",
            ])
            .render(),
    );
    // The guest is invited in the first run; its mail user may only exist after it, so
    // the Exchange side converges within the next runs, waiting meanwhile.
    for hour in ["08", "09", "10"] {
        run_ok_at(&ws, &format!("2030-01-01T{hour}:00:00Z"));
    }
    let users = runtime.block_on(exchange_call(
        &emulator,
        "Get-MailUser",
        serde_json::json!({}),
    ));
    assert_eq!(users.len(), 1, "{users:?}");
    let pia = &users[0];
    assert_eq!(pia["RecipientTypeDetails"], "GuestMailUser", "{pia}");
    assert_eq!(pia["HiddenFromAddressListsEnabled"], false, "{pia}");
    let domain = &emulator.info.initial_domain;
    assert!(
        pia["EmailAddresses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.as_str() == Some(&format!("smtp:pia.partner@{domain}"))),
        "{pia}"
    );

    // Converged: a further run writes nothing to Exchange.
    let before = emulator.state().exchange.stats().cmdlets;
    let quiet = run_ok_at(&ws, "2030-01-01T11:00:00Z");
    let exchange_section: Vec<&str> = quiet
        .stdout
        .lines()
        .skip_while(|l| *l != "  exchange")
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .collect();
    assert!(
        !exchange_section.is_empty() && !exchange_section.iter().any(|l| l.contains("export")),
        "{}",
        quiet.stdout
    );
    // The import's one page of mail users, and nothing else.
    let cmdlets = emulator.state().exchange.stats().cmdlets - before;
    assert_eq!(
        cmdlets, 1,
        "a quiet run ran {cmdlets} cmdlets:\n{}",
        quiet.stdout
    );
}
