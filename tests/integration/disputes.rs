//! 诉调一体 end to end: a dispute from the window to mediation (registered by the
//! simulated justice bureau), to judicial confirmation (decided later by the simulated
//! court) or to court (filed into the court's own database); and the write outbox
//! keeping its promise — once, whatever is down or restarted in between; and a letter or
//! visit reported through the API registered by the petitions bureau.

use std::time::Duration;

use serde_json::{Value, json};

use crate::departments::Federated;
use crate::helpers::{TestGateway, first_error_code};
use crate::subscriptions::accepted_event;

const DISPUTE: &str = "query($id: ID!) { event(id: $id) {
    status tier resolutionTier
    mediations { status filing caseNumber confirmation confirmationCaseNumber confirmationRefusal
                 team { grid { code } } }
    departmentWrites { operation status attempts lastError departmentId caseNumber reason
                       department { code } }
    mediationCase { caseNumber committee outcome }
    courtCase { caseNumber causeOfAction status }
    timeline { kind detail }
  } }";

async fn dispute(gateway: &TestGateway, event: &Value) -> Value {
    gateway.query(DISPUTE, json!({ "id": event })).await["event"].clone()
}

/// Polls the dispute until `done` holds (20 s at most); returns it as read once more
/// after that: one request's fields are read by several statements, and an answer that
/// commits between them shows in some fields only. A department's answer shows in its
/// row when it commits and in the timeline when its entry gets its position, a moment
/// later: a test that reads both waits for both.
async fn until(gateway: &TestGateway, event: &Value, done: impl Fn(&Value) -> bool) -> Value {
    let mut seen = Value::Null;
    for _ in 0..200 {
        seen = dispute(gateway, event).await;
        if done(&seen) {
            return dispute(gateway, event).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the dispute never got there: {seen:#}");
}

/// The dispute's write of `operation`.
fn write<'a>(dispute: &'a Value, operation: &str) -> &'a Value {
    dispute["departmentWrites"]
        .as_array()
        .and_then(|writes| writes.iter().find(|w| w["operation"] == operation))
        .unwrap_or_else(|| panic!("no {operation} write: {dispute:#}"))
}

fn entries<'a>(dispute: &'a Value, kind: &str) -> Vec<&'a Value> {
    dispute["timeline"]
        .as_array()
        .map(|t| t.iter().filter(|e| e["kind"] == kind).collect())
        .unwrap_or_default()
}

async fn step(
    gateway: &TestGateway,
    mutation: &str,
    key: &str,
    event: &Value,
    args: &str,
) -> Value {
    let query = format!(
        "mutation($k: String!, $e: ID!) {{ {mutation}(idempotencyKey: $k, eventId: $e{args}) {{
           replayed event {{ status tier }} entries {{ kind detail }} }} }}"
    );
    gateway
        .post(&query, json!({ "k": key, "e": event }))
        .await
        .1
}

async fn refer_to_mediation(gateway: &TestGateway, key: &str, event: &Value) -> Value {
    let grid = gateway
        .query(
            "query($id: ID!) { event(id: $id) { grid { code } } }",
            json!({ "id": event }),
        )
        .await["event"]["grid"]["code"]
        .clone();
    let args = format!(", kind: PEOPLES, teamGridCode: {grid}");
    step(gateway, "referToMediation", key, event, &args).await
}

