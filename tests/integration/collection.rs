//! 网格员信息采集: a grid worker creates and updates the elements of their grids, what
//! they type is checked, duplicates are offered for merging and merged, and every change
//! is on the element's history.

use serde_json::{Value, json};

use crate::access::{call, gateway_with, token};
use crate::departments::global_id;
use crate::helpers::{TestGateway, first_error_code};

/// A grid of 东辽县 (220422) and one of another township of it.
const GRID: &str = "220422001001001";

fn key() -> String {
    format!("collect-{}", fastrand::u64(..))
}

/// A valid 18-character ID number born on `birth` (YYYYMMDD), `sequence` 0–999 (odd:
/// a man).
fn id_number(birth: &str, sequence: u32) -> String {
    let first17 = format!("220422{birth}{sequence:03}");
    let check = schema::identifiers::id_number_check(&first17).expect("17 digits");
    format!("{first17}{check}")
}

fn credit_code(body: &str) -> String {
    let first17 = format!("9122042{body}");
    let check = schema::identifiers::credit_code_check(&first17).expect("17 characters");
    format!("{first17}{check}")
}

const CREATE_PERSON: &str = "mutation($k: String!, $input: PersonInput!, $distinct: [ID!]) {
    createPerson(idempotencyKey: $k, input: $input, distinctFrom: $distinct) {
        replayed
        element { ... on Person { id name gender birthDate grid { code } } }
        duplicates { reason similarity element { ... on Person { id } } }
        changes { kind source changes }
    }
}";

const CREATE_PLACE: &str = "mutation($k: String!, $input: PlaceInput!, $distinct: [ID!]) {
    createPlace(idempotencyKey: $k, input: $input, distinctFrom: $distinct) {
        replayed
        element { ... on Place { id name grid { code } } }
        duplicates { reason element { ... on Place { id name } } }
        changes { kind }
    }
}";

async fn grid_worker(gateway: &TestGateway) -> String {
    let _ = gateway;
    token("GRID_WORKER", GRID, None)
}

