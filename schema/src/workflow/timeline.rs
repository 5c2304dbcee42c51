//! Appending to the timeline: each entry with its outbox row, in the caller's
//! transaction; its position in commit order is given after commit
//! ([`super::ordering`]).

use serde_json::Value;
use sqlx::{Postgres, Transaction};

use super::change::Change;
use super::error::WorkflowError;
use super::records::{TIMELINE_COLUMNS, TimelineEntry};
use crate::access::Actor;
use crate::enums::{EventStatus, TimelineKind};

/// One entry to append.
pub(super) struct Entry<'a> {
    pub event_id: i64,
    pub summons_id: Option<i64>,
    pub kind: TimelineKind,
    pub department: Option<&'a str>,
    pub jurisdiction: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
    pub detail: Value,
}

pub(super) async fn append(change: &mut Change<'_>, entry: Entry<'_>) -> Result<(), WorkflowError> {
    let appended = insert_entry(&mut change.transaction, change.actor, entry).await?;
    change.entries.push(appended);
    Ok(())
}

/// Appends one timeline entry and its outbox row.
pub(super) async fn insert_entry(
    transaction: &mut Transaction<'static, Postgres>,
    actor: &Actor,
    entry: Entry<'_>,
) -> Result<TimelineEntry, sqlx::Error> {
    // The entry and its outbox row in one statement: one round trip inside the writer's
    // turn, not two.
    let appended: TimelineEntry = sqlx::query_as(&format!(
        "WITH appended AS ( \
           INSERT INTO timeline (event_id, summons_id, kind, actor, actor_role, actor_department, \
             department_code, jurisdiction_code, state_before, state_after, detail) \
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {TIMELINE_COLUMNS}), \
         queued AS (INSERT INTO outbox (timeline_id) SELECT id FROM appended) \
         SELECT * FROM appended"
    ))
    .bind(entry.event_id)
    .bind(entry.summons_id)
    .bind(entry.kind)
    .bind(&actor.name)
    .bind(actor.role.as_str())
    .bind(&actor.department)
    .bind(entry.department)
    .bind(entry.jurisdiction)
    .bind(entry.before)
    .bind(entry.after)
    .bind(entry.detail)
    .fetch_one(&mut **transaction)
    .await?;
    Ok(appended)
}

/// Records, in the caller's transaction, an event the platform filed itself (a request
/// pulled from the 12345 hotline): its REPORTED entry.
pub(crate) async fn record_reported(
    transaction: &mut Transaction<'static, Postgres>,
    actor: &Actor,
    event_id: i64,
    jurisdiction_code: &str,
    detail: Value,
) -> Result<i64, sqlx::Error> {
    let entry = Entry {
        event_id,
        summons_id: None,
        kind: TimelineKind::Reported,
        department: None,
        jurisdiction: jurisdiction_code,
        before: None,
        after: Some(EventStatus::Reported.as_str()),
        detail,
    };
    Ok(insert_entry(transaction, actor, entry).await?.id)
}
