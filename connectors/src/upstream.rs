//! How one call to a department system failed, whatever its kind.

/// The failure of one call; [`UpstreamError::retryable`] says whether a read may be tried again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// Not reached, or it answered that it cannot serve now (5xx, 429).
    #[error("{0}")]
    Unavailable(String),
    /// It refused the call (401, 403, another 4xx): trying again will not help.
    #[error("{0}")]
    Refused(String),
    /// It answered, but not something we can read (bad JSON, wrong types, no id).
    #[error("{0}")]
    BadResponse(String),
}

impl UpstreamError {
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}
