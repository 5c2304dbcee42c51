//! No N+1: the SQL a query costs does not grow with the number of rows it returns, the
//! statements of a plain page are not planned again on every request, and a page reads
//! the rows it returns, not the whole table.

use connectors::{PersonalData, Scope};
use futures_util::future::join_all;
use schema::Store;
use schema::model::{Event, Organization, Person, Place, Thing};
use schema::store::Entity;
use schema::store::{ColumnSet, Key, ListQuery, PageArgs, PartyColumns, relations};
use schema::workflow::SignalFilter;
use serde_json::json;

use crate::helpers::{TestGateway, database_url, seeded_database};

/// A gateway with the shipped settings: a level's keys are gathered by the query's
/// shape, so the counts below hold whatever the timing.
async fn gateway() -> TestGateway {
    TestGateway::spawn().await
}

const EVENTS_WITH_RELATIONS: &str = "query($n: Int!) { events(first: $n) { totalCount nodes {
    title
    place { name jurisdiction { name } }
    jurisdiction { name parent { name } }
    grid { code }
    reporter { name residence { address } }
    parties { role party {
      ... on Person { name grid { name } }
      ... on Organization { name place { name } } } } } } }";

/// The statements a query cost on average when eight run at once, and the number of
/// events each returned.
async fn cost(gateway: &TestGateway, n: i64) -> (u64, usize) {
    const AT_ONCE: u64 = 8;
    let before = gateway.statements();
    let answers =
        join_all((0..AT_ONCE).map(|_| gateway.query(EVENTS_WITH_RELATIONS, json!({ "n": n }))))
            .await;
    let returned = answers
        .iter()
        .map(|data| data["events"]["nodes"].as_array().map_or(0, Vec::len))
        .min()
        .unwrap_or_default();
    ((gateway.statements() - before) / AT_ONCE, returned)
}

#[tokio::test]
async fn a_page_of_events_with_their_relations_costs_the_same_sql_for_10_or_100_events() {
    let gateway = gateway().await;
    let (small, ten) = cost(&gateway, 10).await;
    let (large, hundred) = cost(&gateway, 100).await;
    assert_eq!((ten, hundred), (10, 100));
    // At most one statement per field path that loads: the page (with the events'
    // parties and their persons and organizations) and its total; each event's place,
    // jurisdiction, grid and reporter; the places' and the jurisdictions' own
    // jurisdictions, the reporters' residences; the parties' grids and places. Batches
    // reached at the same moment may share a statement, so the count can be lower,
    // never higher.
    const SHAPE: u64 = 11;
    assert!(small <= SHAPE, "{small} statements for 10 events");
    assert!(large <= SHAPE, "{large} statements for 100 events");
}

#[tokio::test]
async fn nested_connections_are_batched_across_parents() {
    let gateway = gateway().await;
    let query = "query($n: Int!) { jurisdictions(level: TOWNSHIP, first: $n) { nodes {
        persons(first: 3) { totalCount nodes { name events(first: 2) { totalCount nodes { title } } } } } } }";
    let before = gateway.statements();
    gateway.query(query, json!({ "n": 2 })).await;
    let two = gateway.statements() - before;
    let before = gateway.statements();
    let data = gateway.query(query, json!({ "n": 40 })).await;
    let forty = gateway.statements() - before;
    assert_eq!(
        data["jurisdictions"]["nodes"]
            .as_array()
            .map_or(0, Vec::len),
        40
    );
    // The township page; the persons' pages and totals; the events' pages and totals.
    const SHAPE: u64 = 5;
    assert!(two <= SHAPE, "{two} statements for 2 townships");
    assert!(forty <= SHAPE, "{forty} statements for 40 townships");
}

