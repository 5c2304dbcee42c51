//! Photos uploaded with a report by a real multipart client (the GraphQL multipart
//! request spec), checked, stored and read back at a URL scoped like the event.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::access::{gateway_with, token};
use crate::helpers::{TestGateway, first_error_code};

const REPORT: &str = "mutation($input: ReportEventInput!) { reportEvent(input: $input) {
    event { id photos longitude latitude } } }";

/// A tiny PNG and JPEG, as a camera would not make them but as their bytes say.
fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1]);
    bytes
}

fn jpeg() -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    bytes.extend_from_slice(b"JFIF\0");
    bytes.extend(std::iter::repeat_n(0x42, 2_000));
    bytes
}

/// A report of the grid `grid` with `files`, as Apollo Upload Client sends it.
fn upload(grid: &str, files: Vec<(&str, Vec<u8>)>, position: Option<(f64, f64)>) -> Form {
    let mut input = json!({
        "idempotencyKey": format!("photo-{}", files.len()),
        "description": "路灯杆倾斜，存在倒塌隐患",
        "category": "SAFETY_HAZARD",
        "gridCode": grid,
        "photoFiles": files.iter().map(|_| Value::Null).collect::<Vec<_>>(),
    });
    if let Some((longitude, latitude)) = position {
        input["longitude"] = json!(longitude);
        input["latitude"] = json!(latitude);
    }
    let operations = json!({ "query": REPORT, "variables": { "input": input } });
    let map: serde_json::Map<String, Value> = (0..files.len())
        .map(|i| {
            (
                i.to_string(),
                json!([format!("variables.input.photoFiles.{i}")]),
            )
        })
        .collect();
    let mut form = Form::new()
        .text("operations", operations.to_string())
        .text("map", Value::Object(map).to_string());
    for (index, (name, bytes)) in files.into_iter().enumerate() {
        form = form.part(
            index.to_string(),
            Part::bytes(bytes).file_name(name.to_owned()),
        );
    }
    form
}

async fn send(
    gateway: &TestGateway,
    bearer: &str,
    form: Form,
    preflight: bool,
) -> (StatusCode, Value) {
    let mut request = gateway
        .client
        .post(gateway.url("/graphql"))
        .bearer_auth(bearer)
        .multipart(form);
    if preflight {
        request = request.header("GraphQL-Require-Preflight", "1");
    }
    let response = request.send().await.expect("the gateway answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn photo_count(gateway: &TestGateway) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM event_photos")
        .fetch_one(&mut gateway.database().await)
        .await
        .expect("count")
}

async fn events(gateway: &TestGateway) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut gateway.database().await)
        .await
        .expect("count")
}

