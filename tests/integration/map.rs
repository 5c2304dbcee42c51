//! One map: which grid a point is in, what lies within a distance, and GeoJSON that a
//! real parser reads.
//!
//! Hand-checked geometry. The counties are fixed rectangles of the seeded map: 东辽县
//! (220422) 124.70–125.08 E, 龙山区 (220402) 125.08–125.22 E south of 42.91 N, 东丰县
//! (220421) 125.22–125.85 E, all 42.45–43.15 N. Around (125.5, 42.8) in 东丰县, at
//! latitude 42.8°, a degree of longitude is about 81.8 km and one of latitude 111.1 km, so
//! a point 0.0037° east is about 303 m away and one 0.0063° north about 700 m.

use geojson::{FeatureCollection, GeoJson, Value as Geometry};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgConnection;

use crate::access::{gateway_with, token};
use crate::helpers::{TestGateway, content_type, first_error_code};

const CENTRE: (f64, f64) = (125.5, 42.8);
const EAST_303_M: (f64, f64) = (125.5037, 42.8);
const NORTH_700_M: (f64, f64) = (125.5, 42.8063);

const AT: &str = "query($lon: Float!, $lat: Float!) {
    at(longitude: $lon, latitude: $lat) { code level parent { level parent { level } } }
}";

async fn grid_at(gateway: &TestGateway, point: (f64, f64)) -> Value {
    gateway
        .query(AT, json!({ "lon": point.0, "lat": point.1 }))
        .await["at"]
        .clone()
}

#[tokio::test]
async fn a_point_is_in_one_grid_on_an_edge_the_lower_code_and_outside_the_city_none() {
    let gateway = TestGateway::spawn().await;

    let inside = grid_at(&gateway, CENTRE).await;
    let code = inside["code"].as_str().unwrap_or_default();
    assert!(code.starts_with("220421") && code.len() == 15, "{inside}");
    assert_eq!(inside["level"], "GRID");
    assert_eq!(inside["parent"]["level"], "COMMUNITY");
    assert_eq!(inside["parent"]["parent"]["level"], "TOWNSHIP");

    // On the line between 东辽县 and 龙山区: in both, and 220402 is the lower code.
    let edge = grid_at(&gateway, (125.08, 42.6)).await;
    assert!(
        edge["code"]
            .as_str()
            .unwrap_or_default()
            .starts_with("220402"),
        "{edge}"
    );
    // On the city's own western edge, and a hair inside it.
    for point in [(124.70, 42.8), (124.7001, 42.8)] {
        let west = grid_at(&gateway, point).await;
        assert!(
            west["code"]
                .as_str()
                .unwrap_or_default()
                .starts_with("220422"),
            "{west}"
        );
    }
    // Jilin city, and a hair outside the western edge.
    for point in [(126.55, 43.84), (124.6999, 42.8)] {
        assert_eq!(grid_at(&gateway, point).await, Value::Null, "{point:?}");
    }

    let (_, body) = gateway.post(AT, json!({ "lon": 200.0, "lat": 42.8 })).await;
    assert_eq!(first_error_code(&body), "BAD_USER_INPUT", "{body}");
}

struct Fixture {
    grid: String,
    far_grid: String,
    events: [i64; 3],
}

async fn place(db: &mut PgConnection, name: &str, grid: &str, at: (f64, f64)) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO places (name, kind, address, jurisdiction_code, longitude, latitude) \
         VALUES ($1, 'SHOP', '测距路1号', $2, $3, $4) RETURNING id",
    )
    .bind(name)
    .bind(grid)
    .bind(at.0)
    .bind(at.1)
    .fetch_one(db)
    .await
    .expect("a place")
}

