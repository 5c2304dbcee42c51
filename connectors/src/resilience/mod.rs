//! Keeping a slow or failing department system from hurting its callers: a time limit on
//! every call, retries with jittered backoff for reads, a circuit breaker that stops
//! calling a department that keeps failing, and a cap on calls in flight. One [`Guard`]
//! per department; connector kinds call through it.

mod breaker;
mod guard;
mod retry;

pub use breaker::{Breaker, BreakerConfig, BreakerState, Permit, Rejected};
pub use guard::{CallError, Guard, GuardConfig};
pub use retry::RetryPolicy;
