//! What a workflow change can fail with.

use super::machine::InvalidTransition;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error(transparent)]
    Invalid(#[from] InvalidTransition),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error(
        "idempotency key `{key}` was already used by you for {used_for}{}; \
         use a new key for a new change",
        if *.other_arguments { " with other arguments" } else { "" }
    )]
    KeyReused {
        key: String,
        used_for: String,
        other_arguments: bool,
    },
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for WorkflowError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(error.into())
    }
}

/// A foreign-key violation is the caller's mistake (a place, person or department that
/// does not exist), not a fault.
pub(super) fn foreign_key(error: sqlx::Error, message: &str) -> WorkflowError {
    match &error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23503") => {
            WorkflowError::BadInput(message.to_owned())
        }
        _ => error.into(),
    }
}
