//! The five-element schema answering real queries over the seeded Liaoyuan data set;
//! expected values are read from the database directly, never written in.

use serde_json::{Value, json};
use sqlx::PgConnection;

use crate::helpers::{TestGateway, first_error_code, seeded_database, test_config};

async fn count(db: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(db)
        .await
        .expect("count query")
}

#[tokio::test]
async fn the_city_has_4_counties_47_townships_1246_grids_and_96_departments() {
    let gateway = TestGateway::spawn().await;
    let data = gateway
        .query(
            "{ counties: jurisdictions(level: COUNTY) { totalCount nodes { code name } }
               townships: jurisdictions(level: TOWNSHIP) { totalCount }
               grids: jurisdictions(level: GRID) { totalCount }
               departments { totalCount }
               dongliao: departments(county: \"220422\") { totalCount }
               police: department(code: \"220422-GA\") { name county { name } } }",
            Value::Null,
        )
        .await;
    assert_eq!(data["counties"]["totalCount"], 4);
    let names: Vec<&str> = data["counties"]["nodes"]
        .as_array()
        .map(|a| a.iter().filter_map(|n| n["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["龙山区", "西安区", "东丰县", "东辽县"]);
    assert_eq!(data["townships"]["totalCount"], 47);
    assert_eq!(data["grids"]["totalCount"], 1246);
    assert_eq!(data["departments"]["totalCount"], 96);
    assert_eq!(data["dongliao"]["totalCount"], 24);
    assert_eq!(
        data["police"],
        json!({ "name": "东辽县公安局", "county": { "name": "东辽县" } })
    );
}

#[tokio::test]
async fn the_tree_navigates_up_and_down() {
    let gateway = TestGateway::spawn().await;
    let mut db = gateway.database().await;
    let grid: String = sqlx::query_scalar(
        "SELECT code FROM jurisdictions WHERE level = 'GRID' ORDER BY code DESC LIMIT 1",
    )
    .fetch_one(&mut db)
    .await
    .expect("a grid");
    let data = gateway
        .query(
            "query($code: String!) { jurisdiction(code: $code) {
                level parent { level children { code } }
                ancestors { level code } } }",
            json!({ "code": grid }),
        )
        .await;
    let j = &data["jurisdiction"];
    assert_eq!(j["level"], "GRID");
    assert_eq!(j["parent"]["level"], "COMMUNITY");
    let siblings = j["parent"]["children"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(siblings.iter().any(|c| c["code"] == grid.as_str()));
    let levels: Vec<&str> = j["ancestors"]
        .as_array()
        .map(|a| a.iter().filter_map(|n| n["level"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(levels, ["CITY", "COUNTY", "TOWNSHIP", "COMMUNITY"]);
    assert_eq!(j["ancestors"][1]["code"], &grid[..6]);
}

/// Every id of a connection, paging with `first`/`after` (or `last`/`before`).
async fn page_through(gateway: &TestGateway, backward: bool) -> (Vec<String>, i64) {
    let query = if backward {
        "query($c: String) { jurisdiction(code: \"220402001\") { persons(last: 7, before: $c) {
            totalCount edges { cursor node { id } } pageInfo { hasPreviousPage startCursor } } } }"
    } else {
        "query($c: String) { jurisdiction(code: \"220402001\") { persons(first: 7, after: $c) {
            totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }"
    };
    let mut ids = Vec::new();
    let mut cursor = Value::Null;
    let mut total = 0;
    for _ in 0..1_000 {
        let data = gateway.query(query, json!({ "c": cursor })).await;
        let connection = &data["jurisdiction"]["persons"];
        total = connection["totalCount"].as_i64().unwrap_or(-1);
        let mut page: Vec<String> = connection["edges"]
            .as_array()
            .map(|edges| {
                edges
                    .iter()
                    .filter_map(|e| e["node"]["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if backward {
            page.reverse();
        }
        ids.extend(page);
        let info = &connection["pageInfo"];
        let (more, next) = if backward {
            (
                info["hasPreviousPage"].as_bool(),
                info["startCursor"].clone(),
            )
        } else {
            (info["hasNextPage"].as_bool(), info["endCursor"].clone())
        };
        if more != Some(true) {
            break;
        }
        cursor = next;
    }
    if backward {
        ids.reverse();
    }
    (ids, total)
}

#[tokio::test]
async fn connections_page_both_ways_without_gaps_or_overlap() {
    let gateway = TestGateway::spawn().await;
    let mut db = gateway.database().await;
    let expected = count(
        &mut db,
        "SELECT count(*) FROM persons WHERE jurisdiction_code LIKE '220402001%'",
    )
    .await;
    assert!(
        expected > 7,
        "the township needs more than one page of people"
    );

    let (forward, total) = page_through(&gateway, false).await;
    assert_eq!(total, expected);
    assert_eq!(forward.len() as i64, expected);
    let mut unique = forward.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), forward.len(), "no person appears twice");

    let (backward, _) = page_through(&gateway, true).await;
    assert_eq!(
        backward, forward,
        "paging backward visits the same people in the same order"
    );
}

#[tokio::test]
async fn names_are_searched_by_prefix_and_by_substring_in_chinese() {
    let gateway = TestGateway::spawn().await;
    let mut db = gateway.database().await;
    let name: String = sqlx::query_scalar(
        "SELECT name FROM persons WHERE char_length(name) = 3 ORDER BY id LIMIT 1",
    )
    .fetch_one(&mut db)
    .await
    .expect("a person with a three-character name");
    let surname: String = name.chars().take(1).collect();
    let middle: String = name.chars().skip(1).take(1).collect();

    let data = gateway
        .query(
            "query($p: String, $c: String) {
                byPrefix: persons(filter: { nameStartsWith: $p }, first: 100) { totalCount nodes { name } }
                bySubstring: persons(filter: { nameContains: $c }, first: 100) { totalCount nodes { name } } }",
            json!({ "p": surname, "c": middle }),
        )
        .await;
    let by_prefix = count(
        &mut db,
        &format!("SELECT count(*) FROM persons WHERE name LIKE '{surname}%'"),
    )
    .await;
    let by_substring = count(
        &mut db,
        &format!("SELECT count(*) FROM persons WHERE name LIKE '%{middle}%'"),
    )
    .await;
    assert_eq!(data["byPrefix"]["totalCount"], by_prefix);
    assert_eq!(data["bySubstring"]["totalCount"], by_substring);
    for node in data["byPrefix"]["nodes"].as_array().into_iter().flatten() {
        assert!(
            node["name"]
                .as_str()
                .is_some_and(|n| n.starts_with(&surname)),
            "{node}"
        );
    }
    for node in data["bySubstring"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        assert!(
            node["name"].as_str().is_some_and(|n| n.contains(&middle)),
            "{node}"
        );
    }
}

#[tokio::test]
async fn event_filters_narrow_by_subtree_status_category_and_time() {
    let gateway = TestGateway::spawn().await;
    let mut db = gateway.database().await;
    let expected = count(
        &mut db,
        "SELECT count(*) FROM events WHERE jurisdiction_code LIKE '220421%' AND status IN ('CLOSED', 'RESOLVED') \
         AND category = 'NEIGHBOR_DISPUTE' AND reported_at >= '2025-01-01T00:00:00Z' AND reported_at < '2026-01-01T00:00:00Z'",
    )
    .await;
    assert!(
        expected > 0,
        "the data set must hold such events for this test to mean anything"
    );
    let data = gateway
        .query(
            "{ events(first: 100, filter: { jurisdiction: \"220421\", statuses: [CLOSED, RESOLVED],
                 categories: [NEIGHBOR_DISPUTE], reportedFrom: \"2025-01-01T00:00:00Z\",
                 reportedUntil: \"2026-01-01T00:00:00Z\" }) {
                 totalCount nodes { status category reportedAt jurisdiction { code } } } }",
            Value::Null,
        )
        .await;
    assert_eq!(data["events"]["totalCount"], expected);
    for node in data["events"]["nodes"].as_array().into_iter().flatten() {
        assert!(
            node["jurisdiction"]["code"]
                .as_str()
                .is_some_and(|c| c.starts_with("220421"))
        );
        assert_eq!(node["category"], "NEIGHBOR_DISPUTE");
        let reported = node["reportedAt"].as_str().unwrap_or_default();
        assert!(
            ("2025-01-01".."2026-01-01").contains(&reported),
            "{reported}"
        );
    }
}

#[tokio::test]
async fn relations_resolve_both_ways() {
    let gateway = TestGateway::spawn().await;
    let data = gateway
        .query(
            "{ events(first: 20, filter: { jurisdiction: \"220402\" }) { nodes {
                id
                place { events(first: 50) { nodes { id } } }
                parties { role party {
                  ... on Person { events(first: 20) { nodes { id } } }
                  ... on Organization { events(first: 20) { nodes { id } } } } } } }
               persons(first: 20, filter: { jurisdiction: \"220402\" }) { nodes {
                id residence { occupants(first: 50) { nodes { id } } }
                organizations(first: 5) { nodes { members(first: 20) { nodes { id } } } } } } }",
            Value::Null,
        )
        .await;
    let ids = |list: &Value| -> Vec<String> {
        list["nodes"]
            .as_array()
            .map(|n| {
                n.iter()
                    .filter_map(|x| x["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut parties_seen = 0;
    for event in data["events"]["nodes"].as_array().into_iter().flatten() {
        let id = event["id"].as_str().unwrap_or_default().to_owned();
        if !event["place"].is_null() {
            assert!(
                ids(&event["place"]["events"]).contains(&id),
                "place.events holds the event"
            );
        }
        for party in event["parties"].as_array().into_iter().flatten() {
            parties_seen += 1;
            assert!(
                ids(&party["party"]["events"]).contains(&id),
                "a party's events hold the event"
            );
        }
    }
    assert!(parties_seen > 0);
    let mut memberships_seen = 0;
    for person in data["persons"]["nodes"].as_array().into_iter().flatten() {
        let id = person["id"].as_str().unwrap_or_default().to_owned();
        if !person["residence"].is_null() {
            assert!(
                ids(&person["residence"]["occupants"]).contains(&id),
                "the residence's occupants hold the person"
            );
        }
        for organization in person["organizations"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
        {
            memberships_seen += 1;
            assert!(
                ids(&organization["members"]).contains(&id),
                "the organization's members hold the person"
            );
        }
    }
    assert!(memberships_seen > 0);
}

#[tokio::test]
async fn node_fetches_every_type_by_its_global_id() {
    let gateway = TestGateway::spawn().await;
    let data = gateway
        .query(
            "{ persons(first: 1) { nodes { id } } places(first: 1) { nodes { id } }
               things(first: 1) { nodes { id } } organizations(first: 1) { nodes { id } }
               events(first: 1) { nodes { id } } jurisdiction(code: \"220403\") { id }
               department(code: \"220402-MZ\") { id } }",
            Value::Null,
        )
        .await;
    let ids: Vec<(String, &str)> = [
        ("persons", "Person"),
        ("places", "Place"),
        ("things", "Thing"),
        ("organizations", "Organization"),
        ("events", "Event"),
    ]
    .into_iter()
    .map(|(list, type_name)| {
        (
            data[list]["nodes"][0]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            type_name,
        )
    })
    .chain([
        (
            data["jurisdiction"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            "Jurisdiction",
        ),
        (
            data["department"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            "Department",
        ),
    ])
    .collect();
    let all: Vec<&str> = ids.iter().map(|(id, _)| id.as_str()).collect();
    let nodes = gateway
        .query(
            "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
            json!({ "ids": all }),
        )
        .await;
    for (i, (id, type_name)) in ids.iter().enumerate() {
        assert_eq!(nodes["nodes"][i]["__typename"], *type_name);
        assert_eq!(nodes["nodes"][i]["id"], id.as_str());
    }
}

#[tokio::test]
async fn personal_data_is_masked_by_default() {
    let gateway = TestGateway::spawn().await;
    let mut db = gateway.database().await;
    let id_number: String = sqlx::query_scalar("SELECT id_number FROM persons ORDER BY id LIMIT 1")
        .fetch_one(&mut db)
        .await
        .expect("a person");
    let data = gateway
        .query("{ persons(first: 1) { nodes { idNumber } } }", Value::Null)
        .await;
    let shown = data["persons"]["nodes"][0]["idNumber"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_ne!(shown, id_number);
    assert_eq!(shown.len(), id_number.len());
    assert_eq!(&shown[..6], &id_number[..6]);
    assert!(shown.contains("********"), "{shown}");
}

#[tokio::test]
async fn bad_paging_and_filter_arguments_are_field_errors_with_bad_user_input() {
    let gateway = TestGateway::spawn().await;
    for query in [
        "{ persons(first: 5, last: 5) { totalCount } }",
        "{ persons(first: 1000) { totalCount } }",
        "{ persons(first: -1) { totalCount } }",
        "{ persons(after: \"bm9wZQ\") { totalCount } }",
        "{ persons(filter: { jurisdiction: \"22x\" }) { totalCount } }",
        "{ events(filter: { reportedFrom: \"2026-01-01T00:00:00Z\", reportedUntil: \"2025-01-01T00:00:00Z\" }) { totalCount } }",
    ] {
        let (status, body) = gateway.post(query, Value::Null).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{query}: {body}");
        assert_eq!(first_error_code(&body), "BAD_USER_INPUT", "{query}: {body}");
    }
}

#[tokio::test]
async fn department_records_link_entities_to_the_systems_holding_them() {
    let gateway = TestGateway::spawn().await;
    let data = gateway
        .query(
            "{ persons(first: 5, filter: { jurisdiction: \"220422\" }) { nodes {
                departmentRecords { sourceId department { code shortName } } } } }",
            Value::Null,
        )
        .await;
    for person in data["persons"]["nodes"].as_array().into_iter().flatten() {
        let records = person["departmentRecords"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            records
                .iter()
                .any(|r| r["department"]["code"] == "220422-GA"),
            "every person is registered with the county police (户籍): {person}"
        );
    }
}

#[tokio::test]
async fn every_level_of_the_tree_counts_and_lists_what_lies_beneath_it() {
    let gateway = TestGateway::spawn().await;
    let mut db = gateway.database().await;
    let codes: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT ON (level) level, code FROM jurisdictions ORDER BY level, code DESC",
    )
    .fetch_all(&mut db)
    .await
    .expect("one jurisdiction of each level");
    assert_eq!(codes.len(), 5);
    for (level, code) in codes {
        let prefix = if level == "CITY" {
            &code[..4]
        } else {
            code.as_str()
        };
        let persons = count(
            &mut db,
            &format!("SELECT count(*) FROM persons WHERE jurisdiction_code LIKE '{prefix}%'"),
        )
        .await;
        let events = count(
            &mut db,
            &format!("SELECT count(*) FROM events WHERE jurisdiction_code LIKE '{prefix}%'"),
        )
        .await;
        let data = gateway
            .query(
                "query($code: String!) {
                    jurisdiction(code: $code) { persons(first: 5) { totalCount nodes { jurisdiction { code } } }
                                                events { totalCount } }
                    persons(first: 5, filter: { jurisdiction: $code }) { totalCount nodes { jurisdiction { code } } } }",
                json!({ "code": code }),
            )
            .await;
        assert_eq!(
            data["jurisdiction"]["persons"]["totalCount"], persons,
            "{level} {code}"
        );
        assert_eq!(
            data["jurisdiction"]["events"]["totalCount"], events,
            "{level} {code}"
        );
        assert_eq!(data["persons"]["totalCount"], persons, "{level} {code}");
        for list in [&data["jurisdiction"]["persons"], &data["persons"]] {
            let nodes = list["nodes"].as_array().cloned().unwrap_or_default();
            assert_eq!(nodes.len() as i64, persons.min(5), "{level} {code}");
            for node in nodes {
                let filed = node["jurisdiction"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                assert!(filed.starts_with(prefix), "{level} {code}: {filed}");
            }
        }
    }
}

#[tokio::test]
async fn an_organization_names_its_legal_representative_among_its_members() {
    let gateway = TestGateway::spawn().await;
    let mut db = gateway.database().await;
    let data = gateway
        .query(
            "{ organizations(first: 30) { nodes { creditCode legalRepresentative { id name }
                members(first: 20) { nodes { id } } } } }",
            Value::Null,
        )
        .await;
    for organization in data["organizations"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let expected: String = sqlx::query_scalar(
            "SELECT p.name FROM organizations o JOIN organization_members m ON m.organization_id = o.id
             JOIN persons p ON p.id = m.person_id WHERE o.credit_code = $1 AND m.role = 'LEGAL_REPRESENTATIVE'",
        )
        .bind(organization["creditCode"].as_str().unwrap_or_default())
        .fetch_one(&mut db)
        .await
        .expect("every organization has a legal representative");
        let representative = &organization["legalRepresentative"];
        assert_eq!(representative["name"], expected.as_str());
        let members = organization["members"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            members.iter().any(|m| m["id"] == representative["id"]),
            "{organization}"
        );
    }
}

/// The type a field's value is named by, lists and non-nulls unwrapped.
fn named_type(field_type: &Value) -> &Value {
    let mut named = field_type;
    while named["ofType"].is_object() {
        named = &named["ofType"];
    }
    named
}

/// Asserts that `selection`, asked of the items of up to `pages` pages of the list `root`
/// (of `type_name`), answers as it does for the same items looked up by id.
async fn pages_answer_as_lookups(
    gateway: &TestGateway,
    (type_name, root): (&str, &str),
    selection: &str,
    pages: usize,
) {
    let mut after = Value::Null;
    for _ in 0..pages {
        let (_, page) = gateway
            .post(
                &format!(
                    "query($after: String) {{ {root}(first: 100, after: $after) {{
                        pageInfo {{ endCursor hasNextPage }} nodes {{ id {selection} }} }} }}"
                ),
                json!({ "after": after }),
            )
            .await;
        let list = &page["data"][root];
        let listed = &list["nodes"];
        let ids: Vec<&Value> = listed
            .as_array()
            .map(|nodes| nodes.iter().map(|node| &node["id"]).collect())
            .unwrap_or_default();
        assert!(!ids.is_empty(), "{root} {selection}: {page:#}");
        let (_, by_id) = gateway
            .post(
                &format!(
                    "query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on {type_name} {{ id {selection} }} }} }}"
                ),
                json!({ "ids": ids }),
            )
            .await;
        assert_eq!(*listed, by_id["data"]["nodes"], "{root} {selection}");
        if list["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = list["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn a_page_reads_what_each_field_shows() {
    // A page reads only the columns of the fields its query selects: each field of an
    // event, a person and an organization, asked alone in pages, answers as it does for
    // the same rows looked up by id (which read every column); so do the parties' names
    // read with a page of events.
    let database = seeded_database().await;
    let mut config = test_config(&database);
    config.limits.introspection = true;
    let gateway = TestGateway::spawn_with(config, database).await;
    // Columns the data set leaves at their defaults get other values on some events, so
    // that a field reading a column its page left out shows.
    sqlx::query(
        "UPDATE events SET urges = 1 + id % 3, reworks = 1 + id % 2, longitude = 125.1,
                latitude = 42.9, photos = ARRAY['https://photos.example/' || id],
                overdue_at = reported_at, satisfaction = 1 + id % 5, tier = 'MEDIATION'
          WHERE id % 5 = 0",
    )
    .execute(&mut gateway.database().await)
    .await
    .expect("events updated");
    let introspect =
        "query($name: String!) { __type(name: $name) { fields(includeDeprecated: true) {
        name args { defaultValue type { kind } }
        type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }";
    let fields_of = async |name: &str| {
        let data = gateway.query(introspect, json!({ "name": name })).await;
        data["__type"]["fields"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    for (type_name, root, pages) in [
        ("Event", "events", 15),
        ("Person", "persons", 3),
        ("Organization", "organizations", 6),
    ] {
        let fields = fields_of(type_name).await;
        assert!(fields.len() > 10, "{type_name}: {fields:#?}");
        let mut compared = 0;
        for field in &fields {
            let name = field["name"].as_str().unwrap_or_default();
            let takes_required = field["args"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|arg| arg["type"]["kind"] == "NON_NULL" && arg["defaultValue"].is_null());
            if takes_required {
                continue;
            }
            // An object is told apart by its id or code where it has one.
            let named = named_type(&field["type"]);
            let selection = match named["kind"].as_str() {
                Some("SCALAR" | "ENUM") => name.to_owned(),
                Some("OBJECT") => {
                    let inner = fields_of(named["name"].as_str().unwrap_or_default()).await;
                    let key = ["id", "code"]
                        .into_iter()
                        .find(|key| inner.iter().any(|f| f["name"] == *key))
                        .unwrap_or("__typename");
                    format!("{name} {{ __typename {key} }}")
                }
                _ => format!("{name} {{ __typename }}"),
            };
            pages_answer_as_lookups(&gateway, (type_name, root), &selection, pages).await;
            compared += 1;
        }
        assert!(compared > 10, "{type_name}: {compared} fields compared");
    }
    let parties =
        "parties { role party { ... on Person { id name } ... on Organization { id name } } }";
    pages_answer_as_lookups(&gateway, ("Event", "events"), parties, 15).await;
}
