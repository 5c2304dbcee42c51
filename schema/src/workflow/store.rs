//! The workflow's transactions. Each takes the workflow lock first (so timeline ids are
//! assigned in commit order and idempotency keys are checked without races), applies one
//! change through the state machines, appends its timeline entries and outbox rows, and
//! records its idempotency key — all or nothing.

use chrono::{DateTime, Duration, Utc};
use connectors::Scope;
use serde_json::{Value, json};
use sqlx::{Postgres, Transaction};

use super::machine::{self, EventAction, InvalidTransition, SummonsAction};
pub use crate::access::Actor;
use crate::access::{Operation, Reach};
use crate::enums::{
    EventCategory, EventChannel, EventStatus, ResolutionTier, SummonsStatus, TimelineKind, Urgency,
};
use crate::store::{Store, StoreError};

/// The advisory lock every workflow transaction holds while it appends to the timeline.
pub(super) const WORKFLOW_LOCK: i64 = 0x5057_4f52_4b46_4c57; // "PWORKFLW"

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

/// What a workflow mutation did: the event, and the timeline entries it appended
/// (`replayed` when the idempotency key had been seen and nothing was done again).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub event_id: i64,
    pub entries: Vec<TimelineEntry>,
    pub replayed: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TimelineEntry {
    pub id: i64,
    pub event_id: i64,
    pub summons_id: Option<i64>,
    pub kind: TimelineKind,
    pub actor: String,
    pub actor_role: String,
    pub actor_department: Option<String>,
    pub department_code: Option<String>,
    pub jurisdiction_code: String,
    pub state_before: Option<String>,
    pub state_after: Option<String>,
    pub detail: Value,
    pub at: DateTime<Utc>,
}

const TIMELINE_COLUMNS: &str = "id, event_id, summons_id, kind, actor, actor_role, actor_department, \
     department_code, jurisdiction_code, state_before, state_after, detail, at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Summons {
    pub id: i64,
    pub whistle_id: i64,
    pub event_id: i64,
    pub department_code: String,
    pub status: SummonsStatus,
    pub report_in_due_at: DateTime<Utc>,
    pub handling_due_at: DateTime<Utc>,
    pub reported_in_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub decline_reason: Option<String>,
    pub extension_until: Option<DateTime<Utc>>,
    pub extension_reason: Option<String>,
    pub feedback: Option<String>,
}

const SUMMONS_COLUMNS: &str = "id, whistle_id, event_id, department_code, status, report_in_due_at, \
     handling_due_at, reported_in_at, done_at, decline_reason, extension_until, extension_reason, feedback";

/// What a grid worker's terminal reports.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub title: String,
    pub description: String,
    pub category: EventCategory,
    pub channel: EventChannel,
    pub urgency: Urgency,
    pub jurisdiction_code: String,
    pub place_id: Option<i64>,
    pub reporter_id: Option<i64>,
    pub party_ids: Vec<i64>,
    pub photos: Vec<String>,
}

/// The event row as a transaction locks it.
#[derive(sqlx::FromRow)]
struct Locked {
    status: EventStatus,
    urgency: Urgency,
    jurisdiction_code: String,
    /// The level handling the event (its grid's township unless escalated).
    handling_code: String,
    /// The departments summoned to the event.
    summoned: Vec<String>,
}

/// One workflow transaction in progress.
struct Change<'a> {
    transaction: Transaction<'static, Postgres>,
    actor: &'a Actor,
    /// What the permission table asks of the actor over the change's object.
    reach: Reach,
    /// Whether the object was checked against `reach`: a change that was not is never
    /// committed.
    authorized: bool,
    entries: Vec<TimelineEntry>,
}

