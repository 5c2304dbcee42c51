//! The one path of every workflow change: the role's permission, the idempotency key
//! (locked for the change), the event locked and checked against the caller's reach (the
//! permission check, without which nothing commits), and the commit that records the key
//! with the entries appended — all or nothing.

use serde_json::Value;
use sqlx::{Postgres, Transaction};

use super::error::WorkflowError;
use super::idempotency::{self, Record, Seen, Subject};
use super::records::{Addressee, Outcome, TimelineEntry};
use super::timeline::{self, Entries, Entry};
use crate::access::{Actor, Operation, Reach};
use crate::enums::{EventCategory, EventStatus, ResolutionTier, Urgency};
use crate::store::Store;

/// The event row as a transaction locks it.
#[derive(sqlx::FromRow)]
pub(super) struct Locked {
    pub status: EventStatus,
    pub urgency: Urgency,
    pub category: EventCategory,
    /// Where a dispute is: window, mediation or court.
    pub tier: ResolutionTier,
    pub jurisdiction_code: String,
    /// The level handling the event (its grid's township unless escalated).
    pub handling_code: String,
    /// The departments summoned to the event.
    pub summoned: Vec<String>,
    /// Its open summonses (not DONE or DECLINED), as their addressees' labels
    /// (`Addressee::label`) and statuses, in order.
    pub open_addressees: Vec<String>,
    pub open_statuses: Vec<String>,
}

impl Locked {
    /// The open summonses, as `220422-GA (SUMMONED)`, for messages.
    pub fn open_summonses(&self) -> Vec<String> {
        self.open_addressees
            .iter()
            .zip(&self.open_statuses)
            .map(|(department, status)| format!("{department} ({status})"))
            .collect()
    }

    /// The county the event is in.
    pub fn county(&self) -> &str {
        self.jurisdiction_code.get(..6).unwrap_or_default()
    }
}

/// One workflow transaction in progress.
pub(super) struct Change<'a> {
    pub transaction: Transaction<'static, Postgres>,
    /// This store's turn for a change (see [`Store::with_writers`]).
    turn: Option<tokio::sync::OwnedSemaphorePermit>,
    pub actor: &'a Actor,
    /// What the permission table asks of the actor over the change's object.
    reach: Reach,
    /// Whether the object was checked against `reach`: a change that was not is never
    /// committed.
    authorized: bool,
    /// The timeline entries to append, written as the change commits.
    entries: Entries,
}

/// What a change acts on, for the permission check.
pub(super) enum Target<'a> {
    /// A grid an event is reported in.
    Grid(&'a str),
    Event(&'a Locked),
    /// Something of the locked event addressed to someone — a summons, a mediation —
    /// its addressee, and whether the actor is on the team it is addressed to.
    Addressed(&'a Locked, &'a Addressee, bool),
}

impl Change<'_> {
    /// Appends an entry to the event's timeline as the change commits.
    pub(super) fn append(&mut self, entry: Entry<'_>) {
        self.entries.push(entry);
    }

    /// Checks the actor's reach over the change's object: `FORBIDDEN` otherwise, with
    /// nothing written.
    pub(super) fn authorize(&mut self, target: Target<'_>) -> Result<(), WorkflowError> {
        let actor = self.actor;
        let refused = |why: String| Err(WorkflowError::Forbidden(why));
        match (self.reach, target) {
            (Reach::Jurisdiction, Target::Grid(code)) if !actor.scope.contains(code) => {
                return refused(format!("grid `{code}` is outside your jurisdiction"));
            }
            (Reach::Jurisdiction, Target::Grid(_)) => {}
            (_, Target::Grid(_)) => {
                return refused(format!(
                    "the role {} does not report events",
                    actor.role.as_str()
                ));
            }
            // Visibility was checked where the event was locked.
            (Reach::Jurisdiction, Target::Event(_) | Target::Addressed(..)) => {}
            (Reach::HandlingLevel, Target::Event(locked) | Target::Addressed(locked, ..)) => {
                if locked.handling_code != actor.jurisdiction {
                    return refused(format!(
                        "the event is handled at `{}`, not at your level `{}`",
                        locked.handling_code, actor.jurisdiction
                    ));
                }
            }
            (Reach::HandlingBelow, Target::Event(locked) | Target::Addressed(locked, ..)) => {
                if !actor.scope.contains(&locked.handling_code) {
                    return refused(format!(
                        "the event is handled at `{}`, above the levels you supervise",
                        locked.handling_code
                    ));
                }
            }
            (Reach::OwnDepartment, Target::Addressed(_, addressee, on_team)) => {
                let addressed = match addressee {
                    Addressee::Department(code) => actor.department.as_deref() == Some(code),
                    Addressee::Staff(id) => actor.staff == Some(*id),
                    Addressee::Team(_) => on_team,
                };
                if !addressed {
                    return refused(format!(
                        "it is addressed to {}, not to you or your department",
                        addressee.label()
                    ));
                }
            }
            (Reach::OwnDepartment, Target::Event(_)) => {
                return refused("departments act on their summonses, not on events".to_owned());
            }
        }
        self.authorized = true;
        Ok(())
    }
}

pub(super) enum Begun<'a> {
    /// The key was seen with the same operation and arguments: what that change did.
    Replay(Seen),
    Fresh(Box<Change<'a>>),
}

