//! Builds the syntax tree from tokens.
//!
//! ```text
//! expression = operand { operator operand }        (all operators one priority, left to right)
//! operand    = call | "(" expression ")" | [attribute] | "text" | number | &Hhex
//!            | keyword | enum-name | %parameter% | $variable
//! call       = name "(" [ argument { "," argument } ] ")"     (an argument may be left empty)
//! ```
//! Connect documents that every operator has the same priority and that evaluation runs left
//! to right ("* is not evaluated before -"); app provisioning only has the comparisons.

use std::ops::Range;
use std::sync::OnceLock;

use model::{AttributeName, Value};

use crate::ast::{Binary, BinaryOp, Call, Node, NodeKind};
use crate::check;
use crate::lexer::{Token, TokenKind, diagnostic};
use crate::{Diagnostic, Dialect};

/// Nesting deeper than this is refused, so a hostile expression cannot overflow the stack.
const MAX_DEPTH: usize = 64;

pub(crate) fn parse(tokens: Vec<Token>, dialect: Dialect) -> Result<Node, Diagnostic> {
    let mut parser = Parser {
        tokens,
        pos: 0,
        dialect,
        depth: 0,
    };
    if parser.peek() == &TokenKind::End {
        return Err(diagnostic(
            "the expression is empty",
            0..0,
            Some("write a function call such as Join(\" \", [givenName], [surname])"),
        ));
    }
    let root = parser.expression()?;
    if parser.peek() != &TokenKind::End {
        let token = parser.current().clone();
        let help = if token.kind == TokenKind::RParen {
            Some("remove the extra `)`")
        } else {
            None
        };
        return Err(diagnostic(
            &format!(
                "unexpected {} after the end of the expression",
                describe(&token.kind)
            ),
            token.span,
            help,
        ));
    }
    Ok(root)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    dialect: Dialect,
    depth: usize,
}

