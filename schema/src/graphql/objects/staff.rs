//! The people who act, and a grid's 法官进网格 "1+4" team.

use async_graphql::{Context, ID, Object, Result};

use crate::enums::StaffRole;
use crate::graphql::connection::{Paging, QueueConnection};
use crate::graphql::ids::{NodeType, encode};
use crate::graphql::queues::HandlingFilter;
use crate::graphql::resolve::{self, loaders, store_error};
use crate::model::{Department, Event, Jurisdiction, Staff};
use crate::workflow::Owner;

/// A person who acts: a member of grid teams (judge, grid head, mediator, residents'
/// representative, auxiliary police) or a department's officer. Their phone is always
/// shown masked: they are reached through their unit.
#[Object]
impl Staff {
    pub async fn id(&self) -> ID {
        encode(NodeType::Staff, self.id)
    }

    async fn name(&self) -> &str {
        &self.name
    }

    async fn role(&self) -> StaffRole {
        self.role
    }

    /// Where they work: 东辽县人民法院, 白泉镇派出所, ...
    async fn unit(&self) -> &str {
        &self.unit
    }

    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        match &self.department_code {
            Some(code) => resolve::department(ctx, code).await,
            None => Ok(None),
        }
    }

    /// The level they belong to: a county for judges, a township, a grid for grid heads.
    async fn jurisdiction(&self, ctx: &Context<'_>) -> Result<Option<Jurisdiction>> {
        resolve::jurisdiction(ctx, &self.jurisdiction_code).await
    }

    /// The grids whose teams they serve on.
    async fn grids(&self, ctx: &Context<'_>) -> Result<Vec<Jurisdiction>> {
        let codes = loaders(ctx)?
            .grids_served
            .load_one(self.id)
            .await
            .map_err(store_error)?
            .unwrap_or_default();
        let found = loaders(ctx)?
            .jurisdictions
            .load_many(codes.iter().cloned())
            .await
            .map_err(store_error)?;
        Ok(codes
            .iter()
            .filter_map(|code| found.get(code).cloned())
            .collect())
    }

    async fn phone(&self) -> Option<String> {
        self.phone
            .as_deref()
            .map(|phone| connectors::mask_keeping(phone, 3, 4))
    }

    /// The summonses addressed to them or to a team they serve on, by next deadline:
    /// their work queue (报到, then act).
    #[graphql(complexity = "crate::graphql::connection::page_cost(first, None, child_complexity)")]
    async fn summonses(
        &self,
        ctx: &Context<'_>,
        filter: Option<crate::graphql::queues::SummonsFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<QueueConnection<crate::workflow::Summons>> {
        let paging = Paging {
            first,
            after,
            ..Paging::default()
        };
        crate::graphql::queues::addressed_summonses(ctx, self.id, filter, paging).await
    }

    /// The events they were named in charge of (交办), by deadline.
    #[graphql(complexity = "crate::graphql::connection::page_cost(first, None, child_complexity)")]
    async fn assignments(
        &self,
        ctx: &Context<'_>,
        filter: Option<HandlingFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<QueueConnection<Event>> {
        let paging = Paging {
            first,
            after,
            ..Paging::default()
        };
        crate::graphql::queues::events(ctx, Owner::Assignee(self.id), filter, paging).await
    }
}

/// A grid's 法官进网格 "1+4" team: a judge, the grid head, a mediator, a residents'
/// representative and an auxiliary police officer.
pub struct Team {
    pub grid_code: String,
}

#[Object]
impl Team {
    async fn grid(&self, ctx: &Context<'_>) -> Result<Option<Jurisdiction>> {
        resolve::jurisdiction(ctx, &self.grid_code).await
    }

    /// Its members, judge first.
    async fn members(&self, ctx: &Context<'_>) -> Result<Vec<Staff>> {
        Ok(loaders(ctx)?
            .teams
            .load_one(self.grid_code.clone())
            .await
            .map_err(store_error)?
            .unwrap_or_default())
    }
}
