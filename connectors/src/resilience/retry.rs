//! How often and how patiently a read is retried: exponential backoff with full jitter,
//! so that callers which failed together do not retry together.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 means no retry.
    pub max_attempts: u32,
    /// The ceiling of the first retry's delay; it doubles with each further retry.
    pub base_delay: Duration,
    /// No delay exceeds this.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `retry` (1 for the first retry), given a uniform
    /// draw `unit` in [0, 1): anywhere from zero to the exponential ceiling.
    pub fn backoff(&self, retry: u32, unit: f64) -> Duration {
        let doubling = 2u32.saturating_pow(retry.saturating_sub(1));
        let ceiling = self.base_delay.saturating_mul(doubling).min(self.max_delay);
        ceiling.mul_f64(unit.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitters_below_it() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
        };
        assert_eq!(policy.backoff(1, 1.0), Duration::from_millis(100));
        assert_eq!(policy.backoff(2, 1.0), Duration::from_millis(200));
        assert_eq!(policy.backoff(3, 1.0), Duration::from_millis(400));
        assert_eq!(policy.backoff(4, 1.0), Duration::from_millis(500));
        assert_eq!(policy.backoff(40, 1.0), Duration::from_millis(500));
        assert_eq!(policy.backoff(3, 0.5), Duration::from_millis(200));
        assert_eq!(policy.backoff(3, 0.0), Duration::ZERO);
    }
}
