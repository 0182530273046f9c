//! The Microsoft Entra ID connector, over Microsoft Graph v1.0.
//!
//! Object types `user` and `group`, anchored by Graph's object id. Users carry Graph's
//! property names plus `manager` (a reference) and `licenses` (SKU part numbers); groups
//! carry `members` (references). See `docs/connectors.md` for what each attribute means.

pub mod auth;
mod client;
mod error;
mod export;
mod import;
mod licenses;
pub mod properties;
mod roles;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use config::GraphSettings;
use connector::{
    Connector, ConnectorError, ExportOutcome, ExportRequest, Exporter, Health, ImportMode,
    ImportPage, ImportRequest,
};
use model::Schema;
use serde_json::Value as Json;

pub use client::{GraphClient, Traffic};
pub use error::GraphError;
pub use licenses::SkuCatalogue;

use crate::export::{ExportContext, Pacing};
use crate::import::{Cursor, DeltaLinks, GROUP_PAGE, PageReader, Stage, USER_PAGE};
use crate::properties::{GROUP, USER};

/// Requests in one call to `export`: enough to keep several batches of 20 in flight.
const EXPORT_BATCH: usize = 200;

#[derive(Debug)]
pub struct GraphConnector {
    settings: GraphSettings,
    client: Option<Arc<GraphClient>>,
    skus: Option<SkuCatalogue>,
    user_domain: Option<String>,
    /// Groups seen in the current import round (a large group spans pages).
    seen_groups: HashSet<String>,
    pacing: Pacing,
    /// Objects per page; Graph's maximum unless a test wants more pages.
    page_size: usize,
    /// The next page, requested while the engine works on the current one.
    prefetch: Option<Prefetch>,
    /// The directory extensions users carry (`extension_<appId>_<name>`), once discovered.
    extensions: Option<Vec<String>>,
    /// The tenant's role definitions, once read.
    roles: Option<roles::RoleCatalogue>,
    /// Tenant-wide role holders (principal id → role names) as of this import.
    role_holders: Option<BTreeMap<String, Vec<String>>>,
    /// Entries found before the first page (role changes of a delta), returned with it.
    pending: Vec<connector::ImportEntry>,
    /// The attributes the rules use, when the engine said; an import selects only these.
    in_use: Option<Vec<model::AttributeName>>,
}

#[derive(Debug)]
struct Prefetch {
    url: String,
    task: tokio::task::JoinHandle<Result<Json, GraphError>>,
}

/// GETs one page of an import stage.
async fn fetch_page(
    client: Arc<GraphClient>,
    url: String,
    stage: Stage,
    page_size: usize,
) -> Result<Json, GraphError> {
    match stage {
        Stage::Users => client.get(&url, &[]).await,
        Stage::Groups => {
            let prefer = format!("odata.maxpagesize={}", page_size.min(GROUP_PAGE));
            client.get(&url, &[("Prefer", &prefer)]).await
        }
    }
}

impl GraphConnector {
    pub fn new(settings: GraphSettings) -> Self {
        Self {
            settings,
            client: None,
            skus: None,
            user_domain: None,
            seen_groups: HashSet::new(),
            pacing: Pacing::default(),
            page_size: USER_PAGE,
            prefetch: None,
            extensions: None,
            roles: None,
            role_holders: None,
            pending: Vec::new(),
            in_use: None,
        }
    }

    /// Imports read only these attributes (and what the connector itself needs).
    pub fn read_only(&mut self, attributes: Vec<model::AttributeName>) {
        self.in_use = (!attributes.is_empty()).then_some(attributes);
    }

    fn user_select(&self, extensions: &[String]) -> String {
        import::user_select(extensions, self.in_use.as_deref())
    }

    fn group_select(&self) -> String {
        import::group_select(self.in_use.as_deref())
    }

    /// Everything an import selects, as the watermark remembers it.
    fn selection(&self, extensions: &[String]) -> String {
        format!(
            "users({}) groups({})",
            self.user_select(extensions),
            self.group_select()
        )
    }

