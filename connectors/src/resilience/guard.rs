//! One department's protection, wrapped around each call: wait for a slot under the
//! concurrency cap, pass the breaker, run the call under the time limit, and retry reads
//! that failed for a reason worth retrying.

use std::future::Future;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::breaker::{Breaker, BreakerConfig};
use super::retry::RetryPolicy;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardConfig {
    /// The limit on one attempt, waiting for a slot included.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub breaker: BreakerConfig,
    /// Calls in flight at once; further calls wait for a slot.
    pub max_concurrency: usize,
}

impl Default for GuardConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(2),
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
                Ok(_) | Err(CallError::CircuitOpen { .. }) => false,
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
        let permit = self
            .breaker
            .acquire()
            .map_err(|rejected| CallError::CircuitOpen {
                retry_after: rejected.retry_after,
            })?;
        let limited = async {
            // The semaphore is never closed, so acquiring only waits.
            let _slot = self.slots.acquire().await;
            call().await
        };
        match tokio::time::timeout(self.config.timeout, limited).await {
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
}
