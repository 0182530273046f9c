//! The LDAP connector's benchmark against a private slapd (started by testkit):
//!
//! - full import of N inetOrgPerson entries (all attributes, pages of 1000) as a ratio to
//!   `ldapsearch -E pr=1000/noprompt` of the same entries from the same server, in the same run;
//! - a delta import when nothing changed (syncrepl);
//! - export of M new users as a ratio to `ldapadd` of the same entries as LDIF.
//!
//! ```sh
//! cargo run --release -p connector-ldap --example bench -- 100000 10000
//! ```

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use config::{LdapDelta, LdapObjectType, LdapScope, LdapSettings, SecretSource};
use connector::{
    Connector, ExportId, ExportRequest, ExportResult, Exporter, ImportMode, ImportRequest,
    Watermark,
};
use connector_ldap::LdapConnector;
use model::{Attributes, ObjectChange, ObjectType};
use testkit::openldap::{ADMIN_DN, ADMIN_PASSWORD, SUFFIX, Slapd, SlapdOptions, binary};

// The idsync binary's allocator: glibc's malloc is several times slower here, because the
// driver thread allocates what the importing thread frees.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PEOPLE: &str = "ou=people,dc=example,dc=com";

fn person(i: usize) -> Vec<(&'static str, String)> {
    vec![
        ("uid", format!("user{i:06}")),
        ("cn", format!("User {i:06}")),
        ("sn", format!("Surname{}", i % 1000)),
        ("givenName", format!("Given{i}")),
        ("mail", format!("user{i:06}@example.com")),
        ("employeeNumber", i.to_string()),
        ("title", format!("Engineer {}", i % 50)),
        ("telephoneNumber", format!("+1 555 {i:07}")),
        (
            "description",
            format!("Test user number {i} for bulk load benchmarking"),
        ),
    ]
}

fn ldif(range: std::ops::Range<usize>) -> String {
    let mut out = String::new();
    for i in range {
        out.push_str(&format!(
            "dn: uid=user{i:06},{PEOPLE}\nobjectClass: inetOrgPerson\n"
        ));
        for (name, value) in person(i) {
            out.push_str(&format!("{name}: {value}\n"));
        }
        out.push('\n');
    }
    out
}

fn settings(slapd: &Slapd) -> LdapSettings {
    let password = slapd.dir().join("bind-password");
    std::fs::write(&password, ADMIN_PASSWORD).expect("password file");
    LdapSettings {
        url: slapd.url(),
        starttls: false,
        bind_dn: Some(ADMIN_DN.to_owned()),
        password: Some(SecretSource::File(password)),
        client_certificate: None,
        client_key: None,
        ca_file: None,
        timeout: Duration::from_secs(300),
        base_dns: vec![SUFFIX.to_owned()],
        scope: LdapScope::Subtree,
        filter: None,
        page_size: 1000,
        object_types: vec![LdapObjectType {
            object_type: ObjectType::new("person"),
            object_class: "inetOrgPerson".to_owned(),
            auxiliary_classes: Vec::new(),
        }],
        anchor: "entryUUID".to_owned(),
        delta: LdapDelta::Syncrepl,
        attributes: Vec::new(),
    }
}

fn ldap_tool(
    slapd: &Slapd,
    tool: &str,
    args: &[&str],
    input: Option<&std::path::Path>,
) -> Duration {
    let mut command = Command::new(binary(tool));
    command
        .args([
            "-x",
            "-H",
            &slapd.url(),
            "-D",
            ADMIN_DN,
            "-w",
            ADMIN_PASSWORD,
        ])
        .args(args)
        .stdout(Stdio::null());
    if let Some(path) = input {
        command.arg("-f").arg(path);
    }
    let started = Instant::now();
    let status = command.status().expect("run the ldap tool");
    let elapsed = started.elapsed();
    assert!(status.success(), "{tool} failed");
    elapsed
}

