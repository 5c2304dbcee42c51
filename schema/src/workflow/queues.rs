//! Work queues: summonses waiting on departments, and events waiting on the level that
//! handles them, ordered by their next deadline. Many owners' pages come from one
//! statement (`unnest` of the owners, a `LATERAL` page each), scoped like every read.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use connectors::Scope;
use sqlx::{Postgres, QueryBuilder, Row};

use super::records::{SUMMONS_COLUMNS, Summons};
use crate::enums::{EventCategory, EventStatus, SummonsStatus};
use crate::model::Event;
use crate::store::{Entity, Page, Store, StoreError};

/// Whose queue: a department's summonses, or those under a jurisdiction subtree (the
/// root `summonses` list), or the events a level handles.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Owner {
    Department(String),
    /// A subtree's code prefix; empty for the whole city.
    Subtree(String),
    Handler(String),
    /// The events a person was named in charge of.
    Assignee(i64),
    /// The summonses addressed to a person or to a team they serve on.
    Addressed(i64),
}

/// What narrows a summons queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SummonsQueueFilter {
    /// Summonses of events under this subtree (a code prefix).
    pub within: Option<String>,
    pub statuses: Vec<SummonsStatus>,
    /// Overdue now: marked OVERDUE, or open with its next deadline passed.
    pub overdue: Option<bool>,
    pub due_before: Option<DateTime<Utc>>,
}

/// What narrows an event queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct EventQueueFilter {
    /// Not the resolved, closed or rejected ones.
    pub open_only: bool,
    pub statuses: Vec<EventStatus>,
    pub categories: Vec<EventCategory>,
    /// Past its own deadline now (or not).
    pub overdue: Option<bool>,
}

/// A page of a queue: after `(due, id)`, at most `limit` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DuePage {
    pub after: Option<(DateTime<Utc>, i64)>,
    pub limit: i64,
}

/// The deadline a queue gives rows without one: the end of 9999, as `EventQueue` orders
/// them.
pub fn no_deadline() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_214_400, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

const OPEN: &str = "('SUMMONED', 'REPORTED_IN', 'ACTING', 'OVERDUE')";

/// Appends the caller's scope over rows filed under `code_column` (a grid code) for the
/// event `event_column`: the subtree, and for a department's staff, the events their
/// department was summoned to.
fn push_scope(
    builder: &mut QueryBuilder<'_, Postgres>,
    scope: &Scope,
    code_column: &str,
    event_column: &str,
) {
    push_within(builder, code_column, scope.prefix());
    if let Some(department) = scope.summoned() {
        builder
            .push(format_args!(
                " AND EXISTS (SELECT 1 FROM summonses v WHERE v.event_id = {event_column} \
                 AND v.department_code = "
            ))
            .push_bind(department.to_owned())
            .push(")");
    }
}

/// Appends `column` within the subtree `prefix` (code columns are `COLLATE "C"`, so a
/// subtree is the byte range [prefix, prefix + "~")); nothing for an empty prefix.
fn push_within(builder: &mut QueryBuilder<'_, Postgres>, column: &str, prefix: &str) {
    if prefix.is_empty() {
        return;
    }
    builder
        .push(format_args!(" AND {column} >= "))
        .push_bind(prefix.to_owned())
        .push(format_args!(" AND {column} < "))
        .push_bind(format!("{prefix}~"));
}

fn push_summons_filter(
    builder: &mut QueryBuilder<'_, Postgres>,
    scope: &Scope,
    filter: &SummonsQueueFilter,
) {
    push_scope(builder, scope, "s.event_jurisdiction_code", "s.event_id");
    if let Some(within) = &filter.within {
        push_within(builder, "s.event_jurisdiction_code", within);
    }
    if !filter.statuses.is_empty() {
        let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
        builder
            .push(" AND s.status = ANY(")
            .push_bind(statuses)
            .push(")");
    }
    if let Some(overdue) = filter.overdue {
        builder.push(format_args!(
            " AND {}(s.status = 'OVERDUE' OR (s.status IN {OPEN} AND s.due_at < now()))",
            if overdue { "" } else { "NOT " }
        ));
    }
    if let Some(before) = filter.due_before {
        builder.push(" AND s.due_at < ").push_bind(before);
    }
}

