//! Per-principal rate limits: a token bucket per caller (the token's `sub`), kept in
//! Redis so that every replica draws from the same bucket, refilled at
//! `rate_limit.requests_per_s` up to `rate_limit.burst`. While Redis cannot be reached,
//! each replica keeps buckets of its own, so that limits hold, per replica, rather than
//! lapse.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use connectors::redis_link::{REDIS_TIMEOUT, RedisLink};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Requests each principal may make per second, sustained; 0 turns limits off.
    pub requests_per_s: f64,
    /// Requests a principal may make at once after being idle.
    pub burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            requests_per_s: 0.0,
            burst: 50,
        }
    }
}

/// Takes one token from the bucket `KEYS[1]` (fields `t`okens and `s`tamp in ms), refilled
/// at `ARGV[1]` tokens per second up to `ARGV[2]`, on Redis's own clock; answers
/// `{1, 0}` when admitted, `{0, wait_ms}` when not.
const TAKE: &str = r"
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local tokens = tonumber(redis.call('HGET', KEYS[1], 't'))
local stamp = tonumber(redis.call('HGET', KEYS[1], 's'))
if tokens == nil or stamp == nil then
  tokens = burst
  stamp = now
end
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate / 1000)
local admitted = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  admitted = 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 's', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {admitted, wait}
";

pub struct RateLimiter {
    rate: f64,
    burst: f64,
    redis: Option<RedisLink>,
    prefix: String,
    script: redis::Script,
    /// This replica's buckets, used while Redis is away.
    local: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    stamp: Instant,
}

impl RateLimiter {
    /// The limiter of `config`, or `None` when limits are off.
    pub fn new(
        config: &RateLimitConfig,
        redis: Option<redis::Client>,
        prefix: &str,
    ) -> Option<Self> {
        (config.requests_per_s > 0.0).then(|| Self {
            rate: config.requests_per_s,
            burst: f64::from(config.burst.max(1)),
            redis: redis.map(|client| RedisLink::new(client, "rate limits")),
            prefix: format!("{prefix}rate:"),
            script: redis::Script::new(TAKE),
            local: Mutex::new(HashMap::new()),
        })
    }

    /// Admits one request of `principal`, or says how long until it would be.
    pub async fn admit(&self, principal: &str) -> Result<(), Duration> {
        if let Some(answer) = self.shared(principal).await {
            return answer;
        }
        self.on_this_replica(principal)
    }

    /// The shared bucket's answer; `None` when Redis cannot give one.
    async fn shared(&self, principal: &str) -> Option<Result<(), Duration>> {
        let mut connection = self.redis.as_ref()?.connection().await?;
        let mut invocation = self.script.key(format!("{}{principal}", self.prefix));
        invocation.arg(self.rate).arg(self.burst);
        let call = invocation.invoke_async::<(u8, u64)>(&mut connection);
        match tokio::time::timeout(REDIS_TIMEOUT, call).await {
            Ok(Ok((1, _))) => Some(Ok(())),
            Ok(Ok((_, wait_ms))) => Some(Err(Duration::from_millis(wait_ms))),
            Ok(Err(error)) => {
                tracing::warn!(%error, "rate limits: Redis failed, limiting per replica");
                None
            }
            Err(_) => {
                tracing::warn!("rate limits: Redis timed out, limiting per replica");
                None
            }
        }
    }

    fn on_this_replica(&self, principal: &str) -> Result<(), Duration> {
        let mut buckets = self.local.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let bucket = buckets.entry(principal.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            stamp: now,
        });
        let elapsed = now.duration_since(bucket.stamp).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.stamp = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_redis_a_replica_limits_on_its_own() {
        let config = RateLimitConfig {
            requests_per_s: 1.0,
            burst: 2,
        };
        let limiter = RateLimiter::new(&config, None, "t:").expect("limits on");
        assert_eq!(limiter.admit("a").await, Ok(()));
        assert_eq!(limiter.admit("a").await, Ok(()));
        let wait = limiter.admit("a").await.expect_err("the burst is spent");
        assert!(wait > Duration::from_millis(500) && wait <= Duration::from_secs(1));
        assert_eq!(
            limiter.admit("b").await,
            Ok(()),
            "buckets are per principal"
        );
        let off = RateLimitConfig::default();
        assert!(RateLimiter::new(&off, None, "t:").is_none());
    }
}
