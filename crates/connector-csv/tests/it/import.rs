//! Importing files: encodings, quoting, typed columns, bad rows, paging and delta.

use connector::{Connector, ConnectorError, ImportMode, ImportRequest, PageCursor};
use connector_csv::CsvConnector;
use model::{AttributeName, Syntax, Value};

use crate::support::{Dir, full, import, settings, text, typed, value};

const SIMPLE: &str = "EmployeeID,FirstName,LastName\nE1,José,Müller\nE2,Zoë,Ólafsdóttir\n";

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut bytes = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in text.encode_utf16() {
        bytes.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    bytes
}

#[tokio::test]
async fn reads_utf8_with_and_without_bom_and_utf16_with_bom() {
    let dir = Dir::new();
    let mut with_bom = vec![0xEF, 0xBB, 0xBF];
    with_bom.extend(SIMPLE.as_bytes());
    let files = [
        ("plain.csv", SIMPLE.as_bytes().to_vec()),
        ("bom.csv", with_bom),
        ("le.csv", utf16(SIMPLE, false)),
        ("be.csv", utf16(SIMPLE, true)),
    ];
    for (name, bytes) in files {
        let path = dir.write(name, bytes);
        let mut csv = CsvConnector::new(settings(&path, &["EmployeeID"]));
        let imported = full(&mut csv).await;
        assert_eq!(imported.anchors(), ["E1", "E2"], "{name}");
        assert!(
            imported.problems().is_empty(),
            "{name}: {:?}",
            imported.problems()
        );
        let zoe = imported.object("E2");
        assert_eq!(text(zoe, "FirstName").as_deref(), Some("Zoë"), "{name}");
        assert_eq!(
            text(zoe, "lastname").as_deref(),
            Some("Ólafsdóttir"),
            "{name}"
        );
        // The BOM must not leak into the first column's name.
        assert_eq!(text(zoe, "EmployeeID").as_deref(), Some("E2"), "{name}");
    }
}

#[tokio::test]
async fn quoted_fields_hold_delimiters_quotes_and_line_breaks() {
    let dir = Dir::new();
    let path = dir.write(
        "quoted.csv",
        "EmployeeID,Name,Note\r\nE1,\"Smith, Ann\",\"She said \"\"hi\"\"\"\r\nE2,Bob,\"two\nlines\"\r\nE3,Cy,plain\r\n",
    );
    let mut csv = CsvConnector::new(settings(&path, &["EmployeeID"]));
    let imported = full(&mut csv).await;
    assert!(imported.problems().is_empty(), "{:?}", imported.problems());
    assert_eq!(
        text(imported.object("E1"), "Name").as_deref(),
        Some("Smith, Ann")
    );
    assert_eq!(
        text(imported.object("E1"), "Note").as_deref(),
        Some("She said \"hi\"")
    );
    assert_eq!(
        text(imported.object("E2"), "Note").as_deref(),
        Some("two\nlines")
    );
    assert_eq!(
        text(imported.object("E3"), "Note").as_deref(),
        Some("plain")
    );
}

#[tokio::test]
async fn a_configured_delimiter_is_used() {
    let dir = Dir::new();
    let path = dir.write("semi.csv", "EmployeeID;Name\nE1;Smith, Ann\n");
    let mut s = settings(&path, &["EmployeeID"]);
    s.delimiter = b';';
    let imported = full(&mut CsvConnector::new(s)).await;
    assert_eq!(
        text(imported.object("E1"), "Name").as_deref(),
        Some("Smith, Ann")
    );
}

