//! The write outbox: what the gateway asks department systems to do, queued in the
//! transaction of the change that asks (so nothing is lost), then claimed by whichever
//! replica's sender gets it first, sent with the same idempotency key on every try (so
//! nothing is done twice), and settled when the department answers: FILED (with its id
//! and case number, and the event linked to its record) or REFUSED (with its reason),
//! each a timeline entry. A PENDING answer (the court decides later) is asked again.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::{Postgres, Transaction};

use super::change::Change;
use super::error::WorkflowError;
use super::timeline::{Entry, insert_entry};
use crate::access::{Actor, Role};
use crate::enums::{TimelineKind, WriteStatus};
use crate::store::{Store, StoreError};
use connectors::operations::{OperationName, WriteAnswer, WriteState};

/// The county department systems a dispute concerns, by their code's abbreviation.
#[derive(Debug, Clone, Copy)]
pub(super) enum DepartmentSystem {
    /// 司法局: registers mediation cases.
    Justice,
    /// 人民法院: confirms agreements, files cases.
    Court,
    /// 信访局: registers letters and visits.
    Petitions,
}

impl DepartmentSystem {
    fn abbreviation(self) -> &'static str {
        match self {
            Self::Justice => "SF",
            Self::Court => "FY",
            Self::Petitions => "XF",
        }
    }
}

