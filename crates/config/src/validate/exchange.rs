//! Validating an Exchange connector's settings.

use super::Validator;
use super::app::AppKind;
use crate::ExchangeSettings;
use crate::raw::exchange::RawExchange;

const EXCHANGE: AppKind = AppKind {
    connector: "an exchange connector",
    secret_env: "IDSYNC_EXCHANGE_SECRET",
    object_types: ExchangeSettings::OBJECT_TYPES,
    url_example: "https://outlook.office365.com",
};

impl Validator<'_> {
    pub(super) fn exchange(&mut self, raw: RawExchange) -> Option<ExchangeSettings> {
        let app = self.app(&raw.app, &EXCHANGE);
        let exchange_url = raw
            .exchange_url
            .as_ref()
            .and_then(|u| self.http_url(u, EXCHANGE.url_example));
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
        let app = app?;
        Some(ExchangeSettings {
            tenant: app.tenant,
            client_id: app.client_id,
            credential: app.credential,
            environment: app.environment,
            login_url: app.login_url,
            exchange_url,
            ca_file: app.ca_file,
            object_types: app.object_types,
            page_size: page_size?,
        })
    }
}
