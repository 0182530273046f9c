//! `include`: connectors and rules from other files, with errors pointing into those files.

use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const HR: &str = "[[connector]]\nname = \"hr\"\ntype = \"csv\"\npath = \"hr.csv\"\nanchor = \"Id\"\nobject_type = \"person\"\n";

#[test]
fn included_files_add_connectors_and_rules_and_resolve_paths_against_themselves() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "idsync.toml",
        "include = [\"connectors/hr.toml\", \"rules/*.toml\"]\n",
    );
    write(dir.path(), "connectors/hr.toml", HR);
    write(
        dir.path(),
        "rules/a.toml",
        "[[inbound]]\nname = \"a\"\nconnector = \"hr\"\nproject = true\n",
    );
    write(
        dir.path(),
        "rules/b.toml",
        "[[inbound]]\nname = \"b\"\nconnector = \"hr\"\n",
    );
    write(dir.path(), "rules/notes.txt", "not toml");
    let config = config::load(&dir.path().join("idsync.toml")).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = config.inbound.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    let config::ConnectorKind::Csv(hr) = &config.connectors[0].kind else {
        panic!("not a csv connector");
    };
    assert_eq!(hr.path, dir.path().join("connectors/hr.csv"));
}

#[test]
fn errors_in_included_files_point_into_them() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "idsync.toml",
        &format!("include = [\"rules/*.toml\", \"missing.toml\"]\n{HR}"),
    );
    write(
        dir.path(),
        "rules/a.toml",
        "[store]\npath = \"x.db\"\n\n[[inbound]]\nname = \"a\"\nconnector = \"hrr\"\n",
    );
    let errors = config::load(&dir.path().join("idsync.toml")).unwrap_err();
    let found: Vec<(String, usize, usize, &str)> = errors
        .iter()
        .map(|d| {
            let file = d
                .file
                .strip_prefix(dir.path())
                .unwrap()
                .display()
                .to_string();
            (file, d.line, d.column, d.message.as_str())
        })
        .collect();
    let missing = format!(
        "included file {} does not exist",
        dir.path().join("missing.toml").display()
    );
    assert_eq!(
        found,
        [
            ("idsync.toml".into(), 1, 28, missing.as_str()),
            (
                "rules/a.toml".into(),
                1,
                2,
                "\"store\" cannot be set in an included file"
            ),
            ("rules/a.toml".into(), 6, 13, "unknown connector \"hrr\""),
        ],
        "{errors}"
    );
}

#[test]
fn a_file_included_twice_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "idsync.toml",
        "include = [\"hr.toml\", \"*.toml\"]\n",
    );
    write(dir.path(), "hr.toml", HR);
    let config = config::load(&dir.path().join("idsync.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.connectors.len(), 1);
}

#[test]
fn a_pattern_that_matches_nothing_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "idsync.toml", "include = [\"rules/*.tmol\"]\n");
    let errors = config::load(&dir.path().join("idsync.toml")).unwrap_err();
    assert!(
        errors.0[0].message.starts_with("no file matches"),
        "{errors}"
    );
}

#[test]
fn a_syntax_error_in_an_included_file_stops_before_meaning() {
    let dir = tempfile::tempdir().unwrap();
    // The main file's rule names a connector defined in the broken file: no cascade.
    write(
        dir.path(),
        "idsync.toml",
        "include = [\"hr.toml\"]\n[guard]\ndeletion_treshold = 1\n[[inbound]]\nname = \"r\"\nconnector = \"hr\"\n",
    );
    write(
        dir.path(),
        "hr.toml",
        "[[connector]]\nname = \"hr\ntype = \"csv\"\n",
    );
    let errors = config::load(&dir.path().join("idsync.toml")).unwrap_err();
    let messages: Vec<&str> = errors.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{errors}");
    assert_eq!(messages[0], "unknown key \"deletion_treshold\" in [guard]");
    assert!(errors.0[1].file.ends_with("hr.toml"), "{errors}");
}
