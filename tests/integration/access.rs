//! Access that follows the org chart, as callers with tokens see it: every cell of the
//! permission table, allowed and refused (nothing written when refused); ids outside the
//! caller's scope answering like ids that do not exist; idempotency keys that belong to
//! their caller; personal data in clear only with a purpose, each read audited.

use jsonwebtoken::{EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::departments::global_id;
use crate::helpers::{TestGateway, first_error_code, seeded_database, test_config};
use crate::subscriptions::{connect, init, receive};

const SECRET: &str = "辽源市社会治理平台-权限测试密钥-0123456789";
/// The grid every event of these tests is reported in, and its township.
const GRID: &str = "220422001001001";
const TOWNSHIP: &str = "220422001";
const DEPARTMENT: &str = "220422-XJ";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn token_until(
    role: &str,
    jurisdiction: &str,
    department: Option<&str>,
    sub: &str,
    exp: i64,
) -> String {
    let mut claims = json!({ "sub": sub, "name": format!("{role}-{jurisdiction}"), "role": role,
                             "jurisdiction": jurisdiction, "exp": exp });
    if let Some(department) = department {
        claims["department"] = json!(department);
    }
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("the token encodes")
}

/// A DEPARTMENT_STAFF token of the person `staff` (a grid team's member), acting at
/// `jurisdiction`, of no department.
pub(crate) fn staff_token(jurisdiction: &str, staff: i64) -> String {
    let claims = json!({ "sub": format!("staff-{staff}"), "name": format!("staff-{staff}"),
                         "role": "DEPARTMENT_STAFF", "jurisdiction": jurisdiction,
                         "staff": staff, "exp": now() + 600 });
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("the token encodes")
}

pub(crate) fn token(role: &str, jurisdiction: &str, department: Option<&str>) -> String {
    let sub = format!("{role}@{jurisdiction}");
    token_until(role, jurisdiction, department, &sub, now() + 600)
}

fn admin() -> String {
    token("ADMIN", "220400", None)
}

async fn gateway() -> TestGateway {
    gateway_with(|_| {}).await
}

pub(crate) async fn gateway_with(adjust: impl FnOnce(&mut gateway::Config)) -> TestGateway {
    let database = seeded_database().await;
    let mut config = authenticated(&database);
    adjust(&mut config);
    TestGateway::spawn_with(config, database).await
}

/// The tests' configuration for `database`, with callers authenticated by this module's
/// tokens.
pub(crate) fn authenticated(database: &str) -> gateway::Config {
    let mut config = test_config(database);
    config.auth.jwt_secret = gateway::auth::SigningSecret(SECRET.to_owned());
    config.auth.required = true;
    config
}

/// POSTs as `token`, with a purpose when given; returns the body.
pub(crate) async fn call(
    gateway: &TestGateway,
    token: &str,
    purpose: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = gateway
        .client
        .post(gateway.url("/graphql"))
        .bearer_auth(token)
        .header("x-request-id", "access-test")
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(purpose) = purpose {
        request = request.header("x-purpose", purpose);
    }
    let response = request.send().await.expect("the gateway answers");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("JSON")
}

/// Runs `query` as `token` on one object, with a fresh idempotency key `$k` and the
/// object's id as `$<name>`.
async fn on(gateway: &TestGateway, token: &str, query: &str, name: &str, id: &str) -> Value {
    let mut variables = json!({ "k": key() });
    variables[name] = json!(id);
    call(gateway, token, None, query, variables).await
}

/// Runs a change as the administrator, which must succeed; returns its payload.
async fn as_admin(gateway: &TestGateway, query: &str, variables: Value) -> Value {
    let body = call(gateway, &admin(), None, query, variables).await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

fn key() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("access-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

async fn reported(gateway: &TestGateway) -> String {
    let data = as_admin(
        gateway,
        "mutation($k: String!, $g: String!) { reportEvent(input: { idempotencyKey: $k,
           description: \"消防通道被占用\", category: SAFETY_HAZARD, gridCode: $g }) { event { id } } }",
        json!({ "k": key(), "g": GRID }),
    )
    .await;
    data["reportEvent"]["event"]["id"]
        .as_str()
        .expect("an event id")
        .to_owned()
}

/// An accepted neighbours' dispute, referred to the grid's team when `referred`.
async fn disputed(gateway: &TestGateway, referred: bool) -> String {
    let data = as_admin(
        gateway,
        "mutation($k: String!, $g: String!) { reportEvent(input: { idempotencyKey: $k,
           description: \"楼上漏水泡坏楼下吊顶\", category: NEIGHBOR_DISPUTE, gridCode: $g }) { event { id } } }",
        json!({ "k": key(), "g": GRID }),
    )
    .await;
    let event = data["reportEvent"]["event"]["id"]
        .as_str()
        .expect("an event id")
        .to_owned();
    event_step(gateway, &event, "acceptEvent", "").await;
    if referred {
        let team = format!(", kind: PEOPLES, teamGridCode: \"{GRID}\"");
        event_step(gateway, &event, "referToMediation", &team).await;
    }
    event
}

async fn event_step(gateway: &TestGateway, event: &str, field: &str, extra: &str) {
    let query = format!(
        "mutation($k: String!, $e: ID!) {{ {field}(idempotencyKey: $k, eventId: $e{extra}) {{ replayed }} }}"
    );
    as_admin(gateway, &query, json!({ "k": key(), "e": event })).await;
}

async fn accepted(gateway: &TestGateway) -> String {
    let event = reported(gateway).await;
    event_step(gateway, &event, "acceptEvent", "").await;
    event
}

async fn resolved(gateway: &TestGateway) -> String {
    let event = accepted(gateway).await;
    event_step(gateway, &event, "resolveEvent", ", tier: WINDOW").await;
    event
}

/// An accepted event with `departments` summoned; their summons ids.
async fn summoned(gateway: &TestGateway, departments: &[&str]) -> (String, Vec<String>) {
    let event = accepted(gateway).await;
    let summons: Vec<Value> = departments
        .iter()
        .map(|d| json!({ "departmentCode": d }))
        .collect();
    let data = as_admin(
        gateway,
        "mutation($k: String!, $e: ID!, $s: [SummonsInput!]!) { blowWhistle(idempotencyKey: $k,
           eventId: $e, jurisdictionCode: \"220422001\", summons: $s) { entries { summons { id } } } }",
        json!({ "k": key(), "e": event, "s": summons }),
    )
    .await;
    let ids = data["blowWhistle"]["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["summons"]["id"].as_str().map(str::to_owned))
        .collect();
    (event, ids)
}

async fn summons_step(gateway: &TestGateway, summons: &str, field: &str, extra: &str) {
    let query = format!(
        "mutation($k: String!, $s: ID!) {{ {field}(idempotencyKey: $k, summonsId: $s{extra}) {{ replayed }} }}"
    );
    as_admin(gateway, &query, json!({ "k": key(), "s": summons })).await;
}

const UNTIL: &str = ", until: \"2030-01-01T00:00:00Z\", reason: \"需要协调\"";

/// The operation a cell runs: a document and its variables, on an object prepared by the
/// administrator in the state the operation needs.
async fn prepared(gateway: &TestGateway, operation: &str) -> (String, Value) {
    let event_op = |field: &str, extra: &str| {
        format!(
            "mutation($k: String!, $e: ID!) {{ {field}(idempotencyKey: $k, eventId: $e{extra}) {{ replayed }} }}"
        )
    };
    let summons_op = |field: &str, extra: &str| {
        format!(
            "mutation($k: String!, $s: ID!) {{ {field}(idempotencyKey: $k, summonsId: $s{extra}) {{ replayed }} }}"
        )
    };
    match operation {
        "reportEvent" => (
            "mutation($k: String!, $g: String!) { reportEvent(input: { idempotencyKey: $k,
               description: \"井盖缺失\", category: SAFETY_HAZARD, gridCode: $g }) { replayed } }"
                .to_owned(),
            json!({ "k": key(), "g": GRID }),
        ),
        "acceptEvent" | "escalateEvent" | "rejectEvent" | "returnEvent" => {
            let extra = if operation == "acceptEvent" {
                ""
            } else {
                ", reason: \"理由\""
            };
            let event = reported(gateway).await;
            (
                event_op(operation, extra),
                json!({ "k": key(), "e": event }),
            )
        }
        "blowWhistle" => {
            let event = accepted(gateway).await;
            (
                "mutation($k: String!, $e: ID!) { blowWhistle(idempotencyKey: $k, eventId: $e,
                   jurisdictionCode: \"220422001\", summons: [{ departmentCode: \"220422-XJ\" }]) { replayed } }"
                    .to_owned(),
                json!({ "k": key(), "e": event }),
            )
        }
        "resolveEvent" => {
            let event = accepted(gateway).await;
            (
                event_op(operation, ", tier: WINDOW"),
                json!({ "k": key(), "e": event }),
            )
        }
        "revisit" | "closeEvent" => {
            let extra = if operation == "revisit" {
                ", satisfaction: 5"
            } else {
                ""
            };
            let event = resolved(gateway).await;
            (
                event_op(operation, extra),
                json!({ "k": key(), "e": event }),
            )
        }
        "reportIn" | "declineSummons" => {
            let extra = if operation == "declineSummons" {
                ", reason: \"不属于本部门职责\""
            } else {
                ""
            };
            let (_, summons) = summoned(gateway, &[DEPARTMENT]).await;
            (
                summons_op(operation, extra),
                json!({ "k": key(), "s": summons[0] }),
            )
        }
        "requestExtension" | "submitFeedback" | "decideExtension" => {
            let (_, summons) = summoned(gateway, &[DEPARTMENT]).await;
            summons_step(gateway, &summons[0], "reportIn", "").await;
            let extra = match operation {
                "requestExtension" => UNTIL,
                "submitFeedback" => ", text: \"已到现场\"",
                _ => {
                    summons_step(gateway, &summons[0], "requestExtension", UNTIL).await;
                    ", grant: true"
                }
            };
            (
                summons_op(operation, extra),
                json!({ "k": key(), "s": summons[0] }),
            )
        }
        "assignEvent" => {
            let event = accepted(gateway).await;
            (
                event_op(operation, &format!(", jurisdictionCode: \"{GRID}\"")),
                json!({ "k": key(), "e": event }),
            )
        }
        "urge" => {
            let event = accepted(gateway).await;
            (
                event_op(operation, ", note: \"请尽快处理\""),
                json!({ "k": key(), "e": event }),
            )
        }
        "resolveEvent(forceReason)" => {
            let (event, _) = summoned(gateway, &[DEPARTMENT]).await;
            (
                event_op(
                    "resolveEvent",
                    ", tier: WINDOW, forceReason: \"现场已处置\"",
                ),
                json!({ "k": key(), "e": event }),
            )
        }
        "referToMediation" | "referToCourt" => {
            let event = disputed(gateway, false).await;
            let extra = if operation == "referToCourt" {
                ", reason: \"当事人拒绝调解\"".to_owned()
            } else {
                format!(", kind: PEOPLES, teamGridCode: \"{GRID}\"")
            };
            (
                event_op(operation, &extra),
                json!({ "k": key(), "e": event }),
            )
        }
        "recordMediation" | "requestJudicialConfirmation" => {
            let event = disputed(gateway, true).await;
            let agreement = ", outcome: AGREEMENT, agreement: \"赔偿吊顶维修费两千元\"";
            let extra = if operation == "recordMediation" {
                agreement
            } else {
                event_step(gateway, &event, "recordMediation", agreement).await;
                ""
            };
            (
                event_op(operation, extra),
                json!({ "k": key(), "e": event }),
            )
        }
        "auditLog" => ("{ auditLog { totalCount } }".to_owned(), json!({})),
        "createPlace" => (
            "mutation($k: String!, $g: String!, $n: String!) { createPlace(idempotencyKey: $k,
               input: { name: $n, kind: SHOP, address: \"东辽县建设路8号\", gridCode: $g }) { replayed } }"
                .to_owned(),
            json!({ "k": key(), "g": GRID, "n": format!("便民店{}", key()) }),
        ),
        "updatePlace" => (
            "mutation($k: String!, $p: ID!, $n: String!) { updatePlace(idempotencyKey: $k, id: $p,
               input: { name: $n }) { replayed } }"
                .to_owned(),
            json!({ "k": key(), "p": element_in_grid(gateway, "places").await, "n": key() }),
        ),
        "addMember" => (
            "mutation($k: String!, $o: ID!, $p: ID!) { addMember(idempotencyKey: $k,
               organizationId: $o, personId: $p, role: EMPLOYEE) { replayed } }"
                .to_owned(),
            json!({ "k": key(), "o": element_in_grid(gateway, "organizations").await,
                    "p": element_in_grid(gateway, "persons").await }),
        ),
        "mergeElements" => (
            "mutation($k: String!, $a: ID!, $b: ID!) { mergeElements(idempotencyKey: $k,
               keepId: $a, duplicateId: $b) { replayed } }"
                .to_owned(),
            json!({ "k": key(), "a": element_in_grid(gateway, "places").await,
                    "b": element_in_grid(gateway, "places").await }),
        ),
        "createPerson" => {
            // A fresh, valid ID number for each call: 220422 1990-01-01, a random sequence.
            let first17 = format!("22042219900101{:03}", fastrand::u32(..1000));
            let check = schema::identifiers::id_number_check(&first17).unwrap_or('0');
            (
                "mutation($k: String!, $g: String!, $n: String!, $id: String!) { createPerson(
                   idempotencyKey: $k, input: { name: $n, idNumber: $id, gridCode: $g }) { replayed } }"
                    .to_owned(),
                json!({ "k": key(), "g": GRID, "n": format!("居民{}", key()), "id": format!("{first17}{check}") }),
            )
        }
        "createThing" => (
            "mutation($k: String!, $g: String!, $n: String!) { createThing(idempotencyKey: $k,
               input: { name: $n, kind: ELEVATOR, identifier: $n, gridCode: $g }) { replayed } }"
                .to_owned(),
            json!({ "k": key(), "g": GRID, "n": key() }),
        ),
        "createOrganization" => {
            let alphabet = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
            let body: String = (0..10)
                .map(|_| alphabet[fastrand::usize(..alphabet.len())] as char)
                .collect();
            let first17 = format!("9122042{body}");
            let check = schema::identifiers::credit_code_check(&first17).unwrap_or('0');
            (
                "mutation($k: String!, $g: String!, $n: String!, $c: String!) { createOrganization(
                   idempotencyKey: $k, input: { name: $n, kind: ENTERPRISE, creditCode: $c, gridCode: $g }) { replayed } }"
                    .to_owned(),
                json!({ "k": key(), "g": GRID, "n": format!("商行{}", key()), "c": format!("{first17}{check}") }),
            )
        }
        "updatePerson" | "updateThing" | "updateOrganization" => {
            let table = match operation {
                "updatePerson" => "persons",
                "updateThing" => "things",
                _ => "organizations",
            };
            (
                format!(
                    "mutation($k: String!, $e: ID!, $n: String!) {{ {operation}(idempotencyKey: $k, id: $e,
                       input: {{ name: $n }}) {{ replayed }} }}"
                ),
                json!({ "k": key(), "e": element_in_grid(gateway, table).await, "n": key() }),
            )
        }
        "removeMember" => {
            let organization = element_in_grid(gateway, "organizations").await;
            let person = element_in_grid(gateway, "persons").await;
            let join = "mutation($k: String!, $o: ID!, $p: ID!) { addMember(idempotencyKey: $k,
               organizationId: $o, personId: $p, role: EMPLOYEE) { replayed } }";
            let joined = call(gateway, &admin(), None, join,
                json!({ "k": key(), "o": organization, "p": person })).await;
            assert!(joined.get("errors").is_none(), "{joined}");
            (
                "mutation($k: String!, $o: ID!, $p: ID!) { removeMember(idempotencyKey: $k,
                   organizationId: $o, personId: $p) { replayed } }"
                    .to_owned(),
                json!({ "k": key(), "o": organization, "p": person }),
            )
        }
        other => panic!("no cell for {other}"),
    }
}

