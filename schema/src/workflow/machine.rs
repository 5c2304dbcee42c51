//! The state machines of an event and of a summons, in one place: every workflow change
//! asks here first, and an illegal one changes nothing.

use crate::enums::{
    ConfirmationStatus, EventStatus, MediationStatus, ResolutionTier, SummonsStatus,
};

/// What is done to an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventAction {
    Accept,
    Reject,
    Return,
    Escalate,
    BlowWhistle,
    /// The first department reports in: the work starts.
    ReportIn,
    Resolve,
    /// The follow-up call (回访): satisfied, or not (the event is reopened for 重办).
    Revisit {
        satisfied: bool,
    },
    Close,
    /// 交办: handed down to a lower level or to a person; a reported or escalated event
    /// is accepted by the level it is handed to.
    Assign,
    /// 催办: urged by the supervising level; the state does not change.
    Urge,
    /// The event's own deadline passed; the state does not change.
    MarkOverdue,
    /// Photos added after the report; the state does not change.
    AddPhotos,
    /// 诉调一体: referred to mediation or to court; the work is under way.
    Refer,
    /// A mediation's outcome recorded, or its agreement put to the court; the state does
    /// not change.
    Mediate,
}

/// What is done to a summons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummonsAction {
    ReportIn,
    Decline,
    /// Progress feedback; `done` ends the summons.
    Feedback {
        done: bool,
    },
    RequestExtension,
    DecideExtension {
        granted: bool,
    },
    MarkOverdue,
    /// 催办: the state does not change.
    Urge,
}

/// A change the current state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{action} is not allowed while the {subject} is {current}")]
pub struct InvalidTransition {
    pub subject: &'static str,
    pub current: &'static str,
    /// What was tried, as a phrase ("resolving", "summoning 220422-GA again").
    pub action: String,
}

impl EventAction {
    pub fn name(self) -> &'static str {
        match self {
            Self::Accept => "accepting",
            Self::Reject => "rejecting",
            Self::Return => "returning",
            Self::Escalate => "escalating",
            Self::BlowWhistle => "blowing the whistle",
            Self::ReportIn => "reporting in",
            Self::Resolve => "resolving",
            Self::Revisit { .. } => "a revisit",
            Self::Close => "closing",
            Self::Assign => "assigning",
            Self::Urge => "urging",
            Self::MarkOverdue => "marking overdue",
            Self::AddPhotos => "adding photos",
            Self::Refer => "referring",
            Self::Mediate => "recording its mediation",
        }
    }
}

impl SummonsAction {
    pub fn name(self) -> &'static str {
        match self {
            Self::ReportIn => "reporting in",
            Self::Decline => "declining",
            Self::Feedback { .. } => "feedback",
            Self::RequestExtension => "asking for more time",
            Self::DecideExtension { .. } => "deciding on more time",
            Self::MarkOverdue => "marking overdue",
            Self::Urge => "urging",
        }
    }
}

/// The event's status after `action`, or why it may not happen.
pub fn event(current: EventStatus, action: EventAction) -> Result<EventStatus, InvalidTransition> {
    use EventAction as A;
    use EventStatus as S;
    let next = match (action, current) {
        (A::Accept, S::Reported | S::Returned | S::Escalated) => S::Accepted,
        (A::Reject, S::Reported | S::Returned) => S::Rejected,
        (A::Return, S::Reported | S::Accepted | S::Escalated) => S::Returned,
        (A::Escalate, S::Reported | S::Accepted | S::Dispatched | S::InProgress | S::Returned) => {
            S::Escalated
        }
        (A::BlowWhistle, S::Accepted | S::Dispatched) => S::Dispatched,
        (A::BlowWhistle, S::InProgress) => S::InProgress,
        (A::ReportIn, S::Dispatched | S::InProgress) => S::InProgress,
        (A::Resolve, S::Accepted | S::Dispatched | S::InProgress) => S::Resolved,
        (A::Revisit { satisfied: true }, S::Resolved) => S::Resolved,
        (A::Revisit { satisfied: false }, S::Resolved) => S::InProgress,
        (A::Close, S::Resolved) => S::Closed,
        (A::Assign, S::Reported | S::Escalated | S::Returned | S::Accepted) => S::Accepted,
        (A::Assign, S::Dispatched | S::InProgress) => current,
        (A::Refer, S::Accepted | S::Dispatched | S::InProgress) => S::InProgress,
        (A::Mediate, S::Accepted | S::Dispatched | S::InProgress) => current,
        (
            A::Urge | A::MarkOverdue,
            S::Reported | S::Accepted | S::Escalated | S::Returned | S::Dispatched | S::InProgress,
        ) => current,
        (
            A::AddPhotos,
            S::Reported
            | S::Accepted
            | S::Escalated
            | S::Returned
            | S::Dispatched
            | S::InProgress
            | S::Resolved,
        ) => current,
        _ => {
            return Err(InvalidTransition {
                subject: "event",
                current: current.as_str(),
                action: action.name().to_owned(),
            });
        }
    };
    Ok(next)
}

