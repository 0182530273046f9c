//! `idsync demo`: a sample organisation, synchronized end to end, offline.
//!
//! Day one: the HR file and the contractor portal's file; people who are contractors today
//! are not in HR yet. Day two: some of them were hired (their HR rows join the identities
//! the contractor source projected, by mail), people moved, were hired and left.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use engine::{Clock, Engine, RunMode, RunOptions, RunReport};
use model::{Anchor, ConnectorName};
use store::Store;
use synth::Population;

use super::runtime;
use crate::commands::run::render_report;
use crate::commands::show::render_identity;
use crate::open::{load_config, open_store};

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where to put the demo's files and store.
    #[arg(long, default_value = "idsync-demo")]
    pub dir: PathBuf,
    /// How many employees to generate.
    #[arg(long, default_value_t = 2000)]
    pub employees: usize,
    /// How many contractors to generate.
    #[arg(long, default_value_t = 300)]
    pub contractors: usize,
}

/// The demo's configuration: two sources joined into one vault, and an account directory
/// (a file drop) provisioned from it.
pub const DEMO_CONFIG: &str = include_str!("demo.toml");

/// The Entra part, filled in with the emulated tenant's addresses and app.
const DEMO_ENTRA: &str = include_str!("demo-entra.toml");

/// An emulated Entra tenant on loopback for the demo, served by its own threads while the
/// engine runs. Its quotas run 60 times faster, so throttling shows without the wait.
struct DemoTenant {
    emulator: graph_emulator::RunningEmulator,
    _runtime: tokio::runtime::Runtime,
}

impl DemoTenant {
    fn start() -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let emulator = runtime
            .block_on(graph_emulator::Emulator::start(
                graph_emulator::EmulatorOptions {
                    time_scale: 60.0,
                    seed: Some(42),
                    ..Default::default()
                },
            ))
            .context("cannot start the emulated Entra tenant")?;
        Ok(Self {
            emulator,
            _runtime: runtime,
        })
    }

    fn config(&self) -> String {
        let info = &self.emulator.info;
        DEMO_ENTRA
            .replace("{tenant}", &info.tenant_id)
            .replace("{client_id}", &info.client_id)
            .replace("{login_url}", self.emulator.login_url())
            .replace("{graph_url}", self.emulator.graph_url())
            .replace("{initial_domain}", &info.initial_domain)
    }

    /// Users, licensed users, users with a manager, and groups with their member counts.
    fn summary(&self) -> (usize, usize, usize, Vec<(String, usize)>) {
        let state = self.emulator.state().directory().dump();
        let groups = state["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|g| {
                (
                    g["displayName"].as_str().unwrap_or("?").to_owned(),
                    g["members"].as_array().map_or(0, Vec::len),
                )
            })
            .collect();
        let users = state["users"].as_array().cloned().unwrap_or_default();
        let licensed = users
            .iter()
            .filter(|u| {
                u["assignedLicenses"]
                    .as_array()
                    .is_some_and(|l| !l.is_empty())
            })
            .count();
        let managed = users.iter().filter(|u| u["manager"].is_string()).count();
        (users.len(), licensed, managed, groups)
    }
}

