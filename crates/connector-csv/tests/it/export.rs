//! The file as an export target: requests, the atomic write, the drop copy, and reading back.

use std::sync::Arc;

use connector::{ConnectorError, ExportId, ExportOutcome, ExportRequest, ExportResult, Exporter};
use connector_csv::CsvConnector;
use model::{Anchor, AttributeChange, AttributeName, Attributes, ObjectChange, Syntax, Value};

use crate::support::{Dir, full, settings, text, typed, value};

fn create(id: i64, attributes: Attributes) -> ExportRequest {
    ExportRequest {
        id: ExportId(id),
        object_type: "person".into(),
        anchor: None,
        change: ObjectChange::Create { attributes },
    }
}

fn update(id: i64, anchor: &str, changes: Vec<AttributeChange>) -> ExportRequest {
    ExportRequest {
        id: ExportId(id),
        object_type: "person".into(),
        anchor: Some(Anchor::new(anchor)),
        change: ObjectChange::Update { changes },
    }
}

fn delete(id: i64, anchor: &str) -> ExportRequest {
    ExportRequest {
        id: ExportId(id),
        object_type: "person".into(),
        anchor: Some(Anchor::new(anchor)),
        change: ObjectChange::Delete,
    }
}

fn person(id: &str, name: &str) -> Attributes {
    Attributes::new().with("EmployeeID", id).with("Name", name)
}

fn name(s: &str) -> AttributeName {
    AttributeName::new(s)
}

async fn export(csv: &mut CsvConnector, batch: Vec<ExportRequest>) -> Vec<ExportOutcome> {
    let mut outcomes = csv.export(batch).await.expect("export batch");
    outcomes.sort_by_key(|o| o.id);
    outcomes
}

fn applied(outcome: &ExportOutcome) -> bool {
    matches!(outcome.result, ExportResult::Applied { .. })
}

fn permanent_reason(outcome: &ExportOutcome) -> String {
    match &outcome.result {
        ExportResult::Permanent { reason } => reason.clone(),
        other => panic!("expected a permanent outcome, got {other:?}"),
    }
}

#[tokio::test]
async fn creates_land_in_a_new_file_with_anchor_and_export_columns_first() {
    let dir = Dir::new();
    let path = dir.path("out.csv");
    let mut s = settings(&path, &["EmployeeID"]);
    s.export_columns = vec!["Name".into(), "Mail".into()];
    let mut csv = CsvConnector::new(s.clone());
    let outcomes = export(
        &mut csv,
        vec![
            create(1, person("E1", "Ann").with("Zone", "z").with("Age", "30")),
            create(2, person("E2", "Bob")),
        ],
    )
    .await;
    assert_eq!(
        outcomes[0].result,
        ExportResult::Applied {
            anchor: Some(Anchor::new("E1"))
        }
    );
    assert_eq!(
        outcomes[1].result,
        ExportResult::Applied {
            anchor: Some(Anchor::new("E2"))
        }
    );
    // Nothing is written before `finish`.
    assert!(!path.exists());
    csv.finish().await.unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        written,
        "EmployeeID,Name,Mail,Age,Zone\nE1,Ann,,30,z\nE2,Bob,,,\n"
    );
    let imported = full(&mut CsvConnector::new(s)).await;
    assert_eq!(imported.anchors(), ["E1", "E2"]);
}

#[tokio::test]
async fn a_repeated_create_replaces_the_row_instead_of_duplicating_it() {
    let dir = Dir::new();
    let path = dir.path("out.csv");
    let mut csv = CsvConnector::new(settings(&path, &["EmployeeID"]));
    export(&mut csv, vec![create(1, person("E1", "Ann"))]).await;
    export(&mut csv, vec![create(2, person("E1", "Ann B."))]).await;
    csv.finish().await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "EmployeeID,Name\nE1,Ann B.\n"
    );
}

