//! 网格员信息采集: persons, places, things and organizations created and updated in the
//! grid, and people's memberships of organizations, through the one path of every change
//! (the permission table, the idempotency key, the caller's reach over the element's
//! grid, commit), each change on the element's own history.
//!
//! An element's grid follows where it is unless the collector names one: a place's from
//! its position, a person's from their home, a thing's or an organization's from its
//! place. A place's position must lie in its grid, and its address may not name another
//! county or township than its grid's.

use serde_json::{Map, Value, json};
use sqlx::PgConnection;

use super::change::{Begun, Change, Target};
use super::duplicates::{self, Candidate};
use super::error::WorkflowError;
use super::history::{self, ElementChange, GRID_SOURCE, difference};
use super::idempotency::{Record, Seen, Subject};
use crate::access::{Actor, Operation};
use crate::enums::{ElementChangeKind, ElementType, OrganizationRole};
use crate::store::{Point, Store};

/// An element as a collector typed it, checked: the columns to write (JSON values
/// PostgreSQL casts to the columns' types) and the grid asked for.
#[derive(Debug, Clone)]
pub struct Draft {
    pub element: ElementType,
    pub values: Map<String, Value>,
    pub grid: Option<String>,
}

/// What a collection change did.
#[derive(Debug, Clone)]
pub struct Collected {
    pub element: ElementType,
    /// The element written (or changed); none when duplicates stopped a creation.
    pub id: Option<i64>,
    /// Elements taken for duplicates; when any is listed, nothing was written.
    pub duplicates: Vec<Candidate>,
    /// The history rows the change appended (none when nothing changed).
    pub changes: Vec<ElementChange>,
    pub replayed: bool,
}

impl Collected {
    fn unchanged(element: ElementType, id: Option<i64>, duplicates: Vec<Candidate>) -> Self {
        Self {
            element,
            id,
            duplicates,
            changes: Vec::new(),
            replayed: false,
        }
    }
}

/// The table, the columns a change may write, and what follows from what.
pub(super) trait Stored {
    fn table(self) -> &'static str;
    fn columns(self) -> &'static [&'static str];
    /// The column naming the place whose grid the element's follows.
    fn place_column(self) -> Option<&'static str>;
    fn noun(self) -> &'static str;
    fn create(self) -> Operation;
    fn update(self) -> Operation;
}

impl Stored for ElementType {
    fn table(self) -> &'static str {
        match self {
            Self::Person => "persons",
            Self::Place => "places",
            Self::Thing => "things",
            Self::Organization => "organizations",
        }
    }

    fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Person => &[
                "name",
                "gender",
                "birth_date",
                "id_number",
                "phone",
                "residence_place_id",
                "jurisdiction_code",
            ],
            Self::Place => &[
                "name",
                "kind",
                "address",
                "longitude",
                "latitude",
                "jurisdiction_code",
            ],
            Self::Thing => &[
                "name",
                "kind",
                "identifier",
                "place_id",
                "owner_id",
                "jurisdiction_code",
            ],
            Self::Organization => &[
                "name",
                "kind",
                "credit_code",
                "place_id",
                "deregistered_on",
                "jurisdiction_code",
            ],
        }
    }

    fn place_column(self) -> Option<&'static str> {
        match self {
            Self::Person => Some("residence_place_id"),
            Self::Thing | Self::Organization => Some("place_id"),
            Self::Place => None,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Self::Person => "person",
            Self::Place => "place",
            Self::Thing => "thing",
            Self::Organization => "organization",
        }
    }

    fn create(self) -> Operation {
        match self {
            Self::Person => Operation::CreatePerson,
            Self::Place => Operation::CreatePlace,
            Self::Thing => Operation::CreateThing,
            Self::Organization => Operation::CreateOrganization,
        }
    }

    fn update(self) -> Operation {
        match self {
            Self::Person => Operation::UpdatePerson,
            Self::Place => Operation::UpdatePlace,
            Self::Thing => Operation::UpdateThing,
            Self::Organization => Operation::UpdateOrganization,
        }
    }
}

/// The writable columns of a row, so that nothing else is parsed back into the table's
/// record type.
fn project(row: &Value, columns: &[&str]) -> Value {
    Value::Object(
        columns
            .iter()
            .map(|c| ((*c).to_owned(), row[*c].clone()))
            .collect(),
    )
}

