//! A department's config file as written: TOML, every table closed to unknown keys.
//! [`super::validate`] turns it into a [`super::DepartmentConfig`].

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::ConnectorKind;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentFile {
    pub code: Spanned<String>,
    pub name: String,
    pub county: Spanned<String>,
    pub kind: ConnectorKind,
    /// Where the system is reached; `${VAR}` / `${VAR:-default}` are replaced.
    pub endpoint: Option<Spanned<String>>,
    #[serde(default)]
    pub auth: Option<Spanned<AuthFile>>,
    #[serde(default)]
    pub limits: LimitsFile,
    /// How records are fetched, by element (`person`, `place`, ...).
    #[serde(default)]
    pub lookups: BTreeMap<Spanned<String>, LookupFile>,
    /// The federated fields this department fills, and from which of its fields.
    #[serde(default)]
    pub provides: Vec<ProvidesFile>,
    /// open311 systems only: how their service requests become events.
    pub open311: Option<Spanned<super::open311::Open311File>>,
    /// What the gateway may ask the system to do, by operation (`file_mediation`, ...).
    #[serde(default)]
    pub operations: BTreeMap<Spanned<String>, OperationFile>,
    /// Its change feed into the five-element index.
    pub feed: Option<Spanned<super::feed::FeedFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationFile {
    /// rest: the HTTP method: POST (the default), PUT or PATCH.
    pub method: Option<Spanned<String>>,
    /// rest: relative to the endpoint, with `{field}` placeholders from the payload.
    pub path: Option<Spanned<String>>,
    /// rest: the JSON body sent: the department's field ← a path into the payload.
    #[serde(default)]
    pub body: BTreeMap<String, Spanned<String>>,
    /// sql: the statement, with `:name` parameters; it must use `:idempotency_key`.
    pub statement: Option<Spanned<String>>,
    /// sql: the SELECT reading the answer by `:idempotency_key`.
    pub answer: Option<Spanned<String>>,
    /// sql: the statement's `:name` parameters ← paths into the payload.
    #[serde(default)]
    pub params: BTreeMap<String, Spanned<String>>,
    /// Where the department's id for what was filed is in its answer.
    pub id: String,
    /// Where the case number it gave is.
    pub case_number: Option<String>,
    /// The answer's state: its path and values (each FILED, PENDING or REFUSED). Without
    /// it, every answer is FILED.
    pub status: Option<Spanned<StatusFile>>,
    /// Where the reason of a refusal is.
    pub reason: Option<String>,
    /// How a PENDING answer is asked again: rest, a GET path with `{id}`; sql, a SELECT
    /// with `:id`.
    pub poll: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusFile {
    pub path: String,
    pub values: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "scheme", rename_all = "lowercase", deny_unknown_fields)]
pub enum AuthFile {
    None,
    Bearer { token: String },
    Basic { username: String, password: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsFile {
    /// The limit on one attempt, in milliseconds, from the moment it holds a slot.
    pub timeout_ms: u64,
    pub max_concurrency: usize,
    /// How long a call may wait for a slot under `max_concurrency`, in milliseconds.
    pub queue_timeout_ms: u64,
    /// The most ids one call may ask for; larger batches are split.
    pub max_batch: usize,
    /// How long a fetched record is served from the cache without asking again.
    pub cache_ttl_s: u64,
    /// How long past its TTL a cached record may still be served when the department fails.
    pub stale_if_error_s: u64,
    pub retry_attempts: u32,
    pub retry_base_delay_ms: u64,
    pub retry_max_delay_ms: u64,
    /// Failures in a row that open the circuit.
    pub breaker_failures: u32,
    /// How long an open circuit refuses calls before one probe is let through.
    pub breaker_open_ms: u64,
}

impl Default for LimitsFile {
    fn default() -> Self {
        Self {
            timeout_ms: 1_000,
            max_concurrency: 16,
            queue_timeout_ms: 1_000,
            max_batch: 100,
            cache_ttl_s: 300,
            stale_if_error_s: 86_400,
            retry_attempts: 3,
            retry_base_delay_ms: 50,
            retry_max_delay_ms: 500,
            breaker_failures: 5,
            breaker_open_ms: 10_000,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupFile {
    /// rest: the batched lookup, relative to the endpoint, with `{ids}` (comma-separated).
    pub batch: Option<Spanned<String>>,
    /// rest: the one-record lookup with `{id}`, for systems without a batched one.
    pub single: Option<Spanned<String>>,
    /// rest: where the records are in a batch answer (dotted path; empty: the answer).
    #[serde(default)]
    pub records: String,
    /// rest: where the record is in a single answer (dotted path; empty: the answer).
    #[serde(default)]
    pub record: String,
    /// sql: a read-only SELECT with `{ids}` where the list of ids goes.
    pub query: Option<Spanned<String>>,
    /// The field of each record holding the department's own id.
    pub id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvidesFile {
    /// `Person.householdRegistration`.
    pub field: Spanned<String>,
    /// Where several departments fill the same field for the same entities, the higher
    /// precedence wins field by field; a department without one defers to none.
    pub precedence: Option<i32>,
    /// Our field (snake_case) ← the department's.
    pub map: BTreeMap<Spanned<String>, Spanned<MappingFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum MappingFile {
    /// A dotted path into the department's record.
    Path(String),
    Detailed(DetailedMapping),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailedMapping {
    pub path: String,
    /// The department's codes to ours: `{ "1" = "MALE", "2" = "FEMALE" }`.
    pub values: Option<BTreeMap<String, String>>,
    /// The department's date format, in strftime notation: `%Y%m%d`.
    pub date: Option<String>,
}
