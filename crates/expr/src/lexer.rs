//! Turns expression text into tokens, each with its byte span in the source.
//!
//! The lexer knows the token shapes of both dialects; whether a token is allowed in the
//! dialect at hand is the parser's decision, so the diagnostic can say which dialect has it.

use std::ops::Range;

use crate::Diagnostic;
use crate::ast::BinaryOp;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TokenKind {
    LParen,
    RParen,
    Comma,
    /// `[name]`: everything between the brackets is the name.
    Attribute(String),
    /// `"text"` with the escapes already applied.
    Text(String),
    /// A decimal literal as written (`-10`, `42568.75`): numbers stay text until used.
    Number(String),
    /// `&HF7`.
    Hex(i64),
    Ident(String),
    /// `%Forest.LDAP%` (Connect).
    Parameter(String),
    /// `$item` (Connect).
    Variable(String),
    Operator(BinaryOp),
    End,
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub span: Range<usize>,
}

/// Splits `source` into tokens. Whitespace (spaces, tabs, CR, LF) separates tokens anywhere.
pub(crate) fn tokenize(source: &str) -> Result<Vec<Token>, Diagnostic> {
    let mut lexer = Lexer {
        source,
        pos: 0,
        tokens: Vec::new(),
    };
    lexer.run()?;
    Ok(lexer.tokens)
}

struct Lexer<'s> {
    source: &'s str,
    pos: usize,
    tokens: Vec<Token>,
}

