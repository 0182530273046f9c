//! Cmdlets per second against the emulator's cmdlet budget, and HTTP requests per object
//! changed, for the Exchange connector.
//!
//! ```text
//! cargo run --release -p connector-exchange --example exchange-bench -- [contacts]
//! ```
//!
//! Starts the emulator in-process (default budget: 200 cmdlets burst, 40 per second),
//! creates, renames and imports `contacts` mail contacts (default 600) through the
//! connector, then adds them to one distribution group and removes them again.
//!
//! Export sends the next cmdlet of each request in the batch ten to a `$batch`, so the
//! create and rename phases need about 0.1 HTTP requests per object (more where 429s
//! send calls again); the membership phases are one request whose per-member cmdlets are
//! independent, so they too go out ten to a batch. The last lines sum the export phases:
//! cmdlets per second sustained, and HTTP requests per object changed.

use std::time::{Duration, Instant};

use config::{ExchangeSettings, GraphCredential, GraphEnvironment, SecretSource};
use connector::{
    Connector, ExportId, ExportRequest, ExportResult, Exporter, ImportMode, ImportRequest,
};
use connector_exchange::ExchangeConnector;
use graph_emulator::{Emulator, EmulatorOptions};
use model::{Anchor, AttributeChange, AttributeName, Attributes, ObjectChange, ObjectType, Value};

struct Phase {
    name: &'static str,
    /// Whether the phase writes (export) rather than reads (import).
    export: bool,
    objects: usize,
    requests: u64,
    cmdlets: u64,
    throttled: u64,
    elapsed: Duration,
}

fn print(phase: &Phase) {
    let secs = phase.elapsed.as_secs_f64();
    println!(
        "{:<28} {:>6} objects {:>7.2} s {:>8.1} cmdlets/s {:>6.2} requests/object {:>5.1} cmdlets/request {:>5} throttled (429)",
        phase.name,
        phase.objects,
        secs,
        phase.cmdlets as f64 / secs.max(1e-9),
        phase.requests as f64 / phase.objects.max(1) as f64,
        phase.cmdlets as f64 / phase.requests.max(1) as f64,
        phase.throttled,
    );
}

