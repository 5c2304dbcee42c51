use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use crate::enums::ThingKind;
use crate::graphql::federated;
use crate::graphql::ids::{NodeType, encode};
use crate::graphql::resolve;
use crate::model::{EntityLink, Jurisdiction, Place, Thing};

/// 物: a thing in the entity index — an elevator, a gas tank, a vehicle, a hydrant.
#[Object]
impl Thing {
    pub async fn id(&self) -> ID {
        encode(NodeType::Thing, self.id)
    }

    async fn name(&self) -> &str {
        &self.name
    }

    async fn kind(&self) -> ThingKind {
        self.kind
    }

    /// Its registration or serial number.
    async fn identifier(&self) -> &str {
        &self.identifier
    }

    /// When the thing entered the index.
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

    /// Who owns it: a person or an organization.
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<super::event::Party>> {
        let Some(id) = self.owner_id else {
            return Ok(None);
        };
        if let Some(person) = resolve::entity::<crate::model::Person>(ctx, Some(id)).await? {
            return Ok(Some(super::event::Party::Person(person.into())));
        }
        Ok(resolve::entity::<crate::model::Organization>(ctx, Some(id))
            .await?
            .map(|organization| super::event::Party::Organization(organization.into())))
    }

    /// Where it is installed or kept.
    async fn place(&self, ctx: &Context<'_>) -> Result<Option<Place>> {
        resolve::entity(ctx, self.place_id).await
    }

    /// The jurisdiction the thing is filed under (usually a grid).
    async fn jurisdiction(&self, ctx: &Context<'_>) -> Result<Option<Jurisdiction>> {
        resolve::jurisdiction(ctx, &self.jurisdiction_code).await
    }

    /// The grid it lies in.
    async fn grid(&self, ctx: &Context<'_>) -> Result<Option<Jurisdiction>> {
        resolve::grid(ctx, &self.jurisdiction_code).await
    }

    /// The department systems holding records on this thing.
    async fn department_records(&self, ctx: &Context<'_>) -> Result<Vec<EntityLink>> {
        super::record::records(ctx, connectors::Element::Thing, self.id).await
    }

    /// 特种设备 (市场监管局).
    async fn special_equipment(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<federated::SpecialEquipment>> {
        federated::resolve(ctx, self.id).await
    }

    /// 危险源 (应急管理局).
    async fn hazard(&self, ctx: &Context<'_>) -> Result<Option<federated::Hazard>> {
        federated::resolve(ctx, self.id).await
    }

    /// 道路运输车辆 (交通运输局).
    async fn vehicle(&self, ctx: &Context<'_>) -> Result<Option<federated::Vehicle>> {
        federated::resolve(ctx, self.id).await
    }

    /// 消防设施 (消防救援大队).
    async fn fire_facility(&self, ctx: &Context<'_>) -> Result<Option<federated::FireFacility>> {
        federated::resolve(ctx, self.id).await
    }
}
