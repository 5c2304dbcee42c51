//! The dispatch workflow (吹哨/报到): events moved through their states, departments
//! summoned and reporting in, every change appended to the event's timeline and the
//! outbox in the same transaction. Mutations are idempotent by key.

mod deadlines;
pub mod machine;
mod retention;
mod signals;
mod store;

pub use machine::{EventAction, InvalidTransition, SummonsAction};
pub use retention::Pruned;
pub use signals::{SignalFilter, SignalHub};
pub(crate) use store::record_reported;
pub use store::{
    Actor, Decision, NewEvent, Outcome, PublishError, Summon, Summons, TimelineEntry, WorkflowError,
};