/// A new element of the index in `GRID`, written directly: its global id.
async fn element_in_grid(gateway: &TestGateway, table: &str) -> String {
    let insert = match table {
        "places" => {
            "INSERT INTO places (name, kind, address, jurisdiction_code) \
             VALUES ('权限测试点', 'SHOP', '建设路8号', $1) RETURNING id"
        }
        "organizations" => {
            "INSERT INTO organizations (name, kind, credit_code, jurisdiction_code) \
             VALUES ('权限测试商行', 'INDIVIDUAL_BUSINESS', md5(random()::text), $1) RETURNING id"
        }
        "things" => {
            "INSERT INTO things (name, kind, identifier, jurisdiction_code) \
             VALUES ('权限测试电梯', 'ELEVATOR', md5(random()::text), $1) RETURNING id"
        }
        _ => {
            "INSERT INTO persons (name, gender, birth_date, id_number, jurisdiction_code) \
             VALUES ('权限测试', 'MALE', '1990-01-01', md5(random()::text), $1) RETURNING id"
        }
    };
    let id: i64 = sqlx::query_scalar(insert)
        .bind(GRID)
        .fetch_one(&mut gateway.database().await)
        .await
        .expect("an element");
    let type_name = match table {
        "places" => "Place",
        "organizations" => "Organization",
        "things" => "Thing",
        _ => "Person",
    };
    crate::departments::global_id(type_name, id)
}