#[tokio::test]
async fn node_lookups_of_many_ids_cost_one_statement_per_type() {
    let gateway = gateway().await;
    let data = gateway
        .query(
            "{ persons(first: 60) { nodes { id } } events(first: 60) { nodes { id } } }",
            json!(null),
        )
        .await;
    let ids: Vec<serde_json::Value> = ["persons", "events"]
        .iter()
        .flat_map(|list| data[*list]["nodes"].as_array().cloned().unwrap_or_default())
        .map(|node| node["id"].clone())
        .collect();
    assert_eq!(ids.len(), 120);
    let before = gateway.statements();
    let nodes = gateway
        .query(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": ids[..100] }),
        )
        .await;
    assert_eq!(nodes["nodes"].as_array().map_or(0, Vec::len), 100);
    assert!(
        nodes["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|n| !n.is_null())
    );
    // Persons by id, events by id.
    assert_eq!(gateway.statements() - before, 2);
}

#[tokio::test]
async fn a_page_of_events_comes_with_their_parties_and_their_rows_in_one_statement() {
    let gateway = gateway().await;
    let party =
        "parties { role party { ... on Person { id name } ... on Organization { id name } } }";
    let mut read = Vec::new();
    for query in [
        format!("{{ events(first: 50) {{ nodes {{ id {party} }} }} }}"),
        format!("{{ events(first: 50) {{ edges {{ node {{ id {party} }} }} }} }}"),
        format!(
            "{{ events(first: 50) {{ ...Page }} }}
             fragment Page on EventConnection {{ nodes {{ ... on Event {{ ...Fields }} }} }}
             fragment Fields on Event {{ id {party} }}"
        ),
    ] {
        let before = gateway.statements();
        let data = gateway.query(&query, json!(null)).await;
        // The page of events with their parties and the parties' rows.
        assert_eq!(gateway.statements() - before, 1, "{query}");
        let events = data["events"]["nodes"]
            .as_array()
            .cloned()
            .or_else(|| {
                data["events"]["edges"]
                    .as_array()
                    .map(|edges| edges.iter().map(|e| e["node"].clone()).collect())
            })
            .unwrap_or_default();
        assert_eq!(events.len(), 50);
        read.push(events);
    }
    assert!(read.iter().all(|events| *events == read[0]));
    let events = &read[0];
    let parties: Vec<&serde_json::Value> = events
        .iter()
        .flat_map(|event| event["parties"].as_array().into_iter().flatten())
        .collect();
    assert!(parties.len() >= 50, "{} parties", parties.len());

    // The same events looked up by id read their parties through the parties' own
    // statement: the same parties, in the same order.
    let ids: Vec<&serde_json::Value> = events.iter().map(|e| &e["id"]).collect();
    let before = gateway.statements();
    let looked_up = gateway
        .query(
            &format!(
                "query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Event {{ id {party} }} }} }}"
            ),
            json!({ "ids": ids }),
        )
        .await;
    // The events by id; their parties with their rows.
    assert_eq!(gateway.statements() - before, 2);
    assert_eq!(looked_up["nodes"].as_array(), Some(events));

    // Each party is the node its id looks up.
    let ids: Vec<&serde_json::Value> = parties.iter().map(|p| &p["party"]["id"]).collect();
    let nodes = gateway
        .query(
            "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Person { name } ... on Organization { name } } }",
            json!({ "ids": ids }),
        )
        .await;
    let names: Vec<&serde_json::Value> = parties.iter().map(|p| &p["party"]["name"]).collect();
    let looked_up: Vec<&serde_json::Value> = nodes["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|node| &node["name"])
        .collect();
    assert_eq!(names, looked_up);
}

#[tokio::test]
async fn nested_pages_of_events_come_with_their_parties_for_every_parent_at_once() {
    let gateway = gateway().await;
    let query = "{ persons(first: 40) { nodes { events(first: 2) { nodes { id
        parties { role party { ... on Person { id } ... on Organization { id } } } } } } } }";
    let before = gateway.statements();
    let data = gateway.query(query, json!(null)).await;
    // The persons' page; the events' pages of all 40 with their parties.
    assert_eq!(gateway.statements() - before, 2);
    let events: Vec<&serde_json::Value> = data["persons"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|person| person["events"]["nodes"].as_array().into_iter().flatten())
        .collect();
    assert!(events.len() >= 10, "{} events", events.len());
    // Each event's parties as its lookup by id reads them.
    let ids: Vec<&serde_json::Value> = events.iter().map(|e| &e["id"]).collect();
    let looked_up = gateway
        .query(
            "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Event { id
                parties { role party { ... on Person { id } ... on Organization { id } } } } } }",
            json!({ "ids": ids }),
        )
        .await;
    let looked_up: Vec<&serde_json::Value> = looked_up["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(looked_up, events);
}

/// A store over a fresh copy of the seeded database, on one connection (whose prepared
/// statements the tests read back).
async fn one_connection() -> (sqlx::PgPool, Store) {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&database_url(&seeded_database().await))
        .await
        .expect("connect");
    (pool.clone(), Store::new(pool))
}

/// The first page of ten, no conditions.
fn first_ten() -> ListQuery {
    ListQuery {
        conditions: Vec::new(),
        page: PageArgs {
            after: None,
            before: None,
            limit: 10,
            from_end: false,
        },
        parties: None,
        columns: ColumnSet::ALL,
    }
}