/// What a change acts on, for the permission check.
enum Target<'a> {
    /// A grid an event is reported in.
    Grid(&'a str),
    Event(&'a Locked),
    /// A summons of the locked event, addressed to a department.
    Summons(&'a Locked, &'a str),
}

impl Change<'_> {
    /// Checks the actor's reach over the change's object: `FORBIDDEN` otherwise, with
    /// nothing written.
    fn authorize(&mut self, target: Target<'_>) -> Result<(), WorkflowError> {
        let actor = self.actor;
        let refused = |why: String| Err(WorkflowError::Forbidden(why));
        match (self.reach, target) {
            (Reach::Jurisdiction, Target::Grid(code)) if !actor.scope.contains(code) => {
                return refused(format!("grid `{code}` is outside your jurisdiction"));
            }
            (Reach::Jurisdiction, Target::Grid(_)) => {}
            (_, Target::Grid(_)) => {
                return refused(format!(
                    "the role {} does not report events",
                    actor.role.as_str()
                ));
            }
            // Visibility was checked where the event was locked.
            (Reach::Jurisdiction, Target::Event(_) | Target::Summons(..)) => {}
            (Reach::HandlingLevel, Target::Event(locked) | Target::Summons(locked, _)) => {
                if locked.handling_code != actor.jurisdiction {
                    return refused(format!(
                        "the event is handled at `{}`, not at your level `{}`",
                        locked.handling_code, actor.jurisdiction
                    ));
                }
            }
            (Reach::HandlingBelow, Target::Event(locked) | Target::Summons(locked, _)) => {
                if !actor.scope.contains(&locked.handling_code) {
                    return refused(format!(
                        "the event is handled at `{}`, above the levels you supervise",
                        locked.handling_code
                    ));
                }
            }
            (Reach::OwnDepartment, Target::Summons(_, department)) => {
                if actor.department.as_deref() != Some(department) {
                    return refused(format!(
                        "the summons is addressed to {department}, not to your department"
                    ));
                }
            }
            (Reach::OwnDepartment, Target::Event(_)) => {
                return refused("departments act on their summonses, not on events".to_owned());
            }
        }
        self.authorized = true;
        Ok(())
    }
}

enum Begun<'a> {
    Replay(Outcome),
    Fresh(Change<'a>),
}

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