fn error_message(body: &Value) -> String {
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_grid_worker_collects_in_their_grid_and_nowhere_else() {
    let gateway = gateway_with(|_| {}).await;
    let worker = grid_worker(&gateway).await;
    let other_grid = gateway.grid_of("220402").await;

    let mut input = json!({ "name": "李秀兰", "idNumber": id_number("19560312", 22),
                            "phone": "139 0437 1234", "gridCode": GRID });
    let body = call(
        &gateway,
        &worker,
        None,
        CREATE_PERSON,
        json!({ "k": key(), "input": input }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    let created = &body["data"]["createPerson"];
    // Gender and birth date come from the ID number.
    assert_eq!(created["element"]["gender"], "FEMALE");
    assert_eq!(created["element"]["birthDate"], "1956-03-12");
    assert_eq!(created["element"]["grid"]["code"], GRID);
    assert_eq!(created["changes"][0]["kind"], "CREATED");
    assert_eq!(created["changes"][0]["source"], "GRID");
    // Without a purpose, the phone on the history is masked.
    let phone = created["changes"][0]["changes"]["phone"]["after"]
        .as_str()
        .unwrap_or_default();
    assert!(phone.contains('*'), "{phone}");

    // Another county's grid: refused, nothing written.
    input["idNumber"] = json!(id_number("19600101", 31));
    input["gridCode"] = json!(other_grid);
    let body = call(
        &gateway,
        &worker,
        None,
        CREATE_PERSON,
        json!({ "k": key(), "input": input }),
    )
    .await;
    assert_eq!(first_error_code(&body), "FORBIDDEN", "{body}");

    // An element elsewhere does not exist for them.
    let elsewhere: i64 =
        sqlx::query_scalar("SELECT id FROM places WHERE jurisdiction_code = $1 LIMIT 1")
            .bind(&other_grid)
            .fetch_one(&mut gateway.database().await)
            .await
            .expect("a place");
    let update = "mutation($k: String!, $id: ID!) { updatePlace(idempotencyKey: $k, id: $id,
        input: { name: \"改名\" }) { replayed } }";
    let body = call(
        &gateway,
        &worker,
        None,
        update,
        json!({ "k": key(), "id": global_id("Place", elsewhere) }),
    )
    .await;
    assert_eq!(first_error_code(&body), "NOT_FOUND", "{body}");

    // Department staff and analysts do not collect.
    for role in ["ANALYST", "SUPERVISOR"] {
        let body = call(&gateway, &token(role, "220422", None), None, CREATE_PLACE, json!({
            "k": key(), "input": { "name": "新店", "kind": "SHOP", "address": "建设路1号", "gridCode": GRID }
        })).await;
        assert_eq!(first_error_code(&body), "FORBIDDEN", "{role}: {body}");
    }
}

#[tokio::test]
async fn what_a_grid_worker_types_is_checked() {
    let gateway = gateway_with(|_| {}).await;
    let worker = grid_worker(&gateway).await;
    let good = id_number("19800101", 11);
    let mistyped = format!(
        "{}{}",
        &good[..17],
        if good.ends_with('0') { '1' } else { '0' }
    );
    let township: String = sqlx::query_scalar(
        "SELECT name FROM jurisdictions WHERE level = 'TOWNSHIP' AND code LIKE '220421%' ORDER BY code LIMIT 1",
    )
    .fetch_one(&mut gateway.database().await)
    .await
    .expect("a township of 东丰县");
    let grid_box: (f64, f64, f64, f64) = sqlx::query_as(
        "SELECT ST_XMin(boundary), ST_YMin(boundary), ST_XMax(boundary), ST_YMax(boundary) \
         FROM jurisdictions WHERE code = $1",
    )
    .bind(GRID)
    .fetch_one(&mut gateway.database().await)
    .await
    .expect("the grid's box");
    let inside = (
        (grid_box.0 + grid_box.2) / 2.0,
        (grid_box.1 + grid_box.3) / 2.0,
    );

    let person = |fields: Value| (CREATE_PERSON, fields);
    let place = |fields: Value| (CREATE_PLACE, fields);
    let organization = "mutation($k: String!, $input: OrganizationInput!) {
        createOrganization(idempotencyKey: $k, input: $input) { replayed } }";
    let cases: Vec<((&str, Value), &str)> = vec![
        (
            person(json!({ "name": "王强", "idNumber": mistyped, "gridCode": GRID })),
            "check character should be",
        ),
        (
            person(json!({ "name": "王强", "idNumber": "22042219801301113X", "gridCode": GRID })),
            "birth date",
        ),
        (
            person(json!({ "name": "王强", "idNumber": "2204221980", "gridCode": GRID })),
            "18 characters",
        ),
        (
            person(json!({ "name": "王强", "idNumber": good, "phone": "12345", "gridCode": GRID })),
            "phone number",
        ),
        (
            person(json!({ "name": " ", "idNumber": good, "gridCode": GRID })),
            "`name` is 1 to 50",
        ),
        (
            person(json!({ "name": "王强", "idNumber": good })),
            "gridCode",
        ),
        (
            person(json!({ "name": "王强", "idNumber": good, "gridCode": "2204" })),
            "not a jurisdiction code",
        ),
        (
            person(json!({ "name": "王强", "idNumber": good, "gridCode": "220422001001" })),
            "not a grid",
        ),
        (
            place(
                json!({ "name": "新店", "kind": "SHOP", "address": format!("东丰县{township}建设路1号"), "gridCode": GRID }),
            ),
            "which grid `220422001001001` is not in",
        ),
        (
            place(
                json!({ "name": "新店", "kind": "SHOP", "address": "建设路1号",
                       "longitude": 125.6, "latitude": 42.7, "gridCode": GRID }),
            ),
            "the position lies in grid `220421",
        ),
        (
            place(
                json!({ "name": "新店", "kind": "SHOP", "address": "建设路1号",
                       "longitude": 126.55, "latitude": 43.84 }),
            ),
            "lies in no grid of the city",
        ),
        (
            place(
                json!({ "name": "新店", "kind": "SHOP", "address": "建设路1号", "longitude": inside.0 }),
            ),
            "both longitude and latitude",
        ),
        (
            (
                organization,
                json!({ "name": "辽源市新星商贸有限公司", "kind": "ENTERPRISE",
                                "creditCode": "91220422MA0000000Z", "gridCode": GRID }),
            ),
            "credit code",
        ),
    ];
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM element_history")
        .fetch_one(&mut gateway.database().await)
        .await
        .expect("a count");
    for ((query, input), expected) in cases {
        let body = call(
            &gateway,
            &worker,
            None,
            query,
            json!({ "k": key(), "input": input }),
        )
        .await;
        assert_eq!(first_error_code(&body), "BAD_USER_INPUT", "{input}: {body}");
        assert!(
            error_message(&body).contains(expected),
            "{input}: {}",
            error_message(&body)
        );
    }
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM element_history")
        .fetch_one(&mut gateway.database().await)
        .await
        .expect("a count");
    assert_eq!(after, before, "nothing written");

    // A place given only its position is filed in the grid it lies in; its address may
    // name its own county.
    let body = call(
        &gateway,
        &worker,
        None,
        CREATE_PLACE,
        json!({ "k": key(), "input": {
        "name": "便民超市", "kind": "SHOP", "address": "东辽县建设路1号",
        "longitude": inside.0, "latitude": inside.1 } }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["createPlace"]["element"]["grid"]["code"], GRID);
    let organization_ok = credit_code("2MA17X8K3Q");
    let body = call(&gateway, &worker, None, organization, json!({ "k": key(), "input": {
        "name": "辽源市新星商贸有限公司", "kind": "ENTERPRISE", "creditCode": organization_ok.to_lowercase(), "gridCode": GRID } })).await;
    assert!(body.get("errors").is_none(), "{body}");
}

#[tokio::test]
async fn duplicates_are_offered_then_merged_with_links_and_events_following() {
    let gateway = gateway_with(|_| {}).await;
    let worker = grid_worker(&gateway).await;
    let mut db = gateway.database().await;

    // The same ID number as someone already there: never written twice.
    let (existing, existing_number): (i64, String) = sqlx::query_as(
        "SELECT id, id_number FROM persons WHERE jurisdiction_code = $1 ORDER BY id LIMIT 1",
    )
    .bind(GRID)
    .fetch_one(&mut db)
    .await
    .expect("a resident");
    let input = json!({ "name": "张伟", "idNumber": existing_number, "gridCode": GRID });
    for distinct in [json!([]), json!([global_id("Person", existing)])] {
        let body = call(
            &gateway,
            &worker,
            None,
            CREATE_PERSON,
            json!({ "k": key(), "input": input, "distinct": distinct }),
        )
        .await;
        let payload = &body["data"]["createPerson"];
        assert!(
            payload.is_object() && payload["element"].is_null(),
            "{body}"
        );
        assert_eq!(payload["duplicates"][0]["reason"], "SAME_ID_NUMBER");
        assert_eq!(
            payload["duplicates"][0]["element"]["id"],
            global_id("Person", existing)
        );
        assert_eq!(payload["changes"], json!([]));
    }

    // A place of the same name 10 m from one already there: offered, not written...
    let (longitude, latitude) = (124.9, 42.9);
    let name = "测重复便民店";
    let grid: String = sqlx::query_scalar(
        "SELECT code FROM jurisdictions WHERE level = 'GRID' \
         AND ST_Covers(boundary, ST_SetSRID(ST_MakePoint($1, $2), 4326))",
    )
    .bind(longitude)
    .bind(latitude)
    .fetch_one(&mut db)
    .await
    .expect("the grid at the point");
    let shop: i64 = sqlx::query_scalar(
        "INSERT INTO places (name, kind, address, jurisdiction_code, longitude, latitude) \
         VALUES ($1, 'SHOP', '东辽县某路8号', $2, $3, $4) RETURNING id",
    )
    .bind(name)
    .bind(&grid)
    .bind(longitude)
    .bind(latitude)
    .fetch_one(&mut db)
    .await
    .expect("a shop");
    let worker = token("GRID_WORKER", &grid, None);
    let copy = json!({ "name": name, "kind": "SHOP", "address": "东辽县某路9号",
                       "longitude": longitude + 0.0001, "latitude": latitude });
    let body = call(
        &gateway,
        &worker,
        None,
        CREATE_PLACE,
        json!({ "k": key(), "input": copy }),
    )
    .await;
    let payload = &body["data"]["createPlace"];
    assert!(
        payload.is_object() && payload["element"].is_null(),
        "{body}"
    );
    assert_eq!(
        payload["duplicates"][0]["reason"],
        "SIMILAR_NAME_AND_ADDRESS"
    );
    assert_eq!(
        payload["duplicates"][0]["element"]["id"],
        global_id("Place", shop)
    );
    // ...written when the collector says it is another place...
    let body = call(
        &gateway,
        &worker,
        None,
        CREATE_PLACE,
        json!({ "k": key(), "input": copy,
        "distinct": [global_id("Place", shop)] }),
    )
    .await;
    let copy_id = body["data"]["createPlace"]["element"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!copy_id.is_empty(), "{body}");
    let copy_number: i64 = {
        use base64::Engine;
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&copy_id)
            .unwrap_or_default();
        String::from_utf8_lossy(&decoded)
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .parse()
            .unwrap_or_default()
    };

    // ...and later found to be the same, once things hang off both.
    let resident: i64 = sqlx::query_scalar(
        "UPDATE persons SET residence_place_id = $1 WHERE id = (SELECT min(id) FROM persons WHERE jurisdiction_code = $2) RETURNING id",
    )
    .bind(copy_number)
    .bind(&grid)
    .fetch_one(&mut db)
    .await
    .expect("a resident of the copy");
    let event: i64 = sqlx::query_scalar(
        "INSERT INTO events (title, description, category, channel, urgency, status, place_id, \
           jurisdiction_code, reported_at, updated_at) \
         VALUES ('门前积水', '门前积水', 'CITY_APPEARANCE', 'GRID_TERMINAL', 'NORMAL', 'REPORTED', $1, $2, now(), now()) RETURNING id",
    )
    .bind(copy_number)
    .bind(&grid)
    .fetch_one(&mut db)
    .await
    .expect("an event at the copy");
    let departments: Vec<String> = sqlx::query_scalar(
        "SELECT code FROM departments WHERE county_code = '220422' ORDER BY code LIMIT 2",
    )
    .fetch_all(&mut db)
    .await
    .expect("departments");
    sqlx::query("DELETE FROM entity_links WHERE entity_id = $1")
        .bind(shop)
        .execute(&mut db)
        .await
        .expect("no links on the kept place");
    for (entity, department, source) in [
        (shop, &departments[0], "KEEP-1"),
        (copy_number, &departments[0], "COPY-1"),
        (copy_number, &departments[1], "COPY-2"),
    ] {
        sqlx::query(
            "INSERT INTO entity_links (entity_id, department_code, source_id) VALUES ($1, $2, $3)",
        )
        .bind(entity)
        .bind(department)
        .bind(source)
        .execute(&mut db)
        .await
        .expect("a link");
    }

    let merge = "mutation($k: String!, $keep: ID!, $dup: ID!) {
        mergeElements(idempotencyKey: $k, keepId: $keep, duplicateId: $dup) {
            replayed element { ... on Place { id } } changes { kind detail } } }";
    let merge_key = key();
    let variables = json!({ "k": merge_key, "keep": global_id("Place", shop), "dup": copy_id });
    let body = call(&gateway, &worker, None, merge, variables.clone()).await;
    assert!(body.get("errors").is_none(), "{body}");
    let payload = &body["data"]["mergeElements"];
    assert_eq!(payload["changes"][0]["kind"], "MERGED");
    assert_eq!(payload["changes"][1]["kind"], "MERGED_INTO");
    let detail = &payload["changes"][0]["detail"];
    assert_eq!(detail["moved"]["events"], 1);
    assert_eq!(detail["moved"]["residents"], 1);
    assert_eq!(
        detail["linksMoved"],
        json!([{ "department": departments[1], "sourceId": "COPY-2" }])
    );
    assert_eq!(
        detail["linksDropped"],
        json!([{ "department": departments[0], "sourceId": "COPY-1" }])
    );

    // The event, the resident and the link follow; the copy is gone.
    let (event_place, home): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT place_id FROM events WHERE id = $1), (SELECT residence_place_id FROM persons WHERE id = $2)",
    )
    .bind(event)
    .bind(resident)
    .fetch_one(&mut db)
    .await
    .expect("references");
    assert_eq!((event_place, home), (shop, shop));
    let links: Vec<String> = sqlx::query_scalar(
        "SELECT source_id FROM entity_links WHERE entity_id = $1 ORDER BY source_id",
    )
    .bind(shop)
    .fetch_all(&mut db)
    .await
    .expect("links");
    assert_eq!(links, ["COPY-2", "KEEP-1"]);
    let read = "query($id: ID!) { node(id: $id) { id } }";
    let body = call(&gateway, &worker, None, read, json!({ "id": copy_id })).await;
    assert_eq!(body["data"]["node"], Value::Null, "{body}");

    // The same key again replays; with other arguments it is refused.
    let body = call(&gateway, &worker, None, merge, variables).await;
    assert_eq!(body["data"]["mergeElements"]["replayed"], true, "{body}");
    let body = call(
        &gateway,
        &worker,
        None,
        merge,
        json!({ "k": merge_key, "keep": global_id("Place", shop), "dup": global_id("Place", 1) }),
    )
    .await;
    assert_eq!(first_error_code(&body), "IDEMPOTENCY_KEY_REUSED", "{body}");
    let body = call(&gateway, &worker, None, merge,
        json!({ "k": key(), "keep": global_id("Place", shop), "dup": global_id("Person", resident) })).await;
    assert_eq!(first_error_code(&body), "BAD_USER_INPUT", "{body}");
}

