use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};

use super::mask;
use crate::enums::Gender;
use crate::graphql::connection::{EntityConnection, Paging, entity_connection, page_cost};
use crate::graphql::federated;
use crate::graphql::filters::{EventFilter, OrganizationFilter, conditions};
use crate::graphql::ids::{NodeType, encode};
use crate::graphql::resolve::{self, loaders};
use crate::model::{EntityLink, Event, Jurisdiction, Organization, Person, Place};
use crate::store::{Key, relations};

/// 人: a person in the entity index. Detail records stay in the departments' systems.
#[Object]
impl Person {
    pub async fn id(&self) -> ID {
        encode(NodeType::Person, self.id)
    }

    async fn name(&self) -> &str {
        &self.name
    }

    async fn gender(&self) -> Gender {
        self.gender
    }

    async fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    /// 居民身份证号码; masked unless the caller may see personal data.
    async fn id_number(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(mask(&loaders(ctx)?.scope, &self.id_number, 6, 4))
    }

    /// Mobile number; masked unless the caller may see personal data.
    async fn phone(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let scope = &loaders(ctx)?.scope;
        Ok(self.phone.as_deref().map(|phone| mask(scope, phone, 3, 4)))
    }

    /// When the person entered the index.
    async fn registered_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// The jurisdiction the person is filed under (usually a grid).
    async fn jurisdiction(&self, ctx: &Context<'_>) -> Result<Option<Jurisdiction>> {
        resolve::jurisdiction(ctx, &self.jurisdiction_code).await
    }

    /// The grid the person lives in.
    async fn grid(&self, ctx: &Context<'_>) -> Result<Option<Jurisdiction>> {
        resolve::grid(ctx, &self.jurisdiction_code).await
    }

    /// Where the person lives.
    async fn residence(&self, ctx: &Context<'_>) -> Result<Option<Place>> {
        resolve::entity(ctx, self.residence_place_id).await
    }

    /// Events the person reported or is a party to.
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
            relations::EVENTS_OF_PERSON,
            Key::Id(self.id),
            conditions(&filter)?,
            paging,
        )
        .await
    }

    /// Organizations the person belongs to.
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
        let relation = relations::ORGANIZATIONS_OF_PERSON;
        entity_connection(
            ctx,
            relation,
            Key::Id(self.id),
            conditions(&filter)?,
            paging,
        )
        .await
    }

    /// The department systems holding records on this person.
    async fn department_records(&self, ctx: &Context<'_>) -> Result<Vec<EntityLink>> {
        super::record::records(ctx, connectors::Element::Person, self.id).await
    }

    /// 户籍 (公安局).
    async fn household_registration(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<federated::HouseholdRegistration>> {
        federated::resolve(ctx, self.id).await
    }

    /// 社会救助 (民政局).
    async fn social_assistance(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<federated::SocialAssistance>> {
        federated::resolve(ctx, self.id).await
    }

    /// 社会保险 (人社局).
    async fn social_insurance(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<federated::SocialInsurance>> {
        federated::resolve(ctx, self.id).await
    }

    /// 居民健康档案 (卫健局).
    async fn health_record(&self, ctx: &Context<'_>) -> Result<Option<federated::HealthRecord>> {
        federated::resolve(ctx, self.id).await
    }

    /// 退役军人信息 (退役军人事务局).
    async fn veteran_status(&self, ctx: &Context<'_>) -> Result<Option<federated::VeteranStatus>> {
        federated::resolve(ctx, self.id).await
    }

    /// 基本医疗保险 (医保局).
    async fn medical_insurance(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<federated::MedicalInsurance>> {
        federated::resolve(ctx, self.id).await
    }
}
