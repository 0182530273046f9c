//! HR → vault → OpenLDAP: people as inetOrgPerson and teams as groupOfNames in a real slapd
//! started by testkit; rename on a surname change, move on a department change, disable
//! then delete on leave; changes and deletes made directly in the directory come back in
//! the next run's syncrepl delta and are corrected.

use std::collections::BTreeSet;

use testkit::openldap::{ADMIN_DN, ADMIN_PASSWORD, Slapd};
use testkit::{Csv, Run, Workspace, idsync};

use crate::support::BIN;

const PEOPLE: &str = "ou=people,dc=example,dc=com";
const GROUPS: &str = "ou=groups,dc=example,dc=com";

fn config(slapd: &Slapd) -> String {
    format!(
        r#"
[store]
path = "idsync.db"

[guard]
deletion_threshold = 5
disable_threshold = 5

[[connector]]
name = "hr"
type = "csv"
path = "hr.csv"
anchor = "Id"
object_type = "record"
columns = {{ Members = {{ type = "reference", multi = ";" }} }}

[[connector]]
name = "directory"
type = "ldap"
url = "{url}"
starttls = true
ca_file = "{ca}"
bind_dn = "{ADMIN_DN}"
password = {{ file = "bind-password" }}
base = "dc=example,dc=com"
page_size = 2
object_types = {{ person = "inetOrgPerson", group = "groupOfNames" }}

[[inbound]]
name = "hr-people"
connector = "hr"
scope = '[Kind] = "person"'
precedence = 10
project = true
join = [ {{ vault = "employeeId", expr = "[Id]" }} ]
[inbound.flows]
employeeId = "[Id]"
givenName = "[First]"
surname = "[Last]"
department = "[Department]"
status = "[Status]"

[[inbound]]
name = "hr-teams"
connector = "hr"
vault_type = "group"
scope = '[Kind] = "team"'
precedence = 10
project = true
join = [ {{ vault = "teamId", expr = "[Id]" }} ]
[inbound.flows]
teamId = "[Id]"
teamName = "[First]"
members = "[Members]"

[[outbound]]
name = "ldap-people"
connector = "directory"
object_type = "person"
scope = '[status] = "Active"'
provision = true
deprovision = {{ action = "disable", attribute = "employeeType", value = "disabled", delete_after = "30d" }}
join = [ {{ vault = "employeeId", expr = "[employeeNumber]" }} ]
[outbound.flows]
dn = 'Join("", "cn=", [givenName], " ", [surname], ",ou=", [department], ",{PEOPLE}")'
cn = 'Join(" ", [givenName], [surname])'
givenName = "[givenName]"
sn = "[surname]"
employeeNumber = "[employeeId]"
departmentNumber = "[department]"
employeeType = '"active"'
uid = {{ expr = 'ToLower(Join(".", [givenName], [surname]))', when = "create" }}

[[outbound]]
name = "ldap-teams"
connector = "directory"
object_type = "group"
vault_type = "group"
provision = true
join = [ {{ vault = "teamId", expr = "[businessCategory]" }} ]
[outbound.flows]
dn = 'Join("", "cn=", [teamName], ",{GROUPS}")'
cn = "[teamName]"
businessCategory = "[teamId]"
member = "[members]"
"#,
        url = slapd.url(),
        ca = slapd.ca_file().display(),
    )
}

const HEADER: &[&str] = &[
    "Id",
    "Kind",
    "First",
    "Last",
    "Department",
    "Status",
    "Members",
];

fn hr(ws: &Workspace, rows: &[[&str; 7]]) {
    let mut csv = Csv::new(HEADER);
    for row in rows {
        csv = csv.row(row);
    }
    ws.write("hr.csv", csv.render());
}

fn run(ws: &Workspace, now: Option<&str>) -> Run {
    let env: Vec<(&str, &str)> = now.map(|n| ("IDSYNC_NOW", n)).into_iter().collect();
    let r = idsync(BIN, ws.path(), &["run", "-c", "idsync.toml"], &env);
    assert_eq!(
        r.code,
        Some(0),
        "run failed:\nstdout:\n{}\nstderr:\n{}",
        r.stdout,
        r.stderr
    );
    r
}

