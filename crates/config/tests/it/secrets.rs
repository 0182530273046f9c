//! Secrets are named, never written: neither a loaded configuration nor an error shows one.

use std::path::Path;

use config::{SecretSource, StoreConfig};

const SECRET_VAR: &str = "IDSYNC_TEST_DB_PASSWORD_7F2A";
const SECRET_VALUE: &str = "s3cr3t-from-env-7f2a";

/// `std::env::set_var` is unsafe in edition 2024 and the workspace forbids unsafe code, so
/// this test runs [`loaded_config_hides_the_secret_child`] in a child process that has the
/// variable set from the start.
#[test]
fn a_loaded_configuration_never_shows_a_secret_read_from_the_environment() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "secrets::loaded_config_hides_the_secret_child",
            "--nocapture",
        ])
        .env(SECRET_VAR, SECRET_VALUE)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(stdout.contains("child checked the secret"), "{stdout}");
}

#[test]
fn loaded_config_hides_the_secret_child() {
    // Does its work only when started by the test above.
    if std::env::var_os(SECRET_VAR).is_none() {
        return;
    }
    let config = config::load_str(
        &format!("[store]\nurl = \"postgres://idsync@db/idsync\"\npassword = {{ env = \"{SECRET_VAR}\" }}\n"),
        Path::new("idsync.toml"),
    )
    .unwrap();
    let StoreConfig::Postgres {
        password: Some(source),
        ..
    } = &config.store
    else {
        panic!("{:?}", config.store)
    };
    assert_eq!(source, &SecretSource::Env(SECRET_VAR.into()));
    let secret = source.read().unwrap();
    assert_eq!(secret.expose(), SECRET_VALUE);
    assert!(!format!("{config:?}").contains(SECRET_VALUE));
    assert!(!format!("{config:#?}").contains(SECRET_VALUE));
    assert_eq!(format!("{secret:?}"), "***");
    println!("child checked the secret");
}

#[test]
fn a_secret_file_is_resolved_against_the_configuration() {
    let config = config::load_str(
        "[store]\nurl = \"postgres://idsync@db/idsync\"\npassword = { file = \"secrets/db\" }\n",
        Path::new("/etc/idsync/idsync.toml"),
    )
    .unwrap();
    let StoreConfig::Postgres {
        password: Some(source),
        ..
    } = &config.store
    else {
        panic!()
    };
    assert_eq!(source, &SecretSource::File("/etc/idsync/secrets/db".into()));
}

#[test]
fn an_inline_secret_is_refused_and_not_repeated_in_the_error() {
    let errors = config::load_str(
        "[store]\nurl = \"postgres://idsync@db/idsync\"\npassword = \"hunter2\"\n",
        Path::new("idsync.toml"),
    )
    .unwrap_err();
    let rendered = errors.to_string();
    assert!(rendered.contains("\"password\" is a secret"), "{rendered}");
    assert!(!rendered.contains("hunter2"), "{rendered}");
    assert!(!format!("{errors:?}").contains("hunter2"));
}

#[test]
fn a_secret_under_an_unknown_key_is_not_shown_either() {
    let errors = config::load_str(
        "[[connector]]\nname = \"hr\"\ntype = \"csv\"\npath = \"x.csv\"\nanchor = \"Id\"\nobject_type = \"person\"\n\
         client_secret = \"abc-very-secret\"\n",
        Path::new("idsync.toml"),
    )
    .unwrap_err();
    assert!(!errors.to_string().contains("abc-very-secret"), "{errors}");
}
