//! Rounds of a sync run on a schedule: one task per source, a round every period (the
//! first one period after start), each round in a task of its own so that one that
//! panics does not stop the next. Which replica does a round is settled by the source's
//! sync lock, inside the round.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// The scheduled rounds of some sources; stopped when dropped.
pub struct Periodic {
    tasks: Vec<JoinHandle<()>>,
}

impl Periodic {
    pub fn new() -> Self {
        Self { tasks: Vec::new() }
    }

    /// Runs `round` every `period` (at least a second) for `source`.
    pub fn every<F, Fut>(&mut self, source: String, period: Duration, round: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let period = period.max(Duration::from_secs(1));
        self.tasks.push(tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(Instant::now() + period, period);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(error) = tokio::spawn(round()).await {
                    tracing::error!(source = %source, %error, "a sync round failed");
                }
            }
        }));
    }
}

impl Default for Periodic {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Periodic {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
