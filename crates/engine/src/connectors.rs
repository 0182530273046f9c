//! The one place that turns connector settings into connectors: a closed enum and one
//! `match` per operation, so adding a connector type is greppable and exhaustive.

use std::path::Path;

use config::{ConnectorConfig, ConnectorKind};
use connector::{
    Connector, ConnectorError, ExportOutcome, ExportRequest, Exporter, Health, ImportPage,
    ImportRequest,
};
use connector_csv::CsvConnector;
use connector_exchange::ExchangeConnector;
use connector_graph::GraphConnector;
use connector_ldap::LdapConnector;
use model::{Anchor, AttributeName, Attributes, Schema};

// One per connector for a run: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum AnyConnector {
    Csv(CsvConnector),
    Graph(GraphConnector),
    Ldap(LdapConnector),
    Exchange(ExchangeConnector),
}

impl AnyConnector {
    /// Builds the connector for its settings; relative paths are resolved against `base`,
    /// the configuration file's directory. `target_only` says idsync only writes to it (no
    /// inbound rule reads it), so a file that does not exist yet is an empty system.
    pub fn open(
        config: &ConnectorConfig,
        base: &Path,
        target_only: bool,
    ) -> Result<Self, ConnectorError> {
        match &config.kind {
            ConnectorKind::Csv(settings) => {
                let mut settings = settings.clone();
                settings.path = base.join(&settings.path);
                settings.drop_dir = settings.drop_dir.map(|d| base.join(d));
                Ok(AnyConnector::Csv(
                    CsvConnector::new(settings).with_missing_as_empty(target_only),
                ))
            }
            ConnectorKind::Graph(settings) => Ok(AnyConnector::Graph(GraphConnector::new(
                (**settings).clone(),
            ))),
            // Its paths (the CA file) are absolute already.
            ConnectorKind::Ldap(settings) => {
                Ok(AnyConnector::Ldap(LdapConnector::new(settings.clone())))
            }
            ConnectorKind::Exchange(settings) => Ok(AnyConnector::Exchange(
                ExchangeConnector::new((**settings).clone()),
            )),
        }
    }

    /// Tells the connector which attributes the rules use, so that an import reads only
    /// those (Graph's `$select`). Connectors that read whole records ignore it.
    pub fn read_only(&mut self, attributes: Vec<AttributeName>) {
        match self {
            AnyConnector::Csv(_) => {}
            AnyConnector::Graph(c) => c.read_only(attributes),
            AnyConnector::Ldap(_) | AnyConnector::Exchange(_) => {}
        }
    }

    pub async fn schema(&mut self) -> Result<Schema, ConnectorError> {
        match self {
            AnyConnector::Csv(c) => c.schema().await,
            AnyConnector::Graph(c) => c.schema().await,
            AnyConnector::Ldap(c) => c.schema().await,
            AnyConnector::Exchange(c) => c.schema().await,
        }
    }

    pub async fn check(&mut self) -> Result<Health, ConnectorError> {
        match self {
            AnyConnector::Csv(c) => c.check().await,
            AnyConnector::Graph(c) => c.check().await,
            AnyConnector::Ldap(c) => c.check().await,
            AnyConnector::Exchange(c) => c.check().await,
        }
    }

    pub async fn import(&mut self, request: ImportRequest) -> Result<ImportPage, ConnectorError> {
        match self {
            AnyConnector::Csv(c) => c.import(request).await,
            AnyConnector::Graph(c) => c.import(request).await,
            AnyConnector::Ldap(c) => c.import(request).await,
            AnyConnector::Exchange(c) => c.import(request).await,
        }
    }

    /// The export batch size, or `None` for a connector that cannot export.
    pub fn batch_size(&self) -> Option<usize> {
        match self {
            AnyConnector::Csv(c) => Some(c.batch_size()),
            AnyConnector::Graph(c) => Some(c.batch_size()),
            AnyConnector::Ldap(c) => Some(c.batch_size()),
            AnyConnector::Exchange(c) => Some(c.batch_size()),
        }
    }

    pub async fn export(
        &mut self,
        batch: Vec<ExportRequest>,
    ) -> Result<Vec<ExportOutcome>, ConnectorError> {
        match self {
            AnyConnector::Csv(c) => c.export(batch).await,
            AnyConnector::Graph(c) => c.export(batch).await,
            AnyConnector::Ldap(c) => c.export(batch).await,
            AnyConnector::Exchange(c) => c.export(batch).await,
        }
    }

    /// See [`Exporter::counted_attributes`].
    pub fn counted_attributes(&self) -> Vec<AttributeName> {
        match self {
            AnyConnector::Csv(c) => c.counted_attributes(),
            AnyConnector::Graph(c) => c.counted_attributes(),
            AnyConnector::Ldap(c) => c.counted_attributes(),
            AnyConnector::Exchange(c) => c.counted_attributes(),
        }
    }

    /// See [`Exporter::capacity_problems`].
    pub async fn capacity_problems(
        &mut self,
        additions: &connector::Additions,
    ) -> Result<Vec<String>, ConnectorError> {
        match self {
            AnyConnector::Csv(c) => c.capacity_problems(additions).await,
            AnyConnector::Graph(c) => c.capacity_problems(additions).await,
            AnyConnector::Ldap(c) => c.capacity_problems(additions).await,
            AnyConnector::Exchange(c) => c.capacity_problems(additions).await,
        }
    }