/// The summons' status after `action`, or why it may not happen. `reported_in` tells
/// where an OVERDUE summons stands: a late department still reports in (or declines)
/// if it had not, and still acts and finishes if it had — late, as its marks record.
pub fn summons(
    current: SummonsStatus,
    reported_in: bool,
    action: SummonsAction,
) -> Result<SummonsStatus, InvalidTransition> {
    use SummonsAction as A;
    use SummonsStatus as S;
    let late_before_report_in = current == S::Overdue && !reported_in;
    let late_after_report_in = current == S::Overdue && reported_in;
    let next = match (action, current) {
        (A::ReportIn, S::Summoned) => S::ReportedIn,
        (A::ReportIn, S::Overdue) if late_before_report_in => S::ReportedIn,
        (A::Decline, S::Summoned) => S::Declined,
        (A::Decline, S::Overdue) if late_before_report_in => S::Declined,
        (A::Feedback { done: false }, S::ReportedIn | S::Acting) => S::Acting,
        (A::Feedback { done: true }, S::ReportedIn | S::Acting) => S::Done,
        (A::Feedback { done: true }, S::Overdue) if late_after_report_in => S::Done,
        // Progress while late keeps it late until done or given more time.
        (A::Feedback { done: false } | A::RequestExtension, S::Overdue) if late_after_report_in => {
            S::Overdue
        }
        (A::RequestExtension | A::DecideExtension { .. }, S::ReportedIn | S::Acting) => current,
        (A::DecideExtension { granted: true }, S::Overdue) if late_after_report_in => S::Acting,
        (A::DecideExtension { granted: false }, S::Overdue) if late_after_report_in => S::Overdue,
        (A::MarkOverdue, S::Summoned | S::ReportedIn | S::Acting) => S::Overdue,
        (A::Urge, S::Summoned | S::ReportedIn | S::Acting | S::Overdue) => current,
        _ => {
            return Err(InvalidTransition {
                subject: "summons",
                current: current.as_str(),
                action: action.name().to_owned(),
            });
        }
    };
    Ok(next)
}

/// What is done to a dispute on its way window → mediation → court (诉调一体).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeAction {
    ReferToMediation,
    RecordMediation,
    RequestConfirmation,
    ReferToCourt,
    Resolve,
}

impl DisputeAction {
    pub fn name(self) -> &'static str {
        match self {
            Self::ReferToMediation => "referring to mediation",
            Self::RecordMediation => "recording a mediation's outcome",
            Self::RequestConfirmation => "asking for judicial confirmation",
            Self::ReferToCourt => "referring to court",
            Self::Resolve => "resolving",
        }
    }
}

/// A dispute's latest mediation, as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediationState {
    pub status: MediationStatus,
    pub confirmation: Option<ConfirmationStatus>,
}

/// The dispute's tier after `action`, given its tier and its latest mediation, or why it
/// may not happen:
/// - a dispute goes to mediation from the window, or again after a mediation that did
///   not settle it; never once in court, nor while a mediation is under way or its
///   agreement is before the court (confirmation asked for or given);
/// - an outcome is recorded once, for a mediation under way;
/// - confirmation is asked for an agreement (whole or partial), once;
/// - a dispute goes to court when mediation was refused, failed, settled it in part or
///   its agreement was refused confirmation; not while a mediation is under way or its
///   agreement is before the court or confirmed;
/// - a dispute in mediation is resolved by an agreement whose confirmation, if asked
///   for, was decided.
pub fn dispute(
    tier: ResolutionTier,
    latest: Option<MediationState>,
    action: DisputeAction,
) -> Result<ResolutionTier, InvalidTransition> {
    use ConfirmationStatus as C;
    use DisputeAction as A;
    use MediationStatus as M;
    let refuse = |subject: &'static str, current: &'static str| InvalidTransition {
        subject,
        current,
        action: action.name().to_owned(),
    };
    let mediation = |latest: Option<MediationState>| {
        refuse(
            "mediation",
            latest.map_or("NONE", |m| match m.confirmation {
                Some(confirmation) => confirmation.as_str(),
                None => m.status.as_str(),
            }),
        )
    };
    let under_way = latest.is_some_and(|m| m.status == M::Referred);
    let before_court =
        latest.is_some_and(|m| matches!(m.confirmation, Some(C::Requested | C::Confirmed)));
    match action {
        A::ReferToMediation | A::ReferToCourt if tier == ResolutionTier::Litigation => {
            Err(refuse("dispute", tier.as_str()))
        }
        A::ReferToMediation | A::ReferToCourt if under_way || before_court => {
            Err(mediation(latest))
        }
        A::ReferToMediation => Ok(ResolutionTier::Mediation),
        A::ReferToCourt => Ok(ResolutionTier::Litigation),
        A::RecordMediation if under_way => Ok(tier),
        A::RequestConfirmation => match latest {
            Some(MediationState {
                status: M::Agreement | M::Partial,
                confirmation: None,
            }) => Ok(tier),
            _ => Err(mediation(latest)),
        },
        A::Resolve if tier == ResolutionTier::Mediation => match latest {
            Some(MediationState {
                status: M::Agreement | M::Partial,
                confirmation: None | Some(C::Confirmed | C::Refused),
            }) => Ok(tier),
            _ => Err(mediation(latest)),
        },
        A::Resolve => Ok(tier),
        A::RecordMediation => Err(mediation(latest)),
    }
}

