//! Sync from departments: the population register's change feed (220402-GA) pulled into
//! the index — a birth and a new phone number arriving, a feed resumed after a failure
//! and a restart without loss or repeat, and a conflict with a grid worker's value
//! settled by the documented rule.

use serde_json::{Value, json};
use sqlx::PgConnection;

use crate::departments::{Federated, Setup, edited_departments, global_id};

const GA: &str = "220402-GA";

fn id_number(birth: &str, sequence: u32) -> String {
    let first17 = format!("220402{birth}{sequence:03}");
    let check = schema::identifiers::id_number_check(&first17).expect("17 digits");
    format!("{first17}{check}")
}

/// A person of 龙山区 the register holds: (its register id, the index id).
async fn registered(db: &mut PgConnection, nth: i64) -> (String, i64) {
    sqlx::query_as(
        "SELECT l.source_id, l.entity_id FROM entity_links l JOIN persons p ON p.id = l.entity_id \
         WHERE l.department_code = $1 ORDER BY l.entity_id OFFSET $2 LIMIT 1",
    )
    .bind(GA)
    .bind(nth)
    .fetch_one(db)
    .await
    .expect("a registered person")
}

async fn grid(db: &mut PgConnection) -> String {
    sqlx::query_scalar(
        "SELECT min(code) FROM jurisdictions WHERE level = 'GRID' AND code LIKE '220402%'",
    )
    .fetch_one(db)
    .await
    .expect("a grid")
}

fn report<'a>(
    reports: &'a [gateway::feeds::FeedReport],
    code: &str,
) -> &'a gateway::feeds::FeedReport {
    reports
        .iter()
        .find(|r| r.department == code)
        .unwrap_or_else(|| panic!("no report for {code}"))
}

/// How many history rows the department's feed wrote for each of these register ids.
async fn applied_per_record(db: &mut PgConnection, ids: &[String]) -> Vec<i64> {
    let mut counts = Vec::new();
    for id in ids {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM element_history WHERE source = $1 AND detail->>'sourceId' = $2",
        )
        .bind(GA)
        .bind(id)
        .fetch_one(&mut *db)
        .await
        .expect("a count");
        counts.push(count);
    }
    counts
}

#[tokio::test]
async fn a_birth_and_a_new_phone_number_arrive_through_the_feed() {
    let federated = Federated::spawn().await;
    let mut db = federated.gateway.database().await;
    let (source, person) = registered(&mut db, 0).await;
    let grid = grid(&mut db).await;
    let newborn = id_number("20261128", 21);
    federated
        .append_changes(
            GA,
            json!([
                { "hjbh": source, "lxdh": "13904375566", "bglx": "变更" },
                { "hjbh": "CS-0001", "xm": "王子涵", "xb": "1", "csrq": "20261128",
                  "gmsfhm": newborn, "wgbm": grid, "bglx": "出生" },
                // A birth filed under a county's code rather than a grid's: kept aside.
                { "hjbh": "CS-0002", "xm": "李若汐", "xb": "2", "csrq": "20261128",
                  "gmsfhm": id_number("20261128", 22), "wgbm": "220402", "bglx": "出生" },
            ]),
        )
        .await;

    let reports = federated.feed_sync().await;
    let ga = report(&reports, GA);
    assert!(ga.is_ok(), "{ga}");
    assert_eq!((ga.applied.created, ga.applied.updated), (1, 1), "{ga}");
    assert_eq!(ga.applied.rejected.len(), 1, "{ga}");
    assert_eq!(ga.cursor.as_deref(), Some("3"));

    let phone: Option<String> = sqlx::query_scalar("SELECT phone FROM persons WHERE id = $1")
        .bind(person)
        .fetch_one(&mut db)
        .await
        .expect("the person");
    assert_eq!(phone.as_deref(), Some("13904375566"));
    let (id, gender, birth, linked): (i64, String, String, String) = sqlx::query_as(
        "SELECT p.id, p.gender, p.birth_date::text, l.source_id FROM persons p \
         JOIN entity_links l ON l.entity_id = p.id AND l.department_code = $2 WHERE p.id_number = $1",
    )
    .bind(&newborn)
    .bind(GA)
    .fetch_one(&mut db)
    .await
    .expect("the newborn, linked to the register");
    assert_eq!(
        (gender.as_str(), birth.as_str(), linked.as_str()),
        ("MALE", "2026-11-28", "CS-0001")
    );
    let rejected: String = sqlx::query_scalar(
        "SELECT reason FROM feed_rejects WHERE department_code = $1 AND source_id = 'CS-0002'",
    )
    .bind(GA)
    .fetch_one(&mut db)
    .await
    .expect("the rejected change is kept");
    assert!(rejected.contains("not a grid"), "{rejected}");

    // Both on their histories, from the register.
    let history =
        "query($id: ID!) { node(id: $id) { ... on Person { history { kind source changes } } } }";
    let data = federated
        .gateway
        .query(history, json!({ "id": global_id("Person", id) }))
        .await;
    let entries = data["node"]["history"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["kind"], "CREATED");
    assert_eq!(entries[0]["source"], GA);

    // Nothing new: nothing done.
    let reports = federated.feed_sync().await;
    let ga = report(&reports, GA);
    assert_eq!(
        (ga.pages, ga.applied.created + ga.applied.updated),
        (0, 0),
        "{ga}"
    );
}

