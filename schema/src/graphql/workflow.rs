//! The workflow over GraphQL: the mutations of 吹哨/报到, the timeline and summonses of
//! an event. Every mutation takes an `idempotencyKey`; a retry with the same key returns
//! the first result (`replayed: true`) and changes nothing.

use async_graphql::{
    ComplexObject, Context, ErrorExtensions, ID, InputObject, Json, Object, Result, SimpleObject,
    Upload,
};
use chrono::{DateTime, Utc};

use super::ids::{NodeType, decode_numeric, encode};
use super::resolve::{self, loaders, store_error};
use crate::enums::{
    EventCategory, EventChannel, ResolutionTier, SummonsStatus, TimelineKind, Urgency,
};
use crate::error::{ApiError, ErrorCode};
use crate::model::{Department, Event};
use crate::store::Store;
use crate::workflow::{
    Actor, Addressee, Decision, NewEvent, Outcome, PhotoFile, Summon, Summons, TimelineEntry,
    WorkflowError,
};

/// A workflow failure as the client sees it.
pub(super) fn workflow_error(error: WorkflowError) -> async_graphql::Error {
    match error {
        WorkflowError::Invalid(invalid) => {
            let current = invalid.current;
            ApiError::new(ErrorCode::InvalidTransition, invalid.to_string())
                .extend()
                .extend_with(|_, e| e.set("currentState", current))
        }
        WorkflowError::NotFound(what) => {
            ApiError::new(ErrorCode::NotFound, format!("no such {what}")).extend()
        }
        error @ WorkflowError::KeyReused { .. } => {
            ApiError::new(ErrorCode::IdempotencyKeyReused, error.to_string()).extend()
        }
        WorkflowError::BadInput(message) => ApiError::bad_input(message).extend(),
        WorkflowError::Forbidden(reason) => ApiError::new(ErrorCode::Forbidden, reason).extend(),
        WorkflowError::Store(error) => store_error(error),
    }
}

/// What a workflow mutation did.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct WorkflowPayload {
    #[graphql(skip)]
    event_id: i64,
    /// The timeline entries the change appended, in order.
    entries: Vec<TimelineEntry>,
    /// True when this idempotency key had been used: nothing was done again, and this is
    /// the first call's result.
    replayed: bool,
}

#[ComplexObject]
impl WorkflowPayload {
    /// The event as it is now.
    async fn event(&self, ctx: &Context<'_>) -> Result<Option<Event>> {
        resolve::entity(ctx, Some(self.event_id)).await
    }
}

impl From<Outcome> for WorkflowPayload {
    fn from(outcome: Outcome) -> Self {
        Self {
            event_id: outcome.event_id,
            entries: outcome.entries,
            replayed: outcome.replayed,
        }
    }
}

/// Who made a change.
#[derive(SimpleObject)]
pub struct TimelineActor {
    pub(super) name: String,
    pub(super) role: String,
    pub(super) department_code: Option<String>,
}

/// One change to an event or one of its summonses. Never changed once written; its
/// `cursor` orders all entries of the platform.
#[Object]
impl TimelineEntry {
    /// Resume subscriptions and lists after this.
    async fn cursor(&self) -> Result<ID> {
        match self.position {
            Some(position) => Ok(ID(position.to_string())),
            // Committed, and ordered within a second by the signal hub.
            None => Err(ApiError::new(
                ErrorCode::DatabaseUnavailable,
                "the entry is recorded but not yet ordered; read it again shortly",
            )
            .extend()),
        }
    }

    async fn kind(&self) -> TimelineKind {
        self.kind
    }

    async fn at(&self) -> DateTime<Utc> {
        self.at
    }

    async fn actor(&self) -> TimelineActor {
        TimelineActor {
            name: self.actor.clone(),
            role: self.actor_role.clone(),
            department_code: self.actor_department.clone(),
        }
    }

    /// The state before and after: the event's, or the summons' for summons entries.
    async fn state_before(&self) -> Option<&str> {
        self.state_before.as_deref()
    }

    async fn state_after(&self) -> Option<&str> {
        self.state_after.as_deref()
    }

    /// What else the change carried: reasons, notes, deadlines, satisfaction.
    async fn detail(&self) -> Json<serde_json::Value> {
        Json(self.detail.clone())
    }

    /// The department the entry concerns (summoned, reporting in, ...).
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        match &self.department_code {
            Some(code) => resolve::department(ctx, code).await,
            None => Ok(None),
        }
    }

    async fn event(&self, ctx: &Context<'_>) -> Result<Option<Event>> {
        resolve::entity(ctx, Some(self.event_id)).await
    }

    async fn summons(&self, ctx: &Context<'_>) -> Result<Option<Summons>> {
        let Some(id) = self.summons_id else {
            return Ok(None);
        };
        loaders(ctx)?
            .summons_by_id
            .load_one(id)
            .await
            .map_err(store_error)
    }
}