impl Store {
    /// Starts a change: the role must be allowed the operation at all (nothing is read
    /// otherwise), then, under the workflow lock, the caller's idempotency key is looked
    /// up: seen with the same operation and arguments, the first result is replayed;
    /// seen with others, the key is refused.
    async fn begin<'a>(
        &self,
        key: &str,
        operation: Operation,
        actor: &'a Actor,
        request: &Value,
    ) -> Result<Begun<'a>, WorkflowError> {
        let reach = actor.may(operation).map_err(WorkflowError::Forbidden)?;
        if key.trim().is_empty() || key.len() > 200 {
            return Err(WorkflowError::BadInput(
                "idempotencyKey must be 1 to 200 characters".to_owned(),
            ));
        }
        let mut transaction = self.executor().begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(WORKFLOW_LOCK)
            .execute(&mut *transaction)
            .await?;
        let seen: Option<(String, Value, i64, i64, i64)> = sqlx::query_as(
            "SELECT operation, request, event_id, first_entry, last_entry FROM idempotency_keys \
             WHERE principal = $1 AND key = $2",
        )
        .bind(&actor.subject)
        .bind(key)
        .fetch_optional(&mut *transaction)
        .await?;
        let Some((used_for, first_request, event_id, first, last)) = seen else {
            return Ok(Begun::Fresh(Change {
                transaction,
                actor,
                reach,
                authorized: false,
                entries: Vec::new(),
            }));
        };
        transaction.rollback().await?;
        if used_for != operation.name() || &first_request != request {
            return Err(WorkflowError::KeyReused {
                key: key.to_owned(),
                other_arguments: used_for == operation.name(),
                used_for,
            });
        }
        Ok(Begun::Replay(Outcome {
            event_id,
            entries: self.timeline_range(first, last).await?,
            replayed: true,
        }))
    }

    async fn finish(
        &self,
        mut change: Change<'_>,
        key: &str,
        operation: Operation,
        request: &Value,
        event_id: i64,
    ) -> Result<Outcome, WorkflowError> {
        if !change.authorized {
            tracing::error!(
                operation = operation.name(),
                "a workflow change reached commit without its permission check"
            );
            return Err(WorkflowError::Forbidden(
                "this change was not checked against the permission table".to_owned(),
            ));
        }
        let (first, last) = match (change.entries.first(), change.entries.last()) {
            (Some(first), Some(last)) => (first.id, last.id),
            _ => return Err(WorkflowError::BadInput("nothing to record".to_owned())),
        };
        sqlx::query(
            "INSERT INTO idempotency_keys (principal, key, operation, request, event_id, first_entry, last_entry) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&change.actor.subject)
        .bind(key)
        .bind(operation.name())
        .bind(request)
        .bind(event_id)
        .bind(first)
        .bind(last)
        .execute(&mut *change.transaction)
        .await?;
        change.transaction.commit().await?;
        Ok(Outcome {
            event_id,
            entries: change.entries,
            replayed: false,
        })
    }

    async fn timeline_range(
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
            "SELECT {TIMELINE_COLUMNS} FROM timeline WHERE event_id = $1 AND id > $2 AND {} \
             ORDER BY id LIMIT $3",
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

    /// Publishes up to `limit` outbox entries with `publish` (given the newest cursor) and
    /// marks them published, all or nothing; returns how many. Rows another replica is
    /// publishing are skipped.
    pub async fn publish_outbox<F, Fut, E>(
        &self,
        limit: i64,
        publish: F,
    ) -> Result<usize, PublishError<E>>
    where
        F: FnOnce(i64) -> Fut,
        Fut: std::future::Future<Output = Result<(), E>>,
    {
        let mut transaction = self.executor().begin().await.map_err(store_failure)?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT timeline_id FROM outbox WHERE published_at IS NULL \
             ORDER BY timeline_id LIMIT $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(limit)
        .fetch_all(&mut *transaction)
        .await
        .map_err(store_failure)?;
        let Some(newest) = ids.last().copied() else {
            return Ok(0);
        };
        publish(newest).await.map_err(PublishError::Publish)?;
        sqlx::query("UPDATE outbox SET published_at = now() WHERE timeline_id = ANY($1)")
            .bind(&ids)
            .execute(&mut *transaction)
            .await
            .map_err(store_failure)?;
        transaction.commit().await.map_err(store_failure)?;
        Ok(ids.len())
    }

    /// The newest timeline entry's id (0 when there is none).
    pub async fn last_timeline_id(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM timeline")
                .fetch_one(self.executor())
                .await?,
        )
    }

    /// Entries matching `filter` after `after`, oldest first, at most `limit`.
    pub async fn timeline_after(
        &self,
        filter: &super::signals::SignalFilter,
        after: i64,
        limit: i64,
    ) -> Result<Vec<TimelineEntry>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {TIMELINE_COLUMNS} FROM timeline WHERE id > $1 \
               AND ($2::bigint IS NULL OR event_id = $2) \
               AND ($3::text IS NULL OR department_code = $3) \
               AND ($4::text IS NULL OR (jurisdiction_code >= $4 AND jurisdiction_code < $4 || '~')) \
             ORDER BY id LIMIT $5"
        ))
        .bind(after)
        .bind(filter.event_id)
        .bind(filter.department_code.as_deref())
        .bind(filter.jurisdiction_prefix.as_deref())
        .bind(limit)
        .fetch_all(self.executor())
        .await?)
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

    /// Files a new event as REPORTED.
    pub async fn report_event(
        &self,
        key: &str,
        actor: &Actor,
        event: &NewEvent,
    ) -> Result<Outcome, WorkflowError> {
        const OPERATION: Operation = Operation::ReportEvent;
        let request = json!({
            "title": event.title,
            "description": event.description,
            "category": event.category.as_str(),
            "channel": event.channel.as_str(),
            "urgency": event.urgency.as_str(),
            "grid": event.jurisdiction_code,
            "place": event.place_id,
            "reporter": event.reporter_id,
            "parties": event.party_ids,
            "photos": event.photos,
        });
        let mut change = match self.begin(key, OPERATION, actor, &request).await? {
            Begun::Replay(outcome) => return Ok(outcome),
            Begun::Fresh(change) => change,
        };
        let grid: Option<String> =
            sqlx::query_scalar("SELECT code FROM jurisdictions WHERE code = $1 AND level = 'GRID'")
                .bind(&event.jurisdiction_code)
                .fetch_optional(&mut *change.transaction)
                .await?;
        if grid.is_none() {
            return Err(WorkflowError::BadInput(format!(
                "`{}` is not a grid's code",
                event.jurisdiction_code
            )));
        }
        change.authorize(Target::Grid(&event.jurisdiction_code))?;
        let now = Utc::now();
        let event_id: i64 = sqlx::query_scalar(
            "INSERT INTO events (title, description, category, channel, urgency, status, reporter_id, \
               place_id, jurisdiction_code, reported_at, updated_at, due_at, photos) \
             VALUES ($1, $2, $3, $4, $5, 'REPORTED', $6, $7, $8, $9, $9, $10, $11) RETURNING id",
        )
        .bind(&event.title)
        .bind(&event.description)
        .bind(event.category)
        .bind(event.channel)
        .bind(event.urgency)
        .bind(event.reporter_id)
        .bind(event.place_id)
        .bind(&event.jurisdiction_code)
        .bind(now)
        .bind(now + handling_time(event.urgency))
        .bind(&event.photos)
        .fetch_one(&mut *change.transaction)
        .await
        .map_err(|e| foreign_key(e, "the place or reporter does not exist"))?;
        for (position, person) in event.party_ids.iter().enumerate() {
            sqlx::query(
                "INSERT INTO event_parties (event_id, position, role, person_id) VALUES ($1, $2, 'APPLICANT', $3)",
            )
            .bind(event_id)
            .bind(position as i16)
            .bind(person)
            .execute(&mut *change.transaction)
            .await
            .map_err(|e| foreign_key(e, "a party does not exist"))?;
        }
        append(
            &mut change,
            Entry {
                event_id,
                summons_id: None,
                kind: TimelineKind::Reported,
                department: None,
                jurisdiction: &event.jurisdiction_code,
                before: None,
                after: Some(EventStatus::Reported.as_str()),
                detail: json!({ "channel": event.channel.as_str(), "urgency": event.urgency.as_str() }),
            },
        )
        .await?;
        self.finish(change, key, OPERATION, &request, event_id)
            .await
    }

    /// Moves an event by one step, recording it on the timeline.
    async fn event_change(
        &self,
        key: &str,
        operation: Operation,
        actor: &Actor,
        event_id: i64,
        step: EventStep,
    ) -> Result<Outcome, WorkflowError> {
        let EventStep {
            action,
            kind,
            detail,
            extra,
        } = step;
        let request = json!({ "event": event_id, "detail": detail });
        let mut change = match self.begin(key, operation, actor, &request).await? {
            Begun::Replay(outcome) => return Ok(outcome),
            Begun::Fresh(change) => change,
        };
        let locked = lock_event(&mut change, event_id).await?;
        change.authorize(Target::Event(&locked))?;
        let next = machine::event(locked.status, action)?;
        // The level above is read under the event's lock.
        let (extra, detail) = if action == EventAction::Escalate {
            let above = level_above(&mut change, &locked.handling_code).await?;
            let mut detail = detail;
            detail["from"] = json!(locked.handling_code);
            detail["to"] = json!(above);
            (EventExtra::Escalated(above), detail)
        } else {
            (extra, detail)
        };
        set_event_status(&mut change, event_id, next, &extra).await?;
        append(
            &mut change,
            Entry {
                event_id,
                summons_id: None,
                kind,
                department: None,
                jurisdiction: &locked.jurisdiction_code,
                before: Some(locked.status.as_str()),
                after: Some(next.as_str()),
                detail,
            },
        )
        .await?;
        self.finish(change, key, operation, &request, event_id)
            .await
    }

    /// Accepts, rejects, returns or escalates an event, with the note or reason given.
    pub async fn decide_event(
        &self,
        key: &str,
        actor: &Actor,
        event_id: i64,
        decision: Decision,
        text: &str,
    ) -> Result<Outcome, WorkflowError> {
        let (operation, action, kind, field) = match decision {
            Decision::Accept => (
                Operation::AcceptEvent,
                EventAction::Accept,
                TimelineKind::Accepted,
                "note",
            ),
            Decision::Reject => (
                Operation::RejectEvent,
                EventAction::Reject,
                TimelineKind::Rejected,
                "reason",
            ),
            Decision::Return => (
                Operation::ReturnEvent,
                EventAction::Return,
                TimelineKind::Returned,
                "reason",
            ),
            Decision::Escalate => (
                Operation::EscalateEvent,
                EventAction::Escalate,
                TimelineKind::Escalated,
                "reason",
            ),
        };
        let step = EventStep::new(action, kind, json!({ field: text }));
        self.event_change(key, operation, actor, event_id, step)
            .await
    }

    pub async fn resolve_event(
        &self,
        key: &str,
        actor: &Actor,
        event_id: i64,
        tier: ResolutionTier,
        summary: &str,
    ) -> Result<Outcome, WorkflowError> {
        let detail = json!({ "tier": tier.as_str(), "summary": summary });
        let step = EventStep {
            extra: EventExtra::Resolved(tier),
            ..EventStep::new(EventAction::Resolve, TimelineKind::Resolved, detail)
        };
        self.event_change(key, Operation::ResolveEvent, actor, event_id, step)
            .await
    }

    /// The follow-up call: satisfaction 1–5; 1 and 2 reopen the event for rework (重办).
    pub async fn revisit(
        &self,
        key: &str,
        actor: &Actor,
        event_id: i64,
        satisfaction: i16,
        comment: &str,
    ) -> Result<Outcome, WorkflowError> {
        if !(1..=5).contains(&satisfaction) {
            return Err(WorkflowError::BadInput("satisfaction is 1 to 5".to_owned()));
        }
        let satisfied = satisfaction >= 3;
        let kind = if satisfied {
            TimelineKind::Evaluated
        } else {
            TimelineKind::Reopened
        };
        let detail = json!({ "satisfaction": satisfaction, "comment": comment });
        let step = EventStep {
            extra: EventExtra::Revisited {
                satisfaction,
                comment: comment.to_owned(),
                reopened: !satisfied,
            },
            ..EventStep::new(EventAction::Revisit { satisfied }, kind, detail)
        };
        self.event_change(key, Operation::Revisit, actor, event_id, step)
            .await
    }

    pub async fn close_event(
        &self,
        key: &str,
        actor: &Actor,
        event_id: i64,
    ) -> Result<Outcome, WorkflowError> {
        let step = EventStep {
            extra: EventExtra::Closed,
            ..EventStep::new(EventAction::Close, TimelineKind::Closed, json!({}))
        };
        self.event_change(key, Operation::CloseEvent, actor, event_id, step)
            .await
    }

    /// 吹哨: summons departments to an event, each with its deadlines (by default from
    /// the event's urgency).
    pub async fn blow_whistle(
        &self,
        key: &str,
        actor: &Actor,
        event_id: i64,
        jurisdiction_code: &str,
        note: &str,
        departments: &[Summon],
    ) -> Result<Outcome, WorkflowError> {
        const OPERATION: Operation = Operation::BlowWhistle;
        if departments.is_empty() {
            return Err(WorkflowError::BadInput(
                "summon at least one department".to_owned(),
            ));
        }
        let request = json!({
            "event": event_id,
            "jurisdiction": jurisdiction_code,
            "note": note,
            "summons": departments.iter().map(|s| json!({
                "department": s.department_code,
                "reportInDueAt": s.report_in_due_at,
                "handlingDueAt": s.handling_due_at,
            })).collect::<Vec<_>>(),
        });
        let mut change = match self.begin(key, OPERATION, actor, &request).await? {
            Begun::Replay(outcome) => return Ok(outcome),
            Begun::Fresh(change) => change,
        };
        let locked = lock_event(&mut change, event_id).await?;
        change.authorize(Target::Event(&locked))?;
        if !actor.scope.contains(jurisdiction_code) {
            return Err(WorkflowError::Forbidden(format!(
                "`{jurisdiction_code}` is outside your jurisdiction: summon as your own level"
            )));
        }
        let next = machine::event(locked.status, EventAction::BlowWhistle)?;
        set_event_status(&mut change, event_id, next, &EventExtra::None).await?;
        let whistle_id: i64 = sqlx::query_scalar(
            "INSERT INTO whistles (event_id, jurisdiction_code, note, blown_by) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(event_id)
        .bind(jurisdiction_code)
        .bind(note)
        .bind(&actor.name)
        .fetch_one(&mut *change.transaction)
        .await
        .map_err(|e| foreign_key(e, "no such jurisdiction"))?;
        let now = Utc::now();
        for (index, summon) in departments.iter().enumerate() {
            let department = &summon.department_code;
            let report_in_due = summon
                .report_in_due_at
                .unwrap_or(now + report_in_time(locked.urgency));
            let handling_due = summon
                .handling_due_at
                .unwrap_or(now + handling_time(locked.urgency));
            if report_in_due > handling_due {
                return Err(WorkflowError::BadInput(format!(
                    "{department}: the report-in deadline is after the handling deadline"
                )));
            }
            let summons_id: i64 = sqlx::query_scalar(
                "INSERT INTO summonses (whistle_id, event_id, department_code, status, report_in_due_at, handling_due_at) \
                 VALUES ($1, $2, $3, 'SUMMONED', $4, $5) RETURNING id",
            )
            .bind(whistle_id)
            .bind(event_id)
            .bind(department)
            .bind(report_in_due)
            .bind(handling_due)
            .fetch_one(&mut *change.transaction)
            .await
            .map_err(|e| foreign_key(e, "no such department"))?;
            append(
                &mut change,
                Entry {
                    event_id,
                    summons_id: Some(summons_id),
                    kind: TimelineKind::Whistle,
                    department: Some(department),
                    jurisdiction: &locked.jurisdiction_code,
                    before: (index == 0).then_some(locked.status.as_str()),
                    after: Some(SummonsStatus::Summoned.as_str()),
                    detail: json!({
                        "whistle": whistle_id,
                        "summonedBy": jurisdiction_code,
                        "note": note,
                        "reportInDueAt": report_in_due,
                        "handlingDueAt": handling_due,
                    }),
                },
            )
            .await?;
        }
        self.finish(change, key, OPERATION, &request, event_id)
            .await
    }

    /// 报到: a summoned department reports in.
    pub async fn report_in(
        &self,
        key: &str,
        actor: &Actor,
        summons_id: i64,
    ) -> Result<Outcome, WorkflowError> {
        let step = SummonsStep {
            action: SummonsAction::ReportIn,
            detail: json!({}),
            extra: SummonsExtra::ReportedIn,
        };
        self.summons_change(key, Operation::ReportIn, actor, summons_id, step)
            .await
    }

    pub async fn decline_summons(
        &self,
        key: &str,
        actor: &Actor,
        summons_id: i64,
        reason: &str,
    ) -> Result<Outcome, WorkflowError> {
        let step = SummonsStep {
            action: SummonsAction::Decline,
            detail: json!({ "reason": reason }),
            extra: SummonsExtra::Declined {
                reason: reason.to_owned(),
            },
        };
        self.summons_change(key, Operation::DeclineSummons, actor, summons_id, step)
            .await
    }

    /// 延期: a department asks for more time.
    pub async fn request_extension(
        &self,
        key: &str,
        actor: &Actor,
        summons_id: i64,
        until: DateTime<Utc>,
        reason: &str,
    ) -> Result<Outcome, WorkflowError> {
        let step = SummonsStep {
            action: SummonsAction::RequestExtension,
            detail: json!({ "until": until, "reason": reason }),
            extra: SummonsExtra::Extension {
                until,
                reason: reason.to_owned(),
            },
        };
        self.summons_change(key, Operation::RequestExtension, actor, summons_id, step)
            .await
    }

    pub async fn decide_extension(
        &self,
        key: &str,
        actor: &Actor,
        summons_id: i64,
        granted: bool,
    ) -> Result<Outcome, WorkflowError> {
        let step = SummonsStep {
            action: SummonsAction::DecideExtension,
            detail: json!({ "granted": granted }),
            extra: SummonsExtra::Decided { granted },
        };
        self.summons_change(key, Operation::DecideExtension, actor, summons_id, step)
            .await
    }

    pub async fn submit_feedback(
        &self,
        key: &str,
        actor: &Actor,
        summons_id: i64,
        text: &str,
        done: bool,
    ) -> Result<Outcome, WorkflowError> {
        let step = SummonsStep {
            action: SummonsAction::Feedback { done },
            detail: json!({ "text": text, "done": done }),
            extra: SummonsExtra::Feedback {
                text: text.to_owned(),
                done,
            },
        };
        self.summons_change(key, Operation::SubmitFeedback, actor, summons_id, step)
            .await
    }

    /// Moves a summons by one step (and its event, on the first report-in).
    async fn summons_change(
        &self,
        key: &str,
        operation: Operation,
        actor: &Actor,
        summons_id: i64,
        step: SummonsStep,
    ) -> Result<Outcome, WorkflowError> {
        let SummonsStep {
            action,
            detail,
            extra,
        } = step;
        let request = json!({ "summons": summons_id, "detail": detail });
        let mut change = match self.begin(key, operation, actor, &request).await? {
            Begun::Replay(outcome) => return Ok(outcome),
            Begun::Fresh(change) => change,
        };
        let summons: Option<Summons> = sqlx::query_as(&format!(
            "SELECT {SUMMONS_COLUMNS} FROM summonses WHERE id = $1"
        ))
        .bind(summons_id)
        .fetch_optional(&mut *change.transaction)
        .await?;
        let summons = summons.ok_or(WorkflowError::NotFound("summons"))?;
        let locked = lock_event(&mut change, summons.event_id).await?;
        change.authorize(Target::Summons(&locked, &summons.department_code))?;
        let next = machine::summons(summons.status, action)?;
        if let SummonsExtra::Decided { granted: true } = extra
            && summons.extension_until.is_none()
        {
            return Err(WorkflowError::BadInput(
                "no extension was asked for".to_owned(),
            ));
        }
        let kind = match action {
            SummonsAction::ReportIn => TimelineKind::ReportIn,
            SummonsAction::Decline => TimelineKind::Declined,
            SummonsAction::Feedback { .. } => TimelineKind::Feedback,
            SummonsAction::RequestExtension => TimelineKind::ExtensionRequested,
            SummonsAction::DecideExtension => TimelineKind::ExtensionDecided,
            SummonsAction::MarkOverdue => TimelineKind::Overdue,
        };
        let (sql, text, time): (&str, Option<&str>, Option<DateTime<Utc>>) = match &extra {
            SummonsExtra::ReportedIn => (", reported_in_at = now()", None, None),
            SummonsExtra::Declined { reason } => (", decline_reason = $3", Some(reason), None),
            SummonsExtra::Feedback { text, done: true } => {
                (", feedback = $3, done_at = now()", Some(text), None)
            }
            SummonsExtra::Feedback { text, done: false } => (", feedback = $3", Some(text), None),
            SummonsExtra::Extension { until, reason } => (
                ", extension_until = $4, extension_reason = $3",
                Some(reason),
                Some(*until),
            ),
            SummonsExtra::Decided { granted: true } => (
                ", handling_due_at = extension_until, extension_until = NULL, extension_reason = NULL",
                None,
                None,
            ),
            SummonsExtra::Decided { granted: false } => (
                ", extension_until = NULL, extension_reason = NULL",
                None,
                None,
            ),
        };
        sqlx::query(&format!(
            "UPDATE summonses SET status = $2, updated_at = now(){sql} WHERE id = $1"
        ))
        .bind(summons_id)
        .bind(next)
        .bind(text)
        .bind(time)
        .execute(&mut *change.transaction)
        .await?;
        append(
            &mut change,
            Entry {
                event_id: summons.event_id,
                summons_id: Some(summons_id),
                kind,
                department: Some(&summons.department_code),
                jurisdiction: &locked.jurisdiction_code,
                before: Some(summons.status.as_str()),
                after: Some(next.as_str()),
                detail,
            },
        )
        .await?;
        // The first department to report in starts the work on the event.
        if action == SummonsAction::ReportIn && locked.status == EventStatus::Dispatched {
            let started = machine::event(locked.status, EventAction::ReportIn)?;
            set_event_status(&mut change, summons.event_id, started, &EventExtra::None).await?;
        }
        self.finish(change, key, operation, &request, summons.event_id)
            .await
    }
}

