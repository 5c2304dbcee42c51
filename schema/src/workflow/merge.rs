//! A duplicate merged into the element it duplicates: everything that named the duplicate
//! names the kept element (events, parties, homes, places, memberships, ownership,
//! department links), the kept element takes the duplicate's values where it has none,
//! and the duplicate is deleted. Both histories say so; the duplicate's values and the
//! department links that could not follow (the kept element already has a record in that
//! department) are kept on the kept element's history.

use serde_json::{Map, Value, json};

use super::change::{Begun, Target};
use super::collection::{Collected, Stored, code, lock_element, update_row};
use super::error::WorkflowError;
use super::history::{self, GRID_SOURCE};
use crate::access::{Actor, Operation};
use crate::enums::{ElementChangeKind, ElementType};
use crate::store::Store;

/// The references to move, per element type: (what, SQL moving them from $2 to $1).
fn references(element: ElementType) -> &'static [(&'static str, &'static str)] {
    match element {
        ElementType::Person => &[
            (
                "reportedEvents",
                "UPDATE events SET reporter_id = $1 WHERE reporter_id = $2",
            ),
            (
                "eventParties",
                "UPDATE event_parties SET person_id = $1 WHERE person_id = $2",
            ),
            (
                "memberships",
                "WITH gone AS (DELETE FROM organization_members m WHERE person_id = $2 \
                   AND EXISTS (SELECT 1 FROM organization_members k \
                               WHERE k.person_id = $1 AND k.organization_id = m.organization_id)) \
                 UPDATE organization_members SET person_id = $1 WHERE person_id = $2",
            ),
            (
                "ownedThings",
                "UPDATE things SET owner_id = $1 WHERE owner_id = $2",
            ),
        ],
        ElementType::Place => &[
            (
                "residents",
                "UPDATE persons SET residence_place_id = $1 WHERE residence_place_id = $2",
            ),
            (
                "things",
                "UPDATE things SET place_id = $1 WHERE place_id = $2",
            ),
            (
                "organizations",
                "UPDATE organizations SET place_id = $1 WHERE place_id = $2",
            ),
            (
                "events",
                "UPDATE events SET place_id = $1 WHERE place_id = $2",
            ),
        ],
        ElementType::Thing => &[],
        ElementType::Organization => &[
            (
                "eventParties",
                "UPDATE event_parties SET organization_id = $1 WHERE organization_id = $2",
            ),
            (
                "members",
                "WITH gone AS (DELETE FROM organization_members m WHERE organization_id = $2 \
                   AND EXISTS (SELECT 1 FROM organization_members k \
                               WHERE k.organization_id = $1 AND k.person_id = m.person_id)) \
                 UPDATE organization_members SET organization_id = $1 WHERE organization_id = $2",
            ),
            (
                "ownedThings",
                "UPDATE things SET owner_id = $1 WHERE owner_id = $2",
            ),
        ],
    }
}

impl Store {
    /// Merges `duplicate` into `keep` (two elements of one type).
    pub async fn merge_elements(
        &self,
        key: &str,
        actor: &Actor,
        element: ElementType,
        keep: i64,
        duplicate: i64,
    ) -> Result<Collected, WorkflowError> {
        const OPERATION: Operation = Operation::MergeElements;
        if keep == duplicate {
            return Err(WorkflowError::BadInput(
                "an element cannot be merged into itself".to_owned(),
            ));
        }
        let request = json!({ "element": element.as_str(), "keep": keep, "duplicate": duplicate });
        let mut change = match self.begin(key, OPERATION, actor, &request).await? {
            Begun::Replay(seen) => return self.replay_element(element, seen).await,
            Begun::Fresh(change) => *change,
        };
        // Locked in id order, so that two merges of the same pair cannot deadlock.
        let (first, second) = (keep.min(duplicate), keep.max(duplicate));
        let first_row = lock_element(&mut change, element, first).await?;
        let second_row = lock_element(&mut change, element, second).await?;
        let (kept, gone) = if first == keep {
            (first_row, second_row)
        } else {
            (second_row, first_row)
        };
        let (grid, gone_grid) = (code(&kept), code(&gone));
        change.authorize(Target::Grid(&grid))?;
        change.authorize(Target::Grid(&gone_grid))?;

        let mut moved = Map::new();
        for (what, sql) in references(element) {
            let rows = sqlx::query(sql)
                .bind(keep)
                .bind(duplicate)
                .execute(&mut *change.transaction)
                .await?
                .rows_affected();
            moved.insert((*what).to_owned(), json!(rows));
        }
        let links: Vec<(String, String)> = sqlx::query_as(
            "UPDATE entity_links SET entity_id = $1 WHERE entity_id = $2 AND department_code NOT IN \
               (SELECT department_code FROM entity_links WHERE entity_id = $1) \
             RETURNING department_code, source_id",
        )
        .bind(keep)
        .bind(duplicate)
        .fetch_all(&mut *change.transaction)
        .await?;
        let dropped: Vec<(String, String)> = sqlx::query_as(
            "DELETE FROM entity_links WHERE entity_id = $1 RETURNING department_code, source_id",
        )
        .bind(duplicate)
        .fetch_all(&mut *change.transaction)
        .await?;

        // The kept element takes the duplicate's values where it has none. The duplicate
        // goes first, so that its identifiers are free.
        sqlx::query(&format!("DELETE FROM {} WHERE id = $1", element.table()))
            .bind(duplicate)
            .execute(&mut *change.transaction)
            .await?;
        let filled: Vec<&str> = element
            .columns()
            .iter()
            .copied()
            .filter(|c| kept[*c].is_null() && !gone[*c].is_null())
            .collect();
        let mut changes = Map::new();
        if !filled.is_empty() {
            update_row(&mut change.transaction, element, keep, &filled, &gone).await?;
            for column in &filled {
                changes.insert(
                    (*column).to_owned(),
                    json!({ "before": null, "after": gone[*column] }),
                );
            }
        }
        let pairs = |links: &[(String, String)]| -> Vec<Value> {
            links
                .iter()
                .map(|(department, source)| json!({ "department": department, "sourceId": source }))
                .collect()
        };
        let duplicate_values: Map<String, Value> = element
            .columns()
            .iter()
            .map(|c| ((*c).to_owned(), gone[*c].clone()))
            .collect();
        let merged = history::append(
            &mut change.transaction,
            actor,
            history::Change {
                entity_id: keep,
                element,
                jurisdiction: &grid,
                kind: ElementChangeKind::Merged,
                source: GRID_SOURCE,
                changes: Value::Object(changes),
                detail: json!({
                    "duplicate": duplicate,
                    "duplicateValues": duplicate_values,
                    "moved": moved,
                    "linksMoved": pairs(&links),
                    "linksDropped": pairs(&dropped),
                }),
            },
        )
        .await?;
        let merged_into = history::append(
            &mut change.transaction,
            actor,
            history::Change {
                entity_id: duplicate,
                element,
                jurisdiction: &gone_grid,
                kind: ElementChangeKind::MergedInto,
                source: GRID_SOURCE,
                changes: json!({}),
                detail: json!({ "into": keep }),
            },
        )
        .await?;
        self.finish_element(
            change,
            key,
            OPERATION,
            &request,
            keep,
            vec![merged, merged_into],
        )
        .await
    }
}
