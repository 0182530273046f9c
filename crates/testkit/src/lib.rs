//! The test harness: a temporary workspace per test, CSV fixtures, and the `idsync` binary
//! run as a real child process, so tests exercise exactly what users run, and can kill it.

pub mod openldap;
pub mod samba;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary directory that holds one test's files: configuration, CSVs, the store.
/// Removed when dropped.
#[derive(Debug)]
pub struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Workspace {
            dir: tempfile::Builder::new()
                .prefix("idsync-test-")
                .tempdir()
                .expect("create a temporary directory"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Writes a file (creating parent directories).
    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent directory");
        }
        std::fs::write(&path, contents).expect("write test file");
        path
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.join(relative))
            .unwrap_or_else(|e| panic!("read {relative}: {e}"))
    }

    pub fn exists(&self, relative: &str) -> bool {
        self.join(relative).exists()
    }
}

impl Default for Workspace {
    fn default() -> Self {
        Self::new()
    }
}

/// Builds a CSV file from a header and rows, quoting where needed.
#[derive(Debug, Clone)]
pub struct Csv {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    pub fn new(header: &[&str]) -> Self {
        Csv {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(mut self, cells: &[&str]) -> Self {
        assert_eq!(
            cells.len(),
            self.header.len(),
            "row {cells:?} does not match the header"
        );
        self.rows
            .push(cells.iter().map(|s| s.to_string()).collect());
        self
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let line = |cells: &[String]| cells.iter().map(|c| quote(c)).collect::<Vec<_>>().join(",");
        let _ = writeln!(out, "{}", line(&self.header));
        for row in &self.rows {
            let _ = writeln!(out, "{}", line(row));
        }
        out
    }
}

fn quote(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

/// Reads a CSV file written by idsync into rows of (column → value), for assertions.
pub fn read_csv(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let header = split_csv_line(header);
    lines
        .filter(|l| !l.is_empty())
        .map(|l| header.iter().cloned().zip(split_csv_line(l)).collect())
        .collect()
}

/// A small CSV line splitter for test assertions (quoted cells without embedded newlines).
fn split_csv_line(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(std::mem::take(&mut cell)),
            (c, _) => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

/// The result of running the binary.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from_output(output: Output) -> Self {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Whether the process died from a signal or an abort rather than exiting.
    pub fn crashed(&self) -> bool {
        self.code.is_none() || self.code == Some(134)
    }

    /// Parses stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Runs the idsync binary (`bin`, from `env!("CARGO_BIN_EXE_idsync")`) in `dir` with `args`
/// and extra environment variables, and waits for it.
pub fn idsync(bin: &str, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(bin);
    command
        .current_dir(dir)
        .args(args)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        command.env(k, v);
    }
    Run::from_output(command.output().expect("start the idsync binary"))
}
