//! Reads of the workflow's records: timelines and summonses, scoped like every read.

use connectors::Scope;
use sqlx::{Postgres, QueryBuilder};

use super::records::{SUMMONS_COLUMNS, Summons, TIMELINE_COLUMNS, TimelineEntry};
use crate::store::{Store, StoreError};

impl Store {
    /// The entries `first` to `last`: what a replayed change returns.
    pub(super) async fn timeline_range(
        &self,
        first: i64,
        last: i64,
    ) -> Result<Vec<TimelineEntry>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {TIMELINE_COLUMNS} FROM timeline WHERE id BETWEEN $1 AND $2 ORDER BY id"
        ))
        .bind(first)
        .bind(last)
        .fetch_all(self.executor())
        .await?)
    }

    /// An event's timeline, oldest first, after `after` (a cursor), at most `limit`;
    /// nothing when the scope does not see the event.
    pub async fn timeline(
        &self,
        scope: &Scope,
        event_id: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<TimelineEntry>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {TIMELINE_COLUMNS} FROM timeline WHERE event_id = $1 AND position > $2 AND {} \
             ORDER BY position LIMIT $3",
            event_visible("timeline.event_id", "$4", "$5")
        ))
        .bind(event_id)
        .bind(after)
        .bind(limit)
        .bind(scope.prefix())
        .bind(scope.summoned())
        .fetch_all(self.executor())
        .await?)
    }

    /// The newest timeline entry's position (0 when there is none).
    pub async fn last_timeline_position(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM timeline")
                .fetch_one(self.executor())
                .await?,
        )
    }

    /// Entries matching `filter` after `after`, oldest first, at most `limit`. With no
    /// filter (the signal hub's read after every change) through `timeline_after()`,
    /// which is planned once per connection (migration 0024).
    pub async fn timeline_after(
        &self,
        filter: &super::signals::SignalFilter,
        after: i64,
        limit: i64,
    ) -> Result<Vec<TimelineEntry>, StoreError> {
        if *filter == super::signals::SignalFilter::default() {
            return Ok(sqlx::query_as(&format!(
                "SELECT {TIMELINE_COLUMNS} FROM timeline_after($1, $2)"
            ))
            .bind(after)
            .bind(i32::try_from(limit).unwrap_or(i32::MAX))
            .fetch_all(self.executor())
            .await?);
        }
        let mut builder = signal_select(filter);
        builder
            .push(" AND position > ")
            .push_bind(after)
            .push(format_args!(" ORDER BY position LIMIT {limit}"));
        Ok(builder.build_query_as().fetch_all(self.executor()).await?)
    }

    /// The latest `limit` entries matching `filter`, oldest first.
    pub async fn latest_timeline(
        &self,
        filter: &super::signals::SignalFilter,
        limit: i64,
    ) -> Result<Vec<TimelineEntry>, StoreError> {
        let mut builder = signal_select(filter);
        builder.push(format_args!(
            " AND position IS NOT NULL ORDER BY position DESC LIMIT {limit}"
        ));
        let mut entries: Vec<TimelineEntry> =
            builder.build_query_as().fetch_all(self.executor()).await?;
        entries.reverse();
        Ok(entries)
    }

    /// The summonses of events the scope sees, by event.
    pub async fn summonses(
        &self,
        scope: &Scope,
        event_ids: &[i64],
    ) -> Result<Vec<Summons>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {SUMMONS_COLUMNS} FROM summonses WHERE event_id = ANY($1) AND {} \
             ORDER BY event_id, id",
            event_visible("summonses.event_id", "$2", "$3")
        ))
        .bind(event_ids)
        .bind(scope.prefix())
        .bind(scope.summoned())
        .fetch_all(self.executor())
        .await?)
    }

    /// Summonses by id, of events the scope sees.
    pub async fn summonses_by_id(
        &self,
        scope: &Scope,
        ids: &[i64],
    ) -> Result<Vec<Summons>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {SUMMONS_COLUMNS} FROM summonses WHERE id = ANY($1) AND {}",
            event_visible("summonses.event_id", "$2", "$3")
        ))
        .bind(ids)
        .bind(scope.prefix())
        .bind(scope.summoned())
        .fetch_all(self.executor())
        .await?)
    }
}

/// `SELECT` of the timeline rows `filter` matches, with only the conditions it sets and
/// the caller's limit written out, so each filter's statement can use its own indexes
/// (with every condition present as `$n IS NULL OR …` and the limit a parameter, no plan
/// fitted any of them). A read just past the newest cursor is still planned on every
/// run — the statistics see almost no rows there — which is why the hub's unfiltered
/// read after every change goes through `timeline_after()` instead.
fn signal_select(filter: &super::signals::SignalFilter) -> QueryBuilder<'static, Postgres> {
    let mut builder = QueryBuilder::new(format!(
        "SELECT {TIMELINE_COLUMNS} FROM timeline WHERE TRUE"
    ));
    if let Some(event_id) = filter.event_id {
        builder.push(" AND event_id = ").push_bind(event_id);
    }
    if let Some(department) = &filter.department_code {
        builder
            .push(" AND department_code = ")
            .push_bind(department.clone());
    }
    if let Some(prefix) = &filter.jurisdiction_prefix {
        builder
            .push(" AND jurisdiction_code >= ")
            .push_bind(prefix.clone())
            .push(" AND jurisdiction_code < ")
            .push_bind(format!("{prefix}~"));
    }
    builder
}

/// SQL true when the event whose id is `column` is visible to a scope given as the
/// parameters `prefix` (its code prefix, text) and `summoned` (its department, or NULL).
pub(super) fn event_visible(column: &str, prefix: &str, summoned: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM events e WHERE e.id = {column} \
           AND ({prefix} = '' OR (e.jurisdiction_code >= {prefix} AND e.jurisdiction_code < {prefix} || '~')) \
           AND ({summoned}::text IS NULL OR EXISTS (SELECT 1 FROM summonses v \
                WHERE v.event_id = e.id AND v.department_code = {summoned})))"
    )
}