/// SQL true when the event whose id is `column` is visible to a scope given as the
/// parameters `prefix` (its code prefix, text) and `summoned` (its department, or NULL).
fn event_visible(column: &str, prefix: &str, summoned: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM events e WHERE e.id = {column} \
           AND ({prefix} = '' OR (e.jurisdiction_code >= {prefix} AND e.jurisdiction_code < {prefix} || '~')) \
           AND ({summoned}::text IS NULL OR EXISTS (SELECT 1 FROM summonses v \
                WHERE v.event_id = e.id AND v.department_code = {summoned})))"
    )
}

/// The decisions on an event that carry only a note (accepting) or a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Reject,
    /// 退回: back to the reporting level.
    Return,
    /// To the level above.
    Escalate,
}

/// A department to summon, with its deadlines (defaults by the event's urgency).
#[derive(Debug, Clone)]
pub struct Summon {
    pub department_code: String,
    pub report_in_due_at: Option<DateTime<Utc>>,
    pub handling_due_at: Option<DateTime<Utc>>,
}

/// One step of an event: the transition, what the timeline records, what else is set.
struct EventStep {
    action: EventAction,
    kind: TimelineKind,
    detail: Value,
    extra: EventExtra,
}

impl EventStep {
    fn new(action: EventAction, kind: TimelineKind, detail: Value) -> Self {
        Self {
            action,
            kind,
            detail,
            extra: EventExtra::None,
        }
    }
}

