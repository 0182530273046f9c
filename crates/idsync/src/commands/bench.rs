//! `idsync bench`: full, no-op and 1% change cycles on synthetic populations, with peak
//! memory. Figures are printed, never asserted: BENCHMARKS.md records them with the command.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use engine::{Engine, RunMode, RunOptions, RunReport, SystemClock};
use synth::Population;

use super::runtime;
use crate::open::{load_config, open_store};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Population sizes (employees), comma-separated, measured in this order.
    #[arg(long, value_delimiter = ',', default_values_t = [100_000usize, 1_000_000])]
    pub sizes: Vec<usize>,
    /// Where to put the files and stores (a temporary directory by default).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Also print the time of each phase of the full cycle (on stderr).
    #[arg(long)]
    pub phases: bool,
}

/// HR into the vault, and every active person out to one account file.
const BENCH_CONFIG: &str = r#"
[store]
path = "idsync.db"

[guard]
deletion_threshold = 100000000
disable_threshold = 100000000

[[connector]]
name = "hr"
type = "csv"
path = "hr.csv"
anchor = "EmployeeID"
object_type = "person"
columns = { HireDate = { type = "date", format = "%Y-%m-%d" }, ManagerID = { type = "reference" } }

[[connector]]
name = "directory"
type = "csv"
path = "out/accounts.csv"
anchor = "AccountId"
object_type = "account"

[[inbound]]
name = "hr-people"
connector = "hr"
precedence = 10
project = true
join = [ { vault = "employeeId", expr = "[EmployeeID]" } ]
[inbound.flows]
employeeId = "[EmployeeID]"
givenName = "[FirstName]"
surname = "[LastName]"
mail = "[Email]"
department = "[Department]"
title = "[Title]"
manager = "[ManagerID]"
status = "[Status]"
telephoneNumber = "[Phone]"

[[outbound]]
name = "accounts"
connector = "directory"
object_type = "account"
scope = '[status] = "Active"'
provision = true
deprovision = { action = "disable", attribute = "Enabled", value = "False" }
join = [ { vault = "identityId", expr = "[AccountId]" } ]
[outbound.flows]
AccountId = "[identityId]"
EmployeeID = "[employeeId]"
GivenName = "[givenName]"
Surname = "[surname]"
Mail = "[mail]"
Department = "[department]"
Title = "[title]"
Manager = "[manager]"
Phone = "[telephoneNumber]"
Enabled = '"True"'
"#;

pub fn run(args: &BenchArgs) -> anyhow::Result<u8> {
    let temp;
    let root = match &args.dir {
        Some(dir) => dir.clone(),
        None => {
            temp = tempfile_dir()?;
            temp.clone()
        }
    };
    println!(
        "idsync bench: {} cores; sizes {:?}; files in {}",
        cores(),
        args.sizes,
        root.display()
    );
    println!(
        "{:>10}  {:>12}  {:>10}  {:>10}  {:>12}  {:>12}  {:>10}",
        "identities", "full cycle", "(CPU)", "objects/s", "no-op cycle", "1% change", "peak RSS"
    );
    for &size in &args.sizes {
        let dir = root.join(format!("n{size}"));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        let mut population = Population::generate(size, 0, 1);
        population.write_hr_csv(dir.join("hr.csv"))?;
        std::fs::write(dir.join("idsync.toml"), BENCH_CONFIG)?;
        let config = load_config(&dir.join("idsync.toml"))
            .map_err(|code| anyhow::anyhow!("bench configuration invalid ({code})"))?;

        let cpu_before = cpu_time();
        let (full, report) = timed_cycle(&config)?;
        let full_cpu = cpu_time()
            .zip(cpu_before)
            .map(|(after, before)| after.saturating_sub(before));
        check(&report)?;
        if args.phases {
            for p in &report.phases {
                eprintln!(
                    "    {:>8.2} s  {}{}",
                    p.seconds,
                    p.phase,
                    p.connector
                        .as_ref()
                        .map(|c| format!(" {c}"))
                        .unwrap_or_default()
                );
            }
        }
        // The second cycle confirms the first cycle's exports and resolves manager references
        // to accounts created in the same cycle; it is not what is measured as no-op.
        timed_cycle(&config)?;
        let (noop, _) = timed_cycle(&config)?;
        population.change_fraction(0.01, 2);
        population.write_hr_csv(dir.join("hr.csv"))?;
        let (change, _) = timed_cycle(&config)?;
        println!(
            "{:>10}  {:>12}  {:>10}  {:>10.0}  {:>12}  {:>12}  {:>10}",
            size,
            secs(full),
            full_cpu.map(secs).unwrap_or_else(|| "n/a".into()),
            size as f64 / full.as_secs_f64(),
            secs(noop),
            secs(change),
            peak_rss()
                .map(|kb| format!("{} MiB", kb / 1024))
                .unwrap_or_else(|| "n/a".into())
        );
        if args.dir.is_none() {
            std::fs::remove_dir_all(&dir)?;
        }
    }
    println!(
        "(CPU is the main thread's time on a core during the full cycle: less sensitive than wall time to other load)"
    );
    println!(
        "(peak RSS is the process's high-water mark so far, so each row includes the rows above it)"
    );
    Ok(crate::exit::OK)
}

fn timed_cycle(config: &config::Config) -> anyhow::Result<(Duration, RunReport)> {
    let mut open = open_store(config)?;
    let start = Instant::now();
    let report = runtime()?.block_on(Engine::new(config, &mut open.store, &SystemClock).run(
        RunOptions {
            mode: RunMode::Run,
            approve_deletes: false,
        },
    ))?;
    Ok((start.elapsed(), report))
}

fn check(report: &RunReport) -> anyhow::Result<()> {
    if report.error_count() > 0 || !report.held.is_empty() {
        anyhow::bail!(
            "the benchmark cycle did not run cleanly: {:?}",
            report.errors.first()
        );
    }
    Ok(())
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Time the main thread (which runs the whole pipeline) has spent on a core, where the OS
/// tells it (`/proc/self/schedstat`, in nanoseconds).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/schedstat").ok()?;
    stat.split_whitespace()
        .next()?
        .parse()
        .ok()
        .map(Duration::from_nanos)
}

/// The process's peak resident set (VmHWM), in KiB, where the OS tells it.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("idsync-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}
