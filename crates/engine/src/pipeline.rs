//! One run of the pipeline, as a table of contents:
//!
//! 1. **import** every connector into its connector space (the confirming import of the
//!    previous run's exports);
//! 2. **inbound sync** every changed connector-space object into the vault;
//! 3. **recover** exports a killed run left in flight, now that the import has shown what landed;
//! 4. **outbound sync** every changed identity into pending exports, and expire grace periods;
//! 5. **guard**: thresholds, staging mode, preview;
//! 6. **export** what the guard approved;
//! 7. once more 4–6 for identities whose references waited on accounts step 6 created, so a
//!    run converges without waiting for the next one.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use config::Config;
use model::ConnectorName;
use store::{Operation, RunEnd, RunStart, Store};

use crate::EngineError;
use crate::clock::Clock;
use crate::connectors::AnyConnector;
use crate::export::export_connector;
use crate::guard::{GuardPolicy, PendingTally, review};
use crate::import::import_connector;
use crate::report::{Phase, RunReport};
use crate::schema_check::{attribute_names, unknown_attributes};
use crate::sync::RunContext;
use crate::sync_inbound::{IdPool, sync_connector};
use crate::sync_outbound::{expire_grace_periods, recover_in_flight, sync_identities};

/// How a run treats its targets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RunMode {
    /// Import, sync and export what the guard approves.
    #[default]
    Run,
    /// Import and sync, export nothing (a standby server, or rehearsing a change).
    Staging,
    /// Like staging, for showing the plan.
    Preview,
}

impl RunMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RunMode::Run => "run",
            RunMode::Staging => "staging",
            RunMode::Preview => "preview",
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    pub mode: RunMode,
    /// Let deletes and disables past their thresholds.
    pub approve_deletes: bool,
}

/// Reports phase progress to whoever shows it (a progress bar, a log line).
pub trait Progress {
    fn phase(&self, connector: Option<&ConnectorName>, phase: &str);
}

/// No progress display.
#[derive(Debug)]
pub struct Quiet;

impl Progress for Quiet {
    fn phase(&self, _: Option<&ConnectorName>, _: &str) {}
}

/// The pipeline over one configuration and one store.
pub struct Engine<'a> {
    config: &'a Config,
    store: &'a mut dyn Store,
    clock: &'a dyn Clock,
    progress: &'a dyn Progress,
}

impl std::fmt::Debug for Engine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config.path)
            .finish_non_exhaustive()
    }
}

impl<'a> Engine<'a> {
    pub fn new(config: &'a Config, store: &'a mut dyn Store, clock: &'a dyn Clock) -> Self {
        Engine {
            config,
            store,
            clock,
            progress: &Quiet,
        }
    }

    pub fn with_progress(mut self, progress: &'a dyn Progress) -> Self {
        self.progress = progress;
        self
    }

