//! The event's own transitions: reported, accepted, rejected, returned, escalated,
//! resolved, revisited, closed.

use chrono::Utc;
use serde_json::{Value, json};

use super::change::{Begun, Change, Target, lock_event};
use super::deadlines::handling_time;
use super::disputes::{LatestMediation, latest_mediation};
use super::error::{WorkflowError, foreign_key};
use super::handling::{check_assignable, check_assignee, level_above};
use super::machine::{self, EventAction, InvalidTransition};
use super::photos::store_photos;
use super::records::{Decision, NewEvent, Outcome};
use super::timeline::Entry;
use super::writes::{DepartmentSystem, queue_write};
use crate::access::{Actor, Operation};
use crate::enums::{EventChannel, EventStatus, ResolutionTier, TimelineKind};
use crate::store::Store;
use connectors::operations::OperationName;

impl Store {
    /// Files a new event as REPORTED.
    pub async fn report_event(
        &self,
        key: &str,
        actor: &Actor,
        event: &NewEvent,
    ) -> Result<Outcome, WorkflowError> {
        const OPERATION: Operation = Operation::ReportEvent;
        let request = json!({
            "title": event.title,
            "description": event.description,
            "category": event.category.as_str(),
            "channel": event.channel.as_str(),
            "urgency": event.urgency.as_str(),
            "grid": event.jurisdiction_code,
            "place": event.place_id,
            "reporter": event.reporter_id,
            "parties": event.party_ids,
            "photos": event.photos,
            "photoFiles": event.photo_files.iter().map(|p| &p.sha256).collect::<Vec<_>>(),
            "position": event.position,
        });
        let mut change = match self.begin(key, OPERATION, actor, &request).await? {
            Begun::Replay(seen) => return self.replay(seen).await,
            Begun::Fresh(change) => *change,
        };
        change.authorize(Target::Grid(&event.jurisdiction_code))?;
        let now = Utc::now();
        // Filed only in a grid: the check and the row in one statement.
        let event_id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO events (title, description, category, channel, urgency, status, reporter_id, \
               place_id, jurisdiction_code, reported_at, updated_at, due_at, photos, longitude, latitude) \
             SELECT $1, $2, $3, $4, $5, 'REPORTED', $6, $7, j.code, $9, $9, $10, $11, $12, $13 \
             FROM jurisdictions j WHERE j.code = $8 AND j.level = 'GRID' RETURNING id",
        )
        .bind(&event.title)
        .bind(&event.description)
        .bind(event.category)
        .bind(event.channel)
        .bind(event.urgency)
        .bind(event.reporter_id)
        .bind(event.place_id)
        .bind(&event.jurisdiction_code)
        .bind(now)
        .bind(now + handling_time(event.urgency))
        .bind(&event.photos)
        .bind(event.position.map(|(longitude, _)| longitude))
        .bind(event.position.map(|(_, latitude)| latitude))
        .fetch_optional(&mut *change.transaction)
        .await
        .map_err(|e| foreign_key(e, "the place or reporter does not exist"))?;
        let Some(event_id) = event_id else {
            return Err(WorkflowError::BadInput(format!(
                "`{}` is not a grid's code",
                event.jurisdiction_code
            )));
        };
        store_photos(&mut change, event_id, &event.photo_files).await?;
        for (position, person) in event.party_ids.iter().enumerate() {
            sqlx::query(
                "INSERT INTO event_parties (event_id, position, role, person_id) VALUES ($1, $2, 'APPLICANT', $3)",
            )
            .bind(event_id)
            .bind(position as i16)
            .bind(person)
            .execute(&mut *change.transaction)
            .await
            .map_err(|e| foreign_key(e, "a party does not exist"))?;
        }
        // A letter or a visit is a petition (信访件): the county's petitions bureau
        // registers it.
        let petition = match event.channel {
            EventChannel::LetterVisit => {
                let county = event.jurisdiction_code.get(..6).unwrap_or_default();
                let system = DepartmentSystem::Petitions;
                let operation = OperationName::RegisterPetition;
                queue_write(
                    &mut change,
                    county,
                    event_id,
                    None,
                    system,
                    operation,
                    json!({}),
                )
                .await?
            }
            _ => None,
        };
        let mut detail =
            json!({ "channel": event.channel.as_str(), "urgency": event.urgency.as_str() });
        if petition.is_some() {
            detail["sentTo"] = json!(petition);
        }
        change.append(Entry {
            event_id,
            summons_id: None,
            kind: TimelineKind::Reported,
            department: None,
            jurisdiction: &event.jurisdiction_code,
            before: None,
            after: Some(EventStatus::Reported.as_str()),
            detail,
        });
        self.finish(change, key, OPERATION, &request, event_id)
            .await
    }

    /// Moves an event by one step, recording it on the timeline.
    async fn event_change(
        &self,
        key: &str,
        operation: Operation,
        actor: &Actor,
        event_id: i64,
        step: EventStep,
    ) -> Result<Outcome, WorkflowError> {
        let EventStep {
            action,
            kind,
            detail,
            extra,
        } = step;
        let request = json!({ "event": event_id, "detail": detail });
        let mut change = match self.begin(key, operation, actor, &request).await? {
            Begun::Replay(seen) => return self.replay(seen).await,
            Begun::Fresh(change) => *change,
        };
        let locked = lock_event(&mut change, event_id).await?;
        change.authorize(Target::Event(&locked))?;
        let next = machine::event(locked.status, action)?;
        let mut detail = detail;
        let extra = match (action, extra) {
            // The level above is read under the event's lock.
            (EventAction::Escalate, _) => {
                let above = level_above(&mut change, &locked.handling_code).await?;
                detail["from"] = json!(locked.handling_code);
                detail["to"] = json!(above);
                EventExtra::HandedTo(above)
            }
            (EventAction::Assign, EventExtra::Assigned { to, staff }) => {
                let handler = match &to {
                    Some(to) => {
                        check_assignable(&mut change, &locked, to).await?;
                        detail["from"] = json!(locked.handling_code);
                        to.clone()
                    }
                    None => locked.handling_code.clone(),
                };
                if let Some(staff) = staff {
                    let name = check_assignee(&mut change, &locked, &handler, staff).await?;
                    detail["assignee"] = json!({ "id": staff, "name": name });
                }
                EventExtra::Assigned { to, staff }
            }
            (EventAction::Resolve, extra) => {
                if let EventExtra::Resolved(Some(tier)) = &extra
                    && *tier != locked.tier
                {
                    return Err(WorkflowError::BadInput(format!(
                        "the event is at tier {}, not {}: a dispute's tier follows \
                         referToMediation and referToCourt",
                        locked.tier.as_str(),
                        tier.as_str()
                    )));
                }
                detail["tier"] = json!(locked.tier.as_str());
                if operation != Operation::ForceResolve {
                    let latest = latest_mediation(&mut change, event_id).await?;
                    let latest = latest.as_ref().map(LatestMediation::state);
                    machine::dispute(locked.tier, latest, machine::DisputeAction::Resolve)?;
                }
                let open = locked.open_summonses();
                if !open.is_empty() {
                    if operation != Operation::ForceResolve {
                        return Err(WorkflowError::Invalid(InvalidTransition {
                            subject: "event",
                            current: locked.status.as_str(),
                            action: format!(
                                "resolving while summonses are open ({}); a SUPERVISOR may \
                                 resolve it with forceReason",
                                open.join(", ")
                            ),
                        }));
                    }
                    detail["openSummonses"] = json!(open);
                }
                extra
            }
            (_, extra) => extra,
        };
        set_event_status(&mut change, event_id, next, &extra).await?;
        if let EventExtra::Photos(files) = &extra {
            store_photos(&mut change, event_id, files).await?;
        }
        change.append(Entry {
            event_id,
            summons_id: None,
            kind,
            department: None,
            jurisdiction: &locked.jurisdiction_code,
            before: Some(locked.status.as_str()),
            after: Some(next.as_str()),
            detail,
        });
        self.finish(change, key, operation, &request, event_id)
            .await
    }

    /// Accepts, rejects, returns or escalates an event, with the note or reason given.
    pub async fn decide_event(
        &self,
        key: &str,
        actor: &Actor,
        event_id: i64,
        decision: Decision,
        text: &str,
    ) -> Result<Outcome, WorkflowError> {
        let (operation, action, kind, field) = match decision {
            Decision::Accept => (
                Operation::AcceptEvent,
                EventAction::Accept,
                TimelineKind::Accepted,
                "note",
            ),
            Decision::Reject => (
                Operation::RejectEvent,
                EventAction::Reject,
                TimelineKind::Rejected,
                "reason",
            ),
            Decision::Return => (
                Operation::ReturnEvent,
                EventAction::Return,
                TimelineKind::Returned,
                "reason",
            ),
            Decision::Escalate => (
                Operation::EscalateEvent,
                EventAction::Escalate,
                TimelineKind::Escalated,
                "reason",
            ),
        };
        let step = EventStep::new(action, kind, json!({ field: text }));
        self.event_change(key, operation, actor, event_id, step)
            .await
    }

    /// Resolves an event whose summonses are all DONE or DECLINED; with `force_reason`,
    /// a supervisor resolves it whatever its summonses (the reason and the summonses
    /// left open are recorded).
    pub async fn resolve_event(
        &self,
        key: &str,
        actor: &Actor,
        event_id: i64,
        tier: Option<ResolutionTier>,
        summary: &str,
        force_reason: Option<&str>,
    ) -> Result<Outcome, WorkflowError> {
        let mut detail = json!({ "tier": tier.map(ResolutionTier::as_str), "summary": summary });
        let operation = match force_reason {
            Some(reason) if reason.trim().is_empty() => {
                return Err(WorkflowError::BadInput(
                    "forceReason must say why the event is resolved with summonses open".to_owned(),
                ));
            }
            Some(reason) => {
                detail["forceReason"] = json!(reason);
                Operation::ForceResolve
            }
            None => Operation::ResolveEvent,
        };
        let step = EventStep {
            extra: EventExtra::Resolved(tier),
            ..EventStep::new(EventAction::Resolve, TimelineKind::Resolved, detail)
        };
        self.event_change(key, operation, actor, event_id, step)
            .await
    }

    /// 交办: hands the event down to `to`, a level below the one handling it that holds
    /// the event's grid, and/or names `staff` in charge (someone who serves the grid or
    /// belongs to the handling level or the county's departments).
    pub async fn assign_event(
        &self,
        key: &str,
        actor: &Actor,
        event_id: i64,
        to: Option<&str>,
        staff: Option<i64>,
        note: &str,
    ) -> Result<Outcome, WorkflowError> {
        if to.is_none() && staff.is_none() {
            return Err(WorkflowError::BadInput(
                "give jurisdictionCode, staffId or both".to_owned(),
            ));
        }
        let detail = json!({ "to": to, "staff": staff, "note": note });
        let step = EventStep {
            extra: EventExtra::Assigned {
                to: to.map(str::to_owned),
                staff,
            },
            ..EventStep::new(EventAction::Assign, TimelineKind::Assigned, detail)
        };
        self.event_change(key, Operation::AssignEvent, actor, event_id, step)
            .await
    }

    /// The reporter's follow-up: photos added to an open (or resolved) event.
    pub async fn add_event_photos(
        &self,
        key: &str,
        actor: &Actor,
        event_id: i64,
        files: Vec<super::PhotoFile>,
        note: &str,
    ) -> Result<Outcome, WorkflowError> {
        if files.is_empty() {
            return Err(WorkflowError::BadInput("add at least one photo".to_owned()));
        }
        let detail = json!({
            "note": note,
            "photoFiles": files.iter().map(|p| &p.sha256).collect::<Vec<_>>(),
        });
        let step = EventStep {
            extra: EventExtra::Photos(files),
            ..EventStep::new(EventAction::AddPhotos, TimelineKind::PhotosAdded, detail)
        };
        self.event_change(key, Operation::AddEventPhotos, actor, event_id, step)
            .await
    }

    /// 催办: the supervising level urges the level handling the event.
    pub async fn urge_event(
        &self,
        key: &str,
        actor: &Actor,
        event_id: i64,
        note: &str,
    ) -> Result<Outcome, WorkflowError> {
        let step = EventStep {
            extra: EventExtra::Urged,
            ..EventStep::new(
                EventAction::Urge,
                TimelineKind::Urged,
                json!({ "note": note }),
            )
        };
        self.event_change(key, Operation::Urge, actor, event_id, step)
            .await
    }

    /// The follow-up call: satisfaction 1–5; 1 and 2 reopen the event for rework (重办).
    pub async fn revisit(
        &self,
        key: &str,
        actor: &Actor,
        event_id: i64,
        satisfaction: i16,
        comment: &str,
    ) -> Result<Outcome, WorkflowError> {
        if !(1..=5).contains(&satisfaction) {
            return Err(WorkflowError::BadInput("satisfaction is 1 to 5".to_owned()));
        }
        let satisfied = satisfaction >= 3;
        let kind = if satisfied {
            TimelineKind::Evaluated
        } else {
            TimelineKind::Reopened
        };
        let detail = json!({ "satisfaction": satisfaction, "comment": comment });
        let step = EventStep {
            extra: EventExtra::Revisited {
                satisfaction,
                comment: comment.to_owned(),
                reopened: !satisfied,
            },
            ..EventStep::new(EventAction::Revisit { satisfied }, kind, detail)
        };
        self.event_change(key, Operation::Revisit, actor, event_id, step)
            .await
    }

    pub async fn close_event(
        &self,
        key: &str,
        actor: &Actor,
        event_id: i64,
    ) -> Result<Outcome, WorkflowError> {
        let step = EventStep {
            extra: EventExtra::Closed,
            ..EventStep::new(EventAction::Close, TimelineKind::Closed, json!({}))
        };
        self.event_change(key, Operation::CloseEvent, actor, event_id, step)
            .await
    }
}

