//! Text functions of both dialects.

use model::Value;

use super::{
    Dialects, Example, Family, Function, Imp, integer_arg, optional_integer, string, text_or_empty,
};
use crate::eval::Env;
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

pub(crate) static APPEND: Function = Function {
    name: "Append",
    dialects: Dialects::Provisioning,
    family: Family::Text,
    signature: "Append(source, suffix)",
    summary: "Appends `suffix` to the end of `source`. An absent source gives no value.",
    min_args: 2,
    max_args: Some(2),
    example: example(
        r#"Append([userPrincipalName], ".test")"#,
        r#"{"userPrincipalName": "John.Doe@contoso.com"}"#,
        r#""John.Doe@contoso.com.test""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let Some(source) = args[0] else {
            return Ok(None);
        };
        let mut out = value::text(source).into_owned();
        out.push_str(&text_or_empty(args[1]));
        Ok(string(out))
    }),
};

pub(crate) static GUID: Function = Function {
    name: "Guid",
    dialects: Dialects::Both,
    family: Family::Text,
    signature: "Guid()",
    summary: "A new random GUID in the form `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`. Randomness comes from the evaluation's seed, so tests are reproducible.",
    min_args: 0,
    max_args: Some(0),
    example: example("Len(Guid())", "{}", "36"),
    imp: Imp::PerValue(|env, _| Ok(string(new_guid(env)))),
};

pub(crate) fn new_guid(env: &Env<'_>) -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&env.random().to_le_bytes());
    bytes[8..].copy_from_slice(&env.random().to_le_bytes());
    bytes[6] = (bytes[6] & 0x0F) | 0x40;
    bytes[8] = (bytes[8] & 0x3F) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Whether the comparison argument asks for case-insensitive matching.
fn text_compare(arg: Option<&Value>) -> Result<bool, String> {
    match arg.map(value::text).as_deref() {
        None | Some("") => Ok(false),
        Some(t) if t.eq_ignore_ascii_case("vbTextCompare") || t == "1" => Ok(true),
        Some(t) if t.eq_ignore_ascii_case("vbBinaryCompare") || t == "0" => Ok(false),
        Some(other) => Err(format!(
            "compare must be vbTextCompare or vbBinaryCompare, got {other:?}"
        )),
    }
}

/// Character positions are counted in chars; `haystack[i..]` needs byte offsets.
fn char_to_byte(s: &str, chars: usize) -> Option<usize> {
    if chars == 0 {
        return Some(0);
    }
    s.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()))
        .nth(chars)
}

fn byte_to_char(s: &str, byte: usize) -> usize {
    s[..byte].chars().count()
}

