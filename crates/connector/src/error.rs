use std::time::Duration;

/// A failure of a whole connector operation (not of one object: those are outcomes).
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The system cannot be reached or is busy; the operation may succeed later.
    #[error("{message}")]
    Unavailable {
        message: String,
        retry_after: Option<Duration>,
    },
    /// The system refused our credentials or permissions.
    #[error("{0}")]
    Denied(String),
    /// The connector's settings are wrong (a missing file, a bad column mapping).
    #[error("{0}")]
    Config(String),
    /// The system answered with something the connector cannot use.
    #[error("{0}")]
    Protocol(String),
}

impl ConnectorError {
    pub fn unavailable(message: impl Into<String>) -> Self {
        ConnectorError::Unavailable {
            message: message.into(),
            retry_after: None,
        }
    }

    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, ConnectorError::Unavailable { .. })
    }
}
