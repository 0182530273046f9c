//! `idsync expr`: evaluate one expression (or a batch of them) without running a sync, so
//! people can test a mapping before putting it in a rule.
//!
//! ```text
//! idsync expr 'Join(" ", [givenName], [surname])' --attributes '{"givenName":"Ada","surname":"Lovelace"}'
//! "Ada Lovelace"
//! ```
//! Exit codes: 0 evaluated, 1 evaluation error, 2 parse or check error (with the diagnostic
//! and a caret under the problem). `--batch` reads JSON Lines on stdin, one case per line,
//! and writes one result line per case; it exits 0 when every line could be read.

use std::io::{BufRead, Write};
use std::process::ExitCode;

// `::expr` is the crate; this module is also named `expr` inside `commands`.
use ::expr::json::{CaseContext, attributes_from_json, outcome_to_json, values_to_json};
use ::expr::{Dialect, Expression, Outcome};
use serde_json::{Value as Json, json};

#[derive(clap::Args, Debug)]
pub struct ExprArgs {
    /// The expression, e.g. 'Join(" ", [givenName], [surname])'. Not used with --batch.
    #[arg(required_unless_present = "batch")]
    pub expression: Option<String>,
    /// The dialect: provisioning (Entra app provisioning) or connect (Entra Connect Sync).
    #[arg(long, value_enum, default_value_t = DialectArg::Provisioning)]
    pub dialect: DialectArg,
    /// The object's attributes as a JSON object: {"givenName": "Ada", "proxyAddresses": ["SMTP:a@x"]}.
    /// Prefix a file name with @ to read it from a file.
    #[arg(long, default_value = "{}")]
    pub attributes: String,
    /// The time Now() returns (RFC 3339). Default: the current time.
    #[arg(long)]
    pub now: Option<String>,
    /// The tenant's default verified domain, for DefaultDomain().
    #[arg(long)]
    pub default_domain: Option<String>,
    /// A Connect parameter, NAME=VALUE (repeatable): --param Forest.LDAP=DC=contoso,DC=com
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub parameters: Vec<String>,
    /// A value the target already holds, for SelectUniqueValue (repeatable).
    #[arg(long = "existing", value_name = "VALUE")]
    pub existing_target_values: Vec<String>,
    /// The seed of Guid(), RandomString() and RandomNum().
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Read cases as JSON Lines on stdin ({"id", "dialect", "expression", "attributes",
    /// "context"}) and write one result per line ({"id", "value"} | {"id", "ignored": true} |
    /// {"id", "error"}).
    #[arg(long, conflicts_with = "expression")]
    pub batch: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialectArg {
    Provisioning,
    Connect,
}

impl From<DialectArg> for Dialect {
    fn from(arg: DialectArg) -> Self {
        match arg {
            DialectArg::Provisioning => Dialect::Provisioning,
            DialectArg::Connect => Dialect::Connect,
        }
    }
}

const EVALUATION_ERROR: u8 = 1;
const USAGE_ERROR: u8 = 2;

pub fn run(args: &ExprArgs) -> ExitCode {
    let context = match base_context(args) {
        Ok(context) => context,
        Err(message) => return usage_error(&message),
    };
    if args.batch {
        return batch(&context);
    }
    let Some(source) = args.expression.as_deref() else {
        return usage_error("give an expression, or --batch to read cases from stdin");
    };
    let attributes = match read_attributes(&args.attributes) {
        Ok(attributes) => attributes,
        Err(message) => return usage_error(&message),
    };
    let expression = match Expression::parse(source, args.dialect.into()) {
        Ok(expression) => expression,
        Err(diagnostic) => {
            eprintln!("{}", diagnostic.render(source));
            return ExitCode::from(USAGE_ERROR);
        }
    };
    match expression.evaluate(&attributes, &context.eval_context()) {
        Ok(outcome) => {
            let printed = match &outcome {
                Outcome::Values(values) => values_to_json(values),
                Outcome::Ignored => json!({ "ignored": true }),
            };
            println!("{printed}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {}", error.message);
            ExitCode::from(EVALUATION_ERROR)
        }
    }
}

/// The context from the command line: --now, --default-domain, --param, --existing, --seed.
fn base_context(args: &ExprArgs) -> Result<CaseContext, String> {
    let now = match &args.now {
        Some(text) => text
            .parse()
            .map_err(|e| format!("--now {text:?} is not an RFC 3339 time: {e}"))?,
        None => jiff::Timestamp::now(),
    };
    let mut context = CaseContext::new(now);
    context.seed = args.seed;
    context.default_domain = args.default_domain.clone();
    context.existing_target_values = args.existing_target_values.clone();
    for parameter in &args.parameters {
        let (name, value) = parameter
            .split_once('=')
            .ok_or_else(|| format!("--param {parameter:?} must be NAME=VALUE"))?;
        context.parameters.push((name.to_owned(), value.to_owned()));
    }
    Ok(context)
}

fn read_attributes(text: &str) -> Result<model::Attributes, String> {
    let text = match text.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| format!("--attributes @{path}: {e}"))?
        }
        None => text.to_owned(),
    };
    let json: Json =
        serde_json::from_str(&text).map_err(|e| format!("--attributes is not JSON: {e}"))?;
    attributes_from_json(&json).map_err(|e| format!("--attributes: {e}"))
}

