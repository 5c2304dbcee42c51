//! The deadline watcher (督办): every `workflow.deadline_check_ms`, summonses past their
//! deadlines are marked OVERDUE and supervised. Safe with any number of replicas: the
//! store claims each summons once.

use std::time::Duration;

use chrono::Utc;
use schema::Store;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// Summonses handled per round; the next round takes the rest at once.
const BATCH: i64 = 500;

/// Runs until dropped.
pub struct DeadlineWatcher {
    task: JoinHandle<()>,
}

impl DeadlineWatcher {
    /// `None` when the period is zero (disabled).
    pub fn start(store: Store, period: Duration) -> Option<Self> {
        if period.is_zero() {
            return None;
        }
        Some(Self {
            task: tokio::spawn(run(store, period)),
        })
    }
}

impl Drop for DeadlineWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(store: Store, period: Duration) {
    let mut ticks = tokio::time::interval_at(Instant::now() + period, period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        loop {
            match store.mark_overdue(Utc::now(), BATCH).await {
                Ok(0) => break,
                Ok(marked) => {
                    tracing::info!(marked, "summonses past their deadlines marked overdue");
                    if (marked as i64) < BATCH {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "deadline check failed; retrying next round");
                    break;
                }
            }
        }
    }
}