/// Asserts that the one connection of `pool` prepared `count` statements whose text is
/// like one of `patterns`, each given its generic plan: after five runs PostgreSQL plans a
/// statement no more, which it does only when that plan costs what the custom ones did.
async fn assert_planned_once(pool: &sqlx::PgPool, patterns: &[&str], count: usize) {
    let plans: Vec<(String, i64)> = sqlx::query_as(
        "SELECT statement, generic_plans FROM pg_prepared_statements
          WHERE statement LIKE ANY($1)",
    )
    .bind(patterns)
    .fetch_all(pool)
    .await
    .expect("plans");
    assert_eq!(plans.len(), count, "{plans:#?}");
    assert!(
        plans.iter().all(|(_, generic)| *generic >= 3),
        "planned on every run: {plans:#?}"
    );
}

/// A root list's page and total over one subtree are planned once per connection, not on
/// every request.
#[tokio::test]
async fn a_subtree_page_and_its_total_are_not_planned_on_every_request() {
    let (pool, store) = one_connection().await;
    let query = first_ten();
    let with_parties = ListQuery {
        parties: Some(PartyColumns::ALL),
        ..first_ten()
    };
    // The whole city (an administrator's scope), and a county: a subtree asked for, and
    // the top-level list (no parent key), narrowed by the scope alone.
    for (scope, subtree) in [
        ("220400", "2204"),
        ("220422", "220422"),
        ("220400", ""),
        ("220422", ""),
    ] {
        let scope = Scope::subtree(scope, PersonalData::Masked);
        let key = Key::Code(subtree.into());
        for _ in 0..8 {
            for query in [&query, &with_parties] {
                let pages = store
                    .list_pages::<Event>(
                        &scope,
                        relations::IN_SUBTREE,
                        std::slice::from_ref(&key),
                        query,
                    )
                    .await
                    .expect("page");
                assert_eq!(pages.get(&key).map_or(0, |page| page.rows.len()), 10);
            }
            store
                .count_lists::<Event>(
                    &scope,
                    relations::IN_SUBTREE,
                    std::slice::from_ref(&key),
                    &[],
                )
                .await
                .expect("count");
        }
    }
    // The one connection's prepared statements over events.
    // The page, the page with its parties and the total, for the subtree and the top
    // level under each scope's level.
    assert_planned_once(&pool, &["SELECT k.key%FROM events t%"], 12).await;
}

/// A page is planned once per connection over a table of a city's size too: with the
/// page's size a parameter, the generic plan guessed a tenth of the table for the page,
/// which over 39,000 events costs more than planning, so every run was planned again.
#[tokio::test]
async fn a_page_of_a_large_table_is_not_planned_on_every_request() {
    let (pool, store) = one_connection().await;
    // A city's table is large: over the 1,500 seeded events a generic plan's guess of a
    // tenth of the table for a page costs little, over 39,000 it costs more than planning.
    sqlx::query(
        "INSERT INTO events (title, description, category, channel, urgency, status, \
           reporter_id, place_id, jurisdiction_code, reported_at, updated_at, due_at) \
         SELECT title, description, category, channel, urgency, status, reporter_id, \
           place_id, jurisdiction_code, reported_at, updated_at, due_at \
         FROM events, generate_series(1, 25)",
    )
    .execute(&pool)
    .await
    .expect("more events");
    sqlx::query("ANALYZE events")
        .execute(&pool)
        .await
        .expect("analyze");
    for (scope, subtree) in [("220400", ""), ("220422", "220422")] {
        let scope = Scope::subtree(scope, PersonalData::Masked);
        let key = Key::Code(subtree.into());
        for _ in 0..8 {
            let pages = store
                .list_pages::<Event>(
                    &scope,
                    relations::IN_SUBTREE,
                    std::slice::from_ref(&key),
                    &first_ten(),
                )
                .await
                .expect("page");
            assert_eq!(pages.get(&key).map_or(0, |page| page.rows.len()), 10);
        }
    }
    assert_planned_once(&pool, &["SELECT k.key%FROM events t%"], 2).await;
}