#[tokio::test]
async fn a_dispute_mediated_to_an_agreement_the_court_confirms() {
    let federated = Federated::spawn().await;
    let gateway = &federated.gateway;
    let event = accepted_event(gateway, "sd-agree").await;
    let referred = refer_to_mediation(gateway, "sd-agree-refer", &event).await;
    assert_eq!(
        referred["data"]["referToMediation"]["event"]["tier"], "MEDIATION",
        "{referred:#}"
    );
    assert_eq!(
        referred["data"]["referToMediation"]["event"]["status"],
        "IN_PROGRESS"
    );
    let entry = &referred["data"]["referToMediation"]["entries"][0];
    assert_eq!(entry["kind"], "REFERRED_TO_MEDIATION");
    assert_eq!(entry["detail"]["sentTo"], "220422-SF");
    // A retry with the same key replays: one mediation, one filing.
    let again = refer_to_mediation(gateway, "sd-agree-refer", &event).await;
    assert_eq!(again["data"]["referToMediation"]["replayed"], true);

    // The justice bureau registers the case; the event is linked to its record.
    let filed = until(gateway, &event, |d| {
        d["mediations"][0]["filing"] == "FILED" && !entries(d, "FILED").is_empty()
    })
    .await;
    assert_eq!(filed["mediations"].as_array().map(Vec::len), Some(1));
    let case_number = filed["mediations"][0]["caseNumber"]
        .as_str()
        .expect("a case number");
    assert!(case_number.contains("调字第W"), "{case_number}");
    assert_eq!(filed["mediationCase"]["caseNumber"], case_number);
    assert_eq!(filed["mediationCase"]["outcome"], "调解中");
    assert_eq!(filed["departmentWrites"][0]["operation"], "file_mediation");
    assert_eq!(filed["departmentWrites"][0]["status"], "FILED");
    assert_eq!(filed["departmentWrites"][0]["attempts"], 1);
    let filing = entries(&filed, "FILED");
    assert_eq!(filing.len(), 1);
    assert_eq!(filing[0]["detail"]["caseNumber"], case_number);
    assert_eq!(federated.filed_cases("220422-SF").await.len(), 1);

    // Not resolvable while the mediation is under way.
    let early = step(gateway, "resolveEvent", "sd-agree-early", &event, "").await;
    assert_eq!(first_error_code(&early), "INVALID_TRANSITION", "{early:#}");
    let recorded = step(
        gateway,
        "recordMediation",
        "sd-agree-record",
        &event,
        ", outcome: AGREEMENT, agreement: \"物业公司于十日内修复管道，业主补缴物业费\"",
    )
    .await;
    assert_eq!(
        recorded["data"]["recordMediation"]["entries"][0]["kind"],
        "MEDIATION_RECORDED"
    );
    let asked = step(
        gateway,
        "requestJudicialConfirmation",
        "sd-agree-confirm",
        &event,
        "",
    )
    .await;
    assert_eq!(
        asked["data"]["requestJudicialConfirmation"]["entries"][0]["detail"]["sentTo"],
        "220422-FY"
    );
    // The court takes it in (pending), then confirms it after a while.
    let confirmed = until(gateway, &event, |d| {
        d["mediations"][0]["confirmation"] == "CONFIRMED"
    })
    .await;
    let number = confirmed["mediations"][0]["confirmationCaseNumber"]
        .as_str()
        .expect("民特");
    assert!(number.contains("民特"), "{number}");
    let write = &confirmed["departmentWrites"][1];
    assert_eq!(write["operation"], "request_confirmation");
    assert_eq!(write["status"], "FILED");
    assert!(
        write["attempts"].as_i64() >= Some(2),
        "asked again while pending: {write}"
    );

    let resolved = step(gateway, "resolveEvent", "sd-agree-resolve", &event, "").await;
    assert_eq!(
        resolved["data"]["resolveEvent"]["event"]["status"], "RESOLVED",
        "{resolved:#}"
    );
    let done = dispute(gateway, &event).await;
    assert_eq!(done["resolutionTier"], "MEDIATION");
    let kinds: Vec<&str> = done["timeline"]
        .as_array()
        .expect("a timeline")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "REPORTED",
            "ACCEPTED",
            "REFERRED_TO_MEDIATION",
            "FILED",
            "MEDIATION_RECORDED",
            "CONFIRMATION_REQUESTED",
            "FILED",
            "RESOLVED"
        ]
    );
    // What 考核 reads: the share of disputes resolved before litigation.
    let (resolved, before): (i64, i64) = sqlx::query_as(
        "SELECT resolved, before_litigation FROM dispute_resolutions \
         WHERE county_code = '220422' AND month = date_trunc('month', now())",
    )
    .fetch_one(&mut gateway.database().await)
    .await
    .expect("this month's figures");
    assert!(resolved >= 1 && before >= 1 && before <= resolved);
}

