//! Tests on values (the "Evaluation" family of the Connect reference) and Not.

use model::Value;

use super::{Dialects, Example, Family, Function, Imp, boolean, integer_arg};
use crate::eval::Ev;
use crate::functions::convert::parse_guid;
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

fn verdict<'a>(b: bool) -> Result<Ev<'a>, String> {
    Ok(Ev::owned(Value::Boolean(b)))
}

pub(crate) static IS_NULL: Function = Function {
    name: "IsNull",
    dialects: Dialects::Both,
    family: Family::Evaluation,
    signature: "IsNull(Expression)",
    summary: "True when the expression has no value (for an attribute: the attribute is absent). An empty string is not null.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"IsNull([displayName])"#,
        r#"{"displayName": null}"#,
        r#""True""#,
    ),
    imp: Imp::Whole(|_, args| verdict(matches!(args[0], Ev::Null))),
};

pub(crate) static IS_NULL_OR_EMPTY: Function = Function {
    name: "IsNullOrEmpty",
    dialects: Dialects::Both,
    family: Family::Evaluation,
    signature: "IsNullOrEmpty(Expression)",
    summary: "True when the expression is absent or an empty string. The inverse of IsPresent.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"IsNullOrEmpty([displayName])"#,
        r#"{"displayName": ""}"#,
        r#""True""#,
    ),
    imp: Imp::Whole(|_, args| verdict(args[0].is_null_or_empty())),
};

pub(crate) static IS_PRESENT: Function = Function {
    name: "IsPresent",
    dialects: Dialects::Both,
    family: Family::Evaluation,
    signature: "IsPresent(Expression)",
    summary: "True when the expression has a value that is not an empty string.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"IsPresent([directManager])"#,
        r#"{"directManager": null}"#,
        r#""False""#,
    ),
    imp: Imp::Whole(|_, args| verdict(!args[0].is_null_or_empty())),
};

pub(crate) static IS_EMPTY: Function = Function {
    name: "IsEmpty",
    dialects: Dialects::Connect,
    family: Family::Evaluation,
    signature: "IsEmpty(var)",
    summary: "True when the attribute is present but empty.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"IsEmpty([displayName])"#,
        r#"{"displayName": ""}"#,
        r#""True""#,
    ),
    imp: Imp::Whole(|_, args| verdict(!matches!(args[0], Ev::Null) && args[0].is_null_or_empty())),
};

pub(crate) static IS_STRING: Function = Function {
    name: "IsString",
    dialects: Dialects::Both,
    family: Family::Evaluation,
    signature: "IsString(Expression)",
    summary: "True when the expression can be read as a string (it has a value).",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"IsString([displayName])"#,
        r#"{"displayName": "John"}"#,
        r#""True""#,
    ),
    imp: Imp::Whole(|_, args| verdict(!matches!(args[0], Ev::Null))),
};

pub(crate) static IS_DATE: Function = Function {
    name: "IsDate",
    dialects: Dialects::Connect,
    family: Family::Evaluation,
    signature: "IsDate(Expression)",
    summary: "True when the value is a date or text CDate can read.",
    min_args: 1,
    max_args: Some(1),
    example: example(r#"IsDate("2021-08-24")"#, "{}", r#""True""#),
    imp: Imp::PerValue(|_, args| Ok(boolean(args[0].is_some_and(|v| value::date(v).is_some())))),
};

pub(crate) static IS_GUID: Function = Function {
    name: "IsGuid",
    dialects: Dialects::Connect,
    family: Family::Evaluation,
    signature: "IsGuid(Expression)",
    summary: "True when the text is a GUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, with or without braces).",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"IsGuid([strAttribute])"#,
        r#"{"strAttribute": "00001111-aaaa-2222-bbbb-3333cccc4444"}"#,
        r#""True""#,
    ),
    imp: Imp::PerValue(|_, args| {
        Ok(boolean(
            args[0].is_some_and(|v| parse_guid(&value::text(v)).is_some()),
        ))
    }),
};

pub(crate) static IS_NUMERIC: Function = Function {
    name: "IsNumeric",
    dialects: Dialects::Connect,
    family: Family::Evaluation,
    signature: "IsNumeric(Expression)",
    summary: "True when the value is a number or text that reads as one.",
    min_args: 1,
    max_args: Some(1),
    example: example(r#"IsNumeric("42.5")"#, "{}", r#""True""#),
    imp: Imp::PerValue(|_, args| Ok(boolean(args[0].is_some_and(|v| value::number(v).is_some())))),
};

pub(crate) static IS_BIT_SET: Function = Function {
    name: "IsBitSet",
    dialects: Dialects::Connect,
    family: Family::Evaluation,
    signature: "IsBitSet(value, flag)",
    summary: "True when any bit of the mask `flag` is set in `value` (`IsBitSet(&HF, 4)` is True).",
    min_args: 2,
    max_args: Some(2),
    example: example(r#"IsBitSet(&HF, 4)"#, "{}", r#""True""#),
    imp: Imp::PerValue(|_, args| {
        let value = integer_arg(args[0], "value")?;
        let flag = integer_arg(args[1], "flag")?;
        Ok(boolean(value & flag != 0))
    }),
};

pub(crate) static NOT: Function = Function {
    name: "Not",
    dialects: Dialects::Provisioning,
    family: Family::Evaluation,
    signature: "Not(source)",
    summary: "False when `source` is True (`\"True\"` in any case); True otherwise.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"Not([IsSoftDeleted])"#,
        r#"{"IsSoftDeleted": "False"}"#,
        r#""True""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let is_true = args[0].is_some_and(|v| value::boolean(v) == Some(true));
        Ok(boolean(!is_true))
    }),
};
