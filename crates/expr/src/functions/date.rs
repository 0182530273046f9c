//! Date and time functions. The clock is the evaluation context's `now`, never the system's.

use model::{Timestamp, Value};

use super::{Dialects, Example, Family, Function, Imp, integer_arg, string, text_or_empty};
use crate::datetime::{self, Civil};
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

fn date_arg(arg: Option<&Value>, what: &str) -> Result<Option<Timestamp>, String> {
    match arg {
        None => Ok(None),
        Some(v) => value::date(v)
            .map(Some)
            .ok_or_else(|| format!("{what} {:?} is not a date", value::text(v))),
    }
}

pub(crate) static DATE_ADD: Function = Function {
    name: "DateAdd",
    dialects: Dialects::Both,
    family: Family::DateTime,
    signature: "DateAdd(interval, value, dateTime)",
    summary: "Adds `value` (negative to subtract) intervals to a date. Intervals: `yyyy` year, `q` quarter, `m` month, `y` day of year, `d` day, `w` weekday, `ww` week, `h` hour, `n` minute, `s` second. Months are added as .NET AddMonths does (Jan 31 + 1 month = Feb 28).",
    min_args: 3,
    max_args: Some(3),
    example: example(
        r#"DateAdd("d", 7, CDate([StatusHireDate]))"#,
        r#"{"StatusHireDate": "2012-03-16-07:00"}"#,
        r#""3/23/2012 7:00:00 AM""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let interval = text_or_empty(args[0]);
        let amount = integer_arg(args[1], "value")?;
        let Some(date) = date_arg(args[2], "dateTime")? else {
            return Ok(None);
        };
        let result = match interval.as_ref() {
            "yyyy" => amount
                .checked_mul(12)
                .and_then(|m| datetime::add_months(date, m)),
            "q" => amount
                .checked_mul(3)
                .and_then(|m| datetime::add_months(date, m)),
            "m" => datetime::add_months(date, amount),
            "y" | "d" | "w" => amount
                .checked_mul(86_400)
                .and_then(|s| datetime::add_seconds(date, s)),
            "ww" => amount
                .checked_mul(7 * 86_400)
                .and_then(|s| datetime::add_seconds(date, s)),
            "h" => amount
                .checked_mul(3600)
                .and_then(|s| datetime::add_seconds(date, s)),
            "n" => amount
                .checked_mul(60)
                .and_then(|s| datetime::add_seconds(date, s)),
            "s" => datetime::add_seconds(date, amount),
            other => {
                return Err(format!(
                    "interval must be one of yyyy, q, m, y, d, w, ww, h, n, s; got {other:?}"
                ));
            }
        };
        result
            .map(|t| Some(Value::DateTime(t)))
            .ok_or_else(|| "the result is outside the supported dates".into())
    }),
};

pub(crate) static DATE_DIFF: Function = Function {
    name: "DateDiff",
    dialects: Dialects::Provisioning,
    family: Family::DateTime,
    signature: "DateDiff(interval, date1, date2)",
    summary: "`date2 - date1` in whole intervals, as VB.NET's DateDiff counts them: `d`, `y`, `h`, `n`, `s` and `w` truncate the elapsed time; `yyyy`, `q` and `m` count calendar boundaries; `ww` counts Sundays crossed. Positive when date2 is later.",
    min_args: 3,
    max_args: Some(3),
    example: example(
        r#"DateDiff("d", CDate("2021-08-24"), CDate("2021-08-25"))"#,
        "{}",
        "1",
    ),
    imp: Imp::PerValue(|_, args| {
        let interval = text_or_empty(args[0]);
        let (Some(first), Some(second)) =
            (date_arg(args[1], "date1")?, date_arg(args[2], "date2")?)
        else {
            return Ok(None);
        };
        Ok(Some(Value::Integer(date_diff(&interval, first, second)?)))
    }),
};

fn date_diff(interval: &str, first: Timestamp, second: Timestamp) -> Result<i64, String> {
    let elapsed_nanos = second.as_nanosecond() - first.as_nanosecond();
    let whole = |unit_seconds: i128| (elapsed_nanos / (unit_seconds * 1_000_000_000)) as i64;
    let (a, b) = (Civil::from_timestamp(first), Civil::from_timestamp(second));
    Ok(match interval {
        "yyyy" => b.year - a.year,
        "q" => {
            (b.year * 4 + i64::from((b.month - 1) / 3))
                - (a.year * 4 + i64::from((a.month - 1) / 3))
        }
        "m" => (b.year * 12 + i64::from(b.month)) - (a.year * 12 + i64::from(a.month)),
        "y" | "d" => whole(86_400),
        "w" => whole(7 * 86_400),
        "ww" => {
            // Both dates move back to the Sunday of their week, keeping the time of day.
            let a_sunday = first.as_nanosecond() - i128::from(a.weekday()) * 86_400 * 1_000_000_000;
            let b_sunday =
                second.as_nanosecond() - i128::from(b.weekday()) * 86_400 * 1_000_000_000;
            ((b_sunday - a_sunday) / (7 * 86_400 * 1_000_000_000)) as i64
        }
        "h" => whole(3600),
        "n" => whole(60),
        "s" => whole(1),
        other => {
            return Err(format!(
                "interval must be one of yyyy, q, m, y, d, w, ww, h, n, s; got {other:?}"
            ));
        }
    })
}