#[tokio::test]
async fn an_agreement_refused_confirmation_goes_to_court_and_the_court_files_it() {
    let federated = Federated::spawn().await;
    let gateway = &federated.gateway;
    let event = accepted_event(gateway, "sd-refused").await;
    refer_to_mediation(gateway, "sd-refused-refer", &event).await;
    step(
        gateway,
        "recordMediation",
        "sd-refused-record",
        &event,
        ", outcome: AGREEMENT, agreement: \"乙方按月息百分之五的高利偿还借款\"",
    )
    .await;
    step(
        gateway,
        "requestJudicialConfirmation",
        "sd-refused-confirm",
        &event,
        "",
    )
    .await;
    let refused = until(gateway, &event, |d| {
        d["mediations"][0]["confirmation"] == "REFUSED" && !entries(d, "REFUSED").is_empty()
    })
    .await;
    let reason = refused["mediations"][0]["confirmationRefusal"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("不予确认"), "{reason}");
    assert_eq!(entries(&refused, "REFUSED").len(), 1);
    assert!(entries(&refused, "REFUSED")[0]["detail"]["reason"].is_string());

    let referred = step(
        gateway,
        "referToCourt",
        "sd-refused-court",
        &event,
        ", reason: \"调解协议未获司法确认\"",
    )
    .await;
    assert_eq!(
        referred["data"]["referToCourt"]["event"]["tier"], "LITIGATION",
        "{referred:#}"
    );
    let filed = until(gateway, &event, |d| {
        d["courtCase"]["caseNumber"].is_string()
    })
    .await;
    let case = &filed["departmentWrites"][2];
    assert_eq!(case["operation"], "file_case");
    assert_eq!(filed["courtCase"]["caseNumber"], case["caseNumber"]);
    assert_eq!(filed["courtCase"]["causeOfAction"], "物业服务合同纠纷");
    assert_eq!(filed["courtCase"]["status"], "审理中");
    // Filed once in the court's own database, under the write's key.
    let back_to_mediation = refer_to_mediation(gateway, "sd-refused-again", &event).await;
    assert_eq!(first_error_code(&back_to_mediation), "INVALID_TRANSITION");
    assert_eq!(
        back_to_mediation["errors"][0]["extensions"]["currentState"], "LITIGATION",
        "{back_to_mediation:#}"
    );
    let resolved = step(
        gateway,
        "resolveEvent",
        "sd-refused-resolve",
        &event,
        ", tier: LITIGATION",
    )
    .await;
    assert_eq!(
        resolved["data"]["resolveEvent"]["event"]["status"], "RESOLVED",
        "{resolved:#}"
    );
}

