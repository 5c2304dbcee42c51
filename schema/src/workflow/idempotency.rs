//! Idempotency keys: a change is recorded under its caller's key with the request it
//! answered, so that a retry replays the first result and a reused key is refused. A
//! change claims its key first ([`claim`]: a second call with the same key waits for the
//! first); the key is recorded with the change's timeline entries as it commits
//! (`super::timeline::write`).

use serde_json::Value;
use sqlx::{Postgres, Transaction};

use super::error::WorkflowError;
use crate::access::{Actor, Operation};

/// A key seen before: what its change acted on and the rows it appended (timeline
/// entries for an event, history rows for an element).
pub(super) struct Seen {
    pub subject: Subject,
    pub first_entry: i64,
    pub last_entry: i64,
}

/// What a change acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Subject {
    Event(i64),
    Element(i64),
}

impl Subject {
    /// As the keys table holds it: `(event_id, entity_id)`.
    pub(super) fn columns(self) -> (Option<i64>, Option<i64>) {
        match self {
            Self::Event(id) => (Some(id), None),
            Self::Element(id) => (None, Some(id)),
        }
    }
}

/// Checks the key's form.
pub(super) fn check(key: &str) -> Result<(), WorkflowError> {
    if key.trim().is_empty() || key.len() > 200 {
        return Err(WorkflowError::BadInput(
            "idempotencyKey must be 1 to 200 characters".to_owned(),
        ));
    }
    Ok(())
}

/// Claims `key` for this caller's change, to the end of the transaction (a call with the
/// same key waits until this one commits or rolls back), and returns the change recorded
/// under it, if any: the same operation with the same arguments is a replay; anything else
/// reuses the key and is refused. One round trip (`claim_idempotency_key()`).
pub(super) async fn claim(
    transaction: &mut Transaction<'static, Postgres>,
    actor: &Actor,
    key: &str,
    operation: Operation,
    request: &Value,
) -> Result<Option<Seen>, WorkflowError> {
    #[expect(clippy::type_complexity, reason = "one row of the keys table")]
    let seen: Option<(String, Value, Option<i64>, Option<i64>, i64, i64)> = sqlx::query_as(
        "SELECT operation, request, event_id, entity_id, first_entry, last_entry \
         FROM claim_idempotency_key($1, $2)",
    )
    .bind(&actor.subject)
    .bind(key)
    .fetch_optional(&mut **transaction)
    .await?;
    let Some((used_for, first_request, event_id, entity_id, first_entry, last_entry)) = seen else {
        return Ok(None);
    };
    if used_for != operation.name() || &first_request != request {
        return Err(WorkflowError::KeyReused {
            key: key.to_owned(),
            other_arguments: used_for == operation.name(),
            used_for,
        });
    }
    let subject = match (event_id, entity_id) {
        (Some(event), _) => Subject::Event(event),
        (None, Some(entity)) => Subject::Element(entity),
        (None, None) => {
            return Err(WorkflowError::BadInput(format!(
                "key `{key}` names nothing"
            )));
        }
    };
    Ok(Some(Seen {
        subject,
        first_entry,
        last_entry,
    }))
}

/// A key to record with the change that commits under it.
pub(super) struct Record<'a> {
    pub key: &'a str,
    pub operation: Operation,
    pub request: &'a Value,
    pub subject: Subject,
    /// An element's change: its history rows. An event's change records the timeline
    /// entries written with the key.
    pub rows: Option<(i64, i64)>,
}