    /// Reads `size` objects per page instead of Graph's maximum of 999.
    pub fn with_page_size(mut self, size: usize) -> Self {
        self.page_size = size.clamp(1, USER_PAGE);
        self
    }

    /// Requests sent so far, for benchmarks and reports.
    pub fn traffic(&self) -> Option<&Traffic> {
        self.client.as_ref().map(|c| &c.traffic)
    }

    fn serves(&self, object_type: &str) -> bool {
        self.settings
            .object_types
            .iter()
            .any(|t| t.as_str().eq_ignore_ascii_case(object_type))
    }

    /// The HTTP client, made on first use: reading the credential can fail, and a failure
    /// should be reported by the operation that needed it.
    fn client(&mut self) -> Result<Arc<GraphClient>, ConnectorError> {
        if let Some(client) = &self.client {
            return Ok(client.clone());
        }
        let settings = &self.settings;
        let tokens = auth::token_source(
            &settings.credential,
            &settings.login_url(),
            &settings.tenant,
            &settings.client_id,
            settings.scope(),
        )?;
        let http = auth::https_client(Duration::from_secs(100), settings.ca_file.as_deref())?;
        let client = GraphClient::new(http, self.settings.graph_url(), tokens);
        self.client = Some(client.clone());
        Ok(client)
    }

    async fn skus(&mut self) -> Result<&SkuCatalogue, ConnectorError> {
        if self.skus.is_none() {
            let client = self.client()?;
            let body = client.get("subscribedSkus", &[]).await?;
            self.skus = Some(SkuCatalogue::from_json(&body));
        }
        Ok(self.skus.as_ref().expect("loaded above"))
    }

    async fn role_catalogue(&mut self) -> Result<&roles::RoleCatalogue, ConnectorError> {
        if self.roles.is_none() {
            let client = self.client()?;
            let body = client
                .get(
                    "roleManagement/directory/roleDefinitions?$select=id,displayName",
                    &[],
                )
                .await?;
            self.roles = Some(roles::RoleCatalogue::from_json(&body));
        }
        Ok(self.roles.as_ref().expect("loaded above"))
    }

    /// Who holds which role tenant-wide, when the settings ask for roles.
    async fn read_role_holders(
        &mut self,
    ) -> Result<Option<BTreeMap<String, Vec<String>>>, ConnectorError> {
        if !self.settings.directory_roles || !self.serves(USER) {
            return Ok(None);
        }
        let client = self.client()?;
        let assignments = client
            .get(
                "roleManagement/directory/roleAssignments?$filter=directoryScopeId eq '/'",
                &[],
            )
            .await?;
        Ok(Some(self.role_catalogue().await?.holders(&assignments)))
    }

