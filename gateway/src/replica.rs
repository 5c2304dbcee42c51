//! The read replica (`read_database_url`): opened at start, checked every second, and
//! read from by queries while it answers within `database.max_replica_lag_ms` of the
//! primary (`schema::Store::for_query`); otherwise queries read from the primary, and
//! the operator is told when that starts and ends.

use std::sync::Arc;
use std::time::Duration;

use schema::store::{ReadReplica, ReplicaState};

use crate::config::Config;
use crate::database::{self, DatabaseError};
use crate::periodic::Periodic;

/// The configured replica, checked once; `None` when none is configured.
pub async fn open(config: &Config) -> Result<Option<Arc<ReadReplica>>, DatabaseError> {
    if config.read_database_url.is_empty() {
        return Ok(None);
    }
    let replica = Arc::new(ReadReplica::new(
        database::pool(config, database::Purpose::Reads)?,
        Duration::from_millis(config.database.max_replica_lag_ms),
    ));
    let state = replica.check().await;
    report(&state, None);
    Ok(Some(replica))
}

/// Checks the replica every second for as long as `periodic` runs.
pub fn schedule(replica: Arc<ReadReplica>, periodic: &mut Periodic) {
    periodic.every(
        "read replica".to_owned(),
        Duration::from_secs(1),
        move || {
            let replica = replica.clone();
            async move {
                let was_usable = replica.is_usable();
                let state = replica.check().await;
                report(&state, Some(was_usable));
            }
        },
    );
}

/// Records the check in the metrics, and tells the operator when queries move from one
/// server to the other (every state at start, when `was_usable` is `None`).
fn report(state: &ReplicaState, was_usable: Option<bool>) {
    let usable = state.is_current();
    metrics::gauge!("gateway_read_replica_usable").set(f64::from(u8::from(usable)));
    if let ReplicaState::Current(lag) | ReplicaState::Behind(lag) = state {
        metrics::gauge!("gateway_read_replica_lag_seconds").set(lag.as_secs_f64());
    }
    if was_usable == Some(usable) {
        return;
    }
    match state {
        ReplicaState::Current(lag) => tracing::info!(
            lag_ms = lag.as_millis() as u64,
            "queries read from the read replica"
        ),
        ReplicaState::Behind(lag) => tracing::warn!(
            lag_ms = lag.as_millis() as u64,
            "the read replica is behind the primary by more than database.max_replica_lag_ms: \
             queries read from the primary until it catches up"
        ),
        ReplicaState::Unreachable(why) => tracing::warn!(
            error = %why,
            "the read replica does not answer: queries read from the primary until it does"
        ),
    }
}
