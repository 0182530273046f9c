//! The checks run when an expression is parsed: function names (with did-you-mean),
//! argument counts, where the flow-control functions may stand, and bare names.
//! Unknown attributes are checked later against a schema, by [`crate::Expression::check`].

use std::ops::Range;

use crate::ast::{Keyword, Node, NodeKind};
use crate::functions::{self, Dialects, Function};
use crate::lexer::diagnostic;
use crate::{Diagnostic, Dialect};

/// Finds the function `name` of `dialect`. App provisioning matches names in any case (its
/// own docs write `switch(`); Connect documents names as case-sensitive, so a wrong case
/// there is an error that names the right spelling.
pub(crate) fn resolve_function(
    name: &str,
    span: &Range<usize>,
    dialect: Dialect,
) -> Result<&'static Function, Diagnostic> {
    let in_dialect = || functions::functions(dialect);
    if let Some(f) = in_dialect().find(|f| f.name == name) {
        return Ok(f);
    }
    if let Some(f) = in_dialect().find(|f| f.name.eq_ignore_ascii_case(name)) {
        if dialect == Dialect::Provisioning {
            return Ok(f);
        }
        return Err(diagnostic(
            &format!("unknown function `{name}`: connect function names are case-sensitive"),
            span.clone(),
            Some(&format!("write `{}`", f.name)),
        ));
    }
    let other = match dialect {
        Dialect::Provisioning => Dialect::Connect,
        Dialect::Connect => Dialect::Provisioning,
    };
    let help =
        if let Some(f) = functions::functions(other).find(|f| f.name.eq_ignore_ascii_case(name)) {
            Some(format!(
                "{} exists only in the {} dialect",
                f.name,
                dialect_name(other)
            ))
        } else {
            did_you_mean(name, in_dialect().map(|f| f.name)).map(|s| format!("did you mean `{s}`?"))
        };
    Err(Diagnostic {
        message: format!("unknown function `{name}`"),
        span: span.clone(),
        help,
    })
}

pub(crate) fn dialect_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Provisioning => "provisioning",
        Dialect::Connect => "connect",
    }
}

/// Checks the number of arguments, and that required slots are not left empty.
pub(crate) fn arity(
    function: &Function,
    args: &[Option<Node>],
    name_span: &Range<usize>,
    call_span: &Range<usize>,
) -> Result<(), Diagnostic> {
    let count = args.len();
    let expected = match function.max_args {
        Some(max) if max == function.min_args => format!("{max}"),
        Some(max) => format!("{} to {max}", function.min_args),
        None => format!("at least {}", function.min_args),
    };
    let plural = if expected == "1" {
        "argument"
    } else {
        "arguments"
    };
    if count < function.min_args || function.max_args.is_some_and(|max| count > max) {
        return Err(diagnostic(
            &format!(
                "{} takes {expected} {plural}, but {count} {} given",
                function.name,
                if count == 1 { "was" } else { "were" }
            ),
            call_span.clone(),
            Some(&format!("the signature is {}", function.signature)),
        ));
    }
    // Only the Replace, FormatDateTime and Switch/Coalesce slots are optional in the middle;
    // other required arguments must be filled.
    let provisioning = function.dialects == Dialects::Provisioning;
    let optional_slot = |index: usize| match function.name {
        "Replace" if provisioning => index >= 1,
        "FormatDateTime" => index == 1 && count == 4,
        "Switch" if provisioning => index >= 1,
        "Coalesce" | "Join" | "SelectUniqueValue" => true,
        _ => index >= function.min_args,
    };
    for (index, slot) in args.iter().enumerate() {
        if slot.is_none() && !optional_slot(index) {
            return Err(diagnostic(
                &format!(
                    "argument {} of {} is required but left empty",
                    index + 1,
                    function.name
                ),
                name_span.start..call_span.end,
                Some(&format!("the signature is {}", function.signature)),
            ));
        }
    }
    if function.name == "Switch" {
        let paired = if provisioning {
            (count - 2).is_multiple_of(2)
        } else {
            count.is_multiple_of(2)
        };
        if !paired {
            let help = if provisioning {
                "after source and defaultValue, give key/value pairs"
            } else {
                "give condition/value pairs"
            };
            return Err(diagnostic(
                "Switch needs its keys and values in pairs",
                call_span.clone(),
                Some(help),
            ));
        }
    }
    if matches!(function.name, "Select" | "Where" | "With")
        && !matches!(
            args.first(),
            Some(Some(Node {
                kind: NodeKind::Variable(_),
                ..
            }))
        )
    {
        let span = args
            .first()
            .and_then(Option::as_ref)
            .map_or(call_span.clone(), |n| n.span.clone());
        return Err(diagnostic(
            &format!("the first argument of {} must be a variable", function.name),
            span,
            Some("write a name starting with $, as in $item"),
        ));
    }
    Ok(())
}