impl Store {
    /// Starts a change, on the primary whatever store this is: the role must be allowed
    /// the operation at all (nothing is read otherwise); then, with this replica's turn
    /// for a change, the caller's idempotency key is claimed (changes under other keys do
    /// not wait): seen with the same operation and arguments, the first result is
    /// replayed; seen with others, the key is refused.
    pub(super) async fn begin<'a>(
        &self,
        key: &str,
        operation: Operation,
        actor: &'a Actor,
        request: &Value,
    ) -> Result<Begun<'a>, WorkflowError> {
        let reach = actor.may(operation).map_err(WorkflowError::Forbidden)?;
        idempotency::check(key)?;
        let turn = self.writer_turn().await;
        let mut transaction = self.primary().begin().await?;
        let Some(seen) =
            idempotency::claim(&mut transaction, actor, key, operation, request).await?
        else {
            return Ok(Begun::Fresh(Box::new(Change {
                transaction,
                turn,
                actor,
                reach,
                authorized: false,
                entries: Entries::default(),
            })));
        };
        transaction.rollback().await?;
        Ok(Begun::Replay(seen))
    }

    /// The first result of a workflow change whose key was seen again.
    pub(super) async fn replay(&self, seen: Seen) -> Result<Outcome, WorkflowError> {
        let Subject::Event(event_id) = seen.subject else {
            return Err(WorkflowError::BadInput(
                "this idempotency key was used for a change to an element".to_owned(),
            ));
        };
        let mut entries = self
            .timeline_range(seen.first_entry, seen.last_entry)
            .await?;
        // The first call may have committed a moment ago and not ordered them yet.
        if entries.iter().any(|entry| entry.position.is_none()) {
            self.give_positions(&mut entries).await;
        }
        Ok(Outcome {
            event_id,
            entries,
            replayed: true,
        })
    }

    /// Commits a workflow change to an event that passed its permission check, recording
    /// its key with the timeline entries it appended.
    pub(super) async fn finish(
        &self,
        change: Change<'_>,
        key: &str,
        operation: Operation,
        request: &Value,
        event_id: i64,
    ) -> Result<Outcome, WorkflowError> {
        if change.entries.is_empty() {
            return Err(WorkflowError::BadInput("nothing to record".to_owned()));
        }
        let record = Record {
            key,
            operation,
            request,
            subject: Subject::Event(event_id),
            rows: None,
        };
        let entries = self.commit(change, record).await?;
        Ok(Outcome {
            event_id,
            entries,
            replayed: false,
        })
    }

    /// Commits a change that passed its permission check: its timeline entries, with the
    /// key recorded, in one statement; returns the entries (none for an element's
    /// change), given their positions.
    pub(super) async fn commit(
        &self,
        mut change: Change<'_>,
        record: Record<'_>,
    ) -> Result<Vec<TimelineEntry>, WorkflowError> {
        if !change.authorized {
            tracing::error!(
                operation = record.operation.name(),
                "a change reached commit without its permission check"
            );
            return Err(WorkflowError::Forbidden(
                "this change was not checked against the permission table".to_owned(),
            ));
        }
        let mut entries = timeline::write(
            &mut change.transaction,
            change.actor,
            &change.entries,
            Some(&record),
        )
        .await?;
        change.transaction.commit().await?;
        // The next change may start while this one's entries are given their positions.
        drop(change.turn);
        if !entries.is_empty() {
            self.give_positions(&mut entries).await;
        }
        Ok(entries)
    }

    /// Orders the committed timeline and fills in the positions of `entries`. A failure
    /// leaves them without (the change is committed all the same, and the outbox relay
    /// orders the entries on its next round).
    async fn give_positions(&self, entries: &mut [TimelineEntry]) {
        let ids: Vec<i64> = entries.iter().map(|entry| entry.id).collect();
        match self.order_timeline(&ids).await {
            Ok(positions) => {
                for entry in entries {
                    entry.position = positions.get(&entry.id).copied();
                }
            }
            Err(error) => tracing::warn!(%error, "ordering a change's timeline entries failed"),
        }
    }
}

/// Locks the event for the change; one the actor cannot see is not found.
pub(super) async fn lock_event(
    change: &mut Change<'_>,
    event_id: i64,
) -> Result<Locked, WorkflowError> {
    let locked: Option<Locked> = sqlx::query_as(
        "SELECT status, urgency, category, tier, jurisdiction_code, \
           COALESCE(handling_code, left(jurisdiction_code, 9)) AS handling_code, \
           ARRAY(SELECT s.department_code FROM summonses s WHERE s.event_id = e.id \
                   AND s.department_code IS NOT NULL) AS summoned, \
           ARRAY(SELECT COALESCE(s.department_code, 'team ' || s.team_grid, 'staff ' || s.staff_id) \
                 FROM summonses s WHERE s.event_id = e.id \
                   AND s.status NOT IN ('DONE', 'DECLINED') ORDER BY s.id) AS open_addressees, \
           ARRAY(SELECT s.status FROM summonses s WHERE s.event_id = e.id \
                   AND s.status NOT IN ('DONE', 'DECLINED') ORDER BY s.id) AS open_statuses \
         FROM events e WHERE id = $1 FOR UPDATE",
    )
    .bind(event_id)
    .fetch_optional(&mut *change.transaction)
    .await?;
    // An event the actor cannot see is, to it, one that does not exist.
    let scope = &change.actor.scope;
    locked
        .filter(|locked| scope.contains(&locked.jurisdiction_code))
        .filter(|locked| {
            scope
                .summoned()
                .is_none_or(|department| locked.summoned.iter().any(|s| s == department))
        })
        .ok_or(WorkflowError::NotFound("event"))
}
