//! Imports a CSV file in full, then as a no-op delta, and rewrites it as an export target,
//! printing times: `cargo run --release -p connector-csv --example import_file -- <file> <anchor column>`.
//! Run it under `/usr/bin/time -v` to see the peak memory.

use std::collections::BTreeMap;
use std::time::Instant;

use config::CsvSettings;
use connector::{Connector, ExportId, ExportRequest, Exporter, ImportMode, ImportRequest};
use connector_csv::CsvConnector;
use model::{AttributeChange, AttributeName, ObjectChange};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, anchor] = args.as_slice() else {
        return Err("usage: import_file <file> <anchor column>".into());
    };
    let settings = CsvSettings {
        path: path.into(),
        anchor: vec![anchor.clone()],
        object_type: "person".into(),
        delimiter: b',',
        columns: BTreeMap::new(),
        drop_dir: None,
        export_columns: Vec::new(),
    };
    let mut csv = CsvConnector::new(settings);

    let start = Instant::now();
    let (mut objects, mut problems, mut pages, mut cursor) = (0, 0, 0, None);
    let mut watermark = None;
    let mut first_anchor = None;
    loop {
        let page = csv
            .import(ImportRequest {
                mode: ImportMode::Full,
                watermark: None,
                cursor: cursor.take(),
            })
            .await?;
        pages += 1;
        objects += page.entries.len();
        problems += page.problems.len();
        if first_anchor.is_none() {
            first_anchor = page.entries.first().map(|e| e.anchor().clone());
        }
        watermark = page.watermark.or(watermark);
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    println!(
        "full import: {objects} objects, {problems} problems, {pages} pages in {:?}",
        start.elapsed()
    );

    let start = Instant::now();
    let delta = csv
        .import(ImportRequest {
            mode: ImportMode::Delta,
            watermark,
            cursor: None,
        })
        .await?;
    println!(
        "no-op delta: {:?} with {} entries in {:?}",
        delta.mode,
        delta.entries.len(),
        start.elapsed()
    );

    let start = Instant::now();
    let change = AttributeChange::replace(AttributeName::new("Title"), vec!["Benchmarked".into()]);
    let outcomes = csv
        .export(vec![ExportRequest {
            id: ExportId(1),
            object_type: "person".into(),
            anchor: first_anchor,
            change: ObjectChange::Update {
                changes: vec![change],
            },
        }])
        .await?;
    csv.finish().await?;
    println!(
        "export of one update over the whole file: {:?} in {:?}",
        outcomes[0].result,
        start.elapsed()
    );
    Ok(())
}