#[tokio::test]
async fn typed_and_multi_valued_columns() {
    let dir = Dir::new();
    let path = dir.write(
        "typed.csv",
        "EmployeeID,Age,Active,HireDate,ManagerID,Photo,Groups,Note\n\
         E1,42,Yes,2024-12-31,E2,AAH+, sales ; ;emea ,\n\
         E2,,no,,,,,\n",
    );
    let mut s = settings(&path, &["EmployeeID"]);
    s = typed(s, "Age", Syntax::Integer, None, None);
    s = typed(s, "active", Syntax::Boolean, None, None);
    s = typed(s, "HireDate", Syntax::DateTime, Some("%Y-%m-%d"), None);
    s = typed(s, "ManagerID", Syntax::Reference, None, None);
    s = typed(s, "Photo", Syntax::Binary, None, None);
    s = typed(s, "Groups", Syntax::String, None, Some(";"));
    let imported = full(&mut CsvConnector::new(s)).await;
    assert!(imported.problems().is_empty(), "{:?}", imported.problems());
    let e1 = imported.object("E1");
    assert_eq!(value(e1, "Age"), Some(vec![Value::Integer(42)]));
    assert_eq!(value(e1, "Active"), Some(vec![Value::Boolean(true)]));
    assert_eq!(
        value(e1, "HireDate"),
        Some(vec![Value::DateTime(
            "2024-12-31T00:00:00Z".parse().unwrap()
        )])
    );
    assert_eq!(
        value(e1, "ManagerID"),
        Some(vec![Value::Reference("E2".into())])
    );
    assert_eq!(
        value(e1, "Photo"),
        Some(vec![Value::Binary(vec![0, 1, 254])])
    );
    assert_eq!(
        value(e1, "Groups"),
        Some(vec![Value::from("sales"), Value::from("emea")])
    );
    // Empty cells mean no value: the attribute is absent.
    assert_eq!(value(e1, "Note"), None);
    let e2 = imported.object("E2");
    assert_eq!(
        e2.attributes
            .names()
            .map(|n| n.as_str())
            .collect::<Vec<_>>(),
        ["Active", "EmployeeID"]
    );
}

#[tokio::test]
async fn an_anchor_can_span_several_columns() {
    let dir = Dir::new();
    let path = dir.write(
        "multi.csv",
        "Company,Number,Name\nContoso,1,Ann\nFabrikam,1,Bob\n",
    );
    let imported = full(&mut CsvConnector::new(settings(
        &path,
        &["Company", "Number"],
    )))
    .await;
    assert_eq!(imported.anchors(), ["Contoso|1", "Fabrikam|1"]);
}

#[tokio::test]
async fn bad_rows_become_problems_and_the_rest_is_imported() {
    let dir = Dir::new();
    let path = dir.write(
        "hr.csv",
        "EmployeeID,Name,HireDate,Age\n\
         E1,Ann,2024-01-01,30\n\
         E2,Bob,31/12/2024,31\n\
         E3,Cy,Smith,2024-01-01,32\n\
         E1,Ann again,2024-01-01,30\n\
         ,Nobody,2024-01-01,1\n\
         E4,Dee,2024-01-01,abc\n\
         E5,Eve,2024-01-01,35\n",
    );
    let mut s = settings(&path, &["EmployeeID"]);
    s = typed(s, "HireDate", Syntax::DateTime, Some("%Y-%m-%d"), None);
    s = typed(s, "Age", Syntax::Integer, None, None);
    let imported = full(&mut CsvConnector::new(s)).await;
    assert_eq!(imported.anchors(), ["E1", "E5"]);
    let problems: Vec<(String, Option<String>, String)> = imported
        .problems()
        .iter()
        .map(|p| {
            (
                p.location.clone(),
                p.anchor.as_ref().map(ToString::to_string),
                p.reason.clone(),
            )
        })
        .collect();
    let expect = |line: u32, anchor: Option<&str>, reason: &str| {
        (
            format!("hr.csv:{line}"),
            anchor.map(str::to_owned),
            reason.to_owned(),
        )
    };
    assert_eq!(
        problems,
        [
            expect(
                3,
                Some("E2"),
                r#"column HireDate: "31/12/2024" does not match the date format %Y-%m-%d"#
            ),
            expect(4, Some("E3"), "the row has 5 fields but the header has 4"),
            expect(
                5,
                Some("E1"),
                "duplicate anchor E1: line 2 has the same anchor and is the one imported; this row is ignored"
            ),
            expect(
                6,
                None,
                "column EmployeeID is empty, so the row has no anchor"
            ),
            expect(7, Some("E4"), r#"column Age: "abc" is not an integer"#),
        ]
    );
}

#[tokio::test]
async fn line_numbers_count_physical_lines_with_crlf_and_multi_line_fields() {
    let dir = Dir::new();
    let path = dir.write(
        "hr.csv",
        "EmployeeID,Note\r\nE1,\"a\r\nb\"\r\n\r\nE2,x,y\r\nE3,ok\r\n",
    );
    let imported = full(&mut CsvConnector::new(settings(&path, &["EmployeeID"]))).await;
    assert_eq!(imported.anchors(), ["E1", "E3"]);
    let problems = imported.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].location, "hr.csv:5");
}

