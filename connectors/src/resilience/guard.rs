//! One department's protection, wrapped around each call: wait (a bounded time) for a
//! slot under the concurrency cap, pass the breaker, run the call under the time limit,
//! and retry reads that failed for a reason worth retrying.
//!
//! Waiting for a slot is the gateway's own saturation, not the department's failure: it
//! has its own limit (`queue_timeout`) and error (`Saturated`), is not retried, and never
//! counts against the breaker, whose permit is taken only once a slot is held. The
//! attempt's time limit starts then too.

use std::future::Future;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::breaker::{Breaker, BreakerConfig};
use super::retry::RetryPolicy;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardConfig {
    /// The limit on one attempt, from the moment it holds a slot.
    pub timeout: Duration,
    /// How long a call may wait for a slot under the cap before it is refused.
    pub queue_timeout: Duration,
    pub retry: RetryPolicy,
    pub breaker: BreakerConfig,
    /// Calls in flight at once; further calls wait for a slot.
    pub max_concurrency: usize,
}

impl Default for GuardConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(2),
            queue_timeout: Duration::from_secs(1),
            retry: RetryPolicy::default(),
            breaker: BreakerConfig::default(),
            max_concurrency: 16,
        }
    }
}

/// Why a guarded call gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError<E> {
    /// The breaker is open: the department was not called.
    #[error("the circuit is open; retry after {retry_after:?}")]
    CircuitOpen { retry_after: Duration },
    /// No slot under the concurrency cap came free in time: the gateway has too many
    /// calls to this department in flight. The department was not called.
    #[error("{in_flight} calls in flight; none finished within {waited:?}")]
    Saturated { waited: Duration, in_flight: usize },
    /// The last attempt did not finish in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The last attempt failed.
    #[error(transparent)]
    Upstream(E),
}

pub struct Guard {
    config: GuardConfig,
    breaker: Breaker,
    slots: Semaphore,
}

