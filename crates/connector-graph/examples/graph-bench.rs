//! The Entra ID connector against the Graph emulator's throttling model: sustained write
//! rate as a share of the write quota, the share of 429s, HTTP requests per object written,
//! full import speed against raw paging, and a no-op delta cycle.
//!
//! `cargo run --release -p connector-graph --example graph-bench -- [USERS] [WRITES] [TIME_SCALE]`
//! Figures are printed; BENCHMARKS.md records them.

use std::collections::BTreeMap;
use std::time::Instant;

use config::{GraphCredential, GraphEnvironment, GraphSettings, SecretSource};
use connector::{
    Connector, ExportId, ExportRequest, ExportResult, Exporter, ImportMode, ImportRequest,
};
use connector_graph::GraphConnector;
use graph_emulator::{Emulator, EmulatorOptions, RunningEmulator, ThrottleLimits};
use model::{Attributes, ObjectChange, ObjectType};
use serde_json::{Value as Json, json};

#[tokio::main]
async fn main() -> anyhow_free::Result {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let users = args.first().copied().unwrap_or(100_000);
    let writes = args.get(1).copied().unwrap_or(12_000);
    let time_scale = args.get(2).copied().unwrap_or(30) as f64;
    println!("graph-bench: {users} users to import, {writes} creates, time scale {time_scale}");

    writes_against_the_quota(writes, time_scale).await;
    import_against_raw_paging(users).await;
    Ok(())
}

/// Result without a dependency: the example only prints.
mod anyhow_free {
    pub type Result = std::result::Result<(), Box<dyn std::error::Error>>;
}

fn settings(emulator: &RunningEmulator, dir: &std::path::Path) -> GraphSettings {
    let secret = dir.join("secret");
    std::fs::write(&secret, &emulator.info.client_secret).expect("write the secret file");
    GraphSettings {
        tenant: emulator.info.tenant_id.clone(),
        client_id: emulator.info.client_id.clone(),
        credential: GraphCredential::ClientSecret(SecretSource::File(secret)),
        environment: GraphEnvironment::Global,
        login_url: Some(emulator.login_url().to_owned()),
        graph_url: Some(emulator.graph_url().to_owned()),
        ca_file: None,
        object_types: vec![ObjectType::new("user"), ObjectType::new("group")],
        user_domain: None,
        disabled_plans: BTreeMap::new(),
        invite_redirect_url: config::DEFAULT_INVITE_REDIRECT.to_owned(),
        send_invitations: false,
        directory_roles: false,
        extension_app: None,
        extensions: Vec::new(),
    }
}

