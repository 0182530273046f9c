//! The `idsync` command line: wiring only. Every command's logic lives in the library crates.

mod commands;
mod open;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// The engine allocates and frees millions of small values per run (attribute names, values,
// lineage); mimalloc is markedly faster at that than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes, as documented in the README.
pub mod exit {
    /// Everything went well.
    pub const OK: u8 = 0;
    /// The run finished, with per-object errors (or a fatal error).
    pub const ERRORS: u8 = 1;
    /// Configuration or usage error.
    pub const CONFIG: u8 = 2;
    /// Stopped by the guard: mass changes await approval.
    pub const GUARD: u8 = 3;
}

#[derive(Debug, Parser)]
#[command(
    name = "idsync",
    version,
    about = "Identity synchronization and provisioning",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log format on stderr: `text` or `json`. Default: text.
    #[arg(long, global = true, default_value = "text")]
    log_format: String,
    /// Pretend it is this time (RFC 3339): rehearse grace periods and schedules.
    #[arg(long, global = true, hide = true, env = "IDSYNC_NOW")]
    now: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a commented starter configuration.
    Init(commands::init::InitArgs),
    /// Check a configuration: syntax, meaning, then the connected systems.
    Check(commands::check::CheckArgs),
    /// Import and synchronize, then show what would be exported, without exporting.
    Preview(commands::run::PreviewArgs),
    /// Run the pipeline once: import, sync, guard, export.
    Run(commands::run::RunArgs),
    /// Show an identity: every value, where it came from, and what lost on precedence.
    Show(commands::show::ShowArgs),
    /// Show what a connected system holds: object types and attributes.
    Schema(commands::schema::SchemaArgs),
    /// Show recent runs.
    History(commands::history::HistoryArgs),
    /// Evaluate an attribute-mapping expression, without running a sync.
    Expr(commands::expr::ExprArgs),
    /// Generate a sample organisation and run a full cycle on it, offline.
    Demo(commands::demo::DemoArgs),
    /// Measure full, no-op and 1% change cycles on synthetic populations.
    Bench(commands::bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    commands::logging::init(&cli.log_format);
    let clock = match commands::clock(cli.now.as_deref()) {
        Ok(clock) => clock,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    let result = match cli.command {
        Command::Init(args) => commands::init::run(&args),
        Command::Check(args) => commands::check::run(&args),
        Command::Preview(args) => commands::run::preview(&args, clock.as_ref()),
        Command::Run(args) => commands::run::run(&args, clock.as_ref()),
        Command::Show(args) => commands::show::run(&args),
        Command::History(args) => commands::history::run(&args),
        Command::Schema(args) => commands::schema::run(&args),
        // `idsync expr` has its own exit codes: 2 for a parse or check error, 1 for an
        // evaluation error.
        Command::Expr(args) => return commands::expr::run(&args),
        Command::Demo(args) => commands::demo::run(&args, clock.as_ref()),
        Command::Bench(args) => commands::bench::run(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit::ERRORS)
        }
    }
}
