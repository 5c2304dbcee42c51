//! Subscriptions over WebSocket (graphql-transport-ws) with two gateway replicas on one
//! database and one Redis: a whistle blown through one reaches a subscriber of the
//! other; a subscriber resuming from its last cursor gets exactly what it missed, in
//! order; Redis cut mid-stream delays nothing into loss; the protocol's rules hold.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Message, http::HeaderValue};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{DatabaseProxy, TestGateway, content_type, seeded_database, test_config};

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Long enough for any delivery on a loaded CI machine; a liveness bound, not a timing claim.
const PATIENCE: Duration = Duration::from_secs(15);

pub(crate) async fn connect(gateway: &TestGateway) -> Socket {
    connect_with(gateway, "graphql-transport-ws").await
}

/// A connection speaking the legacy `subscriptions-transport-ws` protocol.
pub(crate) async fn connect_legacy(gateway: &TestGateway) -> Socket {
    connect_with(gateway, "graphql-ws").await
}

async fn connect_with(gateway: &TestGateway, protocol: &'static str) -> Socket {
    let mut request = format!("ws://{}/graphql", gateway.address)
        .into_client_request()
        .expect("a WebSocket request");
    request
        .headers_mut()
        .insert("sec-websocket-protocol", HeaderValue::from_static(protocol));
    let (socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the upgrade succeeds");
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some(protocol)
    );
    socket
}

pub(crate) async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .expect("send");
}

/// The next protocol message (pings answered by the library are skipped).
pub(crate) async fn receive(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("a message in time")
            .expect("the connection is open")
            .expect("a readable frame");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).expect("JSON"),
            Message::Close(frame) => {
                return json!({ "closed": frame.map(|f| (u16::from(f.code), f.reason.to_string())) });
            }
            _ => continue,
        }
    }
}

/// Sends `connection_init` with `payload`; returns the gateway's answer.
pub(crate) async fn init(socket: &mut Socket, payload: Value) -> Value {
    send(
        socket,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    receive(socket).await
}

pub(crate) async fn initialised(gateway: &TestGateway) -> Socket {
    let mut socket = connect(gateway).await;
    assert_eq!(
        init(&mut socket, json!({})).await,
        json!({ "type": "connection_ack" })
    );
    socket
}

const SIGNAL: &str = "cursor kind event { id } department { code }";

pub(crate) async fn subscribe(socket: &mut Socket, id: &str, arguments: &str) {
    let query = format!("subscription {{ dispatchSignals({arguments}) {{ {SIGNAL} }} }}");
    send(
        socket,
        json!({ "id": id, "type": "subscribe", "payload": { "query": query } }),
    )
    .await;
}

/// `after: "<the timeline's last cursor>"`: a subscription given it receives everything
/// that follows, however late the server gets to it (without a cursor it starts from
/// whenever that is).
pub(crate) async fn from_now(gateway: &TestGateway) -> String {
    let last: i64 = sqlx::query_scalar("SELECT COALESCE(max(position), 0) FROM timeline")
        .fetch_one(&mut gateway.database().await)
        .await
        .expect("the last cursor");
    format!("after: \"{last}\"")
}

/// The next `n` signals of subscription `id`.
pub(crate) async fn signals(socket: &mut Socket, id: &str, n: usize) -> Vec<Value> {
    let mut found = Vec::new();
    while found.len() < n {
        let message = receive(socket).await;
        assert_eq!(message["id"], id, "{message}");
        assert_eq!(message["type"], "next", "{message}");
        found.push(message["payload"]["data"]["dispatchSignals"].clone());
    }
    found
}

async fn mutate(gateway: &TestGateway, query: &str, variables: Value) -> Value {
    gateway.query(query, variables).await
}

/// A new event of 东辽县, accepted; returns its id.
pub(crate) async fn accepted_event(gateway: &TestGateway, key: &str) -> Value {
    let grid = gateway.grid_of("220422").await;
    let data = mutate(
        gateway,
        "mutation($input: ReportEventInput!) { reportEvent(input: $input) { event { id } } }",
        json!({ "input": { "idempotencyKey": format!("{key}-report"), "description": "供暖管道漏水",
                           "category": "PROPERTY_MANAGEMENT", "gridCode": grid } }),
    )
    .await;
    let event = data["reportEvent"]["event"]["id"].clone();
    mutate(
        gateway,
        "mutation($key: String!, $event: ID!) { acceptEvent(idempotencyKey: $key, eventId: $event) { replayed } }",
        json!({ "key": format!("{key}-accept"), "event": event }),
    )
    .await;
    event
}

pub(crate) async fn whistle(
    gateway: &TestGateway,
    key: &str,
    event: &Value,
    department: &str,
) -> Value {
    let data = mutate(
        gateway,
        "mutation($key: String!, $event: ID!, $department: String!) {
           blowWhistle(idempotencyKey: $key, eventId: $event, jurisdictionCode: \"220422\",
                       summons: [{ departmentCode: $department }]) { entries { summons { id } } } }",
        json!({ "key": key, "event": event, "department": department }),
    )
    .await;
    data["blowWhistle"]["entries"][0]["summons"]["id"].clone()
}

