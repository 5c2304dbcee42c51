//! The rules that close the loop (接收·交办·督办·反馈): who may whistle and summon whom,
//! resolving only when every summons has ended (or a supervisor forces it), a late
//! department still reporting in, events' own deadlines watched, 催办 and 交办 signalled.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestGateway, first_error_code, seeded_database, test_config};
use crate::subscriptions::{accepted_event, initialised, signals, subscribe};

/// Runs `query`; returns the body, errors and all.
async fn run(gateway: &TestGateway, query: &str, variables: Value) -> Value {
    gateway.post(query, variables).await.1
}

/// Blows the whistle on `event` as `level`, summoning `departments`.
async fn whistle_as(
    gateway: &TestGateway,
    key: &str,
    event: &Value,
    level: &str,
    departments: &[&str],
) -> Value {
    let summons: Vec<Value> = departments
        .iter()
        .map(|d| json!({ "departmentCode": d }))
        .collect();
    run(
        gateway,
        "mutation($k: String!, $e: ID!, $level: String!, $s: [SummonsInput!]!) {
           blowWhistle(idempotencyKey: $k, eventId: $e, jurisdictionCode: $level, summons: $s) {
             entries { cursor summons { id status } } event { status } } }",
        json!({ "k": key, "e": event, "level": level, "s": summons }),
    )
    .await
}

/// The township handling an event of `grid` until it is handed elsewhere.
fn township(grid: &str) -> String {
    grid[..9].to_owned()
}

async fn event_grid(gateway: &TestGateway, event: &Value) -> String {
    let data = gateway
        .query(
            "query($id: ID!) { event(id: $id) { jurisdiction { code } } }",
            json!({ "id": event }),
        )
        .await;
    data["event"]["jurisdiction"]["code"]
        .as_str()
        .expect("a grid")
        .to_owned()
}

#[tokio::test]
async fn the_handling_level_or_one_above_summons_its_county_and_the_city_once_while_open() {
    let gateway = TestGateway::spawn().await;
    // A city-level unit beside the counties' departments.
    sqlx::query(
        "INSERT INTO departments (code, name, short_name, kind, county_code, connector)
         VALUES ('220400-SJ', '辽源市市场监督管理局', '市场监管局', 'MARKET_SUPERVISION', '220400', 'rest')",
    )
    .execute(&mut gateway.database().await)
    .await
    .expect("a city-level department");
    let event = accepted_event(&gateway, "rules").await;
    let grid = event_grid(&gateway, &event).await;

    // Another county's level, and a level below the handling one, may not whistle.
    for level in ["220402", grid.as_str()] {
        let body = whistle_as(
            &gateway,
            &format!("w-{level}"),
            &event,
            level,
            &["220422-GA"],
        )
        .await;
        assert_eq!(first_error_code(&body), "FORBIDDEN", "{level}: {body}");
    }
    // Another county's department may not be summoned.
    let body = whistle_as(&gateway, "w-other-county", &event, "220422", &["220421-SF"]).await;
    assert_eq!(first_error_code(&body), "FORBIDDEN", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("220421-SF"))
    );
    // Nothing of the refused whistles was written.
    let data = gateway
        .query(
            "query($id: ID!) { event(id: $id) { status summonses { id } } }",
            json!({ "id": event }),
        )
        .await;
    assert_eq!(data["event"]["status"], "ACCEPTED");
    assert_eq!(data["event"]["summonses"], json!([]));

    // The township handling it, and the county above, summon their own county's
    // departments and the city's.
    let body = whistle_as(
        &gateway,
        "w-township",
        &event,
        &township(&grid),
        &["220422-GA", "220400-SJ"],
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    let police = body["data"]["blowWhistle"]["entries"][0]["summons"]["id"].clone();
    let body = whistle_as(&gateway, "w-county", &event, "220422", &["220422-XJ"]).await;
    assert!(body.get("errors").is_none(), "{body}");

    // Summoning a department again while its summons is open is refused...
    let body = whistle_as(&gateway, "w-again", &event, "220422", &["220422-GA"]).await;
    assert_eq!(first_error_code(&body), "INVALID_TRANSITION", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["currentState"], "SUMMONED");
    let body = whistle_as(
        &gateway,
        "w-twice",
        &event,
        "220422",
        &["220422-MZ", "220422-MZ"],
    )
    .await;
    assert_eq!(first_error_code(&body), "BAD_USER_INPUT", "{body}");
    // ...and allowed once it has ended.
    gateway
        .query(
            "mutation($s: ID!) { declineSummons(idempotencyKey: \"decline\", summonsId: $s, reason: \"非本部门职责\") { replayed } }",
            json!({ "s": police }),
        )
        .await;
    let body = whistle_as(&gateway, "w-again-2", &event, "220422", &["220422-GA"]).await;
    assert!(body.get("errors").is_none(), "{body}");
}

