//! Distinguished-name functions.

use model::Value;

use super::{Dialects, Example, Family, Function, Imp, integer_arg, string};
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

/// The RDNs of a DN, split at commas that are not escaped, each trimmed.
fn components(dn: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in dn.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ',' | ';' => {
                parts.push(dn[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(dn[start..].trim());
    parts.retain(|p| !p.is_empty());
    parts
}

/// The value of an RDN (`cn=Joe` → `Joe`), escapes kept as written.
fn rdn_value(rdn: &str) -> &str {
    rdn.split_once('=').map_or(rdn, |(_, v)| v.trim())
}

fn is_dc(rdn: &str) -> bool {
    rdn.split_once('=')
        .is_some_and(|(t, _)| t.trim().eq_ignore_ascii_case("dc"))
}

pub(crate) static DN_COMPONENT: Function = Function {
    name: "DNComponent",
    dialects: Dialects::Connect,
    family: Family::Directory,
    signature: "DNComponent(dn, ComponentNumber)",
    summary: "The value of the `ComponentNumber`-th RDN of a DN, counted from the left (1-based); no value when there is none.",
    min_args: 2,
    max_args: Some(2),
    example: example(
        r#"DNComponent(CRef([dn]), 1)"#,
        r#"{"dn": "cn=Joe,ou=Atlanta,ou=GA,ou=US,dc=contoso,dc=com"}"#,
        r#""Joe""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let Some(dn) = args[0] else { return Ok(None) };
        let n = integer_arg(args[1], "ComponentNumber")?;
        let dn = value::text(dn);
        let parts = components(&dn);
        Ok(usize::try_from(n)
            .ok()
            .filter(|&n| n >= 1)
            .and_then(|n| parts.get(n - 1))
            .map(|rdn| Value::String(rdn_value(rdn).to_owned())))
    }),
};

pub(crate) static DN_COMPONENT_REV: Function = Function {
    name: "DNComponentRev",
    dialects: Dialects::Connect,
    family: Family::Directory,
    signature: "DNComponentRev(dn, ComponentNumber, Options)",
    summary: "The value of the `ComponentNumber`-th RDN counted from the right (1-based). With `Options` = `DC`, `dc=` components are skipped.",
    min_args: 2,
    max_args: Some(3),
    example: example(
        r#"DNComponentRev(CRef([dn]), 1, DC)"#,
        r#"{"dn": "cn=Joe,ou=Atlanta,ou=GA,ou=US,dc=contoso,dc=com"}"#,
        r#""US""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let Some(dn) = args[0] else { return Ok(None) };
        let n = integer_arg(args[1], "ComponentNumber")?;
        let skip_dc = match args.get(2).copied().flatten().map(value::text).as_deref() {
            None | Some("") => false,
            Some(o) if o.eq_ignore_ascii_case("dc") => true,
            Some(other) => return Err(format!("Options must be DC, got {other:?}")),
        };
        let dn = value::text(dn);
        let mut parts = components(&dn);
        if skip_dc {
            parts.retain(|p| !is_dc(p));
        }
        parts.reverse();
        Ok(usize::try_from(n)
            .ok()
            .filter(|&n| n >= 1)
            .and_then(|n| parts.get(n - 1))
            .map(|rdn| Value::String(rdn_value(rdn).to_owned())))
    }),
};

pub(crate) static ESCAPE_DN_COMPONENT: Function = Function {
    name: "EscapeDNComponent",
    dialects: Dialects::Connect,
    family: Family::Directory,
    signature: "EscapeDNComponent(value)",
    summary: "Escapes the value of one RDN (`cn=Doe, John` → `cn=Doe\\, John`) so it can be joined into a DN: `,` `+` `\"` `\\` `<` `>` `;` get a backslash, as do a leading `#` or space and a trailing space.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"EscapeDNComponent("cn=" & [displayName]) & "," & %Forest.LDAP%"#,
        r#"{"displayName": "Doe, John"}"#,
        r#""cn=Doe\\, John,DC=fabrikam,DC=com""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let Some(v) = args[0] else { return Ok(None) };
        let text = value::text(v);
        let (prefix, raw) = match text.split_once('=') {
            Some((t, v))
                if !t.is_empty()
                    && t.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') =>
            {
                (format!("{t}="), v)
            }
            _ => (String::new(), text.as_ref()),
        };
        Ok(string(prefix + &escape_rdn_value(raw)))
    }),
};

pub(crate) fn escape_rdn_value(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 4);
    let last = raw.chars().count().saturating_sub(1);
    for (i, c) in raw.chars().enumerate() {
        let needs = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if needs {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
