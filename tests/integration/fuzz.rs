//! A seeded, bounded fuzz run: hostile and random arguments, broken bodies and garbage
//! mutations. Whatever comes in, the gateway answers JSON, never a 5xx, and every error
//! carries a code of the one vocabulary and none is `INTERNAL`.

use reqwest::StatusCode;
use schema::error::ErrorCode;
use serde_json::{Value, json};

use crate::helpers::TestGateway;

/// Requests per run: enough to cover every template with many values, quick in CI.
const REQUESTS: usize = 600;

const TEMPLATES: [&str; 13] = [
    "query($v: String!) { jurisdiction(code: $v) { name } }",
    "query($v: ID!) { node(id: $v) { id } }",
    "query($v: [ID!]!) { nodes(ids: $v) { id } }",
    "query($v: String) { persons(first: 5, filter: { nameContains: $v }) { totalCount nodes { name } } }",
    "query($v: String) { persons(first: 5, filter: { nameStartsWith: $v, jurisdiction: $v }) { totalCount } }",
    "query($v: String) { events(first: 5, after: $v) { nodes { id } } }",
    "query($v: Int) { events(first: $v) { totalCount } }",
    "query($v: DateTime) { events(filter: { reportedFrom: $v }) { totalCount } }",
    "query($v: String!) { departments(county: $v) { totalCount } }",
    "query($v: String) { auditLog(filter: { principal: $v }) { totalCount } }",
    "mutation($v: String!) { reportEvent(input: { idempotencyKey: $v, description: $v, category: SAFETY_HAZARD, gridCode: $v }) { replayed } }",
    "mutation($v: ID!) { acceptEvent(idempotencyKey: \"fuzz-accept\", eventId: $v, note: \"x\") { replayed } }",
    "mutation($v: Int!) { revisit(idempotencyKey: \"fuzz-revisit\", eventId: \"RXZlbnQ6MQ\", satisfaction: $v) { replayed } }",
];

/// Text that has broken gateways: NUL, SQL and LIKE metacharacters, astral and
/// non-characters, ids that decode to nonsense, a very long string.
fn hostile(rng: &mut fastrand::Rng) -> String {
    use base64::Engine;
    let id = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
    let choices = [
        "\u{0}".to_owned(),
        "王\u{0}五".to_owned(),
        "'; DROP TABLE events; --".to_owned(),
        "%_\\".to_owned(),
        "𠜎𠜱".to_owned(),
        "\u{FFFF}\u{FEFF}".to_owned(),
        "x".repeat(20_000),
        id("Event:abc"),
        id("Person:-1"),
        id("Event:99999999999999999999"),
        id("Event:\u{0}"),
        id("id:\u{0}"),
        id("Summons:1"),
        "220402".to_owned(),
        "220402\u{0}".to_owned(),
        String::new(),
    ];
    choices[rng.usize(..choices.len())].clone()
}

fn value(rng: &mut fastrand::Rng, depth: usize) -> Value {
    match rng.u8(..9) {
        0 => json!(hostile(rng)),
        1 => json!([i64::MAX, i64::MIN, -1, 0, 2_147_483_648_i64, 40_000][rng.usize(..6)]),
        2 => json!([1.5, 1e308, -0.0, 3.0][rng.usize(..4)]),
        3 => json!(rng.bool()),
        4 => Value::Null,
        5 if depth < 2 => {
            Value::Array((0..rng.usize(..4)).map(|_| value(rng, depth + 1)).collect())
        }
        6 if depth < 2 => json!({ "a": value(rng, depth + 1) }),
        _ => json!(
            (0..rng.usize(1..12))
                .map(|_| rng.char(..))
                .collect::<String>()
        ),
    }
}

/// A body that is not a usable GraphQL request.
fn broken_body(rng: &mut fastrand::Rng) -> Vec<u8> {
    let bodies: [&[u8]; 8] = [
        b"{",
        b"[1, 2]",
        b"null",
        br#"{"query": 5}"#,
        br#"{"query": "{ __typename }", "variables": "x"}"#,
        br#"{"query": "{ __typename }", "operationName": 7}"#,
        br#"{"query": "{ jurisdiction(code: \"\u0000\") { name } }"}"#,
        b"\xff\xfe\x00garbage",
    ];
    match rng.u8(..3) {
        0 => (0..rng.usize(..64)).map(|_| rng.u8(..)).collect(),
        _ => bodies[rng.usize(..bodies.len())].to_vec(),
    }
}

#[tokio::test]
async fn random_and_hostile_requests_get_coded_answers_and_never_a_5xx() {
    let gateway = TestGateway::spawn().await;
    let mut rng = fastrand::Rng::with_seed(20_261_129);
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|code| code.as_str()).collect();
    for n in 0..REQUESTS {
        let request = gateway
            .client
            .post(gateway.url("/graphql"))
            .header("content-type", "application/json");
        let (request, sent) = if rng.u8(..5) == 0 {
            let body = broken_body(&mut rng);
            let sent = String::from_utf8_lossy(&body).into_owned();
            (request.body(body), sent)
        } else {
            let query = TEMPLATES[rng.usize(..TEMPLATES.len())];
            let body = json!({ "query": query, "variables": { "v": value(&mut rng, 0) } });
            let sent = body.to_string();
            (request.body(sent.clone()), sent)
        };
        let response = request.send().await.expect("the gateway answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let context = || {
            format!(
                "#{n} {}: {status} {text}",
                sent.chars().take(300).collect::<String>()
            )
        };
        assert!(status.as_u16() < 500, "{}", context());
        let body: Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON: {}", context()));
        assert!(
            body.get("data").is_some() || body.get("errors").is_some(),
            "{}",
            context()
        );
        for error in body["errors"].as_array().into_iter().flatten() {
            let code = error["extensions"]["code"].as_str().unwrap_or("<none>");
            assert!(codes.contains(&code), "{}", context());
            assert_ne!(code, "INTERNAL", "{}", context());
        }
        if status == StatusCode::OK {
            assert!(body.get("data").is_some() || body.get("errors").is_some());
        }
    }
}