    /// The directory extensions of the extension application that apply to users,
    /// creating the configured ones that are missing.
    async fn extensions(&mut self) -> Result<Vec<String>, ConnectorError> {
        if let Some(known) = &self.extensions {
            return Ok(known.clone());
        }
        let client = self.client()?;
        let app_id = self
            .settings
            .extension_app
            .clone()
            .unwrap_or_else(|| self.settings.client_id.clone());
        let wanted = &self.settings.extensions;
        let applications = match client.get("applications?$select=id,appId", &[]).await {
            Ok(body) => body,
            // Reading applications needs Application.Read.All; without configured
            // extensions the connector does without.
            Err(GraphError::Rejected { status: 403, .. }) if wanted.is_empty() => {
                self.extensions = Some(Vec::new());
                return Ok(Vec::new());
            }
            Err(e) => return Err(e.into()),
        };
        let object_id = applications["value"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| {
                a["appId"]
                    .as_str()
                    .is_some_and(|id| id.eq_ignore_ascii_case(&app_id))
            })
            .and_then(|a| a["id"].as_str())
            .map(str::to_owned);
        let Some(object_id) = object_id else {
            if wanted.is_empty() {
                self.extensions = Some(Vec::new());
                return Ok(Vec::new());
            }
            return Err(ConnectorError::Config(format!(
                "the application {app_id} that should hold the directory extensions is not in the tenant"
            )));
        };
        let path = format!("applications/{object_id}/extensionProperties");
        let existing = client.get(&path, &[]).await?;
        let mut names: Vec<String> = existing["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| {
                e["targetObjects"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == "User"))
            })
            .filter_map(|e| e["name"].as_str().map(str::to_owned))
            .collect();
        let prefix = format!("extension_{}_", app_id.replace('-', ""));
        for short in wanted {
            let full = format!("{prefix}{short}");
            if names.iter().any(|n| n.eq_ignore_ascii_case(&full)) {
                continue;
            }
            let body =
                serde_json::json!({"name": short, "dataType": "String", "targetObjects": ["User"]});
            let reply = client
                .send(reqwest::Method::POST, &path, Some(&body), &[])
                .await?;
            if !reply.is_success() {
                return Err(ConnectorError::Config(format!(
                    "cannot create the directory extension {full}: {}",
                    reply.error("POST extensionProperties")
                )));
            }
            tracing::info!(extension = %full, "created the directory extension");
            names.push(reply.body["name"].as_str().unwrap_or(&full).to_owned());
        }
        self.extensions = Some(names.clone());
        Ok(names)
    }

    /// The UPN suffix for new users: the configured one, else the tenant's initial domain.
    async fn user_domain(&mut self) -> Result<String, ConnectorError> {
        if let Some(domain) = self
            .settings
            .user_domain
            .clone()
            .or(self.user_domain.clone())
        {
            return Ok(domain);
        }
        let client = self.client()?;
        let body = client.get("domains", &[]).await?;
        let initial = body["value"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["isInitial"].as_bool() == Some(true))
            .and_then(|d| d["id"].as_str())
            .ok_or_else(|| ConnectorError::Protocol("the tenant lists no initial domain".into()))?
            .to_owned();
        self.user_domain = Some(initial.clone());
        Ok(initial)
    }

    /// The application permissions the settings need, each with whether
    /// `Directory.ReadWrite.All` covers it.
    fn required_permissions(&self) -> Vec<(&'static str, bool)> {
        let mut needed = Vec::new();
        if self.serves(USER) {
            needed.push(("User.ReadWrite.All", true));
        }
        if self.serves(GROUP) {
            needed.push(("Group.ReadWrite.All", true));
        }
        if self.settings.directory_roles {
            needed.push(("RoleManagement.ReadWrite.Directory", false));
        }
        if !self.settings.extensions.is_empty() {
            needed.push(("Application.ReadWrite.All", false));
        }
        needed
    }

    fn first_stage(&self) -> Stage {
        if self.serves(USER) {
            Stage::Users
        } else {
            Stage::Groups
        }
    }

    /// The first page of a full import: a delta link that starts now for users (so the next
    /// delta import sees what changes while we page), then the first page of users.
    async fn start_full(&mut self) -> Result<Cursor, ConnectorError> {
        self.seen_groups.clear();
        let client = self.client()?;
        let mut links = DeltaLinks::default();
        self.role_holders = self.read_role_holders().await?;
        links.roles = self.role_holders.clone();
        let extensions = if self.serves(USER) {
            self.extensions().await?
        } else {
            Vec::new()
        };
        links.select = Some(self.selection(&extensions));
        let stage = self.first_stage();
        let next = match stage {
            Stage::Users => {
                let select = self.user_select(&extensions);
                let expand = if import::wants_manager(self.in_use.as_deref()) {
                    "&$expand=manager($select=id)"
                } else {
                    ""
                };
                let latest = client
                    .get(
                        &format!("users/delta?$deltatoken=latest&$select={select}"),
                        &[],
                    )
                    .await?;
                links.users = latest["@odata.deltaLink"].as_str().map(str::to_owned);
                client.url(&format!(
                    "users?$select={select}&$top={}{expand}",
                    self.page_size
                ))
            }
            Stage::Groups => client.url(&format!("groups/delta?$select={}", self.group_select())),
        };
        Ok(Cursor {
            mode: ImportMode::Full,
            stage,
            next,
            links,
        })
    }

    async fn start_delta(
        &mut self,
        mut links: DeltaLinks,
    ) -> Result<Option<Cursor>, ConnectorError> {
        self.seen_groups.clear();
        let extensions = if self.serves(USER) {
            self.extensions().await?
        } else {
            Vec::new()
        };
        if links.select.as_deref() != Some(self.selection(&extensions).as_str()) {
            tracing::info!(
                "the rules now use other attributes than the last import read; reading everything again"
            );
            return Ok(None);
        }
        // Role assignments have no delta query: compare them with the last import's.
        self.role_holders = self.read_role_holders().await?;
        if let Some(now) = &self.role_holders {
            let before = links.roles.clone().unwrap_or_default();
            let principals: std::collections::BTreeSet<&String> =
                before.keys().chain(now.keys()).collect();
            for principal in principals {
                let (old, new) = (before.get(principal), now.get(principal));
                if old != new {
                    self.pending.push(connector::ImportEntry::Modify {
                        anchor: model::Anchor::new(principal.as_str()),
                        object_type: model::ObjectType::new(USER),
                        changes: vec![model::AttributeChange::replace(
                            model::AttributeName::new(properties::ROLES),
                            new.into_iter()
                                .flatten()
                                .cloned()
                                .map(model::Value::String)
                                .collect(),
                        )],
                    });
                }
            }
            links.roles = Some(now.clone());
        }
        let stage = self.first_stage();
        let next = match stage {
            Stage::Users => links.users.clone(),
            Stage::Groups => links.groups.clone(),
        };
        Ok(next.map(|next| Cursor {
            mode: ImportMode::Delta,
            stage,
            next,
            links,
        }))
    }

    async fn read_page(&mut self, mut cursor: Cursor) -> Result<ImportPage, ConnectorError> {
        let client = self.client()?;
        let fetched = match self.prefetch.take() {
            Some(prefetch) if prefetch.url == cursor.next => match prefetch.task.await {
                Ok(result) => result,
                Err(join) => Err(GraphError::Protocol(format!(
                    "reading ahead failed: {join}"
                ))),
            },
            stale => {
                if let Some(stale) = stale {
                    stale.task.abort();
                }
                fetch_page(
                    client.clone(),
                    cursor.next.clone(),
                    cursor.stage,
                    self.page_size,
                )
                .await
            }
        };
        let mut body = match fetched {
            Ok(body) => body,
            Err(error) if import::is_expired_link(&error) && cursor.mode == ImportMode::Delta => {
                return Box::pin(self.expired(cursor, error)).await;
            }
            Err(error) => return Err(error.into()),
        };
        if cursor.stage == Stage::Users
            && body["value"].as_array().is_some_and(|v| {
                v.iter().any(|u| {
                    !u["assignedLicenses"]
                        .as_array()
                        .is_none_or(|l| l.is_empty())
                })
            })
        {
            self.skus().await?;
        }
        let mut page = ImportPage {
            mode: cursor.mode,
            entries: std::mem::take(&mut self.pending),
            problems: Vec::new(),
            next: None,
            watermark: None,
        };
        let empty = SkuCatalogue::default();
        let mut reader = PageReader {
            mode: cursor.mode,
            skus: self.skus.as_ref().unwrap_or(&empty),
            seen_groups: &mut self.seen_groups,
            roles: self.role_holders.as_ref(),
        };
        reader.read(cursor.stage, &mut body, &mut page);
        if let Some(next) = body["@odata.nextLink"].as_str() {
            cursor.next = next.to_owned();
            page.next = Some(cursor.to_page_cursor());
            self.read_ahead(&client, &cursor);
            return Ok(page);
        }
        // The stage is complete: remember its delta link and go on to groups, if served.
        if let Some(link) = body["@odata.deltaLink"].as_str() {
            match cursor.stage {
                Stage::Users => cursor.links.users = Some(link.to_owned()),
                Stage::Groups => cursor.links.groups = Some(link.to_owned()),
            }
        }
        if cursor.stage == Stage::Users && self.serves(GROUP) {
            cursor.stage = Stage::Groups;
            cursor.next = match (&cursor.mode, &cursor.links.groups) {
                (ImportMode::Delta, Some(link)) => link.clone(),
                _ => client.url(&format!("groups/delta?$select={}", self.group_select())),
            };
            page.next = Some(cursor.to_page_cursor());
            self.read_ahead(&client, &cursor);
            return Ok(page);
        }
        page.watermark = Some(cursor.links.to_watermark());
        Ok(page)
    }

    /// Starts fetching the page `cursor` points at, so that Graph works on it while the
    /// engine stores the page just returned.
    fn read_ahead(&mut self, client: &Arc<GraphClient>, cursor: &Cursor) {
        let task = tokio::spawn(fetch_page(
            client.clone(),
            cursor.next.clone(),
            cursor.stage,
            self.page_size,
        ));
        self.prefetch = Some(Prefetch {
            url: cursor.next.clone(),
            task,
        });
    }

    /// A delta link Graph no longer honours: users start over with a full import (said in
    /// the log); groups, met later in the same import, are re-read whole as upserts.
    async fn expired(
        &mut self,
        cursor: Cursor,
        error: GraphError,
    ) -> Result<ImportPage, ConnectorError> {
        tracing::warn!(
            stage = ?cursor.stage,
            %error,
            "the stored delta link has expired; reading everything again"
        );
        match cursor.stage {
            Stage::Users => {
                let full = self.start_full().await?;
                self.read_page(full).await
            }
            Stage::Groups => {
                let client = self.client()?;
                let restarted = Cursor {
                    mode: ImportMode::Delta,
                    stage: Stage::Groups,
                    next: client.url(&format!("groups/delta?$select={}", self.group_select())),
                    links: DeltaLinks {
                        groups: None,
                        ..cursor.links
                    },
                };
                self.read_page(restarted).await
            }
        }
    }
}

