//! An export the target rejects is quarantined with its error; the others go on; a fix to
//! the data retries it at once.

use testkit::Csv;

use crate::support::*;

#[test]
fn a_rejected_create_is_quarantined_and_does_not_block_the_others() {
    let ws = workspace();
    // Accounts are anchored on the mail address; a person without one cannot be created.
    ws.write(
        "idsync.toml",
        CONFIG
            .replace(r#"AccountId = "[identityId]""#, r#"AccountId = "[mail]""#)
            .replace(
                r#"join = [ { vault = "identityId", expr = "[AccountId]" } ]"#,
                r#"join = [ { vault = "mail", expr = "[AccountId]" } ]"#,
            ),
    );
    let hr_rows = |grace_mail: &str| {
        Csv::new(HR_HEADER)
            .row(&[
                "E1",
                "Ada",
                "Lovelace",
                "ada@contoso.com",
                "Research",
                "Engineer",
                "",
                "Active",
                "",
                "2020-01-01",
            ])
            .row(&[
                "E2",
                "Grace",
                "Hopper",
                grace_mail,
                "Navy",
                "Engineer",
                "",
                "Active",
                "",
                "2020-01-01",
            ])
    };
    hr(&ws, hr_rows(""));
    let r = run(&ws, &[]);
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("create rejected"), "{}", r.stdout);
    assert!(
        r.stdout.contains("AccountId"),
        "the reason names the missing anchor column: {}",
        r.stdout
    );
    assert!(r.stdout.contains("1 quarantined"), "{}", r.stdout);
    assert_eq!(accounts(&ws).len(), 1, "the other person was exported");

    let preview = testkit::idsync(BIN, ws.path(), &["preview", "-c", "idsync.toml"], &[]);
    assert!(
        preview.stdout.contains("(1 quarantined)"),
        "{}",
        preview.stdout
    );
    assert!(
        preview.stdout.contains("quarantined after 1 attempts"),
        "{}",
        preview.stdout
    );

    // The next run does not hammer the target: the quarantined export waits for its backoff.
    let again = run(&ws, &[]);
    assert_eq!(again.code, Some(0), "{}\n{}", again.stdout, again.stderr);
    assert_eq!(accounts(&ws).len(), 1);

    // HR fixes the data: the export is recomputed and retried at once.
    hr(&ws, hr_rows("grace@contoso.com"));
    run_ok(&ws);
    assert_eq!(accounts(&ws).len(), 2);
}
