//! 考核 figures, rankings, exports and the BI role, against a small history written by
//! hand in March 2014 (before the seeded years, so that its deadlines have passed), whose every figure was worked out on
//! paper below.
//!
//! E1 grid A (township TA), neighbour dispute, grid terminal: accepted, resolved at the
//!    window 10 h after report, revisited 5, closed. S1 (SF) reported in on time, done.
//! E2 grid A, property management, hotline: accepted, overdue, resolved in mediation 30 h
//!    after report, reworked once, revisited 4, closed. S2 (SF) reported in late, one
//!    extension; S3 (GA) declined.
//! E3 grid B (township TB), labour dispute, window: accepted, resolved in court 100 h
//!    after report. S4 (GA) never reported in, overdue.
//! E4 grid B, safety hazard, grid terminal: rejected.
//! E5 grid C (another county, township TC), city appearance, online: accepted, overdue,
//!    open. S5 (CG of that county) not yet due.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

use crate::access::{gateway_with, token};
use crate::helpers::{TestGateway, database_url, first_error_code};

const FROM: &str = "2014-03-01T00:00:00+08:00";
const UNTIL: &str = "2014-04-01T00:00:00+08:00";

struct History {
    grid_a: String,
    township_a: String,
    township_b: String,
    township_c: String,
    events: Vec<i64>,
}

async fn grid(db: &mut PgConnection, county: &str, not_township: Option<&str>) -> String {
    sqlx::query_scalar(
        "SELECT min(code) FROM jurisdictions WHERE level = 'GRID' AND code LIKE $1 || '%' \
         AND left(code, 9) <> COALESCE($2, '')",
    )
    .bind(county)
    .bind(not_township)
    .fetch_one(db)
    .await
    .expect("a grid")
}

/// One event: (grid, category, channel, status, tier, reported, accepted, resolved,
/// closed, overdue, satisfaction, reworks).
#[allow(clippy::type_complexity)]
async fn event(
    db: &mut PgConnection,
    row: (
        &str,
        &str,
        &str,
        &str,
        &str,
        &str,
        Option<&str>,
        Option<&str>,
        Option<&str>,
        Option<&str>,
        Option<i16>,
        i32,
    ),
) -> i64 {
    let (
        grid,
        category,
        channel,
        status,
        tier,
        reported,
        accepted,
        resolved,
        closed,
        overdue,
        satisfaction,
        reworks,
    ) = row;
    let resolution_tier = resolved.map(|_| tier);
    sqlx::query_scalar(
        "INSERT INTO events (title, description, category, channel, urgency, status, \
           jurisdiction_code, tier, resolution_tier, reported_at, updated_at, due_at, \
           accepted_at, resolved_at, closed_at, overdue_at, satisfaction, reworks) \
         VALUES ('考核样例', '手工历史', $1, $2, 'NORMAL', $3, $4, $5, $6, $7::timestamptz, \
           $7::timestamptz, $7::timestamptz + interval '7 days', $8::timestamptz, \
           $9::timestamptz, $10::timestamptz, $11::timestamptz, $12, $13) RETURNING id",
    )
    .bind(category)
    .bind(channel)
    .bind(status)
    .bind(grid)
    .bind(tier)
    .bind(resolution_tier)
    .bind(reported)
    .bind(accepted)
    .bind(resolved)
    .bind(closed)
    .bind(overdue)
    .bind(satisfaction)
    .bind(reworks)
    .fetch_one(db)
    .await
    .expect("the event is written")
}

/// One summons: (event, grid, department, status, report-in due, reported in, overdue
/// marks, extensions).
#[allow(clippy::too_many_arguments)]
async fn summons(
    db: &mut PgConnection,
    event: i64,
    grid: &str,
    department: &str,
    status: &str,
    report_in_due: &str,
    reported_in: Option<&str>,
    overdue_marks: i32,
    extensions: i32,
) {
    sqlx::query(
        "WITH w AS (INSERT INTO whistles (event_id, jurisdiction_code, blown_by, blown_at) \
                    VALUES ($1, left($2, 9), '综治中心', $4::timestamptz - interval '1 hour') RETURNING id) \
         INSERT INTO summonses (whistle_id, event_id, department_code, status, report_in_due_at, \
           handling_due_at, reported_in_at, event_jurisdiction_code, overdue_marks, extensions) \
         SELECT w.id, $1, $3, $5, $4::timestamptz, $4::timestamptz + interval '5 days', \
                $6::timestamptz, $2, $7, $8 FROM w",
    )
    .bind(event)
    .bind(grid)
    .bind(department)
    .bind(report_in_due)
    .bind(status)
    .bind(reported_in)
    .bind(overdue_marks)
    .bind(extensions)
    .execute(db)
    .await
    .expect("the summons is written");
}