#[tokio::test]
async fn a_failed_mediation_goes_to_court_and_only_disputes_are_mediated() {
    let federated = Federated::spawn().await;
    let gateway = &federated.gateway;
    let event = accepted_event(gateway, "sd-failed").await;
    // Nothing to record before a referral, and no court while mediation is under way.
    let early = step(
        gateway,
        "recordMediation",
        "sd-failed-early",
        &event,
        ", outcome: FAILED",
    )
    .await;
    assert_eq!(first_error_code(&early), "INVALID_TRANSITION", "{early:#}");
    refer_to_mediation(gateway, "sd-failed-refer", &event).await;
    let under_way = step(
        gateway,
        "referToCourt",
        "sd-failed-court-early",
        &event,
        ", reason: \"不愿调解\"",
    )
    .await;
    assert_eq!(
        under_way["errors"][0]["extensions"]["currentState"], "REFERRED",
        "{under_way:#}"
    );
    let agreement_missing = step(
        gateway,
        "recordMediation",
        "sd-failed-empty",
        &event,
        ", outcome: AGREEMENT",
    )
    .await;
    assert_eq!(first_error_code(&agreement_missing), "BAD_USER_INPUT");
    step(
        gateway,
        "recordMediation",
        "sd-failed-record",
        &event,
        ", outcome: FAILED",
    )
    .await;
    let court = step(
        gateway,
        "referToCourt",
        "sd-failed-court",
        &event,
        ", reason: \"调解不成\"",
    )
    .await;
    assert_eq!(
        court["data"]["referToCourt"]["event"]["tier"], "LITIGATION",
        "{court:#}"
    );
    let filed = until(gateway, &event, |d| {
        d["courtCase"]["caseNumber"].is_string()
    })
    .await;
    let case = write(&filed, "file_case");
    let id = case["departmentId"].as_str().unwrap_or_default();
    assert!(
        id.starts_with("LA220422"),
        "the court's own numbering: {filed:#}"
    );
    assert_eq!(filed["courtCase"]["caseNumber"], case["caseNumber"]);

    // Not a dispute: no mediation.
    let grid = gateway.grid_of("220422").await;
    let report = gateway
        .query(
            "mutation($g: String!) { reportEvent(input: { idempotencyKey: \"sd-hazard\",
               description: \"井盖缺失\", category: SAFETY_HAZARD, gridCode: $g }) { event { id } } }",
            json!({ "g": grid }),
        )
        .await;
    let hazard = report["reportEvent"]["event"]["id"].clone();
    step(gateway, "acceptEvent", "sd-hazard-accept", &hazard, "").await;
    let refused = refer_to_mediation(gateway, "sd-hazard-refer", &hazard).await;
    assert_eq!(first_error_code(&refused), "BAD_USER_INPUT", "{refused:#}");
}

