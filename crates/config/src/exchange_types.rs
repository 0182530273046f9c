//! Settings of the Exchange Online connector (the admin endpoint `InvokeCommand`).

use std::path::PathBuf;

use model::ObjectType;

use crate::{GraphCredential, GraphEnvironment};

/// Settings of an Exchange Online connector. The app and credential are the same kind as
/// the Graph connector's (often the same app registration, with `Exchange.ManageAsApp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeSettings {
    /// The tenant id or one of its verified domains.
    pub tenant: String,
    pub client_id: String,
    pub credential: GraphCredential,
    pub environment: GraphEnvironment,
    /// Overrides the environment's sign-in host (an emulator, a proxy).
    pub login_url: Option<String>,
    /// Overrides the environment's Exchange host (the part before `/adminapi`).
    pub exchange_url: Option<String>,
    /// An extra CA certificate (PEM) to trust.
    pub ca_file: Option<PathBuf>,
    /// `mailContact`, `mailUser`, `distributionGroup`, `mailbox`.
    pub object_types: Vec<ObjectType>,
    /// Objects per page (`Prefer: odata.maxpagesize`, 1–1000).
    pub page_size: usize,
}

impl ExchangeSettings {
    pub const OBJECT_TYPES: &'static [&'static str] =
        &["mailContact", "mailUser", "distributionGroup", "mailbox"];

    pub fn login_url(&self) -> String {
        self.login_url
            .clone()
            .unwrap_or_else(|| self.environment.login_url().to_owned())
            .trim_end_matches('/')
            .to_owned()
    }

    /// The cloud's Exchange host, which is also the token's resource.
    pub fn resource(&self) -> &'static str {
        match self.environment {
            GraphEnvironment::Global => "https://outlook.office365.com",
            GraphEnvironment::UsGov => "https://outlook.office365.us",
            GraphEnvironment::UsGovDod => "https://outlook-dod.office365.us",
            GraphEnvironment::China => "https://partner.outlook.cn",
        }
    }

    /// The `InvokeCommand` URL.
    pub fn invoke_url(&self) -> String {
        let root = self
            .exchange_url
            .clone()
            .unwrap_or_else(|| self.resource().to_owned());
        format!(
            "{}/adminapi/beta/{}/InvokeCommand",
            root.trim_end_matches('/'),
            self.tenant
        )
    }

    /// The one scope a client-credentials token asks for.
    pub fn scope(&self) -> String {
        format!("{}/.default", self.resource())
    }
}
