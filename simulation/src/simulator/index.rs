//! What the simulated departments know: read from the gateway's entity index, which the
//! seed generated, so that every department's records line up with the index (same ids,
//! names, ID numbers) and the same seed gives the same answers.

use chrono::NaiveDate;
use sqlx::PgPool;

use connectors::Element;

/// One record a department holds, with what the index says about its subject.
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

const PERSONS: &str = "
    SELECT l.department_code, l.source_id, p.id AS entity_id,
           left(p.jurisdiction_code, 6) AS county, p.jurisdiction_code, p.name,
           'PERSON' AS kind, p.gender, p.birth_date, p.id_number, p.phone,
           r.address, NULL::text AS identifier, NULL::text AS credit_code,
           NULL::text AS representative, (p.created_at AT TIME ZONE 'Asia/Shanghai')::date AS date,
           NULL::text AS status, NULL::text AS tier, NULL::text AS party
    FROM entity_links l JOIN persons p ON p.id = l.entity_id
    LEFT JOIN places r ON r.id = p.residence_place_id
    ORDER BY l.department_code, l.source_id";

const PLACES: &str = "
    SELECT l.department_code, l.source_id, p.id AS entity_id,
           left(p.jurisdiction_code, 6) AS county, p.jurisdiction_code, p.name, p.kind,
           NULL::text AS gender, NULL::date AS birth_date, NULL::text AS id_number,
           NULL::text AS phone, p.address, NULL::text AS identifier, NULL::text AS credit_code,
           NULL::text AS representative, (p.created_at AT TIME ZONE 'Asia/Shanghai')::date AS date,
           NULL::text AS status, NULL::text AS tier, NULL::text AS party
    FROM entity_links l JOIN places p ON p.id = l.entity_id
    ORDER BY l.department_code, l.source_id";

const THINGS: &str = "
    SELECT l.department_code, l.source_id, t.id AS entity_id,
           left(t.jurisdiction_code, 6) AS county, t.jurisdiction_code, t.name, t.kind,
           NULL::text AS gender, NULL::date AS birth_date, NULL::text AS id_number,
           NULL::text AS phone, p.address, t.identifier, NULL::text AS credit_code,
           NULL::text AS representative, (t.created_at AT TIME ZONE 'Asia/Shanghai')::date AS date,
           NULL::text AS status, NULL::text AS tier, NULL::text AS party
    FROM entity_links l JOIN things t ON t.id = l.entity_id
    LEFT JOIN places p ON p.id = t.place_id
    ORDER BY l.department_code, l.source_id";

const ORGANIZATIONS: &str = "
    SELECT l.department_code, l.source_id, o.id AS entity_id,
           left(o.jurisdiction_code, 6) AS county, o.jurisdiction_code, o.name, o.kind,
           NULL::text AS gender, NULL::date AS birth_date, NULL::text AS id_number,
           NULL::text AS phone, p.address, NULL::text AS identifier, o.credit_code,
           (SELECT r.name FROM organization_members m JOIN persons r ON r.id = m.person_id
             WHERE m.organization_id = o.id AND m.role = 'LEGAL_REPRESENTATIVE'
             ORDER BY r.id LIMIT 1) AS representative,
           (o.created_at AT TIME ZONE 'Asia/Shanghai')::date AS date,
           NULL::text AS status, NULL::text AS tier, NULL::text AS party
    FROM entity_links l JOIN organizations o ON o.id = l.entity_id
    LEFT JOIN places p ON p.id = o.place_id
    ORDER BY l.department_code, l.source_id";

const EVENTS: &str = "
    SELECT l.department_code, l.source_id, e.id AS entity_id,
           left(e.jurisdiction_code, 6) AS county, e.jurisdiction_code, e.title AS name,
           e.category AS kind, NULL::text AS gender, NULL::date AS birth_date,
           NULL::text AS id_number, NULL::text AS phone, p.address, NULL::text AS identifier,
           NULL::text AS credit_code, NULL::text AS representative,
           (e.reported_at AT TIME ZONE 'Asia/Shanghai')::date AS date,
           e.status, e.resolution_tier AS tier,
           (SELECT r.name FROM event_parties ep JOIN persons r ON r.id = ep.person_id
             WHERE ep.event_id = e.id AND ep.role = 'APPLICANT'
             ORDER BY ep.position LIMIT 1) AS party
    FROM event_links l JOIN events e ON e.id = l.event_id
    LEFT JOIN places p ON p.id = e.place_id
    ORDER BY l.department_code, l.source_id";

/// Every record of every department, by element, in a stable order.
pub async fn load(index: &PgPool) -> Result<Vec<(Element, Facts)>, sqlx::Error> {
    let mut all = Vec::new();
    for (element, query) in [
        (Element::Person, PERSONS),
        (Element::Place, PLACES),
        (Element::Thing, THINGS),
        (Element::Organization, ORGANIZATIONS),
        (Element::Event, EVENTS),
    ] {
        let rows: Vec<Facts> = sqlx::query_as(query).fetch_all(index).await?;
        all.extend(rows.into_iter().map(|facts| (element, facts)));
    }
    Ok(all)
}
