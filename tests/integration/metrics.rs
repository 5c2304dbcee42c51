//! `/metrics`: the series move when the gateway works — a GraphQL request reaching a
//! department, and a whistle whose entries wait in the outbox.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::json;

use crate::departments::{Federated, global_id};
use crate::helpers::{TestGateway, content_type};

/// The samples of a scrape: `name{labels}` → value, as Prometheus text has them.
async fn scrape(gateway: &TestGateway) -> BTreeMap<String, f64> {
    let response = gateway
        .client
        .get(gateway.url("/metrics"))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), StatusCode::OK);
    let kind = content_type(&response);
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let text = response.text().await.unwrap_or_default();
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (series, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("a sample: {line}"));
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("a number: {line}"));
            (series.to_owned(), value)
        })
        .collect()
}

/// The sum of the samples of `name` whose labels include every one of `labels`.
fn total(samples: &BTreeMap<String, f64>, name: &str, labels: &[&str]) -> f64 {
    samples
        .iter()
        .filter(|(series, _)| {
            series.split('{').next() == Some(name) && labels.iter().all(|l| series.contains(l))
        })
        .map(|(_, value)| value)
        .sum()
}

#[tokio::test]
async fn the_series_move_with_a_federated_query_and_a_whistle() {
    let federated = Federated::spawn().await;
    let gateway = &federated.gateway;
    let mut database = gateway.database().await;
    let person: i64 = sqlx::query_scalar(
        "SELECT entity_id FROM entity_links WHERE department_code = '220422-GA' ORDER BY entity_id LIMIT 1",
    )
    .fetch_one(&mut database)
    .await
    .expect("a person the police hold");
    let before = scrape(gateway).await;

    let query = "query MetricsProbe($id: ID!) { person(id: $id) {
        name householdRegistration { name } } }";
    let data = gateway
        .query(query, json!({ "id": global_id("Person", person) }))
        .await;
    assert!(
        data["person"]["householdRegistration"]["name"].is_string(),
        "{data}"
    );
    // A document that does not parse is counted as refused.
    let (status, _) = gateway.post("query MetricsProbe {", json!(null)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let event = crate::subscriptions::accepted_event(gateway, "metrics").await;
    crate::subscriptions::whistle(gateway, "metrics", &event, "220422-XJ").await;

    let after = scrape(gateway).await;
    let moved =
        |name: &str, labels: &[&str]| total(&after, name, labels) - total(&before, name, labels);
    let ok = ["operation=\"MetricsProbe\"", "outcome=\"ok\""];
    assert_eq!(moved("gateway_graphql_requests_total", &ok), 1.0);
    let refused = ["operation=\"anonymous\"", "outcome=\"refused\""];
    assert!(moved("gateway_graphql_requests_total", &refused) >= 1.0);
    assert_eq!(
        moved(
            "gateway_graphql_request_duration_seconds_count",
            &["operation=\"MetricsProbe\""]
        ),
        1.0
    );
    assert!(moved("gateway_sql_statements_per_request_count", &[]) >= 4.0);
    assert!(moved("gateway_sql_statements_per_request_sum", &[]) >= 4.0);
    let police = ["department=\"220422-GA\""];
    assert!(
        moved(
            "gateway_department_calls_total",
            &[police[0], "outcome=\"ok\""]
        ) >= 1.0
    );
    assert!(moved("gateway_department_call_duration_seconds_count", &police) >= 1.0);
    assert!(
        moved(
            "gateway_department_cache_lookups_total",
            &[police[0], "result=\"miss\""]
        ) >= 1.0
    );
    assert_eq!(
        total(&after, "gateway_department_circuit_state", &police),
        0.0
    );
    assert!(
        after
            .keys()
            .any(|k| k.starts_with("gateway_outbox_backlog"))
    );
    assert!(
        after
            .keys()
            .any(|k| k.starts_with("gateway_outbox_relay_lag_seconds"))
    );
    assert!(total(&after, "gateway_sql_statements", &["pool=\"requests\""]) > 0.0);
}

#[tokio::test]
async fn a_request_s_id_is_echoed_and_named_in_its_errors() {
    let gateway = TestGateway::spawn().await;
    let response = gateway
        .client
        .post(gateway.url("/graphql"))
        .header("x-request-id", "probe-42")
        .json(&json!({ "query": "{ person(id: \"not-an-id\") { name } }" }))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(
        response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("probe-42")
    );
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "INVALID_ID",
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["extensions"]["requestId"], "probe-42",
        "{body}"
    );

    // Without one, the gateway makes one up and says it.
    let response = gateway
        .client
        .post(gateway.url("/graphql"))
        .json(&json!({ "query": "{ person(id: \"not-an-id\") { name } }" }))
        .send()
        .await
        .expect("the gateway answers");
    let made = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert!(!made.is_empty());
    assert_eq!(body["errors"][0]["extensions"]["requestId"], made.as_str());

    // A request refused before it runs names its id too.
    let response = gateway
        .client
        .post(gateway.url("/graphql"))
        .header("x-request-id", "probe-43")
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": "{ person(" }))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED",
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["extensions"]["requestId"], "probe-43",
        "{body}"
    );
}

#[tokio::test]
async fn a_websocket_s_errors_name_the_upgrade_s_request_id() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;

    let gateway = TestGateway::spawn().await;
    let mut request = format!("ws://{}/graphql", gateway.address)
        .into_client_request()
        .expect("a WebSocket request");
    let headers = request.headers_mut();
    headers.insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    headers.insert("x-request-id", HeaderValue::from_static("probe-ws-7"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the upgrade is accepted");
    crate::subscriptions::init(&mut socket, json!({})).await;
    crate::subscriptions::send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { nope }" } }),
    )
    .await;
    let error = crate::subscriptions::receive(&mut socket).await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(
        error["payload"][0]["extensions"]["requestId"], "probe-ws-7",
        "{error}"
    );
}