/// One step of a summons.
struct SummonsStep {
    action: SummonsAction,
    detail: Value,
    extra: SummonsExtra,
}

/// Extra columns an event change sets.
enum EventExtra {
    None,
    /// Handed to this level (the one above the level handling it).
    Escalated(String),
    Resolved(ResolutionTier),
    Revisited {
        satisfaction: i16,
        comment: String,
        reopened: bool,
    },
    Closed,
}

/// Extra columns a summons change sets.
enum SummonsExtra {
    ReportedIn,
    Declined {
        reason: String,
    },
    Feedback {
        text: String,
        done: bool,
    },
    Extension {
        until: DateTime<Utc>,
        reason: String,
    },
    Decided {
        granted: bool,
    },
}

async fn lock_event(change: &mut Change<'_>, event_id: i64) -> Result<Locked, WorkflowError> {
    let locked: Option<Locked> = sqlx::query_as(
        "SELECT status, urgency, jurisdiction_code, \
           COALESCE(handling_code, left(jurisdiction_code, 9)) AS handling_code, \
           ARRAY(SELECT s.department_code FROM summonses s WHERE s.event_id = e.id) AS summoned \
         FROM events e WHERE id = $1 FOR UPDATE",
    )
    .bind(event_id)
    .fetch_optional(&mut *change.transaction)
    .await?;
    // An event the actor cannot see is, to it, one that does not exist.
    let scope = &change.actor.scope;
    locked
        .filter(|locked| scope.contains(&locked.jurisdiction_code))
        .filter(|locked| {
            scope
                .summoned()
                .is_none_or(|department| locked.summoned.iter().any(|s| s == department))
        })
        .ok_or(WorkflowError::NotFound("event"))
}