async fn replicas(redis_url: Option<String>) -> (TestGateway, TestGateway) {
    let database = seeded_database().await;
    let mut config = test_config(&database);
    config.departments.cache_prefix = format!("gov_test:{}-{}:", std::process::id(), database);
    let first = TestGateway::spawn_with(config.clone(), database.clone()).await;
    if let Some(url) = redis_url {
        config.redis_url = gateway::config::Secret::new(url);
    }
    let second = TestGateway::spawn_with(config, database).await;
    (first, second)
}

#[tokio::test]
async fn a_whistle_blown_on_one_replica_reaches_a_subscriber_on_the_other() {
    let (a, b) = replicas(None).await;
    let mut socket = initialised(&b).await;
    let after = from_now(&b).await;
    subscribe(
        &mut socket,
        "fire",
        &format!("departmentCode: \"220422-XJ\", {after}"),
    )
    .await;
    let event = accepted_event(&a, "cross").await;
    whistle(&a, "cross-whistle", &event, "220422-XJ").await;
    let received = signals(&mut socket, "fire", 1).await;
    assert_eq!(received[0]["kind"], "WHISTLE");
    assert_eq!(received[0]["event"]["id"], event);
    assert_eq!(received[0]["department"]["code"], "220422-XJ");
}

#[tokio::test]
async fn a_subscriber_that_resumes_gets_exactly_what_it_missed_in_order() {
    let (a, b) = replicas(None).await;
    let mut socket = initialised(&b).await;
    let after = from_now(&b).await;
    subscribe(
        &mut socket,
        "county",
        &format!("jurisdictionCode: \"220422\", {after}"),
    )
    .await;
    let event = accepted_event(&a, "resume").await;
    let first = signals(&mut socket, "county", 2).await;
    assert_eq!(
        first.iter().map(|s| s["kind"].clone()).collect::<Vec<_>>(),
        ["REPORTED", "ACCEPTED"]
    );
    let last = first[1]["cursor"].clone();
    drop(socket);

    // Missed while away: a whistle to two departments and a report-in.
    let summons = whistle(&a, "resume-whistle", &event, "220422-GA").await;
    whistle(&a, "resume-whistle-2", &event, "220422-MZ").await;
    mutate(
        &a,
        "mutation($key: String!, $summons: ID!) { reportIn(idempotencyKey: $key, summonsId: $summons) { replayed } }",
        json!({ "key": "resume-in", "summons": summons }),
    )
    .await;

    let mut socket = initialised(&b).await;
    subscribe(
        &mut socket,
        "again",
        &format!("jurisdictionCode: \"220422\", after: {last}"),
    )
    .await;
    let missed = signals(&mut socket, "again", 3).await;
    assert_eq!(
        missed.iter().map(|s| s["kind"].clone()).collect::<Vec<_>>(),
        ["WHISTLE", "WHISTLE", "REPORT_IN"]
    );
    // Then live, with no duplicate of what was replayed.
    mutate(
        &a,
        "mutation($key: String!, $event: ID!) { resolveEvent(idempotencyKey: $key, eventId: $event, tier: WINDOW,
           forceReason: \"当面协调解决\") { replayed } }",
        json!({ "key": "resume-resolve", "event": event }),
    )
    .await;
    let live = signals(&mut socket, "again", 1).await;
    assert_eq!(live[0]["kind"], "RESOLVED");
    let cursors: Vec<i64> = missed
        .iter()
        .chain(&live)
        .filter_map(|s| s["cursor"].as_str()?.parse().ok())
        .collect();
    assert!(cursors.windows(2).all(|p| p[0] < p[1]), "{cursors:?}");
    assert!(
        cursors[0]
            > last
                .as_str()
                .and_then(|c| c.parse().ok())
                .unwrap_or(i64::MAX)
    );
}

