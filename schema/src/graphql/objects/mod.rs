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
pub(crate) use organization::FIELD_COLUMNS as ORGANIZATION_FIELD_COLUMNS;
pub(crate) use person::FIELD_COLUMNS as PERSON_FIELD_COLUMNS;
pub use staff::Team;