/// The directory's entries below `base` as (DN, attribute → values), read with ldapsearch.
fn entries(slapd: &Slapd, base: &str) -> Vec<(String, Vec<(String, String)>)> {
    let ldif = slapd
        .ldapsearch(&[
            "-b",
            base,
            "-s",
            "sub",
            "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))",
            "*",
            "entryUUID",
        ])
        .expect("ldapsearch");
    let mut out = Vec::new();
    for block in ldif.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let mut lines = block.lines();
        let dn = lines
            .next()
            .and_then(|l| l.strip_prefix("dn: "))
            .unwrap_or_default()
            .to_owned();
        let attributes = lines
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        out.push((dn, attributes));
    }
    out
}

fn dns(slapd: &Slapd, base: &str) -> BTreeSet<String> {
    entries(slapd, base).into_iter().map(|(dn, _)| dn).collect()
}

fn value(slapd: &Slapd, dn: &str, attribute: &str) -> Vec<String> {
    entries(slapd, dn)
        .into_iter()
        .filter(|(d, _)| d == dn)
        .flat_map(|(_, attrs)| attrs)
        .filter(|(k, _)| k.eq_ignore_ascii_case(attribute))
        .map(|(_, v)| v)
        .collect()
}

#[test]
fn hr_provisions_openldap_renames_moves_disables_deletes_and_corrects_direct_changes() {
    let slapd = Slapd::start();
    slapd
        .ldapadd(&format!(
            "dn: ou=Research,{PEOPLE}\nobjectClass: organizationalUnit\nou: Research\n\n\
             dn: ou=Crypto,{PEOPLE}\nobjectClass: organizationalUnit\nou: Crypto\n"
        ))
        .expect("department OUs");
    let ws = Workspace::new();
    ws.write("idsync.toml", config(&slapd));
    ws.write("bind-password", format!("{ADMIN_PASSWORD}\n"));

    // Hire: three people.
    let people = [
        ["E1", "person", "Ada", "Lovelace", "Research", "Active", ""],
        ["E2", "person", "Alan", "Turing", "Research", "Active", ""],
        ["E3", "person", "Grace", "Hopper", "Research", "Active", ""],
    ];
    hr(&ws, &people);
    // `idsync check` reaches the directory, binds, and checks the rules against its schema.
    let check = idsync(BIN, ws.path(), &["check", "-c", "idsync.toml"], &[]);
    assert_eq!(check.code, Some(0), "{}{}", check.stdout, check.stderr);
    assert!(
        check.stdout.contains(&format!(
            "directory (ldap): ok: connected to {} and bound as {ADMIN_DN}",
            slapd.url()
        )),
        "{}",
        check.stdout
    );
    assert!(
        check
            .stdout
            .contains("directory (ldap): ok: the server offers content synchronization"),
        "{}",
        check.stdout
    );
    // A wrong password is a problem named without the password.
    ws.write("bind-password", "not-the-password-42\n");
    let denied = idsync(BIN, ws.path(), &["check", "-c", "idsync.toml"], &[]);
    assert_ne!(denied.code, Some(0));
    assert!(
        denied.stdout.contains("invalid credentials (49)"),
        "{}",
        denied.stdout
    );
    assert!(
        !format!("{}{}", denied.stdout, denied.stderr).contains("not-the-password-42"),
        "the password leaked"
    );
    ws.write("bind-password", format!("{ADMIN_PASSWORD}\n"));

    let first = run(&ws, None);
    assert!(first.stdout.contains("3 projected"), "{}", first.stdout);
    let ada = format!("cn=Ada Lovelace,ou=Research,{PEOPLE}");
    assert_eq!(
        dns(&slapd, PEOPLE),
        BTreeSet::from([
            ada.clone(),
            format!("cn=Alan Turing,ou=Research,{PEOPLE}"),
            format!("cn=Grace Hopper,ou=Research,{PEOPLE}"),
        ])
    );
    assert_eq!(value(&slapd, &ada, "uid"), ["ada.lovelace"]);
    assert_eq!(value(&slapd, &ada, "employeeType"), ["active"]);
    let ada_uuid = value(&slapd, &ada, "entryUUID");

    // A team of two: the group is created with both as members (references to the
    // accounts' anchors, written as their DNs).
    let mut rows = people.to_vec();
    rows.push(["T1", "team", "research", "", "", "", "E1;E2"]);
    hr(&ws, &rows);
    run(&ws, None);
    let team = format!("cn=research,{GROUPS}");
    let members: BTreeSet<String> = value(&slapd, &team, "member").into_iter().collect();
    assert_eq!(
        members,
        BTreeSet::from([ada.clone(), format!("cn=Alan Turing,ou=Research,{PEOPLE}")]),
    );

    // Ada marries (surname) and Alan moves to Crypto; Grace joins the team and Alan leaves
    // it: a rename, a move, and one member add and one member remove.
    rows[0] = ["E1", "person", "Ada", "King", "Research", "Active", ""];
    rows[1] = ["E2", "person", "Alan", "Turing", "Crypto", "Active", ""];
    rows[3] = ["T1", "team", "research", "", "", "", "E1;E3"];
    hr(&ws, &rows);
    run(&ws, None);
    let ada_king = format!("cn=Ada King,ou=Research,{PEOPLE}");
    let alan_crypto = format!("cn=Alan Turing,ou=Crypto,{PEOPLE}");
    assert_eq!(
        dns(&slapd, PEOPLE),
        BTreeSet::from([
            ada_king.clone(),
            alan_crypto.clone(),
            format!("cn=Grace Hopper,ou=Research,{PEOPLE}"),
        ])
    );
    assert_eq!(
        value(&slapd, &ada_king, "entryUUID"),
        ada_uuid,
        "a rename keeps the entry"
    );
    assert_eq!(value(&slapd, &ada_king, "sn"), ["King"]);
    let members: BTreeSet<String> = value(&slapd, &team, "member").into_iter().collect();
    // Ada's member value follows her rename; Alan's is removed wherever he moved to.
    assert_eq!(
        members,
        BTreeSet::from([
            ada_king.clone(),
            format!("cn=Grace Hopper,ou=Research,{PEOPLE}")
        ]),
    );

    // Changes made directly in the directory: the next run's delta import (syncrepl) sees
    // them, and the rules put the directory back.
    slapd
        .ldapmodify(&format!(
            "dn: {ada_king}\nchangetype: modify\nreplace: departmentNumber\ndepartmentNumber: Sales\n"
        ))
        .expect("ldapmodify");
    slapd.ldapdelete(&[&alan_crypto]).expect("ldapdelete");
    let corrected = run(&ws, None);
    assert!(
        corrected
            .stdout
            .contains("import (delta): 0 added, 1 updated, 1 deleted"),
        "the directory's delta import saw the change and the delete:\n{}",
        corrected.stdout
    );
    assert_eq!(
        value(&slapd, &ada_king, "departmentNumber"),
        ["Research"],
        "{}",
        corrected.stdout
    );
    assert_eq!(
        value(&slapd, &alan_crypto, "employeeNumber"),
        ["E2"],
        "an account deleted behind idsync's back is provisioned again:\n{}",
        corrected.stdout
    );

    // Grace leaves: disabled at once, deleted when the grace period is over.
    let rows: Vec<[&str; 7]> = rows.into_iter().filter(|r| r[0] != "E3").collect();
    hr(&ws, &rows);
    let leave = run(&ws, None);
    assert!(leave.stdout.contains("1 disables"), "{}", leave.stdout);
    let grace = format!("cn=Grace Hopper,ou=Research,{PEOPLE}");
    assert_eq!(value(&slapd, &grace, "employeeType"), ["disabled"]);
    run(&ws, Some("2099-01-01T00:00:00Z"));
    assert!(
        !dns(&slapd, PEOPLE).contains(&grace),
        "deleted after the grace period: {:?}",
        dns(&slapd, PEOPLE)
    );
}