pub(crate) static IN_STR: Function = Function {
    name: "InStr",
    dialects: Dialects::Both,
    family: Family::Text,
    signature: "InStr(value1, value2, start, compareType)",
    summary: "The 1-based position of the first `value2` in `value1` at or after `start` (default 1), or 0 when absent. `compareType` is `vbBinaryCompare` (default, case-sensitive) or `vbTextCompare`.",
    min_args: 2,
    max_args: Some(4),
    example: example(r#"InStr("The quick brown fox", "quick")"#, "{}", r#"5"#),
    imp: Imp::PerValue(|_, args| {
        let Some(haystack) = args[0] else {
            return Ok(None);
        };
        let needle = text_or_empty(args[1]);
        let start = optional_integer(args.get(2).copied().flatten(), "start")?.unwrap_or(1);
        if start < 1 {
            return Err(format!("start must be 1 or more, got {start}"));
        }
        let ignore_case = text_compare(args.get(3).copied().flatten())?;
        let (haystack, needle) = fold(&value::text(haystack), &needle, ignore_case);
        let Some(from) = char_to_byte(&haystack, start as usize - 1) else {
            return Ok(Some(Value::Integer(0)));
        };
        let position = haystack[from..]
            .find(needle.as_str())
            .map_or(0, |i| byte_to_char(&haystack, from + i) + 1);
        Ok(Some(Value::Integer(position as i64)))
    }),
};

fn fold(haystack: &str, needle: &str, ignore_case: bool) -> (String, String) {
    if ignore_case {
        (haystack.to_lowercase(), needle.to_lowercase())
    } else {
        (haystack.to_owned(), needle.to_owned())
    }
}

pub(crate) static IN_STR_REV: Function = Function {
    name: "InStrRev",
    dialects: Dialects::Connect,
    family: Family::Text,
    signature: "InStrRev(stringcheck, stringmatch, start, compare)",
    summary: "The 1-based position of the last `stringmatch` in `stringcheck` that ends at or before `start` (default: the end), or 0.",
    min_args: 2,
    max_args: Some(4),
    example: example(r#"InStrRev("abbcdbbbef", "bb")"#, "{}", "7"),
    imp: Imp::PerValue(|_, args| {
        let Some(haystack) = args[0] else {
            return Ok(None);
        };
        let needle = text_or_empty(args[1]);
        let ignore_case = text_compare(args.get(3).copied().flatten())?;
        let (haystack, needle) = fold(&value::text(haystack), &needle, ignore_case);
        let end = match optional_integer(args.get(2).copied().flatten(), "start")? {
            None | Some(-1) => haystack.len(),
            Some(start) if start < 1 => {
                return Err(format!("start must be 1 or more, got {start}"));
            }
            Some(start) => char_to_byte(&haystack, start as usize).unwrap_or(haystack.len()),
        };
        let position = haystack[..end]
            .rfind(needle.as_str())
            .map_or(0, |i| byte_to_char(&haystack, i) + 1);
        Ok(Some(Value::Integer(position as i64)))
    }),
};

fn per_value_text(
    args: &[Option<&Value>],
    f: impl Fn(&str) -> String,
) -> Result<Option<Value>, String> {
    Ok(args[0].map(|v| Value::String(f(&value::text(v)))))
}

pub(crate) static LCASE: Function = Function {
    name: "LCase",
    dialects: Dialects::Connect,
    family: Family::Text,
    signature: "LCase(string)",
    summary: "Converts all characters to lower case.",
    min_args: 1,
    max_args: Some(1),
    example: example(r#"LCase("TeSt")"#, "{}", r#""test""#),
    imp: Imp::PerValue(|_, args| per_value_text(args, lower)),
};

pub(crate) static UCASE: Function = Function {
    name: "UCase",
    dialects: Dialects::Connect,
    family: Family::Text,
    signature: "UCase(string)",
    summary: "Converts all characters to upper case.",
    min_args: 1,
    max_args: Some(1),
    example: example(r#"UCase("TeSt")"#, "{}", r#""TEST""#),
    imp: Imp::PerValue(|_, args| per_value_text(args, upper)),
};

pub(crate) static TO_LOWER: Function = Function {
    name: "ToLower",
    dialects: Dialects::Provisioning,
    family: Family::Text,
    signature: "ToLower(source, culture)",
    summary: "Converts `source` to lower case. `culture` (an RFC 4646 name such as `en-US`) is accepted; case mapping is the invariant one, except Turkish and Azeri dotted/dotless i.",
    min_args: 1,
    max_args: Some(2),
    example: example(
        r#"ToLower([mail])"#,
        r#"{"mail": "John.Doe@Contoso.com"}"#,
        r#""john.doe@contoso.com""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let turkic = is_turkic(args.get(1).copied().flatten());
        per_value_text(args, |s| {
            if turkic {
                lower(&s.replace('I', "ı").replace('İ', "i"))
            } else {
                lower(s)
            }
        })
    }),
};

pub(crate) static TO_UPPER: Function = Function {
    name: "ToUpper",
    dialects: Dialects::Provisioning,
    family: Family::Text,
    signature: "ToUpper(source, culture)",
    summary: "Converts `source` to upper case; `culture` as for ToLower.",
    min_args: 1,
    max_args: Some(2),
    example: example(r#"ToUpper([country])"#, r#"{"country": "gb"}"#, r#""GB""#),
    imp: Imp::PerValue(|_, args| {
        let turkic = is_turkic(args.get(1).copied().flatten());
        per_value_text(args, |s| {
            if turkic {
                upper(&s.replace('i', "İ").replace('ı', "I"))
            } else {
                upper(s)
            }
        })
    }),
};

/// Upper case the way .NET's ToUpper does: one character for one, so characters whose
/// upper case is longer (`ß`, ligatures) stay as they are and lengths never change.
pub(crate) fn upper(s: &str) -> String {
    s.chars().map(upper_char).collect()
}

fn upper_char(c: char) -> char {
    let mut mapped = c.to_uppercase();
    match (mapped.next(), mapped.next()) {
        (Some(one), None) => one,
        _ => c,
    }
}

/// Lower case one character for one, as .NET does (`İ` becomes `i`).
pub(crate) fn lower(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut mapped = c.to_lowercase();
            match (mapped.next(), mapped.next()) {
                (Some(one), None) => one,
                (Some(first), Some(_)) if c == 'İ' => first,
                _ => c,
            }
        })
        .collect()
}

fn is_turkic(culture: Option<&Value>) -> bool {
    culture.map(value::text).is_some_and(|c| {
        let c = c.to_ascii_lowercase();
        c.starts_with("tr") || c.starts_with("az")
    })
}

pub(crate) static LEFT: Function = Function {
    name: "Left",
    dialects: Dialects::Both,
    family: Family::Text,
    signature: "Left(String, NumChars)",
    summary: "The first `NumChars` characters. `NumChars` 0 gives `\"\"`, a negative count gives the whole string, an absent string gives `\"\"`.",
    min_args: 2,
    max_args: Some(2),
    example: example(r#"Left("John Doe", 3)"#, "{}", r#""Joh""#),
    imp: Imp::PerValue(|_, args| {
        let s = text_or_empty(args[0]);
        let n = integer_arg(args[1], "NumChars")?;
        Ok(string(if n < 0 {
            s.into_owned()
        } else {
            s.chars().take(n as usize).collect()
        }))
    }),
};

pub(crate) static RIGHT: Function = Function {
    name: "Right",
    dialects: Dialects::Connect,
    family: Family::Text,
    signature: "Right(String, NumChars)",
    summary: "The last `NumChars` characters, with the same rules as Left.",
    min_args: 2,
    max_args: Some(2),
    example: example(r#"Right("John Doe", 3)"#, "{}", r#""Doe""#),
    imp: Imp::PerValue(|_, args| {
        let s = text_or_empty(args[0]);
        let n = integer_arg(args[1], "NumChars")?;
        if n < 0 {
            return Ok(string(s.into_owned()));
        }
        let count = s.chars().count();
        Ok(string(
            s.chars()
                .skip(count.saturating_sub(n as usize))
                .collect::<String>(),
        ))
    }),
};

pub(crate) static LEN: Function = Function {
    name: "Len",
    dialects: Dialects::Both,
    family: Family::Text,
    signature: "Len(String)",
    summary: "The number of characters (UTF-16 code units, as .NET counts); an absent value has length 0. Numbers count the characters of their text.",
    min_args: 1,
    max_args: Some(1),
    example: example(r#"Len(42568.75)"#, "{}", "8"),
    imp: Imp::PerValue(|_, args| {
        let length = args[0].map_or(0, |v| value::text(v).encode_utf16().count());
        Ok(Some(Value::Integer(length as i64)))
    }),
};

pub(crate) static LTRIM: Function = Function {
    name: "LTrim",
    dialects: Dialects::Connect,
    family: Family::Text,
    signature: "LTrim(string)",
    summary: "Removes leading white space.",
    min_args: 1,
    max_args: Some(1),
    example: example(r#"LTrim(" Test ")"#, "{}", r#""Test ""#),
    imp: Imp::PerValue(|_, args| per_value_text(args, |s| s.trim_start().to_owned())),
};

pub(crate) static RTRIM: Function = Function {
    name: "RTrim",
    dialects: Dialects::Connect,
    family: Family::Text,
    signature: "RTrim(string)",
    summary: "Removes trailing white space.",
    min_args: 1,
    max_args: Some(1),
    example: example(r#"RTrim(" Test ")"#, "{}", r#"" Test""#),
    imp: Imp::PerValue(|_, args| per_value_text(args, |s| s.trim_end().to_owned())),
};

pub(crate) static TRIM: Function = Function {
    name: "Trim",
    dialects: Dialects::Connect,
    family: Family::Text,
    signature: "Trim(string)",
    summary: "Removes leading and trailing white space; applied to every value of a multi-valued attribute.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"Trim([proxyAddresses])"#,
        r#"{"proxyAddresses": [" smtp:a@contoso.com ", "SMTP:b@contoso.com  "]}"#,
        r#"["smtp:a@contoso.com", "SMTP:b@contoso.com"]"#,
    ),
    imp: Imp::PerValue(|_, args| per_value_text(args, |s| s.trim().to_owned())),
};

pub(crate) static MID: Function = Function {
    name: "Mid",
    dialects: Dialects::Both,
    family: Family::Text,
    signature: "Mid(source, start, length)",
    summary: "`length` characters from the 1-based `start` (to the end when `length` is left out or runs past it). Connect's rules for odd input apply in both dialects: length 0 gives `\"\"`; a negative length, a start of 0 or less, or a start past the end gives the input; an absent source gives `\"\"`.",
    min_args: 2,
    max_args: Some(3),
    example: example(
        r#"Mid([givenName], 1, 3)"#,
        r#"{"givenName": "Johnathan"}"#,
        r#""Joh""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let s = text_or_empty(args[0]);
        let start = integer_arg(args[1], "start")?;
        let length = optional_integer(args.get(2).copied().flatten(), "length")?;
        let count = s.chars().count() as i64;
        if length == Some(0) {
            return Ok(string(""));
        }
        if length.is_some_and(|n| n < 0) || start <= 0 || start > count {
            return Ok(string(s.into_owned()));
        }
        let take = length.unwrap_or(count) as usize;
        Ok(string(
            s.chars()
                .skip(start as usize - 1)
                .take(take)
                .collect::<String>(),
        ))
    }),
};

/// A bound on PadLeft/PadRight, so a mistaken length cannot exhaust memory.
const MAX_PADDED_LENGTH: i64 = 65_536;

fn pad(args: &[Option<&Value>], left: bool) -> Result<Option<Value>, String> {
    let Some(source) = args[0] else {
        return Ok(string(""));
    };
    let source = value::text(source);
    let length = integer_arg(args[1], "length")?;
    let pad = text_or_empty(args[2]);
    let Some(pad_char) = pad.chars().next() else {
        return Err("padCharacter must not be empty".into());
    };
    if length > MAX_PADDED_LENGTH {
        return Err(format!("length {length} is more than {MAX_PADDED_LENGTH}"));
    }
    let missing = (length.max(0) as usize).saturating_sub(source.encode_utf16().count());
    let padding: String = std::iter::repeat_n(pad_char, missing).collect();
    Ok(string(if left {
        padding + &source
    } else {
        source.into_owned() + &padding
    }))
}

pub(crate) static PAD_LEFT: Function = Function {
    name: "PadLeft",
    dialects: Dialects::Connect,
    family: Family::Text,
    signature: "PadLeft(string, length, padCharacter)",
    summary: "Pads on the left with `padCharacter` up to `length` characters. A longer string is returned as is; an absent one gives `\"\"`.",
    min_args: 3,
    max_args: Some(3),
    example: example(r#"PadLeft("User", 10, "0")"#, "{}", r#""000000User""#),
    imp: Imp::PerValue(|_, args| pad(args, true)),
};

pub(crate) static PAD_RIGHT: Function = Function {
    name: "PadRight",
    dialects: Dialects::Connect,
    family: Family::Text,
    signature: "PadRight(string, length, padCharacter)",
    summary: "Pads on the right with `padCharacter` up to `length` characters.",
    min_args: 3,
    max_args: Some(3),
    example: example(r#"PadRight("User", 10, "0")"#, "{}", r#""User000000""#),
    imp: Imp::PerValue(|_, args| pad(args, false)),
};

/// .NET TextInfo.ToTitleCase treats letters, digits and apostrophes as part of a word and
/// anything else as a separator.
fn default_separator(c: char) -> bool {
    !(c.is_alphanumeric() || c == '\'' || c == '\u{2019}')
}

fn title_case(source: &str, is_separator: &dyn Fn(char) -> bool, keep_upper_words: bool) -> String {
    let mut out = String::with_capacity(source.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        let all_upper =
            word.chars().any(char::is_alphabetic) && !word.chars().any(char::is_lowercase);
        if keep_upper_words && all_upper {
            out.push_str(word);
        } else {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                out.push(upper_char(first));
                out.push_str(&lower(chars.as_str()));
            }
        }
        word.clear();
    };
    for c in source.chars() {
        if is_separator(c) {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

pub(crate) static PCASE_PROVISIONING: Function = Function {
    name: "PCase",
    dialects: Dialects::Provisioning,
    family: Family::Text,
    signature: "PCase(source, wordSeparators)",
    summary: "Upper-cases the first character of every word and lower-cases the rest (all-caps words too). Without `wordSeparators`, anything but letters, digits and apostrophes separates words; with it, only its characters do.",
    min_args: 1,
    max_args: Some(2),
    example: example(
        r#"PCase([firstName])"#,
        r#"{"firstName": "PABLO GONSALVES (SECOND)"}"#,
        r#""Pablo Gonsalves (Second)""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let Some(source) = args[0] else {
            return Ok(None);
        };
        let separators: Option<Vec<char>> = args
            .get(1)
            .copied()
            .flatten()
            .map(|v| value::text(v).chars().collect());
        let is_separator = |c: char| match &separators {
            Some(set) => set.contains(&c),
            None => default_separator(c),
        };
        Ok(string(title_case(
            &value::text(source),
            &is_separator,
            false,
        )))
    }),
};

pub(crate) static PCASE_CONNECT: Function = Function {
    name: "PCase",
    dialects: Dialects::Connect,
    family: Family::Text,
    signature: "PCase(string)",
    summary: "Title case as .NET ToTitleCase: the first character of each word upper case, the rest lower case, except that words entirely in upper case are kept (acronyms). Use `PCase(LCase(x))` to convert those too.",
    min_args: 1,
    max_args: Some(1),
    example: example(r#"PCase("TEsT")"#, "{}", r#""Test""#),
    imp: Imp::PerValue(|_, args| per_value_text(args, |s| title_case(s, &default_separator, true))),
};

/// The special characters of the Windows password-complexity rules.
const SPECIAL_CHARACTERS: &str = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/";

pub(crate) static RANDOM_STRING: Function = Function {
    name: "RandomString",
    dialects: Dialects::Provisioning,
    family: Family::Text,
    signature: "RandomString(Length, MinimumNumbers, MinimumSpecialCharacters, MinimumCapital, MinimumLowerCase, CharactersToAvoid)",
    summary: "A random string of `Length` (at most 256) characters with at least the given numbers of digits, special characters, capitals and lower-case letters, none of them from `CharactersToAvoid`. Randomness comes from the evaluation's seed.",
    min_args: 5,
    max_args: Some(6),
    example: example(r#"Len(RandomString(6, 3, 0, 0, 3))"#, "{}", "6"),
    imp: Imp::PerValue(|env, args| {
        let length = integer_arg(args[0], "Length")?;
        let minimums = [
            integer_arg(args[1], "MinimumNumbers")?,
            integer_arg(args[2], "MinimumSpecialCharacters")?,
            integer_arg(args[3], "MinimumCapital")?,
            integer_arg(args[4], "MinimumLowerCase")?,
        ];
        if !(1..=256).contains(&length) {
            return Err(format!("Length must be between 1 and 256, got {length}"));
        }
        if minimums.iter().any(|&m| m < 0) {
            return Err("minimums cannot be negative".into());
        }
        if minimums.iter().sum::<i64>() > length {
            return Err(format!(
                "Length {length} is less than the sum of the minimums"
            ));
        }
        let avoid: Vec<char> = args
            .get(5)
            .copied()
            .flatten()
            .map(|v| value::text(v).chars().collect())
            .unwrap_or_default();
        let classes: Vec<Vec<char>> = [
            "0123456789",
            SPECIAL_CHARACTERS,
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "abcdefghijklmnopqrstuvwxyz",
        ]
        .iter()
        .map(|set| set.chars().filter(|c| !avoid.contains(c)).collect())
        .collect();
        let mut chars = Vec::with_capacity(length as usize);
        for (class, &minimum) in classes.iter().zip(&minimums) {
            if minimum > 0 && class.is_empty() {
                return Err("CharactersToAvoid excludes every character of a required kind".into());
            }
            for _ in 0..minimum {
                chars.push(class[env.random_below(class.len() as u64) as usize]);
            }
        }
        let all: Vec<char> = classes.concat();
        if all.is_empty() {
            return Err("CharactersToAvoid excludes every character".into());
        }
        while chars.len() < length as usize {
            chars.push(all[env.random_below(all.len() as u64) as usize]);
        }
        for i in (1..chars.len()).rev() {
            let j = env.random_below(i as u64 + 1) as usize;
            chars.swap(i, j);
        }
        Ok(string(chars.into_iter().collect::<String>()))
    }),
};

pub(crate) static REDACT: Function = Function {
    name: "Redact",
    dialects: Dialects::Provisioning,
    family: Family::Text,
    signature: "Redact(value)",
    summary: "Flows the value unchanged; run reports and logs show `[Redact]` instead of it.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"Redact("StringToBeRedacted")"#,
        "{}",
        r#""StringToBeRedacted""#,
    ),
    imp: Imp::PerValue(|_, args| Ok(args[0].cloned())),
};

pub(crate) static REPLACE_CHARS: Function = Function {
    name: "ReplaceChars",
    dialects: Dialects::Connect,
    family: Family::Text,
    signature: "ReplaceChars(string, ReplacePattern)",
    summary: "Replaces single characters by the pattern `{source1}:{target1},{source2}:{target2}`: each source is exactly one character (case-sensitive), a target may be empty (remove) or longer. White space in the pattern is ignored.",
    min_args: 2,
    max_args: Some(2),
    example: example(
        r#"ReplaceChars("Räksmörgås", "ä:a,ö:o,å:a")"#,
        "{}",
        r#""Raksmorgas""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let Some(source) = args[0] else {
            return Ok(None);
        };
        let pattern = text_or_empty(args[1]);
        let mut table: Vec<(char, String)> = Vec::new();
        for pair in pattern.split(',') {
            let pair: String = pair.chars().filter(|c| !c.is_whitespace()).collect();
            if pair.is_empty() {
                continue;
            }
            let (from, to) = pair
                .split_once(':')
                .ok_or_else(|| format!("{pair:?} is not source:target"))?;
            let mut from_chars = from.chars();
            let (Some(from), None) = (from_chars.next(), from_chars.next()) else {
                return Err(format!("the source {from:?} must be exactly one character"));
            };
            table.push((from, to.to_owned()));
        }
        let mut out = String::new();
        for c in value::text(source).chars() {
            match table.iter().find(|(from, _)| *from == c) {
                Some((_, to)) => out.push_str(to),
                None => out.push(c),
            }
        }
        Ok(string(out))
    }),
};

pub(crate) static STRIP_SPACES: Function = Function {
    name: "StripSpaces",
    dialects: Dialects::Provisioning,
    family: Family::Text,
    signature: "StripSpaces(source)",
    summary: "Removes every space character (U+0020).",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"StripSpaces([displayName])"#,
        r#"{"displayName": "Mary Ann Smith"}"#,
        r#""MaryAnnSmith""#,
    ),
    imp: Imp::PerValue(|_, args| per_value_text(args, |s| s.replace(' ', ""))),
};

pub(crate) static WORD: Function = Function {
    name: "Word",
    dialects: Dialects::Both,
    family: Family::Text,
    signature: "Word(String, WordNumber, Delimiters)",
    summary: "The `WordNumber`-th (1-based) word, words being separated by any character of `Delimiters`; consecutive delimiters count as one. Gives `\"\"` when the number is below 1, when there are fewer words, or when the string is absent.",
    min_args: 3,
    max_args: Some(3),
    example: example(
        r#"Word("This,string!has&many separators", 3, ",!&#")"#,
        "{}",
        r#""has""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let s = text_or_empty(args[0]);
        let n = integer_arg(args[1], "WordNumber")?;
        let delimiters: Vec<char> = text_or_empty(args[2]).chars().collect();
        if n < 1 {
            return Ok(string(""));
        }
        let word = s
            .split(|c| delimiters.contains(&c))
            .filter(|w| !w.is_empty())
            .nth(n as usize - 1)
            .unwrap_or("");
        Ok(string(word))
    }),
};
