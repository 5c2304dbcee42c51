//! Duplicates looked for before an element is written: the same national identifier (a
//! person's ID number, an organization's credit code, a thing's kind and serial number)
//! is never written twice; a near-identical name and address is offered for merging and
//! written only when the collector says it is another element (`distinctFrom`).
//!
//! Near-identical, by trigram similarity (pg_trgm) of at least 0.6:
//! - a person: the same name, and the same home or the same birth date in the county;
//! - a place: a similar name and a similar address in the same grid, or the same name
//!   within 50 m;
//! - a thing: the same name at the same place;
//! - an organization: a similar name in the same county.

use serde_json::Value;
use sqlx::{Postgres, Transaction};

use crate::enums::{DuplicateReason, ElementType};

/// An element taken for a duplicate of the one being written.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Candidate {
    pub id: i64,
    pub element: ElementType,
    pub reason: DuplicateReason,
    /// The candidate's grid (for the caller's scope).
    pub jurisdiction_code: String,
    /// How alike the names are, 0 to 1.
    pub similarity: f32,
}

impl Candidate {
    /// Whether the identifier itself is taken: such a duplicate is never written.
    pub fn exact(&self) -> bool {
        self.reason != DuplicateReason::SimilarNameAndAddress
    }
}

fn text(row: &Value, field: &str) -> String {
    row[field].as_str().unwrap_or_default().to_owned()
}

/// The candidates for `row` (the element as it would be written; `id` its own id when
/// it exists), exact ones first. With `exact_only`, only identifiers are compared (an
/// update that changes one).
pub(super) async fn find(
    transaction: &mut Transaction<'static, Postgres>,
    element: ElementType,
    row: &Value,
    id: Option<i64>,
    exact_only: bool,
) -> Result<Vec<Candidate>, sqlx::Error> {
    let own = id.unwrap_or(0);
    let grid = text(row, "jurisdiction_code");
    let county = grid.get(..6).unwrap_or_default().to_owned();
    let name = text(row, "name");
    let similar = !exact_only;
    let query = match element {
        ElementType::Person => sqlx::query_as(
            "SELECT id, 'PERSON' AS element, 'SAME_ID_NUMBER' AS reason, jurisdiction_code, \
               similarity(name, $2) AS similarity FROM persons WHERE id_number = $3 AND id <> $1 \
             UNION ALL \
             SELECT id, 'PERSON', 'SIMILAR_NAME_AND_ADDRESS', jurisdiction_code, 1::real FROM persons \
             WHERE $7 AND name = $2 AND id <> $1 AND id_number <> $3 \
               AND (residence_place_id = $4 \
                    OR (birth_date = NULLIF($5, '')::date AND left(jurisdiction_code, 6) = $6))",
        )
        .bind(own)
        .bind(name)
        .bind(text(row, "id_number"))
        .bind(row["residence_place_id"].as_i64())
        .bind(text(row, "birth_date"))
        .bind(county)
        .bind(similar),
        ElementType::Organization => sqlx::query_as(
            "SELECT id, 'ORGANIZATION' AS element, 'SAME_CREDIT_CODE' AS reason, jurisdiction_code, \
               similarity(name, $2) AS similarity FROM organizations WHERE credit_code = $3 AND id <> $1 \
             UNION ALL \
             SELECT id, 'ORGANIZATION', 'SIMILAR_NAME_AND_ADDRESS', jurisdiction_code, similarity(name, $2) \
             FROM organizations WHERE $5 AND name % $2 AND similarity(name, $2) >= 0.6 \
               AND left(jurisdiction_code, 6) = $4 AND id <> $1 AND credit_code <> $3",
        )
        .bind(own)
        .bind(name)
        .bind(text(row, "credit_code"))
        .bind(county)
        .bind(similar),
        ElementType::Thing => sqlx::query_as(
            "SELECT id, 'THING' AS element, 'SAME_IDENTIFIER' AS reason, jurisdiction_code, \
               similarity(name, $2) AS similarity FROM things \
             WHERE identifier = $3 AND kind = $4 AND id <> $1 \
             UNION ALL \
             SELECT id, 'THING', 'SIMILAR_NAME_AND_ADDRESS', jurisdiction_code, 1::real FROM things \
             WHERE $6 AND name = $2 AND place_id = $5 AND id <> $1 \
               AND NOT (identifier = $3 AND kind = $4)",
        )
        .bind(own)
        .bind(name)
        .bind(text(row, "identifier"))
        .bind(text(row, "kind"))
        .bind(row["place_id"].as_i64())
        .bind(similar),
        ElementType::Place => sqlx::query_as(
            "SELECT id, 'PLACE' AS element, 'SIMILAR_NAME_AND_ADDRESS' AS reason, jurisdiction_code, \
               similarity(name, $2) AS similarity FROM places \
             WHERE $7 AND id <> $1 AND ( \
               (jurisdiction_code = $3 AND name % $2 AND similarity(name, $2) >= 0.6 \
                 AND similarity(address, $4) >= 0.6) \
               OR (name = $2 AND ST_DWithin(position, \
                   ST_SetSRID(ST_MakePoint($5, $6), 4326)::geography, 50)))",
        )
        .bind(own)
        .bind(name)
        .bind(grid.clone())
        .bind(text(row, "address"))
        .bind(row["longitude"].as_f64())
        .bind(row["latitude"].as_f64())
        .bind(similar),
    };
    let mut candidates: Vec<Candidate> = query.fetch_all(&mut **transaction).await?;
    candidates.sort_by(|a, b| {
        b.exact()
            .cmp(&a.exact())
            .then(b.similarity.total_cmp(&a.similarity))
            .then(a.id.cmp(&b.id))
    });
    Ok(candidates)
}
