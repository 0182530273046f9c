//! The meaning stage: turns the configuration as written ([`crate::raw`]) into the
//! validated [`Config`], checking names, references, expressions, durations and ranges.
//! A value is either valid or reported; nothing bad is replaced by a default.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use expr::{Dialect, Expression};
use model::{AttributeName, ConnectorName, ObjectType, RuleName, Syntax};

use crate::diagnostic::{FileId, Loc, Problems, Sources};
use crate::duration::{DURATION_HELP, parse_duration};
use crate::model_types::*;
use crate::raw::*;
use crate::reader::{Sp, url_has_password};

mod app;
mod exchange;
mod graph;
use crate::strspan::StringMap;
use crate::suggest;

mod ldap;

const DIALECTS: &[&str] = &["provisioning", "connect"];
const WHENS: &[&str] = &["always", "create"];
const ACTIONS: &[&str] = &["delete", "disable", "disconnect"];
const COLUMN_TYPES: &[&str] = &[
    "string",
    "integer",
    "boolean",
    "date",
    "datetime",
    "reference",
    "binary",
];

/// What the rules need to know of a connector, kept even when its settings are invalid so
/// that rules naming it are not reported as well.
struct KnownConnector {
    loc: Loc,
    type_name: Option<&'static str>,
    can_export: Option<bool>,
    /// The object types its settings fix (the one type a CSV file holds; an LDAP
    /// directory's mapped types).
    object_types: Option<Vec<ObjectType>>,
}

struct Validator<'s> {
    sources: &'s Sources,
    problems: &'s mut Problems,
    /// Whether a connector's name was missing or invalid, so that a rule naming an unknown
    /// connector may be naming that one.
    unnamed_connectors: bool,
}

/// Validates a whole configuration: the main file's document with the included files'
/// connectors and rules appended.
pub(crate) fn validate(
    doc: RawDocument,
    main: FileId,
    sources: &Sources,
    problems: &mut Problems,
) -> Config {
    let mut v = Validator {
        sources,
        problems,
        unnamed_connectors: false,
    };
    let store = v.store(doc.store, main);
    let guard = v.guard(doc.guard);
    let retry = v.retry(doc.retry);
    let schedule = doc.schedule.and_then(|s| v.schedule(s));
    let sync = v.sync(doc.sync);

    let mut known: BTreeMap<String, KnownConnector> = BTreeMap::new();
    let mut connectors = Vec::new();
    for raw in doc.connectors {
        if let Some(connector) = v.connector(raw, &mut known) {
            connectors.push(connector);
        }
    }

    for connector in &connectors {
        let ConnectorKind::Csv(csv) = &connector.kind else {
            continue;
        };
        for (column, spec) in &csv.columns {
            if let Some(target) = &spec.refers_to
                && !known.contains_key(target.as_str())
            {
                let names: Vec<&str> = known.keys().map(String::as_str).collect();
                v.problems
                    .error(
                        &known[connector.name.as_str()].loc,
                        format!(
                            "column \"{column}\" of connector \"{}\" refers to connector \"{target}\", which is not configured",
                            connector.name
                        ),
                    )
                    .help(suggest::help_for(target.as_str(), &names));
            }
        }
    }

    let mut rule_names: BTreeMap<String, Loc> = BTreeMap::new();
    let inbound = doc
        .inbound
        .into_iter()
        .filter_map(|r| v.inbound(r, &known, &mut rule_names))
        .collect();
    let outbound = doc
        .outbound
        .into_iter()
        .filter_map(|r| v.outbound(r, &known, &mut rule_names))
        .collect();

    Config {
        path: sources.get(main).path.clone(),
        store,
        connectors,
        inbound,
        outbound,
        guard,
        retry,
        schedule,
        sync,
    }
}

