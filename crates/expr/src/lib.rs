//! The expression language of attribute mappings (`Join(" ", [givenName], [surname])`).
//!
//! This is the public contract the rest of idsync uses: parse once with [`Expression::parse`],
//! evaluate many times with [`Expression::evaluate`]. `expr` does no I/O and depends on no
//! idsync crate but `model`.
//!
//! Two dialects: Entra ID app provisioning (`Join`, `Switch(source, default, key, value…)`,
//! seven-slot `Replace`) and Entra Connect Sync declarative provisioning (`&`, `%Forest.LDAP%`,
//! `Select($item, …)`, certificate functions). A rule picks one; the parser resolves every
//! function of that dialect up front, so evaluation never looks a name up.
//!
//! Module map: `lexer` (text → tokens with spans), `parser` (tokens → `ast`), `check`
//! (function names, argument counts, placement), `eval` (the tree over one object's values),
//! `functions/` (the registry, one module per family), `value` and `datetime` (how values
//! read as text, numbers, booleans and dates), `json` (attributes and results as JSON, for
//! `idsync expr`), `bench` (the cases `idsync bench` times), `docs` (the function reference of
//! `docs/expressions.md`, rendered from the registry).

use std::ops::Range;

use model::{AttributeName, Attributes, Timestamp, Value};

mod ast;
pub mod bench;
mod check;
mod datetime;
pub mod docs;
mod eval;
mod functions;
pub mod json;
mod lexer;
mod parser;
mod value;

pub use functions::{Dialects, Example, Family, Function, functions};

/// App provisioning's documented maximum length of an expression, in characters.
pub const MAX_EXPRESSION_CHARS: usize = 10_000;

/// Which dialect an expression is written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
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

impl EvalError {
    pub fn new(message: impl Into<String>) -> Self {
        EvalError {
            message: message.into(),
        }
    }
}

impl Diagnostic {
    /// The diagnostic under the expression's text, with a caret line under the span:
    ///
    /// ```text
    /// error: unknown function `Joinn`
    ///   Joinn(" ", [givenName])
    ///   ^^^^^
    ///   help: did you mean `Join`?
    /// ```
    /// Multi-line expressions show the line the span starts on.
    pub fn render(&self, source: &str) -> String {
        let start = self.span.start.min(source.len());
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let line = &source[line_start..line_end];
        let column = source[line_start..start].chars().count();
        let end = self.span.end.clamp(start, line_end);
        let width = source[start..end].chars().count().max(1);
        let mut out = format!(
            "error: {}\n  {}\n  {}{}",
            self.message,
            line,
            " ".repeat(column),
            "^".repeat(width)
        );
        if let Some(help) = &self.help {
            out.push_str(&format!("\n  help: {help}"));
        }
        out
    }

    /// 1-based line and column of the span's start, for callers that map expressions back
    /// into a file.
    pub fn line_column(&self, source: &str) -> (usize, usize) {
        let start = self.span.start.min(source.len());
        let before = &source[..start];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        (line, column)
    }
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
            Outcome::Values(values) => {
                matches!(values.first(), Some(Value::Boolean(true)))
                    || matches!(values.first(), Some(Value::String(s)) if s.eq_ignore_ascii_case("true"))
            }
            Outcome::Ignored => false,
        }
    }
}

/// Where an expression reads attribute values from.
pub trait AttributeSource {
    fn values(&self, name: &AttributeName) -> Option<&[Value]>;

    /// A number that differs between objects, mixed into the random seed so that `Guid()`
    /// or `RandomString()` give each object of a run its own value even when the engine
    /// passes one seed for the whole run. Only read when a random function runs.
    fn fingerprint(&self) -> u64 {
        0
    }
}

impl AttributeSource for Attributes {
    fn values(&self, name: &AttributeName) -> Option<&[Value]> {
        self.get(name)
    }

    fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        // DefaultHasher::new() has fixed keys, so the fingerprint is reproducible.
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for (name, values) in self.iter() {
            name.hash(&mut hasher);
            values.hash(&mut hasher);
        }
        hasher.finish()
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
    /// The run's clock: `Now()` and date arithmetic read this, never the system clock.
    pub now: Timestamp,
    /// Seeds `Guid()`, `RandomString()` and `RandomNum()`: the same seed and object give the
    /// same values. The object's [`AttributeSource::fingerprint`] is mixed in, so objects
    /// evaluated with one seed still get different values; callers that can should also
    /// vary the seed per object (e.g. a hash of the run and the object's anchor).
    pub seed: u64,
    /// The tenant's default verified domain, for `DefaultDomain()`.
    pub default_domain: Option<&'a str>,
    /// Answers `SelectUniqueValue`; without one every candidate counts as free.
    pub uniqueness: Option<&'a dyn UniquenessOracle>,
    /// Connect's `%Name%` parameters (`Domain.Netbios`, `Forest.LDAP`, …), matched without
    /// regard to case.
    pub parameters: &'a [(String, String)],
}