pub(super) fn code(row: &Value) -> String {
    row["jurisdiction_code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Whether `code` is a grid's.
pub(super) async fn is_grid(
    connection: &mut PgConnection,
    code: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM jurisdictions WHERE code = $1 AND level = 'GRID')",
    )
    .bind(code)
    .fetch_one(connection)
    .await
}

/// The grid of a place the actor sees, or "no such place".
async fn place_grid(change: &mut Change<'_>, id: i64) -> Result<String, WorkflowError> {
    let grid: Option<String> =
        sqlx::query_scalar("SELECT jurisdiction_code FROM places WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *change.transaction)
            .await?;
    grid.filter(|grid| change.actor.scope.contains(grid))
        .ok_or(WorkflowError::NotFound("place"))
}

/// Checks the places, homes and owners a row names: each must exist where the actor sees.
async fn check_references(change: &mut Change<'_>, row: &Value) -> Result<(), WorkflowError> {
    for column in ["residence_place_id", "place_id"] {
        if let Some(id) = row[column].as_i64() {
            place_grid(change, id).await?;
        }
    }
    if let Some(owner) = row["owner_id"].as_i64() {
        let grid: Option<String> = sqlx::query_scalar(
            "SELECT jurisdiction_code FROM persons WHERE id = $1 \
             UNION ALL SELECT jurisdiction_code FROM organizations WHERE id = $1",
        )
        .bind(owner)
        .fetch_optional(&mut *change.transaction)
        .await?;
        grid.filter(|grid| change.actor.scope.contains(grid))
            .ok_or(WorkflowError::NotFound(
                "owner (a person or an organization)",
            ))?;
    }
    Ok(())
}

impl Store {
    /// The element's grid after a change that sets `values` on `current` (none for a new
    /// element): the one asked for, else the one its position or place gives, else its
    /// own.
    async fn settle_grid(
        &self,
        change: &mut Change<'_>,
        draft: &Draft,
        current: Option<&Value>,
    ) -> Result<String, WorkflowError> {
        let element = draft.element;
        let derived = match element.place_column() {
            None => {
                let moved = draft.values.contains_key("longitude");
                let longitude = draft.values.get("longitude").and_then(Value::as_f64);
                let latitude = draft.values.get("latitude").and_then(Value::as_f64);
                match (moved, longitude, latitude) {
                    (true, Some(longitude), Some(latitude)) => {
                        let point =
                            Point::new(longitude, latitude).map_err(WorkflowError::BadInput)?;
                        let grid = self.grid_at(point).await?.ok_or_else(|| {
                            WorkflowError::BadInput(format!(
                                "({longitude}, {latitude}) lies in no grid of the city"
                            ))
                        })?;
                        Some(grid)
                    }
                    _ => None,
                }
            }
            Some(column) => match draft.values.get(column).and_then(Value::as_i64) {
                Some(place) => Some(place_grid(change, place).await?),
                None => None,
            },
        };
        let grid = match (&draft.grid, derived) {
            (Some(asked), Some(position))
                if element == ElementType::Place && *asked != position =>
            {
                return Err(WorkflowError::BadInput(format!(
                    "the position lies in grid `{position}`, not in `{asked}`"
                )));
            }
            (Some(asked), _) => asked.clone(),
            (None, Some(derived)) => derived,
            (None, None) => match current {
                Some(row) => code(row),
                None => {
                    let from = match element {
                        ElementType::Place => "its position",
                        ElementType::Person => "their home (residenceId)",
                        _ => "its place (placeId)",
                    };
                    return Err(WorkflowError::BadInput(format!(
                        "give the {}'s gridCode, or {from} to find it by",
                        element.noun()
                    )));
                }
            },
        };
        if !is_grid(&mut change.transaction, &grid).await? {
            return Err(WorkflowError::BadInput(format!(
                "`{grid}` is not a grid's code"
            )));
        }
        Ok(grid)
    }

    /// Refuses an address naming a county or township other than its grid's.
    async fn check_address(
        &self,
        change: &mut Change<'_>,
        address: &str,
        grid: &str,
    ) -> Result<(), WorkflowError> {
        let elsewhere: Option<(String, String)> = sqlx::query_as(
            "SELECT code, name FROM jurisdictions WHERE level IN ('COUNTY', 'TOWNSHIP') \
             AND strpos($1, name) > 0 AND left($2, length(code)) <> code ORDER BY code LIMIT 1",
        )
        .bind(address)
        .bind(grid)
        .fetch_optional(&mut *change.transaction)
        .await?;
        match elsewhere {
            Some((code, name)) => Err(WorkflowError::BadInput(format!(
                "the address names {name} ({code}), which grid `{grid}` is not in"
            ))),
            None => Ok(()),
        }
    }

    /// The candidates the actor may be shown; a taken identifier outside its jurisdiction
    /// is refused outright, since it can neither see nor merge that element.
    fn shown(actor: &Actor, candidates: Vec<Candidate>) -> Result<Vec<Candidate>, WorkflowError> {
        let (visible, hidden): (Vec<_>, Vec<_>) = candidates
            .into_iter()
            .partition(|c| actor.scope.contains(&c.jurisdiction_code));
        if let Some(taken) = hidden.iter().find(|c| c.exact()) {
            return Err(WorkflowError::BadInput(format!(
                "a {} with this identifier ({}) is already in the index, outside your jurisdiction",
                taken.element.noun(),
                taken.reason.as_str()
            )));
        }
        Ok(visible)
    }

    /// Creates an element, unless duplicates are found: then nothing is written and they
    /// are returned, to be updated or merged, or — for near-identical ones only — named in
    /// `distinct_from` by a second call that writes it.
    pub async fn create_element(
        &self,
        key: &str,
        actor: &Actor,
        draft: &Draft,
        distinct_from: &[i64],
    ) -> Result<Collected, WorkflowError> {
        let element = draft.element;
        let operation = element.create();
        let request =
            json!({ "values": draft.values, "grid": draft.grid, "distinctFrom": distinct_from });
        let mut change = match self.begin(key, operation, actor, &request).await? {
            Begun::Replay(seen) => return self.replay_element(element, seen).await,
            Begun::Fresh(change) => *change,
        };
        let mut row = Value::Object(draft.values.clone());
        check_references(&mut change, &row).await?;
        let grid = self.settle_grid(&mut change, draft, None).await?;
        change.authorize(Target::Grid(&grid))?;
        row["jurisdiction_code"] = json!(grid);
        if let Some(address) = row["address"].as_str() {
            self.check_address(&mut change, address, &grid).await?;
        }
        let candidates =
            duplicates::find(&mut change.transaction, element, &row, None, false).await?;
        let blocking: Vec<Candidate> = Self::shown(actor, candidates)?
            .into_iter()
            .filter(|c| c.exact() || !distinct_from.contains(&c.id))
            .collect();
        if !blocking.is_empty() {
            change.transaction.rollback().await?;
            return Ok(Collected::unchanged(element, None, blocking));
        }

        let (id, after) = insert_row(&mut change.transaction, element, &row).await?;
        let entry = history::append(
            &mut change.transaction,
            actor,
            history::Change {
                entity_id: id,
                element,
                jurisdiction: &grid,
                kind: ElementChangeKind::Created,
                source: GRID_SOURCE,
                changes: difference(&Value::Null, &after, element.columns()),
                detail: json!({ "distinctFrom": distinct_from }),
            },
        )
        .await?;
        self.finish_element(change, key, operation, &request, id, vec![entry])
            .await
    }

    /// Sets some of an element's fields. A change that changes nothing writes nothing; one
    /// that gives an identifier another element holds is stopped, with that element.
    pub async fn update_element(
        &self,
        key: &str,
        actor: &Actor,
        id: i64,
        draft: &Draft,
    ) -> Result<Collected, WorkflowError> {
        let element = draft.element;
        let operation = element.update();
        let request = json!({ "id": id, "values": draft.values, "grid": draft.grid });
        let mut change = match self.begin(key, operation, actor, &request).await? {
            Begun::Replay(seen) => return self.replay_element(element, seen).await,
            Begun::Fresh(change) => *change,
        };
        let before = lock_element(&mut change, element, id).await?;
        let mut row = before.clone();
        for (column, value) in &draft.values {
            row[column] = value.clone();
        }
        check_references(&mut change, &row).await?;
        let grid = self.settle_grid(&mut change, draft, Some(&before)).await?;
        change.authorize(Target::Grid(&grid))?;
        row["jurisdiction_code"] = json!(grid);
        let changes = difference(&before, &row, element.columns());
        let changed: Vec<&str> = element
            .columns()
            .iter()
            .copied()
            .filter(|c| changes.get(*c).is_some())
            .collect();
        if changed.is_empty() {
            change.transaction.rollback().await?;
            return Ok(Collected::unchanged(element, Some(id), Vec::new()));
        }
        if (changed.contains(&"address") || changed.contains(&"jurisdiction_code"))
            && let Some(address) = row["address"].as_str()
        {
            self.check_address(&mut change, address, &grid).await?;
        }
        let identifies = ["id_number", "credit_code", "identifier", "kind"];
        if changed.iter().any(|c| identifies.contains(c)) {
            let taken =
                duplicates::find(&mut change.transaction, element, &row, Some(id), true).await?;
            let taken = Self::shown(actor, taken)?;
            if !taken.is_empty() {
                change.transaction.rollback().await?;
                return Ok(Collected::unchanged(element, Some(id), taken));
            }
        }

        let after = update_row(&mut change.transaction, element, id, &changed, &row).await?;
        let entry = history::append(
            &mut change.transaction,
            actor,
            history::Change {
                entity_id: id,
                element,
                jurisdiction: &grid,
                kind: ElementChangeKind::Updated,
                source: GRID_SOURCE,
                changes: difference(&before, &after, &changed),
                detail: json!({}),
            },
        )
        .await?;
        self.finish_element(change, key, operation, &request, id, vec![entry])
            .await
    }

    /// A person joins an organization in a role (or changes role), or, with no role,
    /// leaves it; on both their histories.
    pub async fn change_membership(
        &self,
        key: &str,
        actor: &Actor,
        organization: i64,
        person: i64,
        role: Option<OrganizationRole>,
    ) -> Result<Collected, WorkflowError> {
        let operation = if role.is_some() {
            Operation::AddMember
        } else {
            Operation::RemoveMember
        };
        let request = json!({ "organization": organization, "person": person, "role": role.map(OrganizationRole::as_str) });
        let mut change = match self.begin(key, operation, actor, &request).await? {
            Begun::Replay(seen) => {
                return self.replay_element(ElementType::Organization, seen).await;
            }
            Begun::Fresh(change) => *change,
        };
        let org = lock_element(&mut change, ElementType::Organization, organization).await?;
        let member = lock_element(&mut change, ElementType::Person, person).await?;
        let grid = code(&org);
        change.authorize(Target::Grid(&grid))?;
        let before: Option<String> = sqlx::query_scalar(
            "SELECT role FROM organization_members WHERE organization_id = $1 AND person_id = $2",
        )
        .bind(organization)
        .bind(person)
        .fetch_optional(&mut *change.transaction)
        .await?;
        let after = role.map(|r| r.as_str().to_owned());
        if before == after {
            change.transaction.rollback().await?;
            return match role {
                None => Err(WorkflowError::BadInput(
                    "the person is not a member of the organization".to_owned(),
                )),
                Some(_) => Ok(Collected::unchanged(
                    ElementType::Organization,
                    Some(organization),
                    Vec::new(),
                )),
            };
        }
        match role {
            Some(role) => {
                sqlx::query(
                    "INSERT INTO organization_members (organization_id, person_id, role) VALUES ($1, $2, $3) \
                     ON CONFLICT (organization_id, person_id) DO UPDATE SET role = EXCLUDED.role",
                )
                .bind(organization)
                .bind(person)
                .bind(role)
                .execute(&mut *change.transaction)
                .await?;
            }
            None => {
                sqlx::query(
                    "DELETE FROM organization_members WHERE organization_id = $1 AND person_id = $2",
                )
                .bind(organization)
                .bind(person)
                .execute(&mut *change.transaction)
                .await?;
            }
        }
        let kind = if role.is_some() {
            ElementChangeKind::MemberAdded
        } else {
            ElementChangeKind::MemberRemoved
        };
        let changes = json!({ "role": { "before": before, "after": after } });
        let mut entries = Vec::with_capacity(2);
        for (entity_id, element, jurisdiction, detail) in [
            (
                organization,
                ElementType::Organization,
                grid.clone(),
                json!({ "person": person }),
            ),
            (
                person,
                ElementType::Person,
                code(&member),
                json!({ "organization": organization }),
            ),
        ] {
            entries.push(
                history::append(
                    &mut change.transaction,
                    actor,
                    history::Change {
                        entity_id,
                        element,
                        jurisdiction: &jurisdiction,
                        kind,
                        source: GRID_SOURCE,
                        changes: changes.clone(),
                        detail,
                    },
                )
                .await?,
            );
        }
        self.finish_element(change, key, operation, &request, organization, entries)
            .await
    }

    /// Commits a collection change, its key recorded with its history rows.
    pub(super) async fn finish_element(
        &self,
        change: Change<'_>,
        key: &str,
        operation: Operation,
        request: &Value,
        id: i64,
        entries: Vec<ElementChange>,
    ) -> Result<Collected, WorkflowError> {
        let element = entries
            .first()
            .map(|e| e.entity_type)
            .unwrap_or(ElementType::Person);
        let rows = match (entries.first(), entries.last()) {
            (Some(first), Some(last)) => (first.id, last.id),
            _ => return Err(WorkflowError::BadInput("nothing to record".to_owned())),
        };
        let record = Record {
            key,
            operation,
            request,
            subject: Subject::Element(id),
            rows: Some(rows),
        };
        self.commit(change, record).await?;
        Ok(Collected {
            element,
            id: Some(id),
            duplicates: Vec::new(),
            changes: entries,
            replayed: false,
        })
    }

    /// The first result of a collection change whose key was seen again.
    pub(super) async fn replay_element(
        &self,
        element: ElementType,
        seen: Seen,
    ) -> Result<Collected, WorkflowError> {
        let Subject::Element(id) = seen.subject else {
            return Err(WorkflowError::BadInput(
                "this idempotency key was used for a change to an event".to_owned(),
            ));
        };
        Ok(Collected {
            element,
            id: Some(id),
            duplicates: Vec::new(),
            changes: self
                .history_range(seen.first_entry, seen.last_entry)
                .await?,
            replayed: true,
        })
    }
}

/// Inserts an element from a row of its columns (those not null), returning its id and
/// the row as written.
pub(super) async fn insert_row(
    connection: &mut PgConnection,
    element: ElementType,
    row: &Value,
) -> Result<(i64, Value), sqlx::Error> {
    let columns: Vec<&str> = element
        .columns()
        .iter()
        .copied()
        .filter(|c| !row[*c].is_null())
        .collect();
    let list = columns.join(", ");
    sqlx::query_as(&format!(
        "INSERT INTO {table} AS t ({list}) SELECT {list} FROM jsonb_populate_record(NULL::{table}, $1) \
         RETURNING t.id, to_jsonb(t)",
        table = element.table()
    ))
    .bind(project(row, element.columns()))
    .fetch_one(connection)
    .await
}

/// Sets `columns` of element `id` from `row`, returning the row as written.
pub(super) async fn update_row(
    connection: &mut PgConnection,
    element: ElementType,
    id: i64,
    columns: &[&str],
    row: &Value,
) -> Result<Value, sqlx::Error> {
    let list = columns.join(", ");
    sqlx::query_scalar(&format!(
        "UPDATE {table} t SET ({list}) = (SELECT {list} FROM jsonb_populate_record(NULL::{table}, $2)) \
         WHERE id = $1 RETURNING to_jsonb(t)",
        table = element.table()
    ))
    .bind(id)
    .bind(project(row, element.columns()))
    .fetch_one(connection)
    .await
}

/// Locks an element's row for the change, as JSON; one the actor cannot see is not found.
pub(super) async fn lock_element(
    change: &mut Change<'_>,
    element: ElementType,
    id: i64,
) -> Result<Value, WorkflowError> {
    let row: Option<Value> = sqlx::query_scalar(&format!(
        "SELECT to_jsonb(t) FROM {} t WHERE id = $1 FOR UPDATE",
        element.table()
    ))
    .bind(id)
    .fetch_optional(&mut *change.transaction)
    .await?;
    row.filter(|row| change.actor.scope.contains(&code(row)))
        .ok_or(WorkflowError::NotFound(element.noun()))
}
