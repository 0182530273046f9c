//! The configuration as written: each table read into a shape whose every field keeps its
//! span. This is the syntax stage: wrong types, missing and unknown keys are reported here;
//! what the values mean is [`crate::validate`]'s job.

use crate::diagnostic::{Loc, Problems};
use crate::reader::{Item, Sp, Table};
use crate::suggest;

pub(crate) mod app;
pub(crate) mod exchange;
pub(crate) mod graph;
mod ldap;
pub(crate) use ldap::RawLdap;

const TOP_KEYS: &[&str] = &[
    "include",
    "store",
    "guard",
    "retry",
    "schedule",
    "sync",
    "connector",
    "inbound",
    "outbound",
];
const INCLUDED_KEYS: &[&str] = &["connector", "inbound", "outbound"];
const STORE_KEYS: &[&str] = &["path", "url", "password"];
const GUARD_KEYS: &[&str] = &["deletion_threshold", "disable_threshold"];
const RETRY_KEYS: &[&str] = &["max_attempts", "backoff", "max_backoff"];
const SCHEDULE_KEYS: &[&str] = &["interval"];
const SYNC_KEYS: &[&str] = &["batch_size"];
const SECRET_KEYS: &[&str] = &["env", "file"];
/// The connector types this build knows; a closed set, one `match` each.
pub(crate) const CONNECTOR_TYPES: &[&str] = &["csv", "exchange", "graph", "ldap"];
const CONNECTOR_KEYS: &[&str] = &["name", "type", "deletion_threshold", "disable_threshold"];
const CSV_KEYS: &[&str] = &[
    "path",
    "anchor",
    "object_type",
    "delimiter",
    "columns",
    "drop_dir",
    "export_columns",
];
const COLUMN_KEYS: &[&str] = &["type", "format", "multi", "refers_to"];
const INBOUND_KEYS: &[&str] = &[
    "name",
    "connector",
    "object_type",
    "vault_type",
    "dialect",
    "scope",
    "precedence",
    "project",
    "join",
    "flows",
];
const OUTBOUND_KEYS: &[&str] = &[
    "name",
    "connector",
    "object_type",
    "vault_type",
    "dialect",
    "scope",
    "provision",
    "deprovision",
    "fully_managed",
    "join",
    "flows",
];
const JOIN_KEYS: &[&str] = &["vault", "expr"];
const INBOUND_FLOW_KEYS: &[&str] = &["expr", "when", "precedence"];
const OUTBOUND_FLOW_KEYS: &[&str] = &["expr", "when"];
const DEPROVISION_KEYS: &[&str] = &["action", "attribute", "value", "delete_after"];

/// One configuration file as written. An included file fills only the three lists.
#[derive(Debug, Default)]
pub(crate) struct RawDocument {
    pub include: Vec<Sp<String>>,
    pub store: Option<RawStore>,
    pub guard: Option<RawGuard>,
    pub retry: Option<RawRetry>,
    pub schedule: Option<RawSchedule>,
    pub sync: Option<RawSync>,
    pub connectors: Vec<RawConnector>,
    pub inbound: Vec<RawRule>,
    pub outbound: Vec<RawRule>,
}

#[derive(Debug)]
pub(crate) struct RawStore {
    pub loc: Loc,
    pub path: Option<Sp<String>>,
    pub url: Option<Sp<String>>,
    pub password: Option<Sp<RawSecret>>,
}

/// Where a secret is kept. Never the secret itself.
#[derive(Clone, Debug)]
pub(crate) enum RawSecret {
    Env(String),
    File(String),
}

#[derive(Debug)]
pub(crate) struct RawGuard {
    pub deletion_threshold: Option<Sp<i64>>,
    pub disable_threshold: Option<Sp<i64>>,
}

#[derive(Debug)]
pub(crate) struct RawRetry {
    pub max_attempts: Option<Sp<i64>>,
    pub backoff: Option<Sp<String>>,
    pub max_backoff: Option<Sp<String>>,
}

#[derive(Debug)]
pub(crate) struct RawSync {
    pub batch_size: Option<Sp<i64>>,
}