impl Guard {
    pub fn new(config: GuardConfig) -> Self {
        Self {
            breaker: Breaker::new(config.breaker),
            slots: Semaphore::new(config.max_concurrency.max(1)),
            config,
        }
    }

    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    /// Runs a read, retrying timeouts and the errors `retryable` calls transient.
    pub async fn read<T, E, F, Fut>(
        &self,
        mut call: F,
        retryable: impl Fn(&E) -> bool,
    ) -> Result<T, CallError<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let attempts = self.config.retry.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            let outcome = self.attempt(&mut call).await;
            let worth_retrying = match &outcome {
                Ok(_) | Err(CallError::CircuitOpen { .. } | CallError::Saturated { .. }) => false,
                Err(CallError::Timeout(_)) => true,
                Err(CallError::Upstream(error)) => retryable(error),
            };
            if !worth_retrying || attempt >= attempts {
                return outcome;
            }
            tokio::time::sleep(self.config.retry.backoff(attempt, fastrand::f64())).await;
            attempt += 1;
        }
    }

    /// Runs a call once (a write: whoever asked retries it, with its idempotency key).
    pub async fn once<T, E, F, Fut>(&self, mut call: F) -> Result<T, CallError<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.attempt(&mut call).await
    }

    async fn attempt<T, E, F, Fut>(&self, call: &mut F) -> Result<T, CallError<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        // The semaphore is never closed, so acquiring only waits.
        let Ok(Ok(_slot)) =
            tokio::time::timeout(self.config.queue_timeout, self.slots.acquire()).await
        else {
            return Err(CallError::Saturated {
                waited: self.config.queue_timeout,
                in_flight: self.config.max_concurrency.max(1),
            });
        };
        let permit = self
            .breaker
            .acquire()
            .map_err(|rejected| CallError::CircuitOpen {
                retry_after: rejected.retry_after,
            })?;
        match tokio::time::timeout(self.config.timeout, call()).await {
            Ok(Ok(value)) => {
                permit.success();
                Ok(value)
            }
            Ok(Err(error)) => {
                permit.failure();
                Err(CallError::Upstream(error))
            }
            Err(_) => {
                permit.failure();
                Err(CallError::Timeout(self.config.timeout))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::resilience::BreakerState;

    #[derive(Debug, PartialEq)]
    enum Failure {
        Transient,
        Permanent,
    }

    fn guard(max_attempts: u32) -> Guard {
        Guard::new(GuardConfig {
            timeout: Duration::from_millis(100),
            queue_timeout: Duration::from_millis(200),
            retry: RetryPolicy {
                max_attempts,
                base_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(50),
            },
            breaker: BreakerConfig {
                failure_threshold: 5,
                open_for: Duration::from_secs(10),
            },
            max_concurrency: 2,
        })
    }

    fn transient(failure: &Failure) -> bool {
        *failure == Failure::Transient
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_until_an_answer() {
        let guard = guard(3);
        let calls = AtomicU32::new(0);
        let answer = guard
            .read(
                || async {
                    match calls.fetch_add(1, Ordering::SeqCst) {
                        0 | 1 => Err(Failure::Transient),
                        _ => Ok("户籍"),
                    }
                },
                transient,
            )
            .await;
        assert_eq!(answer.ok(), Some("户籍"));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_failures_are_not_retried() {
        let guard = guard(3);
        let calls = AtomicU32::new(0);
        let answer: Result<(), _> = guard
            .read(
                || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Err(Failure::Permanent)
                },
                transient,
            )
            .await;
        assert!(matches!(
            answer,
            Err(CallError::Upstream(Failure::Permanent))
        ));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hung_department_times_out_on_every_attempt() {
        let guard = guard(2);
        let calls = AtomicU32::new(0);
        let answer: Result<(), CallError<Failure>> = guard
            .read(
                || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    std::future::pending()
                },
                transient,
            )
            .await;
        assert!(matches!(answer, Err(CallError::Timeout(t)) if t == Duration::from_millis(100)));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn an_open_circuit_refuses_without_calling_the_department() {
        let guard = guard(1);
        for _ in 0..5 {
            let _ = guard
                .read(|| async { Err::<(), _>(Failure::Transient) }, transient)
                .await;
        }
        assert_eq!(guard.breaker().state(), BreakerState::Open);
        let calls = AtomicU32::new(0);
        let answer = guard
            .read(
                || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, Failure>(())
                },
                transient,
            )
            .await;
        assert!(matches!(answer, Err(CallError::CircuitOpen { .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn no_more_than_the_cap_are_in_flight_at_once() {
        let guard = Arc::new(guard(1));
        let in_flight = Arc::new(AtomicU32::new(0));
        let most = Arc::new(AtomicU32::new(0));
        let calls: Vec<_> = (0..6)
            .map(|_| {
                let (guard, in_flight, most) = (guard.clone(), in_flight.clone(), most.clone());
                tokio::spawn(async move {
                    guard
                        .read(
                            || async {
                                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                                most.fetch_max(now, Ordering::SeqCst);
                                tokio::time::sleep(Duration::from_millis(10)).await;
                                in_flight.fetch_sub(1, Ordering::SeqCst);
                                Ok::<_, Failure>(())
                            },
                            transient,
                        )
                        .await
                        .is_ok()
                })
            })
            .collect();
        for call in calls {
            assert!(call.await.unwrap_or(false));
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    /// Calls that each take `each` under a guard of cap 2, `calls` of them at once: how
    /// many answered, and how many were refused as saturated.
    async fn load(guard: &Arc<Guard>, calls: usize, each: Duration) -> (usize, usize) {
        let tasks: Vec<_> = (0..calls)
            .map(|_| {
                let guard = guard.clone();
                tokio::spawn(async move {
                    guard
                        .read(
                            || async {
                                tokio::time::sleep(each).await;
                                Ok::<_, Failure>(())
                            },
                            transient,
                        )
                        .await
                })
            })
            .collect();
        let (mut answered, mut saturated) = (0, 0);
        for task in tasks {
            match task.await {
                Ok(Ok(())) => answered += 1,
                Ok(Err(CallError::Saturated { waited, in_flight })) => {
                    assert_eq!((waited, in_flight), (Duration::from_millis(200), 2));
                    saturated += 1;
                }
                other => panic!("neither an answer nor saturation: {other:?}"),
            }
        }
        (answered, saturated)
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_for_a_slot_is_not_the_department_s_failure() {
        let guard = Arc::new(guard(3));
        // 60 calls of 90 ms each at a cap of 2: slots free every 90 ms, so within the
        // 200 ms a call may wait, the first 2 run at once and 4 more get a slot; none
        // of them hits the 100 ms time limit, which starts only once a slot is held.
        let (answered, saturated) = load(&guard, 60, Duration::from_millis(90)).await;
        assert_eq!((answered, saturated), (6, 54));
        // Saturated over and over, the department never failed: the circuit stays closed.
        assert_eq!(guard.breaker().state(), BreakerState::Closed);
        for _ in 0..5 {
            let (answered, _) = load(&guard, 60, Duration::from_millis(90)).await;
            assert_eq!(answered, 6);
        }
        assert_eq!(guard.breaker().state(), BreakerState::Closed);
        // And a department that does fail still opens it.
        for _ in 0..5 {
            let _ = guard
                .read(|| async { Err::<(), _>(Failure::Permanent) }, transient)
                .await;
        }
        assert_eq!(guard.breaker().state(), BreakerState::Open);
    }
}
