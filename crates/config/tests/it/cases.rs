//! Data-driven: each `cases/NAME.toml` is loaded as `idsync.toml` and must render exactly
//! `cases/NAME.txt`. Run with `IDSYNC_BLESS=1` to write the `.txt` files from the output,
//! then review the diff.

use std::path::{Path, PathBuf};

#[test]
fn every_case_renders_its_expected_diagnostics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/cases");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty());
    let bless = std::env::var_os("IDSYNC_BLESS").is_some();
    let mut failures = Vec::new();
    for input in inputs {
        let text = std::fs::read_to_string(&input).unwrap();
        let actual = match config::load_str(&text, Path::new("idsync.toml")) {
            Ok(_) => "(loads)".to_owned(),
            Err(diagnostics) => diagnostics.to_string(),
        };
        let expected_path = input.with_extension("txt");
        if bless {
            std::fs::write(&expected_path, format!("{actual}\n")).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected.trim_end() != actual.trim_end() {
            failures.push(format!("=== {} ===\n{actual}\n", input.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "cases differ from their .txt (IDSYNC_BLESS=1 rewrites them):\n{}",
        failures.join("\n")
    );
}
