//! Sync from departments: a page of a department's change feed applied to the index in
//! one transaction together with the feed's cursor, so that a restart neither loses nor
//! repeats a change.
//!
//! A change names the department's record. The element it is about is the one linked to
//! that record; else the one with the same national identifier (a person's ID number, an
//! organization's credit code, a thing's serial number), which is then linked; else a new
//! element, when the change carries everything an element needs (its grid among them).
//!
//! Which value a field takes when the department and a grid worker disagree:
//! - a field the department is authoritative for (`authoritative` in its `[feed]`) takes
//!   the department's value, whoever set it before;
//! - any other field keeps a value collected in the grid: the department's value is
//!   taken only when the field was last set by a department (or by the seed).
//!
//! A change the index cannot take is kept in `feed_rejects` with the reason, and the feed
//! goes on.

use connectors::FeedChange;
use serde_json::{Map, Value, json};
use sqlx::PgConnection;

use super::collection::{Stored, code, insert_row, is_grid, update_row};
use super::history::{self, GRID_SOURCE, difference};
use crate::access::{Actor, Role};
use crate::enums::{ElementChangeKind, ElementType, OrganizationKind, PlaceKind, ThingKind};
use crate::store::{Store, StoreError, set_cursor};

/// What one page did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedApplied {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Fields whose grid-collected value was kept against the department's.
    pub kept: usize,
    /// Changes the index could not take: (the department's id, why).
    pub rejected: Vec<(String, String)>,
}

/// The columns a new element must have.
fn required(element: ElementType) -> &'static [&'static str] {
    match element {
        ElementType::Person => &[
            "name",
            "gender",
            "birth_date",
            "id_number",
            "jurisdiction_code",
        ],
        ElementType::Place => &["name", "kind", "address", "jurisdiction_code"],
        ElementType::Thing => &["name", "kind", "identifier", "jurisdiction_code"],
        ElementType::Organization => &["name", "kind", "credit_code", "jurisdiction_code"],
    }
}

/// The column identifying an element across systems, if its type has one.
fn natural_key(element: ElementType) -> Option<&'static str> {
    match element {
        ElementType::Person => Some("id_number"),
        ElementType::Organization => Some("credit_code"),
        ElementType::Thing => Some("identifier"),
        ElementType::Place => None,
    }
}

/// Why a value cannot be written, if it cannot.
async fn unfit(
    transaction: &mut PgConnection,
    element: ElementType,
    values: &Map<String, Value>,
) -> Result<Option<String>, sqlx::Error> {
    if let Some(kind) = values.get("kind").and_then(Value::as_str) {
        let known = match element {
            ElementType::Place => PlaceKind::parse(kind).is_some(),
            ElementType::Thing => ThingKind::parse(kind).is_some(),
            ElementType::Organization => OrganizationKind::parse(kind).is_some(),
            ElementType::Person => true,
        };
        if !known {
            return Ok(Some(format!(
                "`{kind}` is not a kind of {}",
                element.noun()
            )));
        }
    }
    if let Some(grid) = values.get("jurisdiction_code").and_then(Value::as_str)
        && !is_grid(transaction, grid).await?
    {
        return Ok(Some(format!("`{grid}` is not a grid's code")));
    }
    Ok(None)
}

impl Store {
    /// Applies a page of `department`'s changes to elements of type `element`, and moves
    /// its cursor to `next`, all or nothing.
    pub async fn apply_feed(
        &self,
        department: &str,
        element: ElementType,
        authoritative: &[String],
        changes: &[FeedChange],
        next: &str,
    ) -> Result<FeedApplied, StoreError> {
        let actor = Actor::system(department, Role::System);
        let mut transaction = self.executor().begin().await?;
        let mut applied = FeedApplied::default();
        for change in changes {
            // Each change on a savepoint of its own: one the database refuses is
            // rejected, the others stay.
            let mut savepoint = sqlx::Acquire::begin(&mut *transaction).await?;
            let outcome = apply(
                &mut savepoint,
                &actor,
                department,
                element,
                authoritative,
                change,
            )
            .await;
            match outcome {
                Ok(Outcome::Rejected(reason)) | Err(Refused(reason)) => {
                    savepoint.rollback().await?;
                    reject(&mut transaction, department, change, &reason).await?;
                    applied.rejected.push((change.source_id.clone(), reason));
                }
                Ok(outcome) => {
                    savepoint.commit().await?;
                    match outcome {
                        Outcome::Created => applied.created += 1,
                        Outcome::Updated { kept } => {
                            applied.updated += 1;
                            applied.kept += kept;
                        }
                        Outcome::Unchanged { kept } => {
                            applied.unchanged += 1;
                            applied.kept += kept;
                        }
                        Outcome::Rejected(_) => {}
                    }
                }
            }
        }
        set_cursor(&mut transaction, department, next).await?;
        transaction.commit().await?;
        Ok(applied)
    }
}

enum Outcome {
    Created,
    Updated { kept: usize },
    Unchanged { kept: usize },
    Rejected(String),
}

/// A change the database refused (an identifier another element holds, a value that
/// does not fit its column).
struct Refused(String);

impl From<sqlx::Error> for Refused {
    fn from(error: sqlx::Error) -> Self {
        let reason = match &error {
            sqlx::Error::Database(db) => db.message().to_owned(),
            other => other.to_string(),
        };
        Self(reason)
    }
}

