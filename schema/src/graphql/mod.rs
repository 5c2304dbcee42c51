//! The one GraphQL schema. The gateway builds it once with [`build_schema`] and gives each
//! request its own [`Loaders`], built for the caller's scope.

mod audit;
mod batching;
mod checks;
mod collection;
mod connection;
mod disputes;
mod documents;
mod execution;
mod federated;
mod figures;
mod filters;
mod ids;
mod loaders;
mod objects;
mod order;
mod query;
mod queues;
mod resolve;
mod selected;
mod shape;
mod subscription;
mod workflow;

use std::sync::Arc;

use async_graphql::Schema;
use connectors::Federation;

pub use audit::AuditTrail;
pub use connection::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use documents::Documents;
pub use execution::GovSchema;
pub use federated::catalog;
pub use filters::{Circle, EventFilter};
pub use loaders::{Loaders, RequestLoaders};
pub use query::QueryRoot;
pub use subscription::{Resume, SubscriptionRoot, YieldedCursors, timeline_cursor};
pub use workflow::MutationRoot;

use crate::store::Store;

/// What a query may cost before it runs.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    /// Deepest selection nesting.
    pub max_depth: usize,
    /// async-graphql's complexity score.
    pub max_complexity: usize,
    /// Fields selected once fragments are expanded, `__typename` included.
    pub max_selections: usize,
    /// Bytes of the document's text.
    pub max_document_bytes: usize,
    /// Lexical tokens of the document.
    pub max_tokens: usize,
    /// Fields selected under another name.
    pub max_aliases: usize,
    /// Fields at the root of an operation.
    pub max_root_fields: usize,
    /// Times one field (one response key) may be selected in one selection set.
    pub max_field_repeats: usize,
    /// Directives in the document.
    pub max_directives: usize,
    /// Bytes of the variables, as JSON.
    pub max_variables_bytes: usize,
    /// Whether the schema answers introspection (and validation errors suggest names).
    pub introspection: bool,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_depth: 15,
            max_complexity: 50_000,
            max_selections: 1_000,
            max_document_bytes: 32 * 1024,
            max_tokens: 5_000,
            max_aliases: 50,
            max_root_fields: 20,
            max_field_repeats: 10,
            max_directives: 50,
            max_variables_bytes: 64 * 1024,
            introspection: false,
        }
    }
}

/// The schema over `store` (the platform's own data) and `federation` (the departments').
pub fn build_schema(store: Store, federation: Arc<Federation>, limits: QueryLimits) -> GovSchema {
    let builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .data(store)
    .data(federation)
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity);
    let schema = if limits.introspection {
        builder.finish()
    } else {
        // Suggestions ("Did you mean …") would tell the schema introspection does not.
        builder
            .disable_introspection()
            .disable_suggestions()
            .finish()
    };
    GovSchema::new(schema, limits)
}
