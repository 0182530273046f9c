//! The function reference of `docs/expressions.md`, rendered from the registry so the
//! documentation cannot drift from the implementation (a test compares the two).

use std::fmt::Write as _;

use crate::functions::{ALL, Dialects, Family, Function};

/// The marker in `docs/expressions.md` after which the generated reference starts.
pub const GENERATED_MARKER: &str = "<!-- Everything below is generated from the function registry (crates/expr/src/functions); edit it there. -->";

/// Renders every function, grouped by family, each with its signature, dialects, summary
/// and worked example.
pub fn function_reference() -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{GENERATED_MARKER}\n");
    let _ = writeln!(out, "## Function reference\n");
    let count = |d: crate::Dialect| crate::functions::functions(d).count();
    let _ = writeln!(
        out,
        "{} functions in the provisioning dialect and {} in the connect dialect. \
Functions whose name means different things in the two dialects have one entry per dialect.\n",
        count(crate::Dialect::Provisioning),
        count(crate::Dialect::Connect)
    );
    let mut families: Vec<Family> = ALL.iter().map(|f| f.family).collect();
    families.sort();
    families.dedup();
    for family in families {
        let _ = writeln!(out, "### {}\n", family.title());
        let mut functions: Vec<&Function> =
            ALL.iter().copied().filter(|f| f.family == family).collect();
        functions.sort_by_key(|f| {
            (
                f.name.to_ascii_lowercase(),
                f.dialects != Dialects::Provisioning,
            )
        });
        for f in functions {
            render(&mut out, f);
        }
    }
    out
}

fn render(out: &mut String, f: &Function) {
    let dialects = match f.dialects {
        Dialects::Both => "provisioning, connect",
        Dialects::Provisioning => "provisioning",
        Dialects::Connect => "connect",
    };
    let _ = writeln!(out, "#### {} ({dialects})\n", f.name);
    let _ = writeln!(out, "`{}`\n", f.signature);
    let _ = writeln!(out, "{}\n", f.summary);
    let input = match f.example.attributes {
        "{}" => String::new(),
        "certificate" => {
            " with `userCertificate` = a test certificate (CN=Ada Lovelace, O=Contoso, C=GB)"
                .to_owned()
        }
        json => format!(" with `{json}`"),
    };
    let _ = writeln!(
        out,
        "Example{input}:\n\n```\n{}\n```\n\n→ `{}`\n",
        f.example.expression, f.example.result
    );
}
