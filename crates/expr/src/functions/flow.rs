//! Program flow: conditions, switches, loops over values, flow control and the functions
//! that ask the context (DefaultDomain, SelectUniqueValue).

use std::borrow::Cow;

use model::Value;

use super::{Dialects, Example, Family, Function, Imp, string};
use crate::ast::{Call, Node, NodeKind};
use crate::eval::{Env, Ev};
use crate::value;
use crate::{Dialect, EvalError};

const fn example(
    expression: &'static str,
    attributes: &'static str,
    result: &'static str,
) -> Example {
    Example {
        expression,
        attributes,
        result,
    }
}

/// Reads a condition's value as true or false; no value is false.
fn truth(value: Option<&Value>, function: &str) -> Result<bool, EvalError> {
    match value {
        None => Ok(false),
        Some(v) => value::boolean(v).ok_or_else(|| {
            EvalError::new(format!(
                "{function}: the condition must be True or False, got {:?}",
                value::text(v)
            ))
        }),
    }
}

fn required(call: &Call, index: usize) -> Result<&Node, EvalError> {
    call.args
        .get(index)
        .and_then(Option::as_ref)
        .ok_or_else(|| {
            EvalError::new(format!(
                "{}: argument {} is required",
                call.function.name,
                index + 1
            ))
        })
}

pub(crate) static IIF: Function = Function {
    name: "IIF",
    dialects: Dialects::Both,
    family: Family::ProgramFlow,
    signature: "IIF(condition, valueIfTrue, valueIfFalse)",
    summary: "`valueIfTrue` when the condition holds, otherwise `valueIfFalse`; only the branch taken is evaluated. Conditions use `=`, `<>`, `<`, `<=`, `>`, `>=`; for AND and OR nest IIF calls. As in Entra app provisioning, the condition fails (an error) when an attribute it reads is absent or empty: test those with `Switch([a], [a], \"\", \"default\")` or wrap the whole IIF in IgnoreFlowIfNullOrEmpty. In the connect dialect an absent attribute is simply no value, and a multi-valued condition selects per value.",
    min_args: 3,
    max_args: Some(3),
    example: example(
        r#"IIF([country]="USA", [country], [department])"#,
        r#"{"country": "Canada", "department": "Sales"}"#,
        r#""Sales""#,
    ),
    imp: Imp::Lazy(iif),
};

fn iif<'a>(env: &Env<'a>, call: &'a Call) -> Result<Ev<'a>, EvalError> {
    let condition = required(call, 0)?;
    if env.dialect == Dialect::Provisioning {
        reject_missing_condition_attributes(env, condition)?;
    }
    match env.eval(condition)? {
        Ev::Ignored => Ok(Ev::Ignored),
        Ev::Many(conditions) => {
            // Connect applies the expression per value: pick each value's branch.
            let when_true = env.arg(call.args.get(1))?;
            let when_false = env.arg(call.args.get(2))?;
            let mut out = Vec::with_capacity(conditions.len());
            for (row, condition) in conditions.iter().enumerate() {
                let branch = if truth(Some(condition), "IIF")? {
                    &when_true
                } else {
                    &when_false
                };
                let picked = match branch {
                    Ev::Many(values) => values.get(row).cloned(),
                    other => other.first().map(|v| Cow::Owned(v.clone())),
                };
                out.extend(picked);
            }
            Ok(Ev::Many(out))
        }
        single => {
            let index = if truth(single.first(), "IIF")? { 1 } else { 2 };
            env.arg(call.args.get(index))
        }
    }
}

fn reject_missing_condition_attributes(env: &Env<'_>, condition: &Node) -> Result<(), EvalError> {
    let mut missing = None;
    condition.walk(&mut |node| {
        if missing.is_none()
            && let NodeKind::Attribute(name) = &node.kind
        {
            let values = env.input.values(name).unwrap_or_default();
            if values.iter().all(value::is_empty) {
                missing = Some(name.clone());
            }
        }
    });
    match missing {
        None => Ok(()),
        Some(name) => Err(EvalError::new(format!(
            "IIF: the condition reads [{name}], which is absent or empty, and Entra fails such conditions; \
             use Switch([{name}], [{name}], \"\", \"default\") or IgnoreFlowIfNullOrEmpty(IIF(...))"
        ))),
    }
}

pub(crate) static SWITCH_PROVISIONING: Function = Function {
    name: "Switch",
    dialects: Dialects::Provisioning,
    family: Family::ProgramFlow,
    signature: "Switch(source, defaultValue, key1, value1, key2, value2, …)",
    summary: "The value of the first key equal to `source` (case-sensitive text comparison), else `defaultValue` (which may be left empty for no value). An absent source matches the key `\"\"`. Only the chosen value is evaluated.",
    min_args: 4,
    max_args: None,
    example: example(
        r#"Switch([country], "Unknown", "US", "United States", "GB", "United Kingdom")"#,
        r#"{"country": "GB"}"#,
        r#""United Kingdom""#,
    ),
    imp: Imp::Lazy(switch_provisioning),
};