#[tokio::test]
async fn writers_to_different_events_do_not_wait_and_cursors_follow_commit_order() {
    let (a, b) = replicas(None).await;
    let first = accepted_event(&a, "apart-1").await;
    let second = accepted_event(&a, "apart-2").await;
    let mut socket = initialised(&b).await;
    let after = from_now(&b).await;
    subscribe(
        &mut socket,
        "county",
        &format!("jurisdictionCode: \"220422\", {after}"),
    )
    .await;

    // A writer in the middle of a change to the first event: it holds the event's row
    // and has appended an entry (an earlier id) it has not committed.
    let first_id = crate::departments::numeric_id(&first);
    let mut writer = a.holding_event(&first).await;
    sqlx::query(
        "WITH entry AS (INSERT INTO timeline (event_id, kind, actor, actor_role, jurisdiction_code, detail)
           SELECT id, 'URGED', '慢写者', 'DISPATCHER', jurisdiction_code, '{}' FROM events WHERE id = $1
           RETURNING id)
         INSERT INTO outbox (timeline_id) SELECT id FROM entry",
    )
    .bind(first_id)
    .execute(&mut writer)
    .await
    .expect("an entry appended, not committed");

    // A change to the other event goes through meanwhile, and is signalled.
    let started = std::time::Instant::now();
    tokio::time::timeout(
        Duration::from_secs(5),
        whistle(&a, "apart-whistle", &second, "220422-GA"),
    )
    .await
    .expect("a change to another event does not wait for the first event's writer");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let whistled = signals(&mut socket, "county", 1).await;
    assert_eq!(whistled[0]["kind"], "WHISTLE");

    // The slow writer commits: its entry follows, next in order, though its id is older.
    sqlx::query("COMMIT")
        .execute(&mut writer)
        .await
        .expect("commit");
    let late = signals(&mut socket, "county", 1).await;
    assert_eq!(late[0]["event"]["id"], first, "{late:?}");
    let cursor = |signal: &Value| -> i64 {
        signal["cursor"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .expect("a cursor")
    };
    assert_eq!(
        cursor(&late[0]),
        cursor(&whistled[0]) + 1,
        "no gap, commit order"
    );
    let (ids, positions): (Vec<i64>, Vec<i64>) = sqlx::query_as::<_, (i64, i64)>(
        "SELECT id, position FROM timeline WHERE position = ANY($1) ORDER BY position",
    )
    .bind(vec![cursor(&whistled[0]), cursor(&late[0])])
    .fetch_all(&mut a.database().await)
    .await
    .expect("the two entries")
    .into_iter()
    .unzip();
    assert_eq!(positions.len(), 2);
    assert!(
        ids[0] > ids[1],
        "the later commit had the older id: {ids:?}"
    );

    // A subscriber resuming from before the whistle gets both, in commit order.
    let mut socket = initialised(&a).await;
    let before = cursor(&whistled[0]) - 1;
    subscribe(
        &mut socket,
        "again",
        &format!("jurisdictionCode: \"220422\", after: \"{before}\""),
    )
    .await;
    let replayed = signals(&mut socket, "again", 2).await;
    assert_eq!(
        replayed.iter().map(cursor).collect::<Vec<_>>(),
        [cursor(&whistled[0]), cursor(&late[0])]
    );
}

