//! The deadline watcher (督办): every `workflow.deadline_check_ms`, summonses past their
//! deadlines are marked OVERDUE and supervised, and so are open events past their own
//! `dueAt`. Safe with any number of replicas: the store claims each summons and event
//! once.

use std::time::Duration;

use chrono::Utc;
use schema::Store;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// Summonses (or events) handled per batch; the next batch takes the rest at once.
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
        drain("summonses", || store.mark_overdue(Utc::now(), BATCH)).await;
        drain("events", || store.mark_events_overdue(Utc::now(), BATCH)).await;
    }
}

/// Runs `mark` until a batch comes back short.
async fn drain<F, Fut>(what: &'static str, mark: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<usize, schema::StoreError>>,
{
    metrics::counter!("gateway_deadline_checks_total", "what" => what).increment(1);
    loop {
        match mark().await {
            Ok(0) => break,
            Ok(marked) => {
                metrics::counter!("gateway_overdue_marks_total", "what" => what)
                    .increment(marked as u64);
                tracing::info!(marked, what, "past their deadlines: marked overdue");
                if (marked as i64) < BATCH {
                    break;
                }
            }
            Err(error) => {
                tracing::warn!(%error, what, "deadline check failed; retrying next round");
                break;
            }
        }
    }
}