#[derive(Debug)]
pub(crate) struct RawSchedule {
    pub interval: Option<Sp<String>>,
}

#[derive(Debug)]
pub(crate) struct RawConnector {
    pub name: Option<Sp<String>>,
    pub deletion_threshold: Option<Sp<i64>>,
    pub disable_threshold: Option<Sp<i64>>,
    /// `None` when the type is missing or unknown (already reported).
    pub settings: Option<RawSettings>,
}

// One per connector, read once: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum RawSettings {
    Csv(RawCsv),
    Graph(graph::RawGraph),
    Ldap(RawLdap),
    Exchange(exchange::RawExchange),
}

#[derive(Debug)]
pub(crate) struct RawCsv {
    pub path: Option<Sp<String>>,
    pub anchor: Option<Sp<Vec<Sp<String>>>>,
    pub object_type: Option<Sp<String>>,
    pub delimiter: Option<Sp<String>>,
    pub columns: Vec<RawColumn>,
    pub drop_dir: Option<Sp<String>>,
    pub export_columns: Vec<Sp<String>>,
}

#[derive(Debug)]
pub(crate) struct RawColumn {
    pub name: Sp<String>,
    pub kind: Option<Sp<String>>,
    pub format: Option<Sp<String>>,
    pub multi: Option<Sp<String>>,
    pub refers_to: Option<Sp<String>>,
}

/// An inbound or outbound rule; the keys each direction allows are checked on reading.
#[derive(Debug)]
pub(crate) struct RawRule {
    pub name: Option<Sp<String>>,
    pub connector: Option<Sp<String>>,
    pub object_type: Option<Sp<String>>,
    pub vault_type: Option<Sp<String>>,
    pub dialect: Option<Sp<String>>,
    pub scope: Option<Sp<String>>,
    pub precedence: Option<Sp<i64>>,
    pub project: Option<Sp<bool>>,
    pub provision: Option<Sp<bool>>,
    pub deprovision: Option<RawDeprovision>,
    pub fully_managed: Option<Sp<Vec<Sp<String>>>>,
    pub join: Vec<RawJoin>,
    pub flows: Vec<RawFlow>,
}

#[derive(Debug)]
pub(crate) struct RawJoin {
    pub vault: Option<Sp<String>>,
    pub expr: Option<Sp<String>>,
}

#[derive(Debug)]
pub(crate) struct RawFlow {
    pub target: Sp<String>,
    pub expr: Option<Sp<String>>,
    pub when: Option<Sp<String>>,
    /// Inbound only: this attribute's precedence, instead of the rule's.
    pub precedence: Option<Sp<i64>>,
}

#[derive(Debug)]
pub(crate) struct RawDeprovision {
    pub loc: Loc,
    pub action: Option<Sp<String>>,
    pub attribute: Option<Sp<String>>,
    pub value: Option<Sp<model::Value>>,
    pub delete_after: Option<Sp<String>>,
}

/// An example line for a required key, shown when it is missing.
pub(crate) fn example_for(key: &str) -> Option<&'static str> {
    Some(match key {
        "name" => "name = \"...\", the name rules, lineage and errors use",
        "type" => "type = \"csv\"",
        "path" => "path = \"hr.csv\", relative to this file's folder",
        "anchor" => "anchor = \"EmployeeID\", the column that never changes for an object",
        "object_type" => "object_type = \"person\" (or \"account\", ...), the type of the objects",
        "connector" => "connector = \"...\", the name of a [[connector]]",
        "interval" => "interval = \"15m\"",
        "vault" => "vault = \"employeeId\", the vault attribute to match",
        "expr" => "expr = \"[EmployeeID]\", an expression",
        "action" => "action = \"delete\", \"disable\" or \"disconnect\"",
        _ => return None,
    })
}

/// Whether a file is the main configuration or one it includes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Main,
    Included,
}

