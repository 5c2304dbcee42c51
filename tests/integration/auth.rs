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
    let after = crate::subscriptions::from_now(&gateway).await;
    subscribe(
        &mut socket,
        "own",
        &format!("jurisdictionCode: \"220422\", {after}"),
    )
    .await;
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

/// A fixture key of `gateway/tests/fixtures/keys`.
fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../gateway/tests/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the fixture exists")
}

/// An RS256 token of fixture key `kid` (its PKCS#1 PEM), for an issuer and audience.
fn rs256(kid: &str, claims: &Value) -> String {
    use base64::Engine;
    let body: String = fixture(&format!("{kid}.pem"))
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("base64 PEM body");
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(&der)).expect("signs")
}

/// The JWKS fixture with only the key `kid`.
fn jwks_of(kid: &str) -> String {
    let mut set: Value = serde_json::from_str(&fixture("jwks.json")).expect("JSON");
    if let Some(keys) = set["keys"].as_array_mut() {
        keys.retain(|key| key["kid"] == kid);
    }
    set.to_string()
}

#[tokio::test]
async fn keys_rotated_in_a_jwks_file_take_effect_while_running_and_bad_tokens_get_401() {
    let dir = std::env::temp_dir().join(format!("gateway-jwks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let path = dir.join("jwks.json");
    std::fs::write(&path, jwks_of("rsa-1")).expect("write the set");
    let database = seeded_database().await;
    let mut config = test_config(&database);
    config.auth.jwks_file = Some(path.clone());
    config.auth.jwks_min_refresh_s = 0;
    config.auth.issuer = Some("https://sso.liaoyuan.example".to_owned());
    config.auth.audience = Some("governance-gateway".to_owned());
    config.auth.required = true;
    let gateway = TestGateway::spawn_with(config, database).await;
    let claims = |extra: Value| {
        let mut claims = json!({ "sub": "sso-7", "role": "ANALYST", "jurisdiction": "220400",
            "iss": "https://sso.liaoyuan.example", "aud": "governance-gateway",
            "exp": now() + 600 });
        if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
            claims.extend(extra.clone());
        }
        claims
    };
    let query = "{ departments { totalCount } }";
    let status = async |token: &str| post(&gateway, Some(token), query, json!({})).await.0;

    assert_eq!(
        status(&rs256("rsa-1", &claims(json!({})))).await,
        StatusCode::OK
    );
    // A key the set does not hold yet.
    assert_eq!(
        status(&rs256("rsa-2", &claims(json!({})))).await,
        StatusCode::UNAUTHORIZED
    );
    // Rotated: the new key works at once, and the old one no longer does.
    std::fs::write(&path, jwks_of("rsa-2")).expect("rotate the set");
    assert_eq!(
        status(&rs256("rsa-2", &claims(json!({})))).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&rs256("rsa-1", &claims(json!({})))).await,
        StatusCode::UNAUTHORIZED
    );

    // Expired, not yet valid, another issuer or audience, unsigned: all refused.
    let refused = [
        claims(json!({ "exp": now() - 3_600 })),
        claims(json!({ "nbf": now() + 3_600 })),
        claims(json!({ "iss": "https://elsewhere.example" })),
        claims(json!({ "aud": "another-service" })),
    ];
    for claims in &refused {
        assert_eq!(
            status(&rs256("rsa-2", claims)).await,
            StatusCode::UNAUTHORIZED,
            "{claims}"
        );
    }
    use base64::Engine;
    let encode = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let unsigned = format!(
        "{}.{}.",
        encode(&json!({ "alg": "none", "typ": "JWT" })),
        encode(&claims(json!({})))
    );
    let (code, body, _) = post(&gateway, Some(&unsigned), query, json!({})).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert_eq!(first_error_code(&body), "UNAUTHENTICATED");
    let _ = std::fs::remove_dir_all(&dir);
}