#[tokio::test]
async fn a_create_without_its_anchor_column_is_rejected() {
    let dir = Dir::new();
    let mut csv = CsvConnector::new(settings(&dir.path("out.csv"), &["EmployeeID"]));
    let outcomes = export(
        &mut csv,
        vec![create(1, Attributes::new().with("Name", "Ann"))],
    )
    .await;
    assert_eq!(
        permanent_reason(&outcomes[0]),
        "create rejected: the anchor column EmployeeID has no value"
    );
}

#[tokio::test]
async fn updates_change_only_the_given_attributes() {
    let dir = Dir::new();
    let path = dir.write(
        "out.csv",
        "EmployeeID,Name,Groups,Title\nE1,Ann,a;b,Dev\nE2,Bob,,Ops\n",
    );
    let s = typed(
        settings(&path, &["EmployeeID"]),
        "Groups",
        Syntax::String,
        None,
        Some(";"),
    );
    let mut csv = CsvConnector::new(s.clone());
    let outcomes = export(
        &mut csv,
        vec![
            update(
                1,
                "E1",
                vec![
                    AttributeChange::replace(name("title"), vec!["Lead".into()]),
                    AttributeChange::add(name("Groups"), vec!["c".into(), "a".into()]),
                    AttributeChange::remove(name("Groups"), vec!["b".into()]),
                    AttributeChange::replace(name("Mobile"), vec!["+1 555".into()]),
                ],
            ),
            update(
                2,
                "E9",
                vec![AttributeChange::replace(name("Title"), vec!["x".into()])],
            ),
            update(
                3,
                "E2",
                vec![AttributeChange::replace(
                    name("EmployeeID"),
                    vec!["E3".into()],
                )],
            ),
            update(
                4,
                "E2",
                vec![AttributeChange::replace(name("Name"), vec![])],
            ),
        ],
    )
    .await;
    assert!(applied(&outcomes[0]), "{outcomes:?}");
    assert_eq!(
        permanent_reason(&outcomes[1]),
        "update of E9 rejected: out.csv has no row with that anchor"
    );
    assert_eq!(
        permanent_reason(&outcomes[2]),
        "update of E2 rejected: EmployeeID is an anchor column and cannot change"
    );
    assert!(applied(&outcomes[3]));
    csv.finish().await.unwrap();
    let imported = full(&mut CsvConnector::new(s)).await;
    let e1 = imported.object("E1");
    assert_eq!(text(e1, "Name").as_deref(), Some("Ann"));
    assert_eq!(text(e1, "Title").as_deref(), Some("Lead"));
    assert_eq!(text(e1, "Mobile").as_deref(), Some("+1 555"));
    assert_eq!(value(e1, "Groups"), Some(vec!["a".into(), "c".into()]));
    let e2 = imported.object("E2");
    assert_eq!(value(e2, "Name"), None);
    assert_eq!(text(e2, "Title").as_deref(), Some("Ops"));
}

#[tokio::test]
async fn deletes_remove_the_row_and_a_missing_row_is_already_gone() {
    let dir = Dir::new();
    let path = dir.write("out.csv", "EmployeeID,Name\nE1,Ann\nE2,Bob\nE3,Cy\n");
    let mut csv = CsvConnector::new(settings(&path, &["EmployeeID"]));
    let outcomes = export(&mut csv, vec![delete(1, "E2"), delete(2, "E404")]).await;
    assert!(outcomes.iter().all(applied), "{outcomes:?}");
    csv.finish().await.unwrap();
    // The other rows keep their order and their text.
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "EmployeeID,Name\nE1,Ann\nE3,Cy\n"
    );
}

#[tokio::test]
async fn every_request_gets_exactly_one_outcome() {
    let dir = Dir::new();
    let path = dir.write("out.csv", "EmployeeID,Name\nE1,Ann\n");
    let mut csv = CsvConnector::new(settings(&path, &["EmployeeID"]));
    let batch = vec![
        create(10, person("E2", "Bob")),
        create(11, Attributes::new()),
        update(12, "E1", vec![]),
        update(13, "nope", vec![]),
        delete(14, "E1"),
        ExportRequest {
            id: ExportId(15),
            object_type: "group".into(),
            anchor: None,
            change: ObjectChange::Delete,
        },
    ];
    let outcomes = export(&mut csv, batch).await;
    let ids: Vec<i64> = outcomes.iter().map(|o| o.id.0).collect();
    assert_eq!(ids, [10, 11, 12, 13, 14, 15]);
    assert_eq!(
        permanent_reason(&outcomes[5]),
        "out.csv holds only person objects, not group"
    );
}

