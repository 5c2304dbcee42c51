//! Where each entity type lives in the database.

use super::{ColumnSet, Columns, Entity, Position};
use crate::model::{Event, EventParty, Organization, Person, Place, Thing};

/// An entity's selected columns and its decoding from them, from one list of its fields:
/// the select list and the order the fields are read in cannot drift apart. The first
/// field is the id, always read; a field whose column a [`ColumnSet`] leaves out starts as
/// its default. Fields after `;` are not columns: they start as their default.
macro_rules! columns {
    ($first:ident $(, $rest:ident)* $(,)? $(; $($other:ident),+)?) => {
        const COLUMNS: &'static str = concat!("t.", stringify!($first) $(, ", t.", stringify!($rest))*);
        const NAMES: &'static [&'static str] = &[stringify!($first) $(, stringify!($rest))*];

        fn decode_some(columns: &mut Columns<'_, '_>, read: ColumnSet) -> Result<Self, sqlx::Error> {
            let mut index = 0;
            let mut next = || {
                index += 1;
                read.reads(index)
            };
            // Fields are evaluated in the order written: the order of `COLUMNS`.
            Ok(Self {
                $first: columns.read()?,
                $($rest: if next() { columns.read()? } else { Default::default() },)*
                $($($other: Default::default(),)+)?
            })
        }
    };
}

impl Entity for Person {
    const POSITION: Position = Position::AtPlace("residence_place_id");
    const TABLE: &'static str = "persons";
    columns!(
        id,
        name,
        gender,
        birth_date,
        id_number,
        phone,
        residence_place_id,
        jurisdiction_code,
        created_at
    );
    const NAME_COLUMN: &'static str = "name";
    const TIME_COLUMN: &'static str = "created_at";

    fn id(&self) -> i64 {
        self.id
    }
}

impl Entity for Place {
    const POSITION: Position = Position::Own;
    const TABLE: &'static str = "places";
    columns!(
        id,
        name,
        kind,
        address,
        jurisdiction_code,
        longitude,
        latitude,
        created_at
    );
    const NAME_COLUMN: &'static str = "name";
    const TIME_COLUMN: &'static str = "created_at";

    fn id(&self) -> i64 {
        self.id
    }
}

impl Entity for Thing {
    const POSITION: Position = Position::AtPlace("place_id");
    const TABLE: &'static str = "things";
    columns!(
        id,
        name,
        kind,
        identifier,
        place_id,
        owner_id,
        jurisdiction_code,
        created_at
    );
    const NAME_COLUMN: &'static str = "name";
    const TIME_COLUMN: &'static str = "created_at";

    fn id(&self) -> i64 {
        self.id
    }
}

impl Entity for Organization {
    const POSITION: Position = Position::AtPlace("place_id");
    const TABLE: &'static str = "organizations";
    columns!(
        id,
        name,
        kind,
        credit_code,
        place_id,
        deregistered_on,
        jurisdiction_code,
        created_at
    );
    const NAME_COLUMN: &'static str = "name";
    const TIME_COLUMN: &'static str = "created_at";

    fn id(&self) -> i64 {
        self.id
    }
}

impl Entity for Event {
    const POSITION: Position = Position::OwnOrPlace;
    const TABLE: &'static str = "events";
    columns!(
        id,
        title,
        description,
        category,
        channel,
        urgency,
        status,
        reporter_id,
        place_id,
        jurisdiction_code,
        resolution_tier,
        tier,
        satisfaction,
        reported_at,
        accepted_at,
        updated_at,
        due_at,
        resolved_at,
        closed_at,
        handling_code,
        photos,
        overdue_at,
        urges,
        reworks,
        assignee_id,
        longitude,
        latitude;
        parties
    );
    const NAME_COLUMN: &'static str = "title";
    const TIME_COLUMN: &'static str = "reported_at";
    const SUMMONED: bool = true;
    const HAS_PARTIES: bool = true;

    fn id(&self) -> i64 {
        self.id
    }

    fn keep_parties(&mut self, parties: Vec<EventParty>) {
        self.parties = Some(parties.into());
    }
}