async fn reject(
    transaction: &mut PgConnection,
    department: &str,
    change: &FeedChange,
    reason: &str,
) -> Result<(), sqlx::Error> {
    tracing::warn!(department, source_id = %change.source_id, reason, "a feed's change was rejected");
    sqlx::query(
        "INSERT INTO feed_rejects (department_code, source_id, reason, change) VALUES ($1, $2, $3, $4)",
    )
    .bind(department)
    .bind(&change.source_id)
    .bind(reason)
    .bind(Value::Object(change.values.clone()))
    .execute(&mut *transaction)
    .await?;
    Ok(())
}

async fn apply(
    transaction: &mut PgConnection,
    actor: &Actor,
    department: &str,
    element: ElementType,
    authoritative: &[String],
    change: &FeedChange,
) -> Result<Outcome, Refused> {
    if let Some(reason) = unfit(transaction, element, &change.values).await? {
        return Ok(Outcome::Rejected(reason));
    }
    let table = element.table();
    let linked: Option<i64> = sqlx::query_scalar(
        "SELECT entity_id FROM entity_links WHERE department_code = $1 AND source_id = $2",
    )
    .bind(department)
    .bind(&change.source_id)
    .fetch_optional(&mut *transaction)
    .await?;
    let matched = match (
        linked,
        natural_key(element).and_then(|k| change.values.get(k).map(|v| (k, v))),
    ) {
        (Some(id), _) => Some(id),
        (None, Some((column, value))) => {
            let found: Option<i64> =
                sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE {column} = $1"))
                    .bind(value.as_str())
                    .fetch_optional(&mut *transaction)
                    .await?;
            if let Some(id) = found {
                link(transaction, id, department, &change.source_id).await?;
            }
            found
        }
        (None, None) => None,
    };
    let before: Option<Value> = match matched {
        Some(id) => {
            sqlx::query_scalar(&format!(
                "SELECT to_jsonb(t) FROM {table} t WHERE id = $1 FOR UPDATE"
            ))
            .bind(id)
            .fetch_optional(&mut *transaction)
            .await?
        }
        None => None,
    };
    let Some(before) = before else {
        return create(transaction, actor, department, element, change).await;
    };
    let id = before["id"].as_i64().unwrap_or_default();

    // The source that last set each field, from the element's history.
    let sources: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT ON (field) field, source FROM element_history h, jsonb_object_keys(h.changes) field \
         WHERE h.entity_id = $1 ORDER BY field, h.id DESC",
    )
    .bind(id)
    .fetch_all(&mut *transaction)
    .await?;
    let mut row = before.clone();
    let mut kept = Map::new();
    for (field, value) in &change.values {
        let collected = sources.iter().any(|(f, s)| f == field && s == GRID_SOURCE);
        if collected && !authoritative.contains(field) && before[field.as_str()] != *value {
            kept.insert(field.clone(), value.clone());
            continue;
        }
        row[field.as_str()] = value.clone();
    }
    let changes = difference(&before, &row, element.columns());
    let changed: Vec<&str> = element
        .columns()
        .iter()
        .copied()
        .filter(|c| changes.get(*c).is_some())
        .collect();
    if changed.is_empty() {
        return Ok(Outcome::Unchanged { kept: kept.len() });
    }
    let after = update_row(transaction, element, id, &changed, &row).await?;
    let grid = code(&after);
    history::append(
        &mut *transaction,
        actor,
        history::Change {
            entity_id: id,
            element,
            jurisdiction: &grid,
            kind: ElementChangeKind::Updated,
            source: department,
            changes: difference(&before, &after, &changed),
            detail: json!({ "sourceId": change.source_id, "keptFromGrid": kept }),
        },
    )
    .await?;
    Ok(Outcome::Updated { kept: kept.len() })
}

/// Links an element to the department's record of it (replacing an older link).
async fn link(
    transaction: &mut PgConnection,
    id: i64,
    department: &str,
    source_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO entity_links (entity_id, department_code, source_id) VALUES ($1, $2, $3) \
         ON CONFLICT (entity_id, department_code) DO UPDATE SET source_id = EXCLUDED.source_id",
    )
    .bind(id)
    .bind(department)
    .bind(source_id)
    .execute(transaction)
    .await?;
    Ok(())
}

async fn create(
    transaction: &mut PgConnection,
    actor: &Actor,
    department: &str,
    element: ElementType,
    change: &FeedChange,
) -> Result<Outcome, Refused> {
    let missing: Vec<&str> = required(element)
        .iter()
        .copied()
        .filter(|c| change.values.get(*c).is_none_or(Value::is_null))
        .collect();
    if !missing.is_empty() {
        return Ok(Outcome::Rejected(format!(
            "no {} of the index has this record, and the change lacks {} to create one",
            element.noun(),
            missing.join(", ")
        )));
    }
    let row = Value::Object(change.values.clone());
    let (id, after) = insert_row(transaction, element, &row).await?;
    link(transaction, id, department, &change.source_id).await?;
    let grid = code(&after);
    history::append(
        &mut *transaction,
        actor,
        history::Change {
            entity_id: id,
            element,
            jurisdiction: &grid,
            kind: ElementChangeKind::Created,
            source: department,
            changes: difference(&Value::Null, &after, element.columns()),
            detail: json!({ "sourceId": change.source_id }),
        },
    )
    .await?;
    Ok(Outcome::Created)
}