#[tokio::test]
async fn typed_values_round_trip_through_the_file() {
    let dir = Dir::new();
    let path = dir.path("out.csv");
    let mut s = settings(&path, &["Company", "Number"]);
    s.delimiter = b';';
    s = typed(s, "HireDate", Syntax::DateTime, Some("%d/%m/%Y"), None);
    s = typed(s, "LastSeen", Syntax::DateTime, None, None);
    s = typed(s, "Active", Syntax::Boolean, None, None);
    s = typed(s, "Age", Syntax::Integer, None, None);
    s = typed(s, "Manager", Syntax::Reference, None, None);
    s = typed(s, "Photo", Syntax::Binary, None, None);
    s = typed(s, "Groups", Syntax::String, None, Some("|"));
    let mut attributes = Attributes::new()
        .with("Company", "Contoso")
        .with("Number", "7")
        .with("Name", "Smith; \"Ann\"\nsecond line")
        .with(
            "HireDate",
            "2024-12-31T00:00:00Z".parse::<model::Timestamp>().unwrap(),
        )
        .with(
            "LastSeen",
            "2025-01-02T03:04:05Z".parse::<model::Timestamp>().unwrap(),
        )
        .with("Active", false)
        .with("Age", 42)
        .with("Photo", Value::Binary(vec![0, 255, 7]))
        .with("Manager", Value::Reference("Contoso|1".into()));
    attributes.set(name("Groups"), vec!["Sales".into(), "EMEA, North".into()]);
    let mut csv = CsvConnector::new(s.clone());
    let outcomes = export(&mut csv, vec![create(1, attributes.clone())]).await;
    assert_eq!(
        outcomes[0].result,
        ExportResult::Applied {
            anchor: Some(Anchor::new("Contoso|7"))
        }
    );
    csv.finish().await.unwrap();
    let imported = full(&mut CsvConnector::new(s)).await;
    assert!(imported.problems().is_empty(), "{:?}", imported.problems());
    assert_eq!(imported.object("Contoso|7").attributes, attributes);
}

#[tokio::test]
async fn the_file_is_replaced_atomically_and_no_temporary_file_is_left() {
    let dir = Dir::new();
    let path = dir.write("out.csv", "EmployeeID,Name\nE1,Ann\n");
    // A reader that opened the old file keeps seeing the old file: the new one is renamed
    // over it, never written in place.
    let mut old = std::fs::File::open(&path).unwrap();
    let mut csv = CsvConnector::new(settings(&path, &["EmployeeID"]));
    export(&mut csv, vec![create(1, person("E2", "Bob"))]).await;
    csv.finish().await.unwrap();
    let mut before = String::new();
    std::io::Read::read_to_string(&mut old, &mut before).unwrap();
    assert_eq!(before, "EmployeeID,Name\nE1,Ann\n");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "EmployeeID,Name\nE1,Ann\nE2,Bob\n"
    );
    let names: Vec<String> = std::fs::read_dir(dir.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["out.csv"]);
}

#[tokio::test]
async fn a_run_with_nothing_to_export_leaves_the_file_alone() {
    let dir = Dir::new();
    let path = dir.write("out.csv", "EmployeeID , Name\r\nE1,Ann\r\n");
    let mut csv = CsvConnector::new(settings(&path, &["EmployeeID"]));
    csv.finish().await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "EmployeeID , Name\r\nE1,Ann\r\n"
    );
}