pub fn run(args: &DemoArgs, clock: &dyn Clock) -> anyhow::Result<u8> {
    prepare(&args.dir)?;
    let dir = &args.dir;
    let mut population = Population::generate(args.employees, args.contractors, 42);
    let contractor_mail: HashSet<String> = population
        .contractors()
        .iter()
        .map(|c| c.email().to_lowercase())
        .collect();
    let converted: Vec<String> = population
        .employees()
        .iter()
        .filter(|e| contractor_mail.contains(&e.email().to_lowercase()))
        .map(|e| e.employee_id())
        .collect();

    // Day one: converted contractors are not in HR yet.
    population.write_contractors_csv(dir.join("contractors.csv"))?;
    population.write_hr_csv(dir.join("hr.csv"))?;
    write_teams(&population, &dir.join("teams.csv"))?;
    drop_rows(&dir.join("hr.csv"), &converted.iter().cloned().collect())?;
    let tenant = DemoTenant::start()?;
    std::fs::write(
        dir.join("idsync.toml"),
        format!("{DEMO_CONFIG}{}", tenant.config()),
    )?;
    std::fs::write(
        dir.join("entra-secret"),
        &tenant.emulator.info.client_secret,
    )?;
    println!(
        "idsync demo: {} employees ({} of them still contractors today) and {} contractors, in {}\n",
        population.employees().len() - converted.len(),
        converted.len(),
        population.contractors().len(),
        dir.display()
    );
    let config_path = dir.join("idsync.toml");
    let config = match load_config(&config_path) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };

    println!("== day 1: first full cycle ==");
    let first = cycle(&config, clock)?;
    print!("{}", render_report(&first));

    // Day two: the contractors were hired; people moved, joined and left.
    population.change_fraction(0.02, 7);
    let hired = population.hire(10);
    let left = population.terminate(5);
    population.write_hr_csv(dir.join("hr.csv"))?;
    println!(
        "\n== day 2: {} contractors hired as employees, 2% moved, {} new hires, {} leavers ==",
        converted.len(),
        hired.len(),
        left.len()
    );
    let second = cycle(&config, clock)?;
    print!("{}", render_report(&second));

    let open = open_store(&config)?;
    if let Some(example) = converted.first() {
        let cs = open
            .store
            .cs_by_anchor(&ConnectorName::new("hr"), &Anchor::new(example.as_str()))?;
        if let Some(link) = cs.and_then(|cs| cs.link) {
            println!("\n== one identity: a contractor who became an employee ({example}) ==");
            print!("{}", render_identity(&open.store, link.identity)?);
        }
    }
    let accounts = open.store.cs_count(&ConnectorName::new("directory"))?;
    println!(
        "\n{} identities in the vault, {accounts} accounts in {}",
        open.store.identity_count()?,
        dir.join("out/accounts.csv").display()
    );
    let (users, licensed, managed, groups) = tenant.summary();
    let groups: Vec<String> = groups
        .iter()
        .map(|(name, members)| format!("{name} ({members} members)"))
        .collect();
    println!(
        "{users} users in the emulated Entra tenant {} ({licensed} licensed, {managed} with a manager); groups: {}",
        tenant.emulator.info.initial_domain,
        groups.join(", ")
    );
    println!(
        "next: idsync show -c {} <employee id>   |   idsync preview -c {}   |   idsync history -c {}",
        config_path.display(),
        config_path.display(),
        config_path.display()
    );
    Ok(crate::exit::OK)
}

fn cycle(config: &config::Config, clock: &dyn Clock) -> anyhow::Result<RunReport> {
    let mut open = open_store(config)?;
    let report =
        runtime()?.block_on(Engine::new(config, &mut open.store, clock).run(RunOptions {
            mode: RunMode::Run,
            approve_deletes: false,
        }))?;
    Ok(report)
}

/// Starts from a clean demo directory, but never deletes a directory the demo did not make.
fn prepare(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let ours = dir.join("idsync.toml").exists() && dir.join("hr.csv").exists();
        let empty = std::fs::read_dir(dir)?.next().is_none();
        if !ours && !empty {
            bail!(
                "{} exists and is not a previous demo; choose another --dir",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(())
}

/// The HR system's team file: Engineering, and its managers, by employee id.
fn write_teams(population: &Population, path: &Path) -> anyhow::Result<()> {
    let engineering: Vec<&synth::Employee> = population
        .employees()
        .iter()
        .filter(|e| e.department() == "Engineering")
        .collect();
    let ids = |filter: &dyn Fn(&synth::Employee) -> bool| -> String {
        engineering
            .iter()
            .filter(|e| filter(e))
            .map(|e| e.employee_id())
            .collect::<Vec<_>>()
            .join("|")
    };
    let everyone = ids(&|_| true);
    let managers = ids(&|e| e.title() == "Engineering Manager");
    std::fs::write(
        path,
        format!(
            "TeamId,Name,Members\nT-ENG,Engineering,{everyone}\nT-ENG-MGR,Engineering managers,{managers}\n"
        ),
    )?;
    Ok(())
}

/// Removes the rows of these employee ids (first column) from a CSV file.
fn drop_rows(path: &Path, ids: &HashSet<String>) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| line.split(',').next().is_none_or(|id| !ids.contains(id)))
        .collect();
    std::fs::write(path, kept.join("\n") + "\n")?;
    Ok(())
}
