//! The 12345 hotline over Open311, simulated: its open service requests become events
//! (channel, category and jurisdiction from the request), once however often they are
//! pulled; a status change of such an event reaches the hotline once; a hotline that is
//! down changes nothing and is reported, and the next round catches up.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use connectors::config::{Departments, Vars};
use connectors::open311::RequestStatus;
use connectors::{Department, Hotline};
use gateway::hotline::{HotlineSync, Pushed, RoundReport, SkipReason, SyncError};
use schema::enums::EventStatus;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::types::chrono::{DateTime, Utc};

use crate::departments::{
    Federated, Setup, edited_departments, mariadb_server, shipped_departments, simulator_url,
};
use crate::helpers::{database_url, postgres_server, seeded_database};

const HOTLINE: &str = "220400-12345";
/// The grid outside the city the simulated hotline puts one request on.
const OUTSIDE_ZONE: &str = "220281103001001";

static NEXT_SANDBOX: AtomicU32 = AtomicU32::new(0);

/// The shipped hotline config pointed at a sandbox of the simulator, syncing into a
/// fresh copy of the seeded database.
struct Fixture {
    sync: HotlineSync,
    /// The hotline's config, to build syncs that see it otherwise.
    config: connectors::config::DepartmentConfig,
    pool: PgPool,
    simulator: String,
    sandbox: String,
    http: reqwest::Client,
}

fn sync(config: connectors::config::DepartmentConfig, pool: &PgPool) -> HotlineSync {
    let department = Arc::new(Department::new(config).expect("the hotline's client builds"));
    let hotline = Arc::new(Hotline::new(department).expect("the hotline is an open311 system"));
    HotlineSync::new(hotline, schema::Store::new(pool.clone()))
}

impl Fixture {
    async fn new() -> Self {
        let simulator = simulator_url().await;
        let sandbox = format!(
            "hotline-{}-{}",
            std::process::id(),
            NEXT_SANDBOX.fetch_add(1, Ordering::Relaxed)
        );
        let vars = Vars::empty()
            .set("DEPARTMENTS_URL", format!("{simulator}/_t/{sandbox}"))
            .set("LOCAL_DEPARTMENT_DB_URL", postgres_server())
            .set("VERTICAL_DEPARTMENT_DB_URL", mariadb_server())
            .set("DEPARTMENT_DB_PREFIX", "gov_sim");
        let departments =
            Departments::load_dir(&shipped_departments(), Some(&schema::catalog()), &vars)
                .unwrap_or_else(|errors| panic!("{errors}"));
        let config = departments
            .get(HOTLINE)
            .cloned()
            .expect("the hotline's config ships with the departments");
        let database = seeded_database().await;
        let pool = PgPool::connect(&database_url(&database))
            .await
            .expect("connect test database");
        Self {
            sync: sync(config.clone(), &pool),
            config,
            pool,
            simulator,
            sandbox,
            http: reqwest::Client::new(),
        }
    }

    async fn round(&self) -> RoundReport {
        self.sync.round().await
    }

    /// A sync of the same hotline and database, configured to expect at most
    /// `max_results` requests to a search.
    fn capped(&self, max_results: usize) -> HotlineSync {
        let mut config = self.config.clone();
        if let Some(settings) = config.open311.as_mut() {
            settings.max_results = max_results;
        }
        sync(config, &self.pool)
    }

    /// What the hotline itself lists as open, asked directly.
    async fn open_requests(&self) -> Vec<Value> {
        self.http
            .get(format!(
                "{}/_t/{}/{HOTLINE}/requests.json?status=open",
                self.simulator, self.sandbox
            ))
            .bearer_auth(format!("dev-{HOTLINE}"))
            .send()
            .await
            .expect("the simulator answers")
            .json()
            .await
            .expect("a list of requests")
    }

    async fn request(&self, id: &str) -> Value {
        let list: Value = self
            .http
            .get(format!(
                "{}/_t/{}/{HOTLINE}/requests/{id}.json",
                self.simulator, self.sandbox
            ))
            .bearer_auth(format!("dev-{HOTLINE}"))
            .send()
            .await
            .expect("the simulator answers")
            .json()
            .await
            .expect("a list of one request");
        list[0].clone()
    }

