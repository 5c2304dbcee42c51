//! The people who act and the grids' teams, read in batches. A staff member is visible
//! to a scope that holds their own level or any grid they serve.

use std::collections::HashMap;

use connectors::Scope;

use super::{Store, StoreError};
use crate::model::Staff;

const COLUMNS: &str =
    "s.id, s.name, s.role, s.unit, s.department_code, s.jurisdiction_code, s.phone";

/// SQL true when the staff row `s` is visible to the scope given as parameter `$2`
/// (its code prefix).
const VISIBLE: &str = "($2 = '' OR (s.jurisdiction_code >= $2 AND s.jurisdiction_code < $2 || '~') \
     OR EXISTS (SELECT 1 FROM team_members m WHERE m.staff_id = s.id \
                AND m.grid_code >= $2 AND m.grid_code < $2 || '~'))";

impl Store {
    pub async fn staff_by_ids(&self, scope: &Scope, ids: &[i64]) -> Result<Vec<Staff>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM staff s WHERE s.id = ANY($1) AND {VISIBLE}"
        ))
        .bind(ids)
        .bind(scope.prefix())
        .fetch_all(self.executor())
        .await?)
    }

    /// The teams of grids, by grid, in role order.
    pub async fn teams(&self, grids: &[String]) -> Result<HashMap<String, Vec<Staff>>, StoreError> {
        let rows: Vec<(String, Staff)> = sqlx::query_as::<_, TeamRow>(&format!(
            "SELECT m.grid_code, {COLUMNS} FROM team_members m JOIN staff s ON s.id = m.staff_id \
             WHERE m.grid_code = ANY($1) \
             ORDER BY m.grid_code, array_position(ARRAY['JUDGE', 'GRID_HEAD', 'MEDIATOR', \
               'RESIDENT_REP', 'AUXILIARY_POLICE', 'DEPARTMENT_OFFICER'], s.role), s.id"
        ))
        .bind(grids)
        .fetch_all(self.executor())
        .await?
        .into_iter()
        .map(|row| (row.grid_code, row.staff))
        .collect();
        let mut teams: HashMap<String, Vec<Staff>> = HashMap::new();
        for (grid, staff) in rows {
            teams.entry(grid).or_default().push(staff);
        }
        Ok(teams)
    }

    /// The grids each staff member serves, in code order.
    pub async fn grids_served(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<String>>, StoreError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT staff_id, grid_code FROM team_members WHERE staff_id = ANY($1) \
             ORDER BY staff_id, grid_code",
        )
        .bind(ids)
        .fetch_all(self.executor())
        .await?;
        let mut served: HashMap<i64, Vec<String>> = HashMap::new();
        for (staff, grid) in rows {
            served.entry(staff).or_default().push(grid);
        }
        Ok(served)
    }
}

#[derive(sqlx::FromRow)]
struct TeamRow {
    grid_code: String,
    #[sqlx(flatten)]
    staff: Staff,
}
