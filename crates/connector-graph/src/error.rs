//! What can go wrong talking to Graph, classified the way the engine needs it.

use std::time::Duration;

use connector::ConnectorError;

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// Throttled (429), unavailable (503), timed out (504) or unreachable: try again later.
    #[error("{message}")]
    Unavailable {
        message: String,
        retry_after: Option<Duration>,
    },
    /// The credentials or the app's permissions were refused.
    #[error("{0}")]
    Denied(String),
    /// The certificate or secret could not be loaded or used.
    #[error("{0}")]
    Credential(String),
    /// Graph refused the request as it is (400, 404, 409 …), with its error code.
    #[error("{code}: {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    /// An answer the connector cannot read.
    #[error("{0}")]
    Protocol(String),
}

impl GraphError {
    pub(crate) fn unreachable(url: &str, error: &reqwest::Error) -> Self {
        // reqwest's Display leaves out the cause (connection refused, certificate unknown).
        let mut message = format!("cannot reach {}: {error}", strip_query(url));
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        GraphError::Unavailable {
            message,
            retry_after: None,
        }
    }

    pub fn is_transient(&self) -> bool {
        matches!(self, GraphError::Unavailable { .. })
    }

    /// Whether Graph said the object is not there.
    pub fn is_not_found(&self) -> bool {
        matches!(self, GraphError::Rejected { status: 404, .. })
    }
}

impl From<GraphError> for ConnectorError {
    fn from(error: GraphError) -> Self {
        match error {
            GraphError::Unavailable {
                message,
                retry_after,
            } => ConnectorError::Unavailable {
                message,
                retry_after,
            },
            GraphError::Denied(m) => ConnectorError::Denied(m),
            GraphError::Credential(m) => ConnectorError::Config(m),
            GraphError::Rejected {
                status: 401 | 403,
                code,
                message,
            } => ConnectorError::Denied(format!("{code}: {message}")),
            e @ GraphError::Rejected { .. } => ConnectorError::Protocol(e.to_string()),
            GraphError::Protocol(m) => ConnectorError::Protocol(m),
        }
    }
}

/// A URL without its query: delta and skip tokens are long and say nothing to a reader.
pub(crate) fn strip_query(url: &str) -> &str {
    url.split_once('?').map_or(url, |(path, _)| path)
}