#[tokio::test]
async fn a_filing_sent_while_the_justice_bureau_is_down_is_filed_once_when_it_is_back() {
    let federated = Federated::spawn().await;
    let gateway = &federated.gateway;
    federated.fault("220422-SF", json!({ "down": true })).await;
    let event = accepted_event(gateway, "sd-down").await;
    refer_to_mediation(gateway, "sd-down-refer", &event).await;
    let failing = until(gateway, &event, |d| {
        d["departmentWrites"][0]["attempts"].as_i64() >= Some(3)
    })
    .await;
    let write = &failing["departmentWrites"][0];
    assert_eq!(write["status"], "PENDING");
    assert!(
        write["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("503")),
        "{write}"
    );
    assert_eq!(failing["mediations"][0]["filing"], "PENDING");
    federated.clear_fault("220422-SF").await;
    let filed = until(gateway, &event, |d| {
        d["mediations"][0]["filing"] == "FILED" && !entries(d, "FILED").is_empty()
    })
    .await;
    assert_eq!(filed["departmentWrites"][0]["lastError"], Value::Null);
    assert_eq!(entries(&filed, "FILED").len(), 1, "{filed:#}");
    assert_eq!(federated.filed_cases("220422-SF").await.len(), 1);
}

#[tokio::test]
async fn a_gateway_restart_between_sending_and_the_answer_files_once() {
    let mut federated = Federated::spawn().await;
    // The bureau registers the case, then answers only after the gateway has gone.
    federated
        .fault("220422-SF", json!({ "latency_ms": 4000 }))
        .await;
    let event = accepted_event(&federated.gateway, "sd-restart").await;
    refer_to_mediation(&federated.gateway, "sd-restart-refer", &event).await;
    // Up to 15 s: under a whole suite's load the write-back's first attempt can come late.
    for _ in 0..300 {
        if !federated.filed_cases("220422-SF").await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        federated.filed_cases("220422-SF").await.len(),
        1,
        "the case was registered"
    );
    federated.restart().await;
    federated.clear_fault("220422-SF").await;
    let filed = until(&federated.gateway, &event, |d| {
        d["mediations"][0]["filing"] == "FILED"
    })
    .await;
    assert!(
        filed["departmentWrites"][0]["attempts"].as_i64() >= Some(2),
        "{filed:#}"
    );
    assert_eq!(entries(&filed, "FILED").len(), 1);
    assert_eq!(
        federated.filed_cases("220422-SF").await.len(),
        1,
        "filed once, not twice"
    );
}

#[tokio::test]
async fn a_letter_or_visit_reported_through_the_api_is_registered_as_a_petition() {
    let federated = Federated::spawn().await;
    let gateway = &federated.gateway;
    let grid = gateway.grid_of("220422").await;
    let reported = gateway
        .query(
            "mutation($g: String!) { reportEvent(input: { idempotencyKey: \"sd-visit\",
               title: \"反映小区供暖不达标\", description: \"来访反映小区冬季室温不足十六度\",
               category: PROPERTY_MANAGEMENT, channel: LETTER_VISIT, gridCode: $g }) {
               event { id } entries { detail } } }",
            json!({ "g": grid }),
        )
        .await;
    assert_eq!(
        reported["reportEvent"]["entries"][0]["detail"]["sentTo"],
        "220422-XF"
    );
    let event = reported["reportEvent"]["event"]["id"].clone();
    let query = "query($id: ID!) { event(id: $id) {
        petition { petitionNumber petitionForm status handlingUnit }
        departmentWrites { operation status departmentId } } }";
    let mut seen = Value::Null;
    for _ in 0..100 {
        seen = gateway.query(query, json!({ "id": event })).await["event"].clone();
        if seen["petition"]["petitionNumber"].is_string() {
            // Read again: the answer may have committed between this read's statements.
            seen = gateway.query(query, json!({ "id": event })).await["event"].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let petition = &seen["petition"];
    assert_eq!(
        petition["petitionNumber"], seen["departmentWrites"][0]["departmentId"],
        "{seen:#}"
    );
    assert_eq!(petition["petitionForm"], "来访");
    assert_eq!(petition["status"], "受理");
    assert_eq!(federated.filed_cases("220422-XF").await.len(), 1);
}

#[tokio::test]
async fn a_court_filing_sent_twice_with_one_key_is_filed_once() {
    // The simulator has built the court's database (MariaDB here).
    let _federated = Federated::spawn().await;
    let vars = crate::departments::database_vars()
        .into_iter()
        .fold(connectors::config::Vars::empty(), |vars, (name, value)| {
            vars.set(name, value)
        });
    let departments = connectors::config::Departments::load_dir(
        &crate::departments::shipped_departments(),
        None,
        &vars,
    )
    .unwrap_or_else(|errors| panic!("{errors}"));
    let config = departments.get("220422-FY").expect("the court").clone();
    let endpoint = config.endpoint.replace("mariadb://", "mysql://");
    let court = connectors::Department::new(config).expect("a connector");
    let key = uuid_like();
    let payload = json!({ "case": { "cause": "相邻关系纠纷", "reason": "调解不成" } });
    let operation = connectors::operations::OperationName::FileCase;
    let first = court.write(operation, &payload, &key).await.expect("filed");
    // The answer was lost; the gateway sends the same filing again.
    let again = court
        .write(operation, &payload, &key)
        .await
        .expect("answered");
    assert_eq!(first, again);
    assert!(
        first
            .case_number
            .as_deref()
            .is_some_and(|n| n.contains("吉0422民初"))
    );
    let pool = sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(1)
        .connect(&endpoint)
        .await
        .expect("the court's database");
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ajxx WHERE gateway_key = ?")
        .bind(&key)
        .fetch_one(&pool)
        .await
        .expect("a count");
    assert_eq!(rows, 1);
}

/// A key no earlier run used: the court's database outlives test runs.
fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("test-{}-{nanos}", std::process::id())
}
