use async_graphql::{Context, ID, Object, Result};

use crate::enums::DepartmentKind;
use crate::graphql::ids::{NodeType, encode};
use crate::graphql::resolve;
use crate::model::{Department, Jurisdiction};

/// A functional department of a county, whose own system the gateway federates.
#[Object]
impl Department {
    pub async fn id(&self) -> ID {
        encode(NodeType::Department, &self.code)
    }

    /// e.g. 220422-GA for 东辽县公安局.
    async fn code(&self) -> &str {
        &self.code
    }

    async fn name(&self) -> &str {
        &self.name
    }

    /// The name without the county, e.g. 公安局.
    async fn short_name(&self) -> &str {
        &self.short_name
    }

    async fn kind(&self) -> DepartmentKind {
        self.kind
    }

    async fn county(&self, ctx: &Context<'_>) -> Result<Option<Jurisdiction>> {
        resolve::jurisdiction(ctx, &self.county_code).await
    }

    /// The protocol its system speaks: rest, sql or open311.
    async fn connector(&self) -> &str {
        &self.connector
    }

    /// Its summonses, by next deadline: the department's work queue (报到, then act).
    #[graphql(complexity = "crate::graphql::connection::page_cost(first, None, child_complexity)")]
    async fn summonses(
        &self,
        ctx: &Context<'_>,
        filter: Option<crate::graphql::queues::SummonsFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<crate::graphql::connection::QueueConnection<crate::workflow::Summons>> {
        let paging = crate::graphql::connection::Paging {
            first,
            after,
            ..Default::default()
        };
        crate::graphql::queues::summonses(ctx, Some(self.code.clone()), filter, paging).await
    }
}
