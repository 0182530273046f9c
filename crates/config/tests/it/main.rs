//! The config crate's integration tests: whole configurations in, a `Config` or rendered
//! diagnostics out.

mod cases;
mod includes;
mod ldap;
mod loads;
mod secrets;

use std::path::Path;

/// Loads `input` as `idsync.toml` and compares the rendered diagnostics with `expected`
/// (empty when the configuration must load).
pub fn check(input: &str, expected: &str) {
    let actual = match config::load_str(input, Path::new("idsync.toml")) {
        Ok(_) => String::new(),
        Err(diagnostics) => diagnostics.to_string(),
    };
    assert_eq!(
        actual.trim_end(),
        expected.trim_end(),
        "\n--- actual ---\n{actual}\n"
    );
}
