//! OData system query options as Graph's directory accepts them: `$select`, `$top`,
//! `$filter` (a documented subset), `$count`, `$skiptoken`, `$deltatoken`.

use serde_json::Value;

use crate::error::GraphError;
use crate::props::Props;

/// The query options of one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryOptions {
    pub select: Option<Vec<String>>,
    pub top: Option<usize>,
    pub filter: Option<Filter>,
    /// The raw `$filter` text, kept to rebuild `@odata.nextLink`.
    pub filter_text: Option<String>,
    pub count: bool,
    pub skiptoken: Option<String>,
    pub deltatoken: Option<String>,
    pub orderby: Option<OrderBy>,
    pub search: Option<Search>,
    pub expand: Vec<Expand>,
}

/// One `$expand` item: a navigation property and its own `$select`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expand {
    pub property: String,
    pub select: Option<Vec<String>>,
}

impl Expand {
    /// `manager`, `members($select=id,displayName)`, comma-separated.
    fn parse_list(text: &str) -> Result<Vec<Self>, GraphError> {
        let mut out = Vec::new();
        let mut depth = 0usize;
        let mut start = 0;
        let bytes: Vec<char> = text.chars().collect();
        let mut items = Vec::new();
        for (i, c) in bytes.iter().enumerate() {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    items.push(bytes[start..i].iter().collect::<String>());
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(bytes[start..].iter().collect::<String>());
        for item in items {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let (property, options) = match item.split_once('(') {
                Some((p, rest)) => {
                    let inner = rest.strip_suffix(')').ok_or_else(|| {
                        GraphError::odata_bad_request(format!("Invalid $expand clause '{item}'."))
                    })?;
                    (p.trim(), Some(inner))
                }
                None => (item, None),
            };
            let mut select = None;
            for option in options.into_iter().flat_map(|o| o.split(';')) {
                let (key, value) = option.split_once('=').ok_or_else(|| {
                    GraphError::odata_bad_request(format!("Invalid $expand clause '{item}'."))
                })?;
                if key
                    .trim()
                    .trim_start_matches('$')
                    .eq_ignore_ascii_case("select")
                {
                    select = Some(
                        value
                            .split(',')
                            .map(|p| p.trim().to_owned())
                            .filter(|p| !p.is_empty())
                            .collect(),
                    );
                } else {
                    return Err(GraphError::odata_bad_request(format!(
                        "Query option '{}' is not allowed inside $expand.",
                        key.trim()
                    )));
                }
            }
            out.push(Expand {
                property: property.to_owned(),
                select,
            });
        }
        Ok(out)
    }
}

/// `$orderby=property [asc|desc]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    pub property: String,
    pub descending: bool,
}

/// `$search="property:words"` clauses joined by `AND` / `OR` (evaluated left to right).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub first: SearchClause,
    pub rest: Vec<(bool, SearchClause)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchClause {
    pub property: String,
    /// Lowercase words; each must begin a word of the property's value.
    pub words: Vec<String>,
}

/// Largest `$top` the directory accepts.
pub const MAX_PAGE_SIZE: usize = 999;
/// Page size when no `$top` is given.
pub const DEFAULT_PAGE_SIZE: usize = 100;