#[tokio::test]
async fn redis_cut_mid_stream_loses_nothing() {
    let redis: std::net::SocketAddr = "127.0.0.1:6379".parse().expect("address");
    let proxy = DatabaseProxy::start(redis).await;
    let (a, b) = replicas(Some(format!("redis://127.0.0.1:{}", proxy.port))).await;
    let mut socket = initialised(&b).await;
    let after = from_now(&b).await;
    subscribe(
        &mut socket,
        "police",
        &format!("departmentCode: \"220422-GA\", {after}"),
    )
    .await;
    let event = accepted_event(&a, "cut").await;
    whistle(&a, "cut-1", &event, "220422-GA").await;
    assert_eq!(
        signals(&mut socket, "police", 1).await[0]["kind"],
        "WHISTLE"
    );

    // One open summons per department and event: the next whistles are on events of
    // their own.
    let second = accepted_event(&a, "cut-second").await;
    let third = accepted_event(&a, "cut-third").await;
    let fourth = accepted_event(&a, "cut-fourth").await;
    proxy.cut();
    whistle(&a, "cut-2", &second, "220422-GA").await;
    whistle(&a, "cut-3", &third, "220422-GA").await;
    let during = signals(&mut socket, "police", 2).await;
    assert!(during.iter().all(|s| s["kind"] == "WHISTLE"));
    proxy.restore();
    whistle(&a, "cut-4", &fourth, "220422-GA").await;
    let after = signals(&mut socket, "police", 1).await;
    let cursors: Vec<i64> = during
        .iter()
        .chain(&after)
        .filter_map(|s| s["cursor"].as_str()?.parse().ok())
        .collect();
    assert!(cursors.windows(2).all(|p| p[0] < p[1]), "{cursors:?}");
    // Once Redis is back the relay catches up: the outbox empties.
    let mut unpublished = i64::MAX;
    for _ in 0..100 {
        unpublished = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            .fetch_one(&mut a.database().await)
            .await
            .expect("count the outbox");
        if unpublished == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(unpublished, 0);
}

#[tokio::test]
async fn the_protocol_rules_are_kept() {
    let database = seeded_database().await;
    let mut config = test_config(&database);
    config.limits.ws_init_timeout_ms = 300;
    config.limits.ws_max_operations = 2;
    let gateway = TestGateway::spawn_with(config, database).await;
    let closed = |code: u16, reason: &str| json!({ "closed": [code, reason] });

    let mut socket = connect(&gateway).await;
    assert_eq!(
        receive(&mut socket).await,
        closed(4408, "Connection initialisation timeout")
    );

    let mut socket = connect(&gateway).await;
    subscribe(&mut socket, "early", "departmentCode: \"220422-GA\"").await;
    assert_eq!(receive(&mut socket).await, closed(4401, "Unauthorized"));

    let mut socket = initialised(&gateway).await;
    send(&mut socket, json!({ "type": "ping" })).await;
    assert_eq!(receive(&mut socket).await, json!({ "type": "pong" }));
    send(&mut socket, json!({ "type": "connection_init" })).await;
    assert_eq!(
        receive(&mut socket).await,
        closed(4429, "Too many initialisation requests")
    );

    let mut socket = initialised(&gateway).await;
    subscribe(&mut socket, "one", "departmentCode: \"220422-GA\"").await;
    subscribe(&mut socket, "one", "departmentCode: \"220422-GA\"").await;
    assert_eq!(
        receive(&mut socket).await,
        closed(4409, "Subscriber for one already exists")
    );

    // One operation over the connection's limit is refused; the others run on.
    let mut socket = initialised(&gateway).await;
    for id in ["one", "two", "three"] {
        subscribe(&mut socket, id, "departmentCode: \"220422-GA\"").await;
    }
    let refused = receive(&mut socket).await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "three");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "BAD_REQUEST");
    send(&mut socket, json!({ "type": "ping" })).await;
    assert_eq!(receive(&mut socket).await, json!({ "type": "pong" }));

    // A subscription that cannot run gets `error`, and the connection stays usable.
    let mut socket = initialised(&gateway).await;
    subscribe(&mut socket, "bad", "after: \"0\"").await;
    let error = receive(&mut socket).await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["id"], "bad");
    assert_eq!(error["payload"][0]["extensions"]["code"], "BAD_USER_INPUT");
    send(&mut socket, json!({ "type": "ping" })).await;
    assert_eq!(receive(&mut socket).await, json!({ "type": "pong" }));

    // A subscription has exactly one root field (a fragment cannot hide a second).
    let query = format!(
        "subscription {{ dispatchSignals {{ {SIGNAL} }} ...More }}
         fragment More on Subscription {{ again: dispatchSignals {{ cursor }} }}"
    );
    send(
        &mut socket,
        json!({ "id": "two-roots", "type": "subscribe", "payload": { "query": query } }),
    )
    .await;
    let error = receive(&mut socket).await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(
        error["payload"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    assert!(
        error["payload"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("exactly one root field")),
        "{error}"
    );
    socket
        .send(Message::Text("{not json".into()))
        .await
        .expect("send");
    let close = receive(&mut socket).await;
    assert_eq!(close["closed"][0], 4400, "{close}");
}

#[tokio::test]
async fn server_sent_events_serve_clients_without_websocket() {
    let gateway = TestGateway::spawn().await;
    let event = accepted_event(&gateway, "sse").await;
    let query = "subscription($event: ID!) { eventTimeline(eventId: $event) { cursor kind } }";
    let mut response = gateway
        .client
        .post(gateway.url("/graphql"))
        .header("accept", "text/event-stream")
        .json(&json!({ "query": query, "variables": { "event": event } }))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status().as_u16(), 200);
    assert!(content_type(&response).starts_with("text/event-stream"));
    let mut text = String::new();
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        let chunk = tokio::time::timeout(PATIENCE, response.chunk())
            .await
            .expect("an event in time")
            .expect("a readable stream")
            .expect("the stream is open");
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            if block.contains("event: next") {
                let data = block
                    .lines()
                    .find_map(|line| line.strip_prefix("data: "))
                    .unwrap_or_default();
                let payload: Value = serde_json::from_str(data).expect("JSON data");
                kinds.push(payload["data"]["eventTimeline"]["kind"].clone());
            }
        }
    }
    assert_eq!(kinds, ["REPORTED", "ACCEPTED"]);

    // Over plain JSON, a subscription is pointed to WebSocket or SSE.
    let (status, body) = gateway.post(query, json!({ "event": event })).await;
    assert_eq!(status.as_u16(), 400, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("text/event-stream"))
    );
}

