//! Bitwise and random numbers.

use model::Value;

use super::{Dialects, Example, Family, Function, Imp, integer_arg};

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

pub(crate) static BIT_AND: Function = Function {
    name: "BitAnd",
    dialects: Dialects::Both,
    family: Family::Math,
    signature: "BitAnd(value1, value2)",
    summary: "Bitwise AND of two numbers (hex literals such as `&HF` are allowed).",
    min_args: 2,
    max_args: Some(2),
    example: example(r#"BitAnd(&HF, &HF7)"#, "{}", "7"),
    imp: Imp::PerValue(|_, args| {
        Ok(Some(Value::Integer(
            integer_arg(args[0], "value1")? & integer_arg(args[1], "value2")?,
        )))
    }),
};

pub(crate) static BIT_OR: Function = Function {
    name: "BitOr",
    dialects: Dialects::Connect,
    family: Family::Math,
    signature: "BitOr(value1, value2)",
    summary: "Bitwise OR of two numbers.",
    min_args: 2,
    max_args: Some(2),
    example: example(r#"BitOr(&H10, &H2)"#, "{}", "18"),
    imp: Imp::PerValue(|_, args| {
        Ok(Some(Value::Integer(
            integer_arg(args[0], "value1")? | integer_arg(args[1], "value2")?,
        )))
    }),
};

pub(crate) static RANDOM_NUM: Function = Function {
    name: "RandomNum",
    dialects: Dialects::Connect,
    family: Family::Math,
    signature: "RandomNum(start, end)",
    summary: "A random whole number from `start` to `end`, both included. Randomness comes from the evaluation's seed.",
    min_args: 2,
    max_args: Some(2),
    example: example(r#"RandomNum(100, 999) >= 100"#, "{}", r#""True""#),
    imp: Imp::PerValue(|env, args| {
        let start = integer_arg(args[0], "start")?;
        let end = integer_arg(args[1], "end")?;
        if end < start {
            return Err(format!("end {end} is less than start {start}"));
        }
        let span = (end as i128 - start as i128 + 1) as u128;
        let offset = (u128::from(env.random()) % span) as i128;
        Ok(Some(Value::Integer((start as i128 + offset) as i64)))
    }),
};
