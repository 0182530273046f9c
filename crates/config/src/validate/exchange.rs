//! Validating an Exchange connector's settings.

use model::ObjectType;

use super::Validator;
use crate::raw::exchange::RawExchange;
use crate::reader::Sp;
use crate::suggest;
use crate::{ExchangeSettings, GraphCredential, GraphEnvironment};

impl Validator<'_> {
    pub(super) fn exchange(&mut self, raw: RawExchange) -> Option<ExchangeSettings> {
        let tenant = raw
            .tenant
            .as_ref()
            .and_then(|t| self.exchange_non_empty(t, "tenant"));
        let client_id = raw
            .client_id
            .as_ref()
            .and_then(|c| self.exchange_non_empty(c, "client_id"));
        let credential = self.exchange_credential(&raw);
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
        let login_url = raw.login_url.as_ref().and_then(|u| self.exchange_url(u));
        let exchange_url = raw.exchange_url.as_ref().and_then(|u| self.exchange_url(u));
        let ca_file = match &raw.ca_file {
            Some(path) => Some(self.path(path)?),
            None => None,
        };
        let object_types = match &raw.object_types {
            None => Some(
                ExchangeSettings::OBJECT_TYPES
                    .iter()
                    .map(|t| ObjectType::new(*t))
                    .collect(),
            ),
            Some(list) => self.exchange_object_types(list),
        };
        let page_size = match &raw.page_size {
            None => Some(1000),
            Some(n) if (1..=1000).contains(&n.value) => Some(n.value as usize),
            Some(n) => {
                self.problems
                    .error(&n.loc, format!("page_size {} is out of range", n.value))
                    .help("Exchange serves 1 to 1000 objects per page");
                None
            }
        };
        Some(ExchangeSettings {
            tenant: tenant?,
            client_id: client_id?,
            credential: credential?,
            environment: environment?,
            login_url: login_url.map(|u| u.value),
            exchange_url: exchange_url.map(|u| u.value),
            ca_file,
            object_types: object_types?,
            page_size: page_size?,
        })
    }

    fn exchange_non_empty(&mut self, raw: &Sp<String>, key: &str) -> Option<String> {
        if raw.value.trim().is_empty() {
            self.problems.error(&raw.loc, format!("{key} is empty"));
            return None;
        }
        Some(raw.value.trim().to_owned())
    }

    fn exchange_url(&mut self, raw: &Sp<String>) -> Option<Sp<String>> {
        let url = raw.value.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            self.problems
                .error(&raw.loc, format!("\"{url}\" is not an http(s) URL"))
                .help("write the whole root, such as \"https://outlook.office365.com\"");
            return None;
        }
        Some(Sp::new(url.to_owned(), raw.loc.clone()))
    }

    fn exchange_credential(&mut self, raw: &RawExchange) -> Option<GraphCredential> {
        match (&raw.client_secret, &raw.certificate) {
            (Some(_), Some(certificate)) => {
                self.problems.error(
                    &certificate.loc,
                    "give either client_secret or certificate, not both",
                );
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
                    .error(&raw.table.loc, "an exchange connector needs a credential")
                    .help("add certificate = \"app.pem\" or client_secret = { env = \"IDSYNC_EXCHANGE_SECRET\" }");
                None
            }
        }
    }

    fn exchange_object_types(&mut self, list: &Sp<Vec<Sp<String>>>) -> Option<Vec<ObjectType>> {
        let mut types = Vec::new();
        let mut ok = true;
        for t in &list.value {
            if ExchangeSettings::OBJECT_TYPES.contains(&t.value.as_str()) {
                types.push(ObjectType::new(t.value.as_str()));
            } else {
                self.problems
                    .error(
                        &t.loc,
                        format!("an exchange connector has no object type \"{}\"", t.value),
                    )
                    .help(suggest::help_for(&t.value, ExchangeSettings::OBJECT_TYPES));
                ok = false;
            }
        }
        if types.is_empty() && ok {
            self.problems
                .error(&list.loc, "object_types is empty")
                .help("name \"mailContact\", \"distributionGroup\" or \"mailbox\"");
            return None;
        }
        ok.then_some(types)
    }
}
