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

/// The deadline a queue gives rows without one: the end of 9999, as `EVENTS` orders them.
pub fn no_deadline() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_214_400, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

const OPEN: &str = "('SUMMONED', 'REPORTED_IN', 'ACTING', 'OVERDUE')";

fn push_summons_filter(
    builder: &mut QueryBuilder<'_, Postgres>,
    scope: &Scope,
    filter: &SummonsQueueFilter,
) {
    let prefix = scope.prefix();
    if !prefix.is_empty() {
        builder
            .push(" AND s.event_jurisdiction_code >= ")
            .push_bind(prefix.to_owned())
            .push(" AND s.event_jurisdiction_code < ")
            .push_bind(format!("{prefix}~"));
    }
    if let Some(department) = scope.summoned() {
        builder
            .push(" AND EXISTS (SELECT 1 FROM summonses v WHERE v.event_id = s.event_id AND v.department_code = ")
            .push_bind(department.to_owned())
            .push(")");
    }
    if let Some(within) = &filter.within {
        builder
            .push(" AND s.event_jurisdiction_code >= ")
            .push_bind(within.clone())
            .push(" AND s.event_jurisdiction_code < ")
            .push_bind(format!("{within}~"));
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

/// What a queue lists: its table and alias, its columns, and its order.
struct Shape {
    /// `summonses s`, `events t`.
    from: &'static str,
    columns: &'static str,
    /// The deadline it is ordered by, then the id.
    due: &'static str,
    id: &'static str,
}

const SUMMONSES: Shape = Shape {
    from: "summonses s",
    columns: SUMMONS_COLUMNS,
    due: "s.due_at",
    id: "s.id",
};

const EVENTS: Shape = Shape {
    from: "events t",
    columns: <Event as Entity>::COLUMNS,
    due: "COALESCE(t.due_at, '9999-12-31T00:00:00Z'::timestamptz)",
    id: "t.id",
};

impl Store {
    /// One page of each owner's queue of `shape`: one statement per kind of owner.
    async fn queue_pages<T>(
        &self,
        shape: &Shape,
        owners: &[Owner],
        page: DuePage,
        narrow: impl Fn(&mut QueryBuilder<'_, Postgres>),
    ) -> Result<HashMap<Owner, Page<T>>, StoreError>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        let mut pages = HashMap::new();
        for (predicate, group) in by_kind(owners) {
            let keys: Vec<String> = group.iter().map(|owner| owner_key(owner)).collect();
            let mut builder = QueryBuilder::new("SELECT k.key AS owner_key, q.* FROM unnest(");
            builder.push_bind(keys).push(format_args!(
                "::text[]) AS k(key) CROSS JOIN LATERAL (SELECT {} FROM {} WHERE {predicate}",
                shape.columns, shape.from
            ));
            narrow(&mut builder);
            if let Some((at, id)) = page.after {
                builder
                    .push(format_args!(" AND ({}, {}) > (", shape.due, shape.id))
                    .push_bind(at)
                    .push(", ")
                    .push_bind(id)
                    .push(")");
            }
            builder
                .push(format_args!(" ORDER BY {}, {} LIMIT ", shape.due, shape.id))
                .push_bind(page.limit + 1)
                .push(") q");
            let rows = builder.build().fetch_all(self.executor()).await?;
            for owner in &group {
                pages.insert((*owner).clone(), Page::empty());
            }
            for row in rows {
                let key: String = row.try_get("owner_key")?;
                let item = T::from_row(&row)?;
                let owner = group.iter().find(|owner| owner_key(owner) == key);
                if let Some(rows) = owner.and_then(|owner| pages.get_mut(*owner)) {
                    push_row(rows, item, page.limit);
                }
            }
        }
        Ok(pages)
    }

    /// How many rows each owner's queue of `shape` holds.
    async fn queue_counts(
        &self,
        shape: &Shape,
        owners: &[Owner],
        narrow: impl Fn(&mut QueryBuilder<'_, Postgres>),
    ) -> Result<HashMap<Owner, i64>, StoreError> {
        let mut counts = HashMap::new();
        for (predicate, group) in by_kind(owners) {
            let keys: Vec<String> = group.iter().map(|owner| owner_key(owner)).collect();
            let mut builder = QueryBuilder::new(format!(
                "SELECT k.key AS owner_key, (SELECT count(*) FROM {} WHERE {predicate}",
                shape.from
            ));
            narrow(&mut builder);
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

    /// One page of each owner's summonses, by next deadline.
    pub async fn summons_queues(
        &self,
        scope: &Scope,
        owners: &[Owner],
        filter: &SummonsQueueFilter,
        page: DuePage,
    ) -> Result<HashMap<Owner, Page<Summons>>, StoreError> {
        self.queue_pages(&SUMMONSES, owners, page, |builder| {
            push_summons_filter(builder, scope, filter)
        })
        .await
    }

    /// How many summonses each owner's queue holds.
    pub async fn count_summons_queues(
        &self,
        scope: &Scope,
        owners: &[Owner],
        filter: &SummonsQueueFilter,
    ) -> Result<HashMap<Owner, i64>, StoreError> {
        self.queue_counts(&SUMMONSES, owners, |builder| {
            push_summons_filter(builder, scope, filter)
        })
        .await
    }

    /// One page of each owner's events (a level's, or a person's), by their deadline
    /// (`dueAt`).
    pub async fn event_queues(
        &self,
        scope: &Scope,
        owners: &[Owner],
        filter: &EventQueueFilter,
        page: DuePage,
    ) -> Result<HashMap<Owner, Page<Event>>, StoreError> {
        self.queue_pages(&EVENTS, owners, page, |builder| {
            push_event_filter(builder, scope, filter)
        })
        .await
    }

    /// How many events each owner's queue holds.
    pub async fn count_event_queues(
        &self,
        scope: &Scope,
        owners: &[Owner],
        filter: &EventQueueFilter,
    ) -> Result<HashMap<Owner, i64>, StoreError> {
        self.queue_counts(&EVENTS, owners, |builder| {
            push_event_filter(builder, scope, filter)
        })
        .await
    }
}

fn push_event_filter(
    builder: &mut QueryBuilder<'_, Postgres>,
    scope: &Scope,
    filter: &EventQueueFilter,
) {
    let prefix = scope.prefix();
    if !prefix.is_empty() {
        builder
            .push(" AND t.jurisdiction_code >= ")
            .push_bind(prefix.to_owned())
            .push(" AND t.jurisdiction_code < ")
            .push_bind(format!("{prefix}~"));
    }
    if let Some(department) = scope.summoned() {
        builder
            .push(" AND EXISTS (SELECT 1 FROM summonses v WHERE v.event_id = t.id AND v.department_code = ")
            .push_bind(department.to_owned())
            .push(")");
    }
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