async fn history(gateway: &TestGateway) -> History {
    let mut db = gateway.database().await;
    let a = grid(&mut db, "220422", None).await;
    let b = grid(&mut db, "220422", Some(&a[..9])).await;
    let c = grid(&mut db, "220402", None).await;
    let e1 = event(
        &mut db,
        (
            &a,
            "NEIGHBOR_DISPUTE",
            "GRID_TERMINAL",
            "CLOSED",
            "WINDOW",
            "2014-03-02T09:00:00+08:00",
            Some("2014-03-02T09:30:00+08:00"),
            Some("2014-03-02T19:00:00+08:00"),
            Some("2014-03-03T10:00:00+08:00"),
            None,
            Some(5),
            0,
        ),
    )
    .await;
    let e2 = event(
        &mut db,
        (
            &a,
            "PROPERTY_MANAGEMENT",
            "HOTLINE_12345",
            "CLOSED",
            "MEDIATION",
            "2014-03-02T10:00:00+08:00",
            Some("2014-03-02T10:10:00+08:00"),
            Some("2014-03-03T16:00:00+08:00"),
            Some("2014-03-05T10:00:00+08:00"),
            Some("2014-03-03T10:00:00+08:00"),
            Some(4),
            1,
        ),
    )
    .await;
    let e3 = event(
        &mut db,
        (
            &b,
            "LABOR_DISPUTE",
            "WINDOW",
            "RESOLVED",
            "LITIGATION",
            "2014-03-09T08:00:00+08:00",
            Some("2014-03-09T08:20:00+08:00"),
            Some("2014-03-13T12:00:00+08:00"),
            None,
            None,
            None,
            0,
        ),
    )
    .await;
    let e4 = event(
        &mut db,
        (
            &b,
            "SAFETY_HAZARD",
            "GRID_TERMINAL",
            "REJECTED",
            "WINDOW",
            "2014-03-10T08:00:00+08:00",
            None,
            None,
            None,
            None,
            None,
            0,
        ),
    )
    .await;
    let e5 = event(
        &mut db,
        (
            &c,
            "CITY_APPEARANCE",
            "ONLINE",
            "IN_PROGRESS",
            "WINDOW",
            "2014-03-20T08:00:00+08:00",
            Some("2014-03-20T09:00:00+08:00"),
            None,
            None,
            Some("2014-03-27T08:05:00+08:00"),
            None,
            0,
        ),
    )
    .await;
    let s = "2014-03-03T09:00:00+08:00";
    summons(
        &mut db,
        e1,
        &a,
        "220422-SF",
        "DONE",
        s,
        Some("2014-03-02T11:00:00+08:00"),
        0,
        0,
    )
    .await;
    let due = "2014-03-02T12:00:00+08:00";
    summons(
        &mut db,
        e2,
        &a,
        "220422-SF",
        "DONE",
        due,
        Some("2014-03-02T15:00:00+08:00"),
        1,
        1,
    )
    .await;
    summons(&mut db, e2, &a, "220422-GA", "DECLINED", due, None, 0, 0).await;
    summons(
        &mut db,
        e3,
        &b,
        "220422-GA",
        "OVERDUE",
        "2014-03-10T08:00:00+08:00",
        None,
        1,
        0,
    )
    .await;
    summons(
        &mut db,
        e5,
        &c,
        "220402-CG",
        "SUMMONED",
        "2099-01-01T00:00:00+08:00",
        None,
        0,
        0,
    )
    .await;
    History {
        township_a: a[..9].to_owned(),
        township_b: b[..9].to_owned(),
        township_c: c[..9].to_owned(),
        grid_a: a,
        events: vec![e1, e2, e3, e4, e5],
    }
}

