use async_graphql::{ID, Interface};

use crate::model::{Department, Event, Jurisdiction, Organization, Person, Place, Staff, Thing};
use crate::workflow::Summons;

/// Anything with a global id, fetchable with `node(id:)`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    Jurisdiction(Jurisdiction),
    Department(Department),
    Person(Person),
    Place(Place),
    Thing(Thing),
    Organization(Organization),
    Event(Event),
    Summons(Summons),
    Staff(Staff),
}
