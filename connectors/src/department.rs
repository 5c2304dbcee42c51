//! One department system at run time: its client (per kind), its guard, and the
//! coalescing of identical fetches in flight. A fetch looks in the cache first, asks the
//! department for the rest (in batches of at most `max_batch`), and serves an expired
//! cached record, marked stale, when the department fails.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared, join_all};
use serde_json::Value;
use tokio::sync::oneshot;
use tracing::Instrument;

use crate::cache::{Cache, Entry};
use crate::config::{DepartmentConfig, Lookup};
use crate::resilience::{CallError, Guard};
use crate::rest::RestClient;
use crate::sql::SqlClient;
use crate::upstream::UpstreamError;
use crate::{ConnectorKind, Element};

/// A record as a request sees it, with where it came from.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Normalised: `{ "<federated field>": { "<our field>": value, … }, … }`.
    pub record: Arc<Value>,
    pub fetched_at: DateTime<Utc>,
    /// Served from the cache rather than asked for now.
    pub cached: bool,
    /// Served from the cache past its TTL because the department failed.
    pub stale: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Down, slow, refusing, or its circuit is open.
    Unavailable,
    /// Not called: the gateway already has as many calls to it in flight as its cap
    /// allows, and none finished in time. Not the department's failure.
    Busy,
    /// It answered something we cannot read.
    BadResponse,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("department {department}: {message}")]
pub struct DepartmentError {
    pub department: String,
    pub failure: Failure,
    pub message: String,
}

/// What a fetch found for one id: a record, none (`Ok(None)`), or the department's failure.
pub type Slot = Result<Option<Fetched>, DepartmentError>;

type Pending = Shared<BoxFuture<'static, Slot>>;

pub(crate) enum Client {
    Rest(RestClient),
    Sql(SqlClient),
    /// Kinds that are not read record by record (open311).
    None,
}

