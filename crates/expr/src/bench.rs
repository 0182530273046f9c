//! The mappings `idsync bench` and `examples/bench.rs` time: compile once, evaluate many.
//! Timing is the caller's job; this module only builds the cases.

use model::Attributes;

use crate::{Dialect, Expression};

/// One benchmark: a named expression and the object it is evaluated over.
#[derive(Debug)]
pub struct BenchCase {
    pub name: &'static str,
    pub expression: Expression,
    pub attributes: Attributes,
}

pub fn cases() -> Vec<BenchCase> {
    let person = Attributes::new()
        .with("givenName", "Zoë")
        .with("surname", "Ørsted-Smith")
        .with("country", "GB")
        .with("telephoneNumber", "+44 2079460000")
        .with("department", "Sales");
    let parse = |source: &str| {
        Expression::parse(source, Dialect::Provisioning).expect("benchmark expressions parse")
    };
    vec![
        BenchCase {
            name: "join",
            expression: parse(r#"Join(" ", [givenName], [surname])"#),
            attributes: person.clone(),
        },
        BenchCase {
            name: "switch-replace",
            expression: parse(
                r#"Switch([country], Replace([department], "Sales", , , "Revenue", , ), "GB", Replace(NormalizeDiacritics([surname]), "-", , , "", , ), "US", ToUpper([surname]))"#,
            ),
            attributes: person.clone(),
        },
        BenchCase {
            name: "regex-replace",
            expression: parse(
                r#"Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", , "${phoneNumber}", , )"#,
            ),
            attributes: person,
        },
    ]
}
