//! The pruning job: every `workflow.prune_every_s`, idempotency keys and published outbox
//! rows older than `workflow.retention_days` are removed. Each replica runs the job; the
//! store lets one run per period through, whichever replica comes first.

use std::time::Duration;

use schema::Store;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// Runs until dropped.
pub struct Pruner {
    task: JoinHandle<()>,
}

impl Pruner {
    /// `None` when the period is zero (disabled on this replica).
    pub fn start(store: Store, retention: Duration, every: Duration) -> Option<Self> {
        if every.is_zero() {
            return None;
        }
        Some(Self {
            task: tokio::spawn(run(store, retention, every)),
        })
    }
}

impl Drop for Pruner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(store: Store, retention: Duration, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match store.prune(retention, every).await {
            Ok(Some(pruned)) => tracing::info!(
                idempotency_keys = pruned.idempotency_keys,
                outbox_rows = pruned.outbox_rows,
                "pruned what the retention period no longer keeps"
            ),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "pruning failed; retrying next period"),
        }
    }
}
