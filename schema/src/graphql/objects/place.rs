use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use crate::enums::PlaceKind;
use crate::graphql::connection::{EntityConnection, Paging, entity_connection, page_cost};
use crate::graphql::federated;
use crate::graphql::filters::{
    EventFilter, OrganizationFilter, PersonFilter, ThingFilter, conditions,
};
use crate::graphql::ids::{NodeType, encode};
use crate::graphql::resolve;
use crate::model::{EntityLink, Event, Jurisdiction, Organization, Person, Place, Thing};
use crate::store::{Key, relations};

/// 地: a place in the entity index — a building, a shop, a school, a field.
#[Object]
impl Place {
    pub async fn id(&self) -> ID {
        encode(NodeType::Place, self.id)
    }

    async fn name(&self) -> &str {
        &self.name
    }

    async fn kind(&self) -> PlaceKind {
        self.kind
    }

    async fn address(&self) -> &str {
        &self.address
    }

    async fn longitude(&self) -> Option<f64> {
        self.longitude
    }

    async fn latitude(&self) -> Option<f64> {
        self.latitude
    }

    /// When the place entered the index.
    async fn registered_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// Every change to it, oldest first, after `after` (a cursor): who, when, from which
    /// source, each field before → after.
    async fn history(
        &self,
        ctx: &Context<'_>,
        after: Option<ID>,
        #[graphql(default = 100)] first: i32,
    ) -> Result<Vec<crate::workflow::ElementChange>> {
        crate::graphql::collection::history(ctx, self.id, after, first).await
    }

    /// The jurisdiction the place is filed under (usually a grid).
    async fn jurisdiction(&self, ctx: &Context<'_>) -> Result<Option<Jurisdiction>> {
        resolve::jurisdiction(ctx, &self.jurisdiction_code).await
    }

    /// The grid the place lies in.
    async fn grid(&self, ctx: &Context<'_>) -> Result<Option<Jurisdiction>> {
        resolve::grid(ctx, &self.jurisdiction_code).await
    }

    /// The people who live here.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn occupants(
        &self,
        ctx: &Context<'_>,
        filter: Option<PersonFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<EntityConnection<Person>> {
        let paging = Paging {
            first,
            after,
            last,
            before,
        };
        let relation = relations::RESIDENTS_OF_PLACE;
        entity_connection(
            ctx,
            relation,
            Key::Id(self.id),
            conditions(&filter)?,
            paging,
        )
        .await
    }

    /// Things installed or kept here.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn things(
        &self,
        ctx: &Context<'_>,
        filter: Option<ThingFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<EntityConnection<Thing>> {
        let paging = Paging {
            first,
            after,
            last,
            before,
        };
        entity_connection(
            ctx,
            relations::AT_PLACE,
            Key::Id(self.id),
            conditions(&filter)?,
            paging,
        )
        .await
    }

    /// Organizations based here.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrganizationFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<EntityConnection<Organization>> {
        let paging = Paging {
            first,
            after,
            last,
            before,
        };
        entity_connection(
            ctx,
            relations::AT_PLACE,
            Key::Id(self.id),
            conditions(&filter)?,
            paging,
        )
        .await
    }

    /// Events that happened here.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        filter: Option<EventFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<EntityConnection<Event>> {
        let paging = Paging {
            first,
            after,
            last,
            before,
        };
        entity_connection(
            ctx,
            relations::AT_PLACE,
            Key::Id(self.id),
            conditions(&filter)?,
            paging,
        )
        .await
    }

    /// The department systems holding records on this place.
    async fn department_records(&self, ctx: &Context<'_>) -> Result<Vec<EntityLink>> {
        super::record::records(ctx, connectors::Element::Place, self.id).await
    }

    /// 房屋建筑 (住建局, with 自然资源局).
    async fn building(&self, ctx: &Context<'_>) -> Result<Option<federated::Building>> {
        federated::resolve(ctx, self.id).await
    }

    /// 不动产登记 (自然资源局).
    async fn land_parcel(&self, ctx: &Context<'_>) -> Result<Option<federated::LandParcel>> {
        federated::resolve(ctx, self.id).await
    }

    /// 水利工程 (水利局).
    async fn irrigation_works(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<federated::IrrigationWorks>> {
        federated::resolve(ctx, self.id).await
    }

    /// 商贸流通网点 (商务局).
    async fn commercial_outlet(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<federated::CommercialOutlet>> {
        federated::resolve(ctx, self.id).await
    }

    /// 城市管理责任区 (城管执法局).
    async fn urban_management(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<federated::UrbanManagementArea>> {
        federated::resolve(ctx, self.id).await
    }

    /// 文物保护单位与景区 (文旅局).
    async fn cultural_site(&self, ctx: &Context<'_>) -> Result<Option<federated::CulturalSite>> {
        federated::resolve(ctx, self.id).await
    }
}