impl Connector for GraphConnector {
    async fn schema(&mut self) -> Result<Schema, ConnectorError> {
        let extensions = self.extensions().await?;
        let types = self
            .settings
            .object_types
            .iter()
            .map(|t| {
                let extensions: &[String] = if t.as_str().eq_ignore_ascii_case(USER) {
                    &extensions
                } else {
                    &[]
                };
                properties::object_schema(t.as_str(), extensions)
            })
            .collect();
        Ok(Schema {
            object_types: types,
        })
    }

    async fn check(&mut self) -> Result<Health, ConnectorError> {
        let mut health = Health::default();
        let client = self.client()?;
        let token = client.token().await?;
        health.passed.push(format!(
            "token for app {} from {}",
            self.settings.client_id,
            self.settings.login_url()
        ));
        let roles = token_roles(token.expose());
        let missing: Vec<String> = self
            .required_permissions()
            .into_iter()
            .filter(|(needed, directory_will_do)| {
                !roles.iter().any(|have| {
                    have == needed || (*directory_will_do && have == "Directory.ReadWrite.All")
                })
            })
            .map(|(needed, _)| needed.to_owned())
            .collect();
        if missing.is_empty() {
            health
                .passed
                .push(format!("application permissions: {}", roles.join(", ")));
        } else {
            health.problems.push(format!(
                "the app lacks the application permissions {}; grant them with admin consent",
                missing.join(", ")
            ));
        }
        let organization = client
            .get("organization?$select=id,displayName", &[])
            .await?;
        let name = organization["value"][0]["displayName"]
            .as_str()
            .unwrap_or("?");
        health.passed.push(format!(
            "tenant \"{name}\" at {}",
            self.settings.graph_url()
        ));
        let skus = self.skus().await?;
        let names: Vec<&str> = skus.part_numbers().collect();
        health
            .passed
            .push(format!("subscriptions: {}", names.join(", ")));
        let extensions = self.extensions().await?;
        if !extensions.is_empty() {
            health.passed.push(format!(
                "directory extensions on users: {}",
                extensions.join(", ")
            ));
        }
        for sku in self.settings.disabled_plans.keys() {
            if self
                .skus
                .as_ref()
                .and_then(|s| s.by_part_number(sku))
                .is_none()
            {
                health.problems.push(format!(
                    "disabled_plans names {sku}, which the tenant does not subscribe to"
                ));
            }
        }
        Ok(health)
    }

