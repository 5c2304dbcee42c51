//! The governance domain and its one GraphQL schema over the five elements (people,
//! places, things, organizations, events), with the PostgreSQL store of the platform's
//! own data. Knows nothing of HTTP: the gateway serves what [`build_schema`] returns.

pub mod access;
pub mod enums;
pub mod error;
pub mod graphql;
pub mod identifiers;
pub mod model;
pub mod store;
pub mod workflow;

pub use graphql::{
    AuditTrail, Documents, GovSchema, Loaders, QueryLimits, RequestLoaders, build_schema, catalog,
};
pub use store::{Store, StoreError};

/// The migrations under `migrations/`, embedded.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");