async fn event(
    db: &mut PgConnection,
    title: &str,
    grid: &str,
    place: i64,
    own: Option<(f64, f64)>,
    status: &str,
) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO events (title, description, category, channel, urgency, status, place_id, \
           jurisdiction_code, reported_at, updated_at, longitude, latitude) \
         VALUES ($1, '测距', 'SAFETY_HAZARD', 'GRID_TERMINAL', 'NORMAL', $2, $3, $4, now(), now(), $5, $6) \
         RETURNING id",
    )
    .bind(title)
    .bind(status)
    .bind(place)
    .bind(grid)
    .bind(own.map(|p| p.0))
    .bind(own.map(|p| p.1))
    .fetch_one(db)
    .await
    .expect("an event")
}

/// Places at the centre, 303 m east and 700 m north; a thing at the eastern one; events
/// at the centre (its own position, though its place is the northern one), at the
/// northern place (no position of its own), and far away in 东辽县 (resolved).
async fn fixture(gateway: &TestGateway) -> Fixture {
    let mut db = gateway.database().await;
    let grid: String = sqlx::query_scalar(
        "SELECT code FROM jurisdictions WHERE level = 'GRID' \
         AND ST_Covers(boundary, ST_SetSRID(ST_MakePoint($1, $2), 4326))",
    )
    .bind(CENTRE.0)
    .bind(CENTRE.1)
    .fetch_one(&mut db)
    .await
    .expect("the centre's grid");
    let far_grid = gateway.grid_of("220422").await;
    let _centre = place(&mut db, "测距中心店", &grid, CENTRE).await;
    let east = place(&mut db, "测距东店", &grid, EAST_303_M).await;
    let north = place(&mut db, "测距北店", &grid, NORTH_700_M).await;
    let far = place(&mut db, "测距远店", &far_grid, (124.9, 42.9)).await;
    sqlx::query(
        "INSERT INTO things (name, kind, identifier, place_id, jurisdiction_code) \
         VALUES ('测距电梯', 'ELEVATOR', 'CJ-001', $1, $2)",
    )
    .bind(east)
    .bind(&grid)
    .execute(&mut db)
    .await
    .expect("a thing");
    let own = event(&mut db, "测距甲", &grid, north, Some(CENTRE), "ACCEPTED").await;
    let at_place = event(&mut db, "测距乙", &grid, north, None, "REPORTED").await;
    let resolved = event(&mut db, "测距丙", &far_grid, far, None, "RESOLVED").await;
    Fixture {
        grid,
        far_grid,
        events: [own, at_place, resolved],
    }
}