async fn import(
    connector: &mut LdapConnector,
    mode: ImportMode,
    watermark: Option<Watermark>,
) -> (usize, Option<Watermark>) {
    let mut cursor = None;
    let mut count = 0;
    loop {
        let page = connector
            .import(ImportRequest {
                mode,
                watermark: watermark.clone(),
                cursor: cursor.take(),
            })
            .await
            .expect("import");
        count += page.entries.len();
        cursor = page.next;
        if cursor.is_none() {
            return (count, page.watermark);
        }
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let entries: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let creates: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);

    // Import: the same server, the same entries, ldapsearch then the connector, twice each.
    let started = Instant::now();
    let slapd = Slapd::start_with(SlapdOptions {
        seed_ldif: vec![ldif(0..entries)],
        ..Default::default()
    });
    println!(
        "slapd with {entries} entries (slapadd) ready in {}",
        secs(started.elapsed())
    );
    let filter = "(objectClass=inetOrgPerson)";
    let mut best_search = Duration::MAX;
    let mut best_import = Duration::MAX;
    for round in 1..=2 {
        let search = ldap_tool(
            &slapd,
            "ldapsearch",
            &["-LLL", "-b", SUFFIX, "-E", "pr=1000/noprompt", filter],
            None,
        );
        let mut connector = LdapConnector::new(settings(&slapd));
        let started = Instant::now();
        let (count, _) = import(&mut connector, ImportMode::Full, None).await;
        let imported = started.elapsed();
        assert_eq!(count, entries, "the import returned every entry");
        println!(
            "round {round}: ldapsearch -E pr=1000/noprompt {}, connector full import {} ({:.2}x)",
            secs(search),
            secs(imported),
            imported.as_secs_f64() / search.as_secs_f64()
        );
        best_search = best_search.min(search);
        best_import = best_import.min(imported);
    }
    println!(
        "full import of {entries}: {} vs ldapsearch {} = {:.2}x (best of 2 each)",
        secs(best_import),
        secs(best_search),
        best_import.as_secs_f64() / best_search.as_secs_f64()
    );

    // A delta when nothing changed.
    let mut connector = LdapConnector::new(settings(&slapd));
    let (_, watermark) = import(&mut connector, ImportMode::Full, None).await;
    let mut connector = LdapConnector::new(settings(&slapd));
    let started = Instant::now();
    let (changed, _) = import(&mut connector, ImportMode::Delta, watermark).await;
    println!(
        "no-op delta import (syncrepl, new connection): {} ({changed} entries)",
        secs(started.elapsed())
    );
    drop(slapd);

    // Export: ldapadd of the LDIF on one fresh server, the connector on another.
    let work = tempfile::tempdir().expect("temp dir");
    let file = work.path().join("new.ldif");
    std::fs::write(&file, ldif(entries..entries + creates)).expect("write LDIF");
    let reference = Slapd::start();
    let ldapadd = ldap_tool(&reference, "ldapadd", &[], Some(&file));
    drop(reference);
    let target = Slapd::start();
    let mut connector = LdapConnector::new(settings(&target));
    let batch_size = connector.batch_size();
    let requests: Vec<ExportRequest> = (entries..entries + creates)
        .map(|i| {
            let mut attributes = Attributes::new().with("dn", format!("uid=user{i:06},{PEOPLE}"));
            for (name, value) in person(i) {
                attributes = attributes.with(name, value);
            }
            ExportRequest {
                id: ExportId(i as i64),
                object_type: ObjectType::new("person"),
                anchor: None,
                change: ObjectChange::Create { attributes },
            }
        })
        .collect();
    let started = Instant::now();
    let mut applied = 0;
    for chunk in requests.chunks(batch_size) {
        let outcomes = connector.export(chunk.to_vec()).await.expect("export");
        applied += outcomes
            .iter()
            .filter(|o| matches!(o.result, ExportResult::Applied { .. }))
            .count();
    }
    let exported = started.elapsed();
    assert_eq!(applied, creates, "every create applied");
    println!(
        "export of {creates} new users: {} vs ldapadd {} = {:.2}x",
        secs(exported),
        secs(ldapadd),
        exported.as_secs_f64() / ldapadd.as_secs_f64()
    );
}