impl std::fmt::Debug for EvalContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvalContext")
            .field("now", &self.now)
            .field("seed", &self.seed)
            .field("default_domain", &self.default_domain)
            .field("parameters", &self.parameters)
            .finish_non_exhaustive()
    }
}

impl EvalContext<'_> {
    pub fn new(now: Timestamp) -> Self {
        EvalContext {
            now,
            seed: 0,
            default_domain: None,
            uniqueness: None,
            parameters: &[],
        }
    }
}

/// A parsed, checked expression, ready to evaluate many times.
#[derive(Clone, Debug)]
pub struct Expression {
    source: String,
    dialect: Dialect,
    root: ast::Node,
}

impl Expression {
    /// Parses and checks `source`: syntax, function names, argument counts and the placement
    /// of SelectUniqueValue and IgnoreFlowIfNullOrEmpty. The first problem is returned.
    pub fn parse(source: &str, dialect: Dialect) -> Result<Self, Diagnostic> {
        Self::parse_all(source, dialect).map_err(|mut problems| problems.swap_remove(0))
    }

    /// As [`Expression::parse`], but returns every structural problem found (a syntax error
    /// stops at the first one).
    pub fn parse_all(source: &str, dialect: Dialect) -> Result<Self, Vec<Diagnostic>> {
        if dialect == Dialect::Provisioning && source.chars().count() > MAX_EXPRESSION_CHARS {
            return Err(vec![Diagnostic {
                message: format!("the expression is longer than {MAX_EXPRESSION_CHARS} characters"),
                span: 0..source.len(),
                help: Some(
                    "Entra rejects longer attribute-mapping expressions; split the logic".into(),
                ),
            }]);
        }
        let tokens = lexer::tokenize(source).map_err(|d| vec![d])?;
        let root = parser::parse(tokens, dialect).map_err(|d| vec![d])?;
        let problems = check::structure(&root);
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Expression {
            source: source.to_owned(),
            dialect,
            root,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The attribute this expression copies, when it is a direct flow (`[mail]`).
    pub fn as_attribute(&self) -> Option<&AttributeName> {
        match &self.root.kind {
            ast::NodeKind::Attribute(name) => Some(name),
            _ => None,
        }
    }

    /// The name of the outermost function, if the expression is a call. The engine reads it
    /// for the functions that change how a flow is applied (SelectUniqueValue only on create,
    /// AssertiveAppRoleAssignmentsComplex replacing roles where AppRoleAssignmentsComplex adds).
    pub fn top_function(&self) -> Option<&'static str> {
        match &self.root.kind {
            ast::NodeKind::Call(call) => Some(call.function.name),
            _ => None,
        }
    }

    /// Every attribute the expression reads, each once, in order of appearance.
    pub fn referenced_attributes(&self) -> Vec<AttributeName> {
        let mut names: Vec<AttributeName> = Vec::new();
        self.root.walk(&mut |node| {
            if let ast::NodeKind::Attribute(name) = &node.kind
                && !names.contains(name)
            {
                names.push(name.clone());
            }
        });
        names
    }

    /// Checks the expression against the attributes its source offers: one diagnostic per
    /// use of an unknown attribute, pointing at the `[name]`.
    pub fn check(&self, is_known: &dyn Fn(&AttributeName) -> bool) -> Vec<Diagnostic> {
        let mut problems = Vec::new();
        self.root.walk(&mut |node| {
            if let ast::NodeKind::Attribute(name) = &node.kind
                && !is_known(name)
            {
                problems.push(Diagnostic {
                    message: format!("unknown attribute [{name}]"),
                    span: node.span.clone(),
                    help: Some("the source's schema has no attribute of that name".into()),
                });
            }
        });
        problems
    }

    /// As [`Expression::check`], with the source's attribute names at hand, so an unknown
    /// attribute gets a "did you mean" (`[surnam]` → `[surname]`).
    pub fn check_against(&self, known: &[AttributeName]) -> Vec<Diagnostic> {
        let mut problems = self.check(&|name| known.contains(name));
        for problem in &mut problems {
            let written = self.source[problem.span.clone()]
                .trim_start_matches('[')
                .trim_end_matches(']');
            if let Some(nearest) =
                check::did_you_mean(written, known.iter().map(AttributeName::as_str))
            {
                problem.help = Some(format!("did you mean [{nearest}]?"));
            }
        }
        problems
    }

    /// Evaluates the expression for one object.
    pub fn evaluate(
        &self,
        input: &dyn AttributeSource,
        ctx: &EvalContext<'_>,
    ) -> Result<Outcome, EvalError> {
        let env = eval::Env::new(input, *ctx, self.dialect);
        Ok(env.eval(&self.root)?.into_outcome())
    }
}
