//! Replace: the seven-slot app-provisioning form (literal, template and .NET regular
//! expression modes, chosen by which slots are filled) and Connect's three-argument form.

use std::borrow::Cow;

use model::Value;

use super::{Dialects, Example, Family, Function, Imp, string, text_or_empty};
use crate::EvalError;
use crate::ast::Call;
use crate::eval::{Env, Ev, lift};
use crate::value;

pub(crate) static REPLACE_PROVISIONING: Function = Function {
    name: "Replace",
    dialects: Dialects::Provisioning,
    family: Family::Text,
    signature: "Replace(source, oldValue, regexPattern, regexGroupName, replacementValue, replacementAttributeName, template)",
    summary: "Replaces text; which slots are filled picks the mode (leave the others empty between commas). \
`oldValue` + `replacementValue`: every `oldValue` in `source` becomes `replacementValue`. \
`oldValue` + `replacementAttributeName`: likewise with that attribute's value. \
`oldValue` + `template`: every `oldValue` in `template` becomes `source`. \
`regexPattern` + `replacementValue`: .NET `Regex.Replace` (substitutions `$1`, `${name}`, `$$`). \
`regexPattern` + `regexGroupName` + `replacementValue`: the named group's text in every match becomes `replacementValue`. \
`regexPattern` + `regexGroupName` + `replacementAttributeName`: `source` if it has a value, otherwise the named group matched in the attribute's value. \
Matching is case-sensitive.",
    min_args: 2,
    max_args: Some(7),
    example: example(
        r#"Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", , "${phoneNumber}", , )"#,
        r#"{"telephoneNumber": "+91 9998887777"}"#,
        r#""9998887777""#,
    ),
    imp: Imp::Lazy(replace_provisioning),
};

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

const SOURCE: usize = 0;
const OLD_VALUE: usize = 1;
const PATTERN: usize = 2;
const GROUP: usize = 3;
const REPLACEMENT: usize = 4;
const REPLACEMENT_ATTRIBUTE: usize = 5;
const TEMPLATE: usize = 6;

