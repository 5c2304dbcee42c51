//! Persisted documents: automatic persisted queries shared by the replicas through
//! Redis, and trusted documents from a manifest, the only ones that run when so
//! configured — over HTTP and WebSocket.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestGateway, first_error_code, seeded_database, test_config};
use crate::subscriptions::{initialised, receive, send};

const QUERY: &str = "{ jurisdiction(code: \"220402\") { name } }";

fn sha256(text: &str) -> String {
    // The same digest clients compute, by an independent implementation.
    let output = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            if let Some(stdin) = child.stdin.as_mut() {
                stdin.write_all(text.as_bytes())?;
            }
            child.wait_with_output()
        })
        .expect("sha256sum runs");
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(gateway: &TestGateway, body: Value) -> (StatusCode, Value) {
    let response = gateway
        .client
        .post(gateway.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .json(&body)
        .send()
        .await
        .expect("an answer");
    (response.status(), response.json().await.expect("JSON"))
}

#[tokio::test]
async fn automatic_persisted_queries_are_shared_by_the_replicas() {
    let database = seeded_database().await;
    let prefix = format!("gov_test:{}-{database}:", std::process::id());
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let mut config = test_config(&database);
        config.departments.cache_prefix = prefix.clone();
        replicas.push(TestGateway::spawn_with(config, database.clone()).await);
    }
    let hash = sha256(QUERY);
    // Unknown: the client is asked for the document.
    let (status, body) = post(&replicas[0], json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(first_error_code(&body), "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    // Sent with its hash, it runs and is kept.
    let (_, body) = post(
        &replicas[0],
        json!({ "query": QUERY, "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(body["data"]["jurisdiction"]["name"], "龙山区", "{body}");
    // Then the hash alone runs it, on either replica, and over GET.
    for replica in &replicas {
        let (_, body) = post(replica, json!({ "extensions": persisted(&hash) })).await;
        assert_eq!(body["data"]["jurisdiction"]["name"], "龙山区", "{body}");
    }
    let extensions = persisted(&hash).to_string();
    let body: Value = replicas[1]
        .client
        .get(replicas[1].url("/graphql"))
        .query(&[("extensions", extensions.as_str())])
        .send()
        .await
        .expect("an answer")
        .json()
        .await
        .expect("JSON");
    assert_eq!(body["data"]["jurisdiction"]["name"], "龙山区", "{body}");
    // A hash that is not the document's is refused.
    let (status, body) = post(
        &replicas[0],
        json!({ "query": "{ __typename }", "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(first_error_code(&body), "BAD_REQUEST", "{body}");
}

#[tokio::test]
async fn with_trusted_documents_only_registered_operations_run() {
    let dir = std::env::temp_dir().join(format!("gateway-manifest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let apollo = dir.join("apollo.json");
    let registered = sha256(QUERY);
    std::fs::write(
        &apollo,
        json!({ "format": "apollo-persisted-query-manifest", "version": 1, "operations": [
            { "id": registered, "name": "Longshan", "type": "query", "body": QUERY } ] })
        .to_string(),
    )
    .expect("write the manifest");
    let relay = dir.join("relay.json");
    std::fs::write(&relay, json!({ "relay-1": "{ __typename }" }).to_string())
        .expect("write the manifest");

    let database = seeded_database().await;
    let mut config = test_config(&database);
    config.persisted.manifest = Some(apollo);
    config.persisted.trusted_only = true;
    let gateway = TestGateway::spawn_with(config, database.clone()).await;

    let (status, body) = post(&gateway, json!({ "documentId": registered })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["jurisdiction"]["name"], "龙山区");
    let (_, body) = post(&gateway, json!({ "extensions": persisted(&registered) })).await;
    assert_eq!(body["data"]["jurisdiction"]["name"], "龙山区", "{body}");
    let (status, body) = post(&gateway, json!({ "query": "{ __typename }" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        first_error_code(&body),
        "PERSISTED_QUERY_REQUIRED",
        "{body}"
    );
    let (_, body) = post(&gateway, json!({ "documentId": "not-registered" })).await;
    assert_eq!(
        first_error_code(&body),
        "PERSISTED_QUERY_NOT_FOUND",
        "{body}"
    );
    // Nor does a free document slip through over WebSocket.
    let mut socket = initialised(&gateway).await;
    send(
        &mut socket,
        json!({ "id": "free", "type": "subscribe", "payload": { "query": "{ __typename }" } }),
    )
    .await;
    let refused = receive(&mut socket).await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "PERSISTED_QUERY_REQUIRED"
    );
    send(
        &mut socket,
        json!({ "id": "known", "type": "subscribe", "payload": { "documentId": registered } }),
    )
    .await;
    let answer = receive(&mut socket).await;
    assert_eq!(
        answer["payload"]["data"]["jurisdiction"]["name"], "龙山区",
        "{answer}"
    );

    // Relay's manifest format is read too.
    let mut config = test_config(&database);
    config.persisted.manifest = Some(relay);
    config.persisted.trusted_only = true;
    let gateway = TestGateway::spawn_with(config, database).await;
    let (_, body) = post(&gateway, json!({ "documentId": "relay-1" })).await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    let _ = std::fs::remove_dir_all(&dir);
}
