//! Validating a Graph connector's settings.

use std::collections::BTreeMap;

use model::ObjectType;

use super::Validator;
use crate::raw::graph::RawGraph;
use crate::reader::Sp;
use crate::suggest;
use crate::{GraphCredential, GraphEnvironment, GraphSettings};

impl Validator<'_> {
    pub(super) fn graph(&mut self, raw: RawGraph) -> Option<GraphSettings> {
        let tenant = raw
            .tenant
            .as_ref()
            .and_then(|t| self.non_empty(t, "tenant"));
        let client_id = raw
            .client_id
            .as_ref()
            .and_then(|c| self.non_empty(c, "client_id"));
        let credential = self.graph_credential(&raw);
        let environment = match &raw.environment {
            None => Some(GraphEnvironment::Global),
            Some(e) => match GraphEnvironment::parse(&e.value) {
                Some(env) => Some(env),
                None => {
                    self.problems
                        .error(&e.loc, format!("unknown environment \"{}\"", e.value))
                        .help(suggest::help_for(&e.value, GraphEnvironment::NAMES));
                    None
                }
            },
        };
        let invite_redirect_url = match &raw.invite_redirect_url {
            Some(url) => self.https_url(url).map(|u| u.value),
            None => Some(crate::DEFAULT_INVITE_REDIRECT.to_owned()),
        };
        let login_url = raw.login_url.as_ref().and_then(|u| self.https_url(u));
        let graph_url = raw.graph_url.as_ref().and_then(|u| self.https_url(u));
        let ca_file = match &raw.ca_file {
            Some(path) => Some(self.path(path)?),
            None => None,
        };
        let object_types = match &raw.object_types {
            None => Some(
                GraphSettings::OBJECT_TYPES
                    .iter()
                    .map(|t| ObjectType::new(*t))
                    .collect(),
            ),
            Some(list) => self.graph_object_types(list),
        };
        let mut disabled_plans = BTreeMap::new();
        for entry in raw.disabled_plans {
            disabled_plans.insert(
                entry.sku.value,
                entry.plans.value.into_iter().map(|p| p.value).collect(),
            );
        }
        Some(GraphSettings {
            tenant: tenant?,
            client_id: client_id?,
            credential: credential?,
            environment: environment?,
            login_url: login_url.map(|u| u.value),
            graph_url: graph_url.map(|u| u.value),
            ca_file,
            object_types: object_types?,
            user_domain: raw.user_domain.map(|d| d.value),
            disabled_plans,
            invite_redirect_url: invite_redirect_url?,
            directory_roles: raw.directory_roles.is_some_and(|r| r.value),
            extension_app: raw.extension_app.map(|a| a.value),
            extensions: self.extension_names(raw.extensions.as_ref())?,
            send_invitations: raw.send_invitations.is_some_and(|s| s.value),
        })
    }

    fn non_empty(&mut self, raw: &Sp<String>, key: &str) -> Option<String> {
        if raw.value.trim().is_empty() {
            self.problems.error(&raw.loc, format!("{key} is empty"));
            return None;
        }
        Some(raw.value.trim().to_owned())
    }

    fn graph_credential(&mut self, raw: &RawGraph) -> Option<GraphCredential> {
        match (&raw.client_secret, &raw.certificate) {
            (Some(_), Some(certificate)) => {
                self.problems
                    .error(
                        &certificate.loc,
                        "give either client_secret or certificate, not both",
                    )
                    .help("a certificate is the safer choice for production");
                None
            }
            (Some(secret), None) => {
                let secret = secret.clone();
                Some(GraphCredential::ClientSecret(self.secret(secret)))
            }
            (None, Some(certificate)) => {
                let certificate = self.path(certificate)?;
                let private_key = match &raw.private_key {
                    Some(key) => Some(self.path(key)?),
                    None => None,
                };
                let password = raw
                    .certificate_password
                    .as_ref()
                    .map(|p| self.secret(p.clone()));
                Some(GraphCredential::Certificate {
                    certificate,
                    private_key,
                    password,
                })
            }
            (None, None) if raw.credential_written => None,
            (None, None) => {
                self.problems
                    .error(&raw.table.loc, "a graph connector needs a credential")
                    .help("add certificate = \"app.pem\" (a certificate registered on the app) or client_secret = { env = \"IDSYNC_GRAPH_SECRET\" }");
                None
            }
        }
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

    fn https_url(&mut self, raw: &Sp<String>) -> Option<Sp<String>> {
        let url = raw.value.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            self.problems
                .error(&raw.loc, format!("\"{url}\" is not an http(s) URL"))
                .help("write the whole root, such as \"https://127.0.0.1:8443/v1.0\"");
            return None;
        }
        Some(Sp::new(url.to_owned(), raw.loc.clone()))
    }

    fn graph_object_types(&mut self, list: &Sp<Vec<Sp<String>>>) -> Option<Vec<ObjectType>> {
        let mut types = Vec::new();
        let mut ok = true;
        for t in &list.value {
            if GraphSettings::OBJECT_TYPES.contains(&t.value.as_str()) {
                types.push(ObjectType::new(t.value.as_str()));
            } else {
                self.problems
                    .error(
                        &t.loc,
                        format!("a graph connector has no object type \"{}\"", t.value),
                    )
                    .help(suggest::help_for(&t.value, GraphSettings::OBJECT_TYPES));
                ok = false;
            }
        }
        if types.is_empty() && ok {
            self.problems
                .error(&list.loc, "object_types is empty")
                .help("name \"user\", \"group\" or both");
            return None;
        }
        ok.then_some(types)
    }
}