#[tokio::test]
async fn photos_uploaded_with_a_report_are_read_back_where_the_event_is_seen() {
    let gateway = gateway_with(|config| config.limits.max_photo_bytes = 16 * 1024).await;
    let grid = "220422001001001";
    let worker = token("GRID_WORKER", grid, None);
    let files = vec![("灯杆.png", png()), ("现场.jpg", jpeg())];
    let (status, body) = send(
        &gateway,
        &worker,
        upload(grid, files, Some((125.21, 42.93))),
        true,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let event = &body["data"]["reportEvent"]["event"];
    assert_eq!(
        (&event["longitude"], &event["latitude"]),
        (&json!(125.21), &json!(42.93))
    );
    let photos: Vec<String> = event["photos"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().map(str::to_owned))
        .collect();
    assert_eq!(photos.len(), 2, "{body}");

    // Read back with the same token: the same bytes, typed by their content.
    for (path, (bytes, content_type)) in photos
        .iter()
        .zip([(png(), "image/png"), (jpeg(), "image/jpeg")])
    {
        let response = gateway
            .client
            .get(gateway.url(path))
            .bearer_auth(&worker)
            .send()
            .await
            .expect("the photo is served");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["content-type"], content_type);
        assert_eq!(response.bytes().await.expect("bytes").to_vec(), bytes);
    }
    // The reporter's follow-up: one more photo, on the timeline; an analyst may not.
    let follow_up = |bearer: &str| {
        let operations = json!({
            "query": "mutation($e: ID!, $f: [Upload!]!) { addEventPhotos(idempotencyKey: \"more\",
                        eventId: $e, photoFiles: $f, note: \"补拍\") { event { photos } entries { kind } } }",
            "variables": { "e": event["id"], "f": [null] },
        });
        let form = Form::new()
            .text("operations", operations.to_string())
            .text("map", json!({ "0": ["variables.f.0"] }).to_string())
            .part("0", Part::bytes(png()).file_name("补拍.png"));
        let bearer = bearer.to_owned();
        let gateway = &gateway;
        async move { send(gateway, &bearer, form, true).await.1 }
    };
    let analyst = token("ANALYST", "220400", None);
    assert_eq!(first_error_code(&follow_up(&analyst).await), "FORBIDDEN");
    let body = follow_up(&worker).await;
    let added = &body["data"]["addEventPhotos"];
    assert_eq!(added["entries"][0]["kind"], "PHOTOS_ADDED", "{body}");
    assert_eq!(added["event"]["photos"].as_array().map(Vec::len), Some(3));

    // Another county's dispatcher does not see it; no token is 401.
    let stranger = token("DISPATCHER", "220402", None);
    let response = gateway
        .client
        .get(gateway.url(&photos[0]))
        .bearer_auth(&stranger)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = gateway
        .client
        .get(gateway.url(&photos[0]))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // Refused, with nothing written: no preflight header, a file that is no image, one
    // too large, a position outside the city.
    let before = events(&gateway).await;
    let (status, body) = send(
        &gateway,
        &worker,
        upload(grid, vec![("a.png", png())], None),
        false,
    )
    .await;
    assert_eq!(
        (status, first_error_code(&body)),
        (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
        "{body}"
    );
    let (_, body) = send(
        &gateway,
        &worker,
        upload(grid, vec![("a.txt", b"not a photo".to_vec())], None),
        true,
    )
    .await;
    assert_eq!(first_error_code(&body), "BAD_USER_INPUT", "{body}");
    let mut huge = jpeg();
    huge.resize(17 * 1024, 0);
    let (status, body) = send(
        &gateway,
        &worker,
        upload(grid, vec![("big.jpg", huge)], None),
        true,
    )
    .await;
    assert_eq!(
        (status, first_error_code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
        "{body}"
    );
    let (_, body) = send(
        &gateway,
        &worker,
        upload(grid, vec![("a.png", png())], Some((116.4, 39.9))),
        true,
    )
    .await;
    assert_eq!(first_error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(events(&gateway).await, before);
}

#[tokio::test]
async fn every_role_is_allowed_or_refused_adding_photos_as_the_permission_table_says() {
    let gateway = gateway_with(|_| {}).await;
    let grid = "220422001001001";
    let worker = token("GRID_WORKER", grid, None);
    let (_, body) = send(
        &gateway,
        &worker,
        upload(grid, vec![("a.png", png())], None),
        true,
    )
    .await;
    let event = body["data"]["reportEvent"]["event"]["id"].clone();
    let roles = [
        ("GRID_WORKER", worker.clone(), true),
        ("DISPATCHER", token("DISPATCHER", "220422001", None), true),
        (
            "DEPARTMENT_STAFF",
            token("DEPARTMENT_STAFF", "220422", Some("220422-XJ")),
            false,
        ),
        ("SUPERVISOR", token("SUPERVISOR", "220422", None), false),
        ("ANALYST", token("ANALYST", "220400", None), false),
        ("ADMIN", token("ADMIN", "220400", None), true),
    ];
    for (role, bearer, allowed) in roles {
        let operations = json!({
            "query": "mutation($k: String!, $e: ID!, $f: [Upload!]!) { addEventPhotos(idempotencyKey: $k,
                        eventId: $e, photoFiles: $f) { replayed } }",
            "variables": { "k": format!("add-{role}"), "e": event, "f": [null] },
        });
        let form = Form::new()
            .text("operations", operations.to_string())
            .text("map", json!({ "0": ["variables.f.0"] }).to_string())
            .part("0", Part::bytes(jpeg()).file_name("补拍.jpg"));
        let before = photo_count(&gateway).await;
        let (_, body) = send(&gateway, &bearer, form, true).await;
        if allowed {
            assert_eq!(
                body["data"]["addEventPhotos"]["replayed"], false,
                "{role}: {body}"
            );
            assert_eq!(photo_count(&gateway).await, before + 1, "{role}");
        } else {
            assert_eq!(first_error_code(&body), "FORBIDDEN", "{role}: {body}");
            assert_eq!(
                photo_count(&gateway).await,
                before,
                "{role}: nothing written"
            );
        }
    }
}
