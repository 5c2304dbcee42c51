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

pub use node::Node;
pub use staff::Team;
