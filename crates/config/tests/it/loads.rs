//! Configurations that load, and what they load into.

use std::path::Path;
use std::time::Duration;

use config::{ConnectorKind, DeprovisionAction, FlowWhen, StoreConfig};
use model::{ConnectorName, Syntax};

use crate::check;

const SMALL: &str = r#"
[store]
path = "state/idsync.db"

[guard]
deletion_threshold = 100

[retry]
backoff = "90s"

[[connector]]
name = "hr"
type = "csv"
path = "hr.csv"
anchor = ["Country", "EmployeeID"]
object_type = "person"
delimiter = "\t"
columns = { HireDate = { type = "date", format = "%Y-%m-%d" }, Groups = { multi = ";" }, ManagerID = { type = "reference" } }

[[connector]]
name = "directory"
type = "csv"
path = "/srv/out/accounts.csv"
anchor = "Email"
object_type = "account"
deletion_threshold = 5

[[inbound]]
name = "hr-people"
connector = "hr"
precedence = 10
project = true
join = [ { vault = "employeeId", expr = "[EmployeeID]" } ]
[inbound.flows]
givenName = "[FirstName]"
mobilePhone = { expr = "[Mobile]", precedence = 50 }

[[outbound]]
name = "accounts"
connector = "directory"
object_type = "account"
provision = true
deprovision = { action = "disable", attribute = "Enabled", value = "False", delete_after = "30d" }
join = [ { vault = "mail", expr = "[Email]" } ]
[outbound.flows]
Email = "[mail]"
Username = { expr = "[mail]", when = "create" }
"#;