#[tokio::test]
async fn a_feed_resumes_after_a_failure_and_a_restart_without_loss_or_repeat() {
    let page_of_two = |text: String| text.replace("page = 200", "page = 2");
    let mut federated = Federated::spawn_with(Setup {
        departments: edited_departments(&[("220402-GA.toml", &page_of_two)]),
        ..Setup::default()
    })
    .await;
    let mut db = federated.gateway.database().await;
    let mut ids = Vec::new();
    let mut changes = Vec::new();
    for n in 0..7 {
        let (source, _) = registered(&mut db, n).await;
        changes.push(json!({ "hjbh": source, "lxdh": format!("1390437{n:04}") }));
        ids.push(source);
    }
    federated
        .append_changes(GA, Value::Array(changes[..5].to_vec()))
        .await;

    // The register is down: nothing is applied and the cursor stays.
    federated.fault(GA, json!({ "down": true })).await;
    let reports = federated.feed_sync().await;
    let ga = report(&reports, GA);
    assert!(!ga.is_ok() && ga.pages == 0, "{ga}");
    assert_eq!(
        applied_per_record(&mut db, &ids).await,
        [0, 0, 0, 0, 0, 0, 0]
    );

    // Back up: three pages of at most two.
    federated.fault(GA, json!({})).await;
    let reports = federated.feed_sync().await;
    let ga = report(&reports, GA);
    assert!(ga.is_ok(), "{ga}");
    assert_eq!(
        (ga.pages, ga.applied.updated, ga.cursor.as_deref()),
        (3, 5, Some("5")),
        "{ga}"
    );

    // A new gateway process resumes from the stored cursor: two more, each once.
    federated.restart().await;
    federated
        .append_changes(GA, Value::Array(changes[5..].to_vec()))
        .await;
    let reports = federated.feed_sync().await;
    let ga = report(&reports, GA);
    assert_eq!(
        (ga.applied.updated, ga.cursor.as_deref()),
        (2, Some("7")),
        "{ga}"
    );
    assert_eq!(
        applied_per_record(&mut db, &ids).await,
        [1, 1, 1, 1, 1, 1, 1]
    );
}