impl QueryOptions {
    /// Parses decoded query pairs. Graph accepts the options with or without the `$`.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, GraphError> {
        let mut q = QueryOptions::default();
        for (key, value) in pairs {
            let name = key.strip_prefix('$').unwrap_or(key).to_ascii_lowercase();
            match name.as_str() {
                "select" => {
                    let props: Vec<String> = value
                        .split(',')
                        .map(|p| p.trim().to_owned())
                        .filter(|p| !p.is_empty())
                        .collect();
                    q.select = Some(props);
                }
                "top" => {
                    let n: usize = value.trim().parse().map_err(|_| {
                        GraphError::odata_bad_request(format!(
                            "Invalid page size specified: '{value}'. Must be between 1 and {MAX_PAGE_SIZE} inclusive."
                        ))
                    })?;
                    if n == 0 || n > MAX_PAGE_SIZE {
                        return Err(GraphError::bad_request(format!(
                            "Invalid page size specified: '{n}'. Must be between 1 and {MAX_PAGE_SIZE} inclusive."
                        )));
                    }
                    q.top = Some(n);
                }
                "filter" => {
                    q.filter = Some(Filter::parse(value)?);
                    q.filter_text = Some(value.clone());
                }
                "count" => q.count = value.eq_ignore_ascii_case("true"),
                "skiptoken" => q.skiptoken = Some(value.clone()),
                "orderby" => q.orderby = Some(OrderBy::parse(value)?),
                "search" => q.search = Some(Search::parse(value)?),
                "expand" => q.expand = Expand::parse_list(value)?,
                "deltatoken" => q.deltatoken = Some(value.clone()),
                _ => {}
            }
        }
        Ok(q)
    }

    pub fn page_size(&self) -> usize {
        self.top.unwrap_or(DEFAULT_PAGE_SIZE)
    }
}

impl OrderBy {
    fn parse(text: &str) -> Result<Self, GraphError> {
        let mut parts = text.split_whitespace();
        let property = parts.next().ok_or_else(|| {
            GraphError::odata_bad_request("The $orderby query option must name a property.")
        })?;
        let descending = match parts.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(GraphError::odata_bad_request(format!(
                    "Syntax error at position {} in '{text}': '{other}' is neither 'asc' nor 'desc'.",
                    property.len() + 1
                )));
            }
        };
        if parts.next().is_some() || text.contains(',') {
            return Err(GraphError::unsupported_query(
                "Sorting by more than one property is not supported.",
            ));
        }
        Ok(Self {
            property: property.to_owned(),
            descending,
        })
    }
}

impl Search {
    fn parse(text: &str) -> Result<Self, GraphError> {
        let invalid = || {
            GraphError::odata_bad_request(format!(
                "Invalid $search value '{text}': expected \"property:value\" clauses joined by AND or OR."
            ))
        };
        let mut clauses = Vec::new();
        let mut joins = Vec::new();
        let mut rest = text.trim();
        loop {
            let body = rest.strip_prefix('"').ok_or_else(invalid)?;
            let end = body.find('"').ok_or_else(invalid)?;
            let (property, value) = body[..end].split_once(':').ok_or_else(invalid)?;
            let words: Vec<String> = search_words(value).collect();
            if property.trim().is_empty() || words.is_empty() {
                return Err(invalid());
            }
            clauses.push(SearchClause {
                property: property.trim().to_owned(),
                words,
            });
            rest = body[end + 1..].trim_start();
            if rest.is_empty() {
                break;
            }
            let (join, after) = rest.split_once(char::is_whitespace).ok_or_else(invalid)?;
            match join {
                "AND" => joins.push(false),
                "OR" => joins.push(true),
                _ => return Err(invalid()),
            }
            rest = after.trim_start();
        }
        let mut clauses = clauses.into_iter();
        let first = clauses.next().ok_or_else(invalid)?;
        Ok(Self {
            first,
            rest: joins.into_iter().zip(clauses).collect(),
        })
    }

    /// The directory tokenizes values into words (at spaces and punctuation) and matches
    /// each search word against the start of a word.
    pub fn matches(&self, object: &Props) -> bool {
        let clause = |c: &SearchClause| {
            let Some(value) = object.get(&c.property).and_then(Value::as_str) else {
                return false;
            };
            let value_words: Vec<String> = search_words(value).collect();
            let whole = value.to_lowercase();
            c.words.iter().all(|w| {
                whole.starts_with(w.as_str())
                    || value_words.iter().any(|v| v.starts_with(w.as_str()))
            })
        };
        self.rest.iter().fold(clause(&self.first), |acc, (or, c)| {
            if *or {
                acc || clause(c)
            } else {
                acc && clause(c)
            }
        })
    }
}

fn search_words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// A comparison value in a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Bool(bool),
    Int(i64),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Ge,
    Le,
}