#[tokio::test]
async fn an_unclosed_quote_costs_one_row_not_the_rest_of_the_file() {
    let dir = Dir::new();
    let path = dir.write(
        "hr.csv",
        "EmployeeID,Name,Title\nE1,Ann,Dev\nE2,\"Bob,Ops\nE3,Cy,QA\nE4,Dee,PM\n",
    );
    let imported = full(&mut CsvConnector::new(settings(&path, &["EmployeeID"]))).await;
    assert_eq!(imported.anchors(), ["E1", "E3", "E4"]);
    let problems = imported.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].location, "hr.csv:3");
    assert_eq!(problems[0].anchor.as_ref().map(|a| a.as_str()), Some("E2"));
    assert!(
        problems[0].reason.contains("quoted field is not closed"),
        "{}",
        problems[0].reason
    );
}

#[tokio::test]
async fn invalid_utf8_in_a_value_is_a_problem_of_that_row() {
    let dir = Dir::new();
    let path = dir.write(
        "hr.csv",
        b"EmployeeID,Name\nE1,\xff\xfe\xfd\nE2,Bob\n".as_slice(),
    );
    let imported = full(&mut CsvConnector::new(settings(&path, &["EmployeeID"]))).await;
    assert_eq!(imported.anchors(), ["E2"]);
    let problem = imported.problems()[0];
    assert_eq!(
        (problem.location.as_str(), problem.reason.as_str()),
        ("hr.csv:2", "column Name: the value is not valid UTF-8")
    );
}

