//! Per-principal rate limits, shared by the replicas through Redis, per replica while
//! Redis is away.

use jsonwebtoken::{EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestGateway, first_error_code, seeded_database, test_config};

const SECRET: &str = "rate-limit-test-secret-of-thirty-two-bytes";

fn token(sub: &str) -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() + 600)
        .unwrap_or_default();
    jsonwebtoken::encode(
        &Header::default(),
        &json!({ "sub": sub, "role": "ANALYST", "jurisdiction": "220400", "exp": exp }),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("a token")
}

/// Two replicas with a burst of 3 and almost no refill, sharing `redis_url`.
async fn replicas(redis_url: &str) -> (TestGateway, TestGateway) {
    let database = seeded_database().await;
    let prefix = format!("gov_test:{}-{database}:", std::process::id());
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let mut config = test_config(&database);
        config.redis_url = gateway::config::Secret::new(redis_url);
        config.departments.cache_prefix = prefix.clone();
        config.auth.jwt_secret = gateway::auth::SigningSecret(SECRET.to_owned());
        config.auth.required = true;
        config.rate_limit.requests_per_s = 0.01;
        config.rate_limit.burst = 3;
        replicas.push(TestGateway::spawn_with(config, database.clone()).await);
    }
    let second = replicas.pop().expect("two");
    let first = replicas.pop().expect("two");
    (first, second)
}

async fn ask(
    gateway: &TestGateway,
    token: &str,
) -> (StatusCode, Option<String>, serde_json::Value) {
    let response = gateway
        .client
        .post(gateway.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": "{ departments { totalCount } }" }))
        .send()
        .await
        .expect("an answer");
    let status = response.status();
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, retry, response.json().await.expect("JSON"))
}

#[tokio::test]
async fn a_principal_is_limited_across_replicas_with_a_retry_after() {
    let (one, two) = replicas(&crate::helpers::redis_url()).await;
    let caller = token("busy-analyst");
    for gateway in [&one, &two, &one] {
        assert_eq!(ask(gateway, &caller).await.0, StatusCode::OK);
    }
    let (status, retry, body) = ask(&two, &caller).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(first_error_code(&body), "RATE_LIMITED");
    assert!(
        retry
            .and_then(|r| r.parse::<u64>().ok())
            .is_some_and(|s| s >= 1),
        "Retry-After in seconds"
    );
    // Another principal has a bucket of its own.
    assert_eq!(ask(&one, &token("another-analyst")).await.0, StatusCode::OK);
}

#[tokio::test]
async fn without_redis_each_replica_limits_on_its_own() {
    let (one, two) = replicas("redis://127.0.0.1:1").await;
    let caller = token("busy-analyst");
    for gateway in [&one, &two] {
        for _ in 0..3 {
            assert_eq!(ask(gateway, &caller).await.0, StatusCode::OK);
        }
        assert_eq!(ask(gateway, &caller).await.0, StatusCode::TOO_MANY_REQUESTS);
    }
}
