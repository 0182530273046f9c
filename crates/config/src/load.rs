//! Loading: read the main file, the files it includes, then validate the whole. Syntax
//! errors in any file stop loading before the meaning is checked, since a half-parsed file
//! would make every reference to what it defines look wrong.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use toml::de::DeTable;

use crate::diagnostic::{Diagnostics, Loc, Problems, SourceFile, Sources};
use crate::include;
use crate::model_types::Config;
use crate::raw::{RawDocument, Role, read_document};
use crate::reader::{Table, secret_lines, secret_spans};
use crate::validate::validate;

/// Loads and validates the configuration at `path` and every file it includes.
pub fn load(path: &Path) -> Result<Config, Diagnostics> {
    match std::fs::read_to_string(path) {
        Ok(text) => load_str(&text, path),
        Err(error) => {
            let mut problems = Problems::default();
            problems.file_error(
                path,
                format!("cannot read the configuration {}: {error}", path.display()),
            );
            Err(problems.into_diagnostics(&Sources::default()))
        }
    }
}

/// Loads and validates a configuration held in memory. `path` names it in messages, and
/// relative paths in it (the store, CSV files, includes) are resolved against its directory.
pub fn load_str(text: &str, path: &Path) -> Result<Config, Diagnostics> {
    let mut sources = Sources::default();
    let mut problems = Problems::default();
    let mut syntax_ok = true;

    let main = sources.files.len();
    let mut doc = read_file(
        &mut sources,
        &mut problems,
        &mut syntax_ok,
        path.to_owned(),
        text.to_owned(),
        Role::Main,
    );

    // The same file reached twice (two overlapping patterns, or the main file itself) is
    // read once, so its definitions are not reported as duplicates of themselves.
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    seen.insert(canonical(path));
    let dir = sources.get(main).dir().to_owned();
    for pattern in std::mem::take(&mut doc.include) {
        let loc = &pattern.loc;
        let files = match include::expand(&dir, &pattern.value) {
            Ok(files) => files,
            Err(message) => {
                problems.error(loc, message);
                continue;
            }
        };
        for file in files {
            if !seen.insert(canonical(&file)) {
                continue;
            }
            let text = match std::fs::read_to_string(&file) {
                Ok(text) => text,
                Err(error) => {
                    problems.error(
                        loc,
                        format!("cannot read included file {}: {error}", file.display()),
                    );
                    continue;
                }
            };
            let included = read_file(
                &mut sources,
                &mut problems,
                &mut syntax_ok,
                file,
                text,
                Role::Included,
            );
            doc.connectors.extend(included.connectors);
            doc.inbound.extend(included.inbound);
            doc.outbound.extend(included.outbound);
        }
    }

    if !syntax_ok {
        return Err(problems.into_diagnostics(&sources));
    }
    let config = validate(doc, main, &sources, &mut problems);
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(problems.into_diagnostics(&sources))
    }
}

/// Parses one file and reads its shape. TOML syntax errors are reported and clear
/// `syntax_ok`; the file then contributes nothing.
fn read_file(
    sources: &mut Sources,
    problems: &mut Problems,
    syntax_ok: &mut bool,
    path: PathBuf,
    text: String,
    role: Role,
) -> RawDocument {
    let id = sources.files.len();
    let (doc, redactions) = {
        let (tree, errors) = DeTable::parse_recoverable(&text);
        let doc = if errors.is_empty() {
            read_document(&Table::root(id, &tree), role, problems)
        } else {
            *syntax_ok = false;
            for error in &errors {
                let span = error.span().unwrap_or(0..0);
                problems.error(&Loc::new(id, span), error.message().trim_end().to_owned());
            }
            RawDocument::default()
        };
        (doc, secret_spans(tree.get_ref()))
    };
    let mut file = SourceFile::new(path, text);
    file.redactions = redactions;
    file.redactions.extend(secret_lines(&file.text));
    sources.add(file);
    doc
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}
