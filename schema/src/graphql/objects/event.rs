use std::sync::Arc;

use crate::graphql::selected::Selected;
use async_graphql::{Context, ID, Object, Result, Union};
use chrono::{DateTime, Utc};

use crate::enums::*;
use crate::graphql::connection::{EntityConnection, Paging, entity_connection, page_cost};
use crate::graphql::federated;
use crate::graphql::filters::{EventFilter, conditions, radius};
use crate::graphql::ids::{NodeType, encode};
use crate::graphql::resolve::{self, loaders, store_error};
use crate::model::{Event, EventParty, Jurisdiction, Organization, Person, Place};
use crate::store::{Centre, Condition, Key, relations};

/// The columns each field below reads besides the id (see `Counted::FIELD_COLUMNS`): a
/// page of events reads only those of the fields its query selects. Keep it with the
/// fields: a field that reads a column not listed here would read its default in a page
/// (`queries::a_page_reads_what_each_field_shows` compares each field with a lookup by
/// id).
pub(crate) const FIELD_COLUMNS: &[(&str, &[&str])] = &[
    ("id", &[]),
    ("title", &["title"]),
    ("description", &["description"]),
    ("category", &["category"]),
    ("channel", &["channel"]),
    ("urgency", &["urgency"]),
    ("status", &["status"]),
    ("reporter", &["reporter_id"]),
    ("parties", &[]),
    ("place", &["place_id"]),
    ("jurisdiction", &["jurisdiction_code"]),
    (
        "handlingJurisdiction",
        &["jurisdiction_code", "handling_code"],
    ),
    ("grid", &["jurisdiction_code"]),
    ("resolutionTier", &["resolution_tier"]),
    ("satisfaction", &["satisfaction"]),
    ("reportedAt", &["reported_at"]),
    ("acceptedAt", &["accepted_at"]),
    ("updatedAt", &["updated_at"]),
    ("dueAt", &["due_at"]),
    ("overdueAt", &["overdue_at"]),
    ("urges", &["urges"]),
    ("reworks", &["reworks"]),
    ("assignee", &["assignee_id"]),
    ("longitude", &["longitude"]),
    ("latitude", &["latitude"]),
    ("photos", &["photos"]),
    ("resolvedAt", &["resolved_at"]),
    ("closedAt", &["closed_at"]),
    ("petition", &[]),
    ("mediationCase", &[]),
    ("mediation", &[]),
    ("tier", &["tier"]),
    ("mediations", &[]),
    ("departmentWrites", &[]),
    ("courtCase", &[]),
    ("procuratorialCase", &[]),
    ("timeline", &[]),
    ("summonses", &[]),
    ("nearby", &[]),
];

/// 事: a citizen's request, a dispute or a grid event, and where it stands.
#[Object]
impl Event {
    pub async fn id(&self) -> ID {
        encode(NodeType::Event, self.id)
    }

    async fn title(&self) -> &str {
        &self.title
    }

    async fn description(&self) -> &str {
        &self.description
    }

    async fn category(&self) -> EventCategory {
        self.category
    }

    async fn channel(&self) -> EventChannel {
        self.channel
    }

    async fn urgency(&self) -> Urgency {
        self.urgency
    }

    async fn status(&self) -> EventStatus {
        self.status
    }

    /// Who reported it; absent for anonymous reports.
    async fn reporter(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        resolve::entity(ctx, self.reporter_id).await
    }

    /// The persons and organizations it concerns, in recorded order.
    async fn parties(&self, ctx: &Context<'_>) -> Result<Vec<EventParty>> {
        if let Some(parties) = &self.parties {
            return Ok(parties.to_vec());
        }
        Ok(loaders(ctx)?
            .parties
            .load_one(self.id)
            .await
            .map_err(store_error)?
            .unwrap_or_default())
    }

    /// Where it happened.
    async fn place(&self, ctx: &Context<'_>) -> Result<Option<Place>> {
        resolve::entity(ctx, self.place_id).await
    }

    /// The jurisdiction it is filed under (usually a grid).
    async fn jurisdiction(&self, ctx: &Context<'_>) -> Result<Option<Jurisdiction>> {
        resolve::jurisdiction(ctx, &self.jurisdiction_code).await
    }

    /// The level handling it: its grid's township (街乡), or the level it was escalated
    /// to (区县, then the city).
    async fn handling_jurisdiction(&self, ctx: &Context<'_>) -> Result<Option<Jurisdiction>> {
        let township = self
            .jurisdiction_code
            .get(..9)
            .unwrap_or(&self.jurisdiction_code);
        let code = self.handling_code.as_deref().unwrap_or(township);
        resolve::jurisdiction(ctx, code).await
    }

    /// The grid it happened in.
    async fn grid(&self, ctx: &Context<'_>) -> Result<Option<Jurisdiction>> {
        resolve::grid(ctx, &self.jurisdiction_code).await
    }

    /// The tier that settled it: window, mediation or litigation.
    async fn resolution_tier(&self) -> Option<ResolutionTier> {
        self.resolution_tier
    }

    /// The citizen's satisfaction at the follow-up call, 1 to 5.
    async fn satisfaction(&self) -> Option<i16> {
        self.satisfaction
    }

    async fn reported_at(&self) -> DateTime<Utc> {
        self.reported_at
    }

