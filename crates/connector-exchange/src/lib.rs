//! The Exchange Online connector, over the admin endpoint the ExchangeOnlineManagement
//! module itself uses (`POST /adminapi/beta/{tenant}/InvokeCommand`): every cmdlet is an
//! HTTPS call (alone, or up to ten in one `$batch`), so no Windows machine and no
//! PowerShell are involved.
//!
//! Object types: `mailContact` (anchored by Exchange's `Guid`), `mailUser`,
//! `distributionGroup` and `mailbox` (anchored by `ExternalDirectoryObjectId`, the Entra
//! object id, so they line up with the Graph connector's users and groups). User mailboxes
//! and mail users are never created or deleted here: a licence or an invitation in Entra
//! makes them, and this connector sets what Exchange alone holds, waiting until they exist.
//! Shared mailboxes are made with `New-Mailbox -Shared`.
//!
//! **No cmdlet that takes a password is used.**

mod client;
mod export;
mod import;
pub mod schema;

use std::time::Duration;

use config::ExchangeSettings;
use connector::{
    Connector, ConnectorError, ExportOutcome, ExportRequest, Exporter, Health, ImportPage,
    ImportRequest,
};
use connector_graph::auth;
use model::Schema;
use serde_json::json;

pub use client::{Call, CmdletFailure, ExchangeClient, MAX_BATCH, Traffic};

/// Requests per call to `export`.
const EXPORT_BATCH: usize = 50;

#[derive(Debug)]
pub struct ExchangeConnector {
    settings: ExchangeSettings,
    client: Option<ExchangeClient>,
    trustees: import::Trustees,
}

impl ExchangeConnector {
    pub fn new(settings: ExchangeSettings) -> Self {
        Self {
            settings,
            client: None,
            trustees: import::Trustees::default(),
        }
    }

    /// Requests and throttling so far (`None` before the first call).
    pub fn traffic(&self) -> Option<Traffic> {
        self.client.as_ref().map(|c| c.traffic)
    }

    fn client(&mut self) -> Result<&mut ExchangeClient, ConnectorError> {
        if self.client.is_none() {
            let settings = &self.settings;
            let tokens = auth::token_source(
                &settings.credential,
                &settings.login_url(),
                &settings.tenant,
                &settings.client_id,
                settings.scope(),
            )?;
            // Cmdlets run up to 15 minutes on the server; the module waits 16.
            let http = auth::https_client(Duration::from_secs(960), settings.ca_file.as_deref())?;
            self.client = Some(ExchangeClient::new(
                http,
                tokens,
                self.settings.invoke_url(),
                &self.settings.tenant,
                self.settings.page_size,
            ));
        }
        Ok(self.client.as_mut().expect("set above"))
    }
}

pub(crate) fn connector_error(failure: CmdletFailure) -> ConnectorError {
    match failure {
        CmdletFailure::Busy {
            message,
            retry_after,
        } => ConnectorError::Unavailable {
            message,
            retry_after,
        },
        CmdletFailure::Denied(m) => ConnectorError::Denied(m),
        CmdletFailure::NotFound(m) | CmdletFailure::Rejected(m) | CmdletFailure::Protocol(m) => {
            ConnectorError::Protocol(m)
        }
    }
}

impl Connector for ExchangeConnector {
    async fn schema(&mut self) -> Result<Schema, ConnectorError> {
        Ok(Schema {
            object_types: self
                .settings
                .object_types
                .iter()
                .filter_map(schema::object_type_schema)
                .collect(),
        })
    }

    async fn check(&mut self) -> Result<Health, ConnectorError> {
        let url = self.settings.invoke_url();
        let client = self.client()?;
        let mut health = Health::default();
        match client
            .page(
                "Get-Recipient",
                &json!({"ResultSize": 1}),
                Some("Guid"),
                None,
            )
            .await
        {
            Ok(_) => health
                .passed
                .push(format!("ran Get-Recipient at {url} with an app-only token")),
            Err(CmdletFailure::Busy { message, .. }) => health.problems.push(message),
            Err(e) => health.problems.push(format!("Get-Recipient at {url}: {e}")),
        }
        Ok(health)
    }

    async fn import(&mut self, request: ImportRequest) -> Result<ImportPage, ConnectorError> {
        let types = self.settings.object_types.clone();
        self.client()?;
        let client = self.client.as_mut().expect("made above");
        import::page(client, &mut self.trustees, &types, request).await
    }
}

impl Exporter for ExchangeConnector {
    fn batch_size(&self) -> usize {
        EXPORT_BATCH
    }

    async fn export(
        &mut self,
        batch: Vec<ExportRequest>,
    ) -> Result<Vec<ExportOutcome>, ConnectorError> {
        let client = self.client()?;
        export::export(client, batch).await
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
