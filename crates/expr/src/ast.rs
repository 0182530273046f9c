//! The syntax tree of a parsed expression. Function calls are resolved while parsing, so
//! evaluation never looks a name up.

use std::ops::Range;
use std::sync::OnceLock;

use model::{AttributeName, Value};

use crate::functions::Function;

#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub kind: NodeKind,
    pub span: Range<usize>,
}

#[derive(Clone, Debug)]
pub(crate) enum NodeKind {
    Attribute(AttributeName),
    /// A string constant, a number literal or a hex literal, already typed.
    Constant(Value),
    Keyword(Keyword),
    /// `%Forest.LDAP%`: a value the engine supplies per connector.
    Parameter(String),
    /// `$item`: bound by Select, Where and With.
    Variable(String),
    Call(Call),
    Binary(Box<Binary>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keyword {
    True,
    False,
    /// Connect `NULL` (also `Nothing`): no value.
    Null,
    /// Connect `CRLF`: a line break.
    CrLf,
    /// Connect `IgnoreThisFlow`: this flow contributes nothing.
    IgnoreThisFlow,
    /// Connect `AuthoritativeNull`: clear the target even against lower-precedence values.
    AuthoritativeNull,
}

#[derive(Clone, Debug)]
pub(crate) struct Call {
    pub function: &'static Function,
    pub name_span: Range<usize>,
    /// One slot per written argument; `None` is a slot left empty between commas.
    pub args: Vec<Option<Node>>,
    /// The compiled regular expression of a Replace whose pattern is a constant, compiled on
    /// first use and kept, so a mapping evaluated a million times compiles it once.
    pub regex_cache: OnceLock<Option<(String, fancy_regex::Regex)>>,
}

#[derive(Clone, Debug)]
pub(crate) struct Binary {
    pub op: BinaryOp,
    pub lhs: Node,
    pub rhs: Node,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinaryOp {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    /// `&` (Connect).
    Concat,
    /// `&&` (Connect).
    And,
    /// `||` (Connect).
    Or,
    Add,
    Subtract,
    Multiply,
    Divide,
}

impl BinaryOp {
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Equal
                | BinaryOp::NotEqual
                | BinaryOp::Less
                | BinaryOp::LessOrEqual
                | BinaryOp::Greater
                | BinaryOp::GreaterOrEqual
        )
    }

    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Equal => "=",
            BinaryOp::NotEqual => "<>",
            BinaryOp::Less => "<",
            BinaryOp::LessOrEqual => "<=",
            BinaryOp::Greater => ">",
            BinaryOp::GreaterOrEqual => ">=",
            BinaryOp::Concat => "&",
            BinaryOp::And => "&&",
            BinaryOp::Or => "||",
            BinaryOp::Add => "+",
            BinaryOp::Subtract => "-",
            BinaryOp::Multiply => "*",
            BinaryOp::Divide => "/",
        }
    }
}

impl Node {
    /// Calls `visit` on this node and every node below it, parents first.
    pub fn walk<'n>(&'n self, visit: &mut dyn FnMut(&'n Node)) {
        visit(self);
        match &self.kind {
            NodeKind::Call(call) => {
                for arg in call.args.iter().flatten() {
                    arg.walk(visit);
                }
            }
            NodeKind::Binary(binary) => {
                binary.lhs.walk(visit);
                binary.rhs.walk(visit);
            }
            _ => {}
        }
    }
}
