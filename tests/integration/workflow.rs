//! The dispatch workflow over GraphQL: an event from report to close with departments
//! summoned, the timeline it leaves, illegal transitions refused without a trace, and
//! idempotency keys making retries harmless.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::TestGateway;

const PAYLOAD: &str = "replayed event { id status satisfaction resolutionTier }
    entries { cursor kind stateBefore stateAfter detail department { code } summons { id status } }";

/// The mutation `name` with the idempotency key `$key` and `arguments`; the other
/// variables (`$event`, `$summons`) are ids.
fn mutation(name: &str, arguments: &str, variables: &Value) -> String {
    let declarations: Vec<String> = variables
        .as_object()
        .map(|vars| {
            vars.keys()
                .map(|var| match var.as_str() {
                    "key" => "$key: String!".to_owned(),
                    other => format!("${other}: ID!"),
                })
                .collect()
        })
        .unwrap_or_default();
    format!(
        "mutation({}) {{ {name}(idempotencyKey: $key{arguments}) {{ {PAYLOAD} }} }}",
        declarations.join(", ")
    )
}

/// Runs a mutation that must succeed; returns its payload.
async fn mutate(gateway: &TestGateway, name: &str, arguments: &str, variables: Value) -> Value {
    let query = mutation(name, arguments, &variables);
    let data = gateway.query(&query, variables).await;
    data[name].clone()
}

/// Runs a mutation that must fail; returns the first error.
async fn refused(gateway: &TestGateway, name: &str, arguments: &str, variables: Value) -> Value {
    let query = mutation(name, arguments, &variables);
    let (_, body) = gateway.post(&query, variables).await;
    assert!(
        body["data"].is_null() || body["data"][name].is_null(),
        "{body:#}"
    );
    body["errors"][0].clone()
}

async fn report(gateway: &TestGateway, key: &str) -> Value {
    let mut database = gateway.database().await;
    let (grid, person): (String, i64) = sqlx::query_as(
        "SELECT p.jurisdiction_code, p.id FROM persons p
         WHERE left(p.jurisdiction_code, 6) = '220422' ORDER BY p.id LIMIT 1",
    )
    .fetch_one(&mut database)
    .await
    .expect("a person of 东辽县");
    let query = format!(
        "mutation($input: ReportEventInput!) {{ reportEvent(input: $input) {{ {PAYLOAD} }} }}"
    );
    let person_id = crate::departments::global_id("Person", person);
    let data = gateway
        .query(
            &query,
            json!({ "input": {
                "idempotencyKey": key,
                "description": "楼道堆放杂物堵塞消防通道，多次劝说无果",
                "category": "SAFETY_HAZARD",
                "urgency": "HIGH",
                "gridCode": grid,
                "reporterId": person_id,
                "partyIds": [person_id],
                "photos": ["https://img.example.cn/grid/1.jpg"],
            }}),
        )
        .await;
    data["reportEvent"].clone()
}