#[tokio::test]
async fn older_clients_speak_the_legacy_protocol() {
    let gateway = TestGateway::spawn().await;
    let event = accepted_event(&gateway, "legacy").await;
    let mut socket = connect_with(&gateway, "graphql-ws").await;
    assert_eq!(
        init(&mut socket, json!({})).await,
        json!({ "type": "connection_ack" })
    );
    assert_eq!(receive(&mut socket).await, json!({ "type": "ka" }));
    let query = "subscription($event: ID!) { eventTimeline(eventId: $event) { kind } }";
    send(
        &mut socket,
        json!({ "id": "1", "type": "start", "payload": { "query": query, "variables": { "event": event } } }),
    )
    .await;
    for kind in ["REPORTED", "ACCEPTED"] {
        let message = receive(&mut socket).await;
        assert_eq!(message["type"], "data", "{message}");
        assert_eq!(message["payload"]["data"]["eventTimeline"]["kind"], kind);
    }
    send(&mut socket, json!({ "type": "connection_terminate" })).await;
    assert_eq!(receive(&mut socket).await["closed"][0], 1000);
}

#[tokio::test]
async fn subscriptions_alike_share_an_execution_and_late_or_behind_ones_miss_nothing() {
    let gateway = TestGateway::spawn().await;
    let event = accepted_event(&gateway, "share").await;
    let timeline = gateway
        .query(
            "query($id: ID!) { event(id: $id) { timeline { cursor } } }",
            json!({ "id": event }),
        )
        .await;
    let after = timeline["event"]["timeline"][1]["cursor"].clone();
    let arguments = format!("departmentCode: \"220422-XJ\", after: {after}");

    // Two boards subscribe identically before anything arrives.
    let mut first = initialised(&gateway).await;
    let mut second = initialised(&gateway).await;
    subscribe(&mut first, "a", &arguments).await;
    subscribe(&mut second, "b", &arguments).await;
    whistle(&gateway, "share-1", &event, "220422-XJ").await;
    let one = signals(&mut first, "a", 1).await;
    assert_eq!(signals(&mut second, "b", 1).await, one);

    // A third, identical but arriving after the first signal, still gets it.
    let mut late = initialised(&gateway).await;
    subscribe(&mut late, "c", &arguments).await;
    assert_eq!(signals(&mut late, "c", 1).await, one);

    // One board stops; the others go on with the next whistle.
    send(&mut first, json!({ "id": "a", "type": "complete" })).await;
    // The department's summons to the first event is open: the next is to another.
    let other = accepted_event(&gateway, "share-other").await;
    whistle(&gateway, "share-2", &other, "220422-XJ").await;
    let two = signals(&mut second, "b", 1).await;
    assert_eq!(two[0]["kind"], "WHISTLE");
    assert_ne!(two[0]["cursor"], one[0]["cursor"]);
    assert_eq!(signals(&mut late, "c", 1).await, two);

    // A board under a name of its own, behind the shared execution, replays what it
    // missed, in order, then follows live with the others.
    let mut behind = initialised(&gateway).await;
    let query = format!("subscription Behind {{ dispatchSignals({arguments}) {{ {SIGNAL} }} }}");
    send(
        &mut behind,
        json!({ "id": "d", "type": "subscribe", "payload": { "query": query } }),
    )
    .await;
    let mut missed = one.clone();
    missed.extend(two.clone());
    assert_eq!(signals(&mut behind, "d", 2).await, missed);
    let third = accepted_event(&gateway, "share-third").await;
    whistle(&gateway, "share-3", &third, "220422-XJ").await;
    let three = signals(&mut second, "b", 1).await;
    assert_ne!(three[0]["cursor"], two[0]["cursor"]);
    assert_eq!(signals(&mut behind, "d", 1).await, three);
    assert_eq!(signals(&mut late, "c", 1).await, three);
}