/// One step of an event: the transition, what the timeline records, what else is set.
struct EventStep {
    action: EventAction,
    kind: TimelineKind,
    detail: Value,
    extra: EventExtra,
}

impl EventStep {
    fn new(action: EventAction, kind: TimelineKind, detail: Value) -> Self {
        Self {
            action,
            kind,
            detail,
            extra: EventExtra::None,
        }
    }
}

/// Extra columns an event change sets.
pub(super) enum EventExtra {
    None,
    /// Handed to this level (escalated up).
    HandedTo(String),
    /// Photos stored with the event.
    Photos(Vec<super::PhotoFile>),
    /// Handed down to a level and/or to a person (交办).
    Assigned {
        to: Option<String>,
        staff: Option<i64>,
    },
    Urged,
    /// At the tier given, or the event's own.
    Resolved(Option<ResolutionTier>),
    Revisited {
        satisfaction: i16,
        comment: String,
        reopened: bool,
    },
    Closed,
}

pub(super) async fn set_event_status(
    change: &mut Change<'_>,
    event_id: i64,
    status: EventStatus,
    extra: &EventExtra,
) -> Result<(), WorkflowError> {
    let set = match extra {
        EventExtra::None | EventExtra::Photos(_) => "",
        EventExtra::Resolved(_) => ", resolved_at = now(), resolution_tier = COALESCE($3, tier)",
        EventExtra::Revisited { .. } => {
            ", satisfaction = $3, revisit_comment = $4, reworks = reworks + $5::int, \
             resolved_at = CASE WHEN $5 THEN NULL ELSE resolved_at END"
        }
        EventExtra::Closed => ", closed_at = now()",
        EventExtra::HandedTo(_) => ", handling_code = $3",
        EventExtra::Assigned { .. } => {
            ", handling_code = COALESCE($3, handling_code), assignee_id = COALESCE($4, assignee_id)"
        }
        EventExtra::Urged => ", urges = urges + 1",
    };
    // The first acceptance starts the handling time evaluation reads (考核).
    let accepted = if status == EventStatus::Accepted {
        ", accepted_at = COALESCE(accepted_at, now())"
    } else {
        ""
    };
    let sql =
        format!("UPDATE events SET status = $2, updated_at = now(){accepted}{set} WHERE id = $1");
    let query = sqlx::query(&sql).bind(event_id).bind(status);
    let query = match extra {
        EventExtra::None | EventExtra::Closed | EventExtra::Urged | EventExtra::Photos(_) => query,
        EventExtra::Resolved(tier) => query.bind(*tier),
        EventExtra::HandedTo(level) => query.bind(level.clone()),
        EventExtra::Assigned { to, staff } => query.bind(to.clone()).bind(*staff),
        EventExtra::Revisited {
            satisfaction,
            comment,
            reopened,
        } => query
            .bind(*satisfaction)
            .bind(comment.clone())
            .bind(*reopened),
    };
    query.execute(&mut *change.transaction).await?;
    Ok(())
}