    fn base_dir(&self) -> PathBuf {
        self.config
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// One run of the pipeline. Per-object problems go into the report; only failures of the
    /// run itself (the store) are errors.
    pub async fn run(&mut self, options: RunOptions) -> Result<RunReport, EngineError> {
        let now = self.clock.now();
        let run = self.store.begin_run(&RunStart {
            started_at: now,
            mode: options.mode.as_str().into(),
        })?;
        let ctx = RunContext::new(self.config, run, now);
        let mut report = RunReport::new(run, options.mode.as_str(), now);
        let result = self.run_stages(&ctx, options, &mut report).await;
        report.finished_at = Some(self.clock.now());
        let status = match &result {
            Ok(()) => report.outcome().as_str().to_owned(),
            Err(e) => format!("failed: {e}"),
        };
        let end = RunEnd {
            finished_at: report.finished_at.unwrap_or(now),
            status,
            report: serde_json::to_value(&report).unwrap_or_default(),
        };
        // If the store itself failed, recording the end may fail too; the first error matters.
        let recorded = self.store.finish_run(run, &end);
        result?;
        recorded?;
        Ok(report)
    }

    async fn run_stages(
        &mut self,
        ctx: &RunContext<'_>,
        options: RunOptions,
        report: &mut RunReport,
    ) -> Result<(), EngineError> {
        let base = self.base_dir();
        let mut connectors = Vec::new();
        for config in &self.config.connectors {
            match AnyConnector::open(config, &base, self.config.is_target_only(&config.name)) {
                Ok(mut c) => {
                    c.read_only(crate::connectors::attributes_in_use(
                        self.config,
                        &config.name,
                    ));
                    connectors.push((config.name.clone(), Some(c)));
                }
                Err(e) => {
                    report.error(
                        Phase::Import,
                        &config.name,
                        config.name.to_string(),
                        format!("cannot open connector: {e}"),
                    );
                    connectors.push((config.name.clone(), None));
                }
            }
        }

        // 1. Import.
        let mut imported = Vec::new();
        for (name, connector) in &mut connectors {
            let Some(connector) = connector else { continue };
            self.progress.phase(Some(name), "import");
            let started = Instant::now();
            if import_connector(ctx, self.store, connector, name, report).await? {
                imported.push(name.clone());
            }
            report.timed("import", Some(name), started);
        }

        // 2. Inbound sync, for connectors whose rules read only attributes they have.
        let mut ids = IdPool::new();
        for (name, connector) in &mut connectors {
            let Some(connector) = connector else { continue };
            let started = Instant::now();
            if !self.config.inbound.iter().any(|r| &r.connector == name) {
                // Targets only: their changed objects still need their identities re-weighed.
                sync_connector(ctx, self.store, &mut ids, name, report)?;
                report.timed("inbound sync", Some(name), started);
                continue;
            }
            match connector.schema().await {
                Ok(schema) => {
                    let unknown = unknown_attributes(self.config, name, &schema);
                    if !unknown.is_empty() {
                        let has = attribute_names(&schema).join(", ");
                        for problem in unknown {
                            report.error(
                                Phase::Inbound,
                                name,
                                name.to_string(),
                                format!(
                                    "{problem}; it has: {has}. Nothing from {name} was synchronized"
                                ),
                            );
                        }
                        continue;
                    }
                }
                Err(e) => {
                    report.error(
                        Phase::Inbound,
                        name,
                        name.to_string(),
                        format!(
                            "cannot read the schema: {e}; nothing from {name} was synchronized"
                        ),
                    );
                    continue;
                }
            }
            self.progress.phase(Some(name), "inbound sync");
            sync_connector(ctx, self.store, &mut ids, name, report)?;
            report.timed("inbound sync", Some(name), started);
        }

        // 3. Recover exports a killed run left in flight, where the import proved their fate.
        for name in &imported {
            recover_in_flight(self.store, name)?;
        }

        // 4-6. Outbound sync, guard, export; then once more for identities whose references
        // pointed at accounts this run was still creating (a new hire's new manager), so a
        // run converges without waiting for the next one.
        let mut waiting = 0;
        for pass in 0..2 {
            // The second pass is only for identities whose references waited on accounts
            // the first pass's export has now created.
            if pass > 0 && (options.mode != RunMode::Run || waiting == 0) {
                break;
            }
            self.progress.phase(None, "outbound sync");
            let started = Instant::now();
            waiting = sync_identities(ctx, self.store, report)?;
            if pass == 0 {
                expire_grace_periods(ctx, self.store, report)?;
            }
            report.timed("outbound sync", None, started);
            let started = Instant::now();
            self.guard_and_export(ctx, options, &mut connectors, report)
                .await?;
            report.timed("guard and export", None, started);
        }
        Ok(())
    }

    async fn guard_and_export(
        &mut self,
        ctx: &RunContext<'_>,
        options: RunOptions,
        connectors: &mut [(ConnectorName, Option<AnyConnector>)],
        report: &mut RunReport,
    ) -> Result<(), EngineError> {
        self.progress.phase(None, "guard");
        let mut tallies = self.tallies()?;
        for tally in &mut tallies {
            let Some((_, Some(connector))) =
                connectors.iter_mut().find(|(n, _)| *n == tally.connector)
            else {
                continue;
            };
            tally.shortages = self.shortages(ctx, &tally.connector, connector).await?;
        }
        let policy = GuardPolicy {
            approve_deletes: options.approve_deletes,
            export_nothing: options.mode != RunMode::Run,
        };
        let (plan, held) = review(&tallies, policy);
        for h in &held {
            tracing::warn!(connector = %h.connector, deletes = h.deletes, disables = h.disables, "{}", h.reason);
        }
        report.held = held;
        for tally in &tallies {
            if !plan.approves(&tally.connector) {
                let pending = self.pending_total(&tally.connector)?;
                report.connector(&tally.connector).export.held = pending;
            }
        }
        for (name, connector) in connectors.iter_mut() {
            let Some(connector) = connector else { continue };
            if !plan.approves(name) {
                continue;
            }
            export_connector(
                ctx,
                self.store,
                connector,
                name,
                &plan,
                self.progress,
                report,
            )
            .await?;
        }
        Ok(())
    }

    /// What the connector's system cannot take of the planned export: the values of its
    /// counted attributes (licenses) that the due exports add, against its capacity.
    async fn shortages(
        &self,
        ctx: &RunContext<'_>,
        name: &ConnectorName,
        connector: &mut AnyConnector,
    ) -> Result<Vec<String>, EngineError> {
        let counted = connector.counted_attributes();
        if counted.is_empty() {
            return Ok(Vec::new());
        }
        let mut additions = connector::Additions::new();
        let mut after = None;
        loop {
            let due = self.store.due_exports(name, ctx.now, after, 5000)?;
            let Some(last) = due.last() else { break };
            after = Some(last.cs_id);
            for export in &due {
                for (attribute, value) in added_values(&export.change, &counted) {
                    *additions.entry((attribute, value)).or_default() += 1;
                }
            }
        }
        match connector.capacity_problems(&additions).await {
            Ok(problems) => Ok(problems),
            // Unreachable now: the export itself will say so, object by object.
            Err(error) => {
                tracing::warn!(connector = %name, %error, "could not check capacity before export");
                Ok(Vec::new())
            }
        }
    }

    /// Pending deletes and deprovisioning disables per connector, with its thresholds.
    fn tallies(&self) -> Result<Vec<PendingTally>, EngineError> {
        let counts = self.store.pending_counts()?;
        Ok(self
            .config
            .connectors
            .iter()
            .map(|c| {
                let count = |op: Operation| {
                    counts
                        .iter()
                        .filter(|p| p.connector == c.name && p.operation == op && !p.quarantined)
                        .map(|p| p.count)
                        .sum()
                };
                PendingTally {
                    connector: c.name.clone(),
                    deletes: count(Operation::Delete),
                    disables: count(Operation::Disable),
                    deletion_threshold: c
                        .deletion_threshold
                        .unwrap_or(self.config.guard.deletion_threshold),
                    disable_threshold: c
                        .disable_threshold
                        .unwrap_or(self.config.guard.disable_threshold),
                    shortages: Vec::new(),
                }
            })
            .collect())
    }

    fn pending_total(&self, connector: &ConnectorName) -> Result<u64, EngineError> {
        Ok(self
            .store
            .pending_counts()?
            .iter()
            .filter(|p| &p.connector == connector)
            .map(|p| p.count)
            .sum())
    }
}

/// Fault injection for the crash-safety tests: `IDSYNC_CRASH_AT=<point>:<n>` aborts the
/// process (no unwinding, no cleanup, like `kill -9`) the n-th time the named point is passed.
pub(crate) fn crash_point(point: &str) {
    static PLAN: OnceLock<Option<(String, u32)>> = OnceLock::new();
    static PASSED: AtomicU32 = AtomicU32::new(0);
    let plan = PLAN.get_or_init(|| {
        let spec = std::env::var("IDSYNC_CRASH_AT").ok()?;
        let (name, n) = spec.split_once(':').unwrap_or((spec.as_str(), "1"));
        Some((name.to_owned(), n.parse().unwrap_or(1)))
    });
    if let Some((name, n)) = plan
        && name == point
        && PASSED.fetch_add(1, Ordering::SeqCst) + 1 >= *n
    {
        eprintln!("idsync: crash injected at {point} (IDSYNC_CRASH_AT)");
        std::process::abort();
    }
}

/// The values a change gives an object for the counted attributes: every value of a create
/// or a replacement, and the added ones of an update (a replacement may only keep a value;
/// counting it anyway errs on the safe side).
fn added_values(
    change: &model::ObjectChange,
    counted: &[model::AttributeName],
) -> Vec<(model::AttributeName, String)> {
    let mut out = Vec::new();
    match change {
        model::ObjectChange::Create { attributes } => {
            for name in counted {
                for value in attributes.get(name).unwrap_or_default() {
                    out.push((name.clone(), value.to_text()));
                }
            }
        }
        model::ObjectChange::Update { changes } => {
            for change in changes.iter().filter(|c| counted.contains(&c.name)) {
                if let model::ValueChange::Add(values) | model::ValueChange::Replace(values) =
                    &change.change
                {
                    out.extend(values.iter().map(|v| (change.name.clone(), v.to_text())));
                }
            }
        }
        model::ObjectChange::Delete => {}
    }
    out
}