const FIGURES: &str = "events accepted resolved closed overdue revisited satisfied reworked \
    disputesResolved resolvedBeforeLitigation summonses summonsesDue reportedIn \
    reportedInOnTime declined overdueSummonses extensions responseRate onTimeReportInRate \
    resolutionRate satisfactionRate reworkRate overdueRate summonsOverdueRate \
    shareBeforeLitigation meanHandlingHours p90HandlingHours";

async fn stats(gateway: &TestGateway, filter: Value, group_by: &[&str]) -> Vec<Value> {
    let mut filter = filter;
    filter["reportedFrom"] = json!(FROM);
    filter["reportedUntil"] = json!(UNTIL);
    let query = format!(
        "query($filter: EventFilter, $groupBy: [StatsDimension!]) {{ eventStats(filter: $filter, groupBy: $groupBy) {{ \
           county {{ code name }} township {{ code name }} community {{ code }} grid {{ code }} department {{ code name }} \
           category channel tier day week month figures {{ {FIGURES} }} }} }}"
    );
    let data = gateway
        .query(&query, json!({ "filter": filter, "groupBy": group_by }))
        .await;
    data["eventStats"].as_array().cloned().unwrap_or_default()
}

/// Rates rounded to four places, so that hand-written fractions compare.
fn rounded(figures: &Value) -> Value {
    let mut figures = figures.clone();
    if let Some(map) = figures.as_object_mut() {
        for value in map.values_mut() {
            if let Some(number) = value.as_f64()
                && value.is_f64()
            {
                *value = json!((number * 10_000.0).round() / 10_000.0);
            }
        }
    }
    figures
}

/// The counts most tables compare: events, accepted, resolved, closed, overdue,
/// summonses, summonses due, reported in on time.
fn counts(group: &Value) -> [i64; 8] {
    let f = &group["figures"];
    [
        "events",
        "accepted",
        "resolved",
        "closed",
        "overdue",
        "summonses",
        "summonsesDue",
        "reportedInOnTime",
    ]
    .map(|name| f[name].as_i64().unwrap_or(-1))
}

#[tokio::test]
async fn every_figure_of_a_hand_made_history() {
    let gateway = TestGateway::spawn().await;
    let _history = history(&gateway).await;

    let total = stats(&gateway, json!({}), &[]).await;
    assert_eq!(total.len(), 1, "{total:#?}");
    assert_eq!(
        rounded(&total[0]["figures"]),
        json!({
            "events": 5, "accepted": 4, "resolved": 3, "closed": 2, "overdue": 2,
            "revisited": 2, "satisfied": 2, "reworked": 1, "disputesResolved": 3,
            "resolvedBeforeLitigation": 2, "summonses": 5, "summonsesDue": 3,
            "reportedIn": 2, "reportedInOnTime": 1, "declined": 1, "overdueSummonses": 2,
            "extensions": 1,
            "responseRate": 0.3333, "onTimeReportInRate": 0.5, "resolutionRate": 0.75,
            "satisfactionRate": 1.0, "reworkRate": 0.3333, "overdueRate": 0.5,
            "summonsOverdueRate": 0.4, "shareBeforeLitigation": 0.6667,
            "meanHandlingHours": 46.6667, "p90HandlingHours": 86.0
        })
    );
    assert!(total[0]["township"].is_null() && total[0]["day"].is_null());
}