    async fn import(&mut self, request: ImportRequest) -> Result<ImportPage, ConnectorError> {
        let cursor = match &request.cursor {
            Some(cursor) => Cursor::from_page_cursor(cursor)?,
            None => {
                let links = match (request.mode, &request.watermark) {
                    (ImportMode::Delta, Some(w)) => DeltaLinks::from_watermark(w),
                    _ => None,
                };
                let delta = match links {
                    Some(links) => self.start_delta(links).await?,
                    None => None,
                };
                match delta {
                    Some(cursor) => cursor,
                    None => self.start_full().await?,
                }
            }
        };
        self.read_page(cursor).await
    }
}

impl Exporter for GraphConnector {
    fn batch_size(&self) -> usize {
        EXPORT_BATCH
    }

    async fn export(
        &mut self,
        batch: Vec<ExportRequest>,
    ) -> Result<Vec<ExportOutcome>, ConnectorError> {
        let client = self.client()?;
        if !self.settings.extensions.is_empty() {
            // Flows may write an extension this run creates.
            self.extensions().await?;
        }
        let needs_licenses = batch.iter().any(touches_licenses);
        if needs_licenses {
            // Seats and plans change between runs; read them fresh for each export batch.
            self.skus = None;
            self.skus().await?;
        }
        let needs_domain = batch.iter().any(|r| {
            matches!(r.change, model::ObjectChange::Create { .. })
                && r.object_type.as_str().eq_ignore_ascii_case(USER)
        });
        let user_domain = if needs_domain {
            self.user_domain().await?
        } else {
            String::new()
        };
        if batch.iter().any(touches_roles) {
            self.role_catalogue().await?;
        }
        let empty = SkuCatalogue::default();
        let no_roles = roles::RoleCatalogue::default();
        let ctx = ExportContext {
            client: &client,
            roles: self.roles.as_ref().unwrap_or(&no_roles),
            skus: self.skus.as_ref().unwrap_or(&empty),
            settings: &self.settings,
            user_domain: &user_domain,
        };
        Ok(export::export(&ctx, &mut self.pacing, batch).await)
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }

