//! The one place that turns connector settings into connectors: a closed enum and one
//! `match` per operation, so adding a connector type is greppable and exhaustive.

use std::path::Path;

use config::{ConnectorConfig, ConnectorKind};
use connector::{
    Connector, ConnectorError, ExportOutcome, ExportRequest, Exporter, Health, ImportPage,
    ImportRequest,
};
use connector_csv::CsvConnector;
use connector_ldap::LdapConnector;
use model::{Anchor, AttributeName, Attributes, Schema};

// One per connector in a run: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum AnyConnector {
    Csv(CsvConnector),
    Ldap(LdapConnector),
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
            // Its paths (the CA file) are absolute already.
            ConnectorKind::Ldap(settings) => {
                Ok(AnyConnector::Ldap(LdapConnector::new(settings.clone())))
            }
        }
    }

    pub async fn schema(&mut self) -> Result<Schema, ConnectorError> {
        match self {
            AnyConnector::Csv(c) => c.schema().await,
            AnyConnector::Ldap(c) => c.schema().await,
        }
    }

    pub async fn check(&mut self) -> Result<Health, ConnectorError> {
        match self {
            AnyConnector::Csv(c) => c.check().await,
            AnyConnector::Ldap(c) => c.check().await,
        }
    }

    pub async fn import(&mut self, request: ImportRequest) -> Result<ImportPage, ConnectorError> {
        match self {
            AnyConnector::Csv(c) => c.import(request).await,
            AnyConnector::Ldap(c) => c.import(request).await,
        }
    }

    /// The export batch size, or `None` for a connector that cannot export.
    pub fn batch_size(&self) -> Option<usize> {
        match self {
            AnyConnector::Csv(c) => Some(c.batch_size()),
            AnyConnector::Ldap(c) => Some(c.batch_size()),
        }
    }

    pub async fn export(
        &mut self,
        batch: Vec<ExportRequest>,
    ) -> Result<Vec<ExportOutcome>, ConnectorError> {
        match self {
            AnyConnector::Csv(c) => c.export(batch).await,
            AnyConnector::Ldap(c) => c.export(batch).await,
        }
    }

    pub async fn finish_export(&mut self) -> Result<(), ConnectorError> {
        match self {
            AnyConnector::Csv(c) => c.finish().await,
            AnyConnector::Ldap(c) => c.finish().await,
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
        // The directory assigns entryUUID and objectGUID.
        ConnectorKind::Ldap(_) => None,
    }
}