fn switch_provisioning<'a>(env: &Env<'a>, call: &'a Call) -> Result<Ev<'a>, EvalError> {
    let source = env.arg(call.args.first())?;
    let choose = |text: &str| -> Result<Ev<'a>, EvalError> {
        for pair in call.args[2..].chunks(2) {
            let key = env.arg(pair.first())?;
            let key_text = key.first().map(value::text).unwrap_or_default();
            if key_text == text {
                return env.arg(pair.get(1));
            }
        }
        env.arg(call.args.get(1))
    };
    match source {
        Ev::Ignored => Ok(Ev::Ignored),
        Ev::Many(values) => {
            let mut out = Vec::new();
            for v in &values {
                out.extend(choose(&value::text(v))?.into_items());
            }
            Ok(Ev::Many(out))
        }
        single => {
            let text = single.first().map(value::text).unwrap_or_default();
            choose(&text)
        }
    }
}

pub(crate) static SWITCH_CONNECT: Function = Function {
    name: "Switch",
    dialects: Dialects::Connect,
    family: Family::ProgramFlow,
    signature: "Switch(expr1, value1, expr2, value2, …)",
    summary: "Condition/value pairs: the value of the first condition that is True, or no value. Every condition is evaluated (as in VBA); only the chosen value is.",
    min_args: 2,
    max_args: None,
    example: example(
        r#"Switch([city] = "London", "English", [city] = "Paris", "French", True, "Other")"#,
        r#"{"city": "Paris"}"#,
        r#""French""#,
    ),
    imp: Imp::Lazy(|env, call| {
        let mut chosen = None;
        for (index, pair) in call.args.chunks(2).enumerate() {
            let condition = env.arg(pair.first())?;
            if matches!(condition, Ev::Ignored) {
                return Ok(Ev::Ignored);
            }
            if chosen.is_none() && truth(condition.first(), "Switch")? {
                chosen = Some(index);
            }
        }
        match chosen {
            Some(index) => env.arg(call.args.get(index * 2 + 1)),
            None => Ok(Ev::Null),
        }
    }),
};

pub(crate) static IGNORE_FLOW_IF_NULL_OR_EMPTY: Function = Function {
    name: "IgnoreFlowIfNullOrEmpty",
    dialects: Dialects::Provisioning,
    family: Family::ProgramFlow,
    signature: "IgnoreFlowIfNullOrEmpty(expression)",
    summary: "When the expression is absent or empty the flow is dropped for this object: the target attribute keeps what it has, rather than being cleared. Only allowed as the outermost function (wrap the whole IIF or Switch).",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"IgnoreFlowIfNullOrEmpty([department])"#,
        r#"{"department": ""}"#,
        r#"{"ignored": true}"#,
    ),
    imp: Imp::Lazy(|env, call| {
        let inner = env.arg(call.args.first())?;
        Ok(if inner.is_null_or_empty() {
            Ev::Ignored
        } else {
            inner
        })
    }),
};

pub(crate) static SELECT_UNIQUE_VALUE: Function = Function {
    name: "SelectUniqueValue",
    dialects: Dialects::Provisioning,
    family: Family::ProgramFlow,
    signature: "SelectUniqueValue(uniqueValueRule1, uniqueValueRule2, uniqueValueRule3, …)",
    summary: "Evaluates the rules in order and returns the first value the target does not already hold (the engine answers from the target's connector space). An error when every candidate is taken. Only allowed as the outermost function; later rules are evaluated only when needed.",
    min_args: 2,
    max_args: None,
    example: example(
        r#"SelectUniqueValue(Join("@", Join(".", [givenName], [surname]), "contoso.com"), Join("@", Join(".", Mid([givenName], 1, 1), [surname]), "contoso.com"))"#,
        r#"{"givenName": "John", "surname": "Smith"}"#,
        r#""John.Smith@contoso.com""#,
    ),
    imp: Imp::Lazy(|env, call| {
        let mut tried = Vec::new();
        for slot in &call.args {
            let candidate = env.arg(Some(slot))?;
            let Some(text) = candidate.first().map(value::text).filter(|t| !t.is_empty()) else {
                continue;
            };
            if env
                .ctx
                .uniqueness
                .is_none_or(|oracle| oracle.is_unique(&text))
            {
                return Ok(Ev::text(text.into_owned()));
            }
            tried.push(text.into_owned());
        }
        Err(EvalError::new(format!(
            "SelectUniqueValue: every candidate is already taken in the target: {}",
            tried.join(", ")
        )))
    }),
};