pub struct Department {
    pub(crate) config: DepartmentConfig,
    pub(crate) guard: Guard,
    pub(crate) client: Client,
    /// A `sql` department's writable pool, when it declares operations.
    pub(crate) writer: Option<SqlClient>,
    in_flight: Mutex<HashMap<(Element, String), Pending>>,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("department {0}: cannot build its HTTP client: {1}")]
    Http(String, #[source] reqwest::Error),
    #[error("department {0}: unusable database URL: {1}")]
    Sql(String, #[source] sqlx::Error),
}

impl Department {
    pub fn new(config: DepartmentConfig) -> Result<Self, BuildError> {
        let timeout = config.limits.guard.timeout;
        let client = match config.kind {
            ConnectorKind::Rest => Client::Rest(
                RestClient::new(&config.endpoint, config.auth.clone(), timeout)
                    .map_err(|e| BuildError::Http(config.code.clone(), e))?,
            ),
            ConnectorKind::Sql => Client::Sql(
                SqlClient::new(
                    &config.endpoint,
                    config.limits.guard.max_concurrency,
                    timeout,
                    false,
                )
                .map_err(|e| BuildError::Sql(config.code.clone(), e))?,
            ),
            ConnectorKind::Open311 => Client::None,
        };
        let writer = match config.kind {
            ConnectorKind::Sql if !config.operations.is_empty() => Some(
                SqlClient::new(&config.endpoint, 2, timeout, true)
                    .map_err(|e| BuildError::Sql(config.code.clone(), e))?,
            ),
            _ => None,
        };
        Ok(Self {
            guard: Guard::new(config.limits.guard),
            client,
            writer,
            config,
            in_flight: Mutex::new(HashMap::new()),
        })
    }

    pub fn config(&self) -> &DepartmentConfig {
        &self.config
    }

    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    /// The records for `ids`. Ids already being fetched (by any request) are waited for,
    /// not fetched again.
    pub async fn fetch(
        self: &Arc<Self>,
        cache: Option<Arc<Cache>>,
        element: Element,
        ids: &[String],
    ) -> HashMap<String, Slot> {
        let mut waits: Vec<(String, Pending)> = Vec::with_capacity(ids.len());
        let mut claimed: Vec<(String, oneshot::Sender<Slot>)> = Vec::new();
        let mut seen = std::collections::HashSet::with_capacity(ids.len());
        {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            for id in ids {
                if !seen.insert(id) {
                    continue;
                }
                let key = (element, id.clone());
                let pending = match in_flight.get(&key) {
                    Some(pending) => pending.clone(),
                    None => {
                        let (sender, receiver) = oneshot::channel();
                        let department = self.config.code.clone();
                        let pending = receiver
                            .map(move |slot| {
                                slot.unwrap_or_else(|_| {
                                    Err(DepartmentError {
                                        department,
                                        failure: Failure::Unavailable,
                                        message: "the fetch was abandoned".to_owned(),
                                    })
                                })
                            })
                            .boxed()
                            .shared();
                        in_flight.insert(key, pending.clone());
                        claimed.push((id.clone(), sender));
                        pending
                    }
                };
                waits.push((id.clone(), pending));
            }
        }
        if !claimed.is_empty() {
            // The fetch runs on its own task, so that a request that goes away does not
            // cancel it for the others waiting on the same ids.
            let this = Arc::clone(self);
            // In the span of the request that started it.
            let span = tracing::Span::current();
            tokio::spawn(
                async move {
                    let ids: Vec<String> = claimed.iter().map(|(id, _)| id.clone()).collect();
                    let mut found = this.resolve(cache.as_deref(), element, &ids).await;
                    let mut in_flight = this.in_flight.lock().unwrap_or_else(|p| p.into_inner());
                    for (id, sender) in claimed {
                        in_flight.remove(&(element, id.clone()));
                        let slot = found.remove(&id).unwrap_or(Ok(None));
                        let _ = sender.send(slot);
                    }
                }
                .instrument(span),
            );
        }
        let ids: Vec<String> = waits.iter().map(|(id, _)| id.clone()).collect();
        let slots = join_all(waits.into_iter().map(|(_, pending)| pending)).await;
        ids.into_iter().zip(slots).collect()
    }

    async fn resolve(
        &self,
        cache: Option<&Cache>,
        element: Element,
        ids: &[String],
    ) -> HashMap<String, Slot> {
        let limits = &self.config.limits;
        let cache = cache.filter(|_| !limits.cache_ttl.is_zero());
        let key_of = |id: &str| cache.map(|c| c.key(&self.config.code, element.as_str(), id));
        let entries = match cache {
            Some(cache) => {
                let keys: Vec<String> = ids.iter().filter_map(|id| key_of(id)).collect();
                cache.get(&keys).await
            }
            None => vec![None; ids.len()],
        };
        let now = Utc::now();
        let mut out = HashMap::with_capacity(ids.len());
        let mut stale = HashMap::new();
        let mut ask = Vec::new();
        for (id, entry) in ids.iter().zip(entries) {
            match entry {
                Some(entry) if entry.is_fresh(limits.cache_ttl, now) => {
                    out.insert(id.clone(), Ok(fetched(entry, true, false)));
                }
                Some(entry) => {
                    stale.insert(id.clone(), entry);
                    ask.push(id.clone());
                }
                None => ask.push(id.clone()),
            }
        }
        if cache.is_some() {
            let code = self.config.code.clone();
            let hits = (ids.len() - ask.len()) as u64;
            metrics::counter!("gateway_department_cache_lookups_total", "department" => code.clone(), "result" => "hit")
                .increment(hits);
            metrics::counter!("gateway_department_cache_lookups_total", "department" => code, "result" => "miss")
                .increment(ask.len() as u64);
        }
        if ask.is_empty() {
            return out;
        }
        let mut to_cache = Vec::new();
        for (chunk, answer) in self.upstream(element, &ask).await {
            match answer {
                Ok(mut records) => {
                    for id in chunk {
                        let entry = Entry {
                            fetched_at: Utc::now(),
                            record: records.remove(&id),
                        };
                        if let Some(key) = key_of(&id) {
                            to_cache.push((key, entry.clone()));
                        }
                        out.insert(id, Ok(fetched(entry, false, false)));
                    }
                }
                Err(error) => {
                    for id in chunk {
                        let slot = match stale.remove(&id) {
                            Some(entry) => {
                                metrics::counter!("gateway_department_stale_answers_total", "department" => self.config.code.clone())
                                    .increment(1);
                                Ok(fetched(entry, true, true))
                            }
                            None => Err(error.clone()),
                        };
                        out.insert(id, slot);
                    }
                }
            }
        }
        if let Some(cache) = cache {
            let personal = self
                .config
                .provisions(element)
                .any(|provision| provision.fields.iter().any(|field| field.spec.personal));
            let keep = limits.cache_ttl + cache.stale_window(limits.stale_if_error, personal);
            cache.put(&to_cache, keep).await;
        }
        out
    }

    /// Asks the department, in chunks of at most `max_batch` ids (one per request for a
    /// rest department without a batched lookup), all chunks at once under the guard.
    async fn upstream(
        &self,
        element: Element,
        ids: &[String],
    ) -> Vec<(Vec<String>, Result<HashMap<String, Value>, DepartmentError>)> {
        let (lookup, chunk_size) = match self.config.lookups.get(&element) {
            Some(lookup @ Lookup::Rest { batch: None, .. }) => (lookup, 1),
            Some(lookup) => (lookup, self.config.limits.max_batch.max(1)),
            None => return vec![(ids.to_vec(), Ok(HashMap::new()))],
        };
        let calls = ids.chunks(chunk_size).map(|chunk| {
            // The request's span is the parent: the call's log lines carry its id.
            let span = tracing::info_span!(
                "department_call",
                department = %self.config.code,
                element = element.as_str(),
                ids = chunk.len(),
            );
            async move {
                let started = std::time::Instant::now();
                let answer = self
                    .guard
                    .read(
                        || self.call(element, lookup, chunk),
                        UpstreamError::retryable,
                    )
                    .await
                    .map_err(|error| self.failure(error));
                self.observe(started, answer.as_ref().err());
                if let Err(error) = &answer {
                    tracing::debug!(%error, "a department call failed");
                }
                (chunk.to_vec(), answer)
            }
            .instrument(span)
        });
        join_all(calls).await
    }

    /// One request: the raw records, normalised and keyed by the department's ids.
    async fn call(
        &self,
        element: Element,
        lookup: &Lookup,
        ids: &[String],
    ) -> Result<HashMap<String, Value>, UpstreamError> {
        let raw = match (&self.client, lookup) {
            (
                Client::Rest(rest),
                Lookup::Rest {
                    batch: Some(template),
                    records,
                    ..
                },
            ) => rest.batch(template, records, ids).await?,
            (
                Client::Rest(rest),
                Lookup::Rest {
                    single: Some(template),
                    record,
                    ..
                },
            ) => {
                let mut found = Vec::new();
                for one in ids {
                    found.extend(rest.single(template, record, one).await?);
                }
                found
            }
            (Client::Sql(sql), Lookup::Sql { query, .. }) => sql.select(query, ids).await?,
            _ => return Ok(HashMap::new()),
        };
        let mut records = HashMap::with_capacity(raw.len());
        for record in &raw {
            let (id, normalised) = self
                .config
                .read_record(element, record)
                .map_err(|e| UpstreamError::BadResponse(e.to_string()))?;
            if ids.contains(&id) {
                records.insert(id, normalised);
            }
        }
        Ok(records)
    }

    /// Counts a call (retries included) and how long it took, by outcome.
    pub(crate) fn observe(&self, started: std::time::Instant, error: Option<&DepartmentError>) {
        let outcome = match error.map(|e| e.failure) {
            None => "ok",
            Some(Failure::Unavailable) => "unavailable",
            Some(Failure::BadResponse) => "bad_response",
            Some(Failure::Busy) => "busy",
        };
        let code = self.config.code.clone();
        metrics::counter!("gateway_department_calls_total", "department" => code.clone(), "outcome" => outcome)
            .increment(1);
        metrics::histogram!("gateway_department_call_duration_seconds", "department" => code)
            .record(started.elapsed().as_secs_f64());
    }

    pub(crate) fn failure(&self, error: CallError<UpstreamError>) -> DepartmentError {
        let (failure, message) = match error {
            CallError::CircuitOpen { retry_after } => (
                Failure::Unavailable,
                format!(
                    "not called: it failed repeatedly and is given a rest (next try in {} ms)",
                    retry_after.as_millis()
                ),
            ),
            CallError::Saturated { waited, in_flight } => (
                Failure::Busy,
                format!(
                    "not called: {in_flight} calls to it are in flight and none finished within {} ms",
                    waited.as_millis()
                ),
            ),
            CallError::Timeout(limit) => (
                Failure::Unavailable,
                format!("no answer within {} ms", limit.as_millis()),
            ),
            CallError::Upstream(UpstreamError::BadResponse(message)) => {
                (Failure::BadResponse, message)
            }
            CallError::Upstream(
                UpstreamError::Unavailable(message) | UpstreamError::Refused(message),
            ) => (Failure::Unavailable, message),
        };
        DepartmentError {
            department: self.config.code.clone(),
            failure,
            message,
        }
    }
}

fn fetched(entry: Entry, cached: bool, stale: bool) -> Option<Fetched> {
    let fetched_at = entry.fetched_at;
    entry.record.map(|record| Fetched {
        record: Arc::new(record),
        fetched_at,
        cached,
        stale,
    })
}