/// A parsed `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Cmp {
        property: String,
        op: CmpOp,
        value: Literal,
    },
    In {
        property: String,
        values: Vec<Literal>,
    },
    StartsWith {
        property: String,
        prefix: String,
    },
    EndsWith {
        property: String,
        suffix: String,
    },
}

/// What a resource allows in `$filter`, property by property.
#[derive(Debug, Clone, Copy)]
pub struct FilterRules {
    pub resource: &'static str,
    /// Properties that accept `eq`, `in`, `ge`, `le` and `eq null`.
    pub comparable: &'static [&'static str],
    /// Properties that also accept `startsWith`.
    pub starts_with: &'static [&'static str],
    /// Properties that accept `endsWith` (advanced queries only).
    pub ends_with: &'static [&'static str],
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, GraphError> {
        let tokens = tokenize(text)?;
        let mut p = Parser { tokens, pos: 0 };
        let f = p.or_expr()?;
        if p.pos != p.tokens.len() {
            return Err(invalid_filter());
        }
        Ok(f)
    }

    /// Checks the filter against a resource's documented rules. `advanced` is true when the
    /// request carries `ConsistencyLevel: eventual` and `$count=true`.
    pub fn validate(&self, rules: &FilterRules, advanced: bool) -> Result<(), GraphError> {
        let unsupported = |property: &str| {
            GraphError::unsupported_query(format!(
                "Unsupported or invalid query filter clause specified for property '{property}' of resource '{}'.",
                rules.resource
            ))
        };
        let needs_advanced = |operator: &str| {
            GraphError::unsupported_query(format!(
                "Operator '{operator}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information"
            ))
        };
        match self {
            Filter::And(a, b) | Filter::Or(a, b) => {
                a.validate(rules, advanced)?;
                b.validate(rules, advanced)
            }
            Filter::Not(inner) => {
                if !advanced {
                    return Err(needs_advanced("not"));
                }
                inner.validate(rules, advanced)
            }
            Filter::Cmp { property, op, .. } => {
                let extension = property.starts_with(crate::directory::EXTENSION_PREFIX);
                if !extension && !rules.comparable.contains(&property.as_str()) {
                    return Err(unsupported(property));
                }
                if *op == CmpOp::Ne && !advanced {
                    return Err(needs_advanced("ne"));
                }
                Ok(())
            }
            Filter::In { property, .. } => {
                let extension = property.starts_with(crate::directory::EXTENSION_PREFIX);
                if extension || rules.comparable.contains(&property.as_str()) {
                    Ok(())
                } else {
                    Err(unsupported(property))
                }
            }
            Filter::StartsWith { property, .. } => {
                if rules.starts_with.contains(&property.as_str()) {
                    Ok(())
                } else {
                    Err(unsupported(property))
                }
            }
            Filter::EndsWith { property, .. } => {
                if !rules.ends_with.contains(&property.as_str()) {
                    return Err(unsupported(property));
                }
                if advanced {
                    Ok(())
                } else {
                    Err(needs_advanced("endsWith"))
                }
            }
        }
    }

    /// The properties the filter names.
    pub fn properties(&self) -> Vec<&str> {
        match self {
            Filter::And(a, b) | Filter::Or(a, b) => {
                let mut out = a.properties();
                out.extend(b.properties());
                out
            }
            Filter::Not(inner) => inner.properties(),
            Filter::Cmp { property, .. }
            | Filter::In { property, .. }
            | Filter::StartsWith { property, .. }
            | Filter::EndsWith { property, .. } => vec![property.as_str()],
        }
    }

    /// Evaluates the filter against an object's stored properties. The directory compares
    /// strings without regard to case.
    pub fn matches(&self, object: &Props) -> bool {
        match self {
            Filter::And(a, b) => a.matches(object) && b.matches(object),
            Filter::Or(a, b) => a.matches(object) || b.matches(object),
            Filter::Not(inner) => !inner.matches(object),
            Filter::Cmp {
                property,
                op,
                value,
            } => {
                let actual = lookup(object, property);
                match op {
                    CmpOp::Eq => literal_eq(actual, value),
                    CmpOp::Ne => !literal_eq(actual, value),
                    CmpOp::Ge | CmpOp::Le => {
                        let (Some(a), Literal::Str(b)) = (actual.and_then(Value::as_str), value)
                        else {
                            return false;
                        };
                        let ord = a.to_lowercase().cmp(&b.to_lowercase());
                        if *op == CmpOp::Ge {
                            ord.is_ge()
                        } else {
                            ord.is_le()
                        }
                    }
                }
            }
            Filter::In { property, values } => {
                let actual = lookup(object, property);
                values.iter().any(|v| literal_eq(actual, v))
            }
            Filter::StartsWith { property, prefix } => lookup(object, property)
                .and_then(Value::as_str)
                .is_some_and(|s| s.to_lowercase().starts_with(&prefix.to_lowercase())),
            Filter::EndsWith { property, suffix } => lookup(object, property)
                .and_then(Value::as_str)
                .is_some_and(|s| s.to_lowercase().ends_with(&suffix.to_lowercase())),
        }
    }
}