#[tokio::test]
async fn a_drop_copy_is_written_with_the_utc_time_in_its_name() {
    let dir = Dir::new();
    let drops = dir.path("drops");
    std::fs::create_dir(&drops).unwrap();
    let path = dir.path("accounts.csv");
    let mut s = settings(&path, &["EmployeeID"]);
    s.drop_dir = Some(drops.clone());
    let clock = Arc::new(|| "2025-01-02T03:04:05.678Z".parse().expect("a fixed time"));
    let mut csv = CsvConnector::new(s).with_clock(clock);
    for round in ["Ann", "Ann B."] {
        export(&mut csv, vec![create(1, person("E1", round))]).await;
        csv.finish().await.unwrap();
    }
    let mut names: Vec<String> = std::fs::read_dir(&drops)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "accounts-20250102T030405Z-2.csv",
            "accounts-20250102T030405Z.csv"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(drops.join(&names[1])).unwrap(),
        "EmployeeID,Name\nE1,Ann\n"
    );
    assert_eq!(
        std::fs::read_to_string(drops.join(&names[0])).unwrap(),
        std::fs::read_to_string(&path).unwrap()
    );
}

#[tokio::test]
async fn a_malformed_target_file_stops_the_export_instead_of_losing_rows() {
    let dir = Dir::new();
    let path = dir.write("out.csv", "EmployeeID,Name\nE1,Ann\nE2,Bob,extra\n");
    let mut csv = CsvConnector::new(settings(&path, &["EmployeeID"]));
    let err = csv.export(vec![delete(1, "E1")]).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Protocol(_)), "{err:?}");
    assert!(err.to_string().contains("line(s) 3"), "{err}");
}

#[tokio::test]
async fn rows_no_request_can_address_are_kept() {
    let dir = Dir::new();
    let path = dir.write("out.csv", "EmployeeID,Name\n,Orphan\nE1,Ann\nE1,Twin\n");
    let mut csv = CsvConnector::new(settings(&path, &["EmployeeID"]));
    export(
        &mut csv,
        vec![update(
            1,
            "E1",
            vec![AttributeChange::replace(
                name("Name"),
                vec!["Ann B.".into()],
            )],
        )],
    )
    .await;
    csv.finish().await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "EmployeeID,Name\n,Orphan\nE1,Ann B.\nE1,Twin\n"
    );
}

#[tokio::test]
async fn a_target_file_not_written_yet_is_a_healthy_empty_system() {
    let dir = Dir::new();
    let path = dir.path("sub/out.csv");
    let s = typed(
        settings(&path, &["EmployeeID"]),
        "HireDate",
        Syntax::DateTime,
        Some("%Y-%m-%d"),
        None,
    );
    let mut csv = CsvConnector::new(s.clone()).with_missing_as_empty(true);
    let health = connector::Connector::check(&mut csv).await.unwrap();
    assert!(health.is_healthy(), "{health:?}");
    assert!(full(&mut csv).await.anchors().is_empty());
    // As a source, the same missing file is a problem: it must not read as "everyone left".
    let health = connector::Connector::check(&mut CsvConnector::new(s))
        .await
        .unwrap();
    assert!(!health.is_healthy());
    export(&mut csv, vec![create(1, person("E1", "Ann"))]).await;
    csv.finish().await.unwrap();
    assert_eq!(full(&mut csv).await.anchors(), ["E1"]);
}

#[tokio::test]
async fn check_accepts_a_drop_directory_to_be_created_but_not_a_file_in_its_place() {
    let dir = Dir::new();
    let path = dir.write("out.csv", "EmployeeID\nE1\n");
    let mut s = settings(&path, &["EmployeeID"]);
    s.drop_dir = Some(dir.path("drops"));
    assert!(
        connector::Connector::check(&mut CsvConnector::new(s.clone()))
            .await
            .unwrap()
            .is_healthy()
    );
    s.drop_dir = Some(path.clone());
    let health = connector::Connector::check(&mut CsvConnector::new(s))
        .await
        .unwrap();
    assert_eq!(
        health.problems,
        [format!(
            "drop directory {} is not a directory",
            path.display()
        )]
    );
}