async fn export_all(
    connector: &mut ExchangeConnector,
    requests: Vec<ExportRequest>,
) -> Vec<Option<Anchor>> {
    let mut anchors = Vec::new();
    for chunk in requests.chunks(connector.batch_size()) {
        let outcomes = connector.export(chunk.to_vec()).await.expect("export");
        for outcome in outcomes {
            match outcome.result {
                ExportResult::Applied { anchor } => anchors.push(anchor),
                other => panic!("request {:?} did not apply: {other:?}", outcome.id),
            }
        }
    }
    anchors
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(600);
    let emulator = Emulator::start(EmulatorOptions::default())
        .await
        .expect("emulator");
    let dir = std::env::temp_dir().join(format!("exchange-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = dir.join("secret");
    std::fs::write(&secret, &emulator.info.client_secret).unwrap();
    let settings = ExchangeSettings {
        tenant: emulator.info.tenant_id.clone(),
        client_id: emulator.info.client_id.clone(),
        credential: GraphCredential::ClientSecret(SecretSource::File(secret)),
        environment: GraphEnvironment::Global,
        login_url: Some(emulator.login_url().to_owned()),
        exchange_url: Some(emulator.login_url().to_owned()),
        ca_file: None,
        object_types: vec![
            ObjectType::new("mailContact"),
            ObjectType::new("distributionGroup"),
        ],
        page_size: 1000,
    };
    let mut connector = ExchangeConnector::new(settings);
    let state = emulator.state().clone();
    let mut phases = Vec::new();
    let mut measure = |name: &'static str,
                       objects: usize,
                       before: (
        connector_exchange::Traffic,
        graph_emulator::exchange::ExchangeStats,
    ),
                       after: (
        connector_exchange::Traffic,
        graph_emulator::exchange::ExchangeStats,
    ),
                       elapsed: Duration| {
        let phase = Phase {
            name,
            export: !name.starts_with("import"),
            objects,
            requests: after.0.requests - before.0.requests,
            cmdlets: after.1.cmdlets - before.1.cmdlets,
            throttled: after.1.throttled - before.1.throttled,
            elapsed,
        };
        print(&phase);
        phases.push(phase);
    };
    let snapshot =
        |c: &ExchangeConnector| (c.traffic().unwrap_or_default(), state.exchange.stats());

    // Warm the token (one token request, one Get-Recipient).
    connector.check().await.expect("check");

    let creates: Vec<ExportRequest> = (0..count)
        .map(|i| ExportRequest {
            id: ExportId(i as i64),
            object_type: ObjectType::new("mailContact"),
            anchor: None,
            change: ObjectChange::Create {
                attributes: Attributes::new()
                    .with("name", format!("bench-{i}"))
                    .with("displayName", format!("Bench Contact {i}"))
                    .with("externalEmailAddress", format!("bench{i}@partner.example")),
            },
        })
        .collect();
    let before = snapshot(&connector);
    let started = Instant::now();
    let anchors: Vec<Anchor> = export_all(&mut connector, creates)
        .await
        .into_iter()
        .map(|a| a.expect("an anchor"))
        .collect();
    measure(
        "create mail contacts",
        count,
        before,
        snapshot(&connector),
        started.elapsed(),
    );

    let updates: Vec<ExportRequest> = anchors
        .iter()
        .enumerate()
        .map(|(i, anchor)| ExportRequest {
            id: ExportId(i as i64),
            object_type: ObjectType::new("mailContact"),
            anchor: Some(anchor.clone()),
            change: ObjectChange::Update {
                changes: vec![AttributeChange::replace(
                    AttributeName::new("displayName"),
                    vec![Value::string(format!("Renamed {i}"))],
                )],
            },
        })
        .collect();
    let before = snapshot(&connector);
    let started = Instant::now();
    export_all(&mut connector, updates).await;
    measure(
        "rename mail contacts",
        count,
        before,
        snapshot(&connector),
        started.elapsed(),
    );

    let before = snapshot(&connector);
    let started = Instant::now();
    let mut cursor = None;
    let mut imported = 0;
    loop {
        let page = connector
            .import(ImportRequest {
                mode: ImportMode::Full,
                watermark: None,
                cursor,
            })
            .await
            .expect("import");
        imported += page.entries.len();
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    measure(
        "import (contacts + groups)",
        imported,
        before,
        snapshot(&connector),
        started.elapsed(),
    );

    let group = export_all(
        &mut connector,
        vec![ExportRequest {
            id: ExportId(0),
            object_type: ObjectType::new("distributionGroup"),
            anchor: None,
            change: ObjectChange::Create {
                attributes: Attributes::new().with("name", "bench-group"),
            },
        }],
    )
    .await
    .remove(0)
    .expect("group anchor");
    let members: Vec<Value> = anchors
        .iter()
        .map(|a| Value::Reference(a.as_str().to_owned()))
        .collect();
    for (name, change) in [
        (
            "add members to a group",
            AttributeChange::add(AttributeName::new("members"), members.clone()),
        ),
        (
            "remove members from a group",
            AttributeChange::remove(AttributeName::new("members"), members.clone()),
        ),
    ] {
        let before = snapshot(&connector);
        let started = Instant::now();
        export_all(
            &mut connector,
            vec![ExportRequest {
                id: ExportId(1),
                object_type: ObjectType::new("distributionGroup"),
                anchor: Some(group.clone()),
                change: ObjectChange::Update {
                    changes: vec![change],
                },
            }],
        )
        .await;
        measure(
            name,
            members.len(),
            before,
            snapshot(&connector),
            started.elapsed(),
        );
    }
    let exports: Vec<&Phase> = phases.iter().filter(|p| p.export).collect();
    let cmdlets: u64 = exports.iter().map(|p| p.cmdlets).sum();
    let requests: u64 = exports.iter().map(|p| p.requests).sum();
    let objects: usize = exports.iter().map(|p| p.objects).sum();
    let secs: f64 = exports.iter().map(|p| p.elapsed.as_secs_f64()).sum();
    println!(
        "export, all phases: {cmdlets} cmdlets in {secs:.2} s = {:.1} cmdlets/s sustained",
        cmdlets as f64 / secs.max(1e-9)
    );
    println!(
        "export, all phases: {requests} HTTP requests for {objects} objects changed = {:.3} requests/object",
        requests as f64 / objects.max(1) as f64
    );
    let traffic = connector.traffic().unwrap_or_default();
    println!(
        "total: {} HTTP requests, {} answered 429, {:.1} s waited on Retry-After",
        traffic.requests,
        traffic.throttled,
        traffic.waited.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(dir);
}
