//! The state machines of an event and of a summons, in one place: every workflow change
//! asks here first, and an illegal one changes nothing.

use crate::enums::{EventStatus, SummonsStatus};

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
    DecideExtension,
    MarkOverdue,
}

/// A change the current state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{action} is not allowed while the {subject} is {current}")]
pub struct InvalidTransition {
    pub subject: &'static str,
    pub current: &'static str,
    pub action: &'static str,
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
            Self::DecideExtension => "deciding on more time",
            Self::MarkOverdue => "marking overdue",
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
        _ => {
            return Err(InvalidTransition {
                subject: "event",
                current: current.as_str(),
                action: action.name(),
            });
        }
    };
    Ok(next)
}

/// The summons' status after `action`, or why it may not happen.
pub fn summons(
    current: SummonsStatus,
    action: SummonsAction,
) -> Result<SummonsStatus, InvalidTransition> {
    use SummonsAction as A;
    use SummonsStatus as S;
    let next = match (action, current) {
        (A::ReportIn, S::Summoned) => S::ReportedIn,
        (A::Decline, S::Summoned) => S::Declined,
        (A::Feedback { done: false }, S::ReportedIn | S::Acting) => S::Acting,
        (A::Feedback { done: true }, S::ReportedIn | S::Acting) => S::Done,
        (A::RequestExtension | A::DecideExtension, S::ReportedIn | S::Acting) => current,
        (A::MarkOverdue, S::Summoned | S::ReportedIn | S::Acting) => S::Overdue,
        _ => {
            return Err(InvalidTransition {
                subject: "summons",
                current: current.as_str(),
                action: action.name(),
            });
        }
    };
    Ok(next)
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
            summons(SummonsStatus::Summoned, A::ReportIn),
            Ok(SummonsStatus::ReportedIn)
        );
        assert!(summons(SummonsStatus::Summoned, A::Feedback { done: true }).is_err());
        assert_eq!(
            summons(SummonsStatus::Acting, A::Feedback { done: true }),
            Ok(SummonsStatus::Done)
        );
        for ended in [
            SummonsStatus::Done,
            SummonsStatus::Declined,
            SummonsStatus::Overdue,
        ] {
            for action in [
                A::ReportIn,
                A::Decline,
                A::MarkOverdue,
                A::Feedback { done: false },
            ] {
                assert!(summons(ended, action).is_err(), "{action:?} on {ended:?}");
            }
        }
    }
}
