//! The GraphQL object types, implemented on the store's records.

mod department;
mod event;
mod jurisdiction;
mod node;
mod organization;
mod person;
mod place;
mod record;
mod staff;
mod thing;

pub(crate) use event::FIELD_COLUMNS as EVENT_FIELD_COLUMNS;
pub use node::Node;
pub use staff::Team;
