use async_graphql::{Context, Object, Result};

use crate::graphql::resolve::{self, loaders, store_error};
use crate::model::{Department, EntityLink};

/// A record a department system holds on an entity, under the department's own id.
#[Object(name = "DepartmentRecord")]
impl EntityLink {
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        resolve::department(ctx, &self.department_code).await
    }

    /// The record's id in the department's own system.
    async fn source_id(&self) -> &str {
        &self.source_id
    }
}

pub async fn records(
    ctx: &Context<'_>,
    element: connectors::Element,
    entity_id: i64,
) -> Result<Vec<EntityLink>> {
    Ok(loaders(ctx)?
        .links
        .of(element)
        .load_one(entity_id)
        .await
        .map_err(store_error)?
        .unwrap_or_default())
}
