//! Deadlines: how long each step may take by urgency, and 督办: events past their own
//! deadline get an OVERDUE and a SUPERVISION entry (once); summonses past their report-in or handling deadline become OVERDUE, and the level
//! above the summoning jurisdiction gets a SUPERVISION entry. Each deadline fires once,
//! whatever the number of replicas watching: the summons changes state in the same
//! transaction, rows are claimed with `FOR UPDATE SKIP LOCKED`, and every append holds
//! the workflow lock.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::machine::{self, EventAction, SummonsAction};
use super::timeline::{Entry, insert_entry};
use crate::access::Actor;
use crate::enums::{EventStatus, SummonsStatus, TimelineKind, Urgency};
use crate::store::{Store, StoreError};

/// A summons whose deadline has passed, as claimed.
#[derive(sqlx::FromRow)]
struct Due {
    id: i64,
    event_id: i64,
    department_code: Option<String>,
    status: SummonsStatus,
    reported_in: bool,
    report_in_due_at: DateTime<Utc>,
    handling_due_at: DateTime<Utc>,
    summoned_by: String,
    supervisor: Option<String>,
    event_jurisdiction: String,
}

/// The watcher itself, as timeline entries name it.
fn watcher() -> Actor {
    Actor::system("督办", crate::access::Role::System)
}

impl Store {
    /// Marks up to `limit` summonses overdue as of `now`; returns how many.
    pub async fn mark_overdue(&self, now: DateTime<Utc>, limit: i64) -> Result<usize, StoreError> {
        let mut transaction = self.executor().begin().await?;
        let due: Vec<Due> = sqlx::query_as(
            "SELECT s.id, s.event_id, s.department_code, s.status, \
                    s.reported_in_at IS NOT NULL AS reported_in, s.report_in_due_at, \
                    s.handling_due_at, w.jurisdiction_code AS summoned_by, \
                    j.parent_code AS supervisor, e.jurisdiction_code AS event_jurisdiction \
             FROM summonses s \
             JOIN whistles w ON w.id = s.whistle_id \
             JOIN jurisdictions j ON j.code = w.jurisdiction_code \
             JOIN events e ON e.id = s.event_id \
             WHERE ((s.status = 'SUMMONED' AND s.report_in_due_at < $1) \
                OR (s.status IN ('REPORTED_IN', 'ACTING') AND s.handling_due_at < $1)) \
               AND e.status NOT IN ('RESOLVED', 'CLOSED', 'REJECTED') \
             ORDER BY s.id LIMIT $2 \
             FOR UPDATE OF s, e SKIP LOCKED",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *transaction)
        .await?;
        let actor = watcher();
        for summons in &due {
            let Ok(next) = machine::summons(
                summons.status,
                summons.reported_in,
                SummonsAction::MarkOverdue,
            ) else {
                continue;
            };
            let missed = if summons.status == SummonsStatus::Summoned {
                ("reportIn", summons.report_in_due_at)
            } else {
                ("handling", summons.handling_due_at)
            };
            sqlx::query(
                "UPDATE summonses SET status = $2, overdue_marks = overdue_marks + 1, \
                 updated_at = now() WHERE id = $1",
            )
            .bind(summons.id)
            .bind(next)
            .execute(&mut *transaction)
            .await?;
            let detail =
                json!({ "missed": missed.0, "dueAt": missed.1, "summonedBy": summons.summoned_by });
            for (kind, detail) in [
                (TimelineKind::Overdue, detail.clone()),
                (
                    TimelineKind::Supervision,
                    json!({ "supervisor": summons.supervisor, "overdue": detail }),
                ),
            ] {
                let entry = Entry {
                    event_id: summons.event_id,
                    summons_id: Some(summons.id),
                    kind,
                    department: summons.department_code.as_deref(),
                    jurisdiction: &summons.event_jurisdiction,
                    before: Some(summons.status.as_str()),
                    after: Some(next.as_str()),
                    detail,
                };
                insert_entry(&mut transaction, &actor, entry).await?;
            }
        }
        transaction.commit().await?;
        self.order_committed().await;
        Ok(due.len())
    }

    /// Marks up to `limit` events whose own deadline (`dueAt`) passed before `now` while
    /// still open: an OVERDUE entry (the state does not change), and a SUPERVISION entry
    /// for the level above the one handling it. Each event once, whatever the replicas.
    pub async fn mark_events_overdue(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<usize, StoreError> {
        let mut transaction = self.executor().begin().await?;
        let due: Vec<DueEvent> = sqlx::query_as(
            "SELECT e.id, e.status, e.due_at, e.jurisdiction_code, \
                    COALESCE(e.handling_code, left(e.jurisdiction_code, 9)) AS handling, \
                    j.parent_code AS supervisor \
             FROM events e \
             LEFT JOIN jurisdictions j ON j.code = COALESCE(e.handling_code, left(e.jurisdiction_code, 9)) \
             WHERE e.due_at < $1 AND e.overdue_at IS NULL \
               AND e.status NOT IN ('RESOLVED', 'CLOSED', 'REJECTED') \
             ORDER BY e.due_at, e.id LIMIT $2 \
             FOR UPDATE OF e SKIP LOCKED",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *transaction)
        .await?;
        let actor = watcher();
        for event in &due {
            if machine::event(event.status, EventAction::MarkOverdue).is_err() {
                continue;
            }
            sqlx::query("UPDATE events SET overdue_at = $2 WHERE id = $1")
                .bind(event.id)
                .bind(now)
                .execute(&mut *transaction)
                .await?;
            let detail =
                json!({ "missed": "event", "dueAt": event.due_at, "handling": event.handling });
            for (kind, detail) in [
                (TimelineKind::Overdue, detail.clone()),
                (
                    TimelineKind::Supervision,
                    json!({ "supervisor": event.supervisor, "overdue": detail }),
                ),
            ] {
                let entry = Entry {
                    event_id: event.id,
                    summons_id: None,
                    kind,
                    department: None,
                    jurisdiction: &event.jurisdiction_code,
                    before: Some(event.status.as_str()),
                    after: Some(event.status.as_str()),
                    detail,
                };
                insert_entry(&mut transaction, &actor, entry).await?;
            }
        }
        transaction.commit().await?;
        self.order_committed().await;
        Ok(due.len())
    }
}

/// An open event whose own deadline has passed, as claimed.
#[derive(sqlx::FromRow)]
struct DueEvent {
    id: i64,
    status: EventStatus,
    due_at: DateTime<Utc>,
    jurisdiction_code: String,
    handling: String,
    supervisor: Option<String>,
}

/// How long a summoned department has to report in, by urgency.
pub(super) fn report_in_time(urgency: Urgency) -> Duration {
    match urgency {
        Urgency::Critical => Duration::minutes(30),
        Urgency::High => Duration::hours(2),
        Urgency::Normal => Duration::hours(24),
        Urgency::Low => Duration::hours(48),
    }
}

/// How long handling may take, by urgency.
pub(super) fn handling_time(urgency: Urgency) -> Duration {
    match urgency {
        Urgency::Critical => Duration::hours(24),
        Urgency::High => Duration::days(3),
        Urgency::Normal => Duration::days(7),
        Urgency::Low => Duration::days(15),
    }
}