/// JSON Lines in, JSON Lines out. A line that cannot be read as a case gets an error line
/// (with its id when it has one), and the batch goes on.
fn batch(defaults: &CaseContext) -> ExitCode {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (number, line) in stdin.lock().lines().enumerate() {
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                eprintln!("error: reading stdin: {e}");
                return ExitCode::from(EVALUATION_ERROR);
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let result = match serde_json::from_str::<Json>(&line) {
            Ok(case) => evaluate_case(&case, defaults),
            Err(e) => json!({ "id": null, "error": format!("line {}: not JSON: {e}", number + 1) }),
        };
        if writeln!(out, "{result}").is_err() {
            // The reader went away (e.g. `| head`): stop quietly.
            return ExitCode::SUCCESS;
        }
    }
    ExitCode::SUCCESS
}

fn evaluate_case(case: &Json, defaults: &CaseContext) -> Json {
    let id = case.get("id").cloned().unwrap_or(Json::Null);
    let fail = |message: String| json!({ "id": id, "error": message });
    let dialect = match case.get("dialect").and_then(Json::as_str) {
        None | Some("provisioning") => Dialect::Provisioning,
        Some("connect") => Dialect::Connect,
        Some(other) => {
            return fail(format!(
                "dialect must be provisioning or connect, not {other:?}"
            ));
        }
    };
    let Some(source) = case.get("expression").and_then(Json::as_str) else {
        return fail("the case has no expression".into());
    };
    let attributes = match attributes_from_json(case.get("attributes").unwrap_or(&json!({}))) {
        Ok(attributes) => attributes,
        Err(message) => return fail(message),
    };
    let context = match defaults
        .clone()
        .with_json(case.get("context").unwrap_or(&Json::Null))
    {
        Ok(context) => context,
        Err(message) => return fail(message),
    };
    let expression = match Expression::parse(source, dialect) {
        Ok(expression) => expression,
        Err(diagnostic) => {
            let (line, column) = diagnostic.line_column(source);
            let help = diagnostic
                .help
                .map(|h| format!(" (help: {h})"))
                .unwrap_or_default();
            return fail(format!(
                "{} at line {line}, column {column}{help}",
                diagnostic.message
            ));
        }
    };
    match expression.evaluate(&attributes, &context.eval_context()) {
        Ok(outcome) => outcome_to_json(&id, &outcome),
        Err(error) => fail(error.message),
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(USAGE_ERROR)
}
