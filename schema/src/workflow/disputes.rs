//! 诉调一体: a dispute from the window to mediation, judicial confirmation and court.
//! Each step is a workflow change like any other (permission, idempotency key, the
//! event locked, the rules in [`machine::dispute`], timeline and outbox), and each one a
//! department system must know of queues a write to it in the same transaction
//! ([`super::writes`]): the justice bureau registers the mediation case, the court
//! confirms the agreement or files the case.

use serde_json::{Value, json};

use super::addressees::{county_of, on_team};
use super::change::{Begun, Change, Locked, Target, lock_event};
use super::error::WorkflowError;
use super::events::{EventExtra, set_event_status};
use super::machine::{self, DisputeAction, EventAction, MediationState};
use super::records::{Addressee, Outcome};
use super::timeline::Entry;
use super::writes::{DepartmentSystem, queue_write};
use crate::access::{Actor, Operation};
use crate::enums::{
    ConfirmationStatus, MediationKind, MediationOutcome, MediationStatus, TimelineKind,
};
use crate::store::Store;
use connectors::operations::OperationName;

/// The latest mediation of the locked event.
#[derive(sqlx::FromRow)]
pub(super) struct LatestMediation {
    id: i64,
    status: MediationStatus,
    confirmation: Option<ConfirmationStatus>,
    mediator_id: Option<i64>,
    team_grid: Option<String>,
}

impl LatestMediation {
    pub(super) fn state(&self) -> MediationState {
        MediationState {
            status: self.status,
            confirmation: self.confirmation,
        }
    }

    fn mediator(&self) -> Addressee {
        match (self.mediator_id, &self.team_grid) {
            (Some(id), _) => Addressee::Staff(id),
            (None, grid) => Addressee::Team(grid.clone().unwrap_or_default()),
        }
    }
}

/// The event's latest mediation (the event is locked).
pub(super) async fn latest_mediation(
    change: &mut Change<'_>,
    event_id: i64,
) -> Result<Option<LatestMediation>, WorkflowError> {
    Ok(sqlx::query_as(
        "SELECT id, status, confirmation, mediator_id, team_grid FROM mediations \
         WHERE event_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(event_id)
    .fetch_optional(&mut *change.transaction)
    .await?)
}

/// One step of a dispute and what it does beyond the timeline, once the rules allow it.
enum Effect<'a> {
    Mediate {
        kind: MediationKind,
        mediator: &'a Addressee,
    },
    Record {
        outcome: MediationStatus,
        agreement: &'a str,
    },
    RequestConfirmation,
    ReferToCourt {
        reason: &'a str,
    },
}

impl Effect<'_> {
    /// The operation (for the permission table and the key), the rule asked, and the
    /// timeline entry recorded.
    fn names(&self) -> (Operation, DisputeAction, TimelineKind) {
        match self {
            Self::Mediate { .. } => (
                Operation::ReferToMediation,
                DisputeAction::ReferToMediation,
                TimelineKind::ReferredToMediation,
            ),
            Self::Record { .. } => (
                Operation::RecordMediation,
                DisputeAction::RecordMediation,
                TimelineKind::MediationRecorded,
            ),
            Self::RequestConfirmation => (
                Operation::RequestJudicialConfirmation,
                DisputeAction::RequestConfirmation,
                TimelineKind::ConfirmationRequested,
            ),
            Self::ReferToCourt { .. } => (
                Operation::ReferToCourt,
                DisputeAction::ReferToCourt,
                TimelineKind::ReferredToCourt,
            ),
        }
    }
}

impl Store {
    /// 调解: refers a dispute to a mediator or a grid's team; the county's justice bureau
    /// is asked to register the mediation case.
    pub async fn refer_to_mediation(
        &self,
        key: &str,
        actor: &Actor,
        event_id: i64,
        kind: MediationKind,
        mediator: &Addressee,
        note: &str,
    ) -> Result<Outcome, WorkflowError> {
        if matches!(mediator, Addressee::Department(_)) {
            return Err(WorkflowError::BadInput(
                "a mediation is led by a mediator (mediatorId) or a grid's team (teamGridCode)"
                    .to_owned(),
            ));
        }
        let detail = json!({ "kind": kind.as_str(), "mediator": mediator.label(), "note": note });
        let effect = Effect::Mediate { kind, mediator };
        self.dispute_change(key, actor, event_id, detail, effect)
            .await
    }