impl Parser {
    fn expression(&mut self) -> Result<Node, Diagnostic> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let span = self.current().span.clone();
            return Err(diagnostic("the expression nests too deeply", span, None));
        }
        let mut lhs = self.operand()?;
        while let TokenKind::Operator(op) = *self.peek() {
            let op_span = self.current().span.clone();
            if self.dialect == Dialect::Provisioning && !op.is_comparison() {
                return Err(operator_not_in_provisioning(op, op_span));
            }
            self.pos += 1;
            let rhs = self.operand()?;
            let span = lhs.span.start..rhs.span.end;
            lhs = Node {
                kind: NodeKind::Binary(Box::new(Binary { op, lhs, rhs })),
                span,
            };
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn operand(&mut self) -> Result<Node, Diagnostic> {
        let token = self.current().clone();
        self.pos += 1;
        let kind = match token.kind {
            TokenKind::Attribute(name) => NodeKind::Attribute(AttributeName::new(name)),
            TokenKind::Text(text) => NodeKind::Constant(Value::String(text)),
            TokenKind::Number(text) => NodeKind::Constant(number_value(text)),
            TokenKind::Hex(value) => NodeKind::Constant(Value::Integer(value)),
            TokenKind::Parameter(name) => {
                self.connect_only(&token.span, "parameters like %Forest.LDAP%")?;
                NodeKind::Parameter(name)
            }
            TokenKind::Variable(name) => {
                self.connect_only(&token.span, "variables like $item")?;
                NodeKind::Variable(name)
            }
            TokenKind::LParen => {
                let inner = self.expression()?;
                self.expect_close(token.span.start)?;
                let span = token.span.start..self.previous_end();
                return Ok(Node {
                    kind: inner.kind,
                    span,
                });
            }
            TokenKind::Ident(name) => {
                if self.peek() == &TokenKind::LParen {
                    return self.call(name, token.span);
                }
                self.name(&name, &token.span)?
            }
            other => {
                self.pos -= 1;
                let help = match other {
                    TokenKind::Comma | TokenKind::RParen => {
                        Some("an empty argument is only allowed inside a function call")
                    }
                    _ => None,
                };
                return Err(diagnostic(
                    &format!("expected a value, found {}", describe(&other)),
                    token.span,
                    help,
                ));
            }
        };
        Ok(Node {
            kind,
            span: token.span,
        })
    }

    fn call(&mut self, name: String, name_span: Range<usize>) -> Result<Node, Diagnostic> {
        let open = self.current().span.start;
        self.pos += 1;
        let mut args = Vec::new();
        if self.peek() == &TokenKind::RParen {
            self.pos += 1;
        } else {
            loop {
                match self.peek() {
                    TokenKind::Comma | TokenKind::RParen => args.push(None),
                    _ => args.push(Some(self.expression()?)),
                }
                match self.peek() {
                    TokenKind::Comma => self.pos += 1,
                    TokenKind::RParen => {
                        self.pos += 1;
                        break;
                    }
                    TokenKind::End => {
                        return Err(unclosed_call(&name, open, self.current().span.start));
                    }
                    other => {
                        let span = self.current().span.clone();
                        return Err(diagnostic(
                            &format!(
                                "expected `,` or `)` in the arguments of {name}, found {}",
                                describe(other)
                            ),
                            span,
                            Some("separate arguments with commas"),
                        ));
                    }
                }
            }
        }
        let span = name_span.start..self.previous_end();
        let function = check::resolve_function(&name, &name_span, self.dialect)?;
        check::arity(function, &args, &name_span, &span)?;
        let call = Call {
            function,
            name_span,
            args,
            regex_cache: OnceLock::new(),
        };
        Ok(Node {
            kind: NodeKind::Call(call),
            span,
        })
    }

    /// A bare name: a keyword or an enumeration constant.
    fn name(&self, name: &str, span: &Range<usize>) -> Result<NodeKind, Diagnostic> {
        if let Some(keyword) = check::keyword(name, self.dialect) {
            return Ok(NodeKind::Keyword(keyword));
        }
        if let Some(canonical) = check::enum_constant(name) {
            return Ok(NodeKind::Constant(Value::String(canonical.to_owned())));
        }
        Err(check::unknown_name(name, span.clone(), self.dialect))
    }

    fn expect_close(&mut self, open: usize) -> Result<(), Diagnostic> {
        if self.peek() == &TokenKind::RParen {
            self.pos += 1;
            Ok(())
        } else {
            let at = self.current().span.clone();
            Err(diagnostic(
                "expected `)`",
                at,
                Some(&format!("the `(` at offset {open} is not closed")),
            ))
        }
    }

    fn connect_only(&self, span: &Range<usize>, what: &str) -> Result<(), Diagnostic> {
        if self.dialect == Dialect::Connect {
            return Ok(());
        }
        Err(diagnostic(
            &format!("{what} exist only in the connect dialect"),
            span.clone(),
            Some("set dialect = \"connect\" on the rule to use Entra Connect Sync expressions"),
        ))
    }

    fn peek(&self) -> &TokenKind {
        &self.current().kind
    }

    fn current(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn previous_end(&self) -> usize {
        self.tokens[self.pos - 1].span.end
    }
}

/// Integers become integers; anything else (`42568.75`) stays the text it was written as,
/// as Graph's parser does, so `Len(42568.75)` is 8.
fn number_value(text: String) -> Value {
    match text.parse::<i64>() {
        Ok(n) => Value::Integer(n),
        Err(_) => Value::String(text),
    }
}

fn operator_not_in_provisioning(op: BinaryOp, span: Range<usize>) -> Diagnostic {
    let help = match op {
        BinaryOp::Concat => {
            "join text with Join(\"\", a, b) or Append(a, b), or set dialect = \"connect\""
        }
        BinaryOp::And | BinaryOp::Or => {
            "nest IIF calls: AND on the true branch, OR on the false branch"
        }
        _ => "app-provisioning expressions have only the comparisons =, <>, <, <=, >, >=",
    };
    diagnostic(
        &format!(
            "the `{}` operator exists only in the connect dialect",
            op.symbol()
        ),
        span,
        Some(help),
    )
}

fn unclosed_call(name: &str, open: usize, end: usize) -> Diagnostic {
    diagnostic(
        &format!("the call to {name} is not closed"),
        open..end,
        Some("add the missing `)`"),
    )
}

fn describe(kind: &TokenKind) -> String {
    match kind {
        TokenKind::LParen => "`(`".into(),
        TokenKind::RParen => "`)`".into(),
        TokenKind::Comma => "`,`".into(),
        TokenKind::Attribute(name) => format!("[{name}]"),
        TokenKind::Text(_) => "text".into(),
        TokenKind::Number(n) => format!("the number {n}"),
        TokenKind::Hex(_) => "a hex number".into(),
        TokenKind::Ident(name) => format!("`{name}`"),
        TokenKind::Parameter(name) => format!("%{name}%"),
        TokenKind::Variable(name) => format!("${name}"),
        TokenKind::Operator(op) => format!("`{}`", op.symbol()),
        TokenKind::End => "the end of the expression".into(),
    }
}
