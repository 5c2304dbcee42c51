//! Health checks, and a database that goes away and comes back.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{DatabaseProxy, TestGateway, first_error_code, seeded_database, test_config};

async fn status_of(gateway: &TestGateway, path: &str) -> (StatusCode, Value) {
    let response = gateway
        .client
        .get(gateway.url(path))
        .send()
        .await
        .expect("the gateway answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn healthz_and_readyz_answer_when_postgres_and_redis_are_up() {
    let gateway = TestGateway::spawn().await;
    assert_eq!(status_of(&gateway, "/healthz").await.0, StatusCode::OK);
    let (status, body) = status_of(&gateway, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["postgres"]["status"], "ok");
    assert_eq!(body["checks"]["redis"]["status"], "ok");
}

#[tokio::test]
async fn without_redis_configured_the_gateway_runs_and_says_redis_is_disabled() {
    let database = seeded_database().await;
    let mut config = test_config(&database);
    config.redis_url = gateway::config::Secret::new("");
    let gateway = TestGateway::spawn_with(config, database).await;
    let (status, body) = status_of(&gateway, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["checks"]["redis"]["status"], "disabled");
}

#[tokio::test]
async fn without_redis_the_gateway_stays_ready_degraded_and_serves() {
    let database = seeded_database().await;
    let mut config = test_config(&database);
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    config.redis_url = gateway::config::Secret::new(format!("redis://{closed}"));
    let gateway = TestGateway::spawn_with(config, database).await;
    let (status, body) = status_of(&gateway, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["checks"]["postgres"]["status"], "ok");
    assert_eq!(body["checks"]["redis"]["status"], "degraded");
    let data = gateway
        .query(
            "{ jurisdictions(level: COUNTY) { totalCount } }",
            Value::Null,
        )
        .await;
    assert_eq!(data["jurisdictions"]["totalCount"], 4);
}

#[tokio::test]
async fn a_lost_database_fails_readiness_and_queries_clearly_then_recovers_by_itself() {
    let proxy = DatabaseProxy::to_postgres().await;
    let database = seeded_database().await;
    let mut config = test_config(&database);
    config.database_url = gateway::config::Secret::new(format!(
        "postgres://postgres@127.0.0.1:{}/{database}",
        proxy.port
    ));
    config.database.acquire_timeout_ms = 500;
    let gateway = TestGateway::spawn_with(config, database).await;
    let query = "{ jurisdictions(level: COUNTY) { totalCount } }";
    assert_eq!(
        gateway.query(query, Value::Null).await["jurisdictions"]["totalCount"],
        4
    );

    proxy.cut();
    let (status, _) = status_of(&gateway, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, body) = gateway.post(query, Value::Null).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an execution error, not a failed request: {body}"
    );
    assert_eq!(first_error_code(&body), "DATABASE_UNAVAILABLE", "{body}");
    assert_eq!(
        status_of(&gateway, "/healthz").await.0,
        StatusCode::OK,
        "the process lives on"
    );

    proxy.restore();
    let mut recovered = false;
    for _ in 0..50 {
        if status_of(&gateway, "/readyz").await.0 == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "readiness comes back once the database does");
    assert_eq!(
        gateway.query(query, Value::Null).await["jurisdictions"]["totalCount"],
        4
    );
}
