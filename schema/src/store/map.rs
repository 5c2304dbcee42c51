//! One map (一张图): positions, distances and boundaries, asked of PostGIS.
//!
//! Every element has a position: a place its own point; a thing, an organization or a
//! person their place's (a person's home); an event the point its reporter's terminal
//! gave, or else its place's. Distances are metres on the spheroid (`geography`).
//! A point on the edge between two grids lies in both; asked which one, the map answers
//! the one with the lower code.

use std::hash::{Hash, Hasher};

use connectors::Scope;
use sqlx::{Postgres, QueryBuilder};

use super::{Store, StoreError};
use crate::enums::JurisdictionLevel;

/// A point in degrees (WGS 84), checked to lie on the globe.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    pub longitude: f64,
    pub latitude: f64,
}

impl Point {
    /// The point, or why it is none.
    pub fn new(longitude: f64, latitude: f64) -> Result<Self, String> {
        if !(-180.0..=180.0).contains(&longitude) || !(-90.0..=90.0).contains(&latitude) {
            return Err(format!(
                "({longitude}, {latitude}) is not a point: longitude is -180 to 180 and \
                 latitude -90 to 90 degrees"
            ));
        }
        Ok(Self {
            longitude,
            latitude,
        })
    }
}

impl PartialEq for Point {
    fn eq(&self, other: &Self) -> bool {
        self.longitude.to_bits() == other.longitude.to_bits()
            && self.latitude.to_bits() == other.latitude.to_bits()
    }
}

impl Eq for Point {}

impl Hash for Point {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.longitude.to_bits().hash(state);
        self.latitude.to_bits().hash(state);
    }
}

/// The largest radius a query may ask for: more than the city is wide.
pub const MAX_RADIUS_M: i64 = 100_000;

/// Where an entity type's position comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// Its own `position` column.
    Own,
    /// The position of the place its column names.
    AtPlace(&'static str),
    /// Its own position when it has one, else its place's (`place_id`).
    OwnOrPlace,
}

/// The centre of a distance condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Centre {
    Point(Point),
    /// The position of the parent event of the list (`k.key`).
    ParentEvent,
}

/// An event's position, by its row `e`.
pub(super) const EVENT_POSITION: &str =
    "COALESCE(e.position, (SELECT p.position FROM places p WHERE p.id = e.place_id))";

fn push_centre(builder: &mut QueryBuilder<'_, Postgres>, centre: Centre) {
    match centre {
        Centre::Point(point) => {
            builder
                .push("ST_SetSRID(ST_MakePoint(")
                .push_bind(point.longitude)
                .push(", ")
                .push_bind(point.latitude)
                .push("), 4326)::geography");
        }
        Centre::ParentEvent => {
            builder.push(format_args!(
                "(SELECT {EVENT_POSITION} FROM events e WHERE e.id = k.key)"
            ));
        }
    }
}

/// `AND` the row `t` lies within `radius_m` metres of `centre`, written so that the
/// spatial indexes on places and events serve it. Events are matched by id, so that the
/// condition applies to the `bi.events` view as well as to the table.
pub(super) fn push_near(
    builder: &mut QueryBuilder<'_, Postgres>,
    position: Position,
    centre: Centre,
    radius_m: i64,
) {
    let radius = radius_m as f64;
    let within = |builder: &mut QueryBuilder<'_, Postgres>, column: &str| {
        builder.push(format_args!("ST_DWithin({column}, "));
        push_centre(builder, centre);
        builder.push(", ").push_bind(radius).push(")");
    };
    let at_place = |builder: &mut QueryBuilder<'_, Postgres>, column: &str| {
        builder.push(format_args!(
            "{column} IN (SELECT p.id FROM places p WHERE "
        ));
        within(builder, "p.position");
        builder.push(")");
    };
    builder.push(" AND ");
    match position {
        Position::Own => within(builder, "t.position"),
        Position::AtPlace(column) => at_place(builder, &format!("t.{column}")),
        Position::OwnOrPlace => {
            builder.push("t.id IN (SELECT g.id FROM events g WHERE ");
            within(builder, "g.position");
            builder.push(" UNION ALL SELECT g.id FROM events g WHERE g.position IS NULL AND ");
            at_place(builder, "g.place_id");
            builder.push(")");
        }
    }
}

/// A jurisdiction's boundaries for a map: which subtree, which level.
#[derive(Debug, Clone)]
pub struct BoundaryQuery {
    /// The subtree's root (empty: the caller's whole scope).
    pub jurisdiction: String,
    pub level: JurisdictionLevel,
}

/// The position of the event `t` as a GeoJSON geometry (null when it has none).
pub(super) fn event_geometry() -> String {
    format!(
        "(SELECT ST_AsGeoJSON(({EVENT_POSITION})::geometry, 6)::json FROM events e WHERE e.id = t.id)"
    )
}

impl Store {
    /// The grid a point lies in (on an edge, the lower code), if it lies in the city.
    pub async fn grid_at(&self, point: Point) -> Result<Option<String>, StoreError> {
        let mut builder = QueryBuilder::<Postgres>::new(
            "SELECT code FROM jurisdictions WHERE level = 'GRID' AND ST_Covers(boundary, ",
        );
        builder
            .push("ST_SetSRID(ST_MakePoint(")
            .push_bind(point.longitude)
            .push(", ")
            .push_bind(point.latitude)
            .push("), 4326)) ORDER BY code LIMIT 1");
        Ok(builder
            .build_query_scalar()
            .fetch_optional(self.executor())
            .await?)
    }

    /// The boundaries of a level's jurisdictions in a subtree the scope sees, as a GeoJSON
    /// FeatureCollection built by PostgreSQL (properties: code, name, level, parent).
    pub async fn boundaries(
        &self,
        scope: &Scope,
        query: &BoundaryQuery,
    ) -> Result<String, StoreError> {
        let requested = connectors::subtree_prefix(&query.jurisdiction);
        let Some(prefix) = scope.narrow(requested).map(str::to_owned) else {
            return Ok(r#"{"type": "FeatureCollection", "features": []}"#.to_owned());
        };
        let mut builder = QueryBuilder::<Postgres>::new(
            "SELECT json_build_object('type', 'FeatureCollection', 'features', \
               COALESCE(json_agg(json_build_object('type', 'Feature', 'id', code, \
                 'geometry', ST_AsGeoJSON(boundary, 6)::json, \
                 'properties', json_build_object('code', code, 'name', name, \
                   'level', level, 'parent_code', parent_code)) ORDER BY code), '[]'::json))::text \
             FROM jurisdictions WHERE boundary IS NOT NULL AND level = ",
        );
        builder
            .push_bind(query.level.as_str())
            .push(" AND code >= ")
            .push_bind(prefix.clone())
            .push(" AND code < ")
            .push_bind(format!("{prefix}~"));
        Ok(builder
            .build_query_scalar()
            .fetch_one(self.executor())
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_lie_on_the_globe() {
        assert!(Point::new(125.14, 42.9).is_ok());
        assert!(Point::new(180.0, -90.0).is_ok());
        let error = Point::new(181.0, 0.0).err().unwrap_or_default();
        assert!(error.contains("longitude"), "{error}");
        assert!(Point::new(0.0, f64::NAN).is_err());
        assert_eq!(Point::new(1.0, 2.0), Point::new(1.0, 2.0));
    }
}
