//! The validated configuration, as the engine and the connectors consume it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use expr::Expression;
use model::{AttributeName, ConnectorName, ObjectType, RuleName, Syntax};

mod ldap;
pub use ldap::*;

/// Where a secret comes from. The value itself is read only when a connector needs it, and
/// its `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    Env(String),
    File(PathBuf),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::Env(name) => write!(f, "env:{name}"),
            SecretSource::File(path) => write!(f, "file:{}", path.display()),
        }
    }
}

/// A secret value read from its source. Prints as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The secret itself. Call only where the value is sent to the system that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl SecretSource {
    /// Reads the secret. The error names the source, never the value.
    pub fn read(&self) -> Result<Secret, String> {
        match self {
            SecretSource::Env(name) => std::env::var(name)
                .map(Secret)
                .map_err(|_| format!("environment variable {name} is not set")),
            SecretSource::File(path) => std::fs::read_to_string(path)
                .map(|s| Secret(s.trim_end_matches(['\r', '\n']).to_owned()))
                .map_err(|e| format!("cannot read secret file {}: {e}", path.display())),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The file the configuration was loaded from; relative paths in it are resolved
    /// against its directory. Every other path in a loaded `Config` is absolute.
    pub path: PathBuf,
    pub store: StoreConfig,
    pub connectors: Vec<ConnectorConfig>,
    pub inbound: Vec<InboundRule>,
    pub outbound: Vec<OutboundRule>,
    pub guard: GuardConfig,
    pub retry: RetryConfig,
    pub schedule: Option<ScheduleConfig>,
    pub sync: SyncConfig,
}

impl Config {
    pub fn connector(&self, name: &ConnectorName) -> Option<&ConnectorConfig> {
        self.connectors.iter().find(|c| &c.name == name)
    }

    /// Whether idsync only writes to this connector: some outbound rule targets it and no
    /// inbound rule reads it.
    pub fn is_target_only(&self, name: &ConnectorName) -> bool {
        self.outbound.iter().any(|r| &r.connector == name)
            && !self.inbound.iter().any(|r| &r.connector == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// The embedded store: one SQLite file.
    Sqlite { path: PathBuf },
    /// PostgreSQL (a later backend).
    Postgres {
        url: String,
        password: Option<SecretSource>,
    },
}

#[derive(Debug, Clone)]
pub struct ConnectorConfig {
    pub name: ConnectorName,
    /// Overrides [`GuardConfig::deletion_threshold`] for this connector.
    pub deletion_threshold: Option<u32>,
    /// Overrides [`GuardConfig::disable_threshold`] for this connector.
    pub disable_threshold: Option<u32>,
    pub kind: ConnectorKind,
}

/// The closed set of connector types; one `match` wires each.
#[derive(Debug, Clone)]
pub enum ConnectorKind {
    Csv(CsvSettings),
    Graph(Box<crate::GraphSettings>),
    Ldap(LdapSettings),
    Exchange(Box<crate::ExchangeSettings>),
}

impl ConnectorKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            ConnectorKind::Csv(_) => "csv",
            ConnectorKind::Graph(_) => "graph",
            ConnectorKind::Ldap(_) => "ldap",
            ConnectorKind::Exchange(_) => "exchange",
        }
    }

    /// Whether this kind of connector can be the target of an outbound rule.
    pub fn can_export(&self) -> bool {
        match self {
            ConnectorKind::Csv(_) | ConnectorKind::Graph(_) | ConnectorKind::Exchange(_) => true,
            ConnectorKind::Ldap(_) => true,
        }
    }

    /// The object types a connector of this kind can hold, when its settings fix them
    /// (`None`: any type the rules name).
    pub fn object_types(&self) -> Option<Vec<ObjectType>> {
        match self {
            ConnectorKind::Csv(csv) => Some(vec![csv.object_type.clone()]),
            ConnectorKind::Graph(graph) => Some(graph.object_types.clone()),
            ConnectorKind::Exchange(_) => None,
            ConnectorKind::Ldap(ldap) => Some(
                ldap.object_types
                    .iter()
                    .map(|t| t.object_type.clone())
                    .collect(),
            ),
        }
    }
}

/// Settings of an HR file (CSV) connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvSettings {
    /// The file imported; for an export target, the file idsync writes (atomically replaced).
    pub path: PathBuf,
    /// The column or columns whose values make the anchor (joined with `|` when several).
    pub anchor: Vec<String>,
    pub object_type: ObjectType,
    pub delimiter: u8,
    /// Typed and multi-valued columns; other columns are single-valued strings.
    pub columns: BTreeMap<String, ColumnSpec>,
    /// Export targets: also drop a copy of each written file here, named with the time.
    pub drop_dir: Option<PathBuf>,
    /// Export targets: the column order of written files (first the anchor columns, then
    /// these; attributes not listed are appended in name order).
    pub export_columns: Vec<String>,
}

/// How one CSV column is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    pub syntax: Syntax,
    /// For dates: a strftime format such as `%Y-%m-%d`; dates without a time are midnight UTC.
    pub format: Option<String>,
    /// For multi-valued columns: the separator between values.
    pub multi: Option<String>,
    /// For reference columns: the connector whose anchors the values are (a groups file
    /// whose members are HR employee ids); default this file's own connector.
    pub refers_to: Option<ConnectorName>,
}

