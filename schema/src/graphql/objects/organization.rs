use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use crate::enums::OrganizationKind;
use crate::graphql::connection::{
    EntityConnection, Paging, entity_connection, first_related, page_cost,
};
use crate::graphql::federated;
use crate::graphql::filters::{EventFilter, PersonFilter, conditions};
use crate::graphql::ids::{NodeType, encode};
use crate::graphql::resolve;
use crate::model::{EntityLink, Event, Jurisdiction, Organization, Person, Place};
use crate::store::{Key, relations};

/// The columns each field below reads besides the id (see `Counted::FIELD_COLUMNS`): only
/// its id and name are listed, every other field reads the whole row.
pub(crate) const FIELD_COLUMNS: &[(&str, &[&str])] = &[("id", &[]), ("name", &["name"])];

/// 组织: an enterprise, business, social organization or institution.
#[Object]
impl Organization {
    pub async fn id(&self) -> ID {
        encode(NodeType::Organization, self.id)
    }

    async fn name(&self) -> &str {
        &self.name
    }

    async fn kind(&self) -> OrganizationKind {
        self.kind
    }

    /// 统一社会信用代码.
    async fn credit_code(&self) -> &str {
        &self.credit_code
    }

    /// When the organization entered the index.
    async fn registered_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// When it was struck off the register (注销), if it was.
    async fn deregistered_on(&self) -> Option<chrono::NaiveDate> {
        self.deregistered_on
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

    /// Where it is based.
    async fn place(&self, ctx: &Context<'_>) -> Result<Option<Place>> {
        resolve::entity(ctx, self.place_id).await
    }

    /// The jurisdiction the organization is filed under (usually a grid).
    async fn jurisdiction(&self, ctx: &Context<'_>) -> Result<Option<Jurisdiction>> {
        resolve::jurisdiction(ctx, &self.jurisdiction_code).await
    }

    /// The grid it lies in.
    async fn grid(&self, ctx: &Context<'_>) -> Result<Option<Jurisdiction>> {
        resolve::grid(ctx, &self.jurisdiction_code).await
    }

    /// 法定代表人.
    async fn legal_representative(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        first_related(ctx, relations::LEGAL_REPRESENTATIVE_OF, Key::Id(self.id)).await
    }

    /// Its legal representative, managers and employees.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn members(
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
        let relation = relations::MEMBERS_OF_ORGANIZATION;
        entity_connection(
            ctx,
            relation,
            Key::Id(self.id),
            conditions(&filter)?,
            paging,
        )
        .await
    }

    /// Events the organization is a party to.
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
        let relation = relations::EVENTS_OF_ORGANIZATION;
        entity_connection(
            ctx,
            relation,
            Key::Id(self.id),
            conditions(&filter)?,
            paging,
        )
        .await
    }

    /// The department systems holding records on this organization.
    async fn department_records(&self, ctx: &Context<'_>) -> Result<Vec<EntityLink>> {
        super::record::records(ctx, connectors::Element::Organization, self.id).await
    }

    /// 市场主体登记 (市场监管局).
    async fn business_registration(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<federated::BusinessRegistration>> {
        federated::resolve(ctx, self.id).await
    }

    /// 税务登记 (税务局).
    async fn tax_registration(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<federated::TaxRegistration>> {
        federated::resolve(ctx, self.id).await
    }

    /// 排污许可 (生态环境局).
    async fn pollution_permit(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<federated::PollutionPermit>> {
        federated::resolve(ctx, self.id).await
    }

    /// 新型农业经营主体 (农业农村局).
    async fn agricultural_entity(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<federated::AgriculturalEntity>> {
        federated::resolve(ctx, self.id).await
    }

    /// 办学许可 (教育局).
    async fn school_license(&self, ctx: &Context<'_>) -> Result<Option<federated::SchoolLicense>> {
        federated::resolve(ctx, self.id).await
    }
}
