//! Functions over multi-valued attributes, and the functions that combine several sources.

use std::borrow::Cow;

use model::Value;

use super::{Dialects, Example, Family, Function, Imp, optional_integer};
use crate::EvalError;
use crate::ast::Call;
use crate::eval::{Env, Ev};
use crate::value;

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

pub(crate) static COALESCE: Function = Function {
    name: "Coalesce",
    dialects: Dialects::Provisioning,
    family: Family::MultiValued,
    signature: "Coalesce(source1, source2, …, defaultValue)",
    summary: "The first argument that has a value (an empty string counts as a value); the last argument serves as the default. Later arguments are not evaluated.",
    min_args: 1,
    max_args: None,
    example: example(
        r#"Coalesce([mail], [userPrincipalName], "nobody@contoso.com")"#,
        r#"{"mail": null, "userPrincipalName": "John.Doe@contoso.com"}"#,
        r#""John.Doe@contoso.com""#,
    ),
    imp: Imp::Lazy(|env, call| {
        for slot in &call.args {
            let value = env.arg(Some(slot))?;
            if !matches!(value, Ev::Null) {
                return Ok(value);
            }
        }
        Ok(Ev::Null)
    }),
};

pub(crate) static CONTAINS: Function = Function {
    name: "Contains",
    dialects: Dialects::Connect,
    family: Family::MultiValued,
    signature: "Contains(attribute, search, Casetype)",
    summary: "The 1-based index of the first value that contains `search` (a reference must equal it), or 0. `Casetype` is `CaseSensitive` (default) or `CaseInsensitive`.",
    min_args: 2,
    max_args: Some(3),
    example: example(
        r#"Contains([proxyAddresses], "SMTP:")"#,
        r#"{"proxyAddresses": ["smtp:jd@contoso.com", "SMTP:john.doe@contoso.com"]}"#,
        "2",
    ),
    imp: Imp::Whole(|_, args| {
        let search = args[1].first().map(value::text).unwrap_or_default();
        let case = args
            .get(2)
            .and_then(Ev::first)
            .map(value::text)
            .unwrap_or_default();
        let ignore_case = match case.to_ascii_lowercase().as_str() {
            "" | "casesensitive" => false,
            "caseinsensitive" => true,
            other => {
                return Err(format!(
                    "Casetype must be CaseSensitive or CaseInsensitive, got {other:?}"
                ));
            }
        };
        let position = args[0].iter().position(|v| {
            let text = value::text(v);
            match v {
                Value::Reference(_) if ignore_case => text.eq_ignore_ascii_case(&search),
                Value::Reference(_) => text == search,
                _ if ignore_case => text.to_lowercase().contains(&search.to_lowercase()),
                _ => text.contains(search.as_ref()),
            }
        });
        Ok(Ev::owned(Value::Integer(
            position.map_or(0, |p| p as i64 + 1),
        )))
    }),
};

pub(crate) static COUNT: Function = Function {
    name: "Count",
    dialects: Dialects::Both,
    family: Family::MultiValued,
    signature: "Count(attribute)",
    summary: "The number of values; 0 for an absent attribute.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"Count([proxyAddresses])"#,
        r#"{"proxyAddresses": ["SMTP:a@contoso.com", "smtp:b@contoso.com"]}"#,
        "2",
    ),
    imp: Imp::Whole(|_, args| Ok(Ev::owned(Value::Integer(args[0].len() as i64)))),
};

fn item<'a>(args: Vec<Ev<'a>>, or_null: bool) -> Result<Ev<'a>, String> {
    let mut args = args.into_iter();
    let values = args.next().unwrap_or(Ev::Null).into_items();
    let index = args.next().unwrap_or(Ev::Null);
    let index =
        optional_integer(index.first(), "index")?.ok_or_else(|| "index is missing".to_owned())?;
    let found = usize::try_from(index)
        .ok()
        .filter(|&i| i >= 1)
        .and_then(|i| values.into_iter().nth(i - 1));
    match found {
        Some(value) => Ok(Ev::One(value)),
        None if or_null => Ok(Ev::Null),
        None => Err(format!(
            "there is no value number {index} (values are numbered from 1)"
        )),
    }
}

pub(crate) static ITEM: Function = Function {
    name: "Item",
    dialects: Dialects::Both,
    family: Family::MultiValued,
    signature: "Item(attribute, index)",
    summary: "The value at the 1-based `index`; an error when there is none (see ItemOrNull).",
    min_args: 2,
    max_args: Some(2),
    example: example(
        r#"Item([proxyAddresses], 1)"#,
        r#"{"proxyAddresses": ["SMTP:john@contoso.com", "smtp:jd@contoso.com"]}"#,
        r#""SMTP:john@contoso.com""#,
    ),
    imp: Imp::Whole(|_, args| item(args, false)),
};

pub(crate) static ITEM_OR_NULL: Function = Function {
    name: "ItemOrNull",
    dialects: Dialects::Connect,
    family: Family::MultiValued,
    signature: "ItemOrNull(attribute, index)",
    summary: "The value at the 1-based `index`, or no value when there is none.",
    min_args: 2,
    max_args: Some(2),
    example: example(
        r#"ItemOrNull([proxyAddresses], 3)"#,
        r#"{"proxyAddresses": ["SMTP:john@contoso.com"]}"#,
        "null",
    ),
    imp: Imp::Whole(|_, args| item(args, true)),
};

