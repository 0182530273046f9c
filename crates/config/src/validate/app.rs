//! Validating what the Microsoft cloud connectors (`graph`, `exchange`) share.

use std::path::PathBuf;

use model::ObjectType;

use super::Validator;
use crate::raw::app::RawApp;
use crate::reader::Sp;
use crate::suggest;
use crate::{GraphCredential, GraphEnvironment};

/// What differs between the connector types in the shared checks.
pub(super) struct AppKind {
    /// As messages name it: "a graph connector".
    pub connector: &'static str,
    /// The environment variable suggested for a client secret.
    pub secret_env: &'static str,
    pub object_types: &'static [&'static str],
    /// A host override to show in help.
    pub url_example: &'static str,
}

/// The shared settings, validated.
pub(super) struct App {
    pub tenant: String,
    pub client_id: String,
    pub credential: GraphCredential,
    pub environment: GraphEnvironment,
    pub login_url: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub object_types: Vec<ObjectType>,
}

impl Validator<'_> {
    /// Every problem is reported before `None` is returned.
    pub(super) fn app(&mut self, raw: &RawApp, kind: &AppKind) -> Option<App> {
        let tenant = raw
            .tenant
            .as_ref()
            .and_then(|t| self.non_empty(t, "tenant"));
        let client_id = raw
            .client_id
            .as_ref()
            .and_then(|c| self.non_empty(c, "client_id"));
        let credential = self.app_credential(raw, kind);
        let environment = match &raw.environment {
            None => Some(GraphEnvironment::Global),
            Some(e) => GraphEnvironment::parse(&e.value).or_else(|| {
                self.problems
                    .error(&e.loc, format!("unknown environment \"{}\"", e.value))
                    .help(suggest::help_for(&e.value, GraphEnvironment::NAMES));
                None
            }),
        };
        let login_url = raw
            .login_url
            .as_ref()
            .and_then(|u| self.http_url(u, kind.url_example));
        let ca_file = match &raw.ca_file {
            Some(path) => Some(self.path(path)?),
            None => None,
        };
        let object_types = match &raw.object_types {
            None => Some(
                kind.object_types
                    .iter()
                    .map(|t| ObjectType::new(*t))
                    .collect(),
            ),
            Some(list) => self.app_object_types(list, kind),
        };
        Some(App {
            tenant: tenant?,
            client_id: client_id?,
            credential: credential?,
            environment: environment?,
            login_url,
            ca_file,
            object_types: object_types?,
        })
    }

    pub(super) fn non_empty(&mut self, raw: &Sp<String>, key: &str) -> Option<String> {
        if raw.value.trim().is_empty() {
            self.problems.error(&raw.loc, format!("{key} is empty"));
            return None;
        }
        Some(raw.value.trim().to_owned())
    }

    /// A whole http(s) root, such as `example`.
    pub(super) fn http_url(&mut self, raw: &Sp<String>, example: &str) -> Option<String> {
        let url = raw.value.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            self.problems
                .error(&raw.loc, format!("\"{url}\" is not an http(s) URL"))
                .help(format!("write the whole root, such as \"{example}\""));
            return None;
        }
        Some(url.to_owned())
    }

    fn app_credential(&mut self, raw: &RawApp, kind: &AppKind) -> Option<GraphCredential> {
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
                Some(GraphCredential::ClientSecret(self.secret(secret.clone())))
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
                    .error(&raw.table.loc, format!("{} needs a credential", kind.connector))
                    .help(format!(
                        "add certificate = \"app.pem\" (a certificate registered on the app) or client_secret = {{ env = \"{}\" }}",
                        kind.secret_env
                    ));
                None
            }
        }
    }

    fn app_object_types(
        &mut self,
        list: &Sp<Vec<Sp<String>>>,
        kind: &AppKind,
    ) -> Option<Vec<ObjectType>> {
        let mut types = Vec::new();
        let mut ok = true;
        for t in &list.value {
            if kind.object_types.contains(&t.value.as_str()) {
                types.push(ObjectType::new(t.value.as_str()));
            } else {
                self.problems
                    .error(
                        &t.loc,
                        format!("{} has no object type \"{}\"", kind.connector, t.value),
                    )
                    .help(suggest::help_for(&t.value, kind.object_types));
                ok = false;
            }
        }
        if types.is_empty() && ok {
            let names: Vec<String> = kind
                .object_types
                .iter()
                .map(|t| format!("\"{t}\""))
                .collect();
            self.problems
                .error(&list.loc, "object_types is empty")
                .help(format!("name one or more of {}", names.join(", ")));
            return None;
        }
        ok.then_some(types)
    }
}
