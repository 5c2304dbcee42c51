use async_graphql::{ComplexObject, Context, Result, SimpleObject};
use chrono::{DateTime, Utc};

use crate::graphql::resolve;
use crate::model::Department;

/// Where a federated value came from: provenance is part of the answer.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct Source {
    #[graphql(skip)]
    pub department_code: String,
    /// The record's id in the department's own system.
    pub source_id: String,
    /// When the department answered with this record.
    pub fetched_at: DateTime<Utc>,
    /// Served from the gateway's cache rather than asked for by this request.
    pub cached: bool,
    /// Served from the cache past its TTL because the department failed just now.
    pub stale: bool,
}

#[ComplexObject]
impl Source {
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        resolve::department(ctx, &self.department_code).await
    }
}