/// The owner predicate on the queued table, for keys of the owners' kind.
fn owner_predicate(owner: &Owner) -> &'static str {
    match owner {
        Owner::Department(_) => "s.department_code = k.key",
        Owner::Subtree(_) => {
            "(k.key = '' OR (s.event_jurisdiction_code >= k.key AND s.event_jurisdiction_code < k.key || '~'))"
        }
        Owner::Handler(_) => "COALESCE(t.handling_code, left(t.jurisdiction_code, 9)) = k.key",
        Owner::Assignee(_) => "t.assignee_id = k.key::bigint",
        Owner::Addressed(_) => {
            "(s.staff_id = k.key::bigint OR s.team_grid IN \
             (SELECT m.grid_code FROM team_members m WHERE m.staff_id = k.key::bigint))"
        }
    }
}

fn owner_key(owner: &Owner) -> String {
    match owner {
        Owner::Department(code) | Owner::Subtree(code) | Owner::Handler(code) => code.clone(),
        Owner::Assignee(id) | Owner::Addressed(id) => id.to_string(),
    }
}

/// Owners grouped by kind: one statement per kind.
fn by_kind(owners: &[Owner]) -> HashMap<&'static str, Vec<&Owner>> {
    let mut groups: HashMap<&'static str, Vec<&Owner>> = HashMap::new();
    for owner in owners {
        groups
            .entry(owner_predicate(owner))
            .or_default()
            .push(owner);
    }
    groups
}

/// A kind of work queue: what it lists, how it is ordered, and what narrows it.
pub trait Queue: Send + Sync + 'static {
    type Filter: Clone + Eq + std::hash::Hash + Send + Sync + 'static;
    type Row: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Clone
        + Send
        + Sync
        + Unpin
        + 'static;
    /// The table and its alias: `summonses s`, `events t`.
    const FROM: &'static str;
    const COLUMNS: &'static str;
    /// The deadline rows are ordered by, then the id.
    const DUE: &'static str;
    const ID: &'static str;

    /// Appends `AND …` for the caller's scope and the filter.
    fn narrow(builder: &mut QueryBuilder<'_, Postgres>, scope: &Scope, filter: &Self::Filter);

    /// A row's place in the queue: its deadline and id.
    fn position(row: &Self::Row) -> (DateTime<Utc>, i64);
}

/// Summonses, by their next deadline.
pub struct SummonsQueue;

impl Queue for SummonsQueue {
    type Filter = SummonsQueueFilter;
    type Row = Summons;
    const FROM: &'static str = "summonses s";
    const COLUMNS: &'static str = SUMMONS_COLUMNS;
    const DUE: &'static str = "s.due_at";
    const ID: &'static str = "s.id";

    fn narrow(builder: &mut QueryBuilder<'_, Postgres>, scope: &Scope, filter: &Self::Filter) {
        push_summons_filter(builder, scope, filter);
    }

    fn position(summons: &Summons) -> (DateTime<Utc>, i64) {
        let due = if summons.reported_in_at.is_none() {
            summons.report_in_due_at
        } else {
            summons.handling_due_at
        };
        (due, summons.id)
    }
}

/// Events, by their own deadline (`dueAt`; none sorts last).
pub struct EventQueue;

impl Queue for EventQueue {
    type Filter = EventQueueFilter;
    type Row = Event;
    const FROM: &'static str = "events t";
    const COLUMNS: &'static str = <Event as Entity>::COLUMNS;
    const DUE: &'static str = "COALESCE(t.due_at, '9999-12-31T00:00:00Z'::timestamptz)";
    const ID: &'static str = "t.id";

    fn narrow(builder: &mut QueryBuilder<'_, Postgres>, scope: &Scope, filter: &Self::Filter) {
        push_event_filter(builder, scope, filter);
    }

    fn position(event: &Event) -> (DateTime<Utc>, i64) {
        (event.due_at.unwrap_or_else(no_deadline), event.id)
    }
}

