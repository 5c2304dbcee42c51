//! 诉调一体 in the schema: a dispute's mediations, what department systems were asked to
//! do, and the changes that move a dispute window → mediation → court.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use super::ids::{NodeType, decode_numeric};
use super::resolve::{self, loaders, store_error};
use super::workflow::{WorkflowPayload, actor, done, event_id, store};
use crate::enums::{
    ConfirmationStatus, FilingStatus, MediationKind, MediationOutcome, MediationStatus, WriteStatus,
};
use crate::error::ApiError;
use crate::model::{Department, Event};
use crate::workflow::{Addressee, DepartmentWrite, Mediation};

/// One referral of a dispute to mediation (调解), its outcome, and the court's
/// confirmation of its agreement (司法确认).
#[Object]
impl Mediation {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    async fn kind(&self) -> MediationKind {
        self.kind
    }

    /// REFERRED while under way, then its outcome.
    async fn status(&self) -> MediationStatus {
        self.status
    }

    /// The agreement's text (协议内容), for AGREEMENT and PARTIAL.
    async fn agreement(&self) -> Option<&str> {
        self.agreement.as_deref()
    }

    /// The mediator, when one person mediates.
    async fn mediator(&self, ctx: &Context<'_>) -> Result<Option<crate::model::Staff>> {
        let Some(id) = self.mediator_id else {
            return Ok(None);
        };
        loaders(ctx)?.staff.load_one(id).await.map_err(store_error)
    }

    /// The grid team (法官进网格) mediating, when a team does.
    async fn team(&self) -> Option<crate::graphql::objects::Team> {
        self.team_grid
            .clone()
            .map(|grid_code| crate::graphql::objects::Team { grid_code })
    }

    /// What the justice bureau made of the case: PENDING until it answers; null when
    /// the county has no justice bureau system.
    async fn filing(&self) -> Option<FilingStatus> {
        self.filing
    }

    /// The case number the justice bureau gave it (调解案号).
    async fn case_number(&self) -> Option<&str> {
        self.case_number.as_deref()
    }

    /// Why the justice bureau refused to register it.
    async fn filing_refusal(&self) -> Option<&str> {
        self.filing_refusal.as_deref()
    }

    /// 司法确认: null until asked for.
    async fn confirmation(&self) -> Option<ConfirmationStatus> {
        self.confirmation
    }

    /// The court's case number for the confirmation (民特).
    async fn confirmation_case_number(&self) -> Option<&str> {
        self.confirmation_case_number.as_deref()
    }

    /// Why the court refused to confirm the agreement.
    async fn confirmation_refusal(&self) -> Option<&str> {
        self.confirmation_refusal.as_deref()
    }

    async fn referred_at(&self) -> DateTime<Utc> {
        self.referred_at
    }

    async fn recorded_at(&self) -> Option<DateTime<Utc>> {
        self.recorded_at
    }

    async fn confirmation_decided_at(&self) -> Option<DateTime<Utc>> {
        self.confirmation_decided_at
    }
}

/// Something the gateway asked a department system to do, sent until the department
/// answers, with the same idempotency key every time.
#[Object]
impl DepartmentWrite {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        resolve::department(ctx, &self.department_code).await
    }

    /// `file_mediation`, `request_confirmation` or `file_case`.
    async fn operation(&self) -> &str {
        &self.operation
    }

    async fn status(&self) -> WriteStatus {
        self.status
    }

    /// Times it was sent (or, AWAITING, asked about).
    async fn attempts(&self) -> i32 {
        self.attempts
    }

    /// Why the last try got no answer; cleared once one comes.
    async fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// The department's own id for what it filed.
    async fn department_id(&self) -> Option<&str> {
        self.department_id.as_deref()
    }

    async fn case_number(&self) -> Option<&str> {
        self.case_number.as_deref()
    }

    /// Why the department refused.
    async fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// When it is tried (or asked about) next, while PENDING or AWAITING.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.finished_at.is_none().then_some(self.next_attempt_at)
    }

    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.finished_at
    }

    async fn event(&self, ctx: &Context<'_>) -> Result<Option<Event>> {
        resolve::entity(ctx, Some(self.event_id)).await
    }
}

#[derive(Default)]
pub struct DisputeMutations;

#[Object]
impl DisputeMutations {
    /// 调解: refers a dispute (neighbour, family, labour, land, property management,
    /// consumer) to a mediator (`mediatorId`) or a grid's 法官进网格 team
    /// (`teamGridCode`) of its county; give one. Its tier becomes MEDIATION and the
    /// county's justice bureau is asked to register the case (`Mediation.filing`).
    #[expect(
        clippy::too_many_arguments,
        reason = "the mediator is one of two arguments, beside the kind and the note"
    )]
    async fn refer_to_mediation(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        event_id: ID,
        kind: MediationKind,
        mediator_id: Option<ID>,
        team_grid_code: Option<String>,
        #[graphql(default)] note: String,
    ) -> Result<WorkflowPayload> {
        let mediator = match (mediator_id, team_grid_code) {
            (Some(id), None) => Addressee::Staff(decode_numeric(&id, NodeType::Staff)?),
            (None, Some(grid)) => Addressee::Team(grid),
            _ => {
                return Err(
                    ApiError::bad_input("give mediatorId or teamGridCode, exactly one").into(),
                );
            }
        };
        done(
            ctx,
            store(ctx)?
                .refer_to_mediation(
                    &idempotency_key,
                    actor(ctx)?,
                    self::event_id(&event_id)?,
                    kind,
                    &mediator,
                    &note,
                )
                .await,
        )
    }

    /// The outcome of the mediation under way: AGREEMENT or PARTIAL (with the
    /// agreement's text) or FAILED. Recorded by the handling level or by the mediator
    /// (a member of the mediating team).
    async fn record_mediation(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        event_id: ID,
        outcome: MediationOutcome,
        #[graphql(default)] agreement: String,
    ) -> Result<WorkflowPayload> {
        done(
            ctx,
            store(ctx)?
                .record_mediation(
                    &idempotency_key,
                    actor(ctx)?,
                    self::event_id(&event_id)?,
                    outcome,
                    &agreement,
                )
                .await,
        )
    }

    /// 司法确认: puts the latest mediation's agreement to the county court, which
    /// confirms it (it then binds) or refuses, later; the answer arrives on the
    /// timeline (FILED or REFUSED) and in `Mediation.confirmation`.
    async fn request_judicial_confirmation(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        event_id: ID,
    ) -> Result<WorkflowPayload> {
        done(
            ctx,
            store(ctx)?
                .request_judicial_confirmation(
                    &idempotency_key,
                    actor(ctx)?,
                    self::event_id(&event_id)?,
                )
                .await,
        )
    }

    /// 立案: refers a dispute to the county court when mediation was refused (say so in
    /// `reason`), failed, settled it only in part, or its agreement was refused
    /// confirmation. Its tier becomes LITIGATION; the court files the case and
    /// `Event.courtCase` follows.
    async fn refer_to_court(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        event_id: ID,
        reason: String,
    ) -> Result<WorkflowPayload> {
        done(
            ctx,
            store(ctx)?
                .refer_to_court(
                    &idempotency_key,
                    actor(ctx)?,
                    self::event_id(&event_id)?,
                    &reason,
                )
                .await,
        )
    }
}
