//! Appending to the timeline. A change collects its entries as it goes and writes them at
//! commit, with their outbox rows and the caller's idempotency key, in one statement
//! ([`write`]): one round trip inside the writer's turn where there was one per entry and
//! one for the key. Their positions in commit order are given after commit
//! ([`super::ordering`]).

use serde_json::Value;
use sqlx::{Postgres, Transaction};

use super::idempotency::Record;
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

/// Entries to append, column by column, in the order they were pushed.
#[derive(Default)]
pub(super) struct Entries {
    event_ids: Vec<i64>,
    summons_ids: Vec<Option<i64>>,
    kinds: Vec<&'static str>,
    departments: Vec<Option<String>>,
    jurisdictions: Vec<String>,
    before: Vec<Option<String>>,
    after: Vec<Option<String>>,
    details: Vec<Value>,
}

impl Entries {
    pub fn push(&mut self, entry: Entry<'_>) {
        self.event_ids.push(entry.event_id);
        self.summons_ids.push(entry.summons_id);
        self.kinds.push(entry.kind.as_str());
        self.departments.push(entry.department.map(str::to_owned));
        self.jurisdictions.push(entry.jurisdiction.to_owned());
        self.before.push(entry.before.map(str::to_owned));
        self.after.push(entry.after.map(str::to_owned));
        self.details.push(entry.detail);
    }

    pub fn is_empty(&self) -> bool {
        self.event_ids.is_empty()
    }
}

/// Appends `entries` by `actor` in the given order, each with its outbox row, and records
/// `key` (when given) with them as the change's first and last entries — one statement.
/// Returns the entries appended, in order.
pub(super) async fn write(
    transaction: &mut Transaction<'static, Postgres>,
    actor: &Actor,
    entries: &Entries,
    key: Option<&Record<'_>>,
) -> Result<Vec<TimelineEntry>, sqlx::Error> {
    let (event_id, entity_id) = key.map_or((None, None), |key| key.subject.columns());
    // Ids follow the entries' order: the column defaults are computed above the sort.
    let mut appended: Vec<TimelineEntry> = sqlx::query_as(&format!(
        "WITH appended AS ( \
           INSERT INTO timeline (event_id, summons_id, kind, actor, actor_role, actor_department, \
             department_code, jurisdiction_code, state_before, state_after, detail) \
           SELECT e.event_id, e.summons_id, e.kind, $1, $2, $3, e.department_code, \
             e.jurisdiction_code, e.state_before, e.state_after, e.detail \
           FROM unnest($4::int8[], $5::int8[], $6::text[], $7::text[], $8::text[], $9::text[], \
             $10::text[], $11::jsonb[]) WITH ORDINALITY AS e(event_id, summons_id, kind, \
             department_code, jurisdiction_code, state_before, state_after, detail, n) \
           ORDER BY e.n \
           RETURNING {TIMELINE_COLUMNS}), \
         queued AS (INSERT INTO outbox (timeline_id) SELECT id FROM appended), \
         recorded AS ( \
           INSERT INTO idempotency_keys (principal, key, operation, request, event_id, entity_id, \
             first_entry, last_entry) \
           SELECT $12, $13, $14, $15, $16, $17, COALESCE($18, min(id)), COALESCE($19, max(id)) \
           FROM appended HAVING $13::text IS NOT NULL) \
         SELECT * FROM appended"
    ))
    .bind(&actor.name)
    .bind(actor.role.as_str())
    .bind(&actor.department)
    .bind(&entries.event_ids)
    .bind(&entries.summons_ids)
    .bind(&entries.kinds)
    .bind(&entries.departments)
    .bind(&entries.jurisdictions)
    .bind(&entries.before)
    .bind(&entries.after)
    .bind(&entries.details)
    .bind(&actor.subject)
    .bind(key.map(|key| key.key))
    .bind(key.map(|key| key.operation.name()))
    .bind(key.map(|key| key.request))
    .bind(event_id)
    .bind(entity_id)
    .bind(key.and_then(|key| key.rows.map(|(first, _)| first)))
    .bind(key.and_then(|key| key.rows.map(|(_, last)| last)))
    .fetch_all(&mut **transaction)
    .await?;
    appended.sort_by_key(|entry| entry.id);
    Ok(appended)
}

/// Appends one entry by `actor` (a change of the platform's own, outside a caller's
/// change and key).
pub(super) async fn insert_entry(
    transaction: &mut Transaction<'static, Postgres>,
    actor: &Actor,
    entry: Entry<'_>,
) -> Result<TimelineEntry, sqlx::Error> {
    let mut entries = Entries::default();
    entries.push(entry);
    write(transaction, actor, &entries, None)
        .await?
        .pop()
        .ok_or(sqlx::Error::RowNotFound)
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
