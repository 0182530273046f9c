//! The expression language of attribute mappings (`Join(" ", [givenName], [surname])`).
//!
//! This is the public contract the rest of idsync uses: parse once with [`Expression::parse`],
//! evaluate many times with [`Expression::evaluate`]. `expr` does no I/O and depends on no
//! idsync crate but `model`.
//!
//! For now only direct attribute references (`[mail]`) and string constants (`"GB"`) are
//! understood; the full language fills this crate in without changing the contract.

use std::ops::Range;

use model::{AttributeName, Attributes, Timestamp, Value};

/// Which dialect an expression is written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dialect {
    /// Entra ID application provisioning attribute mappings.
    #[default]
    Provisioning,
    /// Entra Connect Sync declarative provisioning expressions.
    Connect,
}

/// A problem found in an expression, located by byte offsets into its source text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Diagnostic {
    pub message: String,
    pub span: Range<usize>,
    pub help: Option<String>,
}

/// A failure while evaluating an expression for one object.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub message: String,
}

/// What an evaluation produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The values to flow; empty means "no value" (the target is cleared).
    Values(Vec<Value>),
    /// The flow is dropped for this object (`IgnoreFlowIfNullOrEmpty`): the target keeps what it has.
    Ignored,
}

impl Outcome {
    /// Whether the outcome counts as true in a scope filter: a boolean true or the text "True".
    pub fn is_true(&self) -> bool {
        match self {
            Outcome::Values(values) => matches!(
                values.first(),
                Some(Value::Boolean(true))
            ) || matches!(values.first(), Some(Value::String(s)) if s.eq_ignore_ascii_case("true")),
            Outcome::Ignored => false,
        }
    }
}

/// Where an expression reads attribute values from.
pub trait AttributeSource {
    fn values(&self, name: &AttributeName) -> Option<&[Value]>;
}

impl AttributeSource for Attributes {
    fn values(&self, name: &AttributeName) -> Option<&[Value]> {
        self.get(name)
    }
}

/// Answers `SelectUniqueValue`: is this candidate free in the target?
pub trait UniquenessOracle {
    fn is_unique(&self, candidate: &str) -> bool;
}

/// Everything an evaluation may depend on besides the attributes: time, randomness and the
/// target's answers are parameters, so results are reproducible.
#[derive(Clone, Copy)]
pub struct EvalContext<'a> {
    pub now: Timestamp,
    pub seed: u64,
    pub default_domain: Option<&'a str>,
    pub uniqueness: Option<&'a dyn UniquenessOracle>,
}

impl std::fmt::Debug for EvalContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvalContext")
            .field("now", &self.now)
            .field("seed", &self.seed)
            .field("default_domain", &self.default_domain)
            .finish_non_exhaustive()
    }
}

impl EvalContext<'_> {
    pub fn new(now: Timestamp) -> Self {
        EvalContext { now, seed: 0, default_domain: None, uniqueness: None }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Attribute(AttributeName),
    Constant(String),
}

/// A parsed, checked expression, ready to evaluate many times.
#[derive(Clone, Debug)]
pub struct Expression {
    source: String,
    dialect: Dialect,
    root: Node,
}

impl Expression {
    pub fn parse(source: &str, dialect: Dialect) -> Result<Self, Diagnostic> {
        let trimmed = source.trim();
        let start = source.len() - source.trim_start().len();
        let root = if let Some(name) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            Node::Attribute(AttributeName::new(name))
        } else if let Some(text) = trimmed.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            Node::Constant(text.replace("\\\"", "\"").replace("\\\\", "\\"))
        } else {
            return Err(Diagnostic {
                message: "expected an attribute like [mail] or a string constant like \"GB\"".into(),
                span: start..start + trimmed.len(),
                help: None,
            });
        };
        Ok(Expression { source: source.to_owned(), dialect, root })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The attribute this expression copies, when it is a direct flow (`[mail]`).
    pub fn as_attribute(&self) -> Option<&AttributeName> {
        match &self.root {
            Node::Attribute(name) => Some(name),
            Node::Constant(_) => None,
        }
    }

    /// Every attribute the expression reads.
    pub fn referenced_attributes(&self) -> Vec<AttributeName> {
        self.as_attribute().into_iter().cloned().collect()
    }

    /// Checks the expression against the attributes its source offers.
    pub fn check(&self, is_known: &dyn Fn(&AttributeName) -> bool) -> Vec<Diagnostic> {
        self.referenced_attributes()
            .into_iter()
            .filter(|name| !is_known(name))
            .map(|name| {
                let at = self.source.find(name.as_str()).unwrap_or(0);
                Diagnostic {
                    message: format!("unknown attribute [{name}]"),
                    span: at..at + name.as_str().len(),
                    help: None,
                }
            })
            .collect()
    }

    pub fn evaluate(&self, input: &dyn AttributeSource, _ctx: &EvalContext<'_>) -> Result<Outcome, EvalError> {
        Ok(match &self.root {
            Node::Attribute(name) => Outcome::Values(input.values(name).map(<[Value]>::to_vec).unwrap_or_default()),
            Node::Constant(text) => Outcome::Values(vec![Value::String(text.clone())]),
        })
    }
}
