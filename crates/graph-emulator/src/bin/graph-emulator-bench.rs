//! `graph-emulator-bench`: measures the emulator itself. Loads N users straight into the
//! directory (memory: VmRSS before and after), then drives Graph over loopback HTTP with
//! keep-alive connections: `GET /v1.0/users/{id}` and `PATCH /v1.0/users/{id}`, with
//! throttling out of the way, and prints requests per second.
//!
//! ```sh
//! cargo run --release -p graph-emulator --bin graph-emulator-bench -- --users 1000000
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use graph_emulator::{Emulator, EmulatorOptions, ThrottleLimits};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[derive(Debug, Parser)]
#[command(
    name = "graph-emulator-bench",
    about = "Requests per second and memory of the Graph emulator"
)]
struct Args {
    /// Users loaded before measuring.
    #[arg(long, default_value_t = 1_000_000)]
    users: usize,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds each phase (reads, writes) runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

/// The process's resident set (VmRSS) in bytes.
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// One HTTP/1.1 keep-alive connection that sends a request and reads the whole response.
struct Connection {
    stream: BufReader<TcpStream>,
    body: Vec<u8>,
}

impl Connection {
    async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream: BufReader::new(stream),
            body: Vec::new(),
        })
    }

    /// Sends `request` (complete, with headers) and returns the status code.
    async fn exchange(&mut self, request: &[u8]) -> anyhow::Result<u16> {
        self.stream.get_mut().write_all(request).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("no status line")?;
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse()?;
            }
        }
        self.body.resize(length, 0);
        self.stream.read_exact(&mut self.body).await?;
        Ok(status)
    }
}

/// Runs `connections` workers for `seconds`, each sending the request `make(i)` builds,
/// and returns (requests, elapsed). Any status other than `expected` stops the bench.
async fn drive(
    addr: SocketAddr,
    connections: usize,
    seconds: u64,
    expected: u16,
    make: Arc<dyn Fn(u64) -> Vec<u8> + Send + Sync>,
) -> anyhow::Result<(u64, Duration)> {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for w in 0..connections {
        let (stop, done, make) = (stop.clone(), done.clone(), make.clone());
        workers.push(tokio::spawn(async move {
            let mut connection = Connection::open(addr).await?;
            let mut i = w as u64;
            while !stop.load(Ordering::Relaxed) {
                let status = connection.exchange(&make(i)).await?;
                if status != expected {
                    bail!("unexpected status {status} (expected {expected})");
                }
                done.fetch_add(1, Ordering::Relaxed);
                i += connections as u64;
            }
            anyhow::Ok(())
        }));
    }
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let count = done.load(Ordering::Relaxed);
    let elapsed = start.elapsed();
    for worker in workers {
        worker.await??;
    }
    Ok((count, elapsed))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Throttling out of the way: the bench measures the emulator, not the quotas.
    let unlimited = 1e15;
    let emulator = Emulator::start(EmulatorOptions {
        seed: Some(1),
        throttle: ThrottleLimits {
            resource_units_small: unlimited,
            resource_units_medium: unlimited,
            resource_units_large: unlimited,
            app_tenant_writes: unlimited,
            tenant_writes: unlimited,
            ..ThrottleLimits::default()
        },
        ..EmulatorOptions::default()
    })
    .await?;
    let addr: SocketAddr = emulator
        .login_url()
        .trim_start_matches("http://")
        .parse()
        .context("emulator address")?;

    let rss_empty = rss_bytes();
    let load_start = Instant::now();
    let mut ids = Vec::with_capacity(args.users);
    {
        let state = emulator.state();
        let mut directory = state.directory();
        let now = jiff::Timestamp::now();
        for i in 0..args.users {
            let department = ["Sales", "Engineering", "Finance", "Support"][i % 4];
            let Value::Object(body) = json!({
                "accountEnabled": true,
                "displayName": format!("Bench User {i}"),
                "givenName": "Bench",
                "surname": format!("User {i}"),
                "mailNickname": format!("bench{i}"),
                "userPrincipalName": format!("bench{i}@contoso.onmicrosoft.com"),
                "department": department,
                "jobTitle": "Analyst",
                "usageLocation": "US",
                "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "xWwvJ]6NMw+bWH-d"},
            }) else {
                unreachable!()
            };
            let id = state.ids.guid();
            directory
                .create_user(body, id.clone(), now)
                .map_err(|e| anyhow::anyhow!("loading user {i}: {e:?}"))?;
            ids.push(id);
        }
    }
    let load = load_start.elapsed();
    let rss_loaded = rss_bytes();
    println!(
        "loaded {} users in {:.1} s; VmRSS {:.0} MiB empty, {:.0} MiB loaded ({:.0} bytes per user)",
        args.users,
        load.as_secs_f64(),
        mib(rss_empty),
        mib(rss_loaded),
        rss_loaded.saturating_sub(rss_empty) as f64 / args.users.max(1) as f64
    );

    let http = fetch_token(addr, &emulator).await?;
    let ids = Arc::new(ids);
    let host = addr.to_string();

    let reads = {
        let (ids, host, token) = (ids.clone(), host.clone(), http.clone());
        Arc::new(move |i: u64| {
            let id = &ids[(i.wrapping_mul(2_654_435_761) % ids.len() as u64) as usize];
            format!(
                "GET /v1.0/users/{id} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n"
            )
            .into_bytes()
        })
    };
    let (n, elapsed) = drive(addr, args.connections, args.seconds, 200, reads).await?;
    println!(
        "reads  (GET /users/{{id}}):   {n} requests in {:.1} s = {:.0} requests/s over {} connections",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        args.connections
    );

    let writes = {
        let (ids, host, token) = (ids.clone(), host.clone(), http.clone());
        Arc::new(move |i: u64| {
            let id = &ids[(i.wrapping_mul(2_654_435_761) % ids.len() as u64) as usize];
            let body = format!("{{\"jobTitle\":\"Title {i}\"}}");
            format!(
                "PATCH /v1.0/users/{id} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        })
    };
    let (n, elapsed) = drive(addr, args.connections, args.seconds, 204, writes).await?;
    println!(
        "writes (PATCH /users/{{id}}): {n} requests in {:.1} s = {:.0} requests/s over {} connections",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        args.connections
    );
    println!("VmRSS at the end: {:.0} MiB", mib(rss_bytes()));
    emulator.shutdown().await;
    Ok(())
}

/// A token from the emulator's token endpoint, over the same raw connection type.
async fn fetch_token(
    addr: SocketAddr,
    emulator: &graph_emulator::RunningEmulator,
) -> anyhow::Result<String> {
    let info = &emulator.info;
    let form = serde_urlencoded::to_string([
        ("grant_type", "client_credentials"),
        ("client_id", info.client_id.as_str()),
        ("client_secret", info.client_secret.as_str()),
        ("scope", "https://graph.microsoft.com/.default"),
    ])?;
    let request = format!(
        "POST /{}/oauth2/v2.0/token HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        info.tenant_id,
        form.len()
    );
    let mut connection = Connection::open(addr).await?;
    let status = connection.exchange(request.as_bytes()).await?;
    if status != 200 {
        bail!("token request failed with {status}");
    }
    let body: Value = serde_json::from_slice(&connection.body)?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access_token")
}