#[tokio::test]
async fn every_grouping_of_a_hand_made_history() {
    let gateway = TestGateway::spawn().await;
    let h = history(&gateway).await;

    let townships = stats(&gateway, json!({}), &["TOWNSHIP"]).await;
    let keys: Vec<&str> = townships
        .iter()
        .map(|g| g["township"]["code"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(keys, [&h.township_c, &h.township_a, &h.township_b]);
    assert!(townships.iter().all(|g| {
        g["township"]["name"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    }));
    assert_eq!(counts(&townships[0]), [1, 1, 0, 0, 1, 1, 0, 0]);
    assert_eq!(counts(&townships[1]), [2, 2, 2, 2, 1, 3, 2, 1]);
    assert_eq!(counts(&townships[2]), [2, 1, 1, 0, 0, 1, 1, 0]);
    assert_eq!(
        rounded(&townships[1]["figures"]),
        json!({
            "events": 2, "accepted": 2, "resolved": 2, "closed": 2, "overdue": 1,
            "revisited": 2, "satisfied": 2, "reworked": 1, "disputesResolved": 2,
            "resolvedBeforeLitigation": 2, "summonses": 3, "summonsesDue": 2,
            "reportedIn": 2, "reportedInOnTime": 1, "declined": 1, "overdueSummonses": 1,
            "extensions": 1,
            "responseRate": 0.5, "onTimeReportInRate": 0.5, "resolutionRate": 1.0,
            "satisfactionRate": 1.0, "reworkRate": 0.5, "overdueRate": 0.5,
            "summonsOverdueRate": 0.3333, "shareBeforeLitigation": 1.0,
            "meanHandlingHours": 20.0, "p90HandlingHours": 28.0
        })
    );
    assert_eq!(
        rounded(&townships[2]["figures"]),
        json!({
            "events": 2, "accepted": 1, "resolved": 1, "closed": 0, "overdue": 0,
            "revisited": 0, "satisfied": 0, "reworked": 0, "disputesResolved": 1,
            "resolvedBeforeLitigation": 0, "summonses": 1, "summonsesDue": 1,
            "reportedIn": 0, "reportedInOnTime": 0, "declined": 0, "overdueSummonses": 1,
            "extensions": 0,
            "responseRate": 0.0, "onTimeReportInRate": null, "resolutionRate": 1.0,
            "satisfactionRate": null, "reworkRate": 0.0, "overdueRate": 0.0,
            "summonsOverdueRate": 1.0, "shareBeforeLitigation": 0.0,
            "meanHandlingHours": 100.0, "p90HandlingHours": 100.0
        })
    );

    let counties = stats(&gateway, json!({}), &["COUNTY", "MONTH"]).await;
    let rows: Vec<(String, String, i64)> = counties
        .iter()
        .map(|g| {
            (
                g["county"]["code"].as_str().unwrap_or_default().to_owned(),
                g["month"].as_str().unwrap_or_default().to_owned(),
                g["figures"]["events"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("220402".to_owned(), "2014-03-01".to_owned(), 1),
            ("220422".to_owned(), "2014-03-01".to_owned(), 4)
        ]
    );

    let communities = stats(
        &gateway,
        json!({ "jurisdiction": h.township_a }),
        &["COMMUNITY"],
    )
    .await;
    assert_eq!(communities.len(), 1);
    assert_eq!(communities[0]["community"]["code"], json!(h.grid_a[..12]));
    assert_eq!(counts(&communities[0]), [2, 2, 2, 2, 1, 3, 2, 1]);

    let grids = stats(&gateway, json!({ "jurisdiction": h.township_a }), &["GRID"]).await;
    assert_eq!(grids.len(), 1);
    assert_eq!(grids[0]["grid"]["code"], json!(h.grid_a));
    assert_eq!(counts(&grids[0]), [2, 2, 2, 2, 1, 3, 2, 1]);

    // An event counts under each department it summoned; summonses are the department's.
    let departments = stats(&gateway, json!({}), &["DEPARTMENT"]).await;
    let table: Vec<(String, [i64; 8], i64, i64)> = departments
        .iter()
        .map(|g| {
            (
                g["department"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                counts(g),
                g["figures"]["declined"].as_i64().unwrap_or(-1),
                g["figures"]["extensions"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        table,
        [
            ("220402-CG".to_owned(), [1, 1, 0, 0, 1, 1, 0, 0], 0, 0),
            ("220422-GA".to_owned(), [2, 2, 2, 1, 1, 2, 1, 0], 1, 0),
            ("220422-SF".to_owned(), [2, 2, 2, 2, 1, 2, 2, 1], 0, 1),
        ]
    );

    let categories = stats(&gateway, json!({}), &["CATEGORY"]).await;
    let table: Vec<(&str, [i64; 8])> = categories
        .iter()
        .map(|g| (g["category"].as_str().unwrap_or_default(), counts(g)))
        .collect();
    assert_eq!(
        table,
        [
            ("CITY_APPEARANCE", [1, 1, 0, 0, 1, 1, 0, 0]),
            ("LABOR_DISPUTE", [1, 1, 1, 0, 0, 1, 1, 0]),
            ("NEIGHBOR_DISPUTE", [1, 1, 1, 1, 0, 1, 1, 1]),
            ("PROPERTY_MANAGEMENT", [1, 1, 1, 1, 1, 2, 1, 0]),
            ("SAFETY_HAZARD", [1, 0, 0, 0, 0, 0, 0, 0]),
        ]
    );

    let channels = stats(&gateway, json!({}), &["CHANNEL"]).await;
    let table: Vec<(&str, i64)> = channels
        .iter()
        .map(|g| {
            (
                g["channel"].as_str().unwrap_or_default(),
                g["figures"]["events"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        table,
        [
            ("GRID_TERMINAL", 2),
            ("HOTLINE_12345", 1),
            ("ONLINE", 1),
            ("WINDOW", 1)
        ]
    );

    let tiers = stats(&gateway, json!({}), &["TIER"]).await;
    let table: Vec<(&str, i64, Option<f64>)> = tiers
        .iter()
        .map(|g| {
            (
                g["tier"].as_str().unwrap_or_default(),
                g["figures"]["events"].as_i64().unwrap_or(-1),
                g["figures"]["shareBeforeLitigation"].as_f64(),
            )
        })
        .collect();
    assert_eq!(
        table,
        [
            ("LITIGATION", 1, Some(0.0)),
            ("MEDIATION", 1, Some(1.0)),
            ("WINDOW", 3, Some(1.0))
        ]
    );

    for (dimension, field, expected) in [
        (
            "DAY",
            "day",
            vec![
                ("2014-03-02", 2),
                ("2014-03-09", 1),
                ("2014-03-10", 1),
                ("2014-03-20", 1),
            ],
        ),
        (
            "WEEK",
            "week",
            vec![
                ("2014-02-24", 2),
                ("2014-03-03", 1),
                ("2014-03-10", 1),
                ("2014-03-17", 1),
            ],
        ),
        ("MONTH", "month", vec![("2014-03-01", 5)]),
    ] {
        let groups = stats(&gateway, json!({}), &[dimension]).await;
        let table: Vec<(&str, i64)> = groups
            .iter()
            .map(|g| {
                (
                    g[field].as_str().unwrap_or_default(),
                    g["figures"]["events"].as_i64().unwrap_or(-1),
                )
            })
            .collect();
        assert_eq!(table, expected, "{dimension}");
    }
}

#[tokio::test]
async fn filters_narrow_figures_and_lists_alike() {
    let gateway = TestGateway::spawn().await;
    let h = history(&gateway).await;
    for (filter, expected) in [
        (json!({ "tiers": ["MEDIATION"] }), 1),
        (json!({ "overdue": true }), 2),
        (json!({ "overdue": false }), 3),
        (json!({ "satisfactionAtLeast": 5 }), 1),
        (json!({ "satisfactionAtMost": 4 }), 1),
        (json!({ "handlingLevel": h.township_a }), 2),
        (
            json!({ "resolvedFrom": "2014-03-03T00:00:00+08:00",
                    "resolvedUntil": "2014-03-31T00:00:00+08:00" }),
            2,
        ),
        (json!({ "closedUntil": "2014-03-04T00:00:00+08:00" }), 1),
    ] {
        let total = stats(&gateway, filter.clone(), &[]).await;
        assert_eq!(
            total[0]["figures"]["events"],
            json!(expected),
            "eventStats {filter}"
        );
        let mut list_filter = filter.clone();
        list_filter["reportedFrom"] = json!(FROM);
        list_filter["reportedUntil"] = json!(UNTIL);
        let data = gateway
            .query(
                "query($f: EventFilter) { events(filter: $f, first: 10) { totalCount nodes { reworks acceptedAt } } }",
                json!({ "f": list_filter }),
            )
            .await;
        assert_eq!(
            data["events"]["totalCount"],
            json!(expected),
            "events {filter}"
        );
    }
    let (_, body) = gateway
        .post(
            "{ eventStats(filter: { satisfactionAtLeast: 6 }) { figures { events } } }",
            json!({}),
        )
        .await;
    assert_eq!(first_error_code(&body), "BAD_USER_INPUT", "{body:#}");
    let (_, body) = gateway
        .post(
            "{ eventStats(groupBy: [DAY, DAY]) { figures { events } } }",
            json!({}),
        )
        .await;
    assert_eq!(first_error_code(&body), "BAD_USER_INPUT", "{body:#}");
    assert_eq!(h.events.len(), 5);
}

fn score(value: &Value) -> Option<f64> {
    value["score"].as_f64()
}

#[tokio::test]
async fn rankings_score_and_order_every_unit_in_scope() {
    let gateway = gateway_with(|_| {}).await;
    let h = history(&gateway).await;
    let period = json!({ "from": FROM, "until": UNTIL });
    let county = token("SUPERVISOR", "220422", None);
    let body = crate::access::call(
        &gateway,
        &county,
        None,
        "query($p: Period!) { jurisdictionRanking(level: TOWNSHIP, period: $p) { rank score unit { code name } figures { events } } }",
        json!({ "p": period }),
    )
    .await;
    let ranking = body["data"]["jurisdictionRanking"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // Every township of the county, and no other county's.
    assert!(ranking.len() > 2, "{body:#}");
    assert!(ranking.iter().all(|u| {
        u["unit"]["code"]
            .as_str()
            .is_some_and(|c| c.starts_with("220422"))
    }));
    assert_eq!(ranking[0]["unit"]["code"], json!(h.township_a));
    assert_eq!(
        (ranking[0]["rank"].clone(), score(&ranking[0])),
        (json!(1), Some(75.0))
    );
    assert_eq!(ranking[1]["unit"]["code"], json!(h.township_b));
    assert_eq!(
        (ranking[1]["rank"].clone(), score(&ranking[1])),
        (json!(2), Some(66.67))
    );
    assert!(ranking[2..].iter().all(|u| u["rank"] == json!(3)
        && u["score"].is_null()
        && u["figures"]["events"] == json!(0)));

    let body = crate::access::call(
        &gateway,
        &county,
        None,
        "query($p: Period!) { departmentRanking(period: $p) { rank score unit { code } figures { summonses } } }",
        json!({ "p": period }),
    )
    .await;
    let ranking = body["data"]["departmentRanking"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(ranking.len(), 24, "the county's departments: {body:#}");
    let top: Vec<(Value, Value, Option<f64>)> = ranking[..2]
        .iter()
        .map(|u| (u["unit"]["code"].clone(), u["rank"].clone(), score(u)))
        .collect();
    assert_eq!(
        top,
        [
            (json!("220422-SF"), json!(1), Some(75.0)),
            (json!("220422-GA"), json!(2), Some(62.5)),
        ]
    );

    // Outside one's jurisdiction: refused, not empty.
    let body = crate::access::call(
        &gateway,
        &county,
        None,
        "query($p: Period!) { departmentRanking(period: $p, county: \"220402\") { rank } }",
        json!({ "p": period }),
    )
    .await;
    assert_eq!(first_error_code(&body), "FORBIDDEN", "{body:#}");
    // Another county's figures are its own.
    let other = token("ANALYST", "220402", None);
    let body = crate::access::call(
        &gateway,
        &other,
        None,
        "query($f: EventFilter) { eventStats(filter: $f) { figures { events summonses } } }",
        json!({ "f": { "reportedFrom": FROM, "reportedUntil": UNTIL } }),
    )
    .await;
    assert_eq!(
        body["data"]["eventStats"][0]["figures"],
        json!({ "events": 1, "summonses": 1 }),
        "{body:#}"
    );
}

async fn export(gateway: &TestGateway, token: &str, path: &str) -> (StatusCode, String) {
    let response = gateway
        .client
        .get(gateway.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("the gateway answers");
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

fn parse_csv(text: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .collect::<Result<_, _>>()
        .expect("the export is CSV")
}

#[tokio::test]
async fn exports_parse_and_match_the_graphql_rows() {
    let gateway = gateway_with(|_| {}).await;
    let h = history(&gateway).await;
    let county = token("ANALYST", "220422", None);
    let range = format!(
        "reportedFrom={}&reportedUntil={}",
        FROM.replace('+', "%2B"),
        UNTIL.replace('+', "%2B")
    );

    let (status, text) = export(&gateway, &county, &format!("/export/events.csv?{range}")).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let header = csv::Reader::from_reader(text.as_bytes())
        .headers()
        .cloned()
        .expect("a header");
    let records = parse_csv(&text);
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    let ids: Vec<i64> = records
        .iter()
        .map(|r| r[column("id")].parse().unwrap_or_default())
        .collect();
    // The county's four, in id order, as GraphQL lists them.
    assert_eq!(ids, h.events[..4]);
    let body = crate::access::call(
        &gateway,
        &county,
        None,
        "query($f: EventFilter) { events(filter: $f, first: 10) { nodes { id status tier satisfaction } } }",
        json!({ "f": { "reportedFrom": FROM, "reportedUntil": UNTIL } }),
    )
    .await;
    let nodes = body["data"]["events"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(nodes.len(), records.len(), "{body:#}");
    for (node, record) in nodes.iter().zip(&records) {
        assert_eq!(node["status"].as_str(), Some(&record[column("status")]));
        assert_eq!(node["tier"].as_str(), Some(&record[column("tier")]));
        assert_eq!(
            node["satisfaction"]
                .as_i64()
                .map(|s| s.to_string())
                .unwrap_or_default(),
            record[column("satisfaction")]
        );
    }
    assert_eq!(&records[0][column("title")], "考核样例");

    // Figures: the same rows as eventStats.
    let (status, text) = export(
        &gateway,
        &county,
        &format!("/export/figures.csv?{range}&groupBy=TOWNSHIP&bom=true"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.starts_with('\u{FEFF}'), "a byte order mark for Excel");
    let text = text.trim_start_matches('\u{FEFF}');
    let header = csv::Reader::from_reader(text.as_bytes())
        .headers()
        .cloned()
        .expect("a header");
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    let records = parse_csv(text);
    let table: Vec<(String, String, String)> = records
        .iter()
        .map(|r| {
            (
                r[column("township")].to_owned(),
                r[column("events")].to_owned(),
                r[column("response_rate")].to_owned(),
            )
        })
        .collect();
    assert_eq!(
        table,
        [
            (h.township_a.clone(), "2".to_owned(), "0.5".to_owned()),
            (h.township_b.clone(), "2".to_owned(), "0.0".to_owned()),
        ],
        "township, events, response rate"
    );

    // NDJSON: one object per line.
    let (status, text) = export(
        &gateway,
        &county,
        &format!("/export/summonses.ndjson?{range}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines
            .iter()
            .map(|l| (
                l["department_code"].clone(),
                l["reported_in_on_time"].clone()
            ))
            .collect::<Vec<_>>(),
        [
            (json!("220422-SF"), json!(true)),
            (json!("220422-SF"), json!(false)),
            (json!("220422-GA"), json!(false)),
            (json!("220422-GA"), json!(false)),
        ]
    );

    // Bad requests are told what is wrong; no token, no rows.
    let (status, text) = export(&gateway, &county, "/export/events.csv?categories=NOPE").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("NOPE"), "{text}");
    let (status, _) = export(&gateway, &county, "/export/persons.csv").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let response = gateway
        .client
        .get(gateway.url("/export/events.csv"))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_bi_role_reads_only_its_county_and_cannot_write() {
    let gateway = TestGateway::spawn().await;
    let h = history(&gateway).await;
    let role = format!("bi_test_{}_{}", std::process::id(), h.events[0]);
    let mut db = gateway.database().await;
    sqlx::query(&format!("CREATE ROLE {role} LOGIN IN ROLE bi_reader"))
        .execute(&mut db)
        .await
        .expect("a BI login");
    sqlx::query("INSERT INTO bi.scopes (role_name, jurisdiction_code) VALUES ($1, '220422')")
        .bind(&role)
        .execute(&mut db)
        .await
        .expect("its scope");

    let url = database_url(&gateway.database).replace("postgres@", &format!("{role}@"));
    let mut bi = PgConnection::connect(&url)
        .await
        .expect("the BI login connects");
    let count = |sql: &'static str| sqlx::query_scalar::<sqlx::Postgres, i64>(sql);
    let events: i64 = count("SELECT count(*) FROM bi.events WHERE reported_at >= '2014-03-01T00:00:00+08:00' AND reported_at < '2014-04-01T00:00:00+08:00'")
        .fetch_one(&mut bi)
        .await
        .expect("bi.events reads");
    assert_eq!(events, 4, "the county's own");
    let outside: i64 = count("SELECT count(*) FROM bi.events WHERE county_code <> '220422'")
        .fetch_one(&mut bi)
        .await
        .expect("bi.events reads");
    assert_eq!(outside, 0);
    let seen: i64 = count("SELECT count(*) FROM bi.events")
        .fetch_one(&mut bi)
        .await
        .expect("bi.events reads");
    let total: i64 = count("SELECT count(*) FROM events WHERE jurisdiction_code LIKE '220422%'")
        .fetch_one(&mut db)
        .await
        .expect("events read");
    assert_eq!(seen, total);
    let summonses: i64 = count("SELECT count(*) FROM bi.summonses s JOIN bi.events e ON e.id = s.event_id WHERE e.reported_at >= '2014-03-01T00:00:00+08:00' AND e.reported_at < '2014-04-01T00:00:00+08:00'")
        .fetch_one(&mut bi)
        .await
        .expect("bi.summonses reads");
    assert_eq!(summonses, 4);
    let figures: i64 = count("SELECT sum(events)::bigint FROM bi.figures_daily WHERE day >= '2014-03-01' AND day < '2014-04-01'")
        .fetch_one(&mut bi)
        .await
        .expect("bi.figures_daily reads");
    assert_eq!(figures, 4);

    for statement in [
        "INSERT INTO bi.scopes (role_name, jurisdiction_code) VALUES ('x', '220402')",
        "UPDATE events SET status = 'CLOSED'",
        "DELETE FROM summonses",
        "SELECT description FROM events LIMIT 1",
        "SELECT * FROM persons LIMIT 1",
        "SELECT * FROM bi.scopes",
    ] {
        let error = sqlx::query(statement)
            .execute(&mut bi)
            .await
            .err()
            .and_then(|e| {
                e.as_database_error()
                    .and_then(|d| d.code().map(|c| c.into_owned()))
            });
        assert_eq!(
            error.as_deref(),
            Some("42501"),
            "{statement}: permission denied"
        );
    }
    bi.close().await.ok();
    // The gateway's own reads are not narrowed by the policies.
    let all: i64 = count("SELECT count(*) FROM events WHERE reported_at >= '2014-03-01T00:00:00+08:00' AND reported_at < '2014-04-01T00:00:00+08:00'")
        .fetch_one(&mut db)
        .await
        .expect("events read");
    assert_eq!(all, 5);
    sqlx::query(&format!("DROP ROLE {role}"))
        .execute(&mut db)
        .await
        .expect("the role is dropped");
}

#[tokio::test]
async fn exports_beyond_the_limit_are_refused_until_one_ends() {
    let gateway = gateway_with(|config| config.limits.max_exports = 1).await;
    let h = history(&gateway).await;
    // A timeline far larger than the socket buffers: an export that is not read stays
    // open.
    sqlx::query(
        "INSERT INTO timeline (event_id, kind, actor, actor_role, jurisdiction_code, at) \
         SELECT $1, 'URGED', '督办', 'SUPERVISOR', $2, now() FROM generate_series(1, 150000)",
    )
    .bind(h.events[0])
    .bind(&h.grid_a)
    .execute(&mut gateway.database().await)
    .await
    .expect("a long timeline");
    let admin = token("ADMIN", "220400", None);
    let get = |path: &'static str| {
        gateway
            .client
            .get(gateway.url(path))
            .bearer_auth(&admin)
            .send()
    };
    let first = get("/export/timeline.ndjson")
        .await
        .expect("the export starts");
    assert_eq!(first.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let second = get("/export/events.csv").await.expect("an answer");
    assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(second.headers().contains_key("retry-after"));
    let text = second.text().await.unwrap_or_default();
    assert!(text.contains("limits.max_exports"), "{text}");

    // The reader goes away: its export ends, and the next one runs.
    drop(first);
    let mut status = StatusCode::TOO_MANY_REQUESTS;
    for _ in 0..50 {
        status = get("/export/events.csv").await.expect("an answer").status();
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, StatusCode::OK);
}
