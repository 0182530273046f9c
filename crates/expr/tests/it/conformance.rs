//! The documented input/output pairs from Microsoft's references
//! (`tests/data/documented-cases.jsonl`, copied from the project's research notes), run
//! through one `check(case)`.
//!
//! Where we believe a case is wrong, `tests/data/disputed-cases.json` keeps our reason and
//! the result idsync gives instead; the case itself stays untouched.

use expr::json::{CaseContext, attributes_from_json, date_from_text};
use expr::{Dialect, Expression, Outcome};
use model::Value;
use serde_json::Value as Json;

const CASES: &str = include_str!("../data/documented-cases.jsonl");
const DISPUTED: &str = include_str!("../data/disputed-cases.json");

/// Now() in cases that do not pin it: the doc's sample value.
const DEFAULT_NOW: &str = "2021-07-02T15:33:38Z";

struct Case {
    json: Json,
}

impl Case {
    fn id(&self) -> &str {
        self.json["id"].as_str().unwrap_or("?")
    }
    fn field(&self, name: &str) -> &Json {
        &self.json[name]
    }
    fn str(&self, name: &str) -> &str {
        self.json[name].as_str().unwrap_or("")
    }
}

fn cases() -> Vec<Case> {
    CASES
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Case {
            json: serde_json::from_str(l).expect("case line is JSON"),
        })
        .collect()
}

fn disputed() -> serde_json::Map<String, Json> {
    match serde_json::from_str(DISPUTED).expect("disputed-cases.json is JSON") {
        Json::Object(map) => map,
        _ => panic!("disputed-cases.json must be an object of id → {{reason, expected}}"),
    }
}

/// Runs one case; `Err` says why it failed.
fn check(case: &Case, expected_override: Option<&Json>) -> Result<(), String> {
    let dialect = match case.str("dialect") {
        "connect" => Dialect::Connect,
        _ => Dialect::Provisioning,
    };
    let kind = case.str("check");
    let parsed = Expression::parse(case.str("expression"), dialect);
    let expression = match (parsed, kind) {
        (Err(_), "error") => return Ok(()),
        (Err(d), _) => {
            return Err(format!(
                "does not parse: {}",
                d.render(case.str("expression"))
            ));
        }
        (Ok(_), "parse_only") => return Ok(()),
        (Ok(e), _) => e,
    };
    let attributes = attributes_from_json(case.field("attributes"))?;
    let context =
        CaseContext::new(DEFAULT_NOW.parse().unwrap()).with_json(case.field("context"))?;
    // Random results are checked over several seeds.
    let seeds: Vec<u64> = if kind == "constraints" {
        (0..25).collect()
    } else {
        vec![0]
    };
    for seed in seeds {
        let mut context = context.clone();
        context.seed = seed;
        let outcome = expression.evaluate(&attributes, &context.eval_context());
        match (kind, outcome) {
            ("error", Err(_)) => {}
            ("error", Ok(o)) => return Err(format!("expected an error, got {o:?}")),
            (_, Err(e)) => return Err(format!("evaluation failed: {}", e.message)),
            ("ignored_flow", Ok(Outcome::Ignored)) => {}
            ("ignored_flow", Ok(o)) => {
                return Err(format!("expected the flow to be ignored, got {o:?}"));
            }
            (_, Ok(Outcome::Ignored)) => return Err("the flow was ignored".into()),
            ("value", Ok(Outcome::Values(values))) => {
                let expected = expected_override.unwrap_or(case.field("expected"));
                compare(&values, expected, case.str("expected_type"))?;
            }
            ("constraints", Ok(Outcome::Values(values))) => constraints(case, &values)?,
            (other, _) => return Err(format!("unknown check kind {other:?}")),
        }
    }
    Ok(())
}