#[tokio::test]
async fn every_change_is_on_the_history_before_and_after() {
    let gateway = gateway_with(|_| {}).await;
    let worker = grid_worker(&gateway).await;
    let dispatcher = token("DISPATCHER", "220422001", None);
    let body = call(&gateway, &worker, None, CREATE_PERSON, json!({ "k": key(), "input": {
        "name": "赵敏", "idNumber": id_number("19900505", 48), "phone": "13904371234", "gridCode": GRID } })).await;
    let person = body["data"]["createPerson"]["element"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!person.is_empty(), "{body}");

    let update = "mutation($k: String!, $id: ID!, $input: PersonInput!) {
        updatePerson(idempotencyKey: $k, id: $id, input: $input) { replayed changes { kind } } }";
    let change = json!({ "k": key(), "id": person, "input": { "phone": "0437-3216688" } });
    let body = call(&gateway, &worker, None, update, change.clone()).await;
    assert_eq!(
        body["data"]["updatePerson"]["changes"][0]["kind"], "UPDATED",
        "{body}"
    );
    // The same change again, under a new key, changes nothing and writes nothing.
    let mut again = change.clone();
    again["k"] = json!(key());
    let body = call(&gateway, &worker, None, update, again).await;
    assert_eq!(body["data"]["updatePerson"]["changes"], json!([]), "{body}");
    // Clearing the phone.
    let body = call(
        &gateway,
        &worker,
        None,
        update,
        json!({ "k": key(), "id": person, "input": { "phone": null } }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");

    // An organization, and the person joining it: on both histories.
    let org = "mutation($k: String!, $input: OrganizationInput!) { createOrganization(idempotencyKey: $k, input: $input) {
        element { ... on Organization { id } } } }";
    let body = call(&gateway, &worker, None, org, json!({ "k": key(), "input": {
        "name": "辽源市赵氏便利店", "kind": "INDIVIDUAL_BUSINESS", "creditCode": credit_code("2MA0HUA001"), "gridCode": GRID } })).await;
    let organization = body["data"]["createOrganization"]["element"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!organization.is_empty(), "{body}");
    let join = "mutation($k: String!, $o: ID!, $p: ID!) {
        addMember(idempotencyKey: $k, organizationId: $o, personId: $p, role: LEGAL_REPRESENTATIVE) { changes { kind } } }";
    let body = call(
        &gateway,
        &worker,
        None,
        join,
        json!({ "k": key(), "o": organization, "p": person }),
    )
    .await;
    assert_eq!(
        body["data"]["addMember"]["changes"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{body}"
    );

    let history = "query($id: ID!) { node(id: $id) { ... on Person {
        phone history { kind source actor { name role } changes detail } } } }";
    // Read in clear by a dispatcher stating a purpose.
    let body = call(
        &gateway,
        &dispatcher,
        Some("入户核查"),
        history,
        json!({ "id": person }),
    )
    .await;
    let entries = body["data"]["node"]["history"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let kinds: Vec<&str> = entries.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        ["CREATED", "UPDATED", "UPDATED", "MEMBER_ADDED"],
        "{body}"
    );
    assert_eq!(entries[0]["actor"]["role"], "GRID_WORKER");
    assert_eq!(
        entries[1]["changes"],
        json!({ "phone": { "before": "13904371234", "after": "0437-3216688" } })
    );
    assert_eq!(
        entries[2]["changes"],
        json!({ "phone": { "before": "0437-3216688", "after": null } })
    );
    assert_eq!(
        entries[3]["changes"]["role"]["after"],
        "LEGAL_REPRESENTATIVE"
    );
    assert_eq!(body["data"]["node"]["phone"], Value::Null);
}