/// Finds `a` or `a/b` (a property of a complex value) in an object.
fn lookup<'a>(object: &'a Props, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('/');
    let mut current = object.get(parts.next()?)?;
    for part in parts {
        current = current.get(part)?;
    }
    Some(current)
}

fn literal_eq(actual: Option<&Value>, literal: &Literal) -> bool {
    match (actual, literal) {
        (None | Some(Value::Null), Literal::Null) => true,
        (Some(Value::String(a)), Literal::Str(b)) => a.to_lowercase() == b.to_lowercase(),
        (Some(Value::Bool(a)), Literal::Bool(b)) => a == b,
        (Some(Value::Number(a)), Literal::Int(b)) => a.as_i64() == Some(*b),
        _ => false,
    }
}

fn invalid_filter() -> GraphError {
    GraphError::odata_bad_request("Invalid filter clause")
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Int(i64),
    LParen,
    RParen,
    Comma,
}

fn tokenize(text: &str) -> Result<Vec<Token>, GraphError> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => i += 1,
            '(' => {
                out.push(Token::LParen);
                i += 1;
            }
            ')' => {
                out.push(Token::RParen);
                i += 1;
            }
            ',' => {
                out.push(Token::Comma);
                i += 1;
            }
            '\'' => {
                // OData escapes a quote inside a string literal by doubling it.
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(invalid_filter()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Token::Str(s));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                let s: String = chars[start..i].iter().collect();
                out.push(Token::Int(s.parse().map_err(|_| invalid_filter())?));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '/' | '.'))
                {
                    i += 1;
                }
                out.push(Token::Ident(chars[start..i].iter().collect()));
            }
            _ => return Err(invalid_filter()),
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Ident(w)) if w.eq_ignore_ascii_case(keyword))
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expect(&mut self, token: Token) -> Result<(), GraphError> {
        if self.next() == Some(token) {
            Ok(())
        } else {
            Err(invalid_filter())
        }
    }

    fn or_expr(&mut self) -> Result<Filter, GraphError> {
        let mut left = self.and_expr()?;
        while self.peek_keyword("or") {
            self.pos += 1;
            let right = self.and_expr()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Filter, GraphError> {
        let mut left = self.unary()?;
        while self.peek_keyword("and") {
            self.pos += 1;
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, GraphError> {
        if self.peek_keyword("not") {
            self.pos += 1;
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn literal(&mut self) -> Result<Literal, GraphError> {
        match self.next() {
            Some(Token::Str(s)) => Ok(Literal::Str(s)),
            Some(Token::Int(n)) => Ok(Literal::Int(n)),
            Some(Token::Ident(w)) if w == "true" => Ok(Literal::Bool(true)),
            Some(Token::Ident(w)) if w == "false" => Ok(Literal::Bool(false)),
            Some(Token::Ident(w)) if w == "null" => Ok(Literal::Null),
            _ => Err(invalid_filter()),
        }
    }

    fn primary(&mut self) -> Result<Filter, GraphError> {
        match self.next() {
            Some(Token::LParen) => {
                let inner = self.or_expr()?;
                self.expect(Token::RParen)?;
                Ok(inner)
            }
            Some(Token::Ident(word)) if self.tokens.get(self.pos) == Some(&Token::LParen) => {
                let function = word.to_ascii_lowercase();
                self.pos += 1;
                let Some(Token::Ident(property)) = self.next() else {
                    return Err(invalid_filter());
                };
                self.expect(Token::Comma)?;
                let Literal::Str(arg) = self.literal()? else {
                    return Err(invalid_filter());
                };
                self.expect(Token::RParen)?;
                match function.as_str() {
                    "startswith" => Ok(Filter::StartsWith {
                        property,
                        prefix: arg,
                    }),
                    "endswith" => Ok(Filter::EndsWith {
                        property,
                        suffix: arg,
                    }),
                    _ => Err(invalid_filter()),
                }
            }
            Some(Token::Ident(property)) => {
                let Some(Token::Ident(op)) = self.next() else {
                    return Err(invalid_filter());
                };
                let op = match op.to_ascii_lowercase().as_str() {
                    "eq" => CmpOp::Eq,
                    "ne" => CmpOp::Ne,
                    "ge" => CmpOp::Ge,
                    "le" => CmpOp::Le,
                    "in" => {
                        self.expect(Token::LParen)?;
                        let mut values = vec![self.literal()?];
                        while self.tokens.get(self.pos) == Some(&Token::Comma) {
                            self.pos += 1;
                            values.push(self.literal()?);
                        }
                        self.expect(Token::RParen)?;
                        return Ok(Filter::In { property, values });
                    }
                    _ => return Err(invalid_filter()),
                };
                let value = self.literal()?;
                Ok(Filter::Cmp {
                    property,
                    op,
                    value,
                })
            }
            _ => Err(invalid_filter()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn search_matches_word_prefixes_case_insensitively() {
        let Value::Object(map) =
            json!({"displayName": "Adele Vance", "mail": "adele.vance@contoso.com"})
        else {
            unreachable!()
        };
        let props = Props::from(map);
        for (text, expected) in [
            ("\"displayName:vance\"", true),
            ("\"displayName:AD\"", true),
            ("\"displayName:ance\"", false),
            ("\"mail:contoso\"", true),
            ("\"displayName:x\" OR \"mail:adele\"", true),
            ("\"displayName:adele\" AND \"mail:x\"", false),
        ] {
            let search = Search::parse(text).unwrap();
            assert_eq!(search.matches(&props), expected, "{text}");
        }
        assert!(Search::parse("displayName:adele").is_err());
    }

    fn check(filter: &str, object: Value, expected: bool) {
        let f = Filter::parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
        let Value::Object(map) = object else {
            panic!("object expected")
        };
        assert_eq!(f.matches(&Props::from(map)), expected, "{filter}");
    }

    #[test]
    fn filters_evaluate_case_insensitively() {
        let adele = json!({"displayName": "Adele Vance", "accountEnabled": true, "department": null,
            "onPremisesExtensionAttributes": {"extensionAttribute1": "X"}});
        check("displayName eq 'adele vance'", adele.clone(), true);
        check("startsWith(displayName,'ad')", adele.clone(), true);
        check("accountEnabled eq false", adele.clone(), false);
        check("department eq null", adele.clone(), true);
        check("displayName in ('x', 'Adele Vance')", adele.clone(), true);
        check(
            "(displayName eq 'x' or accountEnabled eq true) and not (department ne null)",
            adele.clone(),
            true,
        );
        check(
            "onPremisesExtensionAttributes/extensionAttribute1 eq 'x'",
            adele.clone(),
            true,
        );
        check(
            "displayName eq 'O''Brien'",
            json!({"displayName": "O'Brien"}),
            true,
        );
    }

    #[test]
    fn malformed_filters_are_bad_requests() {
        for bad in [
            "displayName eq",
            "eq 'x'",
            "displayName like 'x'",
            "(a eq 'b'",
        ] {
            assert!(Filter::parse(bad).is_err(), "{bad}");
        }
    }
}