#[tokio::test]
async fn an_event_resolves_when_every_summons_ended_or_a_supervisor_forces_it() {
    let gateway = TestGateway::spawn().await;
    let event = accepted_event(&gateway, "resolve").await;
    let grid = event_grid(&gateway, &event).await;
    let body = whistle_as(
        &gateway,
        "w",
        &event,
        &township(&grid),
        &["220422-GA", "220422-XJ"],
    )
    .await;
    let fire = body["data"]["blowWhistle"]["entries"][1]["summons"]["id"].clone();
    let resolve = "mutation($k: String!, $e: ID!, $force: String) {
        resolveEvent(idempotencyKey: $k, eventId: $e, tier: WINDOW, forceReason: $force) {
          event { status } entries { kind detail } } }";

    let body = run(&gateway, resolve, json!({ "k": "r1", "e": event })).await;
    assert_eq!(first_error_code(&body), "INVALID_TRANSITION", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("220422-GA (SUMMONED)") && message.contains("220422-XJ (SUMMONED)"),
        "{message}"
    );

    // The fire brigade finishes; the police have not: still refused.
    for (key, query) in [
        (
            "in",
            "mutation($s: ID!) { reportIn(idempotencyKey: \"in\", summonsId: $s) { replayed } }",
        ),
        (
            "done",
            "mutation($s: ID!) { submitFeedback(idempotencyKey: \"done\", summonsId: $s, text: \"已处置\", done: true) { replayed } }",
        ),
    ] {
        let body = run(&gateway, query, json!({ "s": fire })).await;
        assert!(body.get("errors").is_none(), "{key}: {body}");
    }
    let body = run(&gateway, resolve, json!({ "k": "r2", "e": event })).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("220422-GA") && !m.contains("220422-XJ")),
        "{body}"
    );
    // A blank reason forces nothing.
    let body = run(
        &gateway,
        resolve,
        json!({ "k": "r3", "e": event, "force": "  " }),
    )
    .await;
    assert_eq!(first_error_code(&body), "BAD_USER_INPUT", "{body}");

    // Forced, with the reason and what was left open on the timeline.
    let body = run(
        &gateway,
        resolve,
        json!({ "k": "r4", "e": event, "force": "当事人已和解" }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    let resolved = &body["data"]["resolveEvent"];
    assert_eq!(resolved["event"]["status"], "RESOLVED");
    assert_eq!(
        resolved["entries"][0]["detail"]["forceReason"],
        "当事人已和解"
    );
    assert_eq!(
        resolved["entries"][0]["detail"]["openSummonses"],
        json!(["220422-GA (SUMMONED)"])
    );
}

/// A gateway pair over one database, watching deadlines every 100 ms.
async fn watching_replicas() -> (TestGateway, TestGateway) {
    let database = seeded_database().await;
    let mut config = test_config(&database);
    config.workflow.deadline_check_ms = 100;
    let first = TestGateway::spawn_with(config.clone(), database.clone()).await;
    let second = TestGateway::spawn_with(config, database).await;
    (first, second)
}

/// Polls `query` until `done` holds of its data (15 s at most); returns the last data.
async fn eventually(
    gateway: &TestGateway,
    query: &str,
    variables: Value,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let mut data = Value::Null;
    for _ in 0..150 {
        data = gateway.query(query, variables.clone()).await;
        if done(&data) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    data
}

#[tokio::test]
async fn a_late_department_still_reports_in_and_finishes_marked_late() {
    let (first, second) = watching_replicas().await;
    let event = accepted_event(&first, "late").await;
    let grid = event_grid(&first, &event).await;
    let past = (sqlx::types::chrono::Utc::now() - Duration::from_secs(3_600)).to_rfc3339();
    let body = run(
        &second,
        "mutation($e: ID!, $level: String!, $past: DateTime!) {
           blowWhistle(idempotencyKey: \"w\", eventId: $e, jurisdictionCode: $level,
             summons: [{ departmentCode: \"220422-XJ\", reportInDueAt: $past }]) { entries { summons { id } } } }",
        json!({ "e": event, "level": township(&grid), "past": past }),
    )
    .await;
    let summons = body["data"]["blowWhistle"]["entries"][0]["summons"]["id"].clone();
    let state = "query($id: ID!) { node(id: $id) { ... on Summons { status late overdueMarks } } }";
    let data = eventually(&first, state, json!({ "id": summons }), |d| {
        d["node"]["status"] == "OVERDUE"
    })
    .await;
    assert_eq!(data["node"]["status"], "OVERDUE");
    assert_eq!(data["node"]["overdueMarks"], 1);
    assert_eq!(data["node"]["late"], true);

    // Late, it still reports in, acts and finishes.
    let body = run(
        &first,
        "mutation($s: ID!) { reportIn(idempotencyKey: \"late-in\", summonsId: $s) {
           entries { stateBefore stateAfter detail } event { status } } }",
        json!({ "s": summons }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    let entry = &body["data"]["reportIn"]["entries"][0];
    assert_eq!(
        (&entry["stateBefore"], &entry["stateAfter"]),
        (&json!("OVERDUE"), &json!("REPORTED_IN"))
    );
    assert_eq!(entry["detail"]["late"], true);
    assert_eq!(body["data"]["reportIn"]["event"]["status"], "IN_PROGRESS");
    let body = run(
        &first,
        "mutation($s: ID!) { submitFeedback(idempotencyKey: \"late-done\", summonsId: $s, text: \"已清理\", done: true) {
           entries { stateAfter } } }",
        json!({ "s": summons }),
    )
    .await;
    assert_eq!(
        body["data"]["submitFeedback"]["entries"][0]["stateAfter"], "DONE",
        "{body}"
    );
    let data = first.query(state, json!({ "id": summons })).await;
    assert_eq!(
        (&data["node"]["status"], &data["node"]["late"]),
        (&json!("DONE"), &json!(true))
    );
}

#[tokio::test]
async fn an_event_past_its_own_deadline_is_marked_once_with_two_replicas_watching() {
    let (first, second) = watching_replicas().await;
    let event = accepted_event(&first, "due").await;
    // Its handling deadline passed an hour ago.
    sqlx::query("UPDATE events SET due_at = now() - interval '1 hour' WHERE id = $1")
        .bind(crate::departments::numeric_id(&event))
        .execute(&mut first.database().await)
        .await
        .expect("move the deadline");
    let query = "query($id: ID!) { event(id: $id) { status overdueAt timeline { kind detail actor { role } } } }";
    let data = eventually(&second, query, json!({ "id": event }), |d| {
        !d["event"]["overdueAt"].is_null()
    })
    .await;
    assert!(!data["event"]["overdueAt"].is_null(), "{data}");
    // More rounds of both replicas: still once.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let data = first.query(query, json!({ "id": event })).await;
    let kinds: Vec<&str> = data["event"]["timeline"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["REPORTED", "ACCEPTED", "OVERDUE", "SUPERVISION"]);
    assert_eq!(
        data["event"]["status"], "ACCEPTED",
        "the state does not change"
    );
    let timeline = &data["event"]["timeline"];
    assert_eq!(timeline[2]["detail"]["missed"], "event");
    assert_eq!(timeline[3]["actor"]["role"], "SYSTEM");
    assert_eq!(
        timeline[3]["detail"]["supervisor"], "220422",
        "the level above the township"
    );
}

#[tokio::test]
async fn urges_and_assignments_reach_the_urged_and_the_new_handler() {
    let gateway = TestGateway::spawn().await;
    let event = accepted_event(&gateway, "urge").await;
    let grid = event_grid(&gateway, &event).await;
    let body = whistle_as(&gateway, "w", &event, &township(&grid), &["220422-XJ"]).await;
    let fire = body["data"]["blowWhistle"]["entries"][0]["summons"]["id"].clone();

    let after = body["data"]["blowWhistle"]["entries"][0]["cursor"].clone();

    // Boards listening from now on.
    let mut department = initialised(&gateway).await;
    let fire_board = format!("departmentCode: \"220422-XJ\", after: {after}");
    subscribe(&mut department, "fire", &fire_board).await;
    let mut handler = initialised(&gateway).await;
    let grid_board = format!("jurisdictionCode: \"{grid}\", after: {after}");
    subscribe(&mut handler, "grid", &grid_board).await;

    // 催办 to the department: it hears, and the urge is counted.
    let body = run(
        &gateway,
        "mutation($s: ID!) { urge(idempotencyKey: \"u1\", summonsId: $s, note: \"请于今日到场\") { entries { kind } } }",
        json!({ "s": fire }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    let heard = signals(&mut department, "fire", 1).await;
    assert_eq!(
        (&heard[0]["kind"], &heard[0]["department"]["code"]),
        (&json!("URGED"), &json!("220422-XJ"))
    );
    let data = gateway
        .query(
            "query($id: ID!) { node(id: $id) { ... on Summons { urges } } }",
            json!({ "id": fire }),
        )
        .await;
    assert_eq!(data["node"]["urges"], 1);
    // Both or neither of eventId and summonsId: refused.
    let body = run(
        &gateway,
        "mutation($e: ID!, $s: ID!) { urge(idempotencyKey: \"u2\", eventId: $e, summonsId: $s, note: \"x\") { replayed } }",
        json!({ "e": event, "s": fire }),
    )
    .await;
    assert_eq!(first_error_code(&body), "BAD_USER_INPUT");

    // 交办 down to the grid: the grid hears, and handles the event from now on.
    let assign = "mutation($k: String!, $e: ID!, $to: String!) {
        assignEvent(idempotencyKey: $k, eventId: $e, jurisdictionCode: $to, note: \"请网格长牵头\") {
          entries { kind detail } event { handlingJurisdiction { code } } } }";
    let body = run(
        &gateway,
        assign,
        json!({ "k": "a1", "e": event, "to": grid }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    let assigned = &body["data"]["assignEvent"];
    assert_eq!(
        assigned["event"]["handlingJurisdiction"]["code"],
        json!(grid)
    );
    assert_eq!(
        assigned["entries"][0]["detail"]["from"],
        json!(township(&grid))
    );
    // The grid's board saw the urge to its event's department, then the assignment.
    let heard = signals(&mut handler, "grid", 2).await;
    assert_eq!(
        (&heard[0]["kind"], &heard[1]["kind"]),
        (&json!("URGED"), &json!("ASSIGNED"))
    );
    // Not up, not sideways, not to where it already is.
    for to in [
        township(&grid),
        "220422".to_owned(),
        format!("{}999", &grid[..12]),
    ] {
        let body = run(
            &gateway,
            assign,
            json!({ "k": format!("a-{to}"), "e": event, "to": to }),
        )
        .await;
        assert_eq!(first_error_code(&body), "BAD_USER_INPUT", "{to}: {body}");
    }
    // 催办 to the event's handler.
    let body = run(
        &gateway,
        "mutation($e: ID!) { urge(idempotencyKey: \"u3\", eventId: $e, note: \"群众反映强烈\") { event { urges } } }",
        json!({ "e": event }),
    )
    .await;
    assert_eq!(body["data"]["urge"]["event"]["urges"], 1, "{body}");
    assert_eq!(signals(&mut handler, "grid", 1).await[0]["kind"], "URGED");
}

#[tokio::test]
async fn work_queues_list_by_deadline_batched_and_counted() {
    let gateway = TestGateway::spawn().await;
    let hours = |h: i64| {
        (sqlx::types::chrono::Utc::now() + Duration::from_secs((h * 3_600) as u64)).to_rfc3339()
    };
    let past = (sqlx::types::chrono::Utc::now() - Duration::from_secs(600)).to_rfc3339();
    // A city with no dispatch history yet: the queues below hold exactly what this test
    // puts in them.
    sqlx::query("TRUNCATE whistles, summonses, timeline, outbox CASCADE")
        .execute(&mut gateway.database().await)
        .await
        .expect("start without history");
    // Three events of one grid; the fire brigade summoned to each, due in 3 h, 1 h and
    // 10 min ago; the police to the second.
    let mut events = Vec::new();
    let mut grid = String::new();
    for (index, due) in [hours(3), hours(1), past.clone()].into_iter().enumerate() {
        let event = accepted_event(&gateway, &format!("queue-{index}")).await;
        grid = event_grid(&gateway, &event).await;
        let mut summons = vec![json!({ "departmentCode": "220422-XJ", "reportInDueAt": due })];
        if index == 1 {
            summons.push(json!({ "departmentCode": "220422-GA" }));
        }
        let body = run(
            &gateway,
            "mutation($k: String!, $e: ID!, $level: String!, $s: [SummonsInput!]!) {
               blowWhistle(idempotencyKey: $k, eventId: $e, jurisdictionCode: $level, summons: $s) { replayed } }",
            json!({ "k": format!("queue-w{index}"), "e": event, "level": township(&grid), "s": summons }),
        )
        .await;
        assert!(body.get("errors").is_none(), "{body}");
        events.push(event);
    }

    // Every department of the county with its queue: one statement per relation, not
    // one per department.
    let before = gateway.statements();
    let data = gateway
        .query(
            "{ departments(county: \"220422\", first: 30) { nodes { code
                 summonses(first: 5) { totalCount nodes { status dueAt event { id } } } } } }",
            json!({}),
        )
        .await;
    let statements = gateway.statements() - before;
    let departments = data["departments"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(departments.len(), 24);
    assert!(
        statements <= 4,
        "{statements} statements for 24 departments' queues"
    );
    let queue = |code: &str| {
        departments
            .iter()
            .find(|d| d["code"] == code)
            .map(|d| d["summonses"].clone())
            .unwrap_or_default()
    };
    let fire = queue("220422-XJ");
    assert_eq!(fire["totalCount"], 3);
    let order: Vec<Value> = fire["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| n["event"]["id"].clone())
        .collect();
    assert_eq!(
        order,
        [events[2].clone(), events[1].clone(), events[0].clone()],
        "by deadline"
    );
    assert_eq!(queue("220422-GA")["totalCount"], 1);
    assert_eq!(queue("220422-MZ")["totalCount"], 0);

    // The root list: filters and pages.
    let list = "query($f: SummonsFilter, $after: String) { summonses(filter: $f, first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } nodes { event { id } department { code } } } }";
    let data = gateway
        .query(list, json!({ "f": { "department": "220422-XJ" } }))
        .await;
    let first = &data["summonses"];
    assert_eq!(
        (&first["totalCount"], &first["pageInfo"]["hasNextPage"]),
        (&json!(3), &json!(true))
    );
    let after = first["pageInfo"]["endCursor"].clone();
    let data = gateway
        .query(
            list,
            json!({ "f": { "department": "220422-XJ" }, "after": after }),
        )
        .await;
    let rest = &data["summonses"];
    assert_eq!(rest["nodes"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest["nodes"][0]["event"]["id"], events[0]);
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);
    let count = |filter: Value| {
        let gateway = &gateway;
        async move {
            gateway
                .query(
                    "query($f: SummonsFilter) { summonses(filter: $f) { totalCount } }",
                    json!({ "f": filter }),
                )
                .await["summonses"]["totalCount"]
                .clone()
        }
    };
    assert_eq!(count(json!({ "jurisdiction": grid })).await, 4);
    assert_eq!(
        count(json!({ "jurisdiction": grid, "overdue": true })).await,
        1
    );
    assert_eq!(
        count(json!({ "jurisdiction": grid, "overdue": false, "department": "220422-XJ" })).await,
        2
    );
    assert_eq!(
        count(json!({ "jurisdiction": grid, "dueBefore": hours(2) })).await,
        2
    );
    assert_eq!(
        count(json!({ "jurisdiction": grid, "statuses": ["REPORTED_IN"] })).await,
        0
    );
    // Queues page forward only; a cursor of another list is refused.
    let body = run(&gateway, "{ summonses(last: 2) { totalCount } }", json!({})).await;
    assert_eq!(
        first_error_code(&body),
        "GRAPHQL_VALIDATION_FAILED",
        "{body}"
    );
    let body = run(
        &gateway,
        "{ summonses(after: \"aWQ6Nw\") { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(first_error_code(&body), "BAD_USER_INPUT", "{body}");

    // 交办 one event to its grid: the grid's queue holds exactly it, the township's the others.
    let body = run(
        &gateway,
        "mutation($e: ID!, $to: String!) { assignEvent(idempotencyKey: \"q-a\", eventId: $e, jurisdictionCode: $to) { replayed } }",
        json!({ "e": events[0], "to": grid }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    let handled = "query($code: String!) { jurisdiction(code: $code) { handlingEvents(first: 100) {
        totalCount nodes { id dueAt } } } }";
    let data = gateway.query(handled, json!({ "code": grid })).await;
    let queue = &data["jurisdiction"]["handlingEvents"];
    assert_eq!(queue["totalCount"], 1);
    assert_eq!(queue["nodes"][0]["id"], events[0]);
    let narrowed = "query($code: String!, $f: HandlingFilter) { jurisdiction(code: $code) {
        handlingEvents(filter: $f) { totalCount } } }";
    for (filter, expected) in [
        (json!({ "categories": ["PROPERTY_MANAGEMENT"] }), 1),
        (json!({ "categories": ["SAFETY_HAZARD"] }), 0),
        (json!({ "statuses": ["DISPATCHED"] }), 1),
        (json!({ "statuses": ["ACCEPTED"] }), 0),
        (json!({ "overdue": false }), 1),
        (json!({ "overdue": true }), 0),
    ] {
        let data = gateway
            .query(narrowed, json!({ "code": grid, "f": filter }))
            .await;
        assert_eq!(
            data["jurisdiction"]["handlingEvents"]["totalCount"], expected,
            "{filter}"
        );
    }
    let data = gateway
        .query(handled, json!({ "code": township(&grid) }))
        .await;
    let nodes = data["jurisdiction"]["handlingEvents"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ids: Vec<&Value> = nodes.iter().map(|n| &n["id"]).collect();
    assert!(ids.contains(&&events[1]) && ids.contains(&&events[2]) && !ids.contains(&&events[0]));
    let due: Vec<&str> = nodes.iter().filter_map(|n| n["dueAt"].as_str()).collect();
    assert!(due.windows(2).all(|p| p[0] <= p[1]), "by deadline: {due:?}");
}

#[tokio::test]
async fn a_grids_team_is_readable_and_a_member_is_named_in_charge() {
    let gateway = TestGateway::spawn().await;
    let event = accepted_event(&gateway, "team").await;
    let grid = event_grid(&gateway, &event).await;
    let data = gateway
        .query(
            "query($code: String!) { jurisdiction(code: $code) { team { grid { code }
               members { id role name unit phone department { code } grids { code } } } } }",
            json!({ "code": grid }),
        )
        .await;
    let team = &data["jurisdiction"]["team"];
    assert_eq!(team["grid"]["code"], json!(grid));
    let members = team["members"].as_array().cloned().unwrap_or_default();
    let roles: Vec<&str> = members.iter().filter_map(|m| m["role"].as_str()).collect();
    assert_eq!(
        roles,
        [
            "JUDGE",
            "GRID_HEAD",
            "MEDIATOR",
            "RESIDENT_REP",
            "AUXILIARY_POLICE"
        ]
    );
    assert_eq!(members[0]["department"]["code"], "220422-FY");
    assert!(
        members
            .iter()
            .all(|m| m["phone"].as_str().is_some_and(|p| p.contains('*'))),
        "phones masked: {members:?}"
    );
    assert!(members.iter().all(|m| {
        m["grids"]
            .as_array()
            .is_some_and(|grids| grids.iter().any(|g| g["code"] == json!(grid)))
    }));
    // A township has no team.
    let data = gateway
        .query(
            "query($code: String!) { jurisdiction(code: $code) { team { grid { code } } } }",
            json!({ "code": township(&grid) }),
        )
        .await;
    assert_eq!(data["jurisdiction"]["team"], Value::Null);

    // 交办 to the grid head: the event names them, their assignments list it.
    let head = members[1]["id"].clone();
    let assign = "mutation($k: String!, $e: ID!, $staff: ID!) {
        assignEvent(idempotencyKey: $k, eventId: $e, staffId: $staff) {
          entries { detail } event { assignee { name role } handlingJurisdiction { code } } } }";
    let body = run(
        &gateway,
        assign,
        json!({ "k": "t1", "e": event, "staff": head }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    let assigned = &body["data"]["assignEvent"];
    assert_eq!(assigned["event"]["assignee"]["role"], "GRID_HEAD");
    assert_eq!(
        assigned["entries"][0]["detail"]["assignee"]["name"],
        members[1]["name"]
    );
    assert_eq!(
        assigned["event"]["handlingJurisdiction"]["code"],
        json!(township(&grid)),
        "naming a person leaves the level as it was"
    );
    let data = gateway
        .query(
            "query($id: ID!) { node(id: $id) { ... on Staff { assignments { totalCount nodes { id } } } } }",
            json!({ "id": head }),
        )
        .await;
    assert_eq!(data["node"]["assignments"]["totalCount"], 1);
    assert_eq!(data["node"]["assignments"]["nodes"][0]["id"], event);

    // Someone of another county's grid may not be named.
    let stranger: i64 = sqlx::query_scalar(
        "SELECT id FROM staff WHERE role = 'GRID_HEAD' AND left(jurisdiction_code, 6) = '220402' ORDER BY id LIMIT 1",
    )
    .fetch_one(&mut gateway.database().await)
    .await
    .expect("a grid head of 龙山区");
    let stranger = crate::departments::global_id("Staff", stranger);
    let body = run(
        &gateway,
        assign,
        json!({ "k": "t2", "e": event, "staff": stranger }),
    )
    .await;
    assert_eq!(first_error_code(&body), "BAD_USER_INPUT", "{body}");
    let body = run(
        &gateway,
        "mutation($e: ID!) { assignEvent(idempotencyKey: \"t3\", eventId: $e) { replayed } }",
        json!({ "e": event }),
    )
    .await;
    assert_eq!(first_error_code(&body), "BAD_USER_INPUT", "{body}");
}

#[tokio::test]
async fn a_team_or_a_person_is_summoned_and_acts_with_a_staff_token() {
    use crate::access::{call, gateway_with, staff_token, token};
    let gateway = gateway_with(|_| {}).await;
    let admin = token("ADMIN", "220400", None);
    let grid = "220422001001001";
    let data = call(
        &gateway,
        &admin,
        None,
        "mutation($g: String!) { reportEvent(input: { idempotencyKey: \"r\", description: \"邻里因漏水纠纷\",
           category: NEIGHBOR_DISPUTE, gridCode: $g }) { event { id } } }",
        json!({ "g": grid }),
    )
    .await;
    let event = data["data"]["reportEvent"]["event"]["id"].clone();
    call(
        &gateway,
        &admin,
        None,
        "mutation($e: ID!) { acceptEvent(idempotencyKey: \"a\", eventId: $e) { replayed } }",
        json!({ "e": event }),
    )
    .await;
    let team: Vec<(i64, String)> = sqlx::query_as(
        "SELECT s.id, s.role FROM team_members m JOIN staff s ON s.id = m.staff_id
         WHERE m.grid_code = $1 ORDER BY s.id",
    )
    .bind(grid)
    .fetch_all(&mut gateway.database().await)
    .await
    .expect("the grid's team");
    let member = |role: &str| {
        team.iter()
            .find(|(_, r)| r == role)
            .map(|(id, _)| *id)
            .expect("a member")
    };
    let (head, judge) = (member("GRID_HEAD"), member("JUDGE"));
    let stranger: i64 = sqlx::query_scalar(
        "SELECT id FROM staff WHERE role = 'GRID_HEAD' AND left(jurisdiction_code, 6) = '220402' ORDER BY id LIMIT 1",
    )
    .fetch_one(&mut gateway.database().await)
    .await
    .expect("a grid head of 龙山区");
    let staff_id = |id: i64| crate::departments::global_id("Staff", id);

    let whistle = "mutation($k: String!, $e: ID!, $s: [SummonsInput!]!) { blowWhistle(idempotencyKey: $k,
        eventId: $e, jurisdictionCode: \"220422001\", summons: $s) {
          entries { detail summons { id team { grid { code } } staff { name role } department { code } } } } }";
    // Exactly one addressee per summons; another county's person is not summoned.
    let body = call(&gateway, &admin, None, whistle,
        json!({ "k": "w0", "e": event, "s": [{ "departmentCode": "220422-SF", "teamGridCode": grid }] })).await;
    assert_eq!(first_error_code(&body), "BAD_USER_INPUT", "{body}");
    let body = call(
        &gateway,
        &admin,
        None,
        whistle,
        json!({ "k": "w1", "e": event, "s": [{ "staffId": staff_id(stranger) }] }),
    )
    .await;
    assert_eq!(first_error_code(&body), "FORBIDDEN", "{body}");
    let body = call(
        &gateway,
        &admin,
        None,
        whistle,
        json!({ "k": "w2", "e": event, "s": [{ "teamGridCode": "220422001" }] }),
    )
    .await;
    assert_eq!(first_error_code(&body), "BAD_USER_INPUT", "{body}");

    // The grid's team and its head, summoned.
    let body = call(&gateway, &admin, None, whistle,
        json!({ "k": "w3", "e": event, "s": [{ "teamGridCode": grid }, { "staffId": staff_id(head) }] })).await;
    assert!(body.get("errors").is_none(), "{body}");
    let entries = &body["data"]["blowWhistle"]["entries"];
    assert_eq!(entries[0]["summons"]["team"]["grid"]["code"], grid);
    assert_eq!(entries[0]["summons"]["department"], Value::Null);
    assert_eq!(entries[1]["summons"]["staff"]["role"], "GRID_HEAD");
    let (to_team, to_head) = (
        entries[0]["summons"]["id"].clone(),
        entries[1]["summons"]["id"].clone(),
    );
    // Summoning the team again while its summons is open is refused.
    let body = call(
        &gateway,
        &admin,
        None,
        whistle,
        json!({ "k": "w4", "e": event, "s": [{ "teamGridCode": grid }] }),
    )
    .await;
    assert_eq!(first_error_code(&body), "INVALID_TRANSITION", "{body}");

    // Each person's queue: what is addressed to them and to their teams.
    let queue = "query($id: ID!) { node(id: $id) { ... on Staff { summonses { totalCount nodes { id } } } } }";
    for (id, expected) in [(head, 2), (judge, 1), (stranger, 0)] {
        let data = call(&gateway, &admin, None, queue, json!({ "id": staff_id(id) })).await;
        let count = &data["data"]["node"]["summonses"]["totalCount"];
        assert_eq!(count, &json!(expected), "staff {id}: {data}");
    }
    let report_in = "mutation($k: String!, $s: ID!) { reportIn(idempotencyKey: $k, summonsId: $s) {
        entries { stateAfter } } }";
    // The judge is on the team but is not the head: the head's own summons is not theirs.
    let judge_token = staff_token("220422", judge);
    let body = call(
        &gateway,
        &judge_token,
        None,
        report_in,
        json!({ "k": "j1", "s": to_head }),
    )
    .await;
    assert_eq!(first_error_code(&body), "FORBIDDEN", "{body}");
    let body = call(
        &gateway,
        &judge_token,
        None,
        report_in,
        json!({ "k": "j2", "s": to_team }),
    )
    .await;
    assert_eq!(
        body["data"]["reportIn"]["entries"][0]["stateAfter"], "REPORTED_IN",
        "{body}"
    );
    // The head acts on the summons addressed to them.
    let head_token = staff_token(grid, head);
    let body = call(
        &gateway,
        &head_token,
        None,
        report_in,
        json!({ "k": "h1", "s": to_head }),
    )
    .await;
    assert_eq!(
        body["data"]["reportIn"]["entries"][0]["stateAfter"], "REPORTED_IN",
        "{body}"
    );
    // A department's staff, of no team, acts on neither.
    let police = token("DEPARTMENT_STAFF", "220422", Some("220422-GA"));
    let body = call(
        &gateway,
        &police,
        None,
        report_in,
        json!({ "k": "p1", "s": to_team }),
    )
    .await;
    assert!(
        matches!(first_error_code(&body), "FORBIDDEN" | "NOT_FOUND"),
        "{body}"
    );
}