/// Reads one parsed file.
pub(crate) fn read_document(
    root: &Table<'_, '_>,
    role: Role,
    problems: &mut Problems,
) -> RawDocument {
    let mut doc = RawDocument::default();
    for item in root.entries() {
        let allowed = match role {
            Role::Main => TOP_KEYS,
            Role::Included => INCLUDED_KEYS,
        };
        if !allowed.contains(&item.key) {
            if role == Role::Included && TOP_KEYS.contains(&item.key) {
                let problem = problems.error(
                    &item.key_loc(),
                    format!("\"{}\" cannot be set in an included file", item.key),
                );
                if item.key == "include" {
                    problem.help(
                        "list every file in the main configuration's include; includes do not nest",
                    );
                } else {
                    problem.help(format!(
                        "move [{}] to the main configuration; included files hold only [[connector]], [[inbound]] and [[outbound]]",
                        item.key
                    ));
                }
            } else {
                problems
                    .error(
                        &item.key_loc(),
                        format!("unknown key \"{}\" in {}", item.key, root.name),
                    )
                    .help(suggest::help_for(item.key, allowed));
            }
            continue;
        }
        match item.key {
            "include" => {
                if let Some(paths) = item.strings(problems) {
                    doc.include = paths.value;
                }
            }
            "store" => {
                doc.store = item
                    .table("[store]", problems)
                    .map(|t| read_store(&t, problems))
            }
            "guard" => {
                doc.guard = item
                    .table("[guard]", problems)
                    .map(|t| read_guard(&t, problems))
            }
            "retry" => {
                doc.retry = item
                    .table("[retry]", problems)
                    .map(|t| read_retry(&t, problems))
            }
            "schedule" => {
                doc.schedule = item
                    .table("[schedule]", problems)
                    .map(|t| read_schedule(&t, problems));
            }
            "sync" => {
                doc.sync = item
                    .table("[sync]", problems)
                    .map(|t| read_sync(&t, problems));
            }
            "connector" => {
                for table in array_of_tables(&item, problems) {
                    doc.connectors.push(read_connector(&table, problems));
                }
            }
            "inbound" => {
                for table in array_of_tables(&item, problems) {
                    doc.inbound
                        .push(read_rule(&table, Direction::Inbound, problems));
                }
            }
            "outbound" => {
                for table in array_of_tables(&item, problems) {
                    doc.outbound
                        .push(read_rule(&table, Direction::Outbound, problems));
                }
            }
            _ => unreachable!("every allowed key is matched"),
        }
    }
    doc
}

/// `[[connector]]` and the rules may appear many times, so they must be arrays of tables.
fn array_of_tables<'a, 'i>(item: &Item<'a, 'i>, problems: &mut Problems) -> Vec<Table<'a, 'i>> {
    if let toml::de::DeValue::Table(_) = item.value() {
        problems
            .error(
                &item.loc(),
                format!("\"{}\" must be an array of tables", item.key),
            )
            .help(format!(
                "write [[{0}]] (two brackets), since there may be several {0} tables",
                item.key
            ));
        return Vec::new();
    }
    let name = format!("[[{}]]", item.key);
    item.array(problems)
        .unwrap_or_default()
        .iter()
        .filter_map(|element| element.table(name.clone(), problems))
        .collect()
}

fn read_store(table: &Table<'_, '_>, problems: &mut Problems) -> RawStore {
    check_keys_with(table, STORE_KEYS, store_hint, problems);
    RawStore {
        loc: table.loc(),
        path: table.str("path", problems),
        url: table.str("url", problems),
        password: table
            .get("password")
            .and_then(|item| read_secret(&item, problems)),
    }
}