/// Rows a refused change must not have written.
async fn written(gateway: &TestGateway) -> (i64, i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM timeline), (SELECT count(*) FROM idempotency_keys),
                (SELECT count(*) FROM events), (SELECT count(*) FROM element_history)",
    )
    .fetch_one(&mut gateway.database().await)
    .await
    .expect("counts")
}

#[tokio::test]
async fn every_cell_of_the_permission_table_is_enforced() {
    // The deadline watcher writes overdue entries on its own schedule: off, so that
    // "nothing written" counts only what the refused calls did.
    let gateway = gateway_with(|config| config.workflow.deadline_check_ms = 0).await;
    // Each role held where, if allowed, it may act on the prepared objects.
    let roles = [
        ("GRID_WORKER", token("GRID_WORKER", GRID, None)),
        ("DISPATCHER", token("DISPATCHER", TOWNSHIP, None)),
        (
            "DEPARTMENT_STAFF",
            token("DEPARTMENT_STAFF", "220422", Some(DEPARTMENT)),
        ),
        ("SUPERVISOR", token("SUPERVISOR", "220422", None)),
        ("ANALYST", token("ANALYST", "220400", None)),
        ("ADMIN", admin()),
    ];
    // docs/ACCESS.md, as a table: the roles allowed each operation.
    // DEPARTMENT_STAFF may record a mediation addressed to them (or a team they are on):
    // this one is the grid team's (see the_mediating_team_records_the_outcome_…).
    let table: [(&str, &[&str]); 33] = [
        ("reportEvent", &["GRID_WORKER", "DISPATCHER", "ADMIN"]),
        ("acceptEvent", &["DISPATCHER", "ADMIN"]),
        ("rejectEvent", &["DISPATCHER", "ADMIN"]),
        ("returnEvent", &["DISPATCHER", "ADMIN"]),
        ("escalateEvent", &["DISPATCHER", "ADMIN"]),
        ("blowWhistle", &["DISPATCHER", "ADMIN"]),
        ("resolveEvent", &["DISPATCHER", "ADMIN"]),
        ("revisit", &["GRID_WORKER", "DISPATCHER", "ADMIN"]),
        ("closeEvent", &["DISPATCHER", "ADMIN"]),
        ("reportIn", &["DEPARTMENT_STAFF", "ADMIN"]),
        ("declineSummons", &["DEPARTMENT_STAFF", "ADMIN"]),
        ("requestExtension", &["DEPARTMENT_STAFF", "ADMIN"]),
        ("submitFeedback", &["DEPARTMENT_STAFF", "ADMIN"]),
        ("decideExtension", &["SUPERVISOR", "ADMIN"]),
        ("assignEvent", &["DISPATCHER", "ADMIN"]),
        ("urge", &["SUPERVISOR", "ADMIN"]),
        ("resolveEvent(forceReason)", &["SUPERVISOR", "ADMIN"]),
        ("referToMediation", &["DISPATCHER", "ADMIN"]),
        ("recordMediation", &["DISPATCHER", "ADMIN"]),
        ("requestJudicialConfirmation", &["DISPATCHER", "ADMIN"]),
        ("referToCourt", &["DISPATCHER", "ADMIN"]),
        ("auditLog", &["ADMIN"]),
        ("createPlace", &["GRID_WORKER", "DISPATCHER", "ADMIN"]),
        ("updatePlace", &["GRID_WORKER", "DISPATCHER", "ADMIN"]),
        ("addMember", &["GRID_WORKER", "DISPATCHER", "ADMIN"]),
        ("mergeElements", &["GRID_WORKER", "DISPATCHER", "ADMIN"]),
        ("createPerson", &["GRID_WORKER", "DISPATCHER", "ADMIN"]),
        ("createThing", &["GRID_WORKER", "DISPATCHER", "ADMIN"]),
        (
            "createOrganization",
            &["GRID_WORKER", "DISPATCHER", "ADMIN"],
        ),
        ("updatePerson", &["GRID_WORKER", "DISPATCHER", "ADMIN"]),
        ("updateThing", &["GRID_WORKER", "DISPATCHER", "ADMIN"]),
        (
            "updateOrganization",
            &["GRID_WORKER", "DISPATCHER", "ADMIN"],
        ),
        ("removeMember", &["GRID_WORKER", "DISPATCHER", "ADMIN"]),
    ];
    let mut checked = 0;
    for (operation, allowed) in table {
        for (role, token) in &roles {
            let (query, variables) = prepared(&gateway, operation).await;
            let before = written(&gateway).await;
            let body = call(&gateway, token, None, &query, variables).await;
            let cell = format!("{role} × {operation}: {body}");
            if allowed.contains(role) {
                assert!(body.get("errors").is_none(), "allowed {cell}");
                if operation != "auditLog" {
                    let data = body["data"].as_object().and_then(|d| d.values().next());
                    assert_eq!(data.map(|d| &d["replayed"]), Some(&json!(false)), "{cell}");
                }
            } else {
                // A department's officer without a `staff` claim sees only the events its
                // department is summoned to: to it, this one does not exist.
                let hidden = role == &"DEPARTMENT_STAFF"
                    && matches!(operation, "recordMediation" | "requestJudicialConfirmation");
                let refusal = if hidden { "NOT_FOUND" } else { "FORBIDDEN" };
                assert_eq!(first_error_code(&body), refusal, "refused {cell}");
                assert_eq!(written(&gateway).await, before, "nothing written: {cell}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 198);
}

#[tokio::test]
async fn roles_act_only_where_the_table_says_they_reach() {
    let gateway = gateway().await;
    let township = token("DISPATCHER", TOWNSHIP, None);
    let county = token("DISPATCHER", "220422", None);
    let accept = "mutation($k: String!, $e: ID!) { acceptEvent(idempotencyKey: $k, eventId: $e) { replayed } }";

    // A county dispatcher does not act on an event its township handles...
    let event = reported(&gateway).await;
    let body = on(&gateway, &county, accept, "e", &event).await;
    assert_eq!(first_error_code(&body), "FORBIDDEN", "{body}");
    // ...until the township escalates it; then the township no longer does.
    let body = call(
        &gateway,
        &township,
        None,
        "mutation($k: String!, $e: ID!) { escalateEvent(idempotencyKey: $k, eventId: $e, reason: \"跨镇\") {
           event { handlingJurisdiction { code } } } }",
        json!({ "k": key(), "e": event }),
    )
    .await;
    assert_eq!(
        body["data"]["escalateEvent"]["event"]["handlingJurisdiction"]["code"], "220422",
        "{body}"
    );
    let before = written(&gateway).await;
    let body = on(&gateway, &township, accept, "e", &event).await;
    assert_eq!(first_error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(written(&gateway).await, before);
    let body = on(&gateway, &county, accept, "e", &event).await;
    assert!(body.get("errors").is_none(), "{body}");

    // A neighbouring township's dispatcher cannot see the event at all.
    let neighbour = token("DISPATCHER", "220422002", None);
    let event = reported(&gateway).await;
    let body = on(&gateway, &neighbour, accept, "e", &event).await;
    assert_eq!(first_error_code(&body), "NOT_FOUND", "{body}");

    // A department's staff answer their own department's summons only.
    let (_, summonses) = summoned(&gateway, &[DEPARTMENT, "220422-GA"]).await;
    let police = token("DEPARTMENT_STAFF", "220422", Some("220422-GA"));
    let report_in = "mutation($k: String!, $s: ID!) { reportIn(idempotencyKey: $k, summonsId: $s) { replayed } }";
    let before = written(&gateway).await;
    let body = on(&gateway, &police, report_in, "s", &summonses[0]).await;
    assert_eq!(first_error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(written(&gateway).await, before);
    let body = on(&gateway, &police, report_in, "s", &summonses[1]).await;
    assert!(body.get("errors").is_none(), "{body}");

    // A supervisor decides extensions for the levels below it, not for another county.
    let (_, summonses) = summoned(&gateway, &[DEPARTMENT]).await;
    summons_step(&gateway, &summonses[0], "reportIn", "").await;
    summons_step(&gateway, &summonses[0], "requestExtension", UNTIL).await;
    let elsewhere = token("SUPERVISOR", "220402", None);
    let body = call(
        &gateway,
        &elsewhere,
        None,
        "mutation($k: String!, $s: ID!) { decideExtension(idempotencyKey: $k, summonsId: $s, grant: true) { replayed } }",
        json!({ "k": key(), "s": summonses[0] }),
    )
    .await;
    assert_eq!(first_error_code(&body), "NOT_FOUND", "{body}");
}

/// Global ids of one row of each type filed under `county`.
async fn ids_in(gateway: &TestGateway, county: &str) -> Vec<(&'static str, String)> {
    let mut connection = gateway.database().await;
    let mut ids = Vec::new();
    for (node_type, table) in [
        ("Person", "persons"),
        ("Place", "places"),
        ("Thing", "things"),
        ("Organization", "organizations"),
        ("Event", "events"),
    ] {
        let id: i64 = sqlx::query_scalar(&format!(
            "SELECT min(id) FROM {table} WHERE jurisdiction_code LIKE $1 || '%'"
        ))
        .bind(county)
        .fetch_one(&mut connection)
        .await
        .expect("a row of the county");
        ids.push((node_type, global_id(node_type, id)));
    }
    ids.push((
        "Jurisdiction",
        global_id("Jurisdiction", format!("{county}001")),
    ));
    ids.push((
        "Department",
        global_id("Department", format!("{county}-XJ")),
    ));
    ids
}

#[tokio::test]
async fn ids_outside_the_scope_answer_like_ids_that_do_not_exist() {
    let gateway = gateway().await;
    let outsider = token("ANALYST", "220402", None);
    let mut ids = ids_in(&gateway, "220422").await;
    let (_, summonses) = summoned(&gateway, &[DEPARTMENT]).await;
    ids.push(("Summons", summonses[0].clone()));
    let missing = |node_type: &str| match node_type {
        "Jurisdiction" => global_id(node_type, "220499001"),
        "Department" => global_id(node_type, "220499-XJ"),
        _ => global_id(node_type, 999_999_999),
    };
    let node = "query($id: ID!) { node(id: $id) { __typename id } nodes(ids: [$id]) { id } }";
    for (node_type, id) in &ids {
        let hidden = call(&gateway, &outsider, None, node, json!({ "id": id })).await;
        let absent = call(
            &gateway,
            &outsider,
            None,
            node,
            json!({ "id": missing(node_type) }),
        )
        .await;
        assert_eq!(hidden, absent, "{node_type} {id}");
        assert_eq!(hidden["data"]["node"], Value::Null, "{node_type}: {hidden}");
        // The administrator sees the same id: the check can fail.
        let seen = call(&gateway, &admin(), None, node, json!({ "id": id })).await;
        assert_eq!(seen["data"]["node"]["__typename"], *node_type, "{seen}");
    }

    // The entry points by id and code, and every connection into the other county.
    let lookups = format!(
        "{{ person(id: \"{}\") {{ id }} place(id: \"{}\") {{ id }} thing(id: \"{}\") {{ id }}
           organization(id: \"{}\") {{ id }} event(id: \"{}\") {{ id }}
           jurisdiction(code: \"220422\") {{ code }} department(code: \"220422-XJ\") {{ code }}
           persons(filter: {{ jurisdiction: \"220422\" }}) {{ totalCount nodes {{ id }} }}
           places(filter: {{ jurisdiction: \"220422\" }}) {{ totalCount nodes {{ id }} }}
           things(filter: {{ jurisdiction: \"220422\" }}) {{ totalCount nodes {{ id }} }}
           organizations(filter: {{ jurisdiction: \"220422\" }}) {{ totalCount nodes {{ id }} }}
           events(filter: {{ jurisdiction: \"220422\" }}) {{ totalCount nodes {{ id }} }}
           jurisdictions(parentCode: \"220422\") {{ totalCount nodes {{ code }} }}
           departments(county: \"220422\") {{ totalCount nodes {{ code }} }} }}",
        ids[0].1, ids[1].1, ids[2].1, ids[3].1, ids[4].1
    );
    let hidden = call(&gateway, &outsider, None, &lookups, json!({})).await;
    assert!(hidden.get("errors").is_none(), "{hidden}");
    for (field, value) in hidden["data"].as_object().into_iter().flatten() {
        match value.get("totalCount") {
            Some(total) => {
                assert_eq!(total, 0, "{field}: {value}");
                assert_eq!(value["nodes"], json!([]), "{field}");
            }
            None => assert_eq!(*value, Value::Null, "{field}"),
        }
    }
    let seen = call(&gateway, &admin(), None, &lookups, json!({})).await;
    for (field, value) in seen["data"].as_object().into_iter().flatten() {
        assert_ne!(*value, Value::Null, "{field}");
        if let Some(total) = value.get("totalCount") {
            assert!(total.as_i64() > Some(0), "{field}: {value}");
        }
    }
    // Its own county stays visible to it, the org chart above it as its breadcrumb.
    let own = call(
        &gateway,
        &outsider,
        None,
        "{ jurisdiction(code: \"220402\") { ancestors { code } } departments { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(
        own["data"]["jurisdiction"]["ancestors"],
        json!([{ "code": "220400" }]),
        "{own}"
    );
    assert_eq!(own["data"]["departments"]["totalCount"], 24, "{own}");
}

#[tokio::test]
async fn department_staff_see_the_events_their_department_was_summoned_to() {
    let gateway = gateway().await;
    let staff = token("DEPARTMENT_STAFF", "220422", Some(DEPARTMENT));
    let (event, summonses) = summoned(&gateway, &[DEPARTMENT]).await;
    let (other, other_summonses) = summoned(&gateway, &["220422-GA"]).await;
    let read = "query($e: ID!, $s: ID!) { event(id: $e) { id summonses { id } timeline { kind } }
                  node(id: $s) { id } events(filter: { jurisdiction: \"220422\" }) { totalCount } }";
    let body = call(
        &gateway,
        &staff,
        None,
        read,
        json!({ "e": event, "s": summonses[0] }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["event"]["id"], json!(event));
    assert_eq!(
        body["data"]["event"]["summonses"][0]["id"],
        json!(summonses[0])
    );
    assert!(
        body["data"]["event"]["timeline"]
            .as_array()
            .is_some_and(|t| t.len() >= 3)
    );
    assert_eq!(body["data"]["node"]["id"], json!(summonses[0]));
    // The county's events the department was ever summoned to (the seeded history's and
    // this one), not the county's others.
    let summoned_to: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT s.event_id) FROM summonses s JOIN events e ON e.id = s.event_id \
         WHERE s.department_code = $1 AND e.jurisdiction_code LIKE '220422%'",
    )
    .bind(DEPARTMENT)
    .fetch_one(&mut gateway.database().await)
    .await
    .expect("count the summoned events");
    assert!(summoned_to >= 1);
    assert_eq!(body["data"]["events"]["totalCount"], summoned_to, "{body}");
    let body = call(
        &gateway,
        &staff,
        None,
        read,
        json!({ "e": other, "s": other_summonses[0] }),
    )
    .await;
    assert_eq!(body["data"]["event"], Value::Null, "{body}");
    assert_eq!(body["data"]["node"], Value::Null, "{body}");
}

#[tokio::test]
async fn idempotency_keys_belong_to_their_caller() {
    let gateway = gateway().await;
    let report = "mutation($input: ReportEventInput!) { reportEvent(input: $input) { replayed event { id } } }";
    let input = |grid: &str, description: &str| {
        json!({ "input": { "idempotencyKey": "terminal-7f3a-0001", "description": description,
                           "category": "SAFETY_HAZARD", "gridCode": grid } })
    };
    let dongliao = token("GRID_WORKER", GRID, None);
    let longshan_grid = gateway.grid_of("220402").await;
    let longshan = token("GRID_WORKER", &longshan_grid, None);

    // Two terminals in two counties count from the same number: both reports are kept.
    let first = call(&gateway, &dongliao, None, report, input(GRID, "楼道堆物")).await;
    let second = call(
        &gateway,
        &longshan,
        None,
        report,
        input(&longshan_grid, "路灯损坏"),
    )
    .await;
    for body in [&first, &second] {
        assert_eq!(body["data"]["reportEvent"]["replayed"], false, "{body}");
    }
    let (one, two) = (
        &first["data"]["reportEvent"]["event"]["id"],
        &second["data"]["reportEvent"]["event"]["id"],
    );
    assert_ne!(one, two);
    let titles: Vec<String> = sqlx::query_scalar(
        "SELECT description FROM events WHERE description IN ('楼道堆物', '路灯损坏') ORDER BY id",
    )
    .fetch_all(&mut gateway.database().await)
    .await
    .expect("the reports");
    assert_eq!(titles, ["楼道堆物", "路灯损坏"]);

    // The same caller retrying gets its first answer...
    let retried = call(&gateway, &dongliao, None, report, input(GRID, "楼道堆物")).await;
    assert_eq!(
        retried["data"]["reportEvent"]["replayed"], true,
        "{retried}"
    );
    assert_eq!(&retried["data"]["reportEvent"]["event"]["id"], one);
    // ...but the key with other arguments, or for another operation, is refused.
    let before = written(&gateway).await;
    let reused = call(&gateway, &dongliao, None, report, input(GRID, "另一件事")).await;
    assert_eq!(
        first_error_code(&reused),
        "IDEMPOTENCY_KEY_REUSED",
        "{reused}"
    );
    let other_operation = call(
        &gateway,
        &dongliao,
        None,
        "mutation($e: ID!) { revisit(idempotencyKey: \"terminal-7f3a-0001\", eventId: $e, satisfaction: 5) { replayed } }",
        json!({ "e": one }),
    )
    .await;
    assert_eq!(
        first_error_code(&other_operation),
        "IDEMPOTENCY_KEY_REUSED",
        "{other_operation}"
    );
    assert_eq!(written(&gateway).await, before);
}

async fn audit_rows(
    gateway: &TestGateway,
) -> Vec<(String, String, Vec<String>, String, Option<String>)> {
    sqlx::query_as(
        "SELECT principal, actor_role, fields, purpose, request_id FROM audit_log ORDER BY id",
    )
    .fetch_all(&mut gateway.database().await)
    .await
    .expect("audit rows")
}

#[tokio::test]
async fn personal_data_is_clear_only_with_a_role_and_a_purpose_and_each_read_is_audited() {
    let gateway = gateway().await;
    let (id, id_number, phone): (i64, String, String) = sqlx::query_as(
        "SELECT id, id_number, phone FROM persons WHERE jurisdiction_code LIKE '220422%' AND phone IS NOT NULL ORDER BY id LIMIT 1",
    )
    .fetch_one(&mut gateway.database().await)
    .await
    .expect("a person with a phone");
    let person = global_id("Person", id);
    let read = "query($p: ID!) { person(id: $p) { idNumber phone } }";
    let vars = json!({ "p": person });
    let masked_id = format!("{}********{}", &id_number[..6], &id_number[14..]);

    // Without a purpose: masked for everyone, ADMIN included, and nothing audited.
    let body = call(&gateway, &admin(), None, read, vars.clone()).await;
    assert_eq!(
        body["data"]["person"]["idNumber"],
        json!(masked_id),
        "{body}"
    );
    assert_ne!(body["data"]["person"]["phone"], json!(phone));
    assert!(audit_rows(&gateway).await.is_empty());

    // With one: an ADMIN reads both in clear, one row for the person.
    let body = call(&gateway, &admin(), Some("核实身份"), read, vars.clone()).await;
    assert_eq!(
        body["data"]["person"],
        json!({ "idNumber": id_number, "phone": phone }),
        "{body}"
    );
    let rows = audit_rows(&gateway).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].1, "ADMIN");
    assert_eq!(rows[0].2, ["idNumber", "phone"]);
    assert_eq!(rows[0].3, "核实身份");
    assert_eq!(rows[0].4.as_deref(), Some("access-test"));

    // A grid worker calling back: the phone in clear, the ID number masked.
    let worker = token("GRID_WORKER", "220422", None);
    let body = call(&gateway, &worker, Some("回访"), read, vars.clone()).await;
    assert_eq!(
        body["data"]["person"],
        json!({ "idNumber": masked_id, "phone": phone }),
        "{body}"
    );
    let rows = audit_rows(&gateway).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].2, ["phone"]);

    // An analyst never reads personal data in clear, whatever it states.
    let analyst = token("ANALYST", "220400", None);
    let body = call(&gateway, &analyst, Some("统计"), read, vars.clone()).await;
    assert_eq!(body["data"]["person"]["idNumber"], json!(masked_id));
    assert_eq!(audit_rows(&gateway).await.len(), 2);

    // Many people in one request: one row each.
    let body = call(
        &gateway,
        &admin(),
        Some("排查"),
        "{ persons(first: 3, filter: { jurisdiction: \"220422\" }) { nodes { idNumber name } } }",
        json!({}),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(audit_rows(&gateway).await.len(), 5);

    // The audit log: administrators only.
    let log = "{ auditLog(filter: { principal: \"ADMIN@220400\" }) { totalCount nodes { principal fields purpose entityId actor { role } } } }";
    let body = call(&gateway, &admin(), None, log, json!({})).await;
    assert_eq!(body["data"]["auditLog"]["totalCount"], 4, "{body}");
    assert_eq!(
        body["data"]["auditLog"]["nodes"][0]["entityId"],
        json!(person)
    );
    let body = call(&gateway, &worker, None, log, json!({})).await;
    assert_eq!(first_error_code(&body), "FORBIDDEN", "{body}");
}

#[tokio::test]
async fn a_websocket_is_closed_when_its_token_expires() {
    let gateway = gateway().await;
    let short = token_until("DISPATCHER", TOWNSHIP, None, "short-lived", now() + 2);
    let mut socket = connect(&gateway).await;
    let answer = init(
        &mut socket,
        json!({ "Authorization": format!("Bearer {short}") }),
    )
    .await;
    assert_eq!(answer, json!({ "type": "connection_ack" }));
    let closed = receive(&mut socket).await;
    assert_eq!(closed["closed"][0], 4403, "{closed}");
}

#[tokio::test]
async fn old_keys_and_published_outbox_rows_are_pruned_once_across_replicas() {
    // The replicas below prune; the gateway's own job stays out of their way.
    let gateway = gateway_with(|config| config.workflow.prune_every_s = 0).await;
    for _ in 0..3 {
        reported(&gateway).await;
    }
    let mut database = gateway.database().await;
    // Two keys and their outbox rows, published, from before the retention period.
    sqlx::query(
        "UPDATE idempotency_keys SET created_at = now() - interval '8 days'
         WHERE key IN (SELECT key FROM idempotency_keys ORDER BY created_at LIMIT 2)",
    )
    .execute(&mut database)
    .await
    .expect("age keys");
    sqlx::query(
        "UPDATE outbox SET published_at = now() - interval '8 days'
         WHERE timeline_id IN (SELECT timeline_id FROM outbox ORDER BY timeline_id LIMIT 2)",
    )
    .execute(&mut database)
    .await
    .expect("age outbox rows");
    let count = async |database: &mut sqlx::PgConnection| -> (i64, i64) {
        sqlx::query_as(
            "SELECT (SELECT count(*) FROM idempotency_keys), (SELECT count(*) FROM outbox)",
        )
        .fetch_one(database)
        .await
        .expect("counts")
    };
    let (keys, outbox) = count(&mut database).await;

    // Two replicas prune at once: one run removes exactly the old rows.
    let replicas = [
        schema::Store::new(
            sqlx::PgPool::connect(&crate::helpers::database_url(&gateway.database))
                .await
                .expect("connect"),
        ),
        schema::Store::new(
            sqlx::PgPool::connect(&crate::helpers::database_url(&gateway.database))
                .await
                .expect("connect"),
        ),
    ];
    let week = std::time::Duration::from_secs(7 * 86_400);
    let hour = std::time::Duration::from_secs(3_600);
    let runs = futures_util::future::join_all(replicas.iter().map(|r| r.prune(week, hour))).await;
    let pruned: Vec<_> = runs
        .into_iter()
        .filter_map(|run| run.expect("pruning runs"))
        .collect();
    assert_eq!(
        pruned,
        [schema::workflow::Pruned {
            idempotency_keys: 2,
            outbox_rows: 2
        }]
    );
    assert_eq!(count(&mut database).await, (keys - 2, outbox - 2));
    // Within the period nobody prunes again.
    assert_eq!(replicas[1].prune(week, hour).await.expect("runs"), None);
}

#[tokio::test]
async fn a_server_sent_events_stream_ends_when_its_token_expires() {
    let gateway = gateway().await;
    let short = token_until("DISPATCHER", TOWNSHIP, None, "short-lived-sse", now() + 2);
    let started = std::time::Instant::now();
    let events = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        gateway
            .client
            .post(gateway.url("/graphql"))
            .bearer_auth(&short)
            .header("accept", "text/event-stream")
            .json(&json!({ "query": "subscription { dispatchSignals(jurisdictionCode: \"220422001\") { cursor } }" }))
            .send()
            .await
            .expect("the stream starts")
            .text(),
    )
    .await
    .expect("the stream ends at the token's expiry")
    .expect("readable");
    assert!(events.contains("event: complete"), "{events}");
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
}

#[tokio::test]
async fn a_websocket_states_its_purpose_in_connection_init() {
    let gateway = gateway().await;
    let (id, id_number): (i64, String) = sqlx::query_as(
        "SELECT id, id_number FROM persons WHERE jurisdiction_code LIKE '220422%' ORDER BY id LIMIT 1",
    )
    .fetch_one(&mut gateway.database().await)
    .await
    .expect("a person");
    let mut socket = connect(&gateway).await;
    let answer = init(
        &mut socket,
        json!({ "Authorization": format!("Bearer {}", admin()), "purpose": "核查" }),
    )
    .await;
    assert_eq!(answer, json!({ "type": "connection_ack" }));
    crate::subscriptions::send(
        &mut socket,
        json!({ "id": "q", "type": "subscribe", "payload": {
            "query": "query($p: ID!) { person(id: $p) { idNumber } }",
            "variables": { "p": global_id("Person", id) } } }),
    )
    .await;
    let answer = receive(&mut socket).await;
    assert_eq!(
        answer["payload"]["data"]["person"]["idNumber"],
        json!(id_number),
        "{answer}"
    );
    let rows = audit_rows(&gateway).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].2.as_slice(), rows[0].3.as_str()),
        (&["idNumber".to_owned()][..], "核查")
    );
}

#[tokio::test]
async fn what_a_subscription_reads_in_clear_is_audited_too() {
    let gateway = gateway().await;
    let (id, phone): (i64, String) = sqlx::query_as(
        "SELECT id, phone FROM persons WHERE jurisdiction_code LIKE '220422%' AND phone IS NOT NULL ORDER BY id LIMIT 1",
    )
    .fetch_one(&mut gateway.database().await)
    .await
    .expect("a person with a phone");
    let data = as_admin(
        &gateway,
        "mutation($k: String!, $g: String!, $r: ID!) { reportEvent(input: { idempotencyKey: $k,
           description: \"噪音扰民\", category: SAFETY_HAZARD, gridCode: $g, reporterId: $r }) { event { id } } }",
        json!({ "k": key(), "g": GRID, "r": global_id("Person", id) }),
    )
    .await;
    let event = data["reportEvent"]["event"]["id"].clone();
    let mut socket = connect(&gateway).await;
    let answer = init(
        &mut socket,
        json!({ "Authorization": format!("Bearer {}", admin()), "purpose": "回访" }),
    )
    .await;
    assert_eq!(answer, json!({ "type": "connection_ack" }));
    crate::subscriptions::send(
        &mut socket,
        json!({ "id": "s", "type": "subscribe", "payload": {
            "query": "subscription($e: ID!) { eventTimeline(eventId: $e) { kind event { reporter { phone } } } }",
            "variables": { "e": event } } }),
    )
    .await;
    let answer = receive(&mut socket).await;
    let reporter = &answer["payload"]["data"]["eventTimeline"]["event"]["reporter"];
    assert_eq!(reporter["phone"], json!(phone), "{answer}");
    // The row is written before the result leaves.
    let rows = audit_rows(&gateway).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].2, ["phone"]);
    assert_eq!(rows[0].3, "回访");
}

#[tokio::test]
async fn the_mediating_team_records_the_outcome_and_other_staff_may_not() {
    let gateway = gateway().await;
    let event = disputed(&gateway, true).await;
    let (member, outsider): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT staff_id FROM team_members WHERE grid_code = $1 ORDER BY staff_id LIMIT 1),
                (SELECT id FROM staff WHERE id NOT IN
                   (SELECT staff_id FROM team_members WHERE grid_code = $1)
                   AND jurisdiction_code LIKE '220422%' ORDER BY id LIMIT 1)",
    )
    .bind(GRID)
    .fetch_one(&mut gateway.database().await)
    .await
    .expect("a member and an outsider");
    let record = "mutation($k: String!, $e: ID!) { recordMediation(idempotencyKey: $k, eventId: $e,
                    outcome: FAILED) { replayed event { tier } } }";
    let before = written(&gateway).await;
    let refused = call(
        &gateway,
        &staff_token("220422", outsider),
        None,
        record,
        json!({ "k": key(), "e": event }),
    )
    .await;
    assert_eq!(first_error_code(&refused), "FORBIDDEN", "{refused}");
    assert_eq!(written(&gateway).await, before);
    let recorded = call(
        &gateway,
        &staff_token("220422", member),
        None,
        record,
        json!({ "k": key(), "e": event }),
    )
    .await;
    assert_eq!(
        recorded["data"]["recordMediation"]["replayed"], false,
        "{recorded}"
    );
}

#[tokio::test]
async fn the_viewer_is_the_principal_its_token_names() {
    let gateway = gateway().await;
    let staff = token("DEPARTMENT_STAFF", "220422", Some(DEPARTMENT));
    let query = "{ viewer { name role jurisdiction { code name level } department { code }
                            purpose expiresAt } }";
    let body = call(&gateway, &staff, Some("回访核实"), query, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let viewer = &body["data"]["viewer"];
    assert_eq!(viewer["name"], "DEPARTMENT_STAFF-220422");
    assert_eq!(viewer["role"], "DEPARTMENT_STAFF");
    assert_eq!(
        viewer["jurisdiction"],
        json!({ "code": "220422", "name": "东辽县", "level": "COUNTY" })
    );
    assert_eq!(viewer["department"]["code"], DEPARTMENT);
    assert_eq!(viewer["purpose"], "回访核实");
    assert!(
        viewer["expiresAt"]
            .as_str()
            .is_some_and(|at| at.starts_with("20"))
    );
    let worker = token("GRID_WORKER", GRID, None);
    let body = call(&gateway, &worker, None, query, json!({})).await;
    assert_eq!(body["data"]["viewer"]["jurisdiction"]["level"], "GRID");
    assert_eq!(body["data"]["viewer"]["department"], Value::Null);
    assert_eq!(body["data"]["viewer"]["purpose"], Value::Null);
}

#[tokio::test]
async fn recent_signals_are_the_latest_the_subscription_would_carry_in_the_callers_scope() {
    let gateway = gateway().await;
    let (_, _) = summoned(&gateway, &[DEPARTMENT]).await;
    let (_, _) = summoned(&gateway, &["220422-GA"]).await;
    let recent = "query($j: String, $d: String, $n: Int!) {
        recentSignals(jurisdictionCode: $j, departmentCode: $d, last: $n) {
          cursor kind department { code } event { title } } }";
    let dispatcher = token("DISPATCHER", TOWNSHIP, None);
    let body = call(
        &gateway,
        &dispatcher,
        None,
        recent,
        json!({ "j": TOWNSHIP, "n": 3 }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    let entries = body["data"]["recentSignals"].as_array().expect("a list");
    // The second event's report, acceptance and whistle: oldest first, the newest last.
    let kinds: Vec<&str> = entries.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["REPORTED", "ACCEPTED", "WHISTLE"], "{body}");
    let cursors: Vec<i64> = entries
        .iter()
        .filter_map(|e| e["cursor"].as_str()?.parse().ok())
        .collect();
    assert!(cursors.windows(2).all(|w| w[0] < w[1]), "{cursors:?}");
    let newest: i64 = sqlx::query_scalar("SELECT max(position) FROM timeline")
        .fetch_one(&mut gateway.database().await)
        .await
        .expect("the newest entry");
    assert_eq!(cursors.last(), Some(&newest));
    assert_eq!(entries[2]["department"]["code"], "220422-GA");

    // A department's staff see their own department's entries only.
    let staff = token("DEPARTMENT_STAFF", "220422", Some(DEPARTMENT));
    let body = call(
        &gateway,
        &staff,
        None,
        recent,
        json!({ "j": "220422", "n": 5 }),
    )
    .await;
    let entries = body["data"]["recentSignals"].as_array().expect("a list");
    assert!(!entries.is_empty(), "{body}");
    assert!(
        entries
            .iter()
            .all(|e| e["department"]["code"] == DEPARTMENT),
        "{body}"
    );

    // Outside the caller's jurisdiction, without a filter, or too many: refused.
    let refusals = [
        (json!({ "j": "220421", "n": 5 }), "FORBIDDEN"),
        (json!({ "n": 5 }), "BAD_USER_INPUT"),
        (json!({ "j": TOWNSHIP, "n": 101 }), "BAD_USER_INPUT"),
        (json!({ "j": TOWNSHIP, "n": -1 }), "BAD_USER_INPUT"),
    ];
    for (variables, code) in refusals {
        let body = call(&gateway, &dispatcher, None, recent, variables.clone()).await;
        assert_eq!(first_error_code(&body), code, "{variables}: {body}");
    }
}