    /// The outcome of the mediation under way: an agreement (its text), a partial one,
    /// or none.
    pub async fn record_mediation(
        &self,
        key: &str,
        actor: &Actor,
        event_id: i64,
        outcome: MediationOutcome,
        agreement: &str,
    ) -> Result<Outcome, WorkflowError> {
        let agreement = agreement.trim();
        if outcome != MediationOutcome::Failed && agreement.is_empty() {
            return Err(WorkflowError::BadInput(
                "an agreement needs its text (协议内容)".to_owned(),
            ));
        }
        let detail = json!({ "outcome": outcome.as_str(), "agreement": agreement });
        let effect = Effect::Record {
            outcome: outcome.into(),
            agreement,
        };
        self.dispute_change(key, actor, event_id, detail, effect)
            .await
    }

    /// 司法确认: puts the latest mediation's agreement to the county court, which decides
    /// later.
    pub async fn request_judicial_confirmation(
        &self,
        key: &str,
        actor: &Actor,
        event_id: i64,
    ) -> Result<Outcome, WorkflowError> {
        let effect = Effect::RequestConfirmation;
        self.dispute_change(key, actor, event_id, json!({}), effect)
            .await
    }

    /// 立案: refers a dispute to the county court, saying why mediation did not settle it.
    pub async fn refer_to_court(
        &self,
        key: &str,
        actor: &Actor,
        event_id: i64,
        reason: &str,
    ) -> Result<Outcome, WorkflowError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(WorkflowError::BadInput(
                "say why the dispute goes to court (mediation refused, failed, ...)".to_owned(),
            ));
        }
        let effect = Effect::ReferToCourt { reason };
        self.dispute_change(key, actor, event_id, json!({ "reason": reason }), effect)
            .await
    }

    async fn dispute_change(
        &self,
        key: &str,
        actor: &Actor,
        event_id: i64,
        mut detail: Value,
        effect: Effect<'_>,
    ) -> Result<Outcome, WorkflowError> {
        let (operation, action, kind) = effect.names();
        // What the idempotency key is recorded with: the event and what is asked.
        let request = json!({ "event": event_id, "detail": detail });
        let mut change = match self.begin(key, operation, actor, &request).await? {
            Begun::Replay(seen) => return self.replay(seen).await,
            Begun::Fresh(change) => *change,
        };
        let locked = lock_event(&mut change, event_id).await?;
        let latest = latest_mediation(&mut change, event_id).await?;
        // The mediator acts on the mediation addressed to them; the handling level on
        // the event.
        match (&effect, &latest) {
            (Effect::Record { .. } | Effect::RequestConfirmation, Some(latest))
                if actor.role == crate::access::Role::DepartmentStaff =>
            {
                let mediator = latest.mediator();
                let on_team = on_team(&mut change, &mediator).await?;
                change.authorize(Target::Addressed(&locked, &mediator, on_team))?;
            }
            _ => change.authorize(Target::Event(&locked))?,
        }
        if !locked.category.is_dispute() {
            return Err(WorkflowError::BadInput(format!(
                "{} is not a dispute: only disputes go to mediation or court",
                locked.category.as_str()
            )));
        }
        let event_action = match effect {
            Effect::Mediate { .. } | Effect::ReferToCourt { .. } => EventAction::Refer,
            Effect::Record { .. } | Effect::RequestConfirmation => EventAction::Mediate,
        };
        let next = machine::event(locked.status, event_action)?;
        let tier = machine::dispute(
            locked.tier,
            latest.as_ref().map(LatestMediation::state),
            action,
        )?;
        let (write, mediation_id) = match effect {
            Effect::Mediate { kind, mediator } => {
                check_mediator(&mut change, &locked, mediator).await?;
                let (staff, team) = match mediator {
                    Addressee::Staff(id) => (Some(*id), None),
                    Addressee::Team(grid) => (None, Some(grid.as_str())),
                    Addressee::Department(_) => (None, None),
                };
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO mediations (event_id, kind, mediator_id, team_grid) \
                     VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(event_id)
                .bind(kind)
                .bind(staff)
                .bind(team)
                .fetch_one(&mut *change.transaction)
                .await?;
                let write = queue_write(
                    &mut change,
                    locked.county(),
                    event_id,
                    Some(id),
                    DepartmentSystem::Justice,
                    OperationName::FileMediation,
                    json!({}),
                )
                .await?;
                if write.is_some() {
                    sqlx::query("UPDATE mediations SET filing = 'PENDING' WHERE id = $1")
                        .bind(id)
                        .execute(&mut *change.transaction)
                        .await?;
                }
                (write, Some(id))
            }
            Effect::Record { outcome, agreement } => {
                let id = latest.as_ref().map(|l| l.id);
                sqlx::query(
                    "UPDATE mediations SET status = $2, agreement = NULLIF($3, ''), \
                     recorded_at = now() WHERE id = $1",
                )
                .bind(id)
                .bind(outcome)
                .bind(agreement)
                .execute(&mut *change.transaction)
                .await?;
                (None, id)
            }
            Effect::RequestConfirmation => {
                let id = latest.as_ref().map(|l| l.id);
                sqlx::query("UPDATE mediations SET confirmation = 'REQUESTED' WHERE id = $1")
                    .bind(id)
                    .execute(&mut *change.transaction)
                    .await?;
                let write = queue_write(
                    &mut change,
                    locked.county(),
                    event_id,
                    id,
                    DepartmentSystem::Court,
                    OperationName::RequestConfirmation,
                    json!({}),
                )
                .await?;
                (write, id)
            }
            Effect::ReferToCourt { reason } => {
                let id = latest.as_ref().map(|l| l.id);
                let case = json!({ "cause": cause_of_action(locked.category), "reason": reason });
                let write = queue_write(
                    &mut change,
                    locked.county(),
                    event_id,
                    id,
                    DepartmentSystem::Court,
                    OperationName::FileCase,
                    json!({ "case": case }),
                )
                .await?;
                (write, id)
            }
        };
        if tier != locked.tier {
            sqlx::query("UPDATE events SET tier = $2 WHERE id = $1")
                .bind(event_id)
                .bind(tier)
                .execute(&mut *change.transaction)
                .await?;
            detail["tier"] = json!({ "from": locked.tier.as_str(), "to": tier.as_str() });
        }
        detail["mediation"] = json!(mediation_id);
        detail["sentTo"] = json!(write);
        set_event_status(&mut change, event_id, next, &EventExtra::None).await?;
        change.append(Entry {
            event_id,
            summons_id: None,
            kind,
            department: write.as_deref(),
            jurisdiction: &locked.jurisdiction_code,
            before: Some(locked.status.as_str()),
            after: Some(next.as_str()),
            detail,
        });
        self.finish(change, key, operation, &request, event_id)
            .await
    }
}

