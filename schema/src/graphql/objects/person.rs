use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};

use crate::access::PersonalField;
use crate::enums::Gender;
use crate::graphql::audit::{Personal, unmasked};
use crate::graphql::connection::{EntityConnection, Paging, entity_connection, page_cost};
use crate::graphql::federated;
use crate::graphql::filters::{EventFilter, OrganizationFilter, conditions};
use crate::graphql::ids::{NodeType, encode};
use crate::graphql::resolve;
use crate::model::{EntityLink, Event, Jurisdiction, Organization, Person, Place};
use crate::store::{Key, relations};

impl Person {
    fn personal(&self, field: PersonalField, name: String) -> Personal<'_> {
        Personal {
            field,
            name,
            entity: NodeType::Person,
            id: self.id,
            jurisdiction: &self.jurisdiction_code,
        }
    }

    /// A federated field of this person; personal fields of it selected in clear (the
    /// caller's scope showing department records) are noted for the audit log.
    async fn federated<T: federated::Federated>(&self, ctx: &Context<'_>) -> Result<Option<T>> {
        let found = federated::resolve::<T>(ctx, self.id).await?;
        if found.is_some() {
            let selection = ctx.look_ahead();
            for spec in T::TYPE.fields.iter().filter(|spec| spec.personal) {
                let name = camel_case(spec.name);
                if selection.field(&name).exists() {
                    let path = format!("{}.{name}", T::TYPE.field);
                    unmasked(ctx, self.personal(PersonalField::DepartmentRecord, path));
                }
            }
        }
        Ok(found)
    }
}

/// `id_number` → `idNumber`: a config file's field name as GraphQL spells it.
fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The columns each field below reads besides the id (see `Counted::FIELD_COLUMNS`): only
/// its id and name are listed, every other field reads the whole row.
pub(crate) const FIELD_COLUMNS: &[(&str, &[&str])] = &[("id", &[]), ("name", &["name"])];

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

    /// 居民身份证号码: masked unless the caller's role may read it and the request
    /// states a purpose (`X-Purpose`); every read in clear is audited.
    async fn id_number(&self, ctx: &Context<'_>) -> String {
        let personal = self.personal(PersonalField::IdNumber, "idNumber".to_owned());
        if unmasked(ctx, personal) {
            self.id_number.clone()
        } else {
            connectors::mask_keeping(&self.id_number, 6, 4)
        }
    }

    /// Mobile number: masked unless the caller's role may read it and the request states
    /// a purpose (`X-Purpose`); every read in clear is audited.
    async fn phone(&self, ctx: &Context<'_>) -> Option<String> {
        let phone = self.phone.as_deref()?;
        Some(
            if unmasked(ctx, self.personal(PersonalField::Phone, "phone".to_owned())) {
                phone.to_owned()
            } else {
                connectors::mask_keeping(phone, 3, 4)
            },
        )
    }

    /// When the person entered the index.
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
        self.federated(ctx).await
    }

    /// 社会救助 (民政局).
    async fn social_assistance(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<federated::SocialAssistance>> {
        self.federated(ctx).await
    }

    /// 社会保险 (人社局).
    async fn social_insurance(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<federated::SocialInsurance>> {
        self.federated(ctx).await
    }

    /// 居民健康档案 (卫健局).
    async fn health_record(&self, ctx: &Context<'_>) -> Result<Option<federated::HealthRecord>> {
        self.federated(ctx).await
    }

    /// 退役军人信息 (退役军人事务局).
    async fn veteran_status(&self, ctx: &Context<'_>) -> Result<Option<federated::VeteranStatus>> {
        self.federated(ctx).await
    }

    /// 基本医疗保险 (医保局).
    async fn medical_insurance(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<federated::MedicalInsurance>> {
        self.federated(ctx).await
    }
}
