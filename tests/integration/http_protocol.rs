//! GraphQL over HTTP as clients see it: media types, methods, status codes, limits.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestGateway, content_type, first_error_code};

const SMALL_QUERY: &str = "{ jurisdiction(code: \"220402\") { name } }";

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, String, Value) {
    let response = request.send().await.expect("the gateway answers");
    let status = response.status();
    let content_type = content_type(&response);
    let body = response.json().await.unwrap_or(Value::Null);
    (status, content_type, body)
}

#[tokio::test]
async fn a_client_that_accepts_only_json_gets_json() {
    let gateway = TestGateway::spawn().await;
    let (status, content_type, body) = send(
        gateway
            .client
            .post(gateway.url("/graphql"))
            .header("accept", "application/json")
            .json(&json!({ "query": SMALL_QUERY })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    assert_eq!(body["data"]["jurisdiction"]["name"], "龙山区");
}

#[tokio::test]
async fn a_client_that_accepts_graphql_response_json_gets_it() {
    let gateway = TestGateway::spawn().await;
    let (status, content_type, _) = send(
        gateway
            .client
            .post(gateway.url("/graphql"))
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": SMALL_QUERY })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        content_type.starts_with("application/graphql-response+json"),
        "{content_type}"
    );
}

#[tokio::test]
async fn an_unsatisfiable_accept_header_is_406() {
    let gateway = TestGateway::spawn().await;
    let (status, _, body) = send(
        gateway
            .client
            .post(gateway.url("/graphql"))
            .header("accept", "text/html")
            .json(&json!({ "query": SMALL_QUERY })),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(first_error_code(&body), "NOT_ACCEPTABLE");
}

#[tokio::test]
async fn queries_run_over_get() {
    let gateway = TestGateway::spawn().await;
    let (status, _, body) = send(
        gateway
            .client
            .get(gateway.url("/graphql"))
            .query(&[("query", SMALL_QUERY)]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["jurisdiction"]["name"], "龙山区");
}

#[tokio::test]
async fn mutations_over_get_are_refused_with_405() {
    let gateway = TestGateway::spawn().await;
    let response = gateway
        .client
        .get(gateway.url("/graphql"))
        .query(&[("query", "mutation { reportEvent }")])
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(first_error_code(&body), "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn a_text_plain_post_is_refused_with_415_so_forms_cannot_forge_requests() {
    let gateway = TestGateway::spawn().await;
    let (status, _, body) = send(
        gateway
            .client
            .post(gateway.url("/graphql"))
            .header("content-type", "text/plain")
            .body(json!({ "query": SMALL_QUERY }).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(first_error_code(&body), "UNSUPPORTED_MEDIA_TYPE");
}

#[tokio::test]
async fn malformed_json_is_a_400_with_a_graphql_error_body() {
    let gateway = TestGateway::spawn().await;
    for bad in ["{\"query\": ", "[1, 2]", "{\"query\": 5}"] {
        let (status, _, body) = send(
            gateway
                .client
                .post(gateway.url("/graphql"))
                .header("content-type", "application/json")
                .body(bad),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(first_error_code(&body), "BAD_REQUEST", "{bad}");
        assert!(body.get("data").is_none(), "{bad}: {body}");
    }
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let gateway = TestGateway::spawn().await;
    let padding = " ".repeat(300 * 1024);
    let (status, _, body) = send(
        gateway
            .client
            .post(gateway.url("/graphql"))
            .json(&json!({ "query": format!("{{ __typename {padding} }}") })),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(first_error_code(&body), "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn documents_that_cannot_run_are_400s_with_codes() {
    let gateway = TestGateway::spawn().await;
    let cases = [
        (
            json!({ "query": "{ jurisdiction(code: " }),
            "GRAPHQL_PARSE_FAILED",
        ),
        (
            json!({ "query": "{ noSuchField }" }),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (json!({ "query": "" }), "BAD_REQUEST"),
        (
            json!({ "query": "query A { __typename } query B { __typename }" }),
            "UNKNOWN_OPERATION",
        ),
        (
            json!({ "query": "query A { __typename }", "operationName": "Z" }),
            "UNKNOWN_OPERATION",
        ),
        (
            json!({ "query": "{ __typename }", "variables": [1] }),
            "BAD_REQUEST",
        ),
    ];
    for (request, code) in cases {
        let (status, _, body) = send(
            gateway
                .client
                .post(gateway.url("/graphql"))
                .header("accept", "application/graphql-response+json")
                .json(&request),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{request}: {body}");
        assert_eq!(first_error_code(&body), code, "{request}: {body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        // A client that accepts only application/json (or says nothing) gets 200 for a
        // well-formed request whatever its GraphQL errors; a malformed one stays a 400.
        for accept in [Some("application/json"), None] {
            let mut post = gateway.client.post(gateway.url("/graphql")).json(&request);
            if let Some(accept) = accept {
                post = post.header("accept", accept);
            }
            let (status, _, body) = send(post).await;
            let expected = if code == "BAD_REQUEST" {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            assert_eq!(status, expected, "{accept:?} {request}: {body}");
            assert_eq!(first_error_code(&body), code, "{request}: {body}");
            assert!(body.get("data").is_none(), "{body}");
        }
    }
}

#[tokio::test]
async fn answers_keep_the_order_fields_were_selected_and_unmatched_fragments_are_empty() {
    let gateway = TestGateway::spawn().await;
    let text = gateway
        .client
        .post(gateway.url("/graphql"))
        .json(&json!({ "query": "{ jurisdiction(code: \"220402\") { name level code } }" }))
        .send()
        .await
        .expect("an answer")
        .text()
        .await
        .expect("text");
    let ordered = r#"{"data":{"jurisdiction":{"name":"龙山区","level":"COUNTY","code":"220402"}}"#;
    assert!(text.starts_with(ordered), "{text}");
    // The same over Server-Sent Events.
    let events = gateway
        .client
        .post(gateway.url("/graphql"))
        .header("accept", "text/event-stream")
        .json(&json!({ "query": "{ jurisdiction(code: \"220402\") { name level code } }" }))
        .send()
        .await
        .expect("an answer")
        .text()
        .await
        .expect("text");
    assert!(events.contains(&format!("data: {ordered}")), "{events}");
    // A field that waits on loaders, selected first, still comes first: fields resolve
    // concurrently and finish in any order.
    let query =
        "{ slow: jurisdiction(code: \"220402\") { events(first: 3) { totalCount nodes { id } } }
                   fast: __typename departments(first: 1) { totalCount } }";
    for _ in 0..5 {
        let text = gateway
            .client
            .post(gateway.url("/graphql"))
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("an answer")
            .text()
            .await
            .expect("text");
        let (slow, fast, departments) = (
            text.find("\"slow\""),
            text.find("\"fast\""),
            text.find("\"departments\""),
        );
        assert!(
            slow < fast && fast < departments && slow.is_some(),
            "selection order: {text}"
        );
        let total = text.find("\"totalCount\"");
        assert!(total < text.find("\"nodes\""), "{text}");
    }
    // An event one of whose parties is an organization, asked only for persons' names.
    let event: i64 = sqlx::query_scalar(
        "SELECT event_id FROM event_parties WHERE organization_id IS NOT NULL ORDER BY event_id LIMIT 1",
    )
    .fetch_one(&mut gateway.database().await)
    .await
    .expect("an event with an organization party");
    let data = gateway
        .query(
            "query($id: ID!) { event(id: $id) { parties { party { ... on Person { name } } } } }",
            json!({ "id": crate::departments::global_id("Event", event) }),
        )
        .await;
    let parties = data["event"]["parties"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        parties.iter().any(|p| p["party"] == json!({})),
        "an organization matches no fragment: {data}"
    );
    assert!(parties.iter().all(|p| !p["party"].is_null()), "{data}");
    let data = gateway
        .query(
            "query($id: ID!) { node(id: $id) { ... on Person { name } } }",
            json!({ "id": crate::departments::global_id("Department", "220402-GA") }),
        )
        .await;
    assert_eq!(data["node"], json!({}), "{data}");
}

#[tokio::test]
async fn an_operation_is_chosen_by_name() {
    let gateway = TestGateway::spawn().await;
    let (status, _, body) = send(gateway.client.post(gateway.url("/graphql")).json(&json!({
        "query": "query A { a: __typename } query B { b: __typename }",
        "operationName": "B"
    })))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"], json!({ "b": "Query" }));
}

#[tokio::test]
async fn an_alias_flood_of_typename_is_refused_before_it_runs() {
    let gateway = TestGateway::spawn().await;
    let flood: String = (0..5_000).map(|i| format!("a{i}: __typename ")).collect();
    let (status, body) = gateway.post(&format!("{{ {flood} }}"), Value::Null).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(first_error_code(&body), "QUERY_TOO_COMPLEX");
}

#[tokio::test]
async fn a_fragment_fan_out_is_refused_before_it_runs() {
    let gateway = TestGateway::spawn().await;
    // Each level doubles the expanded selection: 2^12 fields from a tiny document.
    let mut query = String::from("{ ...F0 } fragment F12 on Query { __typename }");
    for level in 0..12 {
        let next = level + 1;
        query.push_str(&format!(
            " fragment F{level} on Query {{ ...F{next} a{level}: __typename ...F{next} }}"
        ));
    }
    let (status, body) = gateway.post(&query, Value::Null).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(first_error_code(&body), "QUERY_TOO_COMPLEX");
}

#[tokio::test]
async fn nested_full_pages_that_would_fetch_millions_of_rows_are_refused() {
    let gateway = TestGateway::spawn().await;
    let query = "{ persons(first: 100) { nodes { events(first: 100) { nodes {
        place { occupants(first: 100) { nodes { name } } } } } } } }";
    let (status, body) = gateway.post(query, Value::Null).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(first_error_code(&body), "QUERY_TOO_COMPLEX");
    // The same shape with small pages runs.
    let small = query.replace("100", "3");
    let (status, body) = gateway.post(&small, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_too_deep_query_is_refused() {
    let gateway = TestGateway::spawn().await;
    let mut query = String::from("name");
    for _ in 0..20 {
        query = format!("parent {{ {query} }}");
    }
    let (status, body) = gateway
        .post(
            &format!("{{ jurisdiction(code: \"220402001001001\") {{ {query} }} }}"),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(first_error_code(&body), "QUERY_TOO_COMPLEX");
}

#[tokio::test]
async fn a_malformed_global_id_is_a_field_error_with_code_invalid_id() {
    let gateway = TestGateway::spawn().await;
    for id in ["not-an-id", "UGxhY2U6MQ"] {
        // The second is a Place's id, given where a Person's is expected.
        let (status, body) = gateway
            .post(
                "query($id: ID!) { person(id: $id) { name } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["person"], Value::Null);
        assert_eq!(first_error_code(&body), "INVALID_ID", "{body}");
        assert_eq!(body["errors"][0]["path"], json!(["person"]));
    }
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json_errors() {
    let gateway = TestGateway::spawn().await;
    let (status, _, body) = send(gateway.client.get(gateway.url("/nope"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(first_error_code(&body), "NOT_FOUND");
    let (status, _, body) = send(gateway.client.delete(gateway.url("/graphql"))).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(first_error_code(&body), "METHOD_NOT_ALLOWED");
    for path in ["/healthz", "/readyz", "/"] {
        let (status, _, body) = send(gateway.client.post(gateway.url(path))).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_eq!(
            first_error_code(&body),
            "METHOD_NOT_ALLOWED",
            "{path}: {body}"
        );
    }
    let (status, _, body) = send(
        gateway
            .client
            .request(reqwest::Method::OPTIONS, gateway.url("/graphql")),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(first_error_code(&body), "METHOD_NOT_ALLOWED", "{body}");
}

/// Sends `request` as raw bytes and reads until the gateway closes the connection.
async fn raw_exchange(gateway: &TestGateway, request: &[u8]) -> (u16, String, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(gateway.address)
        .await
        .expect("the gateway accepts");
    // The gateway may refuse before the whole request is read; what it took is enough.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("the gateway answers and closes");
    // A reset after the answer is fine: the gateway closed with unread bytes.
    if answer.is_empty() {
        read.expect("the gateway answers");
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head[9..12].parse().expect("a status code");
    let content_type = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default();
    let body = serde_json::from_str(body).unwrap_or(Value::Null);
    (status, content_type, body)
}

#[tokio::test]
async fn refusals_of_the_http_parser_carry_a_coded_json_body() {
    let gateway = TestGateway::spawn().await;
    let long_uri = format!(
        "GET /graphql?query={} HTTP/1.1\r\nhost: x\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    let many_headers = format!(
        "GET /healthz HTTP/1.1\r\nhost: x\r\n{}\r\n",
        (0..150)
            .map(|i| format!("x-h{i}: v\r\n"))
            .collect::<String>()
    );
    let huge_header = format!(
        "GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "b".repeat(600 * 1024)
    );
    let cases: [(&[u8], u16, &str); 5] = [
        (long_uri.as_bytes(), 414, "URI_TOO_LONG"),
        (many_headers.as_bytes(), 431, "HEADERS_TOO_LARGE"),
        (huge_header.as_bytes(), 431, "HEADERS_TOO_LARGE"),
        (
            b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n",
            400,
            "BAD_REQUEST",
        ),
        (
            b"GET /graphql HTTP/1.1\r\nbad header\r\n\r\n",
            400,
            "BAD_REQUEST",
        ),
    ];
    for (request, status, code) in cases {
        let (got, content_type, body) = raw_exchange(&gateway, request).await;
        let shown = String::from_utf8_lossy(&request[..request.len().min(60)]);
        assert_eq!(got, status, "{shown}");
        assert_eq!(content_type, "application/json", "{shown}");
        assert_eq!(first_error_code(&body), code, "{shown}: {body}");
    }
    // A well-formed request on a raw connection is answered by the handlers as before.
    let (status, _, body) = raw_exchange(
        &gateway,
        b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn graphiql_is_served_at_the_root_and_to_a_browser_opening_the_endpoint() {
    let gateway = TestGateway::spawn().await;
    for request in [
        gateway.client.get(gateway.url("/")),
        gateway
            .client
            .get(gateway.url("/graphql"))
            .header("accept", "text/html,application/xhtml+xml"),
    ] {
        let response = request.send().await.expect("answers");
        assert_eq!(response.status(), StatusCode::OK);
        let html = response.text().await.unwrap_or_default();
        assert!(
            html.contains("GraphiQL.createFetcher({ url: \"/graphql\" })"),
            "{html}"
        );
    }
}

#[tokio::test]
async fn graphiql_needs_no_internet_access_its_assets_come_from_the_gateway() {
    let gateway = TestGateway::spawn().await;
    let html = gateway
        .client
        .get(gateway.url("/"))
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .unwrap_or_default();
    let sources: Vec<&str> = html
        .split('"')
        .filter(|part| part.ends_with(".js") || part.ends_with(".css"))
        .collect();
    assert_eq!(sources.len(), 4, "{sources:?}");
    for source in sources {
        assert!(source.starts_with("/graphiql/"), "served locally: {source}");
        let response = gateway
            .client
            .get(gateway.url(source))
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), StatusCode::OK, "{source}");
        let content_type = content_type(&response);
        assert!(
            content_type.starts_with("text/javascript") || content_type.starts_with("text/css"),
            "{content_type}"
        );
        assert!(
            response.bytes().await.map_or(0, |b| b.len()) > 1_000,
            "{source}"
        );
    }
    let missing = gateway
        .client
        .get(gateway.url("/graphiql/nope.js"))
        .send()
        .await
        .expect("answers");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_input_of_every_kind_answers_a_coded_error_never_internal() {
    let gateway = TestGateway::spawn().await;
    let event: i64 = sqlx::query_scalar("SELECT min(id) FROM events WHERE status = 'RESOLVED'")
        .fetch_one(&mut gateway.database().await)
        .await
        .expect("a resolved event");
    let event = crate::departments::global_id("Event", event);
    let grid = gateway.grid_of("220422").await;
    let cases: Vec<(&str, Value, &str)> = vec![
        // NUL, which PostgreSQL cannot store, in a filter, a key and a note.
        (
            "{ persons(filter: { nameContains: \"王\\u0000\" }) { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "mutation($g: String!) { reportEvent(input: { idempotencyKey: \"k\\u0000\",
               description: \"井盖缺失\", category: SAFETY_HAZARD, gridCode: $g }) { replayed } }",
            json!({ "g": grid }),
            "BAD_USER_INPUT",
        ),
        (
            "mutation($g: String!) { reportEvent(input: { idempotencyKey: \"nul-note\",
               description: \"井盖\\u0000缺失\", category: SAFETY_HAZARD, gridCode: $g }) { replayed } }",
            json!({ "g": grid }),
            "BAD_USER_INPUT",
        ),
        // Out of the documented range, and out of the integer type's.
        (
            "mutation($e: ID!) { revisit(idempotencyKey: \"r\", eventId: $e, satisfaction: 40000) { replayed } }",
            json!({ "e": event }),
            "BAD_USER_INPUT",
        ),
        (
            "mutation($e: ID!) { revisit(idempotencyKey: \"r\", eventId: $e, satisfaction: 9) { replayed } }",
            json!({ "e": event }),
            "BAD_USER_INPUT",
        ),
        // Wrong types, in the document and in variables; an unparsable date; a variable
        // that is not declared.
        (
            "{ things(filter: 1.5) { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "query($f: Int!) { events(first: $f) { totalCount } }",
            json!({ "f": "twenty" }),
            "",
        ),
        (
            "query($t: DateTime!) { events(filter: { reportedFrom: $t }) { totalCount } }",
            json!({ "t": "yesterday" }),
            "",
        ),
        (
            "{ events(first: $undeclared) { totalCount } }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ];
    for (query, variables, expected) in cases {
        let (status, body) = gateway.post(query, variables).await;
        let errors = body["errors"].as_array().cloned().unwrap_or_default();
        assert!(!errors.is_empty(), "{query}: {body}");
        for error in &errors {
            let code = error["extensions"]["code"].as_str().unwrap_or("<none>");
            assert!(
                ["BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"].contains(&code),
                "{query}: {body}"
            );
            if !expected.is_empty() {
                assert_eq!(code, expected, "{query}: {body}");
            }
        }
        assert!(
            status.is_client_error() || status == StatusCode::OK,
            "{status}"
        );
    }
    let (_, body) = gateway
        .post(
            "mutation($e: ID!) { revisit(idempotencyKey: \"r\", eventId: $e, satisfaction: 40000) { replayed } }",
            json!({ "e": event }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["message"], "satisfaction is 1 to 5",
        "{body}"
    );
}

#[tokio::test]
async fn each_document_limit_admits_a_request_at_it_and_refuses_one_past_it() {
    let gateway = TestGateway::spawn().await;
    let refused = async |query: String, variables: Value| -> bool {
        let (_, body) = gateway.post(&query, variables).await;
        first_error_code(&body) == "QUERY_TOO_COMPLEX"
    };
    let repeat = |n: usize, item: &dyn Fn(usize) -> String| -> String {
        (0..n).map(item).collect::<Vec<_>>().join(" ")
    };
    // (what, at the limit, one past it)
    let aliases = |n| {
        format!(
            "{{ jurisdiction(code: \"220402\") {{ {} }} }}",
            repeat(n, &|i| format!("a{i}: name"))
        )
    };
    let roots = |n| format!("{{ {} }}", repeat(n, &|i| format!("r{i}: __typename")));
    let repeats = |n| {
        format!(
            "{{ jurisdiction(code: \"220402\") {{ {} }} }}",
            repeat(n, &|_| "name".to_owned())
        )
    };
    let directives = |n| {
        format!(
            "{{ jurisdiction(code: \"220402\") {{ {} }} }} fragment F on Jurisdiction {{ name }}",
            repeat(n, &|_| "...F @include(if: true)".to_owned())
        )
    };
    // 12 tokens around the list.
    let tokens = |n| {
        format!(
            "{{ nodes(ids: [{}]) {{ id }} }}",
            repeat(n, &|_| "\"a\"".to_owned())
        )
    };
    let bytes = |n: usize| {
        let query = "{ __typename } #".to_owned();
        let padding = n - query.len();
        format!("{query}{}", "x".repeat(padding))
    };
    let cases: [(&str, String, String); 6] = [
        ("aliases", aliases(50), aliases(51)),
        ("root fields", roots(20), roots(21)),
        ("field repeats", repeats(10), repeats(11)),
        ("directives", directives(50), directives(51)),
        ("tokens", tokens(4988), tokens(4989)),
        ("document bytes", bytes(32 * 1024), bytes(32 * 1024 + 1)),
    ];
    for (what, at, past) in cases {
        assert!(!refused(at, json!({})).await, "{what}: at the limit");
        assert!(refused(past, json!({})).await, "{what}: past the limit");
    }
    let variables = |n: usize| json!({ "v": "x".repeat(n - 8) });
    let query = "query($v: String) { __typename }".to_owned();
    assert!(!refused(query.clone(), variables(64 * 1024)).await);
    assert!(refused(query, variables(64 * 1024 + 1)).await);

    // Introspection is off unless configured, and validation does not suggest names.
    let (_, body) = gateway
        .post("{ __schema { queryType { name } } }", json!({}))
        .await;
    assert!(body.get("errors").is_some(), "{body}");
    let (_, body) = gateway
        .post("{ jurisdictio(code: \"1\") { name } }", json!({}))
        .await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(!message.contains("Did you mean"), "{message}");
}