/// One row by its key (a mutation's payload, a single event's page) and the signal hub's
/// read of new entries (after every change) are planned once per connection, not on
/// every run.
#[tokio::test]
async fn one_row_by_its_key_and_the_hubs_read_are_not_planned_on_every_run() {
    let (pool, store) = one_connection().await;
    let scope = Scope::subtree("220400", PersonalData::Masked);
    sqlx::query("ANALYZE timeline")
        .execute(&pool)
        .await
        .expect("analyze");
    let last = store.last_timeline_position().await.expect("last position");
    for id in 1..=8 {
        let events = store.by_ids::<Event>(&scope, &[id]).await.expect("event");
        assert_eq!(events.len(), 1);
        // As the hub reads: the few entries after the last it broadcast, a page at most.
        let entries = store
            .timeline_after(&SignalFilter::default(), last - id, 1_000)
            .await
            .expect("entries");
        assert_eq!(entries.len(), id as usize);
    }
    let statements = [
        "SELECT t.id,%FROM events t WHERE t.id%",
        "SELECT id,%FROM timeline_after($1, $2)",
    ];
    assert_planned_once(&pool, &statements, 2).await;
}

/// The first page of each of the five elements' lists under the whole city (an
/// administrator's scope) reads the rows it returns along the primary key, not the whole
/// table and a sort: PostgreSQL knows how many rows the city's prefix matches. Checked
/// over the `small` data set, whose 600 to 5,000 rows per table are few enough for a
/// guess at that share to make a scan look cheaper.
#[tokio::test]
async fn a_page_under_the_whole_city_reads_only_its_rows() {
    let (pool, store) = one_connection().await;
    let scope = Scope::subtree("220400", PersonalData::Masked);
    let query = first_ten();
    let key = Key::Code(String::new());
    async fn first_page<E: Entity>(store: &Store, scope: &Scope, key: &Key, query: &ListQuery) {
        let pages = store
            .list_pages::<E>(
                scope,
                relations::IN_SUBTREE,
                std::slice::from_ref(key),
                query,
            )
            .await
            .expect("page");
        assert_eq!(pages.get(key).map_or(0, |page| page.rows.len()), 10);
    }
    first_page::<Event>(&store, &scope, &key, &query).await;
    first_page::<Person>(&store, &scope, &key, &query).await;
    first_page::<Place>(&store, &scope, &key, &query).await;
    first_page::<Thing>(&store, &scope, &key, &query).await;
    first_page::<Organization>(&store, &scope, &key, &query).await;

    for table in ["events", "persons", "places", "things", "organizations"] {
        let (name,): (String,) = sqlx::query_as(
            "SELECT name FROM pg_prepared_statements
              WHERE statement LIKE $1 AND statement NOT LIKE '%event_parties%'",
        )
        .bind(format!("SELECT k.key%FROM {table} t%"))
        .fetch_one(&pool)
        .await
        .expect("the page's statement");
        // The page's parameters: the (empty) parent key and the city's prefix (its size,
        // one row more than the page, is written out).
        let (plan,): (serde_json::Value,) = sqlx::query_as(&format!(
            "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE {name}('', '2204')"
        ))
        .fetch_one(&pool)
        .await
        .expect("explain");
        let mut read = Vec::new();
        rows_read(&plan[0]["Plan"], table, &mut read);
        assert!(
            !read.is_empty() && read.iter().all(|rows| *rows <= 11),
            "{table}: a page of 10 read {read:?} rows: {plan:#}"
        );
    }

    // A page of events read with their parties looks each event's parties up by its key
    // (a handful per event), not the whole table.
    let with_parties = ListQuery {
        parties: Some(PartyColumns::ALL),
        ..query
    };
    first_page::<Event>(&store, &scope, &key, &with_parties).await;
    let (name,): (String,) = sqlx::query_as(
        "SELECT name FROM pg_prepared_statements
          WHERE statement LIKE 'SELECT k.key%FROM events t%event_parties%'",
    )
    .fetch_one(&pool)
    .await
    .expect("the page's statement");
    // The parent key, the city's prefix for the events, the persons and the
    // organizations (the page's size is written in the statement).
    let (plan,): (serde_json::Value,) = sqlx::query_as(&format!(
        "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE {name}('', '2204', '2204', '2204')"
    ))
    .fetch_one(&pool)
    .await
    .expect("explain");
    for table in ["events", "event_parties"] {
        let mut read = Vec::new();
        rows_read(&plan[0]["Plan"], table, &mut read);
        assert!(
            !read.is_empty() && read.iter().all(|rows| *rows <= 11),
            "{table}: a page of 10 with its parties read {read:?} rows: {plan:#}"
        );
    }
}

/// The rows each node of a plan that reads `table` produced.
fn rows_read(node: &serde_json::Value, table: &str, read: &mut Vec<i64>) {
    if node["Relation Name"] == table {
        read.push(node["Actual Rows"].as_i64().unwrap_or(i64::MAX));
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        rows_read(child, table, read);
    }
}
