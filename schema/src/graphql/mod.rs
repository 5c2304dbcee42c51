//! The one GraphQL schema. The gateway builds it once with [`build_schema`] and gives each
//! request its own [`Loaders`], built for the caller's scope.

mod audit;
mod checks;
mod connection;
mod federated;
mod filters;
mod ids;
mod loaders;
mod objects;
mod query;
mod resolve;
mod selected;
mod subscription;
mod workflow;

use std::sync::Arc;

use async_graphql::Schema;
use connectors::Federation;

pub use audit::AuditTrail;
pub use connection::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use federated::catalog;
pub use loaders::{DEFAULT_BATCH_WINDOW, Loaders, RequestLoaders};
pub use query::QueryRoot;
pub use subscription::SubscriptionRoot;
pub use workflow::MutationRoot;

use crate::store::Store;

pub type GovSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// What a query may cost before it runs.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    /// Deepest selection nesting.
    pub max_depth: usize,
    /// async-graphql's complexity score.
    pub max_complexity: usize,
    /// Fields selected once fragments are expanded, `__typename` included.
    pub max_selections: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_depth: 15,
            max_complexity: 50_000,
            max_selections: 1_000,
        }
    }
}

/// The schema over `store` (the platform's own data) and `federation` (the departments').
pub fn build_schema(store: Store, federation: Arc<Federation>, limits: QueryLimits) -> GovSchema {
    Schema::build(QueryRoot, MutationRoot, SubscriptionRoot)
        .data(store)
        .data(federation)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .extension(checks::RequestChecks {
            max_selections: limits.max_selections,
        })
        .extension(audit::AuditWriter)
        .finish()
}
