//! Do the rules read attributes the connected system actually has? A flow that reads a
//! column the HR file no longer has would otherwise clear that attribute for everyone.

use config::Config;
use model::{AttributeName, ConnectorName, Schema};

/// One expression that reads an attribute the connector's schema does not offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownAttribute {
    pub rule: String,
    /// `flow givenName`, `join rule 1`, `scope`.
    pub place: String,
    pub attribute: AttributeName,
    pub expression: String,
    /// Where the expression is written in the configuration, when known.
    pub location: Option<String>,
}

impl std::fmt::Display for UnknownAttribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        write!(
            f,
            "{} of rule {} reads [{}], which the connector does not have ({})",
            self.place,
            self.rule,
            self.attribute,
            self.expression.trim()
        )
    }
}

/// Every attribute the inbound rules of `connector` read that `schema` lacks.
pub fn unknown_attributes(
    config: &Config,
    connector: &ConnectorName,
    schema: &Schema,
) -> Vec<UnknownAttribute> {
    let known = |name: &AttributeName| {
        schema
            .object_types
            .iter()
            .any(|t| t.attribute(name).is_some() || t.anchor.contains(name))
    };
    let mut problems = Vec::new();
    for rule in config.inbound.iter().filter(|r| &r.connector == connector) {
        let mut exprs: Vec<(String, &expr::Expression, Option<&str>)> = Vec::new();
        if let Some(scope) = &rule.scope {
            exprs.push(("scope".into(), scope, None));
        }
        for (n, join) in rule.join.iter().enumerate() {
            exprs.push((format!("join rule {}", n + 1), &join.expr, None));
        }
        for flow in &rule.flows {
            exprs.push((
                format!("flow {}", flow.target),
                &flow.expr,
                Some(flow.location.as_str()),
            ));
        }
        for (place, expression, location) in exprs {
            for attribute in expression.referenced_attributes() {
                if !known(&attribute) {
                    problems.push(UnknownAttribute {
                        rule: rule.name.to_string(),
                        place: place.clone(),
                        attribute,
                        expression: expression.source().to_owned(),
                        location: location.map(str::to_owned),
                    });
                }
            }
        }
    }
    problems
}

/// The attribute names a schema offers, for "the file has: ..." hints.
pub fn attribute_names(schema: &Schema) -> Vec<String> {
    schema
        .object_types
        .iter()
        .flat_map(|t| t.attributes.iter().map(|a| a.name.to_string()))
        .collect()
}
