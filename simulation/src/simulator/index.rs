//! What the simulated departments know: derived from the seed's data set, generated
//! again in memory, so that every department's records line up with the gateway's index
//! (same ids, names, ID numbers) and the same seed gives the same answers.

use std::collections::HashMap;

use chrono::NaiveDate;
use connectors::Element;

use crate::seed::SeedOptions;
use crate::seed::in_memory::{self, DataSet, Table};

/// One record a department holds, with what the index says about its subject. (Rows of
/// the same shape can be read from a seeded database, as the tests do to check both agree.)
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Facts {
    pub department_code: String,
    pub source_id: String,
    pub entity_id: i64,
    /// The county (first six digits of the jurisdiction code).
    pub county: String,
    pub jurisdiction_code: String,
    /// A person's, place's, thing's or organization's name; an event's title.
    pub name: String,
    /// PlaceKind, ThingKind, OrganizationKind or EventCategory, as GraphQL spells it.
    pub kind: String,
    /// Persons: MALE / FEMALE.
    pub gender: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    /// A person's residence, a place's own address, a thing's or organization's premises.
    pub address: Option<String>,
    /// Things: the identifier (plate number, register code).
    pub identifier: Option<String>,
    /// Organizations: 统一社会信用代码.
    pub credit_code: Option<String>,
    /// Organizations: the legal representative's name.
    pub representative: Option<String>,
    /// Events: the day reported; others: the day entered in the index.
    pub date: NaiveDate,
    /// Events: EventStatus.
    pub status: Option<String>,
    /// Events: ResolutionTier.
    pub tier: Option<String>,
    /// Events: the first applicant's name.
    pub party: Option<String>,
}

/// The tables and columns the simulator reads of the data set.
const WANTED: &[(&str, &[&str])] = &[
    ("jurisdictions", &["code", "name", "level", "parent_code"]),
    (
        "places",
        &[
            "id",
            "name",
            "kind",
            "address",
            "jurisdiction_code",
            "longitude",
            "latitude",
            "created_at",
        ],
    ),
    (
        "persons",
        &[
            "id",
            "name",
            "gender",
            "birth_date",
            "id_number",
            "phone",
            "residence_place_id",
            "jurisdiction_code",
            "created_at",
        ],
    ),
    (
        "things",
        &[
            "id",
            "name",
            "kind",
            "identifier",
            "place_id",
            "jurisdiction_code",
            "created_at",
        ],
    ),
    (
        "organizations",
        &[
            "id",
            "name",
            "kind",
            "credit_code",
            "place_id",
            "jurisdiction_code",
            "created_at",
        ],
    ),
    (
        "organization_members",
        &["organization_id", "person_id", "role"],
    ),
    (
        "events",
        &[
            "id",
            "title",
            "category",
            "status",
            "place_id",
            "jurisdiction_code",
            "resolution_tier",
            "reported_at",
        ],
    ),
    (
        "event_parties",
        &["event_id", "position", "role", "person_id"],
    ),
    (
        "entity_links",
        &["entity_id", "department_code", "source_id"],
    ),
    ("event_links", &["event_id", "department_code", "source_id"]),
];

/// The data set of `options`, as far as the simulator needs it. Blocks for as long as the
/// generator runs (seconds at the small scale).
pub fn data_set(options: SeedOptions) -> DataSet {
    in_memory::data_set(options, WANTED)
}

/// The codes of the grids of a county, in code order.
pub fn grids(data: &DataSet, county: &str) -> Vec<String> {
    let jurisdictions = data.table("jurisdictions");
    let (code, level) = (jurisdictions.column("code"), jurisdictions.column("level"));
    jurisdictions
        .rows()
        .iter()
        .filter(|row| level.of(row) == Some("GRID"))
        .filter_map(|row| code.of(row))
        .filter(|code| code.starts_with(county))
        .map(str::to_owned)
        .collect()
}

/// A table's rows by id.
type ById<'a> = HashMap<i64, &'a [Option<String>]>;

fn by_id(table: &Table) -> ById<'_> {
    let id = table.column("id");
    table
        .rows()
        .iter()
        .filter_map(|row| Some((id.id(row)?, row.as_slice())))
        .collect()
}

/// The day of a timestamp written in Beijing time (`2024-11-01 08:00:00+08`).
fn day(text: Option<&str>) -> NaiveDate {
    text.and_then(|t| t.get(..10))
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .unwrap_or_default()
}

fn owned(text: Option<&str>) -> Option<String> {
    text.map(str::to_owned)
}