/// A key that holds a secret must say where the secret is, never hold it.
pub(crate) fn read_secret(item: &Item<'_, '_>, problems: &mut Problems) -> Option<Sp<RawSecret>> {
    let example = format!(
        "{0} = {{ env = \"IDSYNC_{1}\" }} or {0} = {{ file = \"/run/secrets/{2}\" }}",
        item.key,
        item.key.to_ascii_uppercase(),
        item.key
    );
    let toml::de::DeValue::Table(_) = item.value() else {
        let problem = match item.value() {
            toml::de::DeValue::String(_) => problems.error(
                &item.loc(),
                format!(
                    "\"{}\" is a secret and cannot be written in the configuration",
                    item.key
                ),
            ),
            other => problems.error(
                &item.loc(),
                format!(
                    "\"{}\" must be a table naming where the secret is, not a {}",
                    item.key,
                    other.type_str()
                ),
            ),
        };
        problem.help(format!(
            "put it in an environment variable or a file: {example}"
        ));
        return None;
    };
    let table = item.table(item.key, problems)?;
    table.check_keys(SECRET_KEYS, problems);
    let env = table.str("env", problems);
    let file = table.str("file", problems);
    match (env, file) {
        (Some(env), None) if !env.value.is_empty() => {
            Some(Sp::new(RawSecret::Env(env.value), item.loc()))
        }
        (None, Some(file)) if !file.value.is_empty() => {
            Some(Sp::new(RawSecret::File(file.value), item.loc()))
        }
        (Some(_), Some(_)) => {
            problems
                .error(
                    &item.loc(),
                    format!(
                        "\"{}\" names both an environment variable and a file",
                        item.key
                    ),
                )
                .help("keep one of env and file");
            None
        }
        _ => {
            problems
                .error(
                    &item.loc(),
                    format!(
                        "\"{}\" must name an environment variable or a file",
                        item.key
                    ),
                )
                .help(format!("write {example}"));
            None
        }
    }
}

fn read_guard(table: &Table<'_, '_>, problems: &mut Problems) -> RawGuard {
    table.check_keys(GUARD_KEYS, problems);
    RawGuard {
        deletion_threshold: table.int("deletion_threshold", problems),
        disable_threshold: table.int("disable_threshold", problems),
    }
}

fn read_retry(table: &Table<'_, '_>, problems: &mut Problems) -> RawRetry {
    table.check_keys(RETRY_KEYS, problems);
    RawRetry {
        max_attempts: table.int("max_attempts", problems),
        backoff: table.str("backoff", problems),
        max_backoff: table.str("max_backoff", problems),
    }
}

fn read_sync(table: &Table<'_, '_>, problems: &mut Problems) -> RawSync {
    table.check_keys(SYNC_KEYS, problems);
    RawSync {
        batch_size: table.int("batch_size", problems),
    }
}

fn read_schedule(table: &Table<'_, '_>, problems: &mut Problems) -> RawSchedule {
    table.check_keys(SCHEDULE_KEYS, problems);
    RawSchedule {
        interval: table.required_str("interval", problems),
    }
}

fn read_connector(table: &Table<'_, '_>, problems: &mut Problems) -> RawConnector {
    let name = table.required_str("name", problems);
    let kind = table.required_str("type", problems);
    let settings = match kind.as_ref().map(|k| k.value.as_str()) {
        Some("csv") => {
            check_keys_with(
                table,
                &[CONNECTOR_KEYS, CSV_KEYS].concat(),
                connector_hint,
                problems,
            );
            Some(RawSettings::Csv(read_csv(table, problems)))
        }
        Some("graph") => {
            check_keys_with(
                table,
                &[CONNECTOR_KEYS, app::APP_KEYS, graph::GRAPH_KEYS].concat(),
                app::app_hint,
                problems,
            );
            Some(RawSettings::Graph(graph::read_graph(table, problems)))
        }
        Some("ldap") => {
            ldap::check_ldap_keys(table, CONNECTOR_KEYS, problems);
            Some(RawSettings::Ldap(ldap::read_ldap(table, problems)))
        }
        Some("exchange") => {
            check_keys_with(
                table,
                &[CONNECTOR_KEYS, app::APP_KEYS, exchange::EXCHANGE_KEYS].concat(),
                exchange::exchange_hint,
                problems,
            );
            Some(RawSettings::Exchange(exchange::read_exchange(
                table, problems,
            )))
        }
        Some(other) => {
            let kind = kind.as_ref().expect("matched Some");
            problems
                .error(&kind.loc, format!("unknown connector type \"{other}\""))
                .help(suggest::help_for(other, CONNECTOR_TYPES));
            None
        }
        // Without a type, every known key is allowed, so a misspelt `type` still gets its suggestion.
        None => {
            check_keys_with(
                table,
                &[
                    CONNECTOR_KEYS,
                    CSV_KEYS,
                    app::APP_KEYS,
                    graph::GRAPH_KEYS,
                    exchange::EXCHANGE_KEYS,
                ]
                .concat(),
                connector_hint,
                problems,
            );
            None
        }
    };
    RawConnector {
        name,
        deletion_threshold: table.int("deletion_threshold", problems),
        disable_threshold: table.int("disable_threshold", problems),
        settings,
    }
}