impl Store {
    /// One page of each owner's queue of `Q`: one statement per kind of owner.
    pub async fn queue_pages<Q: Queue>(
        &self,
        scope: &Scope,
        owners: &[Owner],
        filter: &Q::Filter,
        page: DuePage,
    ) -> Result<HashMap<Owner, Page<Q::Row>>, StoreError> {
        let mut pages = HashMap::new();
        for (predicate, group) in by_kind(owners) {
            let keys: Vec<String> = group.iter().map(|owner| owner_key(owner)).collect();
            let mut builder = QueryBuilder::new("SELECT k.key AS owner_key, q.* FROM unnest(");
            builder.push_bind(keys).push(format_args!(
                "::text[]) AS k(key) CROSS JOIN LATERAL (SELECT {} FROM {} WHERE {predicate}",
                Q::COLUMNS,
                Q::FROM
            ));
            Q::narrow(&mut builder, scope, filter);
            if let Some((at, id)) = page.after {
                builder
                    .push(format_args!(" AND ({}, {}) > (", Q::DUE, Q::ID))
                    .push_bind(at)
                    .push(", ")
                    .push_bind(id)
                    .push(")");
            }
            builder
                .push(format_args!(" ORDER BY {}, {} LIMIT ", Q::DUE, Q::ID))
                .push_bind(page.limit + 1)
                .push(") q");
            let rows = builder.build().fetch_all(self.executor()).await?;
            for owner in &group {
                pages.insert((*owner).clone(), Page::empty());
            }
            for row in rows {
                let key: String = row.try_get("owner_key")?;
                let item = <Q::Row as sqlx::FromRow<_>>::from_row(&row)?;
                let owner = group.iter().find(|owner| owner_key(owner) == key);
                if let Some(rows) = owner.and_then(|owner| pages.get_mut(*owner)) {
                    push_row(rows, item, page.limit);
                }
            }
        }
        Ok(pages)
    }

    /// How many rows each owner's queue of `Q` holds.
    pub async fn queue_counts<Q: Queue>(
        &self,
        scope: &Scope,
        owners: &[Owner],
        filter: &Q::Filter,
    ) -> Result<HashMap<Owner, i64>, StoreError> {
        let mut counts = HashMap::new();
        for (predicate, group) in by_kind(owners) {
            let keys: Vec<String> = group.iter().map(|owner| owner_key(owner)).collect();
            let mut builder = QueryBuilder::new(format!(
                "SELECT k.key AS owner_key, (SELECT count(*) FROM {} WHERE {predicate}",
                Q::FROM
            ));
            Q::narrow(&mut builder, scope, filter);
            builder
                .push(") AS n FROM unnest(")
                .push_bind(keys)
                .push("::text[]) AS k(key)");
            for row in builder.build().fetch_all(self.executor()).await? {
                let key: String = row.try_get("owner_key")?;
                let n: i64 = row.try_get("n")?;
                if let Some(owner) = group.iter().find(|owner| owner_key(owner) == key) {
                    counts.insert((*owner).clone(), n);
                }
            }
        }
        Ok(counts)
    }
}

fn push_event_filter(
    builder: &mut QueryBuilder<'_, Postgres>,
    scope: &Scope,
    filter: &EventQueueFilter,
) {
    push_scope(builder, scope, "t.jurisdiction_code", "t.id");
    if filter.open_only {
        builder.push(" AND t.status NOT IN ('RESOLVED', 'CLOSED', 'REJECTED')");
    }
    if !filter.statuses.is_empty() {
        let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
        builder
            .push(" AND t.status = ANY(")
            .push_bind(statuses)
            .push(")");
    }
    if !filter.categories.is_empty() {
        let categories: Vec<&str> = filter.categories.iter().map(|c| c.as_str()).collect();
        builder
            .push(" AND t.category = ANY(")
            .push_bind(categories)
            .push(")");
    }
    if let Some(overdue) = filter.overdue {
        builder.push(format_args!(
            " AND {}(t.due_at < now() AND t.status NOT IN ('RESOLVED', 'CLOSED', 'REJECTED'))",
            if overdue { "" } else { "NOT " }
        ));
    }
}

/// Adds a row to a page of `limit`, noting that there are more beyond it.
fn push_row<T>(page: &mut Page<T>, row: T, limit: i64) {
    if page.rows.len() as i64 >= limit {
        page.more = true;
    } else {
        page.rows.push(row);
    }
}