    pub async fn finish_export(&mut self) -> Result<(), ConnectorError> {
        match self {
            AnyConnector::Csv(c) => c.finish().await,
            AnyConnector::Graph(c) => c.finish().await,
            AnyConnector::Ldap(c) => c.finish().await,
            AnyConnector::Exchange(c) => c.finish().await,
        }
    }
}

/// Attributes of a connector whose references are anchors of another connector.
pub fn reference_targets(
    config: &config::Config,
    connector: &model::ConnectorName,
) -> std::collections::HashMap<AttributeName, model::ConnectorName> {
    match config.connector(connector).map(|c| &c.kind) {
        Some(ConnectorKind::Csv(csv)) => csv
            .columns
            .iter()
            .filter_map(|(name, spec)| {
                Some((AttributeName::new(name.as_str()), spec.refers_to.clone()?))
            })
            .collect(),
        _ => Default::default(),
    }
}

/// The attributes the rules read from or write to a connector: what inbound flows, joins
/// and scopes read, what outbound flows write and outbound joins read, and the attribute a
/// disable sets.
pub fn attributes_in_use(
    config: &config::Config,
    connector: &model::ConnectorName,
) -> Vec<AttributeName> {
    let mut names: Vec<AttributeName> = Vec::new();
    let mut add = |name: AttributeName| {
        if !names.contains(&name) {
            names.push(name);
        }
    };
    for rule in config.inbound.iter().filter(|r| &r.connector == connector) {
        let expressions = rule
            .flows
            .iter()
            .map(|f| &f.expr)
            .chain(rule.join.iter().map(|j| &j.expr))
            .chain(rule.scope.iter());
        for expression in expressions {
            expression
                .referenced_attributes()
                .into_iter()
                .for_each(&mut add);
        }
    }
    for rule in config.outbound.iter().filter(|r| &r.connector == connector) {
        rule.flows
            .iter()
            .map(|f| f.target.clone())
            .for_each(&mut add);
        for join in &rule.join {
            join.expr
                .referenced_attributes()
                .into_iter()
                .for_each(&mut add);
        }
        if let config::DeprovisionAction::Disable { attribute, .. } = &rule.deprovision {
            add(attribute.clone());
        }
    }
    names
}

/// The attributes of an existing object that its system only takes from elsewhere, and why:
/// Entra refuses changes to the on-premises-mastered attributes of a synchronized user.
pub fn mastered_elsewhere(
    config: &config::Config,
    connector: &model::ConnectorName,
    cs: &store::CsObject,
) -> Option<(Vec<AttributeName>, &'static str)> {
    match &config.connector(connector)?.kind {
        ConnectorKind::Csv(_) | ConnectorKind::Ldap(_) => None,
        ConnectorKind::Exchange(_) => {
            let attributes =
                connector_exchange::schema::mastered_on_premises(&cs.object_type, &cs.attributes);
            (!attributes.is_empty()).then_some((
                attributes,
                "mastered on-premises: the recipient is synchronized from Active Directory",
            ))
        }
        ConnectorKind::Graph(_) => {
            let attributes =
                connector_graph::properties::mastered_on_premises(&cs.object_type, &cs.attributes);
            (!attributes.is_empty()).then_some((
                attributes,
                "mastered on-premises: the user is synchronized from Active Directory",
            ))
        }
    }
}

/// The attributes of an object type that hold several values in the target, so that a
/// change from one member to another is a remove and an add, never a replacement that
/// would have to rewrite the whole list.
pub fn multi_valued(
    config: &config::Config,
    connector: &model::ConnectorName,
    object_type: &model::ObjectType,
) -> Vec<AttributeName> {
    let Some(settings) = config.connector(connector) else {
        return Vec::new();
    };
    match &settings.kind {
        ConnectorKind::Csv(csv) => csv
            .columns
            .iter()
            .filter(|(_, spec)| spec.multi.is_some())
            .map(|(name, _)| AttributeName::new(name.as_str()))
            .collect(),
        ConnectorKind::Graph(_) => connector_graph::properties::properties(object_type)
            .iter()
            .filter(|p| p.multi)
            .map(|p| AttributeName::new(p.name))
            .collect(),
        // DN-valued group membership: a one-member change is a remove and an add.
        ConnectorKind::Ldap(_) => vec![
            AttributeName::new("member"),
            AttributeName::new("uniqueMember"),
        ],
        ConnectorKind::Exchange(_) => {
            connector_exchange::schema::multi_valued(object_type.as_str())
                .iter()
                .map(|name| AttributeName::new(*name))
                .collect()
        }
    }
}

/// The anchor a create will get, when the target takes it from the object's own attributes
/// (a CSV file's anchor columns, joined with `|` as the connector joins them); `None` when
/// the system assigns it (a Graph id, an objectGUID).
pub fn planned_anchor(config: &ConnectorConfig, attributes: &Attributes) -> Option<Anchor> {
    match &config.kind {
        ConnectorKind::Csv(settings) => {
            let parts: Option<Vec<String>> = settings
                .anchor
                .iter()
                .map(|column| {
                    attributes
                        .first(&AttributeName::new(column.as_str()))
                        .map(|v| v.to_text())
                        .filter(|text| !text.is_empty())
                })
                .collect();
            parts.map(|parts| Anchor::new(parts.join("|")))
        }
        // Graph assigns the object id.
        ConnectorKind::Graph(_) => None,
        // The directory assigns entryUUID and objectGUID.
        ConnectorKind::Ldap(_) => None,
        // Exchange assigns the Guid; a mailbox's anchor is its user's Entra id.
        ConnectorKind::Exchange(_) => None,
    }
}
