//! A circuit breaker: closed while calls succeed; open (refusing at once) after
//! `failure_threshold` failures in a row, for `open_for`; then half-open, letting one
//! probe through, whose outcome closes or reopens it.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    pub failure_threshold: u32,
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_for: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe is out; everything else is refused until it reports.
    HalfOpen,
}

/// The breaker refused a call; the department may be tried again after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("circuit open; retry after {retry_after:?}")]
pub struct Rejected {
    pub retry_after: Duration,
}

pub struct Breaker {
    config: BreakerConfig,
    state: Mutex<State>,
}

impl Breaker {
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a plain value: a panic elsewhere cannot leave it half-written.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn state(&self) -> BreakerState {
        match *self.lock() {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { until } if Instant::now() >= until => BreakerState::HalfOpen,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen => BreakerState::HalfOpen,
        }
    }

    /// Admits a call, or refuses it while the circuit is open or a probe is out.
    pub fn acquire(&self) -> Result<Permit<'_>, Rejected> {
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Ok(Permit::new(self, false)),
            State::Open { until } => {
                let now = Instant::now();
                if now < until {
                    Err(Rejected {
                        retry_after: until - now,
                    })
                } else {
                    *state = State::HalfOpen;
                    Ok(Permit::new(self, true))
                }
            }
            State::HalfOpen => Err(Rejected {
                retry_after: Duration::ZERO,
            }),
        }
    }

    fn report(&self, probe: bool, success: bool) {
        let mut state = self.lock();
        *state = match (*state, success) {
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 < self.config.failure_threshold => {
                State::Closed {
                    failures: failures + 1,
                }
            }
            (State::HalfOpen, false) if !probe => State::HalfOpen,
            (_, false) => State::Open {
                until: Instant::now() + self.config.open_for,
            },
        };
    }
}

/// An admitted call. Report its outcome; a permit dropped unreported (the caller gave
/// up) counts as a failure.
pub struct Permit<'a> {
    breaker: &'a Breaker,
    probe: bool,
    reported: bool,
}

impl<'a> Permit<'a> {
    fn new(breaker: &'a Breaker, probe: bool) -> Self {
        Self {
            breaker,
            probe,
            reported: false,
        }
    }

    pub fn success(mut self) {
        self.reported = true;
        self.breaker.report(self.probe, true);
    }

    pub fn failure(mut self) {
        self.reported = true;
        self.breaker.report(self.probe, false);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.reported {
            self.breaker.report(self.probe, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerConfig {
            failure_threshold: 3,
            open_for: Duration::from_secs(10),
        })
    }

    fn fail(breaker: &Breaker, times: u32) {
        for _ in 0..times {
            breaker.acquire().map(Permit::failure).expect("admitted");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_the_threshold_of_failures_in_a_row() {
        let breaker = breaker();
        fail(&breaker, 2);
        breaker.acquire().map(Permit::success).expect("admitted");
        fail(&breaker, 2);
        assert_eq!(
            breaker.state(),
            BreakerState::Closed,
            "a success resets the count"
        );
        fail(&breaker, 1);
        assert_eq!(breaker.state(), BreakerState::Open);
        let refused = breaker.acquire().err();
        assert_eq!(
            refused.map(|r| r.retry_after),
            Some(Duration::from_secs(10))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn half_opens_after_the_wait_and_lets_one_probe_through() {
        let breaker = breaker();
        fail(&breaker, 3);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        let probe = breaker.acquire().expect("the probe is admitted");
        assert!(breaker.acquire().is_err(), "only one probe at a time");
        probe.success();
        assert_eq!(breaker.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_probe_reopens_for_another_wait() {
        let breaker = breaker();
        fail(&breaker, 3);
        tokio::time::advance(Duration::from_secs(11)).await;
        breaker.acquire().map(Permit::failure).expect("probe");
        assert_eq!(breaker.state(), BreakerState::Open);
        tokio::time::advance(Duration::from_secs(9)).await;
        assert_eq!(breaker.state(), BreakerState::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn an_abandoned_permit_counts_as_a_failure() {
        let breaker = breaker();
        for _ in 0..3 {
            drop(breaker.acquire().expect("admitted"));
        }
        assert_eq!(breaker.state(), BreakerState::Open);
    }
}
