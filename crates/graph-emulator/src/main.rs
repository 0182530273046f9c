//! `idsync-graph-emulator`: serves the Graph emulator until interrupted. The first line on
//! stdout is one JSON object with the URLs and credentials.

use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;
use graph_emulator::throttle::TenantSize;
use graph_emulator::{Emulator, EmulatorOptions};

#[derive(Debug, Parser)]
#[command(
    name = "idsync-graph-emulator",
    version,
    about = "A Microsoft Graph v1.0 emulator for Entra ID"
)]
struct Args {
    /// Address to serve HTTPS on, with a self-signed CA written to `ca_path`.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Address to serve plain HTTP on as well.
    #[arg(long)]
    listen_http: Option<SocketAddr>,
    /// Directory for `ca.pem` (default: under the system temporary directory).
    #[arg(long)]
    tls_dir: Option<std::path::PathBuf>,
    /// Run every throttling window N times faster.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Seed for ids and credentials, for reproducible runs.
    #[arg(long)]
    seed: Option<u64>,
    /// Fraction (0.0–1.0) of Graph calls that fail with 503 or 504.
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// Fraction (0.0–1.0) of Graph calls whose connection is dropped without a response.
    #[arg(long, default_value_t = 0.0)]
    drop_rate: f64,
    /// Milliseconds added to every Graph call.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// State file: loaded at start when it exists, written on Ctrl-C and SIGTERM (the
    /// form of `GET /_emulator/state`).
    #[arg(long)]
    state: Option<std::path::PathBuf>,
    /// Eventual consistency: milliseconds during which a created user or group is not yet
    /// visible to reads (0: off).
    #[arg(long, default_value_t = 0)]
    eventual_consistency_ms: u64,
    /// A verified domain besides the initial one (repeatable), e.g. `--domain contoso.com`.
    #[arg(long = "domain")]
    domains: Vec<String>,
    /// Tenant size for the resource-unit quota: small, medium or large (default: from
    /// the user count).
    #[arg(long)]
    tenant_size: Option<TenantSize>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    anyhow::ensure!(
        args.time_scale.is_finite() && args.time_scale > 0.0,
        "--time-scale must be a positive number, got {}",
        args.time_scale
    );
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.drop_rate),
        "--drop-rate must be between 0 and 1, got {}",
        args.drop_rate
    );
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.fault_rate),
        "--fault-rate must be between 0 and 1, got {}",
        args.fault_rate
    );
    let options = EmulatorOptions {
        fault_rate: args.fault_rate,
        drop_rate: args.drop_rate,
        latency: std::time::Duration::from_millis(args.latency_ms),
        listen_https: Some(args.listen),
        client_certificate: true,
        listen_http: args.listen_http,
        tls_dir: args.tls_dir,
        time_scale: args.time_scale,
        seed: args.seed,
        tenant_size: args.tenant_size,
        verified_domains: args.domains.clone(),
        eventual_consistency: std::time::Duration::from_millis(args.eventual_consistency_ms),
        ..EmulatorOptions::default()
    };
    let running = Emulator::start(options)
        .await
        .context("starting the graph emulator")?;
    let state = running.state().clone();
    if let Some(path) = &args.state
        && path.exists()
    {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the state file {}", path.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("parsing the state file {}", path.display()))?;
        state.load_state(&value).map_err(|e| {
            anyhow::anyhow!("loading the state file {}: {}", path.display(), e.message)
        })?;
    }
    println!("{}", serde_json::to_string(&running.info)?);
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    tokio::select! {
        () = running.wait() => {}
        result = tokio::signal::ctrl_c() => result.context("waiting for Ctrl-C")?,
        _ = terminate.recv() => {}
    }
    if let Some(path) = &args.state {
        save_state(&state, path)?;
    }
    Ok(())
}

/// Writes the directory to `path` (through a temporary file, so a crash mid-write leaves
/// the previous state intact).
fn save_state(
    state: &graph_emulator::server::AppState,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let dump = state.directory().dump();
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&dump)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}
