//! `GET /metrics`: the gateway's metrics in the Prometheus text format. Counters and
//! histograms are recorded through the `metrics` facade where things happen (GraphQL
//! requests, department calls and the cache, background jobs); gauges of state (circuits,
//! the outbox backlog and relay lag, SQL statements sent) are read when scraped.
//!
//! Operation names come from clients: the first `limits.metrics_operation_names` (200)
//! well-formed names are kept as labels, the rest are folded into `other`, so that no
//! client can blow up the set of series.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use connectors::resilience::BreakerState;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::http::AppState;

/// Distinct operation names kept as labels, unless configured.
pub const MAX_OPERATION_NAMES: usize = 200;

static OPERATION_NAMES: AtomicUsize = AtomicUsize::new(MAX_OPERATION_NAMES);

/// How many distinct operation names are kept as labels (one setting per process).
pub fn keep_operation_names(limit: usize) {
    OPERATION_NAMES.store(limit, Ordering::Relaxed);
}

/// Latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use (one per process, shared by every
/// application it runs).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new();
        let builder = match builder
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &BUCKETS)
        {
            Ok(builder) => builder,
            Err(error) => {
                tracing::warn!(%error, "latency buckets refused; histograms are summaries");
                PrometheusBuilder::new()
            }
        };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics shows nothing");
        }
        handle
    })
}

static OPERATIONS: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();

/// The label of an operation name: itself while few names are known, `anonymous` for
/// none, `other` beyond the limit or for a name GraphQL would not allow.
pub fn operation_label(name: Option<&str>) -> String {
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return "anonymous".to_owned();
    };
    let well_formed = name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !well_formed {
        return "other".to_owned();
    }
    let mut known = OPERATIONS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if known.contains(name) || known.len() < OPERATION_NAMES.load(Ordering::Relaxed) {
        known.insert(name.to_owned());
        name.to_owned()
    } else {
        "other".to_owned()
    }
}

/// How a GraphQL request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Data and no error.
    Ok,
    /// Data with errors (a department down, a field refused).
    Partial,
    /// Refused before it ran (parse, validation, limits, authentication).
    Refused,
    /// Past the request time limit.
    Timeout,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Partial => "partial",
            Self::Refused => "refused",
            Self::Timeout => "timeout",
        }
    }

    /// The outcome of an executed response.
    pub fn of(response: &async_graphql::Response) -> Self {
        if response.errors.is_empty() {
            Self::Ok
        } else if response.data == async_graphql::Value::Null
            && response.errors.iter().all(|e| e.path.is_empty())
        {
            Self::Refused
        } else {
            Self::Partial
        }
    }
}

/// Records one GraphQL request, with the SQL statements it sent.
pub fn graphql_request(
    operation: Option<&str>,
    transport: &'static str,
    outcome: Outcome,
    elapsed: Duration,
    statements: u64,
) {
    let operation = operation_label(operation);
    metrics::counter!("gateway_graphql_requests_total",
        "operation" => operation.clone(), "transport" => transport, "outcome" => outcome.label())
    .increment(1);
    metrics::histogram!("gateway_graphql_request_duration_seconds", "operation" => operation)
        .record(elapsed.as_secs_f64());
    metrics::histogram!("gateway_sql_statements_per_request").record(statements as f64);
}

/// An open connection or subscription, counted in a gauge while it lives.
pub struct Open(&'static str);

impl Open {
    pub fn new(gauge: &'static str) -> Self {
        metrics::gauge!(gauge).increment(1.0);
        Self(gauge)
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        metrics::gauge!(self.0).decrement(1.0);
    }
}

/// `GET /metrics`.
pub async fn serve(State(state): State<AppState>) -> Response {
    observe_state(&state).await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle().render(),
    )
        .into_response()
}

/// The gauges read at scrape time.
async fn observe_state(state: &AppState) {
    for department in state.federation.departments() {
        let value = match department.guard().breaker().state() {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        };
        metrics::gauge!("gateway_department_circuit_state", "department" => department.config().code.clone())
            .set(value);
    }
    metrics::gauge!("gateway_sql_statements", "pool" => "requests")
        .set(state.store.statements_executed() as f64);
    match state.store.outbox_backlog().await {
        Ok((backlog, lag)) => {
            metrics::gauge!("gateway_outbox_backlog").set(backlog as f64);
            metrics::gauge!("gateway_outbox_relay_lag_seconds").set(lag);
        }
        Err(error) => tracing::debug!(%error, "the outbox backlog could not be read"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_bounded() {
        assert_eq!(operation_label(None), "anonymous");
        assert_eq!(operation_label(Some("")), "anonymous");
        assert_eq!(operation_label(Some("Board")), "Board");
        assert_eq!(operation_label(Some("bad name")), "other");
        assert_eq!(operation_label(Some(&"x".repeat(65))), "other");
        for n in 0..MAX_OPERATION_NAMES {
            let _ = operation_label(Some(&format!("op{n}")));
        }
        assert_eq!(operation_label(Some("oneMore")), "other");
        assert_eq!(operation_label(Some("Board")), "Board");
    }
}
