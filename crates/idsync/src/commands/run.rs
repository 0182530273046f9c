//! `idsync run` and `idsync preview`.

use std::io::IsTerminal;

use engine::pipeline::Progress;
use engine::plan::Plan;
use engine::{Clock, Engine, RunMode, RunOptions, RunOutcome, RunReport};
use indicatif::{ProgressBar, ProgressStyle};
use model::ConnectorName;

use super::{ConfigArg, runtime};
use crate::exit;
use crate::open::{load_config, open_store};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Import and sync, but export nothing.
    #[arg(long)]
    pub staging: bool,
    /// Let deletes and deprovisioning disables past their thresholds.
    #[arg(long)]
    pub approve_deletes: bool,
    /// Print the run report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct PreviewArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
    /// The most exports listed per connector (text output).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

/// A spinner per phase when stdout is a terminal; otherwise the phases go to the log.
struct PhaseDisplay {
    bar: Option<ProgressBar>,
}

impl PhaseDisplay {
    fn new() -> Self {
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        PhaseDisplay { bar }
    }

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for PhaseDisplay {
    fn phase(&self, connector: Option<&ConnectorName>, phase: &str) {
        let msg = match connector {
            Some(c) => format!("{phase}: {c}"),
            None => phase.to_owned(),
        };
        match &self.bar {
            Some(bar) => bar.set_message(msg),
            None => tracing::info!(phase, connector = connector.map(|c| c.as_str()), "phase"),
        }
    }
}

fn execute(
    config_arg: &ConfigArg,
    options: RunOptions,
    clock: &dyn Clock,
) -> anyhow::Result<Result<(config::Config, RunReport), u8>> {
    let config = match load_config(&config_arg.path) {
        Ok(c) => c,
        Err(code) => return Ok(Err(code)),
    };
    let mut open = open_store(&config)?;
    let display = PhaseDisplay::new();
    let report = runtime()?.block_on(
        Engine::new(&config, &mut open.store, clock)
            .with_progress(&display)
            .run(options),
    );
    display.done();
    Ok(Ok((config, report?)))
}

pub fn run(args: &RunArgs, clock: &dyn Clock) -> anyhow::Result<u8> {
    let mode = if args.staging {
        RunMode::Staging
    } else {
        RunMode::Run
    };
    let (_, report) = match execute(
        &args.config,
        RunOptions {
            mode,
            approve_deletes: args.approve_deletes,
        },
        clock,
    )? {
        Ok(done) => done,
        Err(code) => return Ok(code),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render_report(&report));
    }
    Ok(exit_code(&report))
}

pub fn preview(args: &PreviewArgs, clock: &dyn Clock) -> anyhow::Result<u8> {
    let (config, report) = match execute(
        &args.config,
        RunOptions {
            mode: RunMode::Preview,
            approve_deletes: false,
        },
        clock,
    )? {
        Ok(done) => done,
        Err(code) => return Ok(code),
    };
    let open = open_store(&config)?;
    // Text shows the first `limit` exports per connector; JSON is the whole plan.
    let plan = Plan::load(&config, &open.store, (!args.json).then_some(args.limit))?;
    if args.json {
        let out = serde_json::json!({ "plan": plan, "held": report.held, "errors": report.errors });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("Plan (nothing has been exported):");
        print!("{}", plan.render(args.limit));
        for held in &report.held {
            println!("guard: {}: {}", held.connector, held.reason);
        }
        print_errors(&report);
    }
    Ok(exit_code(&report))
}

pub fn exit_code(report: &RunReport) -> u8 {
    match report.outcome() {
        RunOutcome::Ok => exit::OK,
        RunOutcome::Errors => exit::ERRORS,
        RunOutcome::StoppedByGuard => exit::GUARD,
    }
}

fn print_errors(report: &RunReport) {
    if report.error_count() == 0 {
        return;
    }
    println!("{} errors:", report.error_count());
    for e in &report.errors {
        println!(
            "  {:?} {}: {}: {}",
            e.phase, e.connector, e.object, e.message
        );
    }
    if report.errors_not_kept > 0 {
        println!("  ... and {} more", report.errors_not_kept);
    }
}

/// The run report for people.
pub fn render_report(report: &RunReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "run {} ({}): {}",
        report.run.0,
        report.mode,
        report.outcome().as_str()
    );
    for (name, c) in &report.connectors {
        let i = &c.import;
        let s = &c.inbound;
        let o = &c.outbound;
        let e = &c.export;
        let _ = writeln!(out, "  {name}");
        if !i.mode.is_empty() {
            let _ = writeln!(
                out,
                "    import ({}): {} added, {} updated, {} deleted, {} unchanged, {} problems",
                i.mode, i.added, i.updated, i.deleted, i.unchanged, i.problems
            );
        }
        if s.projected + s.joined + s.updated + s.disconnected + s.joined_outbound > 0 {
            let _ = writeln!(
                out,
                "    inbound: {} projected, {} joined, {} updated, {} disconnected, {} accounts joined",
                s.projected, s.joined, s.updated, s.disconnected, s.joined_outbound
            );
        }
        if o.creates + o.updates + o.disables + o.deletes + o.disconnects > 0 {
            let _ = writeln!(
                out,
                "    outbound: {} creates, {} updates, {} disables, {} deletes, {} disconnects planned",
                o.creates, o.updates, o.disables, o.deletes, o.disconnects
            );
        }
        if e.applied + e.retrying + e.quarantined + e.held + e.waiting > 0 {
            let _ = writeln!(
                out,
                "    export: {} applied, {} waiting, {} retrying, {} quarantined, {} held",
                e.applied, e.waiting, e.retrying, e.quarantined, e.held
            );
        }
    }
    for held in &report.held {
        let _ = writeln!(out, "guard: {}: {}", held.connector, held.reason);
    }
    if !report.waiting.is_empty() {
        let total: u64 = report.connectors.values().map(|c| c.export.waiting).sum();
        let _ = writeln!(out, "{total} waiting for their target:");
        for w in &report.waiting {
            let _ = writeln!(
                out,
                "  {}: {}: {} (next try after {})",
                w.connector, w.object, w.reason, w.until
            );
        }
    }
    if report.error_count() > 0 {
        let _ = writeln!(out, "{} errors:", report.error_count());
        for e in &report.errors {
            let _ = writeln!(
                out,
                "  {:?} {}: {}: {}",
                e.phase, e.connector, e.object, e.message
            );
        }
        if report.errors_not_kept > 0 {
            let _ = writeln!(out, "  ... and {} more", report.errors_not_kept);
        }
    }
    out
}