/// A department summoned by a whistle (吹哨), with its deadlines.
#[Object]
impl Summons {
    pub async fn id(&self) -> ID {
        encode(NodeType::Summons, self.id)
    }

    async fn status(&self) -> SummonsStatus {
        self.status
    }

    /// The department summoned, when the summons is addressed to one.
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        match &self.department_code {
            Some(code) => resolve::department(ctx, code).await,
            None => Ok(None),
        }
    }

    /// The grid team summoned (法官进网格), when addressed to a team.
    async fn team(&self) -> Option<crate::graphql::objects::Team> {
        self.team_grid
            .clone()
            .map(|grid_code| crate::graphql::objects::Team { grid_code })
    }

    /// The person summoned, when addressed to one.
    async fn staff(&self, ctx: &Context<'_>) -> Result<Option<crate::model::Staff>> {
        let Some(id) = self.staff_id else {
            return Ok(None);
        };
        loaders(ctx)?.staff.load_one(id).await.map_err(store_error)
    }

    async fn event(&self, ctx: &Context<'_>) -> Result<Option<Event>> {
        resolve::entity(ctx, Some(self.event_id)).await
    }

    async fn report_in_due_at(&self) -> DateTime<Utc> {
        self.report_in_due_at
    }

    async fn handling_due_at(&self) -> DateTime<Utc> {
        self.handling_due_at
    }

    async fn reported_in_at(&self) -> Option<DateTime<Utc>> {
        self.reported_in_at
    }

    async fn done_at(&self) -> Option<DateTime<Utc>> {
        self.done_at
    }

    async fn decline_reason(&self) -> Option<&str> {
        self.decline_reason.as_deref()
    }

    /// A pending request for more time (延期), until decided.
    async fn extension_requested_until(&self) -> Option<DateTime<Utc>> {
        self.extension_until
    }

    async fn feedback(&self) -> Option<&str> {
        self.feedback.as_deref()
    }

    /// The next deadline: reporting in until the department has, then handling.
    async fn due_at(&self) -> DateTime<Utc> {
        <crate::workflow::SummonsQueue as crate::workflow::Queue>::position(self).0
    }

    /// Late for evaluation (考核): marked overdue at least once, or reported in or
    /// finished after its deadline.
    async fn late(&self) -> bool {
        self.overdue_marks > 0
            || self
                .reported_in_at
                .is_some_and(|at| at > self.report_in_due_at)
            || self.done_at.is_some_and(|at| at > self.handling_due_at)
    }

    /// Times the deadline watcher found it late.
    async fn overdue_marks(&self) -> i32 {
        self.overdue_marks
    }

    /// Times it was urged (催办).
    async fn urges(&self) -> i32 {
        self.urges
    }

    /// Extensions granted (延期): each moved `handlingDueAt` later.
    async fn extensions(&self) -> i32 {
        self.extensions
    }
}

/// What a grid worker's terminal sends.
#[derive(InputObject)]
pub struct ReportEventInput {
    pub idempotency_key: String,
    /// Defaults to the description's first 30 characters.
    pub title: Option<String>,
    pub description: String,
    pub category: EventCategory,
    #[graphql(default_with = "Urgency::Normal")]
    pub urgency: Urgency,
    #[graphql(default_with = "EventChannel::GridTerminal")]
    pub channel: EventChannel,
    /// The grid where it happened.
    pub grid_code: String,
    pub place_id: Option<ID>,
    pub reporter_id: Option<ID>,
    /// Persons concerned (applicants).
    #[graphql(default)]
    pub party_ids: Vec<ID>,
    /// Photo URLs taken on the terminal.
    #[graphql(default)]
    pub photos: Vec<String>,
    /// Photos uploaded with the report (a GraphQL multipart request): JPEG, PNG or
    /// WebP, each up to `limits.max_photo_bytes`; served back at `Event.photos`.
    #[graphql(default)]
    pub photo_files: Vec<Upload>,
    /// Where the reporter was, in degrees; within the city (辽源市).
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
}

/// The files of `uploads`, checked to be photos.
fn photo_files(ctx: &Context<'_>, uploads: &[Upload]) -> Result<Vec<PhotoFile>> {
    uploads
        .iter()
        .map(|upload| {
            let file = upload
                .value(ctx)
                .map_err(|_| ApiError::bad_input("an upload the request did not carry"))?;
            PhotoFile::check(&file.filename, file.content.to_vec()).map_err(workflow_error)
        })
        .collect()
}

