//! The `filter` inputs of the lists, turned into store conditions after checking them.

use async_graphql::InputObject;
use chrono::{DateTime, Utc};
use connectors::subtree_prefix;

use crate::enums::*;
use crate::error::ApiError;
use crate::store::{Bound, Centre, Comparison, Condition, MAX_RADIUS_M, Point};

const MAX_SEARCH_CHARS: usize = 64;

/// Checks a jurisdiction code's shape: the national pattern has 6, 9, 12 or 15 digits.
pub fn check_code(code: &str) -> Result<&str, ApiError> {
    let well_formed =
        matches!(code.len(), 6 | 9 | 12 | 15) && code.bytes().all(|b| b.is_ascii_digit());
    if well_formed {
        Ok(code)
    } else {
        Err(ApiError::bad_input(format!(
            "`{code}` is not a jurisdiction code (6, 9, 12 or 15 digits, e.g. 220402)"
        )))
    }
}

/// A circle on the map: within `radiusM` metres of a point (degrees, WGS 84).
#[derive(InputObject, Debug, Clone, Copy)]
pub struct Circle {
    pub longitude: f64,
    pub latitude: f64,
    /// 1 to 100,000 metres.
    pub radius_m: i32,
}

impl Circle {
    /// The distance condition around this circle's centre.
    pub fn condition(&self) -> Result<Condition, ApiError> {
        let centre = Point::new(self.longitude, self.latitude).map_err(ApiError::bad_input)?;
        Ok(Condition::Near(
            Centre::Point(centre),
            radius(self.radius_m)?,
        ))
    }
}

/// A radius in metres, checked.
pub fn radius(radius_m: i32) -> Result<i64, ApiError> {
    let radius = i64::from(radius_m);
    if (1..=MAX_RADIUS_M).contains(&radius) {
        Ok(radius)
    } else {
        Err(ApiError::bad_input(format!(
            "`radiusM` is 1 to {MAX_RADIUS_M} metres, not {radius_m}"
        )))
    }
}

fn within(circle: &Option<Circle>) -> Result<Option<Condition>, ApiError> {
    circle.as_ref().map(Circle::condition).transpose()
}

/// The parts every filter shares.
struct Common<'a> {
    jurisdiction: &'a Option<String>,
    starts_with: &'a Option<String>,
    contains: &'a Option<String>,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

impl Common<'_> {
    fn conditions(self) -> Result<Vec<Condition>, ApiError> {
        let mut conditions = Vec::new();
        if let Some(code) = self.jurisdiction {
            conditions.push(Condition::Within(
                subtree_prefix(check_code(code)?).to_owned(),
            ));
        }
        if let Some(text) = search_text("nameStartsWith", self.starts_with)? {
            conditions.push(Condition::NameStartsWith(text));
        }
        if let Some(text) = search_text("nameContains", self.contains)? {
            conditions.push(Condition::NameContains(text));
        }
        if let (Some(from), Some(until)) = (self.from, self.until)
            && from >= until
        {
            return Err(ApiError::bad_input("the time range ends before it starts"));
        }
        conditions.extend(self.from.map(Condition::From));
        conditions.extend(self.until.map(Condition::Until));
        Ok(conditions)
    }
}

fn search_text(name: &str, text: &Option<String>) -> Result<Option<String>, ApiError> {
    let Some(text) = text.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_SEARCH_CHARS {
        return Err(ApiError::bad_input(format!(
            "`{name}` is longer than {MAX_SEARCH_CHARS} characters"
        )));
    }
    Ok(Some(text.to_owned()))
}

fn one_of<T: Copy>(
    column: &'static str,
    values: &Option<Vec<T>>,
    as_str: fn(T) -> &'static str,
) -> Option<Condition> {
    values
        .as_ref()
        .map(|values| Condition::OneOf(column, values.iter().map(|v| as_str(*v)).collect()))
}

/// Narrows a list of persons.
#[derive(InputObject, Default)]
pub struct PersonFilter {
    /// Within this jurisdiction's subtree (a code such as 220402 or a grid's code).
    pub jurisdiction: Option<String>,
    pub name_starts_with: Option<String>,
    pub name_contains: Option<String>,
    pub gender: Option<Gender>,
    /// Registered in the index at or after.
    pub registered_from: Option<DateTime<Utc>>,
    /// Registered in the index before.
    pub registered_until: Option<DateTime<Utc>>,
}