pub(crate) static JOIN_PROVISIONING: Function = Function {
    name: "Join",
    dialects: Dialects::Provisioning,
    family: Family::MultiValued,
    signature: "Join(separator, source1, source2, …)",
    summary: "Joins the values of the sources with `separator` (which may be `\"\"`). A multi-valued source contributes every value; absent sources and empty values are skipped.",
    min_args: 2,
    max_args: None,
    example: example(
        r#"Join(", ", "", [surname], [givenName])"#,
        r#"{"surname": "Doe", "givenName": "John"}"#,
        r#""Doe, John""#,
    ),
    imp: Imp::Lazy(join_provisioning),
};

fn join_provisioning<'a>(env: &Env<'a>, call: &'a Call) -> Result<Ev<'a>, EvalError> {
    let separator = env.arg(call.args.first())?;
    if matches!(separator, Ev::Ignored) {
        return Ok(Ev::Ignored);
    }
    let separator = separator.first().map(value::text).unwrap_or_default();
    // Most joins build a name or an address: one allocation covers them.
    let mut out = String::with_capacity(48);
    let mut first = true;
    for slot in &call.args[1..] {
        let source = env.arg(Some(slot))?;
        if matches!(source, Ev::Ignored) {
            return Ok(Ev::Ignored);
        }
        for v in source.iter() {
            let text = value::text(v);
            if text.is_empty() {
                continue;
            }
            if !first {
                out.push_str(&separator);
            }
            out.push_str(&text);
            first = false;
        }
    }
    Ok(Ev::owned(Value::String(out)))
}

pub(crate) static JOIN_CONNECT: Function = Function {
    name: "Join",
    dialects: Dialects::Connect,
    family: Family::MultiValued,
    signature: "Join(attribute, Delimiter)",
    summary: "Joins the values of a multi-valued attribute with `Delimiter` (default a space; `\"\"` for none).",
    min_args: 1,
    max_args: Some(2),
    example: example(
        r#"Join([proxyAddresses], ",")"#,
        r#"{"proxyAddresses": ["SMTP:john.doe@contoso.com", "smtp:jd@contoso.com"]}"#,
        r#""SMTP:john.doe@contoso.com,smtp:jd@contoso.com""#,
    ),
    imp: Imp::Whole(|_, args| {
        if matches!(args[0], Ev::Null) {
            return Ok(Ev::Null);
        }
        let delimiter = match args.get(1) {
            None => Cow::Borrowed(" "),
            Some(d) => d.first().map(value::text).unwrap_or_default(),
        };
        let texts: Vec<Cow<'_, str>> = args[0].iter().map(value::text).collect();
        Ok(Ev::text(texts.join(&delimiter)))
    }),
};

pub(crate) static REMOVE_DUPLICATES: Function = Function {
    name: "RemoveDuplicates",
    dialects: Dialects::Both,
    family: Family::MultiValued,
    signature: "RemoveDuplicates(attribute)",
    summary: "The values with repeats removed, in the order of first occurrence (values compare exactly).",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"RemoveDuplicates([proxyAddresses])"#,
        r#"{"proxyAddresses": ["smtp:a@contoso.com", "SMTP:b@contoso.com", "smtp:a@contoso.com"]}"#,
        r#"["smtp:a@contoso.com", "SMTP:b@contoso.com"]"#,
    ),
    imp: Imp::Whole(|_, args| {
        let input = args.into_iter().next().unwrap_or(Ev::Null);
        if matches!(input, Ev::Null) {
            return Ok(Ev::Null);
        }
        let mut kept: Vec<Cow<'_, Value>> = Vec::new();
        for v in input.into_items() {
            if !kept.iter().any(|k| **k == *v) {
                kept.push(v);
            }
        }
        Ok(Ev::Many(kept))
    }),
};

pub(crate) static SPLIT: Function = Function {
    name: "Split",
    dialects: Dialects::Both,
    family: Family::MultiValued,
    signature: "Split(source, delimiter, limit)",
    summary: "Splits text at every `delimiter` into a multi-valued result (pieces are not trimmed). The optional `limit` (Connect) caps the number of pieces; the last piece keeps the rest.",
    min_args: 2,
    max_args: Some(3),
    example: example(
        r#"Split([extensionAttribute5], ",")"#,
        r#"{"extensionAttribute5": "PermissionSetOne,PermissionSetTwo"}"#,
        r#"["PermissionSetOne", "PermissionSetTwo"]"#,
    ),
    imp: Imp::Whole(|_, args| {
        if matches!(args[0], Ev::Null) {
            return Ok(Ev::Null);
        }
        let delimiter = args[1].first().map(value::text).unwrap_or_default();
        let limit = optional_integer(args.get(2).and_then(Ev::first), "limit")?;
        if limit.is_some_and(|l| l < 1) {
            return Err("limit must be 1 or more".into());
        }
        let mut pieces = Vec::new();
        for v in args[0].iter() {
            let text = value::text(v);
            if delimiter.is_empty() {
                pieces.push(Value::String(text.into_owned()));
                continue;
            }
            match limit {
                Some(limit) => pieces.extend(
                    text.splitn(limit as usize, delimiter.as_ref())
                        .map(Value::string),
                ),
                None => pieces.extend(text.split(delimiter.as_ref()).map(Value::string)),
            }
        }
        Ok(Ev::from_values(pieces))
    }),
};
