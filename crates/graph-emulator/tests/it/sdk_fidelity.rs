//! The fidelity check: Microsoft's Python Graph SDK (`msgraph-sdk` with `azure-identity`)
//! runs `tests/sdk/fidelity.py` against the emulator over HTTPS and must accept every
//! response. The SDK is installed from PyPI (versions pinned in `tests/sdk/requirements.txt`)
//! into a virtual environment cached under the cargo target directory, so only the first
//! run downloads it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use graph_emulator::{Emulator, EmulatorOptions, ThrottleLimits};
use serde_json::{Map, Value, json};

const REQUIREMENTS: &str = include_str!("../sdk/requirements.txt");
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/fidelity.py");

/// The checks `fidelity.py` runs; each must print a `PASS` line.
const CHECKS: &[&str] = &[
    "token_client_secret",
    "token_certificate",
    "list_users_paged",
    "create_user",
    "create_group",
    "add_member",
    "delta_round_trip",
    "batch",
    "invitation",
    "extension_property",
    "role_assignment",
    "owners_and_group_license",
    "search_and_orderby",
    "delete_and_restore",
    "throttled_retry",
];

/// Users created before the SDK lists them: three pages of ten.
const SEEDED_USERS: usize = 25;
/// Concurrent reads in the throttling check: twice the resource-unit budget below.
const BURST: usize = 40;

/// A virtual environment with the pinned SDK, reused while the requirements are unchanged.
/// It is built under a temporary name and renamed into place, so two test runs at once
/// never see a half-installed environment.
fn sdk_venv() -> PathBuf {
    let fingerprint = REQUIREMENTS
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let venv =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("graph-sdk-venv-{fingerprint:016x}"));
    let ready =
        |dir: &Path| dir.join("bin/python").exists() && dir.join("requirements.installed").exists();
    if ready(&venv) {
        return venv;
    }
    let partial = venv.with_extension(format!("partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    run(Command::new("python3").args(["-m", "venv"]).arg(&partial));
    let requirements = partial.join("requirements.txt");
    std::fs::write(&requirements, REQUIREMENTS).expect("write requirements");
    run(Command::new(partial.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements));
    std::fs::write(partial.join("requirements.installed"), REQUIREMENTS).expect("write marker");
    if std::fs::rename(&partial, &venv).is_err() {
        // Another run finished first (or a broken leftover is in the way).
        if !ready(&venv) {
            let _ = std::fs::remove_dir_all(&venv);
            std::fs::rename(&partial, &venv).expect("move the virtual environment into place");
        } else {
            let _ = std::fs::remove_dir_all(&partial);
        }
    }
    venv
}

fn run(command: &mut Command) {
    let output = command.output().unwrap_or_else(|e| {
        panic!("cannot run {command:?} (scripts/install-deps installs python3): {e}")
    });
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsoft_graph_python_sdk_accepts_every_response() {
    let venv = tokio::task::spawn_blocking(sdk_venv).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::start(EmulatorOptions {
        listen_https: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        listen_http: None,
        tls_dir: Some(dir.path().to_owned()),
        client_certificate: true,
        seed: Some(7),
        // 20 resource units per second: the burst of reads overflows it, everything
        // else fits (and would be retried by the SDK if it did not).
        throttle: ThrottleLimits {
            resource_units_small: 20.0,
            ..ThrottleLimits::default()
        },
        time_scale: 10.0,
        ..EmulatorOptions::default()
    })
    .await
    .expect("emulator starts");
    {
        let mut directory = emulator.state().directory();
        for i in 0..SEEDED_USERS {
            let Value::Object(body) = json!({
                "accountEnabled": true,
                "displayName": format!("Seeded {i:02}"),
                "mailNickname": format!("seeded{i:02}"),
                "userPrincipalName": format!("seeded{i:02}@contoso.onmicrosoft.com"),
                "passwordProfile": {"password": "xWwvJ]6NMw+bWH-d"},
            }) else {
                unreachable!()
            };
            let id = emulator.state().ids.guid();
            directory
                .create_user(body, id, jiff::Timestamp::now())
                .expect("seed user");
        }
    }
    let mut info: Map<String, Value> =
        serde_json::from_value(serde_json::to_value(&emulator.info).unwrap()).unwrap();
    info.insert("seeded_users".into(), json!(SEEDED_USERS));
    info.insert("burst".into(), json!(BURST));
    let info_path = dir.path().join("emulator.json");
    std::fs::write(&info_path, Value::Object(info).to_string()).unwrap();

    let python = venv.join("bin/python");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(SCRIPT)
            .arg(&info_path)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            // A proxy configured for PyPI must not capture the loopback emulator.
            .env("NO_PROXY", "127.0.0.1,localhost,::1")
            .env("no_proxy", "127.0.0.1,localhost,::1")
            .output()
            .expect("run fidelity.py")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    for check in CHECKS {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("PASS {check}:"))),
            "check {check} did not pass\n{context}"
        );
    }
    assert!(!stdout.lines().any(|l| l.starts_with("FAIL")), "{context}");
    assert!(output.status.success(), "{context}");
    emulator.shutdown().await;
}
