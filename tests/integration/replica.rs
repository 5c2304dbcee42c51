//! A read replica (`read_database_url`): queries read there while it answers, changes
//! and the audit of personal reads go to the primary, and a replica that stops answering
//! sends queries back to the primary until it answers again. The "replica" here is a
//! second copy of the seeded data on the same server, one of its events retitled, so
//! that every answer shows which database it came from.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

use crate::access::{authenticated, call, token};
use crate::helpers::{DatabaseProxy, TestGateway, database_url, seeded_database};

const ONLY_ON_THE_REPLICA: &str = "只在副本上的标题";

/// A copy of the seeded data with one event of 220422 retitled; its id.
async fn replica_database() -> (String, i64) {
    let replica = seeded_database().await;
    let mut connection = connect(&replica).await;
    let id: i64 = sqlx::query_scalar(
        "UPDATE events SET title = $1 \
         WHERE id = (SELECT min(id) FROM events WHERE jurisdiction_code LIKE '220422%') \
         RETURNING id",
    )
    .bind(ONLY_ON_THE_REPLICA)
    .fetch_one(&mut connection)
    .await
    .expect("an event retitled on the replica");
    (replica, id)
}

async fn connect(database: &str) -> PgConnection {
    PgConnection::connect(&database_url(database))
        .await
        .expect("a connection")
}

/// `count` in each database, in order.
async fn counts<const N: usize>(count: &str, databases: [&str; N]) -> [i64; N] {
    let mut counted = [0; N];
    for (database, counted) in databases.iter().zip(&mut counted) {
        *counted = sqlx::query_scalar(count)
            .fetch_one(&mut connect(database).await)
            .await
            .expect("a count");
    }
    counted
}

fn admin() -> String {
    token("ADMIN", "220400", None)
}

async fn title(gateway: &TestGateway, event: i64) -> Value {
    let body = call(
        gateway,
        &admin(),
        None,
        "query($id: ID!) { event(id: $id) { title } }",
        json!({ "id": crate::departments::global_id("Event", event) }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["event"]["title"].clone()
}

/// Polls until `check` holds (at most 10 s); the last readiness body otherwise.
async fn until_ready(gateway: &TestGateway, check: impl Fn(&Value) -> bool) -> Result<(), Value> {
    let mut body = Value::Null;
    for _ in 0..100 {
        body = gateway.readiness().await;
        if check(&body) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(body)
}

fn replica_status(body: &Value) -> &str {
    body["checks"]["read_replica"]["status"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn queries_read_from_the_replica_while_changes_and_the_audit_go_to_the_primary() {
    let primary = seeded_database().await;
    let (replica, event) = replica_database().await;
    let mut config = authenticated(&primary);
    config.read_database_url = gateway::config::Secret::new(database_url(&replica));
    let gateway = TestGateway::spawn_with(config, primary.clone()).await;

    let ready = gateway.readiness().await;
    assert_eq!(replica_status(&ready), "ok", "{ready}");
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(title(&gateway, event).await, json!(ONLY_ON_THE_REPLICA));

    // A change lands on the primary, and its answer (read after it) shows it.
    let body = call(
        &gateway,
        &admin(),
        None,
        "mutation { reportEvent(input: { idempotencyKey: \"replica-1\", description: \"楼道堆放杂物\", \
           category: SAFETY_HAZARD, gridCode: \"220422001001001\" }) { event { id status } } }",
        json!({}),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["reportEvent"]["event"]["status"], "REPORTED");
    let reported = "SELECT count(*) FROM events WHERE description = '楼道堆放杂物'";
    assert_eq!(counts(reported, [&primary, &replica]).await, [1, 0]);

    // A personal read in clear is served by the replica and audited on the primary.
    let person: i64 = sqlx::query_scalar(
        "SELECT id FROM persons WHERE jurisdiction_code LIKE '220422%' ORDER BY id LIMIT 1",
    )
    .fetch_one(&mut connect(&replica).await)
    .await
    .expect("a person");
    let body = call(
        &gateway,
        &admin(),
        Some("核实身份"),
        "query($p: ID!) { person(id: $p) { idNumber } }",
        json!({ "p": crate::departments::global_id("Person", person) }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    let audited = "SELECT count(*) FROM audit_log WHERE purpose = '核实身份'";
    assert_eq!(counts(audited, [&primary, &replica]).await, [1, 0]);
}

#[tokio::test]
async fn a_replica_that_stops_answering_sends_queries_to_the_primary_until_it_answers_again() {
    let primary = seeded_database().await;
    let (replica, event) = replica_database().await;
    let proxy = DatabaseProxy::to_postgres().await;
    let mut through_proxy = url::Url::parse(&database_url(&replica)).expect("replica URL");
    through_proxy.set_port(Some(proxy.port)).expect("a port");
    let mut config = authenticated(&primary);
    config.read_database_url = gateway::config::Secret::new(through_proxy.to_string());
    let gateway = TestGateway::spawn_with(config, primary.clone()).await;
    assert_eq!(title(&gateway, event).await, json!(ONLY_ON_THE_REPLICA));
    let on_the_primary: String = sqlx::query_scalar("SELECT title FROM events WHERE id = $1")
        .bind(event)
        .fetch_one(&mut connect(&primary).await)
        .await
        .expect("the primary's title");

    proxy.cut();
    let degraded = until_ready(&gateway, |body| replica_status(body) == "degraded").await;
    assert!(degraded.is_ok(), "{degraded:?}");
    let ready = gateway.readiness().await;
    assert_eq!(ready["status"], "degraded", "still ready: {ready}");
    assert_eq!(
        ready["checks"]["read_replica"]["effect"],
        "queries read from the primary"
    );
    // Served, from the primary, without an error.
    assert_eq!(title(&gateway, event).await, json!(on_the_primary));

    proxy.restore();
    let back = until_ready(&gateway, |body| replica_status(body) == "ok").await;
    assert!(back.is_ok(), "{back:?}");
    assert_eq!(title(&gateway, event).await, json!(ONLY_ON_THE_REPLICA));
}