/// Checks of the whole tree: flow-control functions only at the top, variables bound,
/// constant arguments of the right kind.
pub(crate) fn structure(root: &Node) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    outermost_only(root, true, &mut problems);
    unbound_variables(root, &mut Vec::new(), &mut problems);
    root.walk(&mut |node| {
        if let NodeKind::Call(call) = &node.kind {
            constant_arguments(call, &mut problems);
        }
    });
    problems
}

/// The argument positions that must be whole numbers.
fn integer_positions(name: &str) -> &'static [usize] {
    match name {
        "Left" | "Right" | "Word" | "DateAdd" | "Item" | "ItemOrNull" | "PadLeft" | "PadRight" => {
            &[1]
        }
        "DNComponent" | "DNComponentRev" => &[1],
        "Mid" => &[1, 2],
        "InStr" | "InStrRev" | "Split" => &[2],
        "RandomString" => &[0, 1, 2, 3, 4],
        "BitAnd" | "BitOr" | "IsBitSet" | "RandomNum" => &[0, 1],
        "DateFromNum" => &[0],
        _ => &[],
    }
}

const INTERVALS: &[&str] = &["yyyy", "q", "m", "y", "d", "w", "ww", "h", "n", "s"];

/// Catches constants that can never work, where the mistake is visible before any object is
/// evaluated: `Left([a], "three")`, `DateAdd("day", 1, …)`, `InStr(a, b, 1, vbTextcompar)`.
fn constant_arguments(call: &crate::ast::Call, problems: &mut Vec<Diagnostic>) {
    let constant = |index: usize| match call.args.get(index) {
        Some(Some(Node {
            kind: NodeKind::Constant(value),
            span,
        })) => Some((value, span.clone())),
        _ => None,
    };
    let name = call.function.name;
    for &index in integer_positions(name) {
        if let Some((value, span)) = constant(index)
            && crate::value::integer(value).is_none()
        {
            problems.push(diagnostic(
                &format!("argument {} of {name} must be a whole number", index + 1),
                span,
                Some(&format!("the signature is {}", call.function.signature)),
            ));
        }
    }
    if matches!(name, "DateAdd" | "DateDiff")
        && let Some((value, span)) = constant(0)
        && !INTERVALS.contains(&crate::value::text(value).as_ref())
    {
        problems.push(diagnostic(
            &format!(
                "{name} does not know the interval {:?}",
                crate::value::text(value)
            ),
            span,
            Some("intervals are yyyy, q, m, y, d, w, ww, h, n and s"),
        ));
    }
}

fn outermost_only(node: &Node, top: bool, problems: &mut Vec<Diagnostic>) {
    match &node.kind {
        NodeKind::Call(call) => {
            let name = call.function.name;
            if !top && matches!(name, "SelectUniqueValue" | "IgnoreFlowIfNullOrEmpty") {
                let help = match name {
                    "SelectUniqueValue" => "SelectUniqueValue can only be the whole expression",
                    _ => "wrap the whole expression instead: IgnoreFlowIfNullOrEmpty(IIF(...))",
                };
                problems.push(diagnostic(
                    &format!("{name} must be the outermost function"),
                    call.name_span.clone(),
                    Some(help),
                ));
            }
            for arg in call.args.iter().flatten() {
                outermost_only(arg, false, problems);
            }
        }
        NodeKind::Binary(binary) => {
            outermost_only(&binary.lhs, false, problems);
            outermost_only(&binary.rhs, false, problems);
        }
        _ => {}
    }
}