fn store_hint(key: &str) -> Option<&'static str> {
    match key {
        "password_file" | "password_env" => {
            Some("write password = { file = \"...\" } or password = { env = \"...\" }")
        }
        _ => None,
    }
}

fn connector_hint(key: &str) -> Option<&'static str> {
    match key {
        "password" | "client_secret" | "url" => {
            Some("a csv connector reads a file: it takes no credentials")
        }
        "precedence" | "flows" | "join" => {
            Some("this belongs in an [[inbound]] or [[outbound]] rule")
        }
        _ => None,
    }
}

fn read_csv(table: &Table<'_, '_>, problems: &mut Problems) -> RawCsv {
    let anchor = table
        .require("anchor", problems)
        .and_then(|item| match item.value() {
            toml::de::DeValue::String(_) => {
                item.str(problems).map(|s| Sp::new(vec![s.clone()], s.loc))
            }
            toml::de::DeValue::Array(_) => item.strings(problems),
            _ => {
                item.type_error("a column name or an array of column names", problems);
                None
            }
        });
    let mut columns = Vec::new();
    if let Some(table) = table
        .get("columns")
        .and_then(|item| item.table("columns", problems))
    {
        for item in table.entries() {
            let name = Sp::new(item.key.to_owned(), item.key_loc());
            let Some(column) = item.table(format!("column \"{}\"", item.key), problems) else {
                continue;
            };
            column.check_keys(COLUMN_KEYS, problems);
            columns.push(RawColumn {
                name,
                kind: column.str("type", problems),
                format: column.str("format", problems),
                multi: column.str("multi", problems),
                refers_to: column.str("refers_to", problems),
            });
        }
    }
    RawCsv {
        path: table.required_str("path", problems),
        anchor,
        object_type: table.required_str("object_type", problems),
        delimiter: table.str("delimiter", problems),
        columns,
        drop_dir: table.str("drop_dir", problems),
        export_columns: table
            .get("export_columns")
            .and_then(|item| item.strings(problems))
            .map(|s| s.value)
            .unwrap_or_default(),
    }
}

/// Which way a rule flows; each direction allows its own keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Inbound,
    Outbound,
}