    /// The status updates the hotline received from this test.
    async fn updates(&self) -> Vec<Value> {
        let updates: Value = self
            .http
            .get(format!(
                "{}/_sim/hotline/updates?sandbox={}",
                self.simulator, self.sandbox
            ))
            .send()
            .await
            .expect("the simulator answers")
            .json()
            .await
            .expect("updates are JSON");
        updates[HOTLINE].as_array().cloned().unwrap_or_default()
    }

    async fn fault(&self, fault: Value) {
        let response = self
            .http
            .put(format!(
                "{}/_sim/faults/{HOTLINE}?sandbox={}",
                self.simulator, self.sandbox
            ))
            .json(&fault)
            .send()
            .await
            .expect("the simulator answers");
        assert!(response.status().is_success(), "fault {fault} refused");
    }

    async fn clear_faults(&self) {
        self.http
            .delete(format!(
                "{}/_sim/faults?sandbox={}",
                self.simulator, self.sandbox
            ))
            .send()
            .await
            .expect("the simulator answers");
    }

    /// Every hotline event: request id → (event id, channel, category, jurisdiction,
    /// status, reported at, title).
    async fn events(&self) -> BTreeMap<String, HotlineEvent> {
        let rows: Vec<HotlineEvent> = sqlx::query_as(
            "SELECT h.service_request_id, e.id, e.channel, e.category, e.jurisdiction_code,
                    e.status, e.reported_at, e.title, h.pushed_status
             FROM hotline_requests h JOIN events e ON e.id = h.event_id
             WHERE h.system_code = $1 ORDER BY e.id",
        )
        .bind(HOTLINE)
        .fetch_all(&self.pool)
        .await
        .expect("read the hotline events");
        rows.into_iter()
            .map(|row| (row.service_request_id.clone(), row))
            .collect()
    }

