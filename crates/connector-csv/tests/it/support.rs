//! Settings, files and page collection shared by the tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use config::{ColumnSpec, CsvSettings};
use connector::{
    Connector, ImportEntry, ImportMode, ImportPage, ImportProblem, ImportRequest, ImportedObject,
    Watermark,
};
use connector_csv::CsvConnector;
use model::{Anchor, AttributeName, Syntax, Value};

pub fn settings(path: &Path, anchor: &[&str]) -> CsvSettings {
    CsvSettings {
        path: path.to_owned(),
        anchor: anchor.iter().map(|s| s.to_string()).collect(),
        object_type: "person".into(),
        delimiter: b',',
        columns: BTreeMap::new(),
        drop_dir: None,
        export_columns: Vec::new(),
    }
}

pub fn typed(
    mut settings: CsvSettings,
    column: &str,
    syntax: Syntax,
    format: Option<&str>,
    multi: Option<&str>,
) -> CsvSettings {
    settings.columns.insert(
        column.to_owned(),
        ColumnSpec {
            syntax,
            format: format.map(str::to_owned),
            multi: multi.map(str::to_owned),
            refers_to: None,
        },
    );
    settings
}

pub struct Dir {
    pub dir: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, content).expect("write test file");
        path
    }
}

/// Everything one import served, page by page.
#[derive(Debug)]
pub struct Imported {
    pub pages: Vec<ImportPage>,
}

impl Imported {
    pub fn objects(&self) -> Vec<&ImportedObject> {
        self.pages
            .iter()
            .flat_map(|p| &p.entries)
            .map(|e| match e {
                ImportEntry::Upsert(o) => o,
                other => panic!("a CSV import only upserts, got {other:?}"),
            })
            .collect()
    }

    pub fn object(&self, anchor: &str) -> &ImportedObject {
        self.objects()
            .into_iter()
            .find(|o| o.anchor == Anchor::new(anchor))
            .unwrap_or_else(|| panic!("no object {anchor} in {:?}", self.anchors()))
    }

    pub fn anchors(&self) -> Vec<String> {
        self.objects()
            .iter()
            .map(|o| o.anchor.to_string())
            .collect()
    }

    pub fn problems(&self) -> Vec<&ImportProblem> {
        self.pages.iter().flat_map(|p| &p.problems).collect()
    }

    pub fn watermark(&self) -> Option<Watermark> {
        self.pages.last().and_then(|p| p.watermark.clone())
    }

    pub fn mode(&self) -> ImportMode {
        self.pages[0].mode
    }
}

pub async fn import(
    connector: &mut CsvConnector,
    mode: ImportMode,
    watermark: Option<Watermark>,
) -> Imported {
    let mut pages = Vec::new();
    let mut cursor = None;
    loop {
        let page = connector
            .import(ImportRequest {
                mode,
                watermark: watermark.clone(),
                cursor: cursor.take(),
            })
            .await
            .expect("import page");
        cursor = page.next.clone();
        pages.push(page);
        if cursor.is_none() {
            return Imported { pages };
        }
    }
}

pub async fn full(connector: &mut CsvConnector) -> Imported {
    import(connector, ImportMode::Full, None).await
}

pub fn value(object: &ImportedObject, name: &str) -> Option<Vec<Value>> {
    object
        .attributes
        .get(&AttributeName::new(name))
        .map(<[Value]>::to_vec)
}

pub fn text(object: &ImportedObject, name: &str) -> Option<String> {
    object
        .attributes
        .first(&AttributeName::new(name))
        .map(Value::to_text)
}