fn read_rule(table: &Table<'_, '_>, direction: Direction, problems: &mut Problems) -> RawRule {
    let allowed = match direction {
        Direction::Inbound => INBOUND_KEYS,
        Direction::Outbound => OUTBOUND_KEYS,
    };
    check_keys_with(table, allowed, rule_hint, problems);
    // Keys of the other direction were reported above; reading them would report them twice.
    let has = |key: &str| allowed.contains(&key);
    let mut join = Vec::new();
    if let Some(items) = table.get("join").and_then(|item| item.array(problems)) {
        for item in items {
            let Some(entry) = item.table("a join rule", problems) else {
                continue;
            };
            entry.check_keys(JOIN_KEYS, problems);
            join.push(RawJoin {
                vault: entry.required_str("vault", problems),
                expr: entry.required_str("expr", problems),
            });
        }
    }
    let mut flows = Vec::new();
    if let Some(table) = table
        .get("flows")
        .and_then(|item| item.table("flows", problems))
    {
        for item in table.entries() {
            let target = Sp::new(item.key.to_owned(), item.key_loc());
            match item.value() {
                toml::de::DeValue::String(_) => {
                    flows.push(RawFlow {
                        target,
                        expr: item.str(problems),
                        when: None,
                        precedence: None,
                    });
                }
                toml::de::DeValue::Table(_) => {
                    let Some(flow) = item.table(format!("the flow to \"{}\"", item.key), problems)
                    else {
                        continue;
                    };
                    let inbound = direction == Direction::Inbound;
                    check_keys_with(
                        &flow,
                        if inbound {
                            INBOUND_FLOW_KEYS
                        } else {
                            OUTBOUND_FLOW_KEYS
                        },
                        |key| {
                            (key == "precedence").then_some("only inbound flows have a precedence")
                        },
                        problems,
                    );
                    flows.push(RawFlow {
                        target,
                        expr: flow.required_str("expr", problems),
                        when: flow.str("when", problems),
                        precedence: if inbound {
                            flow.int("precedence", problems)
                        } else {
                            None
                        },
                    });
                }
                _ => {
                    item.type_error("an expression, or a table such as { expr = \"[mail]\", when = \"create\" }", problems);
                }
            }
        }
    }
    let deprovision = if has("deprovision") {
        table.get("deprovision").and_then(|item| match item.value() {
            toml::de::DeValue::Table(_) => item.table("deprovision", problems).map(|t| read_deprovision(&t, problems)),
            _ => {
                item.type_error("a table", problems).help(
                    "write deprovision = { action = \"delete\" }, { action = \"disconnect\" } or { action = \"disable\", attribute = \"...\", value = \"...\" }",
                );
                None
            }
        })
    } else {
        None
    };
    let fully_managed = if has("fully_managed") {
        table
            .get("fully_managed")
            .and_then(|item| item.strings(problems))
    } else {
        None
    };
    RawRule {
        fully_managed,
        name: table.required_str("name", problems),
        connector: table.required_str("connector", problems),
        // An outbound rule must say what it creates; an inbound rule may read every type.
        object_type: if direction == Direction::Outbound {
            table.required_str("object_type", problems)
        } else {
            table.str("object_type", problems)
        },
        vault_type: table.str("vault_type", problems),
        dialect: table.str("dialect", problems),
        scope: table.str("scope", problems),
        precedence: if has("precedence") {
            table.int("precedence", problems)
        } else {
            None
        },
        project: if has("project") {
            table.bool("project", problems)
        } else {
            None
        },
        provision: if has("provision") {
            table.bool("provision", problems)
        } else {
            None
        },
        deprovision,
        join,
        flows,
    }
}

fn rule_hint(key: &str) -> Option<&'static str> {
    match key {
        "deletion_threshold" | "disable_threshold" => Some(
            "thresholds are set per connector in its [[connector]] table, or for all connectors in [guard]",
        ),
        "precedence" | "project" => Some("only [[inbound]] rules have precedence and project"),
        "provision" | "deprovision" => Some("only [[outbound]] rules provision and deprovision"),
        _ => None,
    }
}

/// Like [`Table::check_keys`], but a key known to belong elsewhere gets that as its help.
fn check_keys_with(
    table: &Table<'_, '_>,
    allowed: &[&str],
    hint: fn(&str) -> Option<&'static str>,
    problems: &mut Problems,
) {
    for item in table.entries() {
        if allowed.contains(&item.key) {
            continue;
        }
        let help =
            hint(item.key).map_or_else(|| suggest::help_for(item.key, allowed), str::to_owned);
        problems
            .error(
                &item.key_loc(),
                format!("unknown key \"{}\" in {}", item.key, table.name),
            )
            .help(help);
    }
}

fn read_deprovision(table: &Table<'_, '_>, problems: &mut Problems) -> RawDeprovision {
    table.check_keys(DEPROVISION_KEYS, problems);
    let value = table.get("value").and_then(|item| match item.value() {
        toml::de::DeValue::String(s) => {
            Some(Sp::new(model::Value::String(s.to_string()), item.loc()))
        }
        toml::de::DeValue::Boolean(b) => Some(Sp::new(model::Value::Boolean(*b), item.loc())),
        toml::de::DeValue::Integer(_) => item
            .int(problems)
            .map(|i| Sp::new(model::Value::Integer(i.value), i.loc)),
        _ => {
            item.type_error("a string, a boolean or an integer", problems);
            None
        }
    });
    RawDeprovision {
        loc: table.loc(),
        action: table.required_str("action", problems),
        attribute: table.str("attribute", problems),
        value,
        delete_after: table.str("delete_after", problems),
    }
}