    async fn set_status(&self, event_id: i64, status: &str) {
        sqlx::query("UPDATE events SET status = $2, updated_at = now() WHERE id = $1")
            .bind(event_id)
            .bind(status)
            .execute(&self.pool)
            .await
            .expect("change the event's status");
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct HotlineEvent {
    service_request_id: String,
    id: i64,
    channel: String,
    category: String,
    jurisdiction_code: String,
    status: String,
    reported_at: DateTime<Utc>,
    title: String,
    pushed_status: String,
}

#[tokio::test]
async fn open_hotline_requests_become_events_once() {
    let fixture = Fixture::new().await;
    let listed = fixture.open_requests().await;
    let report = fixture.round().await;
    assert!(report.is_ok(), "{report}");
    let pulled = report.pulled.as_ref().expect("a pull");
    assert_eq!(pulled.seen, listed.len(), "{report}");

    let events = fixture.events().await;
    assert_eq!(events.len(), pulled.created.len());
    assert!(events.len() >= 20, "{report}");
    let services = &fixture.sync.hotline().settings().services;
    let offered = fixture
        .sync
        .hotline()
        .services()
        .await
        .expect("the hotline lists its services");
    for code in services.keys() {
        assert!(
            offered.iter().any(|s| s.service_code == *code),
            "the config maps service {code}, which the hotline does not offer"
        );
    }
    for request in &listed {
        let id = request["service_request_id"].as_str().unwrap_or_default();
        let zone = request["zone_code"].as_str().unwrap_or_default();
        let skipped = pulled
            .skipped
            .iter()
            .find(|s| s.service_request_id == id)
            .map(|s| &s.reason);
        match events.get(id) {
            Some(event) => {
                assert_eq!(event.channel, "HOTLINE_12345");
                assert_eq!(
                    Some(&event.category),
                    services.get(request["service_code"].as_str().unwrap_or_default()),
                    "{request}"
                );
                assert_eq!(event.jurisdiction_code, zone);
                assert_eq!(event.status, "REPORTED");
                let requested = request["requested_datetime"].as_str().unwrap_or_default();
                assert_eq!(
                    Some(event.reported_at),
                    DateTime::parse_from_rfc3339(requested)
                        .ok()
                        .map(|d| d.with_timezone(&Utc))
                );
                let service = request["service_name"].as_str().unwrap_or_default();
                assert!(event.title.starts_with(service), "{}", event.title);
            }
            None => assert_eq!(
                skipped,
                Some(&SkipReason::UnknownZone(zone.to_owned())),
                "{id} made no event: {report}"
            ),
        }
    }
    assert!(
        pulled
            .skipped
            .iter()
            .any(|s| s.reason == SkipReason::UnknownZone(OUTSIDE_ZONE.to_owned())),
        "the request on a grid outside the city is refused: {report}"
    );

    // Each pulled event starts its timeline, written by the hotline, with one REPORTED entry.
    let reported: Vec<(String, String)> = sqlx::query_as(
        "SELECT t.kind, t.actor_role FROM timeline t JOIN hotline_requests h ON h.event_id = t.event_id
         WHERE h.system_code = $1 ORDER BY t.id",
    )
    .bind(HOTLINE)
    .fetch_all(&fixture.pool)
    .await
    .expect("read the timeline");
    assert_eq!(reported.len(), events.len());
    assert!(
        reported
            .iter()
            .all(|(kind, role)| kind == "REPORTED" && role == "HOTLINE")
    );

    let again = fixture.round().await;
    assert!(again.is_ok(), "{again}");
    assert_eq!(again.pulled.map(|p| p.created.len()), Some(0));

    // Even asked for everything again, no request makes a second event.
    sqlx::query("DELETE FROM sync_cursors")
        .execute(&fixture.pool)
        .await
        .expect("forget the cursor");
    let full = fixture.round().await;
    let pulled = full.pulled.as_ref().expect("a pull");
    assert!(full.is_ok(), "{full}");
    assert_eq!((pulled.created.len(), pulled.known), (0, events.len()));
    assert_eq!(fixture.events().await, events);
}

#[tokio::test]
async fn a_status_change_reaches_the_hotline_once() {
    let fixture = Fixture::new().await;
    let first = fixture.round().await;
    assert!(first.is_ok(), "{first}");
    assert!(first.pushed.is_empty(), "nothing changed yet: {first}");
    let events = fixture.events().await;
    let event = events.values().next().expect("an event from the hotline");
    let id = event.service_request_id.clone();

    fixture.set_status(event.id, "ACCEPTED").await;
    let report = fixture.round().await;
    assert!(report.is_ok(), "{report}");
    assert_eq!(
        report.pushed,
        vec![Pushed {
            service_request_id: id.clone(),
            event_id: event.id,
            status: EventStatus::Accepted,
            shown: RequestStatus::Open,
        }]
    );
    let updates = fixture.updates().await;
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(updates[0]["service_request_id"], id.as_str());
    assert_eq!(updates[0]["status"], "open");
    assert!(
        updates[0]["status_notes"]
            .as_str()
            .is_some_and(|notes| notes.contains("已受理")),
        "{updates:?}"
    );

    let quiet = fixture.round().await;
    assert!(quiet.is_ok() && quiet.pushed.is_empty(), "{quiet}");
    assert_eq!(fixture.updates().await.len(), 1, "pushed once only");

    fixture.set_status(event.id, "CLOSED").await;
    let closing = fixture.round().await;
    assert_eq!(
        closing.pushed.iter().map(|p| p.shown).collect::<Vec<_>>(),
        vec![RequestStatus::Closed],
        "{closing}"
    );
    assert_eq!(fixture.updates().await.len(), 2);
    assert_eq!(fixture.request(&id).await["status"], "closed");
    assert_eq!(
        fixture
            .events()
            .await
            .get(&id)
            .map(|e| e.pushed_status.as_str()),
        Some("CLOSED")
    );
    // Closed on the hotline, it is no longer listed as open, and makes nothing new.
    assert!(
        !fixture
            .open_requests()
            .await
            .iter()
            .any(|r| r["service_request_id"] == id.as_str())
    );
    assert_eq!(fixture.events().await.len(), events.len());
}

#[tokio::test]
async fn a_hotline_that_is_down_changes_nothing_and_is_reported() {
    let fixture = Fixture::new().await;
    fixture.fault(json!({ "down": true })).await;
    let down = fixture.round().await;
    assert!(down.pulled.is_none(), "{down}");
    assert!(
        matches!(down.errors.as_slice(), [SyncError::Pull(error)] if error.transient()),
        "{down}"
    );
    assert!(down.to_string().contains("503"), "{down}");
    assert!(fixture.events().await.is_empty());

    fixture.clear_faults().await;
    let up = fixture.round().await;
    assert!(up.is_ok(), "{up}");
    let events = fixture.events().await;
    assert!(!events.is_empty(), "the next round catches up: {up}");

    let event = events.values().next().expect("an event from the hotline");
    fixture.set_status(event.id, "DISPATCHED").await;
    let before = fixture.events().await;
    fixture.fault(json!({ "down": true })).await;
    let down = fixture.round().await;
    assert!(down.pushed.is_empty(), "{down}");
    assert!(
        down.errors
            .iter()
            .any(|e| matches!(e, SyncError::Push { service_request_id, .. } if *service_request_id == event.service_request_id)),
        "{down}"
    );
    assert_eq!(fixture.events().await, before, "events untouched");
    assert!(fixture.updates().await.is_empty());

    fixture.clear_faults().await;
    let up = fixture.round().await;
    assert!(up.is_ok(), "{up}");
    assert_eq!(up.pushed.len(), 1, "{up}");
    assert_eq!(fixture.updates().await.len(), 1);
}

#[tokio::test]
async fn serving_pulls_the_hotline_in_the_background() {
    let departments = edited_departments(&[("220400-12345.toml", &|text| {
        text.replace("poll_interval_s = 60", "poll_interval_s = 1")
    })]);
    let federated = Federated::spawn_with(Setup {
        departments,
        ..Setup::default()
    })
    .await;
    let mut database = federated.gateway.database().await;
    let started = Instant::now();
    loop {
        let events: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM hotline_requests h JOIN events e ON e.id = h.event_id
             WHERE e.channel = 'HOTLINE_12345'",
        )
        .fetch_one(&mut database)
        .await
        .expect("count hotline events");
        if events > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no hotline event after 20 s of serving"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(federated.requests_to(HOTLINE).await >= 1);
}

#[tokio::test]
async fn a_hotline_that_caps_its_answers_loses_no_request() {
    let fixture = Fixture::new().await;
    let listed = fixture.open_requests().await;
    assert!(listed.len() >= 20, "{}", listed.len());
    // The hotline answers at most three requests to any search, without saying so; the
    // config says it does.
    fixture.fault(json!({ "max_results": 3 })).await;
    assert_eq!(fixture.open_requests().await.len(), 3, "the cap bites");
    let sync = fixture.capped(3);

    let report = sync.round().await;
    assert!(report.is_ok(), "{report}");
    let pulled = report.pulled.as_ref().expect("a pull");
    assert!(pulled.searches > listed.len() / 3, "{report}");
    let events = fixture.events().await;
    let skipped: Vec<&str> = pulled
        .skipped
        .iter()
        .map(|s| s.service_request_id.as_str())
        .collect();
    for request in &listed {
        let id = request["service_request_id"].as_str().unwrap_or_default();
        assert!(
            events.contains_key(id) || skipped.contains(&id),
            "{id} was lost: {report}"
        );
    }
    assert_eq!(events.len() + skipped.len(), listed.len(), "{report}");

    // Answers that never come whole however narrow the window (here every search of a
    // request is "full") stop the pull after a bounded number of searches: reported, and
    // the cursor stays where it was.
    fixture.clear_faults().await;
    let cursor = || async {
        sqlx::query_scalar::<_, DateTime<Utc>>("SELECT cursor::timestamptz FROM sync_cursors")
            .fetch_one(&fixture.pool)
            .await
            .expect("the cursor")
    };
    let before = cursor().await;
    sqlx::query(
        "UPDATE sync_cursors SET cursor = to_char((cursor::timestamptz - interval '30 days') \
         AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
    )
    .execute(&fixture.pool)
    .await
    .expect("rewind the cursor");
    let rewound = cursor().await;
    assert!(rewound < before);
    let report = fixture.capped(1).round().await;
    assert!(
        report
            .errors
            .iter()
            .any(|e| matches!(e, SyncError::Unpageable { .. })),
        "{report}"
    );
    assert_eq!(cursor().await, rewound);
}