/// One join rule: an identity whose `vault` attribute equals the value of `expr` (evaluated
/// over the connector-space object) is a match.
#[derive(Debug, Clone)]
pub struct JoinRule {
    pub vault: AttributeName,
    pub expr: Expression,
}

/// When a flow applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowWhen {
    Always,
    /// Only when the object is created (an initial password, a UPN never changed after).
    Create,
}

/// One attribute flow: `target = expr`.
#[derive(Debug, Clone)]
pub struct Flow {
    pub target: AttributeName,
    pub expr: Expression,
    pub when: FlowWhen,
    /// Inbound flows: overrides the rule's precedence for this attribute, so one source can
    /// win names while another wins phone numbers. Lower wins.
    pub precedence: Option<i32>,
    /// Where the flow's expression is written (`idsync.toml:42:15`), for errors found
    /// later, against a live schema.
    pub location: String,
}

/// Connector → vault.
#[derive(Debug, Clone)]
pub struct InboundRule {
    pub name: RuleName,
    pub connector: ConnectorName,
    /// The connector-space object type this rule reads; `None` for every type.
    pub source_type: Option<ObjectType>,
    /// The identity type it joins to or projects (default `person`).
    pub vault_type: ObjectType,
    /// Objects for which this is not true are ignored by the rule (and disconnected if linked).
    pub scope: Option<Expression>,
    /// Lower wins, per attribute.
    pub precedence: i32,
    /// Create an identity when no join rule matches.
    pub project: bool,
    /// Ordered; the first rule with exactly one match wins.
    pub join: Vec<JoinRule>,
    pub flows: Vec<Flow>,
}

/// What happens to a target object when its identity leaves the rule's scope.
#[derive(Debug, Clone, PartialEq)]
pub enum DeprovisionAction {
    /// Delete the object at once.
    Delete,
    /// Set `attribute` to `value`; delete after `delete_after` if given.
    Disable {
        attribute: AttributeName,
        value: model::Value,
        delete_after: Option<Duration>,
    },
    /// Keep the object, cut the link.
    Disconnect,
}

/// Vault → connector.
#[derive(Debug, Clone)]
pub struct OutboundRule {
    pub name: RuleName,
    pub connector: ConnectorName,
    /// The object type created in the target.
    pub target_type: ObjectType,
    /// The identity type this rule reads (default `person`).
    pub vault_type: ObjectType,
    pub scope: Option<Expression>,
    /// Create the object when an identity in scope has none.
    pub provision: bool,
    pub deprovision: DeprovisionAction,
    /// How an existing target object is recognised as this identity's (an account created
    /// before idsync, or a create whose outcome was lost): evaluated over the target object.
    pub join: Vec<JoinRule>,
    pub flows: Vec<Flow>,
    /// Reference attributes (a group's `members`) this rule owns whole: values pointing at
    /// objects idsync does not manage are removed too. Otherwise they are left alone.
    pub fully_managed: Vec<AttributeName>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardConfig {
    /// The most deletes one run may export per connector without approval. Default 500.
    pub deletion_threshold: u32,
    /// The most deprovisioning disables one run may export per connector. Default 500.
    pub disable_threshold: u32,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            deletion_threshold: 500,
            disable_threshold: 500,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryConfig {
    /// Failed attempts after which an export is quarantined. Default 5.
    pub max_attempts: u32,
    /// The first retry delay; doubled per attempt. Default 1 minute.
    pub backoff: Duration,
    /// The longest delay between attempts (and between retries of quarantined exports). Default 6 hours.
    pub max_backoff: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 5,
            backoff: Duration::from_secs(60),
            max_backoff: Duration::from_secs(6 * 3600),
        }
    }
}

/// How the engine batches its work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncConfig {
    /// Objects (and identities) synchronized per store transaction. Larger batches mean
    /// fewer transactions and more memory; a killed run redoes at most one batch.
    pub batch_size: usize,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig { batch_size: 5000 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleConfig {
    /// How often `idsync serve` starts a run.
    pub interval: Duration,
}

impl Config {
    /// The inbound rules reading from `connector`, in the order they were written.
    pub fn inbound_for<'a>(
        &'a self,
        connector: &'a ConnectorName,
    ) -> impl Iterator<Item = &'a InboundRule> + 'a {
        self.inbound
            .iter()
            .filter(move |rule| &rule.connector == connector)
    }

    /// The outbound rules writing to `connector`, in the order they were written.
    pub fn outbound_for<'a>(
        &'a self,
        connector: &'a ConnectorName,
    ) -> impl Iterator<Item = &'a OutboundRule> + 'a {
        self.outbound
            .iter()
            .filter(move |rule| &rule.connector == connector)
    }

    /// The (deletion, disable) thresholds of one connector: its own where it sets them,
    /// else [`GuardConfig`]'s.
    pub fn thresholds_for(&self, connector: &ConnectorName) -> (u32, u32) {
        let own = self.connector(connector);
        (
            own.and_then(|c| c.deletion_threshold)
                .unwrap_or(self.guard.deletion_threshold),
            own.and_then(|c| c.disable_threshold)
                .unwrap_or(self.guard.disable_threshold),
        )
    }
}
