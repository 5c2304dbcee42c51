//! 吹哨 and 报到: departments summoned to an event, and each summons moved by its
//! department — reported in, declined, extended, fed back, done.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::addressees::{check_summonable, on_team};
use super::change::{Begun, Target, lock_event};
use super::deadlines::{handling_time, report_in_time};
use super::error::{WorkflowError, foreign_key};
use super::events::{EventExtra, set_event_status};
use super::machine::{self, EventAction, SummonsAction};
use super::records::{Addressee, Outcome, SUMMONS_COLUMNS, Summon, Summons};
use super::timeline::Entry;
use crate::access::{Actor, Operation};
use crate::enums::{EventStatus, SummonsStatus, TimelineKind};
use crate::store::Store;

impl Store {
    /// 吹哨: summons departments, teams or people to an event, each with its deadlines (by default from
    /// the event's urgency).
    pub async fn blow_whistle(
        &self,
        key: &str,
        actor: &Actor,
        event_id: i64,
        jurisdiction_code: &str,
        note: &str,
        summons: &[Summon],
    ) -> Result<Outcome, WorkflowError> {
        const OPERATION: Operation = Operation::BlowWhistle;
        if summons.is_empty() {
            return Err(WorkflowError::BadInput(
                "summon at least one department, team or person".to_owned(),
            ));
        }
        let request = json!({
            "event": event_id,
            "jurisdiction": jurisdiction_code,
            "note": note,
            "summons": summons.iter().map(|s| json!({
                "addressee": s.addressee.label(),
                "reportInDueAt": s.report_in_due_at,
                "handlingDueAt": s.handling_due_at,
            })).collect::<Vec<_>>(),
        });
        let mut change = match self.begin(key, OPERATION, actor, &request).await? {
            Begun::Replay(seen) => return self.replay(seen).await,
            Begun::Fresh(change) => *change,
        };
        let locked = lock_event(&mut change, event_id).await?;
        change.authorize(Target::Event(&locked))?;
        if !actor.scope.contains(jurisdiction_code) {
            return Err(WorkflowError::Forbidden(format!(
                "`{jurisdiction_code}` is outside your jurisdiction: summon as your own level"
            )));
        }
        if !machine::may_whistle(jurisdiction_code, &locked.handling_code) {
            return Err(WorkflowError::Forbidden(format!(
                "the event is handled at `{}`: only that level or one above it blows the \
                 whistle, not `{jurisdiction_code}`",
                locked.handling_code
            )));
        }
        check_summonable(&mut change, &locked, summons).await?;
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
        for (index, summon) in summons.iter().enumerate() {
            let label = summon.addressee.label();
            let (department, team, staff) = match &summon.addressee {
                Addressee::Department(code) => (Some(code.as_str()), None, None),
                Addressee::Team(grid) => (None, Some(grid.as_str()), None),
                Addressee::Staff(id) => (None, None, Some(*id)),
            };
            let report_in_due = summon
                .report_in_due_at
                .unwrap_or(now + report_in_time(locked.urgency));
            let handling_due = summon
                .handling_due_at
                .unwrap_or(now + handling_time(locked.urgency));
            if report_in_due > handling_due {
                return Err(WorkflowError::BadInput(format!(
                    "{label}: the report-in deadline is after the handling deadline"
                )));
            }
            let summons_id: i64 = sqlx::query_scalar(
                "INSERT INTO summonses (whistle_id, event_id, department_code, team_grid, staff_id, \
                   status, report_in_due_at, handling_due_at, event_jurisdiction_code) \
                 VALUES ($1, $2, $3, $4, $5, 'SUMMONED', $6, $7, $8) RETURNING id",
            )
            .bind(whistle_id)
            .bind(event_id)
            .bind(department)
            .bind(team)
            .bind(staff)
            .bind(report_in_due)
            .bind(handling_due)
            .bind(&locked.jurisdiction_code)
            .fetch_one(&mut *change.transaction)
            .await?;
            change.append(Entry {
                event_id,
                summons_id: Some(summons_id),
                kind: TimelineKind::Whistle,
                department,
                jurisdiction: &locked.jurisdiction_code,
                before: (index == 0).then_some(locked.status.as_str()),
                after: Some(SummonsStatus::Summoned.as_str()),
                detail: json!({
                    "whistle": whistle_id,
                    "addressee": label,
                    "summonedBy": jurisdiction_code,
                    "note": note,
                    "reportInDueAt": report_in_due,
                    "handlingDueAt": handling_due,
                }),
            });
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
            action: SummonsAction::DecideExtension { granted },
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

    /// 催办: the supervising level urges a summoned department.
    pub async fn urge_summons(
        &self,
        key: &str,
        actor: &Actor,
        summons_id: i64,
        note: &str,
    ) -> Result<Outcome, WorkflowError> {
        let step = SummonsStep {
            action: SummonsAction::Urge,
            detail: json!({ "note": note }),
            extra: SummonsExtra::Urged,
        };
        self.summons_change(key, Operation::Urge, actor, summons_id, step)
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
            Begun::Replay(seen) => return self.replay(seen).await,
            Begun::Fresh(change) => *change,
        };
        let summons: Option<Summons> = sqlx::query_as(&format!(
            "SELECT {SUMMONS_COLUMNS} FROM summonses WHERE id = $1"
        ))
        .bind(summons_id)
        .fetch_optional(&mut *change.transaction)
        .await?;
        let summons = summons.ok_or(WorkflowError::NotFound("summons"))?;
        let locked = lock_event(&mut change, summons.event_id).await?;
        let addressee = summons.addressee();
        let on_team = on_team(&mut change, &addressee).await?;
        change.authorize(Target::Addressed(&locked, &addressee, on_team))?;
        let next = machine::summons(summons.status, summons.reported_in_at.is_some(), action)?;
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
            SummonsAction::DecideExtension { .. } => TimelineKind::ExtensionDecided,
            SummonsAction::MarkOverdue => TimelineKind::Overdue,
            SummonsAction::Urge => TimelineKind::Urged,
        };
        // Late is late for evaluation (考核), however the summons goes on.
        let mut detail = detail;
        let now = Utc::now();
        let late = match action {
            SummonsAction::ReportIn => now > summons.report_in_due_at,
            SummonsAction::Feedback { done: true } => now > summons.handling_due_at,
            _ => false,
        };
        if late {
            detail["late"] = json!(true);
        }
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
                ", handling_due_at = extension_until, extension_until = NULL, extension_reason = NULL, \
                 extensions = extensions + 1",
                None,
                None,
            ),
            SummonsExtra::Decided { granted: false } => (
                ", extension_until = NULL, extension_reason = NULL",
                None,
                None,
            ),
            SummonsExtra::Urged => (", urges = urges + 1", None, None),
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
        change.append(Entry {
            event_id: summons.event_id,
            summons_id: Some(summons_id),
            kind,
            department: summons.department_code.as_deref(),
            jurisdiction: &locked.jurisdiction_code,
            before: Some(summons.status.as_str()),
            after: Some(next.as_str()),
            detail,
        });
        // The first department to report in starts the work on the event.
        if action == SummonsAction::ReportIn && locked.status == EventStatus::Dispatched {
            let started = machine::event(locked.status, EventAction::ReportIn)?;
            set_event_status(&mut change, summons.event_id, started, &EventExtra::None).await?;
        }
        self.finish(change, key, operation, &request, summons.event_id)
            .await
    }
}

/// One step of a summons.
struct SummonsStep {
    action: SummonsAction,
    detail: Value,
    extra: SummonsExtra,
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
    Urged,
}