#[test]
fn a_small_configuration_loads_into_the_engine_types() {
    let config = config::load_str(SMALL, Path::new("/etc/idsync/idsync.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        config.store,
        StoreConfig::Sqlite {
            path: "/etc/idsync/state/idsync.db".into()
        }
    );
    assert_eq!(config.guard.deletion_threshold, 100);
    assert_eq!(config.guard.disable_threshold, 500);
    assert_eq!(config.retry.backoff, Duration::from_secs(90));
    assert_eq!(config.retry.max_attempts, 5);
    assert!(config.schedule.is_none());

    let ConnectorKind::Csv(hr) = &config.connectors[0].kind else {
        panic!("not a csv connector");
    };
    assert_eq!(hr.path, Path::new("/etc/idsync/hr.csv"));
    assert_eq!(hr.anchor, ["Country", "EmployeeID"]);
    assert_eq!(hr.delimiter, b'\t');
    assert_eq!(hr.columns["HireDate"].syntax, Syntax::DateTime);
    assert_eq!(hr.columns["HireDate"].format.as_deref(), Some("%Y-%m-%d"));
    assert_eq!(hr.columns["Groups"].multi.as_deref(), Some(";"));
    assert_eq!(hr.columns["ManagerID"].syntax, Syntax::Reference);
    let ConnectorKind::Csv(directory) = &config.connectors[1].kind else {
        panic!("not a csv connector");
    };
    assert_eq!(directory.path, Path::new("/srv/out/accounts.csv"));

    let inbound = &config.inbound[0];
    assert_eq!(inbound.precedence, 10);
    assert!(inbound.project);
    assert_eq!(inbound.vault_type.as_str(), "person");
    assert_eq!(inbound.flows.len(), 2);
    assert_eq!(inbound.flows[0].target.as_str(), "givenName");
    assert_eq!(inbound.flows[1].precedence, Some(50));

    let outbound = &config.outbound[0];
    assert!(outbound.provision);
    assert_eq!(outbound.target_type.as_str(), "account");
    match &outbound.deprovision {
        DeprovisionAction::Disable {
            attribute,
            value,
            delete_after,
        } => {
            assert_eq!(attribute.as_str(), "Enabled");
            assert_eq!(value, &model::Value::string("False"));
            assert_eq!(*delete_after, Some(Duration::from_secs(30 * 86_400)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(outbound.flows[1].when, FlowWhen::Create);
}

#[test]
fn the_engine_helpers_answer_per_connector() {
    let config = config::load_str(SMALL, Path::new("idsync.toml")).unwrap();
    let hr = ConnectorName::new("hr");
    let directory = ConnectorName::new("directory");
    assert_eq!(config.inbound_for(&hr).count(), 1);
    assert_eq!(config.inbound_for(&directory).count(), 0);
    assert_eq!(
        config
            .outbound_for(&directory)
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["accounts"]
    );
    assert_eq!(config.thresholds_for(&hr), (100, 500));
    assert_eq!(config.thresholds_for(&directory), (5, 500));
}

#[test]
fn defaults_apply_only_where_nothing_is_written() {
    let config = config::load_str("", Path::new("/etc/idsync/idsync.toml")).unwrap();
    assert_eq!(
        config.store,
        StoreConfig::Sqlite {
            path: "/etc/idsync/idsync.db".into()
        }
    );
    assert_eq!(config.guard, config::GuardConfig::default());
    assert_eq!(config.retry, config::RetryConfig::default());
    assert!(config.connectors.is_empty());
}

#[test]
fn deprovisioning_defaults_to_delete() {
    let config = config::load_str(
        "[[connector]]\nname = \"d\"\ntype = \"csv\"\npath = \"d.csv\"\nanchor = \"Id\"\nobject_type = \"account\"\n\
         [[outbound]]\nname = \"o\"\nconnector = \"d\"\nobject_type = \"account\"\n",
        Path::new("idsync.toml"),
    )
    .unwrap();
    assert_eq!(config.outbound[0].deprovision, DeprovisionAction::Delete);
    assert!(!config.outbound[0].provision);
}

#[test]
fn the_starter_configuration_loads() {
    check(config::starter_config(), "");
}

#[test]
fn load_reads_the_file_and_reports_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("idsync.toml");
    std::fs::write(&path, config::starter_config()).unwrap();
    let config = config::load(&path).unwrap();
    assert_eq!(config.path, path);

    let missing = dir.path().join("nope.toml");
    let errors = config::load(&missing).unwrap_err();
    assert_eq!(errors.len(), 1);
    let error = &errors.0[0];
    assert_eq!((error.line, error.column), (0, 0));
    assert!(
        error.message.starts_with("cannot read the configuration"),
        "{errors}"
    );
}

#[test]
fn an_expression_error_points_inside_its_string() {
    // Whatever the expression language reports, its span lies inside the string, on the
    // string's line: a literal string maps exactly.
    let input = "[[connector]]\nname = \"hr\"\ntype = \"csv\"\npath = \"hr.csv\"\nanchor = \"Id\"\nobject_type = \"person\"\n\
                 [[inbound]]\nname = \"r\"\nconnector = \"hr\"\nscope = '[Status] = = \"Active\"'\n";
    let errors = config::load_str(input, Path::new("idsync.toml")).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors}");
    let error = &errors.0[0];
    assert_eq!(error.line, 10, "{errors}");
    let string_start = "scope = '".len() + 1;
    let string_end = "scope = '[Status] = = \"Active\"".len() + 1;
    assert!(
        (string_start..=string_end).contains(&error.column),
        "{errors}"
    );
    assert!(error.to_string().contains("idsync.toml:10:"), "{errors}");
}

#[test]
fn an_expression_error_in_an_escaped_string_still_points_inside_it() {
    let input = "[[connector]]\nname = \"hr\"\ntype = \"csv\"\npath = \"hr.csv\"\nanchor = \"Id\"\nobject_type = \"person\"\n\
                 [[inbound]]\nname = \"r\"\nconnector = \"hr\"\n[inbound.flows]\nx = \"[a] = \\\"b\\\" +\"\n";
    let errors = config::load_str(input, Path::new("idsync.toml")).unwrap_err();
    let error = &errors.0[0];
    assert_eq!(error.line, 11, "{errors}");
    assert!(
        (5..="x = \"[a] = \\\"b\\\" +\"".len()).contains(&error.column),
        "{errors}"
    );
}

#[test]
fn diagnostics_expose_where_and_what_for_tools() {
    let errors = config::load_str(
        "[guard]\ndeletion_treshold = 1\n",
        Path::new("conf/idsync.toml"),
    )
    .unwrap_err();
    let error = &errors.0[0];
    assert_eq!(error.file, Path::new("conf/idsync.toml"));
    assert_eq!((error.line, error.column), (2, 1));
    assert_eq!(
        error.message,
        "unknown key \"deletion_treshold\" in [guard]"
    );
    assert_eq!(
        error.help.as_deref(),
        Some("did you mean \"deletion_threshold\"?")
    );
    let _: &dyn std::error::Error = &errors;
}

#[test]
fn paths_are_absolute_even_for_a_relative_configuration_path() {
    let config = config::load_str(SMALL, Path::new("conf/idsync.toml")).unwrap();
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(
        config.store,
        StoreConfig::Sqlite {
            path: cwd.join("conf/state/idsync.db")
        }
    );
    let ConnectorKind::Csv(hr) = &config.connectors[0].kind else {
        panic!("not a csv connector");
    };
    assert_eq!(hr.path, cwd.join("conf/hr.csv"));
    assert_eq!(config.path, Path::new("conf/idsync.toml"));
}
