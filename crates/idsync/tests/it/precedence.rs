//! A contractor joined to an employee by a unique attribute; precedence per attribute.

use testkit::Csv;

use crate::support::*;

#[test]
fn a_contractor_joins_the_employee_by_mail_and_precedence_decides_per_attribute() {
    let ws = workspace();
    // The contractor arrives first: projected as an identity of their own.
    contractors(
        &ws,
        Csv::new(CONTRACTOR_HEADER).row(&[
            "C1",
            "Kate",
            "Johnson",
            "kate.johnson@contoso.com",
            "Consultant",
            "Active",
            "+44 7700 900001",
        ]),
    );
    run_ok(&ws);
    let before = show(&ws, "contractors:C1");
    let id = before["identity"]["id"].clone();

    // Then HR hires her: the HR row joins the same identity by mail.
    ws.write(
        "hr.csv",
        Csv::new(HR_HEADER)
            .row(&[
                "E7",
                "Katherine",
                "Johnson",
                "kate.johnson@contoso.com",
                "Flight",
                "Mathematician",
                "",
                "Active",
                "+1 555 0100",
                "2021-03-01",
            ])
            .render(),
    );
    let joined = run_ok(&ws);
    assert!(joined.stdout.contains("1 joined"), "{}", joined.stdout);
    let identity = show(&ws, "hr:E7");
    assert_eq!(identity["identity"]["id"], id, "joined, not projected");

    // HR wins names and job title (precedence 10 over 20)...
    assert_eq!(values(&identity, "givenName"), ["Katherine"]);
    assert_eq!(values(&identity, "title"), ["Mathematician"]);
    // ...the contractor source wins the mobile number (its flow says precedence 5).
    assert_eq!(values(&identity, "mobile"), ["+44 7700 900001"]);

    // `show` explains both: where each value came from and what lost.
    let text = show_text(&ws, "E7");
    assert!(text.contains("title = \"Mathematician\""), "{text}");
    assert!(
        text.contains("from hr/E7 by hr-people (precedence 10)"),
        "{text}"
    );
    assert!(
        text.contains("lost: \"Consultant\" contractors/C1 by contractor-people (precedence 20)"),
        "{text}"
    );
    assert!(text.contains("mobile = \"+44 7700 900001\""), "{text}");
    assert!(
        text.contains("lost: \"+1 555 0100\" hr/E7 by hr-people (precedence 10)"),
        "{text}"
    );

    // One identity, one account.
    assert_eq!(accounts(&ws).len(), 1);
}
