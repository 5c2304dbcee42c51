//! The dispatch workflow (吹哨/报到): events moved through their states, departments
//! summoned and reporting in, every change appended to the event's timeline and the
//! outbox in the same transaction. Mutations are idempotent by key.
//!
//! One file per job:
//! - [`machine`]: the state machines, the only place a transition is allowed or refused;
//! - `change`: the one path of every change — permission, idempotency key, workflow
//!   lock, the event locked and checked against the caller's reach, commit;
//! - `idempotency`: keys recorded with their request, replayed or refused;
//! - `timeline`: entries written at commit with their outbox rows and the key;
//! - `events`: the event's own transitions (report, accept, reject, return, escalate,
//!   assign, urge, add photos, resolve, revisit, close);
//! - `handling`: who handles an event — the level above, a level below, a person — and
//!   the loop's rules for each;
//! - `disputes`: 诉调一体 — a dispute referred to mediation, its outcome, judicial
//!   confirmation, court — each step queuing what department systems must be told;
//! - `writes`: the write outbox — department systems told, once, whatever fails;
//! - `dispatch`: 吹哨 and each summons' transitions (report in, decline, extension,
//!   feedback, urge);
//! - `addressees`: whom a summons addresses (department, team, person) and the rules
//!   for summoning them;
//! - `deadlines`: how long each step may take, and the watcher marking overdue (督办);
//! - `records`: the types read and written; `reads`: timelines and summonses, scoped;
//!   `queues`: work queues by deadline (a department's summonses, a level's events);
//! - `collection`: 网格员信息采集 — persons, places, things and organizations created
//!   and updated in the grid, memberships; `duplicates`: what is taken for one before
//!   anything is written; `merge`: a duplicate merged into the element it duplicates;
//!   `history`: every change to an element, before → after; `feeds`: a page of a
//!   department's change feed applied, with its cursor;
//! - `photos`: photos uploaded with a report, checked, stored and read back;
//! - `outbox`: publishing the outbox to the signal channel; `signals`: the hub that
//!   fans signals out to subscribers; `retention`: pruning what is kept for a while;
//! - `error`: what a change fails with.

mod addressees;
mod change;
mod collection;
mod deadlines;
mod dispatch;
mod disputes;
mod duplicates;
mod error;
mod events;
mod feeds;
mod handling;
mod history;
mod idempotency;
pub mod machine;
mod merge;
pub(crate) mod ordering;
mod outbox;
mod photos;
mod queues;
mod reads;
mod records;
mod retention;
mod signals;
mod timeline;
mod writes;

pub use crate::access::Actor;
pub use collection::{Collected, Draft};
pub use disputes::Mediation;
pub use duplicates::Candidate;
pub use error::WorkflowError;
pub use feeds::FeedApplied;
pub use history::ElementChange;
pub use machine::{EventAction, InvalidTransition, SummonsAction};
pub use outbox::PublishError;
pub use photos::{PhotoFile, photo_path};
pub use queues::{
    DuePage, EventQueue, EventQueueFilter, Owner, Queue, SummonsQueue, SummonsQueueFilter,
};
pub use records::{Addressee, Decision, NewEvent, Outcome, Summon, Summons, TimelineEntry};
pub use retention::Pruned;
pub use signals::{SignalFilter, SignalHub};
pub(crate) use timeline::record_reported;
pub use writes::{DepartmentWrite, DueWrite};