/// A mediator serves in the event's county (a mediator, a judge, a department's officer);
/// a team is that of a grid of the county.
async fn check_mediator(
    change: &mut Change<'_>,
    locked: &Locked,
    mediator: &Addressee,
) -> Result<(), WorkflowError> {
    match county_of(change, mediator).await?.map(|(county, _)| county) {
        None => Err(WorkflowError::BadInput(format!(
            "no such mediator or team: {}",
            mediator.label()
        ))),
        Some(county) if county != locked.county() => Err(WorkflowError::Forbidden(format!(
            "{} does not serve in the event's county `{}`",
            mediator.label(),
            locked.county()
        ))),
        Some(_) => Ok(()),
    }
}

/// 案由: the cause of action a court files a dispute of this category under.
fn cause_of_action(category: crate::enums::EventCategory) -> &'static str {
    use crate::enums::EventCategory as C;
    match category {
        C::NeighborDispute => "相邻关系纠纷",
        C::FamilyDispute => "婚姻家庭纠纷",
        C::LaborDispute => "劳动争议",
        C::PropertyManagement => "物业服务合同纠纷",
        C::LandDispute => "土地承包经营权纠纷",
        C::ConsumerRights => "买卖合同纠纷",
        _ => "侵权责任纠纷",
    }
}

/// One referral of a dispute to mediation, as `Event.mediations` shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Mediation {
    pub id: i64,
    pub event_id: i64,
    pub kind: MediationKind,
    pub mediator_id: Option<i64>,
    pub team_grid: Option<String>,
    pub status: MediationStatus,
    pub agreement: Option<String>,
    pub filing: Option<crate::enums::FilingStatus>,
    pub case_number: Option<String>,
    pub filing_refusal: Option<String>,
    pub confirmation: Option<ConfirmationStatus>,
    pub confirmation_case_number: Option<String>,
    pub confirmation_refusal: Option<String>,
    pub referred_at: chrono::DateTime<chrono::Utc>,
    pub recorded_at: Option<chrono::DateTime<chrono::Utc>>,
    pub confirmation_decided_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Store {
    /// The mediations of these events, oldest first.
    pub async fn mediations(
        &self,
        event_ids: &[i64],
    ) -> Result<Vec<Mediation>, crate::store::StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, event_id, kind, mediator_id, team_grid, status, agreement, filing, \
                    case_number, filing_refusal, confirmation, confirmation_case_number, \
                    confirmation_refusal, referred_at, recorded_at, confirmation_decided_at \
             FROM mediations WHERE event_id = ANY($1) ORDER BY event_id, id",
        )
        .bind(event_ids)
        .fetch_all(self.executor())
        .await?)
    }
}