impl PersonFilter {
    pub fn conditions(&self) -> Result<Vec<Condition>, ApiError> {
        let mut conditions = Common {
            jurisdiction: &self.jurisdiction,
            starts_with: &self.name_starts_with,
            contains: &self.name_contains,
            from: self.registered_from,
            until: self.registered_until,
        }
        .conditions()?;
        conditions.extend(one_of(
            "gender",
            &self.gender.map(|g| vec![g]),
            Gender::as_str,
        ));
        Ok(conditions)
    }
}

macro_rules! kind_filter {
    ($(#[$meta:meta])* $name:ident, $kind:ty) => {
        $(#[$meta])*
        #[derive(InputObject, Default)]
        pub struct $name {
            /// Within this jurisdiction's subtree (a code such as 220402 or a grid's code).
            pub jurisdiction: Option<String>,
            pub name_starts_with: Option<String>,
            pub name_contains: Option<String>,
            /// Any of these kinds.
            pub kinds: Option<Vec<$kind>>,
            /// Registered in the index at or after.
            pub registered_from: Option<DateTime<Utc>>,
            /// Registered in the index before.
            pub registered_until: Option<DateTime<Utc>>,
            /// Located within this circle (a thing or an organization: at its place).
            pub within: Option<Circle>,
        }

        impl $name {
            pub fn conditions(&self) -> Result<Vec<Condition>, ApiError> {
                let mut conditions = Common {
                    jurisdiction: &self.jurisdiction,
                    starts_with: &self.name_starts_with,
                    contains: &self.name_contains,
                    from: self.registered_from,
                    until: self.registered_until,
                }
                .conditions()?;
                conditions.extend(one_of("kind", &self.kinds, <$kind>::as_str));
                conditions.extend(within(&self.within)?);
                Ok(conditions)
            }
        }
    };
}

kind_filter!(
    /// Narrows a list of places.
    PlaceFilter, PlaceKind
);
kind_filter!(
    /// Narrows a list of things.
    ThingFilter, ThingKind
);
kind_filter!(
    /// Narrows a list of organizations.
    OrganizationFilter, OrganizationKind
);

/// Narrows a list of events.
#[derive(InputObject, Default)]
pub struct EventFilter {
    /// Within this jurisdiction's subtree (a code such as 220402 or a grid's code).
    pub jurisdiction: Option<String>,
    pub title_starts_with: Option<String>,
    pub title_contains: Option<String>,
    /// Any of these categories.
    pub categories: Option<Vec<EventCategory>>,
    pub channels: Option<Vec<EventChannel>>,
    pub statuses: Option<Vec<EventStatus>>,
    pub urgencies: Option<Vec<Urgency>>,
    /// Reported at or after.
    pub reported_from: Option<DateTime<Utc>>,
    /// Reported before.
    pub reported_until: Option<DateTime<Utc>>,
    /// At any of these tiers now (once resolved: the tier it was resolved at).
    pub tiers: Option<Vec<ResolutionTier>>,
    /// Revisited with at least this satisfaction (1 to 5).
    pub satisfaction_at_least: Option<i32>,
    /// Revisited with at most this satisfaction (1 to 5).
    pub satisfaction_at_most: Option<i32>,
    /// Resolved (its latest resolution) at or after.
    pub resolved_from: Option<DateTime<Utc>>,
    /// Resolved before.
    pub resolved_until: Option<DateTime<Utc>>,
    /// Closed at or after.
    pub closed_from: Option<DateTime<Utc>>,
    /// Closed before.
    pub closed_until: Option<DateTime<Utc>>,
    /// Handled at this level (a jurisdiction code): its grid's township unless handed
    /// up or down.
    pub handling_level: Option<String>,
    /// Whether its own deadline (`dueAt`) passed while it was open (`overdueAt` set).
    pub overdue: Option<bool>,
    /// Still open (not resolved, closed or rejected), or not.
    pub open: Option<bool>,
    /// Located within this circle: where its reporter was when the terminal said, else
    /// at its place.
    pub within: Option<Circle>,
}

/// A time range on a constant column expression, checked like the report range.
fn time_range(
    column: &'static str,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> Result<Vec<Condition>, ApiError> {
    if let (Some(from), Some(until)) = (from, until)
        && from >= until
    {
        return Err(ApiError::bad_input("the time range ends before it starts"));
    }
    Ok(from
        .map(|from| Condition::Compare(column, Comparison::AtLeast, Bound::Time(from)))
        .into_iter()
        .chain(
            until.map(|until| Condition::Compare(column, Comparison::Before, Bound::Time(until))),
        )
        .collect())
}

fn satisfaction(
    name: &str,
    value: Option<i32>,
    comparison: Comparison,
) -> Result<Option<Condition>, ApiError> {
    match value {
        None => Ok(None),
        Some(value @ 1..=5) => Ok(Some(Condition::Compare(
            "t.satisfaction",
            comparison,
            Bound::Int(i64::from(value)),
        ))),
        Some(value) => Err(ApiError::bad_input(format!(
            "`{name}` is a satisfaction from 1 to 5, not {value}"
        ))),
    }
}

impl EventFilter {
    pub fn conditions(&self) -> Result<Vec<Condition>, ApiError> {
        let mut conditions = Common {
            jurisdiction: &self.jurisdiction,
            starts_with: &self.title_starts_with,
            contains: &self.title_contains,
            from: self.reported_from,
            until: self.reported_until,
        }
        .conditions()?;
        conditions.extend(one_of("category", &self.categories, EventCategory::as_str));
        conditions.extend(one_of("channel", &self.channels, EventChannel::as_str));
        conditions.extend(one_of("status", &self.statuses, EventStatus::as_str));
        conditions.extend(one_of("urgency", &self.urgencies, Urgency::as_str));
        conditions.extend(one_of("tier", &self.tiers, ResolutionTier::as_str));
        conditions.extend(satisfaction(
            "satisfactionAtLeast",
            self.satisfaction_at_least,
            Comparison::AtLeast,
        )?);
        conditions.extend(satisfaction(
            "satisfactionAtMost",
            self.satisfaction_at_most,
            Comparison::AtMost,
        )?);
        conditions.extend(time_range(
            "t.resolved_at",
            self.resolved_from,
            self.resolved_until,
        )?);
        conditions.extend(time_range(
            "t.closed_at",
            self.closed_from,
            self.closed_until,
        )?);
        if let Some(code) = &self.handling_level {
            conditions.push(Condition::Compare(
                "COALESCE(t.handling_code, left(t.jurisdiction_code, 9))",
                Comparison::Equal,
                Bound::Text(check_code(code)?.to_owned()),
            ));
        }
        conditions.extend(self.overdue.map(|overdue| {
            Condition::Holds(if overdue {
                "t.overdue_at IS NOT NULL"
            } else {
                "t.overdue_at IS NULL"
            })
        }));
        conditions.extend(self.open.map(|open| {
            Condition::Holds(if open {
                "t.status NOT IN ('RESOLVED', 'CLOSED', 'REJECTED')"
            } else {
                "t.status IN ('RESOLVED', 'CLOSED', 'REJECTED')"
            })
        }));
        conditions.extend(within(&self.within)?);
        Ok(conditions)
    }
}

/// The conditions of an optional filter.
pub trait Filter {
    fn to_conditions(&self) -> Result<Vec<Condition>, ApiError>;
}

macro_rules! filter {
    ($($name:ty),+) => {$(
        impl Filter for $name {
            fn to_conditions(&self) -> Result<Vec<Condition>, ApiError> {
                self.conditions()
            }
        }
    )+};
}

filter!(
    PersonFilter,
    PlaceFilter,
    ThingFilter,
    OrganizationFilter,
    EventFilter
);

pub fn conditions<F: Filter>(filter: &Option<F>) -> Result<Vec<Condition>, ApiError> {
    filter.as_ref().map_or(Ok(Vec::new()), F::to_conditions)
}
