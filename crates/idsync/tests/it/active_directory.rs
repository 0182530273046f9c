//! HR → vault → Active Directory (a real Samba AD DC started by testkit, written over
//! LDAPS): users created with an initial password they can sign in with, nothing rewritten
//! when nothing changed, disabled through userAccountControl when they leave.

use testkit::samba::{ADMIN, ADMIN_PASSWORD, BASE, SambaAd};
use testkit::{Csv, Run, Workspace, idsync};

use crate::support::BIN;

const INITIAL_PASSWORD: &str = "Welcome!2026-idsync";

fn config(dc: &SambaAd) -> String {
    format!(
        r#"
[store]
path = "idsync.db"

[[connector]]
name = "hr"
type = "csv"
path = "hr.csv"
anchor = "Id"
object_type = "person"

[[connector]]
name = "ad"
type = "ldap"
url = "{url}"
ca_file = "{ca}"
bind_dn = "{ADMIN}"
password = {{ file = "bind-password" }}
base = "OU=idsync,{BASE}"
object_types = {{ user = "user" }}
anchor = "objectGUID"

[[inbound]]
name = "hr-people"
connector = "hr"
precedence = 10
project = true
join = [ {{ vault = "employeeId", expr = "[Id]" }} ]
[inbound.flows]
employeeId = "[Id]"
givenName = "[First]"
surname = "[Last]"
status = "[Status]"

[[outbound]]
name = "ad-users"
connector = "ad"
object_type = "user"
scope = '[status] = "Active"'
provision = true
deprovision = {{ action = "disable", attribute = "userAccountControl", value = 514 }}
join = [ {{ vault = "employeeId", expr = "[employeeID]" }} ]
[outbound.flows]
dn = 'Join("", "CN=", [givenName], " ", [surname], ",OU=idsync,{BASE}")'
sAMAccountName = {{ expr = 'ToLower(Join(".", [givenName], [surname]))', when = "create" }}
userPrincipalName = {{ expr = 'Join("", ToLower(Join(".", [givenName], [surname])), "@example.test")', when = "create" }}
unicodePwd = {{ expr = '"{INITIAL_PASSWORD}"', when = "create" }}
givenName = "[givenName]"
sn = "[surname]"
employeeID = "[employeeId]"
userAccountControl = "512"
"#,
        url = dc.ldaps_url(),
        ca = dc.ca_file().display(),
    )
}

fn hr(ws: &Workspace, rows: &[[&str; 4]]) {
    let mut csv = Csv::new(&["Id", "First", "Last", "Status"]);
    for row in rows {
        csv = csv.row(row);
    }
    ws.write("hr.csv", csv.render());
}

fn run(ws: &Workspace) -> Run {
    let r = idsync(BIN, ws.path(), &["run", "-c", "idsync.toml"], &[]);
    assert_eq!(
        r.code,
        Some(0),
        "run failed:\nstdout:\n{}\nstderr:\n{}",
        r.stdout,
        r.stderr
    );
    r
}

fn can_sign_in(dc: &SambaAd, upn: &str, password: &str) -> bool {
    std::process::Command::new(testkit::openldap::binary("ldapsearch"))
        .args(["-x", "-H", &dc.url(), "-D", upn, "-w", password])
        .args(["-s", "base", "-b", BASE, "dn"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn hr_provisions_active_directory_with_passwords_over_ldaps_and_disables_on_leave() {
    let dc = SambaAd::start_with_ldaps();
    dc.ldapadd(&format!(
        "dn: OU=idsync,{BASE}\nobjectClass: organizationalUnit\nou: idsync\n"
    ))
    .expect("the OU");
    let ws = Workspace::new();
    ws.write("idsync.toml", config(&dc));
    ws.write("bind-password", ADMIN_PASSWORD);

    hr(
        &ws,
        &[
            ["E1", "Ada", "Lovelace", "Active"],
            ["E2", "Alan", "Turing", "Active"],
        ],
    );
    let first = run(&ws);
    assert!(first.stdout.contains("2 applied"), "{}", first.stdout);
    let ada = format!("CN=Ada Lovelace,OU=idsync,{BASE}");
    let entry = dc
        .ldapsearch(&[
            "-b",
            &ada,
            "-s",
            "base",
            "sAMAccountName",
            "userAccountControl",
            "employeeID",
        ])
        .expect("Ada's account");
    assert!(entry.contains("sAMAccountName: ada.lovelace"), "{entry}");
    assert!(entry.contains("userAccountControl: 512"), "{entry}");
    assert!(entry.contains("employeeID: E1"), "{entry}");
    assert!(
        can_sign_in(&dc, "ada.lovelace@example.test", INITIAL_PASSWORD),
        "the initial password, sent over LDAPS, works"
    );

    // Nothing changed: the next run's DirSync delta confirms the two creates and nothing is
    // planned; the run after sees no change at all.
    let confirming = run(&ws);
    assert!(
        confirming
            .stdout
            .contains("import (delta): 0 added, 2 updated, 0 deleted"),
        "{}",
        confirming.stdout
    );
    assert!(
        !confirming.stdout.contains("export:"),
        "{}",
        confirming.stdout
    );
    let quiet = run(&ws);
    assert!(
        quiet
            .stdout
            .contains("import (delta): 0 added, 0 updated, 0 deleted"),
        "{}",
        quiet.stdout
    );
    assert!(!quiet.stdout.contains("export:"), "{}", quiet.stdout);

    // Alan leaves: his account is disabled, not deleted, and cannot sign in.
    hr(&ws, &[["E1", "Ada", "Lovelace", "Active"]]);
    let leave = run(&ws);
    assert!(leave.stdout.contains("1 disables"), "{}", leave.stdout);
    let alan = dc
        .ldapsearch(&[
            "-b",
            &format!("CN=Alan Turing,OU=idsync,{BASE}"),
            "-s",
            "base",
            "userAccountControl",
        ])
        .expect("Alan's account is kept");
    assert!(alan.contains("userAccountControl: 514"), "{alan}");
    assert!(!can_sign_in(
        &dc,
        "alan.turing@example.test",
        INITIAL_PASSWORD
    ));
    assert!(can_sign_in(
        &dc,
        "ada.lovelace@example.test",
        INITIAL_PASSWORD
    ));
}