    fn counted_attributes(&self) -> Vec<model::AttributeName> {
        vec![model::AttributeName::new(properties::LICENSES)]
    }

    /// Licenses against free seats, read fresh: a plan that needs more seats than the
    /// tenant has stops before the first user instead of failing for the last ones.
    async fn capacity_problems(
        &mut self,
        additions: &connector::Additions,
    ) -> Result<Vec<String>, ConnectorError> {
        if additions.is_empty() {
            return Ok(Vec::new());
        }
        self.skus = None;
        let skus = self.skus().await?;
        let mut problems = Vec::new();
        for ((_, part_number), wanted) in additions {
            let Some(sku) = skus.by_part_number(part_number) else {
                continue; // Reported per object, with the SKUs the tenant has.
            };
            let free = sku.free_seats().max(0) as u64;
            if *wanted > free {
                problems.push(format!(
                    "{wanted} users would get {part_number} but only {free} of its {} seats are free",
                    sku.enabled_seats
                ));
            }
        }
        Ok(problems)
    }
}

fn touches_licenses(request: &ExportRequest) -> bool {
    touches(request, properties::LICENSES)
}

fn touches_roles(request: &ExportRequest) -> bool {
    touches(request, properties::ROLES)
}

fn touches(request: &ExportRequest, attribute: &str) -> bool {
    let is_licenses = |name: &model::AttributeName| name.as_str().eq_ignore_ascii_case(attribute);
    match &request.change {
        model::ObjectChange::Create { attributes } => attributes.names().any(is_licenses),
        model::ObjectChange::Update { changes } => changes.iter().any(|c| is_licenses(&c.name)),
        model::ObjectChange::Delete => false,
    }
}

/// The application permissions (`roles`) an access token carries. Only read to explain a
/// missing permission; the service checks the signature.
fn token_roles(token: &str) -> Vec<String> {
    let payload = token.split('.').nth(1).unwrap_or_default();
    let claims: Json = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Json::Null);
    claims["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect()
}