fn kinds(timeline: &Value) -> Vec<&str> {
    timeline
        .as_array()
        .map(|entries| entries.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default()
}

async fn timeline(gateway: &TestGateway, event: &Value) -> Value {
    let data = gateway
        .query(
            "query($id: ID!) { event(id: $id) { timeline { cursor kind stateBefore stateAfter } } }",
            json!({ "id": event }),
        )
        .await;
    data["event"]["timeline"].clone()
}

#[tokio::test]
async fn an_event_goes_from_report_to_close_and_leaves_its_timeline() {
    let gateway = TestGateway::spawn().await;
    let reported = report(&gateway, "report-1").await;
    let event = reported["event"]["id"].clone();
    assert_eq!(reported["event"]["status"], "REPORTED");
    let id = json!({ "event": event });
    let with = |key: &str| {
        let mut variables = id.clone();
        variables["key"] = json!(key);
        variables
    };

    let accepted = mutate(
        &gateway,
        "acceptEvent",
        ", eventId: $event",
        with("accept-1"),
    )
    .await;
    assert_eq!(accepted["event"]["status"], "ACCEPTED");
    let whistle = mutate(
        &gateway,
        "blowWhistle",
        ", eventId: $event, jurisdictionCode: \"220422\", note: \"消防通道堵塞，请公安、消防到场\",
           summons: [{ departmentCode: \"220422-GA\" }, { departmentCode: \"220422-XJ\" }]",
        with("whistle-1"),
    )
    .await;
    assert_eq!(whistle["event"]["status"], "DISPATCHED");
    let summoned: Vec<&str> = whistle["entries"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|e| e["department"]["code"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(summoned, ["220422-GA", "220422-XJ"]);
    let fire = whistle["entries"][1]["summons"]["id"].clone();

    let mut summons = json!({ "key": "report-in-1", "summons": fire });
    let reported_in = mutate(
        &gateway,
        "reportIn",
        ", summonsId: $summons",
        summons.clone(),
    )
    .await;
    assert_eq!(reported_in["event"]["status"], "IN_PROGRESS");
    assert_eq!(
        reported_in["entries"][0]["summons"]["status"],
        "REPORTED_IN"
    );
    summons["key"] = json!("feedback-1");
    let feedback = mutate(
        &gateway,
        "submitFeedback",
        ", summonsId: $summons, text: \"已清理杂物，通道畅通\", done: true",
        summons,
    )
    .await;
    assert_eq!(feedback["entries"][0]["summons"]["status"], "DONE");

    // Police's summons is still open: the event cannot be resolved yet.
    let open = refused(
        &gateway,
        "resolveEvent",
        ", eventId: $event, tier: WINDOW",
        with("resolve-early"),
    )
    .await;
    assert_eq!(open["extensions"]["code"], "INVALID_TRANSITION", "{open}");
    assert!(
        open["message"]
            .as_str()
            .is_some_and(|m| m.contains("220422-GA (SUMMONED)")),
        "{open}"
    );
    let police = whistle["entries"][0]["summons"]["id"].clone();
    mutate(
        &gateway,
        "declineSummons",
        ", summonsId: $summons, reason: \"消防已处置，无需公安到场\"",
        json!({ "key": "decline-1", "summons": police }),
    )
    .await;

    let resolved = mutate(
        &gateway,
        "resolveEvent",
        ", eventId: $event, tier: WINDOW",
        with("resolve-1"),
    )
    .await;
    assert_eq!(resolved["event"]["status"], "RESOLVED");
    // Unsatisfied: the event is reopened for rework (重办), not closed.
    let unhappy = mutate(
        &gateway,
        "revisit",
        ", eventId: $event, satisfaction: 2, comment: \"杂物又堆回来了\"",
        with("revisit-1"),
    )
    .await;
    assert_eq!(unhappy["event"]["status"], "IN_PROGRESS");
    mutate(
        &gateway,
        "resolveEvent",
        ", eventId: $event, tier: WINDOW",
        with("resolve-2"),
    )
    .await;
    let happy = mutate(
        &gateway,
        "revisit",
        ", eventId: $event, satisfaction: 5",
        with("revisit-2"),
    )
    .await;
    assert_eq!(happy["event"]["satisfaction"], 5);
    let closed = mutate(&gateway, "closeEvent", ", eventId: $event", with("close-1")).await;
    assert_eq!(closed["event"]["status"], "CLOSED");
    // Never referred to mediation: resolved at the window.
    assert_eq!(closed["event"]["resolutionTier"], "WINDOW");

    let entries = timeline(&gateway, &event).await;
    assert_eq!(
        kinds(&entries),
        [
            "REPORTED",
            "ACCEPTED",
            "WHISTLE",
            "WHISTLE",
            "REPORT_IN",
            "FEEDBACK",
            "DECLINED",
            "RESOLVED",
            "REOPENED",
            "RESOLVED",
            "EVALUATED",
            "CLOSED"
        ]
    );
    let cursors: Vec<i64> = entries
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|e| e["cursor"].as_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        cursors.windows(2).all(|pair| pair[0] < pair[1]),
        "{cursors:?}"
    );
    assert_eq!(entries[8]["stateBefore"], "RESOLVED");
    assert_eq!(entries[8]["stateAfter"], "IN_PROGRESS");
}

#[tokio::test]
async fn illegal_transitions_are_refused_and_change_nothing() {
    let gateway = TestGateway::spawn().await;
    let reported = report(&gateway, "report-2").await;
    let event = reported["event"]["id"].clone();
    for (name, arguments) in [
        ("closeEvent", ""),
        ("resolveEvent", ", tier: WINDOW"),
        ("revisit", ", satisfaction: 4"),
        (
            "blowWhistle",
            ", jurisdictionCode: \"220422\", summons: [{ departmentCode: \"220422-GA\" }]",
        ),
    ] {
        let error = refused(
            &gateway,
            name,
            &format!(", eventId: $event{arguments}"),
            json!({ "key": format!("illegal-{name}"), "event": event }),
        )
        .await;
        assert_eq!(
            error["extensions"]["code"], "INVALID_TRANSITION",
            "{name}: {error:#}"
        );
        assert_eq!(error["extensions"]["currentState"], "REPORTED");
    }
    mutate(
        &gateway,
        "rejectEvent",
        ", eventId: $event, reason: \"重复上报\"",
        json!({ "key": "reject-2", "event": event }),
    )
    .await;
    let error = refused(
        &gateway,
        "acceptEvent",
        ", eventId: $event",
        json!({ "key": "accept-2", "event": event }),
    )
    .await;
    assert_eq!(error["extensions"]["currentState"], "REJECTED");
    assert_eq!(
        kinds(&timeline(&gateway, &event).await),
        ["REPORTED", "REJECTED"]
    );

    let error = refused(
        &gateway,
        "revisit",
        ", eventId: $event, satisfaction: 9",
        json!({ "key": "revisit-9", "event": event }),
    )
    .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_retried_mutation_acts_once_and_returns_the_first_result() {
    let gateway = TestGateway::spawn().await;
    let reported = report(&gateway, "report-3").await;
    let event = reported["event"]["id"].clone();
    let again = report(&gateway, "report-3").await;
    assert_eq!(again["replayed"], true);
    assert_eq!(
        again["event"]["id"], event,
        "a retried report files no second event"
    );

    // Eight terminals retrying the same acceptance at once: one acceptance.
    let variables = json!({ "key": "accept-3", "event": event });
    let query = mutation("acceptEvent", ", eventId: $event", &variables);
    let answers = join_all((0..8).map(|_| gateway.post(&query, variables.clone()))).await;
    let mut cursors = Vec::new();
    for (status, body) in &answers {
        assert_eq!(status.as_u16(), 200, "{body:#}");
        assert!(body.get("errors").is_none(), "{body:#}");
        cursors.push(body["data"]["acceptEvent"]["entries"][0]["cursor"].clone());
    }
    assert!(
        cursors.iter().all(|c| *c == cursors[0]),
        "every retry returns the first entry: {cursors:?}"
    );
    let replayed = answers
        .iter()
        .filter(|(_, body)| body["data"]["acceptEvent"]["replayed"] == true)
        .count();
    assert_eq!(replayed, 7);
    assert_eq!(
        kinds(&timeline(&gateway, &event).await),
        ["REPORTED", "ACCEPTED"]
    );

    // A key belongs to one operation.
    let error = refused(
        &gateway,
        "rejectEvent",
        ", eventId: $event, reason: \"x\"",
        variables,
    )
    .await;
    assert_eq!(error["extensions"]["code"], "IDEMPOTENCY_KEY_REUSED");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("already used by you for acceptEvent"))
    );
}

#[tokio::test]
async fn the_timeline_cannot_be_changed() {
    let gateway = TestGateway::spawn().await;
    report(&gateway, "report-4").await;
    let mut database = gateway.database().await;
    for statement in [
        "UPDATE timeline SET kind = 'CLOSED'",
        "UPDATE timeline SET position = position + 1000000",
        "DELETE FROM timeline",
    ] {
        let refused = sqlx::query(statement).execute(&mut database).await;
        assert!(
            refused.is_err_and(|e| e.to_string().contains("never changed or deleted")),
            "{statement}"
        );
    }
}

#[tokio::test]
async fn departments_decline_or_ask_for_more_time() {
    let gateway = TestGateway::spawn().await;
    let event = report(&gateway, "report-5").await["event"]["id"].clone();
    mutate(
        &gateway,
        "acceptEvent",
        ", eventId: $event",
        json!({ "key": "accept-5", "event": event }),
    )
    .await;
    let whistle = mutate(
        &gateway,
        "blowWhistle",
        ", eventId: $event, jurisdictionCode: \"220422\",
           summons: [{ departmentCode: \"220422-CG\" }, { departmentCode: \"220422-ZJ\", handlingDueAt: \"2030-01-01T00:00:00Z\" }]",
        json!({ "key": "whistle-5", "event": event }),
    )
    .await;
    let urban = whistle["entries"][0]["summons"]["id"].clone();
    let housing = whistle["entries"][1]["summons"]["id"].clone();

    let declined = mutate(
        &gateway,
        "declineSummons",
        ", summonsId: $summons, reason: \"不属于城管职责\"",
        json!({ "key": "decline-5", "summons": urban }),
    )
    .await;
    assert_eq!(declined["entries"][0]["summons"]["status"], "DECLINED");
    assert_eq!(declined["entries"][0]["detail"]["reason"], "不属于城管职责");
    let error = refused(
        &gateway,
        "reportIn",
        ", summonsId: $summons",
        json!({ "key": "late-5", "summons": urban }),
    )
    .await;
    assert_eq!(error["extensions"]["currentState"], "DECLINED");

    // A decision with no request pending is refused; a request, then a grant, moves the deadline.
    mutate(
        &gateway,
        "reportIn",
        ", summonsId: $summons",
        json!({ "key": "in-5", "summons": housing }),
    )
    .await;
    let error = refused(
        &gateway,
        "decideExtension",
        ", summonsId: $summons, grant: true",
        json!({ "key": "grant-early-5", "summons": housing }),
    )
    .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    mutate(
        &gateway,
        "requestExtension",
        ", summonsId: $summons, until: \"2030-02-01T00:00:00Z\", reason: \"需鉴定房屋安全等级\"",
        json!({ "key": "ask-5", "summons": housing }),
    )
    .await;
    mutate(
        &gateway,
        "decideExtension",
        ", summonsId: $summons, grant: true",
        json!({ "key": "grant-5", "summons": housing }),
    )
    .await;
    let data = gateway
        .query(
            "query($id: ID!) { node(id: $id) { ... on Summons { status handlingDueAt extensionRequestedUntil extensions event { acceptedAt } } } }",
            json!({ "id": housing }),
        )
        .await;
    assert_eq!(data["node"]["handlingDueAt"], "2030-02-01T00:00:00+00:00");
    assert_eq!(data["node"]["extensions"], 1, "counted for evaluation");
    assert!(data["node"]["event"]["acceptedAt"].is_string(), "{data:#}");
    assert!(data["node"]["extensionRequestedUntil"].is_null());
    assert_eq!(
        kinds(&timeline(&gateway, &event).await),
        [
            "REPORTED",
            "ACCEPTED",
            "WHISTLE",
            "WHISTLE",
            "DECLINED",
            "REPORT_IN",
            "EXTENSION_REQUESTED",
            "EXTENSION_DECIDED"
        ]
    );
}

#[tokio::test]
async fn a_passed_deadline_fires_once_with_two_replicas_watching() {
    let database = crate::helpers::seeded_database().await;
    let mut config = crate::helpers::test_config(&database);
    config.workflow.deadline_check_ms = 100;
    let first = TestGateway::spawn_with(config.clone(), database.clone()).await;
    let second = TestGateway::spawn_with(config, database).await;

    let event = report(&first, "report-6").await["event"]["id"].clone();
    mutate(
        &first,
        "acceptEvent",
        ", eventId: $event",
        json!({ "key": "accept-6", "event": event }),
    )
    .await;
    // 安全隐患 at a township (白泉镇 in 东辽县): the fire brigade should have reported in an hour ago.
    let township: String = sqlx::query_scalar(
        "SELECT code FROM jurisdictions WHERE parent_code = '220422' ORDER BY code LIMIT 1",
    )
    .fetch_one(&mut first.database().await)
    .await
    .expect("a township of 东辽县");
    let past =
        (sqlx::types::chrono::Utc::now() - std::time::Duration::from_secs(3_600)).to_rfc3339();
    let whistle = mutate(
        &second,
        "blowWhistle",
        &format!(
            ", eventId: $event, jurisdictionCode: \"{township}\",
               summons: [{{ departmentCode: \"220422-XJ\", reportInDueAt: \"{past}\" }}]"
        ),
        json!({ "key": "whistle-6", "event": event }),
    )
    .await;
    let summons = whistle["entries"][0]["summons"]["id"].clone();

    let mut status = Value::Null;
    for _ in 0..150 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let data = first
            .query(
                "query($id: ID!) { node(id: $id) { ... on Summons { status } } }",
                json!({ "id": summons }),
            )
            .await;
        status = data["node"]["status"].clone();
        if status == "OVERDUE" {
            break;
        }
    }
    assert_eq!(status, "OVERDUE");
    // Several more rounds of both replicas: still one of each.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let entries = timeline(&second, &event).await;
    assert_eq!(
        kinds(&entries),
        ["REPORTED", "ACCEPTED", "WHISTLE", "OVERDUE", "SUPERVISION"]
    );
    let data = second
        .query(
            "query($id: ID!) { event(id: $id) { timeline(first: 10) { kind actor { name role } detail } } }",
            json!({ "id": event }),
        )
        .await;
    let supervision = &data["event"]["timeline"][4];
    assert_eq!(supervision["actor"]["role"], "SYSTEM");
    assert_eq!(
        supervision["detail"]["supervisor"], "220422",
        "the level above the township"
    );
    assert_eq!(supervision["detail"]["overdue"]["missed"], "reportIn");
}

#[tokio::test]
async fn escalation_hands_the_event_to_the_level_above_up_to_the_city() {
    let gateway = TestGateway::spawn().await;
    let event = report(&gateway, "esc-report").await["event"]["id"].clone();
    let before = handling(&gateway, event.clone()).await;
    assert_eq!(
        before["handlingJurisdiction"]["level"], "TOWNSHIP",
        "{before}"
    );
    let township = before["handlingJurisdiction"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let reason = ", eventId: $event, reason: \"涉及多个乡镇，需区县协调\"";
    let escalated = mutate(
        &gateway,
        "escalateEvent",
        reason,
        json!({ "key": "esc-1", "event": event }),
    )
    .await;
    assert_eq!(escalated["entries"][0]["detail"]["from"], township.as_str());
    assert_eq!(escalated["entries"][0]["detail"]["to"], "220422");
    let county = handling(&gateway, event.clone()).await;
    assert_eq!(county["status"], "ESCALATED");
    assert_eq!(county["handlingJurisdiction"]["code"], "220422");

    // The county accepts it, then hands it on to the city; the city has no level above.
    mutate(
        &gateway,
        "acceptEvent",
        ", eventId: $event",
        json!({ "key": "esc-2", "event": event }),
    )
    .await;
    mutate(
        &gateway,
        "escalateEvent",
        reason,
        json!({ "key": "esc-3", "event": event }),
    )
    .await;
    assert_eq!(
        handling(&gateway, event.clone()).await["handlingJurisdiction"]["code"],
        "220400"
    );
    mutate(
        &gateway,
        "acceptEvent",
        ", eventId: $event",
        json!({ "key": "esc-4", "event": event }),
    )
    .await;
    let error = refused(
        &gateway,
        "escalateEvent",
        reason,
        json!({ "key": "esc-5", "event": event }),
    )
    .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
    let city = handling(&gateway, event.clone()).await;
    assert_eq!(city["status"], "ACCEPTED");
    assert_eq!(city["handlingJurisdiction"]["code"], "220400");
}

/// An event's status and the level handling it.
async fn handling(gateway: &TestGateway, event: Value) -> Value {
    let data = gateway
        .query(
            "query($id: ID!) { event(id: $id) { status handlingJurisdiction { code level } } }",
            json!({ "id": event }),
        )
        .await;
    data["event"].clone()
}

#[tokio::test]
async fn changes_beyond_the_writer_cap_wait_their_turn_and_all_go_through() {
    let database = crate::helpers::seeded_database().await;
    let mut config = crate::helpers::test_config(&database);
    config.database.max_writers = 1;
    let gateway = TestGateway::spawn_with(config, database).await;
    let reported = join_all((0..8).map(|n| {
        let gateway = &gateway;
        async move { report(gateway, &format!("capped-{n}")).await }
    }))
    .await;
    let mut events: Vec<&Value> = reported.iter().map(|r| &r["event"]["id"]).collect();
    events.sort_by_key(|id| id.to_string());
    events.dedup();
    assert_eq!(events.len(), 8, "eight events, one at a time: {reported:?}");
    let cursors: Vec<i64> = sqlx::query_scalar(
        "SELECT position FROM timeline WHERE actor_role <> 'SYSTEM' ORDER BY position DESC LIMIT 8",
    )
    .fetch_all(&mut gateway.database().await)
    .await
    .expect("the newest positions");
    assert!(
        cursors.windows(2).all(|w| w[0] == w[1] + 1),
        "gapless: {cursors:?}"
    );
}

#[tokio::test]
async fn reads_find_a_connection_while_writers_wait_on_a_held_event() {
    let database = crate::helpers::seeded_database().await;
    let mut config = crate::helpers::test_config(&database);
    // Three connections, two of which writers may hold.
    config.database.max_connections = 3;
    config.database.max_writers = 2;
    config.database.acquire_timeout_ms = 1_000;
    let gateway = TestGateway::spawn_with(config, database).await;
    let event = report(&gateway, "held-report").await["event"]["id"].clone();

    // Someone holds the event's row: every change to it waits, on a connection.
    let mut holder = gateway.holding_event(&event).await;
    let writers = join_all((0..8).map(|n| {
        let variables = json!({ "key": format!("held-accept-{n}"), "event": event });
        let query = mutation("acceptEvent", ", eventId: $event", &variables);
        let gateway = &gateway;
        async move { gateway.post(&query, variables).await }
    }));
    let reads = async {
        // Past the connection wait, with the writers stuck.
        tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
        let read = gateway
            .post("{ events(first: 5) { nodes { id status } } }", json!({}))
            .await;
        sqlx::query("COMMIT")
            .execute(&mut holder)
            .await
            .expect("release");
        read
    };
    let (written, (status, body)) = futures_util::join!(writers, reads);
    assert_eq!(status.as_u16(), 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["events"]["nodes"].as_array().map(Vec::len),
        Some(5)
    );
    // Once the row is free, the waiting changes run: one acceptance, the rest refused
    // by the state machine, none failed for want of a connection.
    let accepted = written
        .iter()
        .filter(|(_, body)| body["data"]["acceptEvent"].is_object())
        .count();
    assert_eq!(accepted, 1, "{written:?}");
    for (status, body) in &written {
        assert_eq!(status.as_u16(), 200, "{body}");
        assert_ne!(
            body["errors"][0]["extensions"]["code"], "DATABASE_UNAVAILABLE",
            "{body}"
        );
    }
}