#[tokio::test]
async fn quiet_connections_are_pinged_and_vanished_clients_dropped() {
    let database = seeded_database().await;
    let mut config = test_config(&database);
    // Long enough for a loaded machine to answer every ping in time.
    config.limits.ws_keepalive_ms = 500;
    let gateway = TestGateway::spawn_with(config, database).await;

    // A client that keeps reading answers the pings (its library does) and stays.
    let mut alive = initialised(&gateway).await;
    subscribe(&mut alive, "quiet", "departmentCode: \"220422-XJ\"").await;
    let mut pings = 0;
    while pings < 3 {
        let frame = tokio::time::timeout(PATIENCE, alive.next())
            .await
            .expect("a frame in time");
        match frame {
            Some(Ok(Message::Ping(_))) => pings += 1,
            other => panic!("the connection should stay open and quiet: {other:?}"),
        }
    }

    // One that reads nothing, as a vanished client, is dropped after two silent periods.
    let mut gone = initialised(&gateway).await;
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    let ended = tokio::time::timeout(PATIENCE, async {
        loop {
            match gone.next().await {
                Some(Ok(Message::Ping(_))) => continue,
                Some(Ok(Message::Close(_)) | Err(_)) | None => return true,
                Some(Ok(other)) => panic!("unexpected {other:?}"),
            }
        }
    })
    .await;
    assert_eq!(ended, Ok(true));
}

#[tokio::test]
async fn without_a_cursor_signals_start_from_now() {
    let gateway = TestGateway::spawn().await;
    let seeded: i64 =
        sqlx::query_scalar("SELECT count(*) FROM timeline WHERE department_code = '220422-GA'")
            .fetch_one(&mut gateway.database().await)
            .await
            .expect("count the seeded history");
    assert!(seeded > 0, "the seeded history has entries to skip");
    let mut socket = initialised(&gateway).await;
    subscribe(&mut socket, "now", "departmentCode: \"220422-GA\"").await;
    // Nothing of the history arrives.
    let quiet = tokio::time::timeout(Duration::from_millis(700), socket.next()).await;
    assert!(quiet.is_err(), "{quiet:?}");
    let event = accepted_event(&gateway, "now").await;
    whistle(&gateway, "now-whistle", &event, "220422-GA").await;
    let received = signals(&mut socket, "now", 1).await;
    assert_eq!(received[0]["kind"], "WHISTLE");
    assert_eq!(received[0]["event"]["id"], event);
}