fn replace_provisioning<'a>(env: &Env<'a>, call: &'a Call) -> Result<Ev<'a>, EvalError> {
    let mut args: [Ev<'a>; 7] = std::array::from_fn(|_| Ev::Null);
    let mut provided = [false; 7];
    for (i, slot) in call.args.iter().enumerate().take(7) {
        provided[i] = slot.is_some();
        args[i] = env.arg(Some(slot))?;
        if matches!(args[i], Ev::Ignored) {
            return Ok(Ev::Ignored);
        }
    }
    let fail = |message: String| EvalError::new(format!("Replace: {message}"));
    if provided[PATTERN] {
        let pattern = args[PATTERN]
            .first()
            .map(value::text)
            .unwrap_or_default()
            .into_owned();
        let regex = compiled(call, &pattern).map_err(fail)?;
        return lift(&args, |values| regex_mode(&regex, values, &provided)).map_err(fail);
    }
    if !provided[OLD_VALUE] {
        return Err(fail("give oldValue or regexPattern".into()));
    }
    lift(&args, |values| {
        let old = text_or_empty(values[OLD_VALUE]);
        if provided[TEMPLATE] {
            let Some(source) = values[SOURCE] else {
                return Ok(None);
            };
            return Ok(string(replace_literal(
                &text_or_empty(values[TEMPLATE]),
                &old,
                &value::text(source),
            )));
        }
        let Some(source) = values[SOURCE] else {
            return Ok(None);
        };
        let replacement = if provided[REPLACEMENT] {
            values[REPLACEMENT]
        } else {
            values[REPLACEMENT_ATTRIBUTE]
        };
        Ok(string(replace_literal(
            &value::text(source),
            &old,
            &text_or_empty(replacement),
        )))
    })
    .map_err(fail)
}

/// `str::replace`, except that an empty search text replaces nothing (as .NET refuses it).
fn replace_literal(haystack: &str, old: &str, new: &str) -> String {
    if old.is_empty() {
        haystack.to_owned()
    } else {
        haystack.replace(old, new)
    }
}

fn regex_mode(
    regex: &fancy_regex::Regex,
    values: &[Option<&Value>],
    provided: &[bool; 7],
) -> Result<Option<Value>, String> {
    let group = values[GROUP].map(value::text).filter(|g| !g.is_empty());
    match group {
        Some(group) if !provided[REPLACEMENT] && provided[REPLACEMENT_ATTRIBUTE] => {
            // Documented since 2023: a source with a value wins; otherwise the group is
            // extracted from the other attribute.
            if let Some(source) = values[SOURCE].filter(|v| !value::is_empty(v)) {
                return Ok(Some(source.clone()));
            }
            let Some(other) = values[REPLACEMENT_ATTRIBUTE] else {
                return Ok(None);
            };
            let other = value::text(other);
            let captures = regex.captures(&other).map_err(|e| e.to_string())?;
            Ok(captures.and_then(|c| c.name(&group).map(|m| Value::String(m.as_str().to_owned()))))
        }
        Some(group) => {
            let Some(source) = values[SOURCE] else {
                return Ok(None);
            };
            let source = value::text(source);
            let replacement = text_or_empty(values[REPLACEMENT]);
            let mut out = String::new();
            let mut last = 0;
            for captures in regex.captures_iter(&source) {
                let captures = captures.map_err(|e| e.to_string())?;
                if let Some(m) = captures.name(&group) {
                    out.push_str(&source[last..m.start()]);
                    out.push_str(&replacement);
                    last = m.end();
                }
            }
            out.push_str(&source[last..]);
            Ok(string(out))
        }
        None => {
            let Some(source) = values[SOURCE] else {
                return Ok(None);
            };
            let source = value::text(source);
            let replacement = text_or_empty(values[REPLACEMENT]);
            let mut out = String::new();
            let mut last = 0;
            for captures in regex.captures_iter(&source) {
                let captures = captures.map_err(|e| e.to_string())?;
                let whole = captures.get(0).expect("group 0 is the match");
                out.push_str(&source[last..whole.start()]);
                expand(&replacement, &captures, &source, &mut out);
                last = whole.end();
            }
            out.push_str(&source[last..]);
            Ok(string(out))
        }
    }
}

/// Expands a .NET replacement pattern: `$1`, `${name}`, `$$`, `$&`, `` $` ``, `$'`, `$_`.
fn expand(replacement: &str, captures: &fancy_regex::Captures<'_>, input: &str, out: &mut String) {
    let whole = captures.get(0).expect("group 0 is the match");
    let mut rest = replacement;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let (consumed, text): (usize, Option<&str>) = if let Some(tail) = after.strip_prefix('{') {
            match tail.find('}') {
                Some(close) => {
                    let name = &tail[..close];
                    let group = name
                        .parse::<usize>()
                        .ok()
                        .map_or_else(|| captures.name(name), |i| captures.get(i));
                    (close + 2, Some(group.map_or("", |m| m.as_str())))
                }
                None => (0, None),
            }
        } else if after.starts_with('$') {
            (1, Some("$"))
        } else if after.starts_with('&') {
            (1, Some(whole.as_str()))
        } else if after.starts_with('`') {
            (1, Some(&input[..whole.start()]))
        } else if after.starts_with('\'') {
            (1, Some(&input[whole.end()..]))
        } else if after.starts_with('_') {
            (1, Some(input))
        } else {
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            match after[..digits].parse::<usize>() {
                Ok(index) if index < captures.len() => {
                    (digits, Some(captures.get(index).map_or("", |m| m.as_str())))
                }
                _ => (0, None),
            }
        };
        match text {
            Some(text) => {
                out.push_str(text);
                rest = &after[consumed..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

/// The compiled pattern, from the call's cache when the pattern is the one compiled before
/// (it almost always is: patterns are constants). The cached regex is borrowed, not cloned:
/// a clone would start with an empty matching cache and rebuild its automaton every call.
fn compiled<'c>(call: &'c Call, pattern: &str) -> Result<Cow<'c, fancy_regex::Regex>, String> {
    if let Some(Some((cached_pattern, regex))) = call.regex_cache.get() {
        if cached_pattern == pattern {
            return Ok(Cow::Borrowed(regex));
        }
        return compile_dotnet(pattern).map(Cow::Owned);
    }
    let regex = compile_dotnet(pattern)?;
    let _ = call.regex_cache.set(Some((pattern.to_owned(), regex)));
    match call.regex_cache.get() {
        Some(Some((_, regex))) => Ok(Cow::Borrowed(regex)),
        _ => compile_dotnet(pattern).map(Cow::Owned),
    }
}

pub(crate) fn compile_dotnet(pattern: &str) -> Result<fancy_regex::Regex, String> {
    fancy_regex::RegexBuilder::new(pattern)
        .backtrack_limit(1_000_000)
        .build()
        .map_err(|e| format!("regexPattern {pattern:?} is not a valid regular expression: {e}"))
}

pub(crate) static REPLACE_CONNECT: Function = Function {
    name: "Replace",
    dialects: Dialects::Connect,
    family: Family::Text,
    signature: "Replace(string, OldValue, NewValue)",
    summary: "Replaces every `OldValue` with `NewValue` (literal, case-sensitive). The monikers `\\n`, `\\r` and `\\t` in either argument stand for a line feed, carriage return and tab.",
    min_args: 3,
    max_args: Some(3),
    example: example(
        r#"Replace([address], "\r\n", ", ")"#,
        r#"{"address": "One Microsoft Way\r\nRedmond, WA\r\nUSA"}"#,
        r#""One Microsoft Way, Redmond, WA, USA""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let Some(source) = args[0] else {
            return Ok(None);
        };
        let old = monikers(&text_or_empty(args[1]));
        let new = monikers(&text_or_empty(args[2]));
        Ok(string(replace_literal(&value::text(source), &old, &new)))
    }),
};

fn monikers(text: &str) -> String {
    text.replace("\\n", "\n")
        .replace("\\r", "\r")
        .replace("\\t", "\t")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotnet_substitutions_expand() {
        let regex = compile_dotnet(r"(?<first>\w+) (\w+)").unwrap();
        let captures = regex.captures("John Doe").unwrap().unwrap();
        let mut out = String::new();
        expand("$2, ${first} $$ $&", &captures, "John Doe", &mut out);
        assert_eq!(out, "Doe, John $ John Doe");
    }
}
