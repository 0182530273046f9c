use std::collections::{HashMap, HashSet};

use super::*;

#[test]
fn the_same_seed_gives_the_same_population() {
    let a = Population::generate(500, 100, 42);
    let b = Population::generate(500, 100, 42);
    let c = Population::generate(500, 100, 43);
    assert_eq!(a.employees(), b.employees());
    assert_eq!(a.contractors(), b.contractors());
    assert_ne!(a.employees(), c.employees());
}

#[test]
fn the_files_are_the_same_for_the_same_seed() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, seed| {
        let p = Population::generate(300, 60, seed);
        let (hr, portal) = (
            dir.path().join(format!("{name}-hr.csv")),
            dir.path().join(format!("{name}-c.csv")),
        );
        p.write_hr_csv(&hr).unwrap();
        p.write_contractors_csv(&portal).unwrap();
        (std::fs::read(hr).unwrap(), std::fs::read(portal).unwrap())
    };
    assert_eq!(write("a", 9), write("b", 9));
}

#[test]
fn employees_have_unique_ids_and_emails_and_some_share_a_name() {
    let p = Population::generate(200, 0, 1);
    let ids: HashSet<String> = p.employees().iter().map(Employee::employee_id).collect();
    let emails: HashSet<String> = p.employees().iter().map(Employee::email).collect();
    assert_eq!(ids.len(), 200);
    assert_eq!(emails.len(), 200);
    let names: HashSet<(&str, &str)> = p
        .employees()
        .iter()
        .map(|e| (e.first_name(), e.last_name()))
        .collect();
    assert!(names.len() < 200, "no repeated names in 200 people");
    assert!(
        emails
            .iter()
            .all(|e| e.is_ascii() && e.ends_with("@contoso.com"))
    );
    assert!(
        p.employees()
            .iter()
            .any(|e| !e.first_name().is_ascii() || !e.last_name().is_ascii())
    );
}

#[test]
fn managers_form_a_tree() {
    let p = Population::generate(2_000, 0, 3);
    let by_number: HashMap<u32, &Employee> =
        p.employees().iter().map(|e| (e.number(), e)).collect();
    assert_eq!(
        p.employees()
            .iter()
            .filter(|e| e.manager_id().is_none())
            .count(),
        1
    );
    for e in p.employees() {
        // Walking up always reaches the top, without a cycle.
        let (mut current, mut steps) = (e, 0);
        while let Some(manager) = current.manager {
            current = by_number[&manager];
            steps += 1;
            assert!(steps < 100, "{} has a manager cycle", e.employee_id());
        }
    }
    let depth = p.employees().iter().map(|e| {
        let (mut current, mut steps) = (e, 0);
        while let Some(m) = current.manager {
            current = by_number[&m];
            steps += 1;
        }
        steps
    });
    assert!(depth.max().unwrap_or(0) >= 3);
}

#[test]
fn a_realistic_mix_of_statuses_and_types() {
    let p = Population::generate(5_000, 0, 5);
    let count = |s: Status| p.employees().iter().filter(|e| e.status() == s).count();
    assert!(count(Status::Active) > 4_500);
    assert!(count(Status::Leave) > 50 && count(Status::Terminated) > 50);
    let kiosk = p
        .employees()
        .iter()
        .filter(|e| e.employee_type() == EmployeeType::Kiosk)
        .count();
    assert!((500..1_500).contains(&kiosk), "{kiosk} kiosk workers");
}

#[test]
fn some_contractors_became_employees_and_share_their_email() {
    let p = Population::generate(1_000, 200, 11);
    let employees: HashMap<String, &Employee> =
        p.employees().iter().map(|e| (e.employee_id(), e)).collect();
    let converted: Vec<&Contractor> = p
        .contractors()
        .iter()
        .filter(|c| c.converted_to().is_some())
        .collect();
    assert_eq!(converted.len(), 20);
    for c in &converted {
        let e = employees[&c.converted_to().unwrap()];
        assert_eq!(c.email(), e.email());
        assert_eq!(
            (c.given_name(), c.family_name()),
            (e.first_name(), e.last_name())
        );
        assert!(c.end_date() < e.hire_date());
    }
    let others: HashSet<&str> = p
        .contractors()
        .iter()
        .filter(|c| c.converted_to().is_none())
        .map(Contractor::email)
        .collect();
    assert_eq!(others.len(), 180, "contractor emails repeat");
    assert!(others.iter().all(|e| !e.ends_with("@contoso.com")));
}

#[test]
fn the_hr_file_has_the_documented_shape() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hr.csv");
    let p = Population::generate(50, 10, 2);
    p.write_hr_csv(&path).unwrap();
    let mut reader = csv::Reader::from_path(&path).unwrap();
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        HR_COLUMNS
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 50);
    let first = &rows[1];
    assert!(
        first[0].starts_with('E') && first[0].len() == 7,
        "{first:?}"
    );
    assert!(first[6].starts_with('E'), "a manager id: {first:?}");
    assert_eq!(first[8].len(), 10, "YYYY-MM-DD: {first:?}");
    assert!(["E", "K"].contains(&&first[9]));

    let portal = dir.path().join("contractors.csv");
    p.write_contractors_csv(&portal).unwrap();
    let mut reader = csv::Reader::from_path(&portal).unwrap();
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        CONTRACTOR_COLUMNS
    );
    let row = reader.records().next().unwrap().unwrap();
    assert!(row[0].starts_with('C') && row[0].len() == 6, "{row:?}");
}

#[test]
fn mutations_change_hire_terminate_and_remove() {
    let mut p = Population::generate(1_000, 0, 8);
    let before = p.employees().to_vec();
    assert_eq!(p.change_fraction(0.1, 99), 100);
    let changed = p
        .employees()
        .iter()
        .zip(&before)
        .filter(|(a, b)| a != b)
        .collect::<Vec<_>>();
    assert_eq!(changed.len(), 100);
    for (after, before) in changed {
        assert_ne!(after.department(), before.department());
        assert_ne!(after.phone(), before.phone());
        assert_eq!(after.email(), before.email());
    }

    let hired = p.hire(5);
    assert_eq!(hired.len(), 5);
    assert_eq!(p.employees().len(), 1_005);
    let emails: HashSet<String> = p.employees().iter().map(Employee::email).collect();
    assert_eq!(emails.len(), 1_005, "a hire reused an email");

    let terminated = p.terminate(7);
    assert_eq!(terminated.len(), 7);
    for id in &terminated {
        assert!(
            p.employees()
                .iter()
                .any(|e| &e.employee_id() == id && e.status() == Status::Terminated)
        );
    }

    let removed = p.remove(9);
    assert_eq!(p.employees().len(), 996);
    let numbers: HashSet<u32> = p.employees().iter().map(Employee::number).collect();
    assert!(
        p.employees()
            .iter()
            .filter_map(|e| e.manager)
            .all(|m| numbers.contains(&m)),
        "a manager was removed"
    );
    assert!(
        removed
            .iter()
            .all(|id| p.employees().iter().all(|e| &e.employee_id() != id))
    );
}

#[test]
fn dates_convert_both_ways() {
    for (y, m, d) in [
        (1970, 1, 1),
        (2000, 2, 29),
        (2024, 12, 31),
        (1995, 1, 2),
        (2100, 3, 1),
    ] {
        assert_eq!(Date::from_ymd(y, m, d).ymd(), (y, m, d));
    }
    assert_eq!(Date::from_ymd(1970, 1, 2).0, 1);
    assert_eq!(Date::from_ymd(2024, 3, 1).to_string(), "2024-03-01");
}