fn names(connection: &Value) -> Vec<String> {
    let mut names: Vec<String> = connection["nodes"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .filter_map(|n| n["name"].as_str().or(n["title"].as_str()))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn places_things_and_events_within_a_distance() {
    let gateway = TestGateway::spawn().await;
    let f = fixture(&gateway).await;
    let within = |radius: i64| json!({ "within": { "longitude": CENTRE.0, "latitude": CENTRE.1, "radiusM": radius } });
    let query = "query($p: PlaceFilter, $t: ThingFilter, $e: EventFilter) {
        places(filter: $p) { nodes { name } }
        things(filter: $t) { nodes { name } }
        events(filter: $e) { nodes { title } }
    }";
    let ask = |radius: i64| {
        let mut places = within(radius);
        places["nameStartsWith"] = json!("测距");
        let things = places.clone();
        let mut events = within(radius);
        events["titleStartsWith"] = json!("测距");
        json!({ "p": places, "t": things, "e": events })
    };

    let data = gateway.query(query, ask(250)).await;
    assert_eq!(names(&data["places"]), ["测距中心店"]);
    assert!(names(&data["things"]).is_empty());
    // Its own position (the centre) counts, not its place's (700 m north).
    assert_eq!(names(&data["events"]), ["测距甲"]);

    let data = gateway.query(query, ask(500)).await;
    assert_eq!(names(&data["places"]), ["测距东店", "测距中心店"]);
    assert_eq!(names(&data["things"]), ["测距电梯"]);
    assert_eq!(names(&data["events"]), ["测距甲"]);

    let data = gateway.query(query, ask(800)).await;
    assert_eq!(
        names(&data["places"]),
        ["测距东店", "测距中心店", "测距北店"]
    );
    assert_eq!(names(&data["events"]), ["测距乙", "测距甲"]);

    // Nearby events of an event, itself left out: the second event is 700 m north.
    let nearby = "query($id: ID!, $r: Int!) { node(id: $id) { ... on Event {
        nearby(radiusM: $r, filter: { titleStartsWith: \"测距\" }) { totalCount nodes { title } } } } }";
    let id = crate::departments::global_id("Event", f.events[0]);
    let data = gateway.query(nearby, json!({ "id": id, "r": 500 })).await;
    assert_eq!(data["node"]["nearby"]["totalCount"], 0, "{data}");
    let data = gateway.query(nearby, json!({ "id": id, "r": 800 })).await;
    assert_eq!(names(&data["node"]["nearby"]), ["测距乙"]);

    let (_, body) = gateway.post(query, ask(0)).await;
    assert_eq!(first_error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(f.far_grid.starts_with("220422") && f.grid.starts_with("220421"));
}

async fn get(gateway: &TestGateway, token: &str, path: &str) -> (StatusCode, String, String) {
    let response = gateway
        .client
        .get(gateway.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("the gateway answers");
    let status = response.status();
    let kind = content_type(&response);
    (status, kind, response.text().await.unwrap_or_default())
}

fn collection(text: &str) -> FeatureCollection {
    match text.parse::<GeoJson>() {
        Ok(GeoJson::FeatureCollection(collection)) => collection,
        other => panic!("not a FeatureCollection: {other:?}\n{text}"),
    }
}

/// The rings of a polygon or multipolygon.
fn rings(geometry: &Geometry) -> Vec<Vec<Vec<f64>>> {
    match geometry {
        Geometry::Polygon(rings) => rings.clone(),
        Geometry::MultiPolygon(polygons) => polygons.iter().flatten().cloned().collect(),
        other => panic!("not a polygon: {other:?}"),
    }
}

/// Planar area in square degrees (shoelace).
fn area(geometry: &Geometry) -> f64 {
    rings(geometry)
        .iter()
        .map(|ring| {
            ring.windows(2)
                .map(|pair| pair[0][0] * pair[1][1] - pair[1][0] * pair[0][1])
                .sum::<f64>()
                .abs()
                / 2.0
        })
        .sum()
}

fn text_property(feature: &geojson::Feature, name: &str) -> String {
    feature
        .property(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn boundaries_and_open_events_as_geojson() {
    let gateway = gateway_with(|_| {}).await;
    let f = fixture(&gateway).await;
    let city = token("ANALYST", "220400", None);
    let township = &f.grid[..9];

    // The township's grids tile it: as many as the tree has, inside it, the same area.
    let (status, kind, text) = get(
        &gateway,
        &city,
        &format!("/export/boundaries.geojson?jurisdiction={township}&level=GRID"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(kind, "application/geo+json");
    let grids = collection(&text);
    let expected: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM jurisdictions WHERE level = 'GRID' AND code LIKE $1 || '%'",
    )
    .bind(township)
    .fetch_one(&mut gateway.database().await)
    .await
    .expect("a count");
    assert_eq!(grids.features.len() as i64, expected);
    assert!(
        grids
            .features
            .iter()
            .all(|g| text_property(g, "code").starts_with(township))
    );
    let (_, _, text) = get(
        &gateway,
        &city,
        &format!(
            "/export/boundaries.geojson?jurisdiction={}&level=TOWNSHIP",
            &f.grid[..6]
        ),
    )
    .await;
    let townships = collection(&text);
    let whole = townships
        .features
        .iter()
        .find(|t| text_property(t, "code") == township)
        .and_then(|t| t.geometry.as_ref())
        .map(|g| area(&g.value))
        .expect("the township's polygon");
    let tiled: f64 = grids
        .features
        .iter()
        .filter_map(|g| g.geometry.as_ref())
        .map(|g| area(&g.value))
        .sum();
    assert!((tiled - whole).abs() < whole * 1e-6, "{tiled} vs {whole}");

    // Open events as points: the centre (its own position) and the northern place.
    let (status, _, text) = get(
        &gateway,
        &city,
        "/export/events.geojson?open=true&titleStartsWith=%E6%B5%8B%E8%B7%9D",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let events = collection(&text);
    let mut points: Vec<(String, Vec<f64>)> = events
        .features
        .iter()
        .map(|e| {
            let point = match e.geometry.as_ref().map(|g| &g.value) {
                Some(Geometry::Point(point)) => point.clone(),
                other => panic!("not a point: {other:?}"),
            };
            (text_property(e, "title"), point)
        })
        .collect();
    points.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        points,
        [
            ("测距乙".to_owned(), vec![NORTH_700_M.0, NORTH_700_M.1]),
            ("测距甲".to_owned(), vec![CENTRE.0, CENTRE.1]),
        ]
    );
    let (_, _, text) = get(
        &gateway,
        &city,
        "/export/events.geojson?open=false&titleStartsWith=%E6%B5%8B%E8%B7%9D&within=124.9,42.9,10",
    )
    .await;
    let resolved = collection(&text);
    assert_eq!(resolved.features.len(), 1);
    assert_eq!(
        resolved.features[0].id,
        Some(geojson::feature::Id::Number(f.events[2].into()))
    );

    // A county sees its own boundaries only; another county's subtree is empty.
    let longshan = token("ANALYST", "220402", None);
    let (_, _, text) = get(
        &gateway,
        &longshan,
        "/export/boundaries.geojson?level=COUNTY",
    )
    .await;
    let counties = collection(&text);
    assert_eq!(counties.features.len(), 1);
    assert_eq!(text_property(&counties.features[0], "code"), "220402");
    let (_, _, text) = get(
        &gateway,
        &longshan,
        "/export/boundaries.geojson?jurisdiction=220421",
    )
    .await;
    assert!(collection(&text).features.is_empty());

    for (path, status) in [
        (
            "/export/boundaries.geojson?level=PROVINCE",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/export/boundaries.geojson?statuses=CLOSED",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/export/events.geojson?within=125,42",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/export/events.geojson?within=125,42,0",
            StatusCode::BAD_REQUEST,
        ),
        ("/export/summonses.geojson", StatusCode::NOT_FOUND),
        ("/export/boundaries.csv", StatusCode::NOT_FOUND),
    ] {
        let (got, _, text) = get(&gateway, &city, path).await;
        assert_eq!(got, status, "{path}: {text}");
    }
}

#[tokio::test]
async fn the_seeded_grids_tile_their_townships_and_hold_their_places() {
    let gateway = TestGateway::spawn().await;
    let mut db = gateway.database().await;
    let (outside, overlapping, unequal): (i64, i64, i64) = sqlx::query_as(
        "SELECT \
           (SELECT count(*) FROM places p JOIN jurisdictions g ON g.code = p.jurisdiction_code \
             WHERE NOT ST_Covers(g.boundary, p.position::geometry)), \
           (SELECT count(*) FROM jurisdictions a JOIN jurisdictions b \
              ON a.level = 'GRID' AND b.level = 'GRID' AND a.code < b.code \
             AND a.boundary && b.boundary AND ST_Relate(a.boundary, b.boundary, 'T********')), \
           (SELECT count(*) FROM jurisdictions t WHERE t.level = 'TOWNSHIP' AND abs(ST_Area(t.boundary) - \
              (SELECT sum(ST_Area(g.boundary)) FROM jurisdictions g \
                WHERE g.level = 'GRID' AND left(g.code, 9) = t.code)) > 1e-9)",
    )
    .fetch_one(&mut db)
    .await
    .expect("the checks");
    assert_eq!((outside, overlapping, unequal), (0, 0, 0));
}
