//! `SelectUniqueValue` is answered from the target: two people with the same name get
//! different user names, within one run and across runs.

use testkit::Csv;

use crate::support::*;

const UPN: &str = r#"Upn = { expr = 'SelectUniqueValue(Join("@", Join(".", [givenName], [surname]), "contoso.com"), Join("@", Join(".", Mid([givenName], 1, 1), [surname]), "contoso.com"), Join("@", Join(".", [givenName], Mid([surname], 1, 1), [employeeId]), "contoso.com"))', when = "create" }"#;

fn person(id: &str, first: &str, last: &str) -> [String; 10] {
    [
        id,
        first,
        last,
        "",
        "Ops",
        "Engineer",
        "",
        "Active",
        "",
        "2020-01-01",
    ]
    .map(str::to_owned)
}

fn hr_of(people: &[[String; 10]]) -> Csv {
    let mut csv = Csv::new(HR_HEADER);
    for p in people {
        let cells: Vec<&str> = p.iter().map(String::as_str).collect();
        csv = csv.row(&cells);
    }
    csv
}

#[test]
fn same_names_get_unique_user_names_in_one_run_and_across_runs() {
    let ws = workspace();
    ws.write(
        "idsync.toml",
        CONFIG.replace(r#"Upn = { expr = "[mail]", when = "create" }"#, UPN),
    );
    let mut people = vec![person("E1", "John", "Smith"), person("E2", "John", "Smith")];
    hr(&ws, hr_of(&people));
    run_ok(&ws);
    people.push(person("E3", "John", "Smith"));
    hr(&ws, hr_of(&people));
    run_ok(&ws);
    let a = accounts(&ws);
    let upns: Vec<&str> = ["E1", "E2", "E3"]
        .iter()
        .map(|id| a[*id]["Upn"].as_str())
        .collect();
    assert_eq!(
        upns,
        [
            "John.Smith@contoso.com",
            "J.Smith@contoso.com",
            "John.S.E3@contoso.com"
        ],
        "{a:?}"
    );

    // A later run keeps them: a create-only flow never recomputes.
    run_ok(&ws);
    assert_eq!(accounts(&ws)["E2"]["Upn"], "J.Smith@contoso.com");
}
