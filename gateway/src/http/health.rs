//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the gateway can
//! serve, which is PostgreSQL answering within a second). Redis and the department
//! systems are reported, not required: without Redis the gateway serves with its cache
//! skipped and signals found by polling, and without a department it answers with that
//! department's fields null and an error; either makes it `degraded`, still ready (200),
//! so that an orchestrator keeps the replica in service through a Redis restart.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use connectors::resilience::BreakerState;
use schema::store::ReplicaState;
use serde_json::json;

use super::AppState;

const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

pub async fn healthz() -> Response {
    (StatusCode::OK, axum::Json(json!({ "status": "ok" }))).into_response()
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    let postgres = async {
        match tokio::time::timeout(CHECK_TIMEOUT, state.store.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("no answer within 1 s".to_owned()),
        }
    };
    let redis = async {
        let Some(client) = &state.redis else {
            return None;
        };
        Some(
            match tokio::time::timeout(CHECK_TIMEOUT, ping_redis(client)).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("no answer within 1 s".to_owned()),
            },
        )
    };
    let (postgres, redis) = tokio::join!(postgres, redis);
    let ready = postgres.is_ok();
    let describe = |check: &Result<(), String>| match check {
        Ok(()) => json!({ "status": "ok" }),
        Err(reason) => json!({ "status": "unavailable", "reason": reason }),
    };
    let (configured, open): (usize, Vec<&str>) =
        state
            .federation
            .departments()
            .fold((0, Vec::new()), |(count, mut open), department| {
                if department.guard().breaker().state() != BreakerState::Closed {
                    open.push(department.config().code.as_str());
                }
                (count + 1, open)
            });
    let replica = state.store.read_replica().map(|replica| replica.last());
    let degraded = redis.as_ref().is_some_and(Result::is_err)
        || !open.is_empty()
        || replica.as_ref().is_some_and(|state| !state.is_current());
    let status = match (ready, degraded) {
        (false, _) => "unavailable",
        (true, true) => "degraded",
        (true, false) => "ready",
    };
    let redis = match &redis {
        None => json!({ "status": "disabled" }),
        Some(Ok(())) => json!({ "status": "ok" }),
        Some(Err(reason)) => json!({
            "status": "degraded",
            "reason": reason,
            "effect": "department answers are not cached and signals are found by polling",
        }),
    };
    let primary_reads = "queries read from the primary";
    let read_replica = match replica {
        None => json!({ "status": "disabled" }),
        Some(ReplicaState::Current(lag)) => {
            json!({ "status": "ok", "lag_ms": lag.as_millis() as u64 })
        }
        Some(ReplicaState::Behind(lag)) => json!({
            "status": "degraded",
            "reason": "behind the primary by more than database.max_replica_lag_ms",
            "lag_ms": lag.as_millis() as u64,
            "effect": primary_reads,
        }),
        Some(ReplicaState::Unreachable(reason)) => json!({
            "status": "degraded",
            "reason": reason,
            "effect": primary_reads,
        }),
    };
    let body = json!({
        "status": status,
        "checks": {
            "postgres": describe(&postgres),
            "read_replica": read_replica,
            "redis": redis,
        },
        "departments": { "configured": configured, "circuits_open": open },
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    if !ready {
        tracing::warn!(%body, "not ready");
    } else if degraded {
        tracing::debug!(%body, "ready, degraded");
    }
    (status, axum::Json(body)).into_response()
}

async fn ping_redis(client: &redis::Client) -> redis::RedisResult<()> {
    let mut connection = client.get_multiplexed_async_connection().await?;
    redis::cmd("PING")
        .query_async::<String>(&mut connection)
        .await?;
    Ok(())
}
