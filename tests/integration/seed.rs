//! The synthetic data set: deterministic, refused over existing data, and the same in
//! the department simulator as in the gateway's index.

use simulation::seed::{self, Scale, SeedError, SeedOptions};
use simulation::simulator::{Facts, index};
use sqlx::PgPool;

use crate::helpers::{TestGateway, database_url, migrated_database, seeded_database, test_config};

const TABLES: [&str; 13] = [
    "jurisdictions",
    "departments",
    "staff",
    "team_members",
    "places",
    "persons",
    "things",
    "organizations",
    "organization_members",
    "entity_links",
    "events",
    "event_parties",
    "event_links",
];

/// A digest of every row of every seeded table.
async fn fingerprint(pool: &PgPool) -> Vec<String> {
    let mut digests = Vec::new();
    for table in TABLES {
        let digest: Option<String> = sqlx::query_scalar(&format!(
            "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t"
        ))
        .fetch_one(pool)
        .await
        .expect("digest query");
        digests.push(format!("{table}:{}", digest.unwrap_or_default()));
    }
    digests
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data_and_another_seed_does_not() {
    let options = SeedOptions {
        scale: Scale::Small,
        seed: 7,
    };
    let (_, first) = migrated_database().await;
    let (_, second) = migrated_database().await;
    let (_, other) = migrated_database().await;
    seed::seed(&first, &options, &|_| {}).await.expect("seed");
    seed::seed(&second, &options, &|_| {}).await.expect("seed");
    seed::seed(&other, &SeedOptions { seed: 8, ..options }, &|_| {})
        .await
        .expect("seed");
    let first = fingerprint(&first).await;
    assert_eq!(first, fingerprint(&second).await);
    assert_ne!(first, fingerprint(&other).await);
}

/// Every index and constraint of the public schema, as the database would make it again.
async fn schema_objects(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
           JOIN pg_class c ON c.oid = i.indrelid
          WHERE c.relnamespace = 'public'::regnamespace
         UNION ALL
         SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
           FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid <> 0
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .expect("schema objects")
}

#[tokio::test]
async fn seeding_leaves_every_key_index_and_foreign_key_the_migrations_made() {
    let (_, pool) = migrated_database().await;
    let migrated = schema_objects(&pool).await;
    assert!(
        migrated.iter().any(|o| o.contains("persons_name_trgm_idx"))
            && migrated.iter().any(|o| o.contains("FOREIGN KEY")),
        "{migrated:?}"
    );
    let progress = std::sync::Mutex::new(Vec::new());
    seed::seed(&pool, &SeedOptions::default(), &|p| {
        if let Ok(mut seen) = progress.lock() {
            seen.push((p.table, p.done, p.total));
        }
    })
    .await
    .expect("seed");
    assert_eq!(schema_objects(&pool).await, migrated);
    assert_eq!(pending(&pool).await, 0);
    // The rebuilding is reported like the tables are, and ends complete.
    let seen = progress.into_inner().unwrap_or_default();
    let last = seen
        .iter()
        .rev()
        .find(|(table, _, _)| *table == "keys and indexes");
    assert!(
        matches!(last, Some((_, done, total)) if done == total && *total > 100),
        "{last:?}"
    );
}

async fn pending(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM seed_pending")
        .fetch_one(pool)
        .await
        .expect("seed_pending")
}

/// What a seed stopped after its rows committed leaves: `objects` dropped, and listed in
/// `seed_pending` with the statements that make them again.
async fn stop_after_loading(pool: &PgPool, objects: &[(&str, &str, &str)]) {
    for (step, (kind, name, table)) in (1..).zip(objects) {
        let (make, drop): (String, String) = if *kind == "index" {
            sqlx::query_as("SELECT pg_get_indexdef($1::regclass), 'DROP INDEX ' || $1")
                .bind(name)
                .fetch_one(pool)
                .await
                .expect("index definition")
        } else {
            sqlx::query_as(
                "SELECT format('ALTER TABLE %s ADD CONSTRAINT %s %s', $2, $1, pg_get_constraintdef(oid)),
                        format('ALTER TABLE %s DROP CONSTRAINT %s', $2, $1)
                   FROM pg_constraint WHERE conname = $1",
            )
            .bind(name)
            .bind(table)
            .fetch_one(pool)
            .await
            .expect("constraint definition")
        };
        sqlx::query(&drop).execute(pool).await.expect("drop");
        sqlx::query(
            "INSERT INTO seed_pending (step, kind, name, table_name, statement) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(step)
        .bind(kind)
        .bind(name)
        .bind(table)
        .bind(make)
        .execute(pool)
        .await
        .expect("listing");
    }
}

#[tokio::test]
async fn a_gateway_starting_on_a_seed_stopped_after_its_rows_makes_what_it_left() {
    let database = seeded_database().await;
    let pool = PgPool::connect(&database_url(&database))
        .await
        .expect("connect");
    let whole = schema_objects(&pool).await;
    let rows = fingerprint(&pool).await;
    stop_after_loading(
        &pool,
        &[
            ("key", "persons_id_number_key", "persons"),
            ("index", "persons_name_trgm_idx", "persons"),
            ("foreign key", "events_reporter_id_fkey", "events"),
        ],
    )
    .await;
    assert_ne!(schema_objects(&pool).await, whole);

    let gateway = TestGateway::spawn_with(test_config(&database), database.clone()).await;
    assert_eq!(schema_objects(&pool).await, whole);
    assert_eq!(pending(&pool).await, 0);
    assert_eq!(fingerprint(&pool).await, rows, "the rows stay");
    drop(gateway);
}

#[tokio::test]
async fn rows_that_break_a_key_made_after_loading_are_removed_and_the_key_made() {
    let database = seeded_database().await;
    let pool = PgPool::connect(&database_url(&database))
        .await
        .expect("connect");
    let whole = schema_objects(&pool).await;
    stop_after_loading(&pool, &[("key", "persons_id_number_key", "persons")]).await;
    // A second person with the first one's ID card number.
    sqlx::raw_sql(
        "CREATE TEMP TABLE twin AS SELECT * FROM persons ORDER BY id LIMIT 1;
         UPDATE twin SET id = (SELECT max(id) + 1 FROM persons);
         INSERT INTO persons SELECT * FROM twin;",
    )
    .execute(&pool)
    .await
    .expect("a duplicate ID card number");

    let finished = seed::finish(&pool, &|_| {}).await;
    match &finished {
        Err(error @ SeedError::Rebuild { name, .. }) => {
            assert_eq!(name, "persons_id_number_key");
            let message = error.to_string();
            assert!(
                message.contains("persons_id_number_key") && message.contains("empty"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(seed::is_empty(&pool).await.expect("is_empty"));
    assert_eq!(schema_objects(&pool).await, whole);
    assert_eq!(pending(&pool).await, 0);
    // Nothing left to do: the database seeds again.
    seed::seed(&pool, &SeedOptions::default(), &|_| {})
        .await
        .expect("seed after the failure");
}

#[tokio::test]
async fn one_seed_at_a_time() {
    let (_, pool) = migrated_database().await;
    let options = SeedOptions::default();
    let (first, second) = tokio::join!(
        seed::seed(&pool, &options, &|_| {}),
        seed::seed(&pool, &options, &|_| {})
    );
    let outcomes = [first.is_ok(), second.is_ok()];
    assert_eq!(
        outcomes.iter().filter(|ok| **ok).count(),
        1,
        "{first:?} {second:?}"
    );
    let refused = if first.is_ok() { second } else { first };
    assert!(matches!(refused, Err(SeedError::InProgress)), "{refused:?}");
    let message = SeedError::InProgress.to_string();
    assert!(message.contains("running"), "{message}");
}

#[tokio::test]
async fn seeding_refuses_a_database_that_holds_data_until_reset() {
    let (_, pool) = migrated_database().await;
    let options = SeedOptions::default();
    seed::seed(&pool, &options, &|_| {})
        .await
        .expect("first seed");
    let again = seed::seed(&pool, &options, &|_| {}).await;
    assert!(matches!(again, Err(SeedError::NotEmpty)), "{again:?}");
    seed::reset(&pool).await.expect("reset");
    assert!(seed::is_empty(&pool).await.expect("is_empty"));
    seed::seed(&pool, &options, &|_| {})
        .await
        .expect("seed after reset");
}

#[tokio::test]
async fn every_grid_has_its_one_plus_four_team_in_liaoyuans_numbers() {
    let database = seeded_database().await;
    let pool = PgPool::connect(&database_url(&database))
        .await
        .expect("connect");
    let roles: Vec<(String, i64)> =
        sqlx::query_as("SELECT role, count(*) FROM staff GROUP BY role ORDER BY role")
            .fetch_all(&pool)
            .await
            .expect("roles");
    let count = |role: &str| roles.iter().find(|(r, _)| r == role).map_or(0, |(_, n)| *n);
    assert_eq!(count("JUDGE"), 65);
    assert_eq!(count("GRID_HEAD"), 1_246);
    assert_eq!(count("MEDIATOR"), 387);
    assert_eq!(count("RESIDENT_REP"), 584);
    assert_eq!(count("AUXILIARY_POLICE"), 592);
    // Every grid: five members, one of each role; the judge of its county's court, the
    // others of its township (the grid head of the grid itself).
    let wrong: Vec<(String, i64)> = sqlx::query_as(
        "SELECT g.code, count(m.staff_id) FROM jurisdictions g
         LEFT JOIN team_members m ON m.grid_code = g.code
         LEFT JOIN staff s ON s.id = m.staff_id
         WHERE g.level = 'GRID'
         GROUP BY g.code
         HAVING count(DISTINCT s.role) <> 5 OR count(m.staff_id) <> 5
            OR bool_or(s.role = 'JUDGE' AND s.department_code <> left(g.code, 6) || '-FY')
            OR bool_or(s.role = 'GRID_HEAD' AND s.jurisdiction_code <> g.code)
            OR bool_or(s.role IN ('MEDIATOR', 'RESIDENT_REP', 'AUXILIARY_POLICE')
                       AND s.jurisdiction_code <> left(g.code, 9))",
    )
    .fetch_all(&pool)
    .await
    .expect("teams");
    assert!(wrong.is_empty(), "grids without a proper team: {wrong:?}");
    // Every shared member serves at least one grid.
    let idle: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM staff s WHERE NOT EXISTS (SELECT 1 FROM team_members m WHERE m.staff_id = s.id)",
    )
    .fetch_one(&pool)
    .await
    .expect("idle");
    assert_eq!(idle, 0);
    pool.close().await;
}

/// What the gateway's index says each department holds, read from a seeded database: the
/// oracle for the simulator's in-memory data set.
const PERSONS: &str = "
    SELECT l.department_code, l.source_id, p.id AS entity_id,
           left(p.jurisdiction_code, 6) AS county, p.jurisdiction_code, p.name,
           'PERSON' AS kind, p.gender, p.birth_date, p.id_number, p.phone,
           r.address, NULL::text AS identifier, NULL::text AS credit_code,
           NULL::text AS representative, (p.created_at AT TIME ZONE 'Asia/Shanghai')::date AS date,
           NULL::text AS status, NULL::text AS tier, NULL::text AS party
    FROM entity_links l JOIN persons p ON p.id = l.entity_id
    LEFT JOIN places r ON r.id = p.residence_place_id
    ";

const PLACES: &str = "
    SELECT l.department_code, l.source_id, p.id AS entity_id,
           left(p.jurisdiction_code, 6) AS county, p.jurisdiction_code, p.name, p.kind,
           NULL::text AS gender, NULL::date AS birth_date, NULL::text AS id_number,
           NULL::text AS phone, p.address, NULL::text AS identifier, NULL::text AS credit_code,
           NULL::text AS representative, (p.created_at AT TIME ZONE 'Asia/Shanghai')::date AS date,
           NULL::text AS status, NULL::text AS tier, NULL::text AS party
    FROM entity_links l JOIN places p ON p.id = l.entity_id
    ";

const THINGS: &str = "
    SELECT l.department_code, l.source_id, t.id AS entity_id,
           left(t.jurisdiction_code, 6) AS county, t.jurisdiction_code, t.name, t.kind,
           NULL::text AS gender, NULL::date AS birth_date, NULL::text AS id_number,
           NULL::text AS phone, p.address, t.identifier, NULL::text AS credit_code,
           NULL::text AS representative, (t.created_at AT TIME ZONE 'Asia/Shanghai')::date AS date,
           NULL::text AS status, NULL::text AS tier, NULL::text AS party
    FROM entity_links l JOIN things t ON t.id = l.entity_id
    LEFT JOIN places p ON p.id = t.place_id
    ";

const ORGANIZATIONS: &str = "
    SELECT l.department_code, l.source_id, o.id AS entity_id,
           left(o.jurisdiction_code, 6) AS county, o.jurisdiction_code, o.name, o.kind,
           NULL::text AS gender, NULL::date AS birth_date, NULL::text AS id_number,
           NULL::text AS phone, p.address, NULL::text AS identifier, o.credit_code,
           (SELECT r.name FROM organization_members m JOIN persons r ON r.id = m.person_id
             WHERE m.organization_id = o.id AND m.role = 'LEGAL_REPRESENTATIVE'
             ORDER BY r.id LIMIT 1) AS representative,
           (o.created_at AT TIME ZONE 'Asia/Shanghai')::date AS date,
           NULL::text AS status, NULL::text AS tier, NULL::text AS party
    FROM entity_links l JOIN organizations o ON o.id = l.entity_id
    LEFT JOIN places p ON p.id = o.place_id
    ";

const EVENTS: &str = "
    SELECT l.department_code, l.source_id, e.id AS entity_id,
           left(e.jurisdiction_code, 6) AS county, e.jurisdiction_code, e.title AS name,
           e.category AS kind, NULL::text AS gender, NULL::date AS birth_date,
           NULL::text AS id_number, NULL::text AS phone, p.address, NULL::text AS identifier,
           NULL::text AS credit_code, NULL::text AS representative,
           (e.reported_at AT TIME ZONE 'Asia/Shanghai')::date AS date,
           e.status, e.resolution_tier AS tier,
           (SELECT r.name FROM event_parties ep JOIN persons r ON r.id = ep.person_id
             WHERE ep.event_id = e.id AND ep.role = 'APPLICANT'
             ORDER BY ep.position LIMIT 1) AS party
    FROM event_links l JOIN events e ON e.id = l.event_id
    LEFT JOIN places p ON p.id = e.place_id
    ";

/// One record as text, to compare the simulator's facts with the index's.
fn fact_line(element: &str, f: &Facts) -> String {
    format!(
        "{element}|{}|{}|{}|{}|{}|{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{:?}|{:?}|{:?}",
        f.department_code,
        f.source_id,
        f.entity_id,
        f.county,
        f.jurisdiction_code,
        f.name,
        f.kind,
        f.gender,
        f.birth_date,
        f.id_number,
        f.phone,
        f.address,
        f.identifier,
        f.credit_code,
        f.representative,
        f.date,
        f.status,
        f.tier,
        f.party
    )
}

#[tokio::test]
async fn the_simulated_departments_hold_exactly_what_the_index_links_to_them() {
    let database = seeded_database().await;
    let pool = PgPool::connect(&database_url(&database))
        .await
        .expect("connect");
    let mut from_index = Vec::new();
    for (element, query) in [
        ("PERSON", PERSONS),
        ("PLACE", PLACES),
        ("THING", THINGS),
        ("ORGANIZATION", ORGANIZATIONS),
        ("EVENT", EVENTS),
    ] {
        let rows: Vec<Facts> = sqlx::query_as(query)
            .fetch_all(&pool)
            .await
            .expect("index query");
        from_index.extend(rows.iter().map(|row| fact_line(element, row)));
    }
    pool.close().await;
    let data = tokio::task::spawn_blocking(|| index::data_set(SeedOptions::default()))
        .await
        .expect("the generator runs");
    let mut simulated: Vec<String> = index::facts(&data)
        .iter()
        .map(|(element, facts)| fact_line(&format!("{element:?}").to_uppercase(), facts))
        .collect();
    from_index.sort();
    simulated.sort();
    assert!(from_index.len() > 5_000, "{} records", from_index.len());
    assert_eq!(simulated.len(), from_index.len());
    if let Some((simulated, indexed)) = simulated.iter().zip(&from_index).find(|(s, i)| s != i) {
        panic!("the simulator holds\n  {simulated}\nwhere the index has\n  {indexed}");
    }
}
