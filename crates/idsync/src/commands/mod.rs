//! One module per subcommand.

pub mod bench;
pub mod check;
pub mod demo;
pub mod expr;
pub mod history;
pub mod init;
pub mod logging;
pub mod run;
pub mod schema;
pub mod show;

use engine::{Clock, FixedClock, SystemClock};

/// The clock of this invocation: the real one, or a fixed time from `--now`.
pub fn clock(now: Option<&str>) -> anyhow::Result<Box<dyn Clock>> {
    match now {
        None => Ok(Box::new(SystemClock)),
        Some(text) => {
            let at: jiff::Timestamp = text
                .parse()
                .map_err(|e| anyhow::anyhow!("--now {text:?} is not an RFC 3339 time: {e}"))?;
            Ok(Box::new(FixedClock(at)))
        }
    }
}

/// The configuration file argument shared by the commands that read one.
#[derive(Debug, clap::Args)]
pub struct ConfigArg {
    /// The configuration file.
    #[arg(
        short = 'c',
        long = "config",
        env = "IDSYNC_CONFIG",
        default_value = "idsync.toml"
    )]
    pub path: std::path::PathBuf,
}

/// A single-threaded runtime: the engine drives one connector at a time, and the store is
/// synchronous, so more threads would only add contention on two cores.
/// The runtime a command runs on. The pipeline itself runs on the calling thread; two
/// workers carry what connectors start beside it (Graph reads the next page while the
/// engine stores the current one).
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}
