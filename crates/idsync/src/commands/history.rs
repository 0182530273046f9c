//! `idsync history`: recent runs.

use store::Store;

use super::ConfigArg;
use crate::open::{load_config, open_store};

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// How many runs to show.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Print JSON (each run with its full report).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &HistoryArgs) -> anyhow::Result<u8> {
    let config = match load_config(&args.config.path) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let open = open_store(&config)?;
    let runs = open.store.runs(args.limit)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&runs)?);
        return Ok(crate::exit::OK);
    }
    if runs.is_empty() {
        println!("no runs yet");
    }
    for r in runs {
        let (status, finished, errors) = match &r.end {
            Some(end) => (
                end.status.clone(),
                end.finished_at.to_string(),
                end.report
                    .get("errors")
                    .and_then(|e| e.as_array())
                    .map(|a| a.len())
                    .unwrap_or(0),
            ),
            None => ("interrupted".to_owned(), "-".to_owned(), 0),
        };
        println!(
            "{:>6}  {:<8} {:<18} started {}  finished {}  {} errors",
            r.id.0, r.start.mode, status, r.start.started_at, finished, errors
        );
    }
    Ok(crate::exit::OK)
}
