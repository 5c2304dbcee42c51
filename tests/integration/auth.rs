//! Authentication by JWT: over HTTP in the `Authorization` header, over WebSocket in
//! `connection_init`; the principal's jurisdiction bounds what it sees, and its name and
//! role are recorded on the timeline.

use jsonwebtoken::{EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestGateway, first_error_code, seeded_database, test_config};
use crate::subscriptions::{Socket, connect, init, receive, signals, subscribe};

const SECRET: &str = "辽源市社会治理平台-测试密钥-0123456789";

fn token(claims: Value) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("the token encodes")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// A dispatcher of 东辽县 (220422).
fn dispatcher() -> String {
    token(
        json!({ "sub": "dl-0042", "name": "李强", "role": "DISPATCHER",
                  "jurisdiction": "220422", "exp": now() + 600 }),
    )
}

async fn gateway() -> TestGateway {
    let database = seeded_database().await;
    let mut config = test_config(&database);
    config.auth.jwt_secret = gateway::auth::SigningSecret(SECRET.to_owned());
    config.auth.required = true;
    TestGateway::spawn_with(config, database).await
}

async fn post(
    gateway: &TestGateway,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> (StatusCode, Value, Option<String>) {
    let mut request = gateway
        .client
        .post(gateway.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the gateway answers");
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, response.json().await.expect("JSON"), challenge)
}

#[tokio::test]
async fn http_callers_are_who_their_token_says_and_see_their_jurisdiction_only() {
    let gateway = gateway().await;
    let query = "{ events(first: 50) { nodes { id jurisdiction { code } } } }";

    let (status, body, challenge) = post(&gateway, None, query, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(first_error_code(&body), "UNAUTHENTICATED");
    assert!(challenge.is_some_and(|c| c.starts_with("Bearer")));

    let expired = token(
        json!({ "sub": "dl-0042", "role": "DISPATCHER", "jurisdiction": "220422",
                                "exp": now() - 3_600 }),
    );
    let (status, body, _) = post(&gateway, Some(&expired), query, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let forged = format!("{}x", dispatcher());
    let (status, _, _) = post(&gateway, Some(&forged), query, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let dispatcher = dispatcher();
    let (status, body, _) = post(&gateway, Some(&dispatcher), query, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let codes: Vec<&str> = body["data"]["events"]["nodes"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["jurisdiction"]["code"].as_str())
        .collect();
    assert!(!codes.is_empty());
    assert!(codes.iter().all(|c| c.starts_with("220422")), "{codes:?}");

    // The changes it makes are recorded under its name and role.
    let grid = gateway.grid_of("220422").await;
    let (_, body, _) = post(
        &gateway,
        Some(&dispatcher),
        "mutation($input: ReportEventInput!) { reportEvent(input: $input) {
           event { timeline { actor { name role departmentCode } } } } }",
        json!({ "input": { "idempotencyKey": "auth-report", "description": "楼道堆放杂物",
                           "category": "SAFETY_HAZARD", "gridCode": grid } }),
    )
    .await;
    assert_eq!(
        body["data"]["reportEvent"]["event"]["timeline"][0]["actor"],
        json!({ "name": "李强", "role": "DISPATCHER", "departmentCode": null }),
        "{body}"
    );

    // Another county's events are not its to change, nor its grids to report in.
    let (other, status): (i64, String) = sqlx::query_as(
        "SELECT id, status FROM events WHERE left(jurisdiction_code, 6) = '220402' AND status = 'RESOLVED' ORDER BY id LIMIT 1",
    )
    .fetch_one(&mut gateway.database().await)
    .await
    .expect("a resolved event of 龙山区");
    let (_, body, _) = post(
        &gateway,
        Some(&dispatcher),
        "mutation($event: ID!) { closeEvent(idempotencyKey: \"auth-close-other\", eventId: $event) { replayed } }",
        json!({ "event": crate::departments::global_id("Event", other) }),
    )
    .await;
    assert_eq!(first_error_code(&body), "NOT_FOUND", "{body}");
    let unchanged: String = sqlx::query_scalar("SELECT status FROM events WHERE id = $1")
        .bind(other)
        .fetch_one(&mut gateway.database().await)
        .await
        .expect("the event");
    assert_eq!(unchanged, status);
    let (_, body, _) = post(
        &gateway,
        Some(&dispatcher),
        "mutation($input: ReportEventInput!) { reportEvent(input: $input) { event { id } } }",
        json!({ "input": { "idempotencyKey": "auth-report-other", "description": "井盖缺失",
                           "category": "SAFETY_HAZARD", "gridCode": gateway.grid_of("220402").await } }),
    )
    .await;
    assert_eq!(first_error_code(&body), "FORBIDDEN", "{body}");
}

async fn connected(gateway: &TestGateway, payload: Value) -> (Socket, Value) {
    let mut socket = connect(gateway).await;
    let answer = init(&mut socket, payload).await;
    (socket, answer)
}

#[tokio::test]
async fn websocket_clients_authenticate_in_connection_init() {
    let gateway = gateway().await;

    let (_, answer) = connected(&gateway, json!({})).await;
    assert_eq!(answer["closed"][0], 4403, "{answer}");
    let (_, answer) = connected(&gateway, json!({ "Authorization": "Bearer not.a.token" })).await;
    assert_eq!(answer["closed"][0], 4403, "{answer}");

    let (mut socket, answer) = connected(
        &gateway,
        json!({ "Authorization": format!("Bearer {}", dispatcher()) }),
    )
    .await;
    assert_eq!(answer, json!({ "type": "connection_ack" }));

    // Another county's signals are not the dispatcher's to follow.
    subscribe(&mut socket, "other", "jurisdictionCode: \"220402\"").await;
    let refused = receive(&mut socket).await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "FORBIDDEN");

    // Its own county's are, including what it does itself.
    subscribe(&mut socket, "own", "jurisdictionCode: \"220422\"").await;
    let grid = gateway.grid_of("220422").await;
    let (status, body, _) = post(
        &gateway,
        Some(&dispatcher()),
        "mutation($input: ReportEventInput!) { reportEvent(input: $input) { event { id } } }",
        json!({ "input": { "idempotencyKey": "auth-ws", "description": "路灯不亮",
                           "category": "SAFETY_HAZARD", "gridCode": grid } }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let event = body["data"]["reportEvent"]["event"]["id"].clone();
    let seen = signals(&mut socket, "own", 1).await;
    assert_eq!(seen[0]["kind"], "REPORTED");
    assert_eq!(seen[0]["event"]["id"], event);
}
