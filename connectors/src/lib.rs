//! The department side of the gateway: how the 96 department systems are reached.
//!
//! Every call into a department system carries the caller's [`Scope`], so that access
//! rules are a value passed down from the request, never a filter added afterwards.
//! Connector kinds are protocols (`rest`, `sql`, `open311`); a department is configuration
//! ([`config`]), checked against the schema's [`catalog`] of federated fields.

mod cache;
pub mod catalog;
pub mod config;
mod department;
mod element;
mod federation;
mod feed;
mod kind;
mod mapping;
pub mod open311;
pub mod operations;
pub mod redis_link;
pub mod resilience;
mod rest;
mod scope;
mod sql;
mod upstream;
mod writer;

pub use cache::Cache;
pub use department::{BuildError, Department, DepartmentError, Failure, Fetched, Slot};
pub use element::Element;
pub use federation::{Federation, Provider};
pub use feed::{FeedChange, FeedPage};
pub use kind::{ConnectorKind, UnknownConnectorKind};
pub use mapping::BadRecord;
pub use open311::{Hotline, Open311BuildError, Open311Error};
pub use scope::{PersonalData, Scope, mask, mask_keeping, subtree_prefix};
pub use upstream::UpstreamError;