/// 辽源市's extent (degrees east, degrees north), with a margin.
const CITY_LONGITUDE: std::ops::RangeInclusive<f64> = 124.2..=125.7;
const CITY_LATITUDE: std::ops::RangeInclusive<f64> = 42.2..=43.3;

/// The reporter's position, checked against the city's extent.
fn position(longitude: Option<f64>, latitude: Option<f64>) -> Result<Option<(f64, f64)>> {
    match (longitude, latitude) {
        (None, None) => Ok(None),
        (Some(longitude), Some(latitude))
            if CITY_LONGITUDE.contains(&longitude) && CITY_LATITUDE.contains(&latitude) =>
        {
            Ok(Some((longitude, latitude)))
        }
        (Some(longitude), Some(latitude)) => Err(ApiError::bad_input(format!(
            "({longitude}, {latitude}) is outside 辽源市 (longitude {}–{}, latitude {}–{})",
            CITY_LONGITUDE.start(),
            CITY_LONGITUDE.end(),
            CITY_LATITUDE.start(),
            CITY_LATITUDE.end()
        ))
        .into()),
        _ => Err(ApiError::bad_input("give both longitude and latitude, or neither").into()),
    }
}

/// Whom to summon — a department, a grid's team or one person: exactly one — with
/// deadlines (defaults by the event's urgency).
#[derive(InputObject)]
pub struct SummonsInput {
    pub department_code: Option<String>,
    /// A grid's code: its 法官进网格 "1+4" team.
    pub team_grid_code: Option<String>,
    pub staff_id: Option<ID>,
    pub report_in_due_at: Option<DateTime<Utc>>,
    pub handling_due_at: Option<DateTime<Utc>>,
}

/// The workflow's changes: one root, its fields from each part of the workflow.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    LoopMutations,
    super::disputes::DisputeMutations,
    super::collection::CollectionMutations,
);

#[derive(Default)]
pub struct LoopMutations;

/// The request's actor. Every transport puts one in the request data; a request without
/// one is refused rather than run as anyone.
pub(super) fn actor<'a>(ctx: &Context<'a>) -> Result<&'a Actor> {
    ctx.data::<Actor>().map_err(|_| {
        tracing::error!("request data missing: actor");
        ApiError::new(ErrorCode::Internal, "internal error").extend()
    })
}

pub(super) fn store<'a>(ctx: &Context<'a>) -> Result<&'a Store> {
    resolve::store(ctx)
}

pub(super) fn event_id(id: &ID) -> Result<i64> {
    Ok(decode_numeric(id, NodeType::Event)?)
}

fn summons_id(id: &ID) -> Result<i64> {
    Ok(decode_numeric(id, NodeType::Summons)?)
}

/// One of the decisions that carry only a note or a reason.
async fn decide(
    ctx: &Context<'_>,
    key: &str,
    event: &ID,
    decision: Decision,
    text: &str,
) -> Result<WorkflowPayload> {
    let outcome = store(ctx)?
        .decide_event(key, actor(ctx)?, event_id(event)?, decision, text)
        .await;
    done(ctx, outcome)
}

/// The payload, having told this replica's signal hub to look for the new entries.
pub(super) fn done(
    ctx: &Context<'_>,
    outcome: Result<Outcome, WorkflowError>,
) -> Result<WorkflowPayload> {
    if let Ok(hub) = ctx.data::<std::sync::Arc<crate::workflow::SignalHub>>() {
        hub.poke();
    }
    outcome.map(Into::into).map_err(workflow_error)
}