impl Validator<'_> {
    /// A path as written, made absolute against the directory of the file it was written in.
    fn path(&mut self, written: &Sp<String>) -> Option<PathBuf> {
        if written.value.trim().is_empty() {
            self.problems.error(&written.loc, "the path is empty");
            return None;
        }
        Some(resolve(
            self.sources.get(written.loc.file).dir(),
            &written.value,
        ))
    }

    fn store(&mut self, raw: Option<RawStore>, main: FileId) -> StoreConfig {
        let Some(raw) = raw else {
            // No [store]: the embedded store beside the configuration, as `idsync init` writes.
            return StoreConfig::Sqlite {
                path: self.sources.get(main).dir().join("idsync.db"),
            };
        };
        match (raw.path, raw.url) {
            (Some(_), Some(url)) => {
                self.problems
                    .error(&url.loc, "[store] has both \"path\" and \"url\"")
                    .help(
                        "use path for the embedded SQLite store, or url for PostgreSQL, not both",
                    );
            }
            (None, None) => {
                self.problems
                    .error(&raw.loc, "[store] needs \"path\" or \"url\"")
                    .help("path = \"idsync.db\" for the embedded SQLite store, or url = \"postgres://...\"");
            }
            (Some(path), None) => {
                if let Some(password) = &raw.password {
                    self.problems
                        .error(&password.loc, "the embedded store takes no password")
                        .help("a password applies only with url (PostgreSQL)");
                }
                if let Some(path) = self.path(&path) {
                    return StoreConfig::Sqlite { path };
                }
            }
            (None, Some(url)) => {
                if !(url.value.starts_with("postgres://") || url.value.starts_with("postgresql://"))
                {
                    self.problems
                        .error(&url.loc, "the store url must be a PostgreSQL url")
                        .help("write url = \"postgres://user@host/database\", or path = \"idsync.db\" for the embedded store");
                } else if url_has_password(&url.value) {
                    self.problems
                        .error(&url.loc, "the store url holds a password")
                        .help("remove it from the url and write password = { env = \"IDSYNC_DB_PASSWORD\" } or password = { file = \"...\" }");
                } else {
                    let password = raw.password.map(|p| self.secret(p));
                    return StoreConfig::Postgres {
                        url: url.value,
                        password,
                    };
                }
            }
        }
        // Reported above; this value is never used because loading fails.
        StoreConfig::Sqlite {
            path: PathBuf::new(),
        }
    }

    fn secret(&mut self, raw: Sp<RawSecret>) -> SecretSource {
        match raw.value {
            RawSecret::Env(name) => SecretSource::Env(name),
            RawSecret::File(path) => {
                SecretSource::File(resolve(self.sources.get(raw.loc.file).dir(), &path))
            }
        }
    }

    fn threshold(&mut self, raw: Option<Sp<i64>>) -> Option<u32> {
        let raw = raw?;
        match u32::try_from(raw.value) {
            Ok(n) => Some(n),
            Err(_) if raw.value < 0 => {
                self.problems
                    .error(&raw.loc, "a threshold cannot be negative")
                    .help("0 stops every delete for approval; the default is 500");
                None
            }
            Err(_) => {
                self.problems.error(
                    &raw.loc,
                    format!("a threshold cannot be more than {}", u32::MAX),
                );
                None
            }
        }
    }

    fn guard(&mut self, raw: Option<RawGuard>) -> GuardConfig {
        let mut guard = GuardConfig::default();
        if let Some(raw) = raw {
            if let Some(n) = self.threshold(raw.deletion_threshold) {
                guard.deletion_threshold = n;
            }
            if let Some(n) = self.threshold(raw.disable_threshold) {
                guard.disable_threshold = n;
            }
        }
        guard
    }

    fn duration(&mut self, raw: &Sp<String>) -> Option<Duration> {
        match parse_duration(&raw.value) {
            Ok(d) if d.is_zero() => {
                self.problems
                    .error(&raw.loc, "the duration must be more than zero");
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.problems
                    .error(&raw.loc, format!("invalid duration: {e}"))
                    .help(DURATION_HELP);
                None
            }
        }
    }

    fn sync(&mut self, raw: Option<RawSync>) -> SyncConfig {
        let mut sync = SyncConfig::default();
        if let Some(size) = raw.and_then(|r| r.batch_size) {
            match usize::try_from(size.value) {
                Ok(n) if (1..=1_000_000).contains(&n) => sync.batch_size = n,
                _ => {
                    self.problems
                        .error(&size.loc, "batch_size must be between 1 and 1000000")
                        .help("objects synchronized per store transaction; the default is 5000");
                }
            }
        }
        sync
    }

    fn retry(&mut self, raw: Option<RawRetry>) -> RetryConfig {
        let mut retry = RetryConfig::default();
        let Some(raw) = raw else { return retry };
        if let Some(attempts) = raw.max_attempts {
            match u32::try_from(attempts.value) {
                Ok(n) if n >= 1 => retry.max_attempts = n,
                _ => {
                    self.problems
                        .error(&attempts.loc, "max_attempts must be at least 1")
                        .help("the number of failed attempts after which an export is quarantined; the default is 5");
                }
            }
        }
        if let Some(backoff) = raw.backoff.as_ref().and_then(|b| self.duration(b)) {
            retry.backoff = backoff;
        }
        if let Some(max_backoff) = &raw.max_backoff
            && let Some(d) = self.duration(max_backoff)
        {
            if d < retry.backoff {
                self.problems
                    .error(&max_backoff.loc, "max_backoff is shorter than backoff")
                    .help("the delay doubles from backoff up to max_backoff, so max_backoff must be at least backoff");
            }
            retry.max_backoff = d;
        }
        retry
    }

    fn schedule(&mut self, raw: RawSchedule) -> Option<ScheduleConfig> {
        let interval = self.duration(raw.interval.as_ref()?)?;
        Some(ScheduleConfig { interval })
    }

    /// A name that must not be empty.
    fn name(&mut self, raw: &Option<Sp<String>>) -> Option<Sp<String>> {
        let raw = raw.as_ref()?;
        if raw.value.trim().is_empty() {
            self.problems.error(&raw.loc, "the name is empty");
            return None;
        }
        Some(raw.clone())
    }

    fn connector(
        &mut self,
        raw: RawConnector,
        known: &mut BTreeMap<String, KnownConnector>,
    ) -> Option<ConnectorConfig> {
        let name = self.name(&raw.name);
        let deletion_threshold = self.threshold(raw.deletion_threshold);
        let disable_threshold = self.threshold(raw.disable_threshold);
        let kind = match raw.settings {
            Some(RawSettings::Csv(csv)) => self.csv(csv).map(ConnectorKind::Csv),
            Some(RawSettings::Graph(graph)) => {
                self.graph(graph).map(|g| ConnectorKind::Graph(Box::new(g)))
            }
            Some(RawSettings::Ldap(ldap)) => self.ldap(ldap).map(ConnectorKind::Ldap),
            Some(RawSettings::Exchange(exchange)) => self
                .exchange(exchange)
                .map(|e| ConnectorKind::Exchange(Box::new(e))),
            None => None,
        };
        let Some(name) = name else {
            self.unnamed_connectors = true;
            return None;
        };
        if let Some(first) = known.get(&name.value) {
            self.problems
                .error(
                    &name.loc,
                    format!("duplicate connector name \"{}\"", name.value),
                )
                .note(format!(
                    "the first \"{}\" is at {}",
                    name.value,
                    self.sources.describe(&first.loc)
                ))
                .help("connector names must be unique; rename one of them");
            return None;
        }
        let object_types = kind.as_ref().and_then(ConnectorKind::object_types);
        known.insert(
            name.value.clone(),
            KnownConnector {
                loc: name.loc.clone(),
                type_name: kind.as_ref().map(ConnectorKind::type_name),
                can_export: kind.as_ref().map(ConnectorKind::can_export),
                object_types,
            },
        );
        Some(ConnectorConfig {
            name: ConnectorName::new(name.value),
            deletion_threshold,
            disable_threshold,
            kind: kind?,
        })
    }

    fn object_type(&mut self, raw: &Sp<String>) -> Option<ObjectType> {
        if raw.value.trim().is_empty() {
            self.problems.error(&raw.loc, "the object type is empty");
            return None;
        }
        Some(ObjectType::new(raw.value.as_str()))
    }

    fn csv(&mut self, raw: RawCsv) -> Option<CsvSettings> {
        let path = raw.path.as_ref().and_then(|p| self.path(p));
        let anchor = raw.anchor.as_ref().and_then(|anchor| {
            if anchor.value.is_empty() {
                self.problems
                    .error(&anchor.loc, "the anchor names no column")
                    .help("name the column (or columns) holding each row's immutable identifier, such as anchor = \"EmployeeID\"");
                return None;
            }
            let mut ok = true;
            for column in &anchor.value {
                if column.value.trim().is_empty() {
                    self.problems.error(&column.loc, "an anchor column name is empty");
                    ok = false;
                }
            }
            ok.then(|| anchor.value.iter().map(|c| c.value.clone()).collect::<Vec<_>>())
        });
        let object_type = raw.object_type.as_ref().and_then(|t| self.object_type(t));
        let delimiter = match &raw.delimiter {
            None => Some(b','),
            Some(d) => self.delimiter(d),
        };
        let mut columns = BTreeMap::new();
        let mut columns_ok = true;
        for column in raw.columns {
            match self.column(&column, anchor.as_deref().unwrap_or_default()) {
                Some(spec) => {
                    columns.insert(column.name.value, spec);
                }
                None => columns_ok = false,
            }
        }
        let drop_dir = match &raw.drop_dir {
            Some(d) => Some(self.path(d)?),
            None => None,
        };
        Some(CsvSettings {
            path: path?,
            anchor: anchor?,
            object_type: object_type?,
            delimiter: delimiter?,
            columns: if columns_ok { columns } else { return None },
            drop_dir,
            export_columns: raw.export_columns.into_iter().map(|c| c.value).collect(),
        })
    }

    fn delimiter(&mut self, raw: &Sp<String>) -> Option<u8> {
        match raw.value.as_bytes() {
            [b'"' | b'\n' | b'\r'] => {
                self.problems
                    .error(&raw.loc, "the delimiter cannot be a quote or a line break")
                    .help("use \",\", \";\", \"|\" or \"\\t\"");
                None
            }
            [byte] => Some(*byte),
            _ => {
                let problem = if raw.value.chars().count() == 1 {
                    self.problems.error(
                        &raw.loc,
                        "the delimiter must be a single-byte (ASCII) character",
                    )
                } else {
                    self.problems
                        .error(&raw.loc, "the delimiter must be exactly one character")
                };
                problem.help("use \",\", \";\", \"|\" or \"\\t\" for a tab");
                None
            }
        }
    }

    fn column(&mut self, raw: &RawColumn, anchor: &[String]) -> Option<ColumnSpec> {
        let syntax = match &raw.kind {
            None => Some(Syntax::String),
            Some(kind) => match kind.value.as_str() {
                "string" => Some(Syntax::String),
                "integer" => Some(Syntax::Integer),
                "boolean" => Some(Syntax::Boolean),
                // A date is a date-time at midnight UTC; one syntax keeps comparisons simple.
                "date" | "datetime" => Some(Syntax::DateTime),
                "reference" => Some(Syntax::Reference),
                "binary" => Some(Syntax::Binary),
                other => {
                    self.problems
                        .error(&kind.loc, format!("unknown column type \"{other}\""))
                        .help(suggest::help_for(other, COLUMN_TYPES));
                    None
                }
            },
        };
        let mut ok = syntax.is_some();
        if let Some(format) = &raw.format {
            if syntax.is_some() && syntax != Some(Syntax::DateTime) {
                self.problems
                    .error(
                        &format.loc,
                        format!(
                            "column \"{}\" has a format but is not a date",
                            raw.name.value
                        ),
                    )
                    .help("a format applies only to columns of type \"date\" or \"datetime\"");
                ok = false;
            } else if format.value.is_empty() {
                self.problems
                    .error(&format.loc, "the format is empty")
                    .help("such as \"%Y-%m-%d\"");
                ok = false;
            }
        }
        if let Some(multi) = &raw.multi {
            if multi.value.is_empty() {
                self.problems
                    .error(
                        &multi.loc,
                        "the separator of a multi-valued column is empty",
                    )
                    .help("such as multi = \";\"");
                ok = false;
            } else if anchor.contains(&raw.name.value) {
                self.problems
                    .error(
                        &multi.loc,
                        format!(
                            "anchor column \"{}\" cannot be multi-valued",
                            raw.name.value
                        ),
                    )
                    .help("an anchor identifies one object, so it has exactly one value");
                ok = false;
            }
        }
        if let Some(target) = &raw.refers_to
            && syntax.is_some()
            && syntax != Some(Syntax::Reference)
        {
            self.problems
                .error(
                    &target.loc,
                    format!(
                        "column \"{}\" refers to a connector but is not a reference",
                        raw.name.value
                    ),
                )
                .help("write type = \"reference\" as well");
            ok = false;
        }
        ok.then(|| ColumnSpec {
            syntax: syntax.expect("checked by ok"),
            format: raw.format.as_ref().map(|f| f.value.clone()),
            multi: raw.multi.as_ref().map(|m| m.value.clone()),
            refers_to: raw
                .refers_to
                .as_ref()
                .map(|t| ConnectorName::new(t.value.as_str())),
        })
    }

    /// Parses an expression; its errors point into the file, inside the string.
    fn expression(&mut self, raw: &Sp<String>, dialect: Dialect) -> Option<Expression> {
        match Expression::parse(&raw.value, dialect) {
            Ok(expression) => Some(expression),
            Err(diagnostic) => {
                let text = &self.sources.get(raw.loc.file).text;
                let span =
                    StringMap::new(text, raw.loc.span.clone(), &raw.value).map(diagnostic.span);
                let problem = self
                    .problems
                    .error(&Loc::new(raw.loc.file, span), diagnostic.message);
                if let Some(help) = diagnostic.help {
                    problem.help(help);
                }
                None
            }
        }
    }

    fn dialect(&mut self, raw: &Option<Sp<String>>) -> Option<Dialect> {
        match raw.as_ref().map(|d| (d, d.value.as_str())) {
            None | Some((_, "provisioning")) => Some(Dialect::Provisioning),
            Some((_, "connect")) => Some(Dialect::Connect),
            Some((d, other)) => {
                self.problems
                    .error(&d.loc, format!("unknown dialect \"{other}\""))
                    .help(suggest::help_for(other, DIALECTS));
                None
            }
        }
    }

    /// The rule's name, checked unique across inbound and outbound rules.
    fn rule_name(
        &mut self,
        raw: &Option<Sp<String>>,
        names: &mut BTreeMap<String, Loc>,
    ) -> Option<RuleName> {
        let name = self.name(raw)?;
        if let Some(first) = names.get(&name.value) {
            self.problems
                .error(&name.loc, format!("duplicate rule name \"{}\"", name.value))
                .note(format!("the first \"{}\" is at {}", name.value, self.sources.describe(first)))
                .help("lineage, plans and errors name rules, so inbound and outbound rule names must all be unique");
            return None;
        }
        names.insert(name.value.clone(), name.loc);
        Some(RuleName::new(name.value))
    }

    /// The connector a rule names, which must be defined.
    fn rule_connector<'k>(
        &mut self,
        raw: &Option<Sp<String>>,
        known: &'k BTreeMap<String, KnownConnector>,
    ) -> Option<(ConnectorName, &'k KnownConnector, Loc)> {
        let raw = raw.as_ref()?;
        match known.get(&raw.value) {
            Some(connector) => Some((
                ConnectorName::new(raw.value.as_str()),
                connector,
                raw.loc.clone(),
            )),
            None => {
                let names: Vec<&str> = known.keys().map(String::as_str).collect();
                let help = if names.is_empty() {
                    "define it in a [[connector]] table".to_owned()
                } else {
                    suggest::did_you_mean(&raw.value, names.iter().copied()).map_or_else(
                        || format!("the connectors are {}", suggest::list_all(&names)),
                        |best| format!("did you mean \"{best}\"?"),
                    )
                };
                let problem = self
                    .problems
                    .error(&raw.loc, format!("unknown connector \"{}\"", raw.value))
                    .help(help);
                if self.unnamed_connectors {
                    problem.note("a [[connector]] has no valid name (reported separately); it may be this one");
                }
                None
            }
        }
    }

    /// The object type a rule reads or writes, which a CSV connector fixes.
    fn rule_object_type(
        &mut self,
        raw: &Sp<String>,
        connector: &str,
        known: &KnownConnector,
    ) -> Option<ObjectType> {
        let object_type = self.object_type(raw)?;
        match known.object_types.as_deref() {
            Some([holds]) if *holds != object_type => {
                self.problems
                    .error(&raw.loc, format!("connector \"{connector}\" holds objects of type \"{holds}\", not \"{object_type}\""))
                    .help(format!("write object_type = \"{holds}\""));
                return None;
            }
            Some(holds) if holds.len() > 1 && !holds.contains(&object_type) => {
                let names: Vec<&str> = holds.iter().map(ObjectType::as_str).collect();
                self.problems
                    .error(
                        &raw.loc,
                        format!(
                            "connector \"{connector}\" holds no objects of type \"{object_type}\""
                        ),
                    )
                    .help(
                        suggest::did_you_mean(object_type.as_str(), names.iter().copied())
                            .map_or_else(
                                || format!("its object types are {}", suggest::list_all(&names)),
                                |best| format!("did you mean \"{best}\"?"),
                            ),
                    );
                return None;
            }
            _ => {}
        }
        Some(object_type)
    }

    fn vault_type(&mut self, raw: &Option<Sp<String>>) -> Option<ObjectType> {
        match raw {
            None => Some(ObjectType::new("person")),
            Some(t) => self.object_type(t),
        }
    }

    fn precedence(&mut self, raw: &Sp<i64>) -> Option<i32> {
        match i32::try_from(raw.value) {
            Ok(p) => Some(p),
            Err(_) => {
                self.problems
                    .error(&raw.loc, "precedence is out of range")
                    .help("lower wins; the default is 100");
                None
            }
        }
    }

    fn joins(&mut self, raw: &[RawJoin], dialect: Dialect) -> Option<Vec<JoinRule>> {
        let mut joins = Vec::new();
        let mut ok = true;
        for join in raw {
            let vault = join.vault.as_ref().and_then(|v| {
                if v.value.trim().is_empty() {
                    self.problems.error(&v.loc, "the vault attribute is empty");
                    return None;
                }
                Some(AttributeName::new(v.value.as_str()))
            });
            let expr = join.expr.as_ref().and_then(|e| self.expression(e, dialect));
            match (vault, expr) {
                (Some(vault), Some(expr)) => joins.push(JoinRule { vault, expr }),
                _ => ok = false,
            }
        }
        ok.then_some(joins)
    }

    fn flows(&mut self, raw: &[RawFlow], dialect: Dialect) -> Option<Vec<Flow>> {
        let mut flows: Vec<Flow> = Vec::new();
        let mut targets: BTreeMap<AttributeName, Loc> = BTreeMap::new();
        let mut ok = true;
        for flow in raw {
            let target = AttributeName::new(flow.target.value.as_str());
            if flow.target.value.trim().is_empty() {
                self.problems
                    .error(&flow.target.loc, "the target attribute is empty");
                ok = false;
            } else if let Some(first) = targets.get(&target) {
                // TOML keys are case-sensitive but attribute names are not.
                self.problems
                    .error(
                        &flow.target.loc,
                        format!("a second flow to attribute \"{}\"", flow.target.value),
                    )
                    .note(format!("the first is at {}", self.sources.describe(first)))
                    .help("attribute names ignore case; keep one flow per attribute");
                ok = false;
            } else {
                targets.insert(target.clone(), flow.target.loc.clone());
            }
            let when = match &flow.when {
                None => Some(FlowWhen::Always),
                Some(w) => match w.value.as_str() {
                    "always" => Some(FlowWhen::Always),
                    "create" => Some(FlowWhen::Create),
                    other => {
                        self.problems
                            .error(&w.loc, format!("unknown value \"{other}\" for when"))
                            .help(suggest::help_for(other, WHENS));
                        None
                    }
                },
            };
            let precedence = match &flow.precedence {
                None => Some(None),
                Some(p) => self.precedence(p).map(Some),
            };
            let expr = flow.expr.as_ref().and_then(|e| self.expression(e, dialect));
            let location = flow
                .expr
                .as_ref()
                .map(|e| self.sources.describe(&e.loc))
                .unwrap_or_else(|| self.sources.describe(&flow.target.loc));
            match (when, expr, precedence) {
                (Some(when), Some(expr), Some(precedence)) if ok => {
                    flows.push(Flow {
                        target,
                        expr,
                        when,
                        precedence,
                        location,
                    });
                }
                _ => ok = false,
            }
        }
        ok.then_some(flows)
    }

    fn inbound(
        &mut self,
        raw: RawRule,
        known: &BTreeMap<String, KnownConnector>,
        names: &mut BTreeMap<String, Loc>,
    ) -> Option<InboundRule> {
        let name = self.rule_name(&raw.name, names);
        let connector = self.rule_connector(&raw.connector, known);
        let source_type = match (&raw.object_type, &connector) {
            (Some(t), Some((name, known, _))) => {
                self.rule_object_type(t, name.as_str(), known).map(Some)
            }
            (Some(t), None) => self.object_type(t).map(Some),
            (None, _) => Some(None),
        };
        let vault_type = self.vault_type(&raw.vault_type);
        let dialect = self.dialect(&raw.dialect);
        let d = dialect.unwrap_or_default();
        let scope = raw.scope.as_ref().map(|s| self.expression(s, d));
        let precedence = raw.precedence.as_ref().and_then(|p| self.precedence(p));
        let join = self.joins(&raw.join, d);
        let flows = self.flows(&raw.flows, d);
        dialect?;
        Some(InboundRule {
            name: name?,
            connector: connector?.0,
            source_type: source_type?,
            vault_type: vault_type?,
            scope: scope.map_or(Some(None), |s| s.map(Some))?,
            precedence: match &raw.precedence {
                Some(_) => precedence?,
                None => 100,
            },
            project: raw.project.is_some_and(|p| p.value),
            join: join?,
            flows: flows?,
        })
    }

    fn outbound(
        &mut self,
        raw: RawRule,
        known: &BTreeMap<String, KnownConnector>,
        names: &mut BTreeMap<String, Loc>,
    ) -> Option<OutboundRule> {
        let name = self.rule_name(&raw.name, names);
        let connector = self.rule_connector(&raw.connector, known);
        if let Some((name, known, loc)) = &connector
            && known.can_export == Some(false)
        {
            self.problems
                .error(loc, format!("connector \"{name}\" cannot be written to"))
                .help(format!(
                    "a {} connector only imports; an outbound rule needs a connector that can export",
                    known.type_name.unwrap_or("read-only")
                ));
        }
        let target_type = match (&raw.object_type, &connector) {
            (Some(t), Some((name, known, _))) => self.rule_object_type(t, name.as_str(), known),
            (Some(t), None) => self.object_type(t),
            (None, _) => None,
        };
        let vault_type = self.vault_type(&raw.vault_type);
        let dialect = self.dialect(&raw.dialect);
        let d = dialect.unwrap_or_default();
        let scope = raw.scope.as_ref().map(|s| self.expression(s, d));
        let join = self.joins(&raw.join, d);
        let flows = self.flows(&raw.flows, d);
        let fully_managed = self.fully_managed(&raw);
        let provision = raw.provision.as_ref().is_some_and(|p| p.value);
        if let Some(p) = &raw.provision
            && p.value
            && raw.join.is_empty()
        {
            self.problems
                .error(&p.loc, "a provisioning rule needs at least one join rule")
                .help("add join = [ { vault = \"...\", expr = \"[...]\" } ] so that a create whose outcome was lost is recognised instead of repeated");
        }
        let deprovision = match &raw.deprovision {
            None => Some(DeprovisionAction::Delete),
            Some(d) => self.deprovision(d),
        };
        let can_export = connector
            .as_ref()
            .is_none_or(|(_, k, _)| k.can_export != Some(false));
        dialect?;
        if !can_export {
            return None;
        }
        Some(OutboundRule {
            name: name?,
            connector: connector?.0,
            target_type: target_type?,
            vault_type: vault_type?,
            scope: scope.map_or(Some(None), |s| s.map(Some))?,
            provision,
            deprovision: deprovision?,
            join: join?,
            fully_managed,
            flows: flows?,
        })
    }

    /// The attributes a rule owns whole; each must be one the rule flows.
    fn fully_managed(&mut self, raw: &RawRule) -> Vec<AttributeName> {
        let Some(list) = &raw.fully_managed else {
            return Vec::new();
        };
        let mut names = Vec::new();
        for name in &list.value {
            let flowed = raw
                .flows
                .iter()
                .any(|f| f.target.value.eq_ignore_ascii_case(&name.value));
            if flowed {
                names.push(AttributeName::new(name.value.as_str()));
            } else {
                self.problems
                    .error(&name.loc, format!("fully_managed names \"{}\", which no flow of this rule writes", name.value))
                    .help("list the reference attributes this rule owns whole, such as fully_managed = [\"members\"]");
            }
        }
        names
    }

    fn deprovision(&mut self, raw: &RawDeprovision) -> Option<DeprovisionAction> {
        let action = raw.action.as_ref()?;
        let not_for = |key: &str| format!("\"{key}\" applies only to action = \"disable\"");
        let mut ok = true;
        if action.value != "disable" {
            for (key, loc) in [
                ("attribute", raw.attribute.as_ref().map(|a| &a.loc)),
                ("value", raw.value.as_ref().map(|v| &v.loc)),
                ("delete_after", raw.delete_after.as_ref().map(|d| &d.loc)),
            ] {
                if let Some(loc) = loc {
                    self.problems
                        .error(loc, not_for(key))
                        .help(format!("remove it, or disable first with action = \"disable\" (action \"{}\" ignores it)", action.value));
                    ok = false;
                }
            }
        }
        match action.value.as_str() {
            "delete" => ok.then_some(DeprovisionAction::Delete),
            "disconnect" => ok.then_some(DeprovisionAction::Disconnect),
            "disable" => {
                let missing: Vec<&str> = [
                    ("attribute", raw.attribute.is_none()),
                    ("value", raw.value.is_none()),
                ]
                .into_iter()
                .filter_map(|(key, missing)| missing.then_some(key))
                .collect();
                if !missing.is_empty() {
                    self.problems
                        .error(&raw.loc, format!("action \"disable\" needs {}", suggest::list_all(&missing)))
                        .help("name the attribute that disables an account and its value, such as attribute = \"Enabled\", value = \"False\"");
                }
                let attribute = raw.attribute.as_ref().and_then(|a| {
                    if a.value.trim().is_empty() {
                        self.problems.error(&a.loc, "the attribute is empty");
                        return None;
                    }
                    Some(AttributeName::new(a.value.as_str()))
                });
                let delete_after = match &raw.delete_after {
                    Some(d) => Some(self.duration(d)?),
                    None => None,
                };
                Some(DeprovisionAction::Disable {
                    attribute: attribute?,
                    value: raw.value.as_ref()?.value.clone(),
                    delete_after,
                })
            }
            other => {
                self.problems
                    .error(
                        &action.loc,
                        format!("unknown deprovisioning action \"{other}\""),
                    )
                    .help(suggest::help_for(other, ACTIONS));
                None
            }
        }
    }
}

/// Paths in a loaded configuration are absolute, so that they mean the same file whatever
/// the working directory of the code that uses them, and joining them again changes nothing.
fn resolve(dir: &Path, written: &str) -> PathBuf {
    let path = Path::new(written);
    if path.is_absolute() {
        path.to_owned()
    } else {
        let joined = dir.join(path);
        std::path::absolute(&joined).unwrap_or(joined)
    }
}
