//! The connector contract suite, run against a real file.

use std::path::PathBuf;

use config::CsvSettings;
use connector::contract::{self, ContractHarness, HarnessError};
use connector_csv::CsvConnector;
use model::{AttributeName, Attributes, ObjectType, Syntax, Value};

use crate::support::{Dir, settings, typed};

const COLUMNS: [&str; 4] = ["EmployeeID", "Name", "Title", "HireDate"];

/// The file is the system: the harness keeps the objects it seeded and rewrites the file
/// whenever it changes them "externally", as an HR system's nightly export would.
struct CsvHarness {
    _dir: Dir,
    path: PathBuf,
    settings: CsvSettings,
    objects: Vec<Attributes>,
}

impl CsvHarness {
    fn new() -> CsvHarness {
        let dir = Dir::new();
        let path = dir.path("employees.csv");
        let mut settings = settings(&path, &["EmployeeID"]);
        settings = typed(
            settings,
            "HireDate",
            Syntax::DateTime,
            Some("%Y-%m-%d"),
            None,
        );
        CsvHarness {
            _dir: dir,
            path,
            settings,
            objects: Vec::new(),
        }
    }

    fn write(&self) -> Result<(), HarnessError> {
        let mut writer = csv::Writer::from_path(&self.path)?;
        writer.write_record(COLUMNS)?;
        for object in &self.objects {
            writer.write_record(COLUMNS.iter().map(
                |c| match object.first(&AttributeName::new(*c)) {
                    Some(Value::DateTime(t)) => t.strftime("%Y-%m-%d").to_string(),
                    Some(v) => v.to_text(),
                    None => String::new(),
                },
            ))?;
        }
        writer.flush()?;
        Ok(())
    }

    fn position(&self, key: &Value) -> Result<usize, HarnessError> {
        let key_attribute = self.key_attribute();
        self.objects
            .iter()
            .position(|o| o.first(&key_attribute) == Some(key))
            .ok_or_else(|| format!("no seeded object has key {key:?}").into())
    }
}

impl ContractHarness for CsvHarness {
    type Connector = CsvConnector;

    fn object_type(&self) -> ObjectType {
        "person".into()
    }

    fn key_attribute(&self) -> AttributeName {
        AttributeName::new("EmployeeID")
    }

    fn mutable_attribute(&self) -> AttributeName {
        AttributeName::new("Title")
    }

    fn sample(&self, index: usize) -> Attributes {
        let hired: model::Timestamp = format!(
            "20{:02}-0{}-1{}T00:00:00Z",
            index % 25,
            1 + index % 9,
            index % 10
        )
        .parse()
        .unwrap_or_default();
        Attributes::new()
            .with("EmployeeID", format!("E{index:05}"))
            .with("Name", format!("Zoë Müller-{index}, Jr."))
            .with("Title", format!("Engineer \"{}\"", index % 3))
            .with("HireDate", hired)
    }

    fn page_size(&self) -> usize {
        4
    }

    async fn seed(&mut self, objects: &[Attributes]) -> Result<(), HarnessError> {
        self.objects = objects.to_vec();
        self.write()
    }

    async fn connector(&mut self) -> Result<CsvConnector, HarnessError> {
        Ok(CsvConnector::new(self.settings.clone()).with_page_size(self.page_size()))
    }

    async fn change_externally(
        &mut self,
        key: &Value,
        attribute: &AttributeName,
        value: Value,
    ) -> Result<(), HarnessError> {
        let i = self.position(key)?;
        self.objects[i].set(attribute.clone(), vec![value]);
        self.write()
    }

    async fn delete_externally(&mut self, key: &Value) -> Result<(), HarnessError> {
        let i = self.position(key)?;
        self.objects.remove(i);
        self.write()
    }

    async fn break_system(&mut self) -> Result<bool, HarnessError> {
        std::fs::remove_file(&self.path)?;
        Ok(true)
    }
}

#[tokio::test]
async fn the_csv_connector_passes_the_connector_contract() {
    let mut harness = CsvHarness::new();
    let mut report = contract::run(&mut harness).await;
    report.merge(contract::run_export(&mut harness).await);
    report.assert_passed();
    assert!(report.skipped.is_empty(), "skipped: {:?}", report.skipped);
    assert_eq!(report.passed.len(), 12, "{:?}", report.passed);
}
