//! `docs/expressions.md` is generated from the registry, and every example in it holds.

use expr::json::{CaseContext, values_to_json};
use expr::{Dialect, Dialects, Expression, Outcome, functions};
use serde_json::{Value as Json, json};

const DOC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/expressions.md");

/// The fixed context the documented examples are evaluated in.
fn example_context() -> CaseContext {
    let mut context = CaseContext::new("2021-07-02T15:33:38Z".parse().unwrap());
    context.default_domain = Some("contoso.com".into());
    context.parameters = vec![("Forest.LDAP".into(), "DC=fabrikam,DC=com".into())];
    context
}

fn result_json(result: Result<Outcome, expr::EvalError>) -> Json {
    match result {
        Ok(Outcome::Values(values)) => values_to_json(&values),
        Ok(Outcome::Ignored) => json!({ "ignored": true }),
        Err(e) => json!({ "error": e.message }),
    }
}

#[test]
fn every_documented_example_gives_its_documented_result() {
    let context = example_context();
    let mut failures = Vec::new();
    for dialect in [Dialect::Provisioning, Dialect::Connect] {
        for f in functions(dialect) {
            let example = &f.example;
            let expected: Json = serde_json::from_str(example.result)
                .unwrap_or_else(|e| panic!("{}: result {}: {e}", f.name, example.result));
            let expected = match expected {
                Json::Number(n) => Json::String(n.to_string()),
                other => other,
            };
            let expression = match Expression::parse(example.expression, dialect) {
                Ok(e) => e,
                Err(d) => {
                    failures.push(format!(
                        "{} ({dialect:?}): {}",
                        f.name,
                        d.render(example.expression)
                    ));
                    continue;
                }
            };
            let attributes = example
                .attributes()
                .unwrap_or_else(|e| panic!("{}: {e}", f.name));
            let actual = result_json(expression.evaluate(&attributes, &context.eval_context()));
            if actual != expected {
                failures.push(format!(
                    "{} ({dialect:?}): {} gave {actual}, documented {expected}",
                    f.name, example.expression
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} examples fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_function_is_documented_in_its_dialects() {
    let documented = expr::docs::function_reference();
    for f in expr::functions(Dialect::Provisioning).chain(expr::functions(Dialect::Connect)) {
        let dialects = match f.dialects {
            Dialects::Both => "provisioning, connect",
            Dialects::Provisioning => "provisioning",
            Dialects::Connect => "connect",
        };
        assert!(
            documented.contains(&format!("#### {} ({dialects})", f.name)),
            "{} is missing from the reference",
            f.name
        );
    }
}

/// Set `UPDATE_DOCS=1` to rewrite the generated part of docs/expressions.md.
#[test]
fn the_user_guide_carries_the_current_function_reference() {
    let generated = expr::docs::function_reference();
    let current = std::fs::read_to_string(DOC_PATH).unwrap_or_default();
    let (prose, reference) = match current.find(expr::docs::GENERATED_MARKER) {
        Some(at) => current.split_at(at),
        None => (current.as_str(), ""),
    };
    if reference == generated {
        return;
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(DOC_PATH, format!("{prose}{generated}"))
            .expect("docs/expressions.md is writable");
        return;
    }
    panic!(
        "docs/expressions.md is out of date with the function registry; run `UPDATE_DOCS=1 cargo test -p expr --test it docs`"
    );
}

#[test]
fn counts_per_dialect_match_the_references() {
    // 45 functions of the app-provisioning reference plus AssertiveAppRoleAssignmentsComplex;
    // the 85 of the Connect Sync reference.
    assert_eq!(functions(Dialect::Provisioning).count(), 46);
    assert_eq!(functions(Dialect::Connect).count(), 85);
}