/// The level above `code`; the city has none.
async fn level_above(change: &mut Change<'_>, code: &str) -> Result<String, WorkflowError> {
    let parent: Option<Option<String>> =
        sqlx::query_scalar("SELECT parent_code FROM jurisdictions WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut *change.transaction)
            .await?;
    parent.flatten().ok_or_else(|| {
        WorkflowError::BadInput(format!("`{code}` has no level above it to escalate to"))
    })
}

async fn set_event_status(
    change: &mut Change<'_>,
    event_id: i64,
    status: EventStatus,
    extra: &EventExtra,
) -> Result<(), WorkflowError> {
    let set = match extra {
        EventExtra::None => "",
        EventExtra::Resolved(_) => ", resolved_at = now(), resolution_tier = $3",
        EventExtra::Revisited { .. } => {
            ", satisfaction = $3, revisit_comment = $4, reworks = reworks + $5::int, \
             resolved_at = CASE WHEN $5 THEN NULL ELSE resolved_at END"
        }
        EventExtra::Closed => ", closed_at = now()",
        EventExtra::Escalated(_) => ", handling_code = $3",
    };
    let sql = format!("UPDATE events SET status = $2, updated_at = now(){set} WHERE id = $1");
    let query = sqlx::query(&sql).bind(event_id).bind(status);
    let query = match extra {
        EventExtra::None | EventExtra::Closed => query,
        EventExtra::Resolved(tier) => query.bind(*tier),
        EventExtra::Escalated(above) => query.bind(above.clone()),
        EventExtra::Revisited {
            satisfaction,
            comment,
            reopened,
        } => query
            .bind(*satisfaction)
            .bind(comment.clone())
            .bind(*reopened),
    };
    query.execute(&mut *change.transaction).await?;
    Ok(())
}

async fn append(change: &mut Change<'_>, entry: Entry<'_>) -> Result<(), WorkflowError> {
    let appended = insert_entry(&mut change.transaction, change.actor, entry).await?;
    change.entries.push(appended);
    Ok(())
}

/// Appends one timeline entry and its outbox row (the caller holds the workflow lock).
pub(super) async fn insert_entry(
    transaction: &mut Transaction<'static, Postgres>,
    actor: &Actor,
    entry: Entry<'_>,
) -> Result<TimelineEntry, sqlx::Error> {
    let appended: TimelineEntry = sqlx::query_as(&format!(
        "INSERT INTO timeline (event_id, summons_id, kind, actor, actor_role, actor_department, \
           department_code, jurisdiction_code, state_before, state_after, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {TIMELINE_COLUMNS}"
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
    sqlx::query("INSERT INTO outbox (timeline_id) VALUES ($1)")
        .bind(appended.id)
        .execute(&mut **transaction)
        .await?;
    Ok(appended)
}

/// Records, in the caller's transaction, an event the platform filed itself (a request
/// pulled from the 12345 hotline): its REPORTED entry, under the workflow lock.
pub(crate) async fn record_reported(
    transaction: &mut Transaction<'static, Postgres>,
    actor: &Actor,
    event_id: i64,
    jurisdiction_code: &str,
    detail: Value,
) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(WORKFLOW_LOCK)
        .execute(&mut **transaction)
        .await?;
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

/// Why outbox entries were not published; they stay in the outbox for the next try.
#[derive(Debug, thiserror::Error)]
pub enum PublishError<E> {
    #[error(transparent)]
    Store(StoreError),
    #[error("publishing failed: {0}")]
    Publish(E),
}

fn store_failure<E>(error: sqlx::Error) -> PublishError<E> {
    PublishError::Store(error.into())
}

/// A foreign-key violation is the caller's mistake (a place, person or department that
/// does not exist), not a fault.
fn foreign_key(error: sqlx::Error, message: &str) -> WorkflowError {
    match &error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23503") => {
            WorkflowError::BadInput(message.to_owned())
        }
        _ => error.into(),
    }
}

/// How long a summoned department has to report in, by urgency.
fn report_in_time(urgency: Urgency) -> Duration {
    match urgency {
        Urgency::Critical => Duration::minutes(30),
        Urgency::High => Duration::hours(2),
        Urgency::Normal => Duration::hours(24),
        Urgency::Low => Duration::hours(48),
    }
}

/// How long handling may take, by urgency.
fn handling_time(urgency: Urgency) -> Duration {
    match urgency {
        Urgency::Critical => Duration::hours(24),
        Urgency::High => Duration::days(3),
        Urgency::Normal => Duration::days(7),
        Urgency::Low => Duration::days(15),
    }
}