#[tokio::test]
async fn a_missing_anchor_column_fails_the_import_naming_file_and_columns() {
    let dir = Dir::new();
    let path = dir.write("hr.csv", SIMPLE);
    let mut csv = CsvConnector::new(settings(&path, &["PersonID"]));
    let err = csv
        .import(ImportRequest {
            mode: ImportMode::Full,
            watermark: None,
            cursor: None,
        })
        .await
        .expect_err("no anchor column");
    assert!(matches!(err, ConnectorError::Config(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "hr.csv has no anchor column PersonID (its columns: EmployeeID, FirstName, LastName)"
    );
}

#[tokio::test]
async fn an_unreadable_file_fails_the_import() {
    let dir = Dir::new();
    let mut csv = CsvConnector::new(settings(&dir.path("missing.csv"), &["EmployeeID"]));
    let err = csv
        .import(ImportRequest {
            mode: ImportMode::Full,
            watermark: None,
            cursor: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Config(_)), "{err:?}");
    assert!(err.to_string().contains("missing.csv"), "{err}");
}

fn many_rows(count: usize) -> String {
    let mut text = String::from("EmployeeID,Name,Dept\n");
    for i in 0..count {
        text.push_str(&format!("E{i:06},Person {i},D{}\n", i % 17));
    }
    text
}

#[tokio::test]
async fn a_large_file_is_served_in_pages_each_object_once() {
    let dir = Dir::new();
    let path = dir.write("hr.csv", many_rows(12_345));
    let mut csv = CsvConnector::new(settings(&path, &["EmployeeID"])).with_page_size(1_000);
    let imported = full(&mut csv).await;
    assert_eq!(imported.pages.len(), 13);
    assert!(imported.pages.iter().all(|p| p.mode == ImportMode::Full));
    assert!(
        imported
            .pages
            .iter()
            .take(12)
            .all(|p| p.entries.len() == 1_000 && p.watermark.is_none())
    );
    assert!(imported.watermark().is_some());
    let mut anchors = imported.anchors();
    assert_eq!(anchors.len(), 12_345);
    anchors.sort();
    anchors.dedup();
    assert_eq!(anchors.len(), 12_345);
}

#[tokio::test]
async fn a_stale_cursor_is_refused() {
    let dir = Dir::new();
    let path = dir.write("hr.csv", many_rows(30));
    let mut csv = CsvConnector::new(settings(&path, &["EmployeeID"])).with_page_size(10);
    let first = csv
        .import(ImportRequest {
            mode: ImportMode::Full,
            watermark: None,
            cursor: None,
        })
        .await
        .unwrap();
    let cursor = first.next.clone().expect("more pages");
    let second = csv
        .import(ImportRequest {
            mode: ImportMode::Full,
            watermark: None,
            cursor: Some(cursor.clone()),
        })
        .await;
    assert!(second.is_ok());
    // The same cursor again, a cursor from nowhere, and one after the import ended are all stale.
    let again = csv
        .import(ImportRequest {
            mode: ImportMode::Full,
            watermark: None,
            cursor: Some(cursor),
        })
        .await;
    assert!(
        matches!(again, Err(ConnectorError::Protocol(ref m)) if m.contains("stale")),
        "{again:?}"
    );
    let bogus = PageCursor("csv1:0:0@10".into());
    let err = csv
        .import(ImportRequest {
            mode: ImportMode::Full,
            watermark: None,
            cursor: Some(bogus),
        })
        .await;
    assert!(err.is_err());
}

#[tokio::test]
async fn a_delta_of_an_unchanged_file_is_empty_and_a_changed_file_is_served_in_full() {
    let dir = Dir::new();
    let path = dir.write("hr.csv", many_rows(25));
    let mut csv = CsvConnector::new(settings(&path, &["EmployeeID"])).with_page_size(10);
    let first = full(&mut csv).await;
    let watermark = first.watermark().expect("watermark on the last page");

    let unchanged = import(&mut csv, ImportMode::Delta, Some(watermark.clone())).await;
    assert_eq!(unchanged.pages.len(), 1);
    assert_eq!(unchanged.mode(), ImportMode::Delta);
    assert!(unchanged.objects().is_empty());
    assert_eq!(unchanged.watermark(), Some(watermark.clone()));

    std::fs::write(&path, many_rows(26)).unwrap();
    let changed = import(&mut csv, ImportMode::Delta, Some(watermark.clone())).await;
    assert_eq!(changed.mode(), ImportMode::Full);
    assert_eq!(changed.objects().len(), 26);
    let new_watermark = changed.watermark().expect("new watermark");
    assert_ne!(new_watermark, watermark);

    // A delta without a watermark is a full import.
    assert_eq!(
        import(&mut csv, ImportMode::Delta, None)
            .await
            .objects()
            .len(),
        26
    );
}

#[tokio::test]
async fn schema_lists_the_header_columns_typed_with_the_anchor_marked() {
    let dir = Dir::new();
    let path = dir.write("hr.csv", "EmployeeID,Groups,HireDate\n");
    let mut s = settings(&path, &["employeeid"]);
    s = typed(s, "HireDate", Syntax::DateTime, Some("%Y-%m-%d"), None);
    s = typed(s, "Groups", Syntax::String, None, Some(";"));
    let schema = CsvConnector::new(s).schema().await.unwrap();
    let person = schema
        .object_type(&"person".into())
        .expect("the configured object type");
    assert_eq!(person.anchor, [AttributeName::new("EmployeeID")]);
    let names: Vec<&str> = person.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["EmployeeID", "Groups", "HireDate"]);
    assert!(person.attributes[0].required);
    assert!(person.attributes[1].multi_valued);
    assert_eq!(person.attributes[2].syntax, Syntax::DateTime);
}

#[tokio::test]
async fn check_reports_a_missing_file_and_a_missing_anchor_column() {
    let dir = Dir::new();
    let path = dir.write("hr.csv", SIMPLE);
    let healthy = CsvConnector::new(settings(&path, &["EmployeeID"]))
        .check()
        .await
        .unwrap();
    assert!(healthy.is_healthy(), "{healthy:?}");
    let no_anchor = CsvConnector::new(settings(&path, &["PersonID"]))
        .check()
        .await
        .unwrap();
    assert_eq!(
        no_anchor.problems,
        ["hr.csv has no anchor column PersonID (its columns: EmployeeID, FirstName, LastName)"]
    );
    let missing = CsvConnector::new(settings(&dir.path("nope.csv"), &["EmployeeID"]))
        .check()
        .await
        .unwrap();
    assert!(!missing.is_healthy());
    assert!(missing.problems[0].contains("nope.csv"), "{missing:?}");
}

#[tokio::test]
async fn a_synthetic_hr_file_imports_cleanly_with_references_that_resolve() {
    let dir = Dir::new();
    let path = dir.path("hr.csv");
    let mut population = synth::Population::generate(2_000, 0, 17);
    population.remove(25);
    population
        .write_hr_csv(&path)
        .expect("write the synthetic file");
    let mut s = settings(&path, &["EmployeeID"]);
    s = typed(s, "HireDate", Syntax::DateTime, Some("%Y-%m-%d"), None);
    s = typed(s, "ManagerID", Syntax::Reference, None, None);
    let imported = full(&mut CsvConnector::new(s).with_page_size(500)).await;
    assert!(imported.problems().is_empty(), "{:?}", imported.problems());
    let anchors: std::collections::HashSet<String> = imported.anchors().into_iter().collect();
    assert_eq!(anchors.len(), 1_975);
    for object in imported.objects() {
        if let Some(Value::Reference(manager)) =
            object.attributes.first(&AttributeName::new("ManagerID"))
        {
            assert!(
                anchors.contains(manager),
                "{} reports to missing {manager}",
                object.anchor
            );
        }
    }
    let ana = imported
        .objects()
        .into_iter()
        .find(|o| text(o, "LastName").is_some_and(|n| !n.is_ascii()));
    assert!(
        ana.is_some(),
        "no name with diacritics survived the round trip"
    );
}