#[tokio::test]
async fn the_register_decides_who_a_person_is_and_the_grid_keeps_what_it_collected() {
    let federated = Federated::spawn().await;
    let mut db = federated.gateway.database().await;
    let (source, person) = registered(&mut db, 3).await;
    let name: String = sqlx::query_scalar("SELECT name FROM persons WHERE id = $1")
        .bind(person)
        .fetch_one(&mut db)
        .await
        .expect("a name");

    // A grid worker collects a new phone number and (mistyping) a new name.
    let update = "mutation($id: ID!) { updatePerson(idempotencyKey: \"feed-conflict\", id: $id,
        input: { name: \"张三丰\", phone: \"13904371111\" }) { changes { kind } } }";
    federated
        .gateway
        .query(update, json!({ "id": global_id("Person", person) }))
        .await;

    // The register says otherwise on both: it is authoritative for the name only.
    federated
        .append_changes(
            GA,
            json!([{ "hjbh": source, "xm": name, "lxdh": "13904372222" }]),
        )
        .await;
    let reports = federated.feed_sync().await;
    let ga = report(&reports, GA);
    assert_eq!((ga.applied.updated, ga.applied.kept), (1, 1), "{ga}");
    let (now_name, phone): (String, Option<String>) =
        sqlx::query_as("SELECT name, phone FROM persons WHERE id = $1")
            .bind(person)
            .fetch_one(&mut db)
            .await
            .expect("the person");
    assert_eq!(now_name, name);
    assert_eq!(phone.as_deref(), Some("13904371111"));
    let detail: Value = sqlx::query_scalar(
        "SELECT detail FROM element_history WHERE entity_id = $1 AND source = $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(person)
    .bind(GA)
    .fetch_one(&mut db)
    .await
    .expect("the register's change on the history");
    assert_eq!(detail["keptFromGrid"], json!({ "phone": "13904372222" }));

    // Once the register last set a field, its next change to it applies.
    let changes: Value = sqlx::query_scalar(
        "SELECT changes FROM element_history WHERE entity_id = $1 AND source = $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(person)
    .bind(GA)
    .fetch_one(&mut db)
    .await
    .expect("changes");
    assert_eq!(changes["name"]["after"], json!(name));
    assert!(changes.get("phone").is_none(), "{changes}");
}

#[tokio::test]
async fn a_sql_department_s_change_table_feeds_the_index_too() {
    use sqlx::Connection;
    const ZJ: &str = "220402-ZJ";
    let federated = Federated::spawn().await;
    let mut db = federated.gateway.database().await;
    let (source, place): (String, i64) = sqlx::query_as(
        "SELECT source_id, entity_id FROM entity_links WHERE department_code = $1 ORDER BY entity_id LIMIT 1",
    )
    .bind(ZJ)
    .fetch_one(&mut db)
    .await
    .expect("a building the bureau holds");
    // The bureau's own database, shared by every test process: start after what is there.
    let mut bureau = PgConnection::connect(&format!(
        "{}/gov_sim_220402_zj",
        crate::helpers::postgres_server()
    ))
    .await
    .expect("the bureau's database");
    let last: i64 = sqlx::query_scalar("SELECT COALESCE(max(bgxh), 0) FROM fw_bg")
        .fetch_one(&mut bureau)
        .await
        .expect("its change table");
    sqlx::query("INSERT INTO sync_cursors (source, cursor) VALUES ($1, $2)")
        .bind(ZJ)
        .bind(last.to_string())
        .execute(&mut db)
        .await
        .expect("the feed caught up");
    sqlx::query(
        "INSERT INTO fw_bg (fwbh, mc, dz) VALUES ($1, '向阳小区7号楼（改建）', '龙山区向阳路7号')",
    )
    .bind(&source)
    .execute(&mut bureau)
    .await
    .expect("a change");

    let reports = federated.feed_sync().await;
    let zj = report(&reports, ZJ);
    assert!(zj.is_ok() && zj.applied.updated >= 1, "{zj}");
    let (name, address): (String, String) =
        sqlx::query_as("SELECT name, address FROM places WHERE id = $1")
            .bind(place)
            .fetch_one(&mut db)
            .await
            .expect("the place");
    assert_eq!(
        (name.as_str(), address.as_str()),
        ("向阳小区7号楼（改建）", "龙山区向阳路7号")
    );
    let source_of_change: String = sqlx::query_scalar(
        "SELECT source FROM element_history WHERE entity_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(place)
    .fetch_one(&mut db)
    .await
    .expect("on the history");
    assert_eq!(source_of_change, ZJ);
}

#[tokio::test]
async fn a_sync_lock_leaves_the_pool_to_the_round_and_bars_other_holders() {
    let (_, migrated) = crate::helpers::migrated_database().await;
    // A pool of one connection, which a lock held on it would take from the round.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(std::time::Duration::from_secs(2))
        .connect_with((*migrated.connect_options()).clone())
        .await
        .expect("connect");
    let store = schema::Store::new(pool);
    let lock = store.try_lock_sync(GA).await.expect("lock").expect("free");
    store
        .set_sync_cursor(GA, "7")
        .await
        .expect("the round's steps find a connection");
    assert_eq!(
        store.sync_cursor(GA).await.expect("cursor").as_deref(),
        Some("7")
    );
    assert!(
        store.try_lock_sync(GA).await.expect("lock").is_none(),
        "one holder at a time"
    );
    lock.release().await.expect("release");
    assert!(store.try_lock_sync(GA).await.expect("lock").is_some());
}
