//! The department side of the gateway: how the 96 department systems are reached.
//!
//! Every call into a department system carries the caller's [`Scope`], so that access
//! rules are a value passed down from the request, never a filter added afterwards.
//! Connector kinds are protocols (`rest`, `sql`, `open311`); a department is configuration.

mod kind;
pub mod resilience;
mod scope;

pub use kind::{ConnectorKind, UnknownConnectorKind};
pub use scope::{PersonalData, Scope, subtree_prefix};
