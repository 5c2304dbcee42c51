//! Where each entity type lives in the database.

use super::{Entity, Position};
use crate::model::{Event, Organization, Person, Place, Thing};

impl Entity for Person {
    const POSITION: Position = Position::AtPlace("residence_place_id");
    const TABLE: &'static str = "persons";
    const COLUMNS: &'static str = "t.id, t.name, t.gender, t.birth_date, t.id_number, t.phone, \
        t.residence_place_id, t.jurisdiction_code, t.created_at";
    const NAME_COLUMN: &'static str = "name";
    const TIME_COLUMN: &'static str = "created_at";

    fn id(&self) -> i64 {
        self.id
    }
}

impl Entity for Place {
    const POSITION: Position = Position::Own;
    const TABLE: &'static str = "places";
    const COLUMNS: &'static str = "t.id, t.name, t.kind, t.address, t.jurisdiction_code, \
        t.longitude, t.latitude, t.created_at";
    const NAME_COLUMN: &'static str = "name";
    const TIME_COLUMN: &'static str = "created_at";

    fn id(&self) -> i64 {
        self.id
    }
}

impl Entity for Thing {
    const POSITION: Position = Position::AtPlace("place_id");
    const TABLE: &'static str = "things";
    const COLUMNS: &'static str = "t.id, t.name, t.kind, t.identifier, t.place_id, t.owner_id, t.jurisdiction_code, t.created_at";
    const NAME_COLUMN: &'static str = "name";
    const TIME_COLUMN: &'static str = "created_at";

    fn id(&self) -> i64 {
        self.id
    }
}

impl Entity for Organization {
    const POSITION: Position = Position::AtPlace("place_id");
    const TABLE: &'static str = "organizations";
    const COLUMNS: &'static str = "t.id, t.name, t.kind, t.credit_code, t.place_id, t.deregistered_on, t.jurisdiction_code, t.created_at";
    const NAME_COLUMN: &'static str = "name";
    const TIME_COLUMN: &'static str = "created_at";

    fn id(&self) -> i64 {
        self.id
    }
}

impl Entity for Event {
    const POSITION: Position = Position::OwnOrPlace;
    const TABLE: &'static str = "events";
    const COLUMNS: &'static str = "t.id, t.title, t.description, t.category, t.channel, \
        t.urgency, t.status, t.reporter_id, t.place_id, t.jurisdiction_code, t.resolution_tier, t.tier, \
        t.satisfaction, t.reported_at, t.accepted_at, t.updated_at, t.due_at, t.resolved_at, t.closed_at, \
        t.handling_code, t.photos, t.overdue_at, t.urges, t.reworks, t.assignee_id, \
        t.longitude, t.latitude";
    const NAME_COLUMN: &'static str = "title";
    const TIME_COLUMN: &'static str = "reported_at";
    const SUMMONED: bool = true;

    fn id(&self) -> i64 {
        self.id
    }
}
