//! Whom a summons addresses — a department, a grid's team, one person — and the loop's
//! rules for summoning them and for acting on what they were summoned to.

use super::change::{Change, Locked};
use super::error::WorkflowError;
use super::machine::{self, InvalidTransition};
use super::records::{Addressee, Summon};
use crate::enums::SummonsStatus;

/// Whether the actor is on the team a summons is addressed to.
pub(super) async fn on_team(
    change: &mut Change<'_>,
    addressee: &Addressee,
) -> Result<bool, WorkflowError> {
    let (Addressee::Team(grid), Some(staff)) = (addressee, change.actor.staff) else {
        return Ok(false);
    };
    let member: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM team_members WHERE grid_code = $1 AND staff_id = $2")
            .bind(grid)
            .bind(staff)
            .fetch_optional(&mut *change.transaction)
            .await?;
    Ok(member.is_some())
}

/// Where an addressee is: its county, and whether it is a city-level unit; `None` when
/// there is no such department, grid or person.
pub(super) async fn county_of(
    change: &mut Change<'_>,
    addressee: &Addressee,
) -> Result<Option<(String, bool)>, WorkflowError> {
    let found =
        match addressee {
            Addressee::Department(code) => {
                sqlx::query_as(
                    "SELECT d.county_code, j.level = 'CITY' FROM departments d \
                 JOIN jurisdictions j ON j.code = d.county_code WHERE d.code = $1",
                )
                .bind(code)
                .fetch_optional(&mut *change.transaction)
                .await?
            }
            Addressee::Team(grid) => sqlx::query_as(
                "SELECT left(code, 6), false FROM jurisdictions WHERE code = $1 AND level = 'GRID'",
            )
            .bind(grid)
            .fetch_optional(&mut *change.transaction)
            .await?,
            Addressee::Staff(id) => {
                sqlx::query_as("SELECT left(jurisdiction_code, 6), false FROM staff WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *change.transaction)
                    .await?
            }
        };
    Ok(found)
}

/// The loop's rules for whom a whistle summons: departments of the event's county or the
/// city's, the teams of its county's grids, people serving in its county — each that
/// exists, once per whistle, and none whose earlier summons is still open.
pub(super) async fn check_summonable(
    change: &mut Change<'_>,
    locked: &Locked,
    summons: &[Summon],
) -> Result<(), WorkflowError> {
    let labels: Vec<String> = summons.iter().map(|s| s.addressee.label()).collect();
    for (index, summon) in summons.iter().enumerate() {
        let label = &labels[index];
        if labels[..index].contains(label) {
            return Err(WorkflowError::BadInput(format!(
                "{label} is summoned twice by one whistle"
            )));
        }
        let Some((county, city)) = county_of(change, &summon.addressee).await? else {
            let missing = match &summon.addressee {
                Addressee::Department(code) => format!("no such department `{code}`"),
                Addressee::Team(grid) => format!("`{grid}` is not a grid: no team"),
                Addressee::Staff(id) => format!("no such staff member `{id}`"),
            };
            return Err(WorkflowError::BadInput(missing));
        };
        if !machine::may_summon(locked.county(), &county, city) {
            return Err(WorkflowError::Forbidden(format!(
                "{label} is not of the event's county `{}` or of the city",
                locked.county()
            )));
        }
        let open = locked.open_addressees.iter().position(|open| open == label);
        if let Some(at) = open {
            let current =
                SummonsStatus::parse(&locked.open_statuses[at]).unwrap_or(SummonsStatus::Summoned);
            return Err(WorkflowError::Invalid(InvalidTransition {
                subject: "summons",
                current: current.as_str(),
                action: format!("summoning {label} again"),
            }));
        }
    }
    Ok(())
}
