//! `include = ["rules/*.toml", "connectors.toml"]`: which files a pattern names. A plain
//! path must exist; a pattern with `*` or `?` in its file or folder names must match at
//! least one file, so a typo in a pattern is not silently an empty configuration.

use std::path::{Component, Path, PathBuf};

/// The files a pattern names, sorted, resolved against `dir`; an error message if none.
pub(crate) fn expand(dir: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let path = Path::new(pattern);
    let full = if path.is_absolute() {
        path.to_owned()
    } else {
        dir.join(path)
    };
    if !pattern.contains(['*', '?']) {
        return if full.is_file() {
            Ok(vec![full])
        } else {
            Err(format!("included file {} does not exist", full.display()))
        };
    }
    let mut found = vec![PathBuf::new()];
    for component in full.components() {
        let part = component.as_os_str().to_string_lossy();
        let is_pattern = matches!(component, Component::Normal(_)) && part.contains(['*', '?']);
        found = if is_pattern {
            let mut next = Vec::new();
            for base in &found {
                let listing = if base.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    base.as_path()
                };
                let Ok(entries) = std::fs::read_dir(listing) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if matches(&part, &name) {
                        next.push(base.join(name));
                    }
                }
            }
            next
        } else {
            found.into_iter().map(|base| base.join(component)).collect()
        };
    }
    found.retain(|p| p.is_file());
    found.sort();
    if found.is_empty() {
        Err(format!("no file matches {}", full.display()))
    } else {
        Ok(found)
    }
}

/// Shell-style matching of one name: `*` is any run of characters, `?` any one. As in a
/// shell, a wildcard does not match a leading dot, so editors' hidden files stay out.
fn matches(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((sp, sn)) = star {
            p = sp + 1;
            n = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_a_shell() {
        assert!(matches("*.toml", "hr.toml"));
        assert!(matches("h?.toml", "hr.toml"));
        assert!(matches("*", "x"));
        assert!(!matches("*.toml", "hr.toml.bak"));
        assert!(!matches("*.toml", ".hidden.toml"));
    }

    #[test]
    fn expands_patterns_in_order_and_requires_plain_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("rules")).unwrap();
        for name in ["b.toml", "a.toml", "notes.txt"] {
            std::fs::write(dir.path().join("rules").join(name), "").unwrap();
        }
        let found = expand(dir.path(), "rules/*.toml").unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["a.toml", "b.toml"]);
        assert!(expand(dir.path(), "rules/a.toml").is_ok());
        assert!(
            expand(dir.path(), "rules/c.toml")
                .unwrap_err()
                .contains("does not exist")
        );
        assert!(
            expand(dir.path(), "rules/*.tom")
                .unwrap_err()
                .contains("no file matches")
        );
    }
}
