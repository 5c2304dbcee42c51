//! Who handles an event: the level above it (escalation), a level below it that holds
//! its grid (交办), and the person named in charge — the loop's rules for each, read
//! under the event's lock.

use super::change::{Change, Locked};
use super::error::WorkflowError;
use super::machine;

/// The loop's rule for 交办: down from the level handling the event to a jurisdiction
/// that exists and holds the event's grid.
pub(super) async fn check_assignable(
    change: &mut Change<'_>,
    locked: &Locked,
    to: &str,
) -> Result<(), WorkflowError> {
    if !machine::may_assign(&locked.handling_code, to, &locked.jurisdiction_code) {
        return Err(WorkflowError::BadInput(format!(
            "`{to}` is not a level below `{}` holding the event's grid `{}`",
            locked.handling_code, locked.jurisdiction_code
        )));
    }
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM jurisdictions WHERE code = $1")
        .bind(to)
        .fetch_optional(&mut *change.transaction)
        .await?;
    exists
        .map(|_| ())
        .ok_or_else(|| WorkflowError::BadInput(format!("no such jurisdiction `{to}`")))
}

/// The loop's rule for naming a person in charge: someone on the event's grid team, of
/// the level handling it (or below), or of one of the county's departments. Returns
/// their name.
pub(super) async fn check_assignee(
    change: &mut Change<'_>,
    locked: &Locked,
    handler: &str,
    staff: i64,
) -> Result<String, WorkflowError> {
    let found: Option<(String, bool)> = sqlx::query_as(
        "SELECT s.name, \
           EXISTS (SELECT 1 FROM team_members m WHERE m.staff_id = s.id AND m.grid_code = $2) \
           OR (s.jurisdiction_code >= $3 AND s.jurisdiction_code < $3 || '~') \
           OR COALESCE(left(s.department_code, 6) = $4, false) \
         FROM staff s WHERE s.id = $1",
    )
    .bind(staff)
    .bind(&locked.jurisdiction_code)
    .bind(connectors::subtree_prefix(handler))
    .bind(locked.county())
    .fetch_optional(&mut *change.transaction)
    .await?;
    match found {
        None => Err(WorkflowError::BadInput(format!(
            "no such staff member `{staff}`"
        ))),
        Some((name, false)) => Err(WorkflowError::BadInput(format!(
            "{name} neither serves the event's grid nor belongs to `{handler}` or the county's departments"
        ))),
        Some((name, true)) => Ok(name),
    }
}

/// The level above `code`; the city has none.
pub(super) async fn level_above(
    change: &mut Change<'_>,
    code: &str,
) -> Result<String, WorkflowError> {
    let parent: Option<Option<String>> =
        sqlx::query_scalar("SELECT parent_code FROM jurisdictions WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut *change.transaction)
            .await?;
    parent.flatten().ok_or_else(|| {
        WorkflowError::BadInput(format!("`{code}` has no level above it to escalate to"))
    })
}