/// Whether a summons in this status still holds its department to the event.
pub fn is_open(status: SummonsStatus) -> bool {
    !matches!(status, SummonsStatus::Done | SummonsStatus::Declined)
}

/// Whether the level `level` may blow the whistle on an event handled at `handling`:
/// the handling level itself, or a level above it (whose code is a prefix of it).
pub fn may_whistle(level: &str, handling: &str) -> bool {
    let prefix = connectors::subtree_prefix(level);
    !prefix.is_empty() && handling.starts_with(prefix)
}

/// Whether an event of the grid `grid`, handled at `handling`, may be handed down
/// (交办) to `to`: a level strictly below the handling level that holds the grid.
pub fn may_assign(handling: &str, to: &str, grid: &str) -> bool {
    let (above, below) = (
        connectors::subtree_prefix(handling),
        connectors::subtree_prefix(to),
    );
    to != handling
        && below.len() > above.len()
        && below.starts_with(above)
        && grid.starts_with(below)
}

/// Whether a whistle on an event of the county `event_county` may summon a department
/// of `department_county` (`city` when the department is a city-level unit): its own
/// county's departments and the city's.
pub fn may_summon(event_county: &str, department_county: &str, city: bool) -> bool {
    city || department_county == event_county
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_main_path_of_an_event() {
        use EventAction as A;
        let mut status = EventStatus::Reported;
        for (action, expected) in [
            (A::Accept, EventStatus::Accepted),
            (A::BlowWhistle, EventStatus::Dispatched),
            (A::ReportIn, EventStatus::InProgress),
            (A::Resolve, EventStatus::Resolved),
            (A::Revisit { satisfied: false }, EventStatus::InProgress),
            (A::Resolve, EventStatus::Resolved),
            (A::Revisit { satisfied: true }, EventStatus::Resolved),
            (A::Close, EventStatus::Closed),
        ] {
            status = event(status, action).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(status, expected);
        }
    }

    #[test]
    fn finished_events_accept_nothing() {
        use EventAction as A;
        let actions = [
            A::Accept,
            A::Reject,
            A::Return,
            A::Escalate,
            A::BlowWhistle,
            A::ReportIn,
            A::Resolve,
            A::Revisit { satisfied: true },
            A::Close,
        ];
        for status in [EventStatus::Closed, EventStatus::Rejected] {
            for action in actions {
                let refused = event(status, action).err();
                assert_eq!(
                    refused.map(|e| e.current),
                    Some(status.as_str()),
                    "{action:?} on {status:?}"
                );
            }
        }
        assert_eq!(
            event(EventStatus::Reported, A::Close)
                .err()
                .map(|e| e.to_string()),
            Some("closing is not allowed while the event is REPORTED".to_owned())
        );
    }

    #[test]
    fn a_summons_reports_in_before_it_acts_and_ends_once() {
        use SummonsAction as A;
        assert_eq!(
            summons(SummonsStatus::Summoned, false, A::ReportIn),
            Ok(SummonsStatus::ReportedIn)
        );
        assert!(summons(SummonsStatus::Summoned, false, A::Feedback { done: true }).is_err());
        assert_eq!(
            summons(SummonsStatus::Acting, true, A::Feedback { done: true }),
            Ok(SummonsStatus::Done)
        );
        for ended in [SummonsStatus::Done, SummonsStatus::Declined] {
            for action in [
                A::ReportIn,
                A::Decline,
                A::MarkOverdue,
                A::Urge,
                A::Feedback { done: false },
            ] {
                assert!(
                    summons(ended, true, action).is_err(),
                    "{action:?} on {ended:?}"
                );
            }
        }
    }

    #[test]
    fn an_overdue_summons_still_reports_in_and_finishes() {
        use SummonsAction as A;
        use SummonsStatus as S;
        // Late before reporting in: it reports in (or declines), not more.
        assert_eq!(summons(S::Overdue, false, A::ReportIn), Ok(S::ReportedIn));
        assert_eq!(summons(S::Overdue, false, A::Decline), Ok(S::Declined));
        assert!(summons(S::Overdue, false, A::Feedback { done: true }).is_err());
        // Late after reporting in: it acts, finishes, or is given more time.
        assert!(summons(S::Overdue, true, A::ReportIn).is_err());
        assert_eq!(
            summons(S::Overdue, true, A::Feedback { done: true }),
            Ok(S::Done)
        );
        assert_eq!(
            summons(S::Overdue, true, A::Feedback { done: false }),
            Ok(S::Overdue)
        );
        assert_eq!(
            summons(S::Overdue, true, A::DecideExtension { granted: true }),
            Ok(S::Acting)
        );
        assert!(summons(S::Overdue, true, A::MarkOverdue).is_err());
        assert_eq!(summons(S::Overdue, true, A::Urge), Ok(S::Overdue));
    }

    #[test]
    fn a_dispute_goes_window_mediation_court_and_never_back() {
        use ConfirmationStatus as C;
        use DisputeAction as A;
        use MediationStatus as M;
        use ResolutionTier as T;
        let state = |status, confirmation| {
            Some(MediationState {
                status,
                confirmation,
            })
        };
        assert_eq!(
            dispute(T::Window, None, A::ReferToMediation),
            Ok(T::Mediation)
        );
        assert_eq!(dispute(T::Window, None, A::ReferToCourt), Ok(T::Litigation));
        let under_way = state(M::Referred, None);
        for action in [
            A::ReferToMediation,
            A::ReferToCourt,
            A::Resolve,
            A::RequestConfirmation,
        ] {
            assert_eq!(
                dispute(T::Mediation, under_way, action)
                    .err()
                    .map(|e| e.current),
                Some("REFERRED"),
                "{action:?}"
            );
        }
        assert_eq!(
            dispute(T::Mediation, under_way, A::RecordMediation),
            Ok(T::Mediation)
        );
        let agreed = state(M::Agreement, None);
        assert!(dispute(T::Mediation, agreed, A::RecordMediation).is_err());
        assert_eq!(
            dispute(T::Mediation, agreed, A::RequestConfirmation),
            Ok(T::Mediation)
        );
        assert_eq!(dispute(T::Mediation, agreed, A::Resolve), Ok(T::Mediation));
        let asked = state(M::Agreement, Some(C::Requested));
        assert!(dispute(T::Mediation, asked, A::Resolve).is_err());
        assert!(dispute(T::Mediation, asked, A::RequestConfirmation).is_err());
        assert!(dispute(T::Mediation, asked, A::ReferToCourt).is_err());
        let refused = state(M::Agreement, Some(C::Refused));
        assert_eq!(
            dispute(T::Mediation, refused, A::ReferToCourt),
            Ok(T::Litigation)
        );
        assert_eq!(
            dispute(T::Mediation, refused, A::ReferToMediation),
            Ok(T::Mediation)
        );
        let failed = state(M::Failed, None);
        assert_eq!(
            dispute(T::Mediation, failed, A::ReferToCourt),
            Ok(T::Litigation)
        );
        assert!(dispute(T::Mediation, failed, A::Resolve).is_err());
        assert_eq!(
            dispute(T::Litigation, failed, A::ReferToMediation)
                .err()
                .map(|e| e.current),
            Some("LITIGATION")
        );
        assert_eq!(
            dispute(T::Litigation, failed, A::Resolve),
            Ok(T::Litigation)
        );
    }

    #[test]
    fn the_handling_level_or_one_above_whistles_and_summons_its_county_or_the_city() {
        assert!(may_whistle("220422001", "220422001"));
        assert!(may_whistle("220422", "220422001"));
        assert!(may_whistle("220400", "220422001"));
        assert!(!may_whistle("220402", "220422001"));
        assert!(!may_whistle("220422001001", "220422001"));
        assert!(!may_whistle("", "220422001"));
        assert!(may_summon("220422", "220422", false));
        assert!(may_summon("220422", "220400", true));
        assert!(!may_summon("220422", "220421", false));
        assert!(is_open(SummonsStatus::Overdue) && !is_open(SummonsStatus::Declined));
        let grid = "220422001001001";
        assert!(may_assign("220422", "220422001", grid));
        assert!(may_assign("220422001", grid, grid));
        assert!(may_assign("220400", "220422", grid));
        assert!(!may_assign("220422001", "220422001", grid));
        assert!(!may_assign("220422001", "220422", grid));
        assert!(!may_assign("220422", "220422002", grid));
        assert!(!may_assign("220422", "220421001", grid));
    }
}
