//! A read replica of the primary: where queries read while it answers and keeps up.
//! Changes, the timeline's signals and the audit of personal reads stay on the primary
//! ([`super::Store::for_query`] says which is which).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::PgPool;

use super::StoreError;

/// How long a check waits for the replica's answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The replica, and whether queries read from it now (as its last check found).
pub struct ReadReplica {
    pool: PgPool,
    max_lag: Duration,
    /// Whether the last check found it current: what every query reads, without a lock.
    usable: AtomicBool,
    /// What the last check found.
    last: Mutex<ReplicaState>,
}

/// What a check found.
#[derive(Debug, Clone)]
pub enum ReplicaState {
    /// Answering, at most `max_lag` behind the primary (zero: caught up, or a server
    /// that is not in recovery, such as a logical replica or a proxy's reader endpoint).
    Current(Duration),
    /// Answering, but further behind than `max_lag`: queries read from the primary.
    Behind(Duration),
    /// Not answering (why), or not within [`CHECK_TIMEOUT`]: queries read from the
    /// primary.
    Unreachable(String),
}

impl ReplicaState {
    /// Whether queries read from the replica in this state.
    pub fn is_current(&self) -> bool {
        matches!(self, Self::Current(_))
    }
}

impl ReadReplica {
    /// A replica read from once a check finds it current.
    pub fn new(pool: PgPool, max_lag: Duration) -> Self {
        Self {
            pool,
            max_lag,
            usable: AtomicBool::new(false),
            last: Mutex::new(ReplicaState::Unreachable("not checked yet".to_owned())),
        }
    }

    /// Checks the replica once and routes queries by what it finds.
    pub async fn check(&self) -> ReplicaState {
        // A server not in recovery is current; a standby is caught up when everything it
        // received is replayed, and otherwise behind by the age of the last transaction
        // it replayed (none yet: NULL, taken as too far behind).
        let lag = sqlx::query_scalar::<_, Option<f64>>(
            "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 \
               WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 \
               ELSE greatest(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) \
             END::float8",
        )
        .fetch_one(&self.pool);
        let state = match tokio::time::timeout(CHECK_TIMEOUT, lag).await {
            Err(_) => {
                ReplicaState::Unreachable(format!("no answer within {} s", CHECK_TIMEOUT.as_secs()))
            }
            Ok(Err(error)) => ReplicaState::Unreachable(StoreError::from(error).to_string()),
            Ok(Ok(seconds)) => {
                let lag = Duration::from_secs_f64(seconds.unwrap_or(f64::MAX).min(1e9));
                if lag <= self.max_lag {
                    ReplicaState::Current(lag)
                } else {
                    ReplicaState::Behind(lag)
                }
            }
        };
        self.usable.store(state.is_current(), Ordering::Relaxed);
        if let Ok(mut last) = self.last.lock() {
            *last = state.clone();
        }
        state
    }

    /// What the last check found.
    pub fn last(&self) -> ReplicaState {
        self.last.lock().map_or_else(
            |_| ReplicaState::Unreachable("not known".to_owned()),
            |last| last.clone(),
        )
    }

    /// The replica's pool, while queries read from it.
    pub(super) fn pool(&self) -> Option<&PgPool> {
        self.is_usable().then_some(&self.pool)
    }

    /// Whether queries read from the replica now.
    pub fn is_usable(&self) -> bool {
        self.usable.load(Ordering::Relaxed)
    }
}
