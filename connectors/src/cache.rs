//! Department records cached in Redis, per department with its own TTL. An entry outlives
//! its TTL by the department's stale-if-error window, so that a failing department can
//! still be answered from it (marked stale). Redis trouble never fails a request: the
//! cache is skipped and the department asked.

use std::time::Duration;

use chrono::{DateTime, Utc};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::redis_link::{REDIS_TIMEOUT, RedisLink};

/// A record as cached: `None` remembers that the department has no such record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub fetched_at: DateTime<Utc>,
    pub record: Option<Value>,
}

impl Entry {
    pub fn is_fresh(&self, ttl: Duration, now: DateTime<Utc>) -> bool {
        let age = now.signed_duration_since(self.fetched_at);
        age.to_std().map_or(true, |age| age < ttl)
    }
}

pub struct Cache {
    link: RedisLink,
    prefix: String,
    /// How long past its TTL a record holding personal data may be kept to answer from
    /// when its department fails: personal data is not kept around "just in case".
    personal_stale_ttl: Duration,
}

/// The default for [`Cache::personal_stale_ttl`]: one hour.
pub const PERSONAL_STALE_TTL: Duration = Duration::from_secs(3_600);

impl Cache {
    /// `prefix` separates gateways sharing one Redis (tests, several cities).
    pub fn new(client: redis::Client, prefix: impl Into<String>) -> Self {
        Self {
            link: RedisLink::new(client, "department cache"),
            prefix: prefix.into(),
            personal_stale_ttl: PERSONAL_STALE_TTL,
        }
    }

    /// The same cache, keeping stale records with personal data at most `ttl`.
    pub fn with_personal_stale_ttl(mut self, ttl: Duration) -> Self {
        self.personal_stale_ttl = ttl;
        self
    }

    /// How long past their TTL records may be kept: the department's stale-if-error
    /// window, bounded for records that hold personal data.
    pub fn stale_window(&self, stale_if_error: Duration, personal: bool) -> Duration {
        if personal {
            stale_if_error.min(self.personal_stale_ttl)
        } else {
            stale_if_error
        }
    }

    pub fn key(&self, department: &str, element: &str, source_id: &str) -> String {
        format!("{}dept:{department}:{element}:{source_id}", self.prefix)
    }

    async fn connection(&self) -> Option<ConnectionManager> {
        self.link.connection().await
    }

    /// The entries for `keys`, in order; `None` where missing or unreadable.
    pub async fn get(&self, keys: &[String]) -> Vec<Option<Entry>> {
        let missing = || vec![None; keys.len()];
        if keys.is_empty() {
            return missing();
        }
        let Some(mut connection) = self.connection().await else {
            return missing();
        };
        let read = connection.mget::<_, Vec<Option<String>>>(keys);
        match tokio::time::timeout(REDIS_TIMEOUT, read).await {
            Ok(Ok(values)) if values.len() == keys.len() => values
                .into_iter()
                .map(|v| v.and_then(|text| serde_json::from_str(&text).ok()))
                .collect(),
            Ok(Ok(_)) => missing(),
            Ok(Err(error)) => {
                tracing::warn!(%error, "Redis read failed: department cache skipped");
                missing()
            }
            Err(_) => {
                tracing::warn!("Redis read timed out: department cache skipped");
                missing()
            }
        }
    }

    /// Stores entries, each kept for `keep` (TTL plus the stale-if-error window).
    pub async fn put(&self, entries: &[(String, Entry)], keep: Duration) {
        if entries.is_empty() || keep.is_zero() {
            return;
        }
        let Some(mut connection) = self.connection().await else {
            return;
        };
        let mut pipe = redis::pipe();
        let millis = u64::try_from(keep.as_millis()).unwrap_or(u64::MAX);
        for (key, entry) in entries {
            if let Ok(text) = serde_json::to_string(entry) {
                pipe.pset_ex(key, text, millis).ignore();
            }
        }
        let write = pipe.query_async::<()>(&mut connection);
        match tokio::time::timeout(REDIS_TIMEOUT, write).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "Redis write failed: records not cached"),
            Err(_) => tracing::warn!("Redis write timed out: records not cached"),
        }
    }
}
