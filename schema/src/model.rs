//! The platform's own records, as the store reads them. GraphQL objects are implemented
//! on these types in `graphql/`.

use chrono::{DateTime, NaiveDate, Utc};

use crate::enums::*;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Jurisdiction {
    pub code: String,
    pub name: String,
    pub level: JurisdictionLevel,
    pub kind: JurisdictionKind,
    pub parent_code: Option<String>,
    pub prefix: String,
    pub depth: i16,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Department {
    pub code: String,
    pub name: String,
    pub short_name: String,
    pub kind: DepartmentKind,
    pub county_code: String,
    pub connector: String,
}

/// A person who acts: a member of a grid's team or a department's officer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Staff {
    pub id: i64,
    pub name: String,
    pub role: StaffRole,
    pub unit: String,
    pub department_code: Option<String>,
    pub jurisdiction_code: String,
    pub phone: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub gender: Gender,
    pub birth_date: NaiveDate,
    pub id_number: String,
    pub phone: Option<String>,
    pub residence_place_id: Option<i64>,
    pub jurisdiction_code: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Place {
    pub id: i64,
    pub name: String,
    pub kind: PlaceKind,
    pub address: String,
    pub jurisdiction_code: String,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Thing {
    pub id: i64,
    pub name: String,
    pub kind: ThingKind,
    pub identifier: String,
    pub place_id: Option<i64>,
    /// Who owns it: a person or an organization.
    pub owner_id: Option<i64>,
    pub jurisdiction_code: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Organization {
    pub id: i64,
    pub name: String,
    pub kind: OrganizationKind,
    pub credit_code: String,
    pub place_id: Option<i64>,
    /// Struck off the register (注销), as market supervision's feed says.
    pub deregistered_on: Option<NaiveDate>,
    pub jurisdiction_code: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Event {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub category: EventCategory,
    pub channel: EventChannel,
    pub urgency: Urgency,
    pub status: EventStatus,
    pub reporter_id: Option<i64>,
    pub place_id: Option<i64>,
    pub jurisdiction_code: String,
    /// The level handling it, once escalated (its grid's township before).
    pub handling_code: Option<String>,
    pub resolution_tier: Option<ResolutionTier>,
    /// Where a dispute is now: window, mediation or court.
    pub tier: ResolutionTier,
    pub satisfaction: Option<i16>,
    pub reported_at: DateTime<Utc>,
    /// When it was first accepted (受理).
    pub accepted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Photo URLs the reporter took.
    pub photos: Vec<String>,
    /// When the watcher found its own deadline passed (督办), once.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Times it was urged (催办), and reopened for rework (重办).
    pub urges: i32,
    pub reworks: i32,
    /// The person named in charge (交办 to a person).
    pub assignee_id: Option<i64>,
    /// Where the reporter was, when the terminal said.
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    /// Its parties, when the list it came from read them in the same statement (see
    /// [`crate::store::ListQuery::parties`]); `None` when they are still to load.
    #[sqlx(skip)]
    pub parties: Option<std::sync::Arc<[EventParty]>>,
}

/// One person or organization an event concerns.
#[derive(Debug, Clone)]
pub struct EventParty {
    pub event_id: i64,
    pub position: i16,
    pub role: PartyRole,
    pub person_id: Option<i64>,
    pub organization_id: Option<i64>,
    /// The party itself, read in the same statement; absent when it lies outside the
    /// reader's scope. Shared: the party's field and its list hand it on without copies.
    pub person: Option<std::sync::Arc<Person>>,
    pub organization: Option<std::sync::Arc<Organization>>,
}

/// A person's role in an organization.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Membership {
    pub organization_id: i64,
    pub person_id: i64,
    pub role: OrganizationRole,
}

/// A department system holding a record on an entity.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntityLink {
    pub entity_id: i64,
    pub department_code: String,
    pub source_id: String,
}