impl Lexer<'_> {
    fn run(&mut self) -> Result<(), Diagnostic> {
        while let Some(c) = self.peek() {
            let start = self.pos;
            match c {
                ' ' | '\t' | '\r' | '\n' => self.pos += 1,
                '(' => self.single(TokenKind::LParen),
                ')' => self.single(TokenKind::RParen),
                ',' => self.single(TokenKind::Comma),
                '[' => self.attribute()?,
                '"' => self.text()?,
                '\u{201C}' | '\u{201D}' => {
                    return Err(diagnostic(
                        "curly quotes do not delimit text",
                        start..start + c.len_utf8(),
                        Some("type straight double quotes: \"text\""),
                    ));
                }
                '%' => self.delimited('%', start, TokenKind::Parameter, "parameter")?,
                '$' => {
                    self.pos += 1;
                    let name = self.take_while(is_ident_continue);
                    if name.is_empty() {
                        return Err(diagnostic(
                            "expected a variable name after `$`",
                            start..self.pos,
                            None,
                        ));
                    }
                    let name = name.to_owned();
                    self.push(TokenKind::Variable(name), start);
                }
                '0'..='9' => self.number(start)?,
                '-' if !self.previous_is_operand()
                    && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) =>
                {
                    self.pos += 1;
                    self.number(start)?;
                }
                '&' if !self.previous_is_operand()
                    && matches!(self.peek_at(1), Some('H' | 'h'))
                    && self.peek_at(2).is_some_and(|c| c.is_ascii_hexdigit()) =>
                {
                    self.pos += 2;
                    let digits = self.take_while(|c| c.is_ascii_hexdigit());
                    let value = i64::from_str_radix(digits, 16).map_err(|_| {
                        diagnostic("hexadecimal number is too large", start..self.pos, None)
                    })?;
                    self.push(TokenKind::Hex(value), start);
                }
                c if is_ident_start(c) => {
                    let name = self.take_while(is_ident_continue).to_owned();
                    self.push(TokenKind::Ident(name), start);
                }
                _ => self.operator(c, start)?,
            }
        }
        self.tokens.push(Token {
            kind: TokenKind::End,
            span: self.source.len()..self.source.len(),
        });
        Ok(())
    }

    fn operator(&mut self, c: char, start: usize) -> Result<(), Diagnostic> {
        let next = self.peek_at(1);
        let (op, len) = match (c, next) {
            ('<', Some('>')) => (BinaryOp::NotEqual, 2),
            ('<', Some('=')) => (BinaryOp::LessOrEqual, 2),
            ('>', Some('=')) => (BinaryOp::GreaterOrEqual, 2),
            ('<', _) => (BinaryOp::Less, 1),
            ('>', _) => (BinaryOp::Greater, 1),
            ('=', _) => (BinaryOp::Equal, 1),
            ('&', Some('&')) => (BinaryOp::And, 2),
            ('|', Some('|')) => (BinaryOp::Or, 2),
            ('&', _) => (BinaryOp::Concat, 1),
            ('+', _) => (BinaryOp::Add, 1),
            ('-', _) => (BinaryOp::Subtract, 1),
            ('*', _) => (BinaryOp::Multiply, 1),
            ('/', _) => (BinaryOp::Divide, 1),
            _ => {
                return Err(diagnostic(
                    &format!("unexpected character `{c}`"),
                    start..start + c.len_utf8(),
                    None,
                ));
            }
        };
        self.pos += len;
        self.push(TokenKind::Operator(op), start);
        Ok(())
    }

    fn attribute(&mut self) -> Result<(), Diagnostic> {
        let start = self.pos;
        self.pos += 1;
        let Some(close) = self.source[self.pos..].find(']') else {
            return Err(diagnostic(
                "attribute name is not closed",
                start..self.source.len(),
                Some("close it with `]`, as in [mail]"),
            ));
        };
        let name = &self.source[self.pos..self.pos + close];
        self.pos += close + 1;
        if name.trim().is_empty() {
            return Err(diagnostic(
                "empty attribute name",
                start..self.pos,
                Some("write the name between the brackets, as in [mail]"),
            ));
        }
        self.push(TokenKind::Attribute(name.to_owned()), start);
        Ok(())
    }

    /// A string constant. `\"` and `\\` are escapes; any other backslash is kept with the
    /// character after it, because regular expressions in Replace rely on `\d` surviving
    /// and Connect's Replace reads `\r\n` as monikers itself.
    fn text(&mut self) -> Result<(), Diagnostic> {
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(diagnostic(
                    "text is not closed",
                    start..self.source.len(),
                    Some("end it with a double quote; write \\\" for a quote inside text"),
                ));
            };
            self.pos += c.len_utf8();
            match c {
                '"' => break,
                '\\' => match self.peek() {
                    Some(e @ ('"' | '\\')) => {
                        value.push(e);
                        self.pos += 1;
                    }
                    _ => value.push('\\'),
                },
                c => value.push(c),
            }
        }
        self.push(TokenKind::Text(value), start);
        Ok(())
    }

    fn number(&mut self, start: usize) -> Result<(), Diagnostic> {
        self.take_while(|c| c.is_ascii_digit());
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            self.take_while(|c| c.is_ascii_digit());
        }
        if self.peek().is_some_and(is_ident_continue) {
            let end = self.pos
                + self.source[self.pos..]
                    .chars()
                    .take_while(|c| is_ident_continue(*c))
                    .map(char::len_utf8)
                    .sum::<usize>();
            return Err(diagnostic(
                "a number cannot run into letters",
                start..end,
                Some("put text in double quotes"),
            ));
        }
        let text = self.source[start..self.pos].to_owned();
        self.push(TokenKind::Number(text), start);
        Ok(())
    }

    fn delimited(
        &mut self,
        delimiter: char,
        start: usize,
        make: fn(String) -> TokenKind,
        what: &str,
    ) -> Result<(), Diagnostic> {
        self.pos += 1;
        let Some(close) = self.source[self.pos..].find(delimiter) else {
            return Err(diagnostic(
                &format!("{what} is not closed"),
                start..self.source.len(),
                Some("write it as %Name%"),
            ));
        };
        let name = self.source[self.pos..self.pos + close].to_owned();
        self.pos += close + 1;
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(diagnostic(
                &format!("`{delimiter}{name}{delimiter}` is not a {what} name"),
                start..self.pos,
                None,
            ));
        }
        self.push(make(name), start);
        Ok(())
    }

    fn single(&mut self, kind: TokenKind) {
        let start = self.pos;
        self.pos += 1;
        self.push(kind, start);
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.tokens.push(Token {
            kind,
            span: start..self.pos,
        });
    }

    fn peek(&self) -> Option<char> {
        self.source[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.source[self.pos..].chars().nth(n)
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if !keep(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        &self.source[start..self.pos]
    }

    /// Whether the last token ends an operand, so a following `-` or `&` is an operator
    /// rather than the start of a negative number or a hex literal.
    fn previous_is_operand(&self) -> bool {
        self.tokens.last().is_some_and(|t| {
            matches!(
                t.kind,
                TokenKind::RParen
                    | TokenKind::Attribute(_)
                    | TokenKind::Text(_)
                    | TokenKind::Number(_)
                    | TokenKind::Hex(_)
                    | TokenKind::Ident(_)
                    | TokenKind::Parameter(_)
                    | TokenKind::Variable(_)
            )
        })
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

pub(crate) fn diagnostic(message: &str, span: Range<usize>, help: Option<&str>) -> Diagnostic {
    Diagnostic {
        message: message.to_owned(),
        span,
        help: help.map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<TokenKind> {
        tokenize(source)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn escapes_keep_unknown_backslashes() {
        assert_eq!(
            kinds(r#""a\"b\\c\d""#)[0],
            TokenKind::Text(r#"a"b\c\d"#.into())
        );
    }

    #[test]
    fn minus_after_a_comma_starts_a_negative_number() {
        assert_eq!(kinds("(\"d\", -10)")[3], TokenKind::Number("-10".into()));
        assert_eq!(kinds("[a] -1")[1], TokenKind::Operator(BinaryOp::Subtract));
    }

    #[test]
    fn hex_literals_and_concatenation_are_told_apart() {
        assert_eq!(kinds("(&HF7")[1], TokenKind::Hex(0xF7));
        assert_eq!(kinds("[a] &H")[1], TokenKind::Operator(BinaryOp::Concat));
    }

    #[test]
    fn spans_are_byte_offsets() {
        let tokens = tokenize("Join(\"é\", [sn])").unwrap();
        assert_eq!(tokens[2].span, 5..9);
        assert_eq!(tokens[4].span, 11..15);
    }

    #[test]
    fn unclosed_text_points_at_the_opening_quote() {
        let error = tokenize("Join(\"a, [b])").unwrap_err();
        assert_eq!(error.span.start, 5);
    }
}