    /// When it was first accepted (受理); null until then, and for rejected events.
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.accepted_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }

    /// When handling is due.
    async fn due_at(&self) -> Option<DateTime<Utc>> {
        self.due_at
    }

    /// When its own deadline was found passed while it was open (督办); null if never.
    async fn overdue_at(&self) -> Option<DateTime<Utc>> {
        self.overdue_at
    }

    /// Times the supervising level urged its handler (催办).
    async fn urges(&self) -> i32 {
        self.urges
    }

    /// Times an unsatisfied revisit reopened it for rework (重办).
    async fn reworks(&self) -> i32 {
        self.reworks
    }

    /// The person named in charge of it (交办 to a person), if any.
    async fn assignee(&self, ctx: &Context<'_>) -> Result<Option<crate::model::Staff>> {
        let Some(id) = self.assignee_id else {
            return Ok(None);
        };
        resolve::loaders(ctx)?
            .staff
            .load_one(id)
            .await
            .map_err(resolve::store_error)
    }

    /// Where the reporter was, in degrees east, when the terminal said.
    async fn longitude(&self) -> Option<f64> {
        self.longitude
    }

    /// Where the reporter was, in degrees north.
    async fn latitude(&self) -> Option<f64> {
        self.latitude
    }

    /// Photos taken when it was reported: URLs given with the report, and
    /// `/photos/<id>` for uploaded ones (served to callers who see the event).
    async fn photos(&self) -> &[String] {
        &self.photos
    }

    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.resolved_at
    }

    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.closed_at
    }

    /// 信访件 (信访局).
    async fn petition(&self, ctx: &Context<'_>) -> Result<Option<federated::Petition>> {
        federated::resolve(ctx, self.id).await
    }

    /// 人民调解案件: the case the justice bureau (司法局) keeps, for an event it registered
    /// (seeded, or filed by `referToMediation`).
    async fn mediation_case(&self, ctx: &Context<'_>) -> Result<Option<federated::MediationCase>> {
        federated::resolve(ctx, self.id).await
    }

    #[graphql(deprecation = "Use `mediationCase`; `mediations` lists the referrals themselves.")]
    async fn mediation(&self, ctx: &Context<'_>) -> Result<Option<federated::MediationCase>> {
        federated::resolve(ctx, self.id).await
    }

    /// Where a dispute is now (诉调一体): at the window, in mediation, or in court.
    async fn tier(&self) -> ResolutionTier {
        self.tier
    }

    /// Its referrals to mediation, oldest first, with their outcomes and confirmations.
    async fn mediations(&self, ctx: &Context<'_>) -> Result<Vec<crate::workflow::Mediation>> {
        Ok(resolve::loaders(ctx)?
            .mediations
            .load_one(self.id)
            .await
            .map_err(resolve::store_error)?
            .unwrap_or_default())
    }

    /// What the gateway asked department systems to do about it (file a mediation case,
    /// ask for judicial confirmation, file a court case), and where each stands.
    async fn department_writes(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::workflow::DepartmentWrite>> {
        Ok(resolve::loaders(ctx)?
            .department_writes
            .load_one(self.id)
            .await
            .map_err(resolve::store_error)?
            .unwrap_or_default())
    }

    /// 法院案件 (人民法院).
    async fn court_case(&self, ctx: &Context<'_>) -> Result<Option<federated::CourtCase>> {
        federated::resolve(ctx, self.id).await
    }

    /// 检察院案件 (人民检察院).
    async fn procuratorial_case(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<federated::ProcuratorialCase>> {
        federated::resolve(ctx, self.id).await
    }

    /// Every change to the event, oldest first, after `after` (a cursor).
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        after: Option<ID>,
        #[graphql(default = 100)] first: i32,
    ) -> Result<Vec<crate::workflow::TimelineEntry>> {
        if !(1..=500).contains(&first) {
            return Err(crate::error::ApiError::bad_input("first must be 1 to 500").into());
        }
        let after = match after {
            Some(cursor) => cursor.parse::<i64>().map_err(|_| {
                crate::error::ApiError::bad_input("`after` is not a timeline cursor")
            })?,
            None => 0,
        };
        resolve::store(ctx)?
            .timeline(resolve::scope(ctx)?, self.id, after, i64::from(first))
            .await
            .map_err(resolve::store_error)
    }

    /// The departments summoned to the event (吹哨), each with its state and deadlines.
    async fn summonses(&self, ctx: &Context<'_>) -> Result<Vec<crate::workflow::Summons>> {
        Ok(resolve::loaders(ctx)?
            .summonses
            .load_one(self.id)
            .await
            .map_err(resolve::store_error)?
            .unwrap_or_default())
    }

    /// Other events within `radiusM` metres of this one (by where each is: see
    /// `EventFilter.within`), ordered by id; none when this event has no position.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[expect(
        clippy::too_many_arguments,
        reason = "a radius, a filter and Relay's four paging arguments"
    )]
    async fn nearby(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 500)] radius_m: i32,
        filter: Option<EventFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<EntityConnection<Event>> {
        let mut conditions = conditions(&filter)?;
        conditions.push(Condition::Near(Centre::ParentEvent, radius(radius_m)?));
        let paging = Paging {
            first,
            after,
            last,
            before,
        };
        entity_connection(
            ctx,
            relations::OTHER_EVENTS,
            Key::Id(self.id),
            conditions,
            paging,
        )
        .await
    }
}

/// A person or an organization.
#[derive(Union)]
pub enum Party {
    Person(Arc<Person>),
    Organization(Arc<Organization>),
}

/// One party to an event and its role.
#[Object]
impl EventParty {
    async fn role(&self) -> PartyRole {
        self.role
    }

    /// The party; absent when it lies outside what the caller may see.
    async fn party(&self) -> Option<Selected<Party>> {
        let party = match (&self.person, &self.organization) {
            (Some(person), _) => Party::Person(person.clone()),
            (None, Some(organization)) => Party::Organization(organization.clone()),
            (None, None) => return None,
        };
        Some(Selected(party))
    }
}
