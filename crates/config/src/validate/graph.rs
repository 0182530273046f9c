//! Validating a Graph connector's settings.

use std::collections::BTreeMap;

use super::Validator;
use super::app::AppKind;
use crate::GraphSettings;
use crate::raw::graph::RawGraph;
use crate::reader::Sp;

const GRAPH: AppKind = AppKind {
    connector: "a graph connector",
    secret_env: "IDSYNC_GRAPH_SECRET",
    object_types: GraphSettings::OBJECT_TYPES,
    url_example: "https://127.0.0.1:8443/v1.0",
};

impl Validator<'_> {
    pub(super) fn graph(&mut self, raw: RawGraph) -> Option<GraphSettings> {
        let app = self.app(&raw.app, &GRAPH);
        let invite_redirect_url = match &raw.invite_redirect_url {
            Some(url) => self.http_url(url, GRAPH.url_example),
            None => Some(crate::DEFAULT_INVITE_REDIRECT.to_owned()),
        };
        let graph_url = raw
            .graph_url
            .as_ref()
            .and_then(|u| self.http_url(u, GRAPH.url_example));
        let mut disabled_plans = BTreeMap::new();
        for entry in raw.disabled_plans {
            disabled_plans.insert(
                entry.sku.value,
                entry.plans.value.into_iter().map(|p| p.value).collect(),
            );
        }
        let extensions = self.extension_names(raw.extensions.as_ref());
        let app = app?;
        Some(GraphSettings {
            tenant: app.tenant,
            client_id: app.client_id,
            credential: app.credential,
            environment: app.environment,
            login_url: app.login_url,
            graph_url,
            ca_file: app.ca_file,
            object_types: app.object_types,
            user_domain: raw.user_domain.map(|d| d.value),
            disabled_plans,
            invite_redirect_url: invite_redirect_url?,
            directory_roles: raw.directory_roles.is_some_and(|r| r.value),
            extension_app: raw.extension_app.map(|a| a.value),
            extensions: extensions?,
            send_invitations: raw.send_invitations.is_some_and(|s| s.value),
        })
    }

    /// Short names of directory extensions: letters, digits and underscores, as Entra
    /// allows them in `extension_<appId>_<name>`.
    fn extension_names(&mut self, raw: Option<&Sp<Vec<Sp<String>>>>) -> Option<Vec<String>> {
        let mut names = Vec::new();
        let mut ok = true;
        for name in raw.map(|r| r.value.as_slice()).unwrap_or_default() {
            let valid = !name.value.is_empty()
                && name
                    .value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if valid {
                names.push(name.value.clone());
            } else {
                self.problems
                    .error(&name.loc, format!("\"{}\" is not a directory extension name", name.value))
                    .help("use letters, digits and underscores, such as \"employeeNumber\"; flows then write extension_<appId without dashes>_employeeNumber");
                ok = false;
            }
        }
        ok.then_some(names)
    }
}