pub(crate) static DEFAULT_DOMAIN: Function = Function {
    name: "DefaultDomain",
    dialects: Dialects::Provisioning,
    family: Family::ProgramFlow,
    signature: "DefaultDomain()",
    summary: "The tenant's default verified domain, from the evaluation context; an error when none is configured.",
    min_args: 0,
    max_args: Some(0),
    example: example(
        r#"Join("@", [mailNickname], DefaultDomain())"#,
        r#"{"mailNickname": "jsmith"}"#,
        r#""jsmith@contoso.com""#,
    ),
    imp: Imp::PerValue(|env, _| match env.ctx.default_domain {
        Some(domain) if !domain.is_empty() => Ok(string(domain)),
        _ => Err("no default verified domain is configured for this tenant".into()),
    }),
};

pub(crate) static ERROR: Function = Function {
    name: "Error",
    dialects: Dialects::Connect,
    family: Family::ProgramFlow,
    signature: "Error(ErrorMessage)",
    summary: "Fails the evaluation for this object with `ErrorMessage`, which the run report shows.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"IIF(IsPresent([accountName]), [accountName], Error("AccountName is required"))"#,
        r#"{"accountName": null}"#,
        r#"{"error": "AccountName is required"}"#,
    ),
    imp: Imp::Lazy(|env, call| {
        let message = env.arg(call.args.first())?;
        Err(EvalError::new(
            message
                .first()
                .map(value::text)
                .unwrap_or_default()
                .into_owned(),
        ))
    }),
};

fn variable_name(call: &Call) -> Result<&str, EvalError> {
    match call.args.first() {
        Some(Some(Node {
            kind: NodeKind::Variable(name),
            ..
        })) => Ok(name),
        _ => Err(EvalError::new(format!(
            "{}: the first argument must be a variable such as $item",
            call.function.name
        ))),
    }
}

pub(crate) static SELECT: Function = Function {
    name: "Select",
    dialects: Dialects::Connect,
    family: Family::ProgramFlow,
    signature: "Select($item, attribute, function)",
    summary: "Evaluates `function` for every value of the attribute, bound to the variable, and returns all results.",
    min_args: 3,
    max_args: Some(3),
    example: example(
        r#"Select($item, [otherPhone], Replace($item, "-", ""))"#,
        r#"{"otherPhone": ["425-555-0100", "425-555-0101"]}"#,
        r#"["4255550100", "4255550101"]"#,
    ),
    imp: Imp::Lazy(|env, call| {
        let name = variable_name(call)?;
        let values = env.arg(call.args.get(1))?.into_items();
        let mut out = Vec::with_capacity(values.len());
        for v in values {
            let result = env.with_variable(name, Ev::One(v), || env.arg(call.args.get(2)))?;
            out.extend(result.into_items());
        }
        Ok(Ev::Many(out))
    }),
};

pub(crate) static WHERE: Function = Function {
    name: "Where",
    dialects: Dialects::Connect,
    family: Family::ProgramFlow,
    signature: "Where($item, attribute, condition)",
    summary: "The values of the attribute for which `condition`, with the variable bound to the value, is True.",
    min_args: 3,
    max_args: Some(3),
    example: example(
        r#"Where($item, [otherPhone], Left($item, 3) = "425")"#,
        r#"{"otherPhone": ["425-555-0100", "206-555-0101"]}"#,
        r#""425-555-0100""#,
    ),
    imp: Imp::Lazy(|env, call| {
        let name = variable_name(call)?;
        let values = env.arg(call.args.get(1))?.into_items();
        let mut kept = Vec::new();
        for v in values {
            let condition =
                env.with_variable(name, Ev::One(v.clone()), || env.arg(call.args.get(2)))?;
            if truth(condition.first(), "Where")? {
                kept.push(v);
            }
        }
        Ok(Ev::Many(kept))
    }),
};

pub(crate) static WITH: Function = Function {
    name: "With",
    dialects: Dialects::Connect,
    family: Family::ProgramFlow,
    signature: "With($variable, subExpression, complexExpression)",
    summary: "Evaluates `subExpression` once, binds it to the variable, and evaluates `complexExpression` with it.",
    min_args: 3,
    max_args: Some(3),
    example: example(
        r#"With($name, Trim([displayName]), $name & " (" & Len($name) & ")")"#,
        r#"{"displayName": " Ada "}"#,
        r#""Ada (3)""#,
    ),
    imp: Imp::Lazy(|env, call| {
        let name = variable_name(call)?;
        let bound = env.arg(call.args.get(1))?;
        env.with_variable(name, bound, || env.arg(call.args.get(2)))
    }),
};