#[Object]
impl LoopMutations {
    /// A new event, REPORTED.
    async fn report_event(
        &self,
        ctx: &Context<'_>,
        input: ReportEventInput,
    ) -> Result<WorkflowPayload> {
        let person = |id: &ID| decode_numeric(id, NodeType::Person);
        let description = input.description.trim().to_owned();
        if description.is_empty() {
            return Err(ApiError::bad_input("the description is empty").into());
        }
        let title = input
            .title
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| description.chars().take(30).collect());
        let event = NewEvent {
            title,
            description,
            category: input.category,
            channel: input.channel,
            urgency: input.urgency,
            jurisdiction_code: input.grid_code,
            place_id: input
                .place_id
                .as_ref()
                .map(|id| decode_numeric(id, NodeType::Place))
                .transpose()?,
            reporter_id: input.reporter_id.as_ref().map(person).transpose()?,
            party_ids: input
                .party_ids
                .iter()
                .map(person)
                .collect::<Result<_, _>>()?,
            photos: input.photos,
            photo_files: input
                .photo_files
                .iter()
                .map(|upload| {
                    let file = upload
                        .value(ctx)
                        .map_err(|_| ApiError::bad_input("an upload the request did not carry"))?;
                    PhotoFile::check(&file.filename, file.content.to_vec()).map_err(workflow_error)
                })
                .collect::<Result<_>>()?,
            position: position(input.longitude, input.latitude)?,
        };
        done(
            ctx,
            store(ctx)?
                .report_event(&input.idempotency_key, actor(ctx)?, &event)
                .await,
        )
    }

    async fn accept_event(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        event_id: ID,
        #[graphql(default)] note: String,
    ) -> Result<WorkflowPayload> {
        decide(ctx, &idempotency_key, &event_id, Decision::Accept, &note).await
    }

    async fn reject_event(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        event_id: ID,
        reason: String,
    ) -> Result<WorkflowPayload> {
        decide(ctx, &idempotency_key, &event_id, Decision::Reject, &reason).await
    }

    /// 退回: back to the reporting level for more information.
    async fn return_event(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        event_id: ID,
        reason: String,
    ) -> Result<WorkflowPayload> {
        decide(ctx, &idempotency_key, &event_id, Decision::Return, &reason).await
    }

    /// To the level above.
    async fn escalate_event(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        event_id: ID,
        reason: String,
    ) -> Result<WorkflowPayload> {
        decide(
            ctx,
            &idempotency_key,
            &event_id,
            Decision::Escalate,
            &reason,
        )
        .await
    }

    /// 吹哨: summons departments to the event from `jurisdictionCode` (the summoning level).
    async fn blow_whistle(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        event_id: ID,
        jurisdiction_code: String,
        #[graphql(default)] note: String,
        summons: Vec<SummonsInput>,
    ) -> Result<WorkflowPayload> {
        let addressed: Vec<Summon> = summons
            .into_iter()
            .map(|s| {
                let addressee = match (s.department_code, s.team_grid_code, s.staff_id) {
                    (Some(code), None, None) => Addressee::Department(code),
                    (None, Some(grid), None) => Addressee::Team(grid),
                    (None, None, Some(id)) => Addressee::Staff(decode_numeric(&id, NodeType::Staff)?),
                    _ => {
                        return Err(ApiError::bad_input(
                            "each summons names exactly one of departmentCode, teamGridCode and staffId",
                        )
                        .into());
                    }
                };
                Ok(Summon {
                    addressee,
                    report_in_due_at: s.report_in_due_at,
                    handling_due_at: s.handling_due_at,
                })
            })
            .collect::<Result<_>>()?;
        done(
            ctx,
            store(ctx)?
                .blow_whistle(
                    &idempotency_key,
                    actor(ctx)?,
                    self::event_id(&event_id)?,
                    &jurisdiction_code,
                    &note,
                    &addressed,
                )
                .await,
        )
    }

    /// 报到: a summoned department reports in.
    async fn report_in(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        summons_id: ID,
    ) -> Result<WorkflowPayload> {
        done(
            ctx,
            store(ctx)?
                .report_in(
                    &idempotency_key,
                    actor(ctx)?,
                    self::summons_id(&summons_id)?,
                )
                .await,
        )
    }

    async fn decline_summons(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        summons_id: ID,
        reason: String,
    ) -> Result<WorkflowPayload> {
        done(
            ctx,
            store(ctx)?
                .decline_summons(
                    &idempotency_key,
                    actor(ctx)?,
                    self::summons_id(&summons_id)?,
                    &reason,
                )
                .await,
        )
    }

    /// 延期: a department asks for more time.
    async fn request_extension(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        summons_id: ID,
        until: DateTime<Utc>,
        reason: String,
    ) -> Result<WorkflowPayload> {
        done(
            ctx,
            store(ctx)?
                .request_extension(
                    &idempotency_key,
                    actor(ctx)?,
                    self::summons_id(&summons_id)?,
                    until,
                    &reason,
                )
                .await,
        )
    }

    /// The summoning level grants or refuses a request for more time.
    async fn decide_extension(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        summons_id: ID,
        grant: bool,
    ) -> Result<WorkflowPayload> {
        done(
            ctx,
            store(ctx)?
                .decide_extension(
                    &idempotency_key,
                    actor(ctx)?,
                    self::summons_id(&summons_id)?,
                    grant,
                )
                .await,
        )
    }

    /// Progress from a summoned department; `done` ends its part.
    async fn submit_feedback(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        summons_id: ID,
        text: String,
        #[graphql(default)] done: bool,
    ) -> Result<WorkflowPayload> {
        self::done(
            ctx,
            store(ctx)?
                .submit_feedback(
                    &idempotency_key,
                    actor(ctx)?,
                    self::summons_id(&summons_id)?,
                    &text,
                    done,
                )
                .await,
        )
    }

    /// Resolves the event once every summons is DONE or DECLINED and, for a dispute in
    /// mediation, once its agreement is recorded (and its confirmation, if asked for,
    /// decided). It is resolved at its tier (`Event.tier`); `tier`, if given, must be
    /// that one. A SUPERVISOR may resolve it anyway by giving `forceReason` (recorded,
    /// with the summonses left open).
    async fn resolve_event(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        event_id: ID,
        tier: Option<ResolutionTier>,
        #[graphql(default)] summary: String,
        force_reason: Option<String>,
    ) -> Result<WorkflowPayload> {
        done(
            ctx,
            store(ctx)?
                .resolve_event(
                    &idempotency_key,
                    actor(ctx)?,
                    self::event_id(&event_id)?,
                    tier,
                    &summary,
                    force_reason.as_deref(),
                )
                .await,
        )
    }

    /// 交办: hands the event down from the level handling it to a lower level that holds
    /// its grid (county → township → grid), which then handles it and is signalled;
    /// and/or names the person in charge (`staffId`: someone on the grid's team, of the
    /// handling level, or of the county's departments). Give one or both.
    async fn assign_event(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        event_id: ID,
        jurisdiction_code: Option<String>,
        staff_id: Option<ID>,
        #[graphql(default)] note: String,
    ) -> Result<WorkflowPayload> {
        let staff = staff_id
            .as_ref()
            .map(|id| decode_numeric(id, NodeType::Staff))
            .transpose()?;
        done(
            ctx,
            store(ctx)?
                .assign_event(
                    &idempotency_key,
                    actor(ctx)?,
                    self::event_id(&event_id)?,
                    jurisdiction_code.as_deref(),
                    staff,
                    &note,
                )
                .await,
        )
    }

    /// The reporter's follow-up: photos added to an event after its report (a GraphQL
    /// multipart request, as for `reportEvent`); listed in `Event.photos`.
    async fn add_event_photos(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        event_id: ID,
        photo_files: Vec<Upload>,
        #[graphql(default)] note: String,
    ) -> Result<WorkflowPayload> {
        let files = self::photo_files(ctx, &photo_files)?;
        done(
            ctx,
            store(ctx)?
                .add_event_photos(
                    &idempotency_key,
                    actor(ctx)?,
                    self::event_id(&event_id)?,
                    files,
                    &note,
                )
                .await,
        )
    }

    /// 催办: the supervising level urges the level handling an event (`eventId`) or one
    /// summoned department (`summonsId`); give exactly one. The urged side is signalled
    /// and the urge counted for evaluation.
    async fn urge(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        event_id: Option<ID>,
        summons_id: Option<ID>,
        note: String,
    ) -> Result<WorkflowPayload> {
        let store = store(ctx)?;
        let actor = actor(ctx)?;
        let outcome = match (event_id, summons_id) {
            (Some(event), None) => {
                store
                    .urge_event(&idempotency_key, actor, self::event_id(&event)?, &note)
                    .await
            }
            (None, Some(summons)) => {
                store
                    .urge_summons(&idempotency_key, actor, self::summons_id(&summons)?, &note)
                    .await
            }
            _ => {
                return Err(
                    ApiError::bad_input("give exactly one of eventId and summonsId").into(),
                );
            }
        };
        done(ctx, outcome)
    }

    /// 回访: the citizen's satisfaction (1–5) and comment; 1 or 2 reopens the event for
    /// rework (重办) instead of letting it close.
    async fn revisit(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        event_id: ID,
        satisfaction: i32,
        #[graphql(default)] comment: String,
    ) -> Result<WorkflowPayload> {
        let satisfaction = i16::try_from(satisfaction)
            .ok()
            .filter(|s| (1..=5).contains(s))
            .ok_or_else(|| ApiError::bad_input("satisfaction is 1 to 5"))?;
        done(
            ctx,
            store(ctx)?
                .revisit(
                    &idempotency_key,
                    actor(ctx)?,
                    self::event_id(&event_id)?,
                    satisfaction,
                    &comment,
                )
                .await,
        )
    }

    async fn close_event(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        event_id: ID,
    ) -> Result<WorkflowPayload> {
        done(
            ctx,
            store(ctx)?
                .close_event(&idempotency_key, actor(ctx)?, self::event_id(&event_id)?)
                .await,
        )
    }
}
