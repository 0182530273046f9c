//! Settings of the Microsoft Graph (Entra ID) connector.

use std::collections::BTreeMap;
use std::path::PathBuf;

use model::ObjectType;

use crate::SecretSource;

/// Which Microsoft cloud: it picks both the sign-in host and the Graph host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GraphEnvironment {
    #[default]
    Global,
    /// US Government L4 (GCC High).
    UsGov,
    /// US Government L5 (DoD).
    UsGovDod,
    /// Microsoft Entra operated by 21Vianet.
    China,
}

impl GraphEnvironment {
    pub const NAMES: &'static [&'static str] = &["global", "usgov", "usgov-dod", "china"];

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "global" => Some(Self::Global),
            "usgov" => Some(Self::UsGov),
            "usgov-dod" => Some(Self::UsGovDod),
            "china" => Some(Self::China),
            _ => None,
        }
    }

    /// The authority root (`{login}/{tenant}/oauth2/v2.0/token`).
    pub fn login_url(self) -> &'static str {
        match self {
            Self::Global => "https://login.microsoftonline.com",
            Self::UsGov | Self::UsGovDod => "https://login.microsoftonline.us",
            Self::China => "https://login.partner.microsoftonline.cn",
        }
    }

    /// The Graph service root, without the version.
    pub fn graph_root(self) -> &'static str {
        match self {
            Self::Global => "https://graph.microsoft.com",
            Self::UsGov => "https://graph.microsoft.us",
            Self::UsGovDod => "https://dod-graph.microsoft.us",
            Self::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }
}

/// How the app proves who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphCredential {
    ClientSecret(SecretSource),
    /// A certificate registered on the app: a PEM file holding the certificate (and the
    /// key, unless `private_key` names another PEM file), or a PKCS#12 (`.pfx`/`.p12`)
    /// file opened with `password`.
    Certificate {
        certificate: PathBuf,
        private_key: Option<PathBuf>,
        password: Option<SecretSource>,
    },
}

/// Settings of a Microsoft Graph (Entra ID) connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphSettings {
    /// The tenant id or one of its verified domains.
    pub tenant: String,
    pub client_id: String,
    pub credential: GraphCredential,
    pub environment: GraphEnvironment,
    /// Overrides the environment's sign-in host (an emulator, a proxy).
    pub login_url: Option<String>,
    /// Overrides the environment's Graph root, including the version (`…/v1.0`).
    pub graph_url: Option<String>,
    /// An extra CA certificate (PEM) to trust, for an emulator or a TLS-inspecting proxy.
    pub ca_file: Option<PathBuf>,
    /// The object types imported and exported: `user`, `group`.
    pub object_types: Vec<ObjectType>,
    /// The UPN suffix given to new users whose flows give none; default the tenant's
    /// initial `onmicrosoft.com` domain.
    pub user_domain: Option<String>,
    /// Service plans to leave disabled, by SKU part number (`SPE_E3 = ["SWAY"]`).
    pub disabled_plans: BTreeMap<String, Vec<String>>,
    /// Guests (users created with `userType = "Guest"`) are invited; after redeeming, they
    /// land here.
    pub invite_redirect_url: String,
    /// The application (by appId) whose directory extensions users carry; default the
    /// connector's own app.
    pub extension_app: Option<String>,
    /// Directory extensions (string, on users) to create on that application when missing,
    /// by short name; flows write them as `extension_<appId without dashes>_<name>`.
    pub extensions: Vec<String>,
    /// Whether users carry `roles` (tenant-wide directory role assignments by role name);
    /// needs the RoleManagement.ReadWrite.Directory permission.
    pub directory_roles: bool,
    /// Whether Entra mails the invitation; off by default, so that the organisation can
    /// send its own welcome.
    pub send_invitations: bool,
}

/// Where a redeemed invitation lands when the settings name no other page.
pub const DEFAULT_INVITE_REDIRECT: &str = "https://myapplications.microsoft.com";

impl GraphSettings {
    pub const OBJECT_TYPES: &'static [&'static str] = &["user", "group"];

    pub fn login_url(&self) -> String {
        self.login_url
            .clone()
            .unwrap_or_else(|| self.environment.login_url().to_owned())
            .trim_end_matches('/')
            .to_owned()
    }

    pub fn graph_url(&self) -> String {
        self.graph_url
            .clone()
            .unwrap_or_else(|| format!("{}/v1.0", self.environment.graph_root()))
            .trim_end_matches('/')
            .to_owned()
    }

    /// The one scope a client-credentials token asks for.
    pub fn scope(&self) -> String {
        // An overridden Graph root (an emulator, a proxy) still serves the cloud's resource.
        format!("{}/.default", self.environment.graph_root())
    }
}
