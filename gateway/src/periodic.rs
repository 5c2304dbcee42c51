//! Rounds of a sync run on a schedule: one task per source, a round every period (the
//! first one period after start), each round in a task of its own so that one that
//! panics does not stop the next. Which replica does a round is settled by the source's
//! sync lock, inside the round.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// How many rounds a jobs pool of `connections` leaves room for at once: a round holds
/// its source's sync lock on one connection and takes another for each step, and the
/// signal relay, the hub and the other jobs need theirs.
pub fn rounds_at_once(connections: u32) -> usize {
    (connections.saturating_sub(2) / 2).max(1) as usize
}

/// The scheduled rounds of some sources; stopped when dropped.
pub struct Periodic {
    tasks: Vec<JoinHandle<()>>,
    /// Rounds running at once, whatever their source.
    running: Arc<Semaphore>,
}

impl Periodic {
    /// Rounds of at most `at_once` sources run at the same time; the others wait their
    /// turn. Sources of the same period start together, and without the cap each round
    /// took a connection for its lock and waited for another until the pool's timeout,
    /// every connection of the jobs pool held, the signal relay's included.
    pub fn new(at_once: usize) -> Self {
        Self {
            tasks: Vec::new(),
            running: Arc::new(Semaphore::new(at_once.max(1))),
        }
    }

    /// Runs `round` every `period` (at least a second) for `source`.
    pub fn every<F, Fut>(&mut self, source: String, period: Duration, round: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let period = period.max(Duration::from_secs(1));
        let running = Arc::clone(&self.running);
        self.tasks.push(tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(Instant::now() + period, period);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Ok(turn) = Arc::clone(&running).acquire_owned().await else {
                    return;
                };
                let this_round = round();
                let ran = tokio::spawn(async move {
                    this_round.await;
                    drop(turn);
                });
                if let Err(error) = ran.await {
                    tracing::error!(source = %source, %error, "a sync round failed");
                }
            }
        }));
    }
}

impl Drop for Periodic {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn a_pool_leaves_room_for_the_other_jobs() {
        assert_eq!(rounds_at_once(4), 1);
        assert_eq!(rounds_at_once(2), 1);
        assert_eq!(rounds_at_once(0), 1);
        assert_eq!(rounds_at_once(10), 4);
    }

    #[tokio::test]
    async fn sources_of_one_period_take_turns() {
        let mut periodic = Periodic::new(1);
        let (now, most, rounds) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        for source in ["220402-GA", "220403-GA", "220421-GA"] {
            let (now, most, rounds) = (now.clone(), most.clone(), rounds.clone());
            periodic.every(source.to_owned(), Duration::from_secs(1), move || {
                let (now, most, rounds) = (now.clone(), most.clone(), rounds.clone());
                async move {
                    let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(running, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                    rounds.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        tokio::time::sleep(Duration::from_millis(1_300)).await;
        assert_eq!(
            rounds.load(Ordering::SeqCst),
            3,
            "each source had its round"
        );
        assert_eq!(most.load(Ordering::SeqCst), 1, "one at a time");
    }
}
