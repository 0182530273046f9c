//! Structured logs on stderr. `RUST_LOG` picks the level (default: warnings, plus idsync's
//! own info lines when stderr is not a terminal, where they are the only progress shown).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init(format: &str) {
    let default = if std::io::stderr().is_terminal() {
        "warn"
    } else {
        "info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