/// Queues `operation` for the `system` of `county`, with the event (and mediation) as
/// its payload plus `extra`. Returns the department's code, or `None` when the county
/// has no such department.
pub(super) async fn queue_write(
    change: &mut Change<'_>,
    county: &str,
    event_id: i64,
    mediation_id: Option<i64>,
    system: DepartmentSystem,
    operation: OperationName,
    extra: Value,
) -> Result<Option<String>, WorkflowError> {
    let code = format!("{county}-{}", system.abbreviation());
    let known: Option<String> = sqlx::query_scalar("SELECT code FROM departments WHERE code = $1")
        .bind(&code)
        .fetch_optional(&mut *change.transaction)
        .await?;
    let Some(code) = known else {
        return Ok(None);
    };
    let mut payload = payload(&mut change.transaction, event_id, mediation_id).await?;
    if let (Value::Object(payload), Value::Object(extra)) = (&mut payload, extra) {
        payload.extend(extra);
    }
    sqlx::query(
        "INSERT INTO department_writes (event_id, mediation_id, department_code, operation, payload) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(event_id)
    .bind(mediation_id)
    .bind(&code)
    .bind(operation.as_str())
    .bind(payload)
    .execute(&mut *change.transaction)
    .await?;
    Ok(Some(code))
}

/// What every operation is told: the event, and the mediation it concerns.
async fn payload(
    transaction: &mut Transaction<'static, Postgres>,
    event_id: i64,
    mediation_id: Option<i64>,
) -> Result<Value, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT jsonb_build_object( \
           'event', jsonb_build_object( \
             'id', e.id::text, 'title', e.title, 'description', e.description, \
             'category', e.category, 'category_name', $3::jsonb ->> e.category, \
             'reported_at', to_char(e.reported_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD\"T\"HH24:MI:SS+08:00'), \
             'reported_on', to_char(e.reported_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'), \
             'grid', e.jurisdiction_code, 'grid_name', j.name, \
             'parties', (SELECT string_agg(p.name, '、' ORDER BY ep.position) \
                         FROM event_parties ep JOIN persons p ON p.id = ep.person_id \
                         WHERE ep.event_id = e.id)), \
           'mediation', (SELECT jsonb_build_object( \
             'id', m.id::text, 'kind', m.kind, 'kind_name', $4::jsonb ->> m.kind, \
             'mediator', COALESCE(s.name, t.name || '法官进网格团队'), 'team', t.name, \
             'case_number', m.case_number, 'agreement', m.agreement, 'outcome', m.status) \
             FROM mediations m LEFT JOIN staff s ON s.id = m.mediator_id \
             LEFT JOIN jurisdictions t ON t.code = m.team_grid WHERE m.id = $2)) \
         FROM events e JOIN jurisdictions j ON j.code = e.jurisdiction_code WHERE e.id = $1",
    )
    .bind(event_id)
    .bind(mediation_id)
    .bind(category_names())
    .bind(json!({
        "PEOPLES": "人民调解",
        "INDUSTRY": "行业性专业性调解",
        "LAWYER": "律师调解",
        "ADMINISTRATIVE": "行政调解",
    }))
    .fetch_one(&mut **transaction)
    .await
}

fn category_names() -> Value {
    crate::enums::EventCategory::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), Value::from(c.chinese())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// A write due to be sent (PENDING) or asked about again (AWAITING).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueWrite {
    pub id: i64,
    pub event_id: i64,
    pub department_code: String,
    pub operation: String,
    pub idempotency_key: String,
    pub payload: Value,
    pub status: WriteStatus,
    /// The department's id, once it answered PENDING.
    pub department_id: Option<String>,
    /// Tries so far, this one included.
    pub attempts: i32,
}

/// What the gateway asked a department system to do, as `Event.departmentWrites` shows.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DepartmentWrite {
    pub id: i64,
    pub event_id: i64,
    pub department_code: String,
    pub operation: String,
    pub status: WriteStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub department_id: Option<String>,
    pub case_number: Option<String>,
    pub reason: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub next_attempt_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Store {
    /// Claims up to `limit` due writes for `lease`: another replica does not take them
    /// until the lease ends (when this one died mid-send, they are sent again, with the
    /// same key).
    pub async fn claim_writes(
        &self,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<DueWrite>, StoreError> {
        Ok(sqlx::query_as(
            "UPDATE department_writes w \
             SET attempts = w.attempts + 1, next_attempt_at = now() + make_interval(secs => $1) \
             FROM (SELECT id FROM department_writes \
                   WHERE status IN ('PENDING', 'AWAITING') AND next_attempt_at <= now() \
                   ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) due \
             WHERE w.id = due.id \
             RETURNING w.id, w.event_id, w.department_code, w.operation, \
                       w.idempotency_key::text AS idempotency_key, w.payload, w.status, \
                       w.department_id, w.attempts",
        )
        .bind(lease.as_secs_f64())
        .bind(limit)
        .fetch_all(self.executor())
        .await?)
    }

    /// A try that got no usable answer: tried again after `retry_in`.
    pub async fn write_failed(
        &self,
        id: i64,
        error: &str,
        retry_in: Duration,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE department_writes SET last_error = $2, \
             next_attempt_at = now() + make_interval(secs => $3) \
             WHERE id = $1 AND status IN ('PENDING', 'AWAITING')",
        )
        .bind(id)
        .bind(error)
        .bind(retry_in.as_secs_f64())
        .execute(self.executor())
        .await?;
        Ok(())
    }

    /// Settles a write with the department's answer: PENDING is asked about again after
    /// `ask_again_in`; FILED and REFUSED end it, with a timeline entry and what follows
    /// on the mediation and the event's links. Returns whether this call settled it
    /// (another replica may have first).
    pub async fn write_answered(
        &self,
        write: &DueWrite,
        answer: &WriteAnswer,
        ask_again_in: Duration,
    ) -> Result<bool, StoreError> {
        if answer.state == WriteState::Pending {
            let updated = sqlx::query(
                "UPDATE department_writes SET status = 'AWAITING', \
                 department_id = COALESCE($2, department_id), last_error = NULL, \
                 next_attempt_at = now() + make_interval(secs => $3) \
                 WHERE id = $1 AND status IN ('PENDING', 'AWAITING')",
            )
            .bind(write.id)
            .bind(&answer.id)
            .bind(ask_again_in.as_secs_f64())
            .execute(self.executor())
            .await?;
            return Ok(updated.rows_affected() > 0);
        }
        let filed = answer.state == WriteState::Filed;
        let (status, kind) = if filed {
            (WriteStatus::Filed, TimelineKind::Filed)
        } else {
            (WriteStatus::Refused, TimelineKind::Refused)
        };
        let mut transaction = self.executor().begin().await?;
        // The event's lock, which every change to the event takes first.
        sqlx::query("SELECT 1 FROM events WHERE id = $1 FOR UPDATE")
            .bind(write.event_id)
            .execute(&mut *transaction)
            .await?;
        let settled: Option<(Option<i64>, String)> = sqlx::query_as(
            "UPDATE department_writes SET status = $2, \
             department_id = COALESCE($3, department_id), case_number = $4, reason = $5, \
             last_error = NULL, finished_at = now() \
             WHERE id = $1 AND status IN ('PENDING', 'AWAITING') \
             RETURNING mediation_id, \
               (SELECT jurisdiction_code FROM events WHERE id = event_id)",
        )
        .bind(write.id)
        .bind(status)
        .bind(&answer.id)
        .bind(&answer.case_number)
        .bind(&answer.reason)
        .fetch_optional(&mut *transaction)
        .await?;
        let Some((mediation_id, jurisdiction)) = settled else {
            return Ok(false);
        };
        let department_id = answer.id.clone().or_else(|| write.department_id.clone());
        // What the answer settles: a mediation's filing or confirmation, or (a filing of
        // the department's own record) the event's link to it, which Event.mediationCase,
        // Event.courtCase and Event.petition read — unless it already names another event.
        let operation = write.operation.parse::<OperationName>().ok();
        let on_mediation = match operation {
            Some(OperationName::FileMediation) => Some((
                "UPDATE mediations SET filing = $2, case_number = $3, filing_refusal = $4 \
                 WHERE id = $1",
                "FILED",
            )),
            Some(OperationName::RequestConfirmation) => Some((
                "UPDATE mediations SET confirmation = $2, confirmation_case_number = $3, \
                 confirmation_refusal = $4, confirmation_decided_at = now() WHERE id = $1",
                "CONFIRMED",
            )),
            _ => None,
        };
        if let Some((update, done)) = on_mediation {
            sqlx::query(update)
                .bind(mediation_id)
                .bind(if filed { done } else { "REFUSED" })
                .bind(&answer.case_number)
                .bind(&answer.reason)
                .execute(&mut *transaction)
                .await?;
        }
        let links = operation.is_some_and(|o| o != OperationName::RequestConfirmation);
        if let (true, true, Some(source_id)) = (filed, links, &department_id) {
            sqlx::query(
                "INSERT INTO event_links (event_id, department_code, source_id) \
                 SELECT $1, $2, $3 WHERE NOT EXISTS \
                   (SELECT 1 FROM event_links WHERE department_code = $2 AND source_id = $3) \
                 ON CONFLICT (event_id, department_code) DO UPDATE SET source_id = EXCLUDED.source_id",
            )
            .bind(write.event_id)
            .bind(&write.department_code)
            .bind(source_id)
            .execute(&mut *transaction)
            .await?;
        }
        let mut detail = json!({
            "operation": write.operation,
            "department": write.department_code,
            "mediation": mediation_id,
        });
        if filed {
            detail["departmentId"] = json!(department_id);
            detail["caseNumber"] = json!(answer.case_number);
        } else {
            detail["reason"] = json!(answer.reason);
        }
        let actor = Actor::system(&write.department_code, Role::System);
        let entry = Entry {
            event_id: write.event_id,
            summons_id: None,
            kind,
            department: Some(&write.department_code),
            jurisdiction: &jurisdiction,
            before: None,
            after: None,
            detail,
        };
        insert_entry(&mut transaction, &actor, entry).await?;
        transaction.commit().await?;
        self.order_committed().await;
        Ok(true)
    }

    /// What was asked of department systems about these events, oldest first.
    pub async fn department_writes(
        &self,
        event_ids: &[i64],
    ) -> Result<Vec<DepartmentWrite>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, event_id, department_code, operation, status, attempts, last_error, \
                    department_id, case_number, reason, created_at, next_attempt_at, finished_at \
             FROM department_writes WHERE event_id = ANY($1) ORDER BY event_id, id",
        )
        .bind(event_ids)
        .fetch_all(self.executor())
        .await?)
    }
}