pub(crate) static DATE_FROM_NUM: Function = Function {
    name: "DateFromNum",
    dialects: Dialects::Both,
    family: Family::DateTime,
    signature: "DateFromNum(value)",
    summary: "Reads an AD date number (FILETIME: 100-nanosecond ticks since 1601-01-01 UTC, as in `lastLogonTimestamp`) as a date.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"DateFromNum([lastLogonTimestamp])"#,
        r#"{"lastLogonTimestamp": "129699324000000000"}"#,
        r#""1/1/2012 11:00:00 PM""#,
    ),
    imp: Imp::PerValue(|_, args| {
        if args[0].is_none() {
            return Ok(None);
        }
        let ticks = integer_arg(args[0], "value")?;
        datetime::from_filetime(ticks)
            .map(|t| Some(Value::DateTime(t)))
            .ok_or_else(|| format!("{ticks} is outside the supported dates"))
    }),
};

pub(crate) static FORMAT_DATE_TIME_PROVISIONING: Function = Function {
    name: "FormatDateTime",
    dialects: Dialects::Provisioning,
    family: Family::DateTime,
    signature: "FormatDateTime(source, dateTimeStyles, inputFormat, outputFormat)",
    summary: "Reads `source` with the .NET custom format `inputFormat` and writes it with `outputFormat`. Leave `dateTimeStyles` empty for the default (RoundtripKind, leading and trailing white space allowed): a parsed offset converts the time to UTC. The older three-argument form `FormatDateTime(source, inputFormat, outputFormat)` is accepted too.",
    min_args: 3,
    max_args: Some(4),
    example: example(
        r#"FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")"#,
        r#"{"extensionAttribute1": "20150123105347.1Z"}"#,
        r#""2015-01-23""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let (source, input_format, output_format) = match args.len() {
            3 => (args[0], args[1], args[2]),
            _ => (args[0], args[2], args[3]),
        };
        let Some(source) = source else {
            return Ok(None);
        };
        let output_format = text_or_empty(output_format);
        let instant = match source {
            Value::DateTime(t) => *t,
            other => {
                let text = value::text(other);
                let input_format = text_or_empty(input_format);
                let parsed = datetime::parse_exact(&text, &input_format).ok_or_else(|| {
                    format!("{text:?} does not match the input format {input_format:?}")
                })?;
                parsed
                    .civil
                    .to_timestamp(parsed.offset_seconds.unwrap_or(0))
                    .ok_or_else(|| format!("{text:?} is outside the supported dates"))?
            }
        };
        Ok(string(datetime::format(instant, 0, &output_format)))
    }),
};

pub(crate) static FORMAT_DATE_TIME_CONNECT: Function = Function {
    name: "FormatDateTime",
    dialects: Dialects::Connect,
    family: Family::DateTime,
    signature: "FormatDateTime(value, format)",
    summary: "Writes a date with a .NET custom format string (`yyyy-MM-dd`), in UTC.",
    min_args: 2,
    max_args: Some(2),
    example: example(
        r#"FormatDateTime(CDate("12/25/2007"), "yyyy-MM-dd")"#,
        "{}",
        r#""2007-12-25""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let Some(date) = date_arg(args[0], "value")? else {
            return Ok(None);
        };
        Ok(string(datetime::format(date, 0, &text_or_empty(args[1]))))
    }),
};

pub(crate) static NOW: Function = Function {
    name: "Now",
    dialects: Dialects::Both,
    family: Family::DateTime,
    signature: "Now()",
    summary: "The current time in UTC, taken from the evaluation context (the run's clock), so a run sees one consistent time.",
    min_args: 0,
    max_args: Some(0),
    example: example("Now()", "{}", r#""7/2/2021 3:33:38 PM""#),
    imp: Imp::PerValue(|env, _| Ok(Some(Value::DateTime(env.ctx.now)))),
};

pub(crate) static NUM_FROM_DATE: Function = Function {
    name: "NumFromDate",
    dialects: Dialects::Both,
    family: Family::DateTime,
    signature: "NumFromDate(value)",
    summary: "Converts a date (or ISO 8601 text) to an AD date number (FILETIME), as `accountExpires` needs.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"NumFromDate("2012-01-01T23:00:00Z")"#,
        "{}",
        "129699324000000000",
    ),
    imp: Imp::PerValue(|_, args| {
        let Some(date) = date_arg(args[0], "value")? else {
            return Ok(None);
        };
        Ok(Some(Value::Integer(datetime::to_filetime(date))))
    }),
};

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(interval: &str, a: &str, b: &str) -> i64 {
        date_diff(
            interval,
            datetime::parse_lenient(a).unwrap(),
            datetime::parse_lenient(b).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn date_diff_counts_like_vb() {
        assert_eq!(diff("ww", "8/25/2021 5:41:18 PM", "2012-03-16-07:00"), -493);
        assert_eq!(diff("m", "8/25/2021 5:41:18 PM", "2012-03-16-07:00"), -113);
        assert_eq!(diff("yyyy", "8/25/2021 5:41:18 PM", "2012-03-16-07:00"), -9);
        assert_eq!(diff("d", "2021-08-24", "2021-08-25"), 1);
    }
}