async fn writes_against_the_quota(writes: usize, time_scale: f64) {
    let limits = ThrottleLimits::default();
    let emulator = Emulator::start(EmulatorOptions {
        time_scale,
        throttle: limits.clone(),
        ..EmulatorOptions::default()
    })
    .await
    .expect("the emulator starts");
    let dir = tempdir();
    let mut connector = GraphConnector::new(settings(&emulator, &dir));
    let requests: Vec<ExportRequest> = (0..writes)
        .map(|i| ExportRequest {
            id: ExportId(i as i64),
            object_type: ObjectType::new("user"),
            anchor: None,
            change: ObjectChange::Create {
                attributes: Attributes::new()
                    .with("userPrincipalName", format!("bench{i}"))
                    .with("displayName", format!("Bench User {i}"))
                    .with("employeeId", format!("B{i:06}")),
            },
        })
        .collect();
    let started = Instant::now();
    let mut pending = requests;
    let mut applied = 0usize;
    // As the engine would: hand back what is transient, try it again in the next round.
    while !pending.is_empty() {
        let mut retry = Vec::new();
        for chunk in pending.chunks(connector.batch_size()) {
            let outcomes = connector.export(chunk.to_vec()).await.expect("export");
            for (request, outcome) in chunk.iter().zip(outcomes) {
                match outcome.result {
                    ExportResult::Applied { .. } => applied += 1,
                    ExportResult::Transient { .. } => retry.push(request.clone()),
                    ExportResult::Permanent { reason }
                    | ExportResult::Partial { reason, .. }
                    | ExportResult::Waiting { reason, .. } => {
                        panic!("{reason}")
                    }
                }
            }
        }
        pending = retry;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let window = limits.app_tenant_write_window_secs / time_scale;
    let quota_rate = limits.app_tenant_writes / window;
    // The bucket starts full: the first quota's worth goes at once, the rest at the refill rate.
    let steady = (applied as f64 - limits.app_tenant_writes).max(0.0);
    let ideal = steady / quota_rate;
    let (requests, throttled, items) = connector.traffic().expect("used").snapshot();
    println!(
        "writes: {applied} creates in {elapsed:.2} s = {:.0}/s",
        applied as f64 / elapsed
    );
    println!(
        "  quota {:.0} writes per {window:.2} s = {quota_rate:.0}/s; ideal time {ideal:.2} s after the initial burst; achieved {:.1}% of the quota",
        limits.app_tenant_writes,
        100.0 * ideal / elapsed
    );
    println!(
        "  HTTP requests {requests} ({:.3} per object), batch items {items}, answered 429: {throttled} ({:.2}% of items)",
        requests as f64 / applied as f64,
        100.0 * throttled as f64 / items.max(1) as f64
    );
}

const DEPARTMENTS: [&str; 3] = ["Sales", "Engineering", "Finance"];

async fn import_against_raw_paging(users: usize) {
    let emulator = Emulator::start(EmulatorOptions::default())
        .await
        .expect("the emulator starts");
    let seeding = Instant::now();
    {
        let state = emulator.state();
        let now = state.clock.now();
        let mut directory = state.directory();
        for i in 0..users {
            let body = json!({
                "userPrincipalName": format!("p{i}@{}", emulator.info.initial_domain),
                "displayName": format!("Person {i}"),
                "givenName": "Person",
                "surname": format!("Number {i}"),
                "mailNickname": format!("p{i}"),
                "employeeId": format!("E{i:07}"),
                "department": DEPARTMENTS[i % 3],
                "jobTitle": "Specialist",
                "usageLocation": "US",
            });
            let Json::Object(body) = body else {
                unreachable!()
            };
            directory
                .seed_user(body, state.ids.guid(), now)
                .expect("valid user");
        }
    }
    println!(
        "import: {users} users seeded in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let dir = tempdir();
    let settings = settings(&emulator, &dir);

    // Raw paging: the same requests, bodies read and parsed, nothing done with them.
    let http = reqwest::Client::new();
    let token: Json = http
        .post(emulator.token_url())
        .form(&[
            ("client_id", emulator.info.client_id.as_str()),
            ("client_secret", emulator.info.client_secret.as_str()),
            ("scope", "https://graph.microsoft.com/.default"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let token = token["access_token"].as_str().expect("a token").to_owned();
    let select = "id,accountEnabled,userPrincipalName,displayName,givenName,surname,mail,mailNickname,otherMails,jobTitle,department,companyName,officeLocation,employeeId,employeeType,employeeHireDate,mobilePhone,businessPhones,streetAddress,city,state,postalCode,country,usageLocation,preferredLanguage,userType,onPremisesImmutableId,onPremisesSyncEnabled,onPremisesSamAccountName,externalUserState,proxyAddresses,createdDateTime,assignedLicenses";
    let started = Instant::now();
    let mut next = Some(format!(
        // The very requests the connector sends, managers expanded.
        "{}/users?$select={select}&$top=999&$expand=manager($select=id)",
        emulator.graph_url()
    ));
    let mut seen = 0;
    while let Some(url) = next {
        let page: Json = http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("page")
            .json()
            .await
            .expect("page json");
        seen += page["value"].as_array().map_or(0, Vec::len);
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
    }
    let raw = started.elapsed().as_secs_f64();
    println!(
        "  raw paging: {seen} users in {raw:.2} s = {:.0}/s",
        seen as f64 / raw
    );

    let mut connector = GraphConnector::new(settings.clone()).with_page_size(999);
    let started = Instant::now();
    let (imported, watermark) = import_all(&mut connector, ImportMode::Full, None).await;
    let full = started.elapsed().as_secs_f64();
    println!(
        "  connector full import: {imported} objects in {full:.2} s = {:.0}/s; ratio to raw paging {:.2}",
        imported as f64 / full,
        raw / full
    );
    let started = Instant::now();
    let (changed, _) = import_all(&mut connector, ImportMode::Delta, watermark).await;
    println!(
        "  no-op delta import: {changed} entries in {:.3} s",
        started.elapsed().as_secs_f64()
    );
}

async fn import_all(
    connector: &mut GraphConnector,
    mode: ImportMode,
    watermark: Option<connector::Watermark>,
) -> (usize, Option<connector::Watermark>) {
    let mut cursor = None;
    let mut count = 0;
    loop {
        let page = connector
            .import(ImportRequest {
                mode,
                watermark: watermark.clone(),
                cursor,
            })
            .await
            .expect("import page");
        count += page.entries.len();
        cursor = page.next;
        if cursor.is_none() {
            return (count, page.watermark);
        }
    }
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("idsync-graph-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}