fn unbound_variables<'n>(node: &'n Node, bound: &mut Vec<&'n str>, problems: &mut Vec<Diagnostic>) {
    match &node.kind {
        NodeKind::Variable(name) if !bound.iter().any(|b| b.eq_ignore_ascii_case(name)) => {
            problems.push(diagnostic(
                &format!("variable ${name} is not bound here"),
                node.span.clone(),
                Some("variables are bound by Select, Where and With, and used in their last argument"),
            ));
        }
        NodeKind::Call(call) if matches!(call.function.name, "Select" | "Where" | "With") => {
            for arg in call.args.iter().skip(1).take(1).flatten() {
                unbound_variables(arg, bound, problems);
            }
            if let Some(Some(Node {
                kind: NodeKind::Variable(name),
                ..
            })) = call.args.first()
            {
                bound.push(name);
                for arg in call.args.iter().skip(2).flatten() {
                    unbound_variables(arg, bound, problems);
                }
                bound.pop();
            }
        }
        NodeKind::Call(call) => {
            for arg in call.args.iter().flatten() {
                unbound_variables(arg, bound, problems);
            }
        }
        NodeKind::Binary(binary) => {
            unbound_variables(&binary.lhs, bound, problems);
            unbound_variables(&binary.rhs, bound, problems);
        }
        _ => {}
    }
}

/// The keywords of each dialect. Connect's are case-sensitive, like its function names.
pub(crate) fn keyword(name: &str, dialect: Dialect) -> Option<Keyword> {
    let keyword = match name {
        "True" => Keyword::True,
        "False" => Keyword::False,
        "NULL" | "Nothing" => Keyword::Null,
        "CRLF" => Keyword::CrLf,
        "IgnoreThisFlow" => Keyword::IgnoreThisFlow,
        "AuthoritativeNull" => Keyword::AuthoritativeNull,
        _ => return None,
    };
    // App provisioning has no keywords, but True and False read naturally as booleans there.
    match (dialect, keyword) {
        (Dialect::Connect, _) | (Dialect::Provisioning, Keyword::True | Keyword::False) => {
            Some(keyword)
        }
        _ => None,
    }
}

/// Bare names that stand for enumeration values of some functions' arguments.
const ENUM_CONSTANTS: &[&str] = &[
    "vbTextCompare",
    "vbBinaryCompare",
    "CaseSensitive",
    "CaseInsensitive",
    "DC",
    "Unicode",
    "UTF8",
    "ASCII",
    "SimpleName",
    "EmailName",
    "UpnName",
    "DnsName",
    "DnsFromAlternativeName",
    "UrlName",
];

pub(crate) fn enum_constant(name: &str) -> Option<&'static str> {
    ENUM_CONSTANTS
        .iter()
        .copied()
        .find(|c| c.eq_ignore_ascii_case(name))
}

pub(crate) fn unknown_name(name: &str, span: Range<usize>, dialect: Dialect) -> Diagnostic {
    let keywords: &[&str] = match dialect {
        Dialect::Connect => &[
            "True",
            "False",
            "NULL",
            "CRLF",
            "IgnoreThisFlow",
            "AuthoritativeNull",
        ],
        Dialect::Provisioning => &["True", "False"],
    };
    let candidates = keywords
        .iter()
        .chain(ENUM_CONSTANTS)
        .copied()
        .chain(functions::functions(dialect).map(|f| f.name));
    let help = match did_you_mean(name, candidates) {
        Some(s) => format!("did you mean `{s}`? Text constants need double quotes: \"{name}\""),
        None => format!(
            "text constants need double quotes: \"{name}\"; attributes need brackets: [{name}]"
        ),
    };
    Diagnostic {
        message: format!("unknown name `{name}`"),
        span,
        help: Some(help),
    }
}

/// The closest candidate by edit distance (ignoring case), if it is close enough to be a typo.
pub(crate) fn did_you_mean<'c>(
    name: &str,
    candidates: impl Iterator<Item = &'c str>,
) -> Option<&'c str> {
    let lower = name.to_lowercase();
    candidates
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(3) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current.push(
                (previous[j] + cost)
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_function() {
        assert_eq!(
            did_you_mean("Joinn", ["Join", "Left"].into_iter()),
            Some("Join")
        );
        assert_eq!(
            did_you_mean("NormaliseDiacritics", ["NormalizeDiacritics"].into_iter()),
            Some("NormalizeDiacritics")
        );
        assert_eq!(
            did_you_mean("Frobnicate", ["Join", "Left"].into_iter()),
            None
        );
    }
}
