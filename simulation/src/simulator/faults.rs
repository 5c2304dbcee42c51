//! Faults injected into a simulated department at run time, to see the gateway cope.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What goes wrong with a department's answers. All off by default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Fault {
    /// Added to every answer.
    pub latency_ms: u64,
    /// A random extra of up to this much.
    pub jitter_ms: u64,
    /// The share of requests (0 to 1) answered with HTTP 500.
    pub error_rate: f64,
    /// Every request is answered 503.
    pub down: bool,
    /// Requests are never answered.
    pub hang: bool,
    /// Answers are not what the department's API promises.
    pub garbage: Option<Garbage>,
    /// Lists answer at most this many items, the rest left out without a word (a
    /// server's page cap).
    pub max_results: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Garbage {
    /// A body cut off in the middle: not JSON.
    Json,
    /// JSON of the right shape whose values have the wrong types.
    Types,
}

/// What a fault does to one request, decided before answering.
pub enum Effect {
    Answer,
    Fail(u16),
    Hang,
}

impl Fault {
    pub fn delay(&self) -> Duration {
        let jitter = if self.jitter_ms > 0 {
            fastrand::u64(0..=self.jitter_ms)
        } else {
            0
        };
        Duration::from_millis(self.latency_ms + jitter)
    }

    pub fn effect(&self) -> Effect {
        if self.hang {
            Effect::Hang
        } else if self.down {
            Effect::Fail(503)
        } else if self.error_rate > 0.0 && fastrand::f64() < self.error_rate {
            Effect::Fail(500)
        } else {
            Effect::Answer
        }
    }

    pub fn check(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.error_rate) {
            return Err(format!(
                "error_rate must be between 0 and 1, not {}",
                self.error_rate
            ));
        }
        Ok(())
    }
}