/// Every record of every department, by element, in a stable order (by department and
/// source id within each element).
pub fn facts(data: &DataSet) -> Vec<(Element, Facts)> {
    let places = data.table("places");
    let persons = data.table("persons");
    let things = data.table("things");
    let organizations = data.table("organizations");
    let events = data.table("events");
    let place_rows = by_id(places);
    let person_rows = by_id(persons);
    let address_of = |place: Option<i64>| {
        place
            .and_then(|id| place_rows.get(&id))
            .and_then(|row| owned(places.column("address").of(row)))
    };
    let person_name = |person: Option<i64>| {
        person
            .and_then(|id| person_rows.get(&id))
            .and_then(|row| owned(persons.column("name").of(row)))
    };

    // The first legal representative (by person id) of each organization.
    let members = data.table("organization_members");
    let mut representatives: HashMap<i64, i64> = HashMap::new();
    let (organization, person, role) = (
        members.column("organization_id"),
        members.column("person_id"),
        members.column("role"),
    );
    for row in members.rows() {
        if role.of(row) != Some("LEGAL_REPRESENTATIVE") {
            continue;
        }
        if let (Some(o), Some(p)) = (organization.id(row), person.id(row)) {
            let first = representatives.entry(o).or_insert(p);
            *first = (*first).min(p);
        }
    }
    // The first applicant (by position) of each event.
    let parties = data.table("event_parties");
    let mut applicants: HashMap<i64, (i64, i64)> = HashMap::new();
    let (event, position, role, person) = (
        parties.column("event_id"),
        parties.column("position"),
        parties.column("role"),
        parties.column("person_id"),
    );
    for row in parties.rows() {
        if role.of(row) != Some("APPLICANT") {
            continue;
        }
        if let (Some(e), Some(at), Some(p)) = (event.id(row), position.id(row), person.id(row)) {
            let first = applicants.entry(e).or_insert((at, p));
            if at < first.0 {
                *first = (at, p);
            }
        }
    }

    let entity_tables = [
        (Element::Person, persons),
        (Element::Place, places),
        (Element::Thing, things),
        (Element::Organization, organizations),
    ];
    let entities: Vec<(Element, &Table, ById<'_>)> = entity_tables
        .into_iter()
        .map(|(element, table)| (element, table, by_id(table)))
        .collect();
    let event_rows = by_id(events);

    let mut all = Vec::new();
    for (element, table, rows) in &entities {
        let links = data.table("entity_links");
        let mut found = linked(links, "entity_id", |id| rows.get(&id).copied());
        found.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let column = |name: &str, row: &[Option<String>]| owned(table.column(name).of(row));
        for (department_code, source_id, entity_id, row) in found {
            let jurisdiction_code = column("jurisdiction_code", row).unwrap_or_default();
            let place = table.column("place_id").id(row);
            let mut facts = Facts {
                department_code,
                source_id,
                entity_id,
                county: jurisdiction_code.get(..6).unwrap_or_default().to_owned(),
                name: column("name", row).unwrap_or_default(),
                kind: column("kind", row).unwrap_or_else(|| "PERSON".to_owned()),
                jurisdiction_code,
                gender: None,
                birth_date: None,
                id_number: None,
                phone: None,
                address: None,
                identifier: None,
                credit_code: None,
                representative: None,
                date: day(table.column("created_at").of(row)),
                status: None,
                tier: None,
                party: None,
            };
            match element {
                Element::Person => {
                    facts.gender = column("gender", row);
                    facts.birth_date = table
                        .column("birth_date")
                        .of(row)
                        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
                    facts.id_number = column("id_number", row);
                    facts.phone = column("phone", row);
                    facts.address = address_of(table.column("residence_place_id").id(row));
                }
                Element::Place => facts.address = column("address", row),
                Element::Thing => {
                    facts.identifier = column("identifier", row);
                    facts.address = address_of(place);
                }
                Element::Organization => {
                    facts.credit_code = column("credit_code", row);
                    facts.address = address_of(place);
                    facts.representative = person_name(representatives.get(&entity_id).copied());
                }
                Element::Event => {}
            }
            all.push((*element, facts));
        }
    }

    let mut found = linked(data.table("event_links"), "event_id", |id| {
        event_rows.get(&id).copied()
    });
    found.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let column = |name: &str, row: &[Option<String>]| owned(events.column(name).of(row));
    for (department_code, source_id, event_id, row) in found {
        let jurisdiction_code = column("jurisdiction_code", row).unwrap_or_default();
        all.push((
            Element::Event,
            Facts {
                department_code,
                source_id,
                entity_id: event_id,
                county: jurisdiction_code.get(..6).unwrap_or_default().to_owned(),
                name: column("title", row).unwrap_or_default(),
                kind: column("category", row).unwrap_or_default(),
                jurisdiction_code,
                gender: None,
                birth_date: None,
                id_number: None,
                phone: None,
                address: address_of(events.column("place_id").id(row)),
                identifier: None,
                credit_code: None,
                representative: None,
                date: day(events.column("reported_at").of(row)),
                status: column("status", row),
                tier: column("resolution_tier", row),
                party: person_name(applicants.get(&event_id).map(|(_, p)| *p)),
            },
        ));
    }
    all
}

/// The links whose subject `subject` finds: (department, source id, id, subject's row).
fn linked<'a>(
    links: &Table,
    id_column: &str,
    subject: impl Fn(i64) -> Option<&'a [Option<String>]>,
) -> Vec<(String, String, i64, &'a [Option<String>])> {
    let (id, department, source) = (
        links.column(id_column),
        links.column("department_code"),
        links.column("source_id"),
    );
    links
        .rows()
        .iter()
        .filter_map(|row| {
            let entity = id.id(row)?;
            Some((
                department.of(row)?.to_owned(),
                source.of(row)?.to_owned(),
                entity,
                subject(entity)?,
            ))
        })
        .collect()
}