fn compare(values: &[Value], expected: &Json, expected_type: &str) -> Result<(), String> {
    let expected: Vec<&str> = match expected {
        Json::Null => Vec::new(),
        Json::String(s) => vec![s.as_str()],
        Json::Array(items) => items
            .iter()
            .map(|v| v.as_str().unwrap_or("<non-text>"))
            .collect(),
        other => return Err(format!("unsupported expected value {other}")),
    };
    let texts: Vec<String> = values.iter().map(expr::json::value_text).collect();
    if texts.len() == expected.len() && texts.iter().zip(&expected).all(|(a, b)| a == b) {
        return Ok(());
    }
    // Connect's references print dates in several informal forms ("2013-01-11 12:00 AM"):
    // a date result matches when it is the same instant.
    if expected_type == "datetime"
        && let ([Value::DateTime(actual)], [text]) = (values, expected.as_slice())
        && date_from_text(text) == Some(*actual)
    {
        return Ok(());
    }
    Err(format!("expected {expected:?}, got {texts:?}"))
}

fn constraints(case: &Case, values: &[Value]) -> Result<(), String> {
    let [value] = values else {
        return Err(format!("expected one value, got {values:?}"));
    };
    let text = expr::json::value_text(value);
    let rules = case.field("constraints");
    match case.str("expected_type") {
        "guid" => {
            let shape: Vec<usize> = text.split('-').map(str::len).collect();
            if shape != [8, 4, 4, 4, 12] || !text.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
            {
                return Err(format!("{text:?} is not a GUID"));
            }
        }
        "datetime"
            if rules.is_null()
                && (!matches!(value, Value::DateTime(_))
                    || !(text.ends_with(" AM") || text.ends_with(" PM"))) =>
        {
            return Err(format!("{text:?} is not a date in M/d/yyyy h:mm:ss tt"));
        }
        _ => {}
    }
    let count = |f: fn(char) -> bool| text.chars().filter(|c| f(*c)).count() as u64;
    let at_least = |key: &str, actual: u64| match rules[key].as_u64() {
        Some(min) if actual < min => Err(format!("{text:?}: {key} {min}, found {actual}")),
        _ => Ok(()),
    };
    if let Some(length) = rules["length"].as_u64()
        && text.chars().count() as u64 != length
    {
        return Err(format!("{text:?} is not {length} characters long"));
    }
    at_least("min_digits", count(|c| c.is_ascii_digit()))?;
    at_least("min_upper", count(|c| c.is_ascii_uppercase()))?;
    at_least("min_lower", count(|c| c.is_ascii_lowercase()))?;
    at_least("min_special", count(|c| !c.is_ascii_alphanumeric()))?;
    if let Some(excluded) = rules["exclude"].as_str()
        && text.chars().any(|c| excluded.contains(c))
    {
        return Err(format!("{text:?} contains an excluded character"));
    }
    if rules["min"].is_number() || rules["max"].is_number() {
        let n: i64 = text
            .parse()
            .map_err(|_| format!("{text:?} is not a whole number"))?;
        if rules["min"].as_i64().is_some_and(|min| n < min)
            || rules["max"].as_i64().is_some_and(|max| n > max)
        {
            return Err(format!(
                "{n} is outside {}..={}",
                rules["min"], rules["max"]
            ));
        }
    }
    Ok(())
}

#[test]
fn every_documented_case_passes() {
    let disputed = disputed();
    let cases = cases();
    assert!(
        cases.len() >= 169,
        "the case file lost lines: {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let override_ = disputed.get(case.id()).map(|d| &d["expected"]);
        if let Err(why) = check(case, override_) {
            failures.push(format!(
                "{}: {why}\n    {}",
                case.id(),
                case.str("expression")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_disputed_case_exists_and_says_why() {
    let ids: Vec<String> = cases().iter().map(|c| c.id().to_owned()).collect();
    for (id, verdict) in disputed() {
        assert!(
            ids.contains(&id),
            "disputed case {id} is not in the case file"
        );
        assert!(
            verdict["reason"].as_str().is_some_and(|r| r.len() > 20),
            "disputed case {id} needs a reason"
        );
        assert!(
            verdict.get("expected").is_some(),
            "disputed case {id} needs the expected result idsync gives"
        );
    }
}
