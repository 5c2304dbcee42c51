//! An element's history: every change to a person, place, thing or organization, who
//! made it, from which source, and each field before → after. Appended in the change's
//! transaction; read by those who see the element's grid.

use chrono::{DateTime, Utc};
use connectors::Scope;
use serde_json::{Map, Value, json};

use crate::access::Actor;
use crate::enums::{ElementChangeKind, ElementType};
use crate::store::{Store, StoreError};

/// Where a change came from: collected in the grid, or brought by a department's feed.
pub const GRID_SOURCE: &str = "GRID";

/// One row of an element's history.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ElementChange {
    pub id: i64,
    pub entity_id: i64,
    pub entity_type: ElementType,
    pub jurisdiction_code: String,
    pub kind: ElementChangeKind,
    /// `GRID`, or the code of the department whose feed brought the change.
    pub source: String,
    pub actor: String,
    pub actor_role: String,
    pub actor_department: Option<String>,
    /// `{"field": {"before": ..., "after": ...}}`.
    pub changes: Value,
    pub detail: Value,
    pub at: DateTime<Utc>,
}

const HISTORY_COLUMNS: &str = "id, entity_id, entity_type, jurisdiction_code, kind, source, actor, \
     actor_role, actor_department, changes, detail, at";

/// What to append.
pub(super) struct Change<'a> {
    pub entity_id: i64,
    pub element: ElementType,
    pub jurisdiction: &'a str,
    pub kind: ElementChangeKind,
    pub source: &'a str,
    pub changes: Value,
    pub detail: Value,
}

/// The fields of `after` that differ from `before`, as `{"field": {"before", "after"}}`,
/// among `fields`.
pub(super) fn difference(before: &Value, after: &Value, fields: &[&str]) -> Value {
    let mut changes = Map::new();
    for field in fields {
        let (old, new) = (&before[*field], &after[*field]);
        if old != new {
            changes.insert((*field).to_owned(), json!({ "before": old, "after": new }));
        }
    }
    Value::Object(changes)
}

pub(super) async fn append(
    connection: &mut sqlx::PgConnection,
    actor: &Actor,
    change: Change<'_>,
) -> Result<ElementChange, sqlx::Error> {
    sqlx::query_as(&format!(
        "INSERT INTO element_history (entity_id, entity_type, jurisdiction_code, kind, source, \
           actor, actor_role, actor_department, changes, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {HISTORY_COLUMNS}"
    ))
    .bind(change.entity_id)
    .bind(change.element)
    .bind(change.jurisdiction)
    .bind(change.kind)
    .bind(change.source)
    .bind(&actor.name)
    .bind(actor.role.as_str())
    .bind(&actor.department)
    .bind(change.changes)
    .bind(change.detail)
    .fetch_one(connection)
    .await
}

impl Store {
    /// History rows by id range (a replayed change's).
    pub(super) async fn history_range(
        &self,
        first: i64,
        last: i64,
    ) -> Result<Vec<ElementChange>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {HISTORY_COLUMNS} FROM element_history WHERE id BETWEEN $1 AND $2 ORDER BY id"
        ))
        .bind(first)
        .bind(last)
        .fetch_all(self.executor())
        .await?)
    }

    /// An element's history, oldest first, after `after` (a history id), at most `limit`
    /// rows, those recorded in the scope's subtree.
    pub async fn element_history(
        &self,
        scope: &Scope,
        entity_id: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ElementChange>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {HISTORY_COLUMNS} FROM element_history \
             WHERE entity_id = $1 AND id > $2 AND jurisdiction_code >= $3 AND jurisdiction_code < $4 \
             ORDER BY id LIMIT $5"
        ))
        .bind(entity_id)
        .bind(after)
        .bind(scope.prefix())
        .bind(format!("{}~", scope.prefix()))
        .bind(limit)
        .fetch_all(self.executor())
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_fields_are_kept() {
        let before = json!({ "name": "王芳", "phone": "13904371234", "id": 7 });
        let after = json!({ "name": "王芳", "phone": "13904375678", "id": 7 });
        assert_eq!(
            difference(&before, &after, &["name", "phone"]),
            json!({ "phone": { "before": "13904371234", "after": "13904375678" } })
        );
        let created = difference(&Value::Null, &after, &["name"]);
        assert_eq!(
            created,
            json!({ "name": { "before": null, "after": "王芳" } })
        );
    }
}
