//! What the workflow reads and writes: timeline entries, summonses, new events, and the
//! arguments of its changes.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::enums::{EventCategory, EventChannel, SummonsStatus, TimelineKind, Urgency};

/// What a workflow mutation did: the event, and the timeline entries it appended
/// (`replayed` when the idempotency key had been seen and nothing was done again).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub event_id: i64,
    pub entries: Vec<TimelineEntry>,
    pub replayed: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TimelineEntry {
    pub id: i64,
    /// Where the entry stands in commit order: its cursor. Given just after commit (see
    /// `super::ordering`); readers see only entries that have one.
    pub position: Option<i64>,
    pub event_id: i64,
    pub summons_id: Option<i64>,
    pub kind: TimelineKind,
    pub actor: String,
    pub actor_role: String,
    pub actor_department: Option<String>,
    pub department_code: Option<String>,
    pub jurisdiction_code: String,
    pub state_before: Option<String>,
    pub state_after: Option<String>,
    pub detail: Value,
    pub at: DateTime<Utc>,
}

pub(super) const TIMELINE_COLUMNS: &str = "id, position, event_id, summons_id, kind, actor, actor_role, actor_department, \
     department_code, jurisdiction_code, state_before, state_after, detail, at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Summons {
    pub id: i64,
    pub whistle_id: i64,
    pub event_id: i64,
    /// Whom it summons: a department, a grid's team, or one person — exactly one.
    pub department_code: Option<String>,
    pub team_grid: Option<String>,
    pub staff_id: Option<i64>,
    pub status: SummonsStatus,
    pub report_in_due_at: DateTime<Utc>,
    pub handling_due_at: DateTime<Utc>,
    pub reported_in_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub decline_reason: Option<String>,
    pub extension_until: Option<DateTime<Utc>>,
    pub extension_reason: Option<String>,
    pub feedback: Option<String>,
    /// Times the deadline watcher found it late, and times it was urged (催办).
    pub overdue_marks: i32,
    pub urges: i32,
    /// Extensions granted (延期).
    pub extensions: i32,
}

pub(super) const SUMMONS_COLUMNS: &str = "id, whistle_id, event_id, department_code, team_grid, staff_id, \
     status, report_in_due_at, \
     handling_due_at, reported_in_at, done_at, decline_reason, extension_until, extension_reason, feedback, \
     overdue_marks, urges, extensions";

/// What a grid worker's terminal reports.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub title: String,
    pub description: String,
    pub category: EventCategory,
    pub channel: EventChannel,
    pub urgency: Urgency,
    pub jurisdiction_code: String,
    pub place_id: Option<i64>,
    pub reporter_id: Option<i64>,
    pub party_ids: Vec<i64>,
    pub photos: Vec<String>,
    /// Photos uploaded with the report.
    pub photo_files: Vec<super::PhotoFile>,
    /// Where the reporter was (longitude, latitude), within the city.
    pub position: Option<(f64, f64)>,
}

/// The decisions on an event that carry only a note (accepting) or a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Reject,
    /// 退回: back to the reporting level.
    Return,
    /// To the level above.
    Escalate,
}

/// Whom a whistle summons, with the deadlines (defaults by the event's urgency).
#[derive(Debug, Clone)]
pub struct Summon {
    pub addressee: Addressee,
    pub report_in_due_at: Option<DateTime<Utc>>,
    pub handling_due_at: Option<DateTime<Utc>>,
}

/// Whom a summons is addressed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addressee {
    Department(String),
    /// A grid's 法官进网格 team, by the grid's code.
    Team(String),
    Staff(i64),
}

impl Addressee {
    /// How messages and the timeline name it: `220422-XJ`, `team 220422001001001`,
    /// `staff 17`.
    pub fn label(&self) -> String {
        match self {
            Self::Department(code) => code.clone(),
            Self::Team(grid) => format!("team {grid}"),
            Self::Staff(id) => format!("staff {id}"),
        }
    }
}

impl Summons {
    pub fn addressee(&self) -> Addressee {
        match (&self.department_code, &self.team_grid, self.staff_id) {
            (Some(code), ..) => Addressee::Department(code.clone()),
            (None, Some(grid), _) => Addressee::Team(grid.clone()),
            (None, None, Some(id)) => Addressee::Staff(id),
            // The table's CHECK makes this unreachable.
            (None, None, None) => Addressee::Department(String::new()),
        }
    }
}
