//! The `gateway` binary as an operator runs it: the demo from nothing, a graceful stop on
//! SIGTERM, and a broken configuration file refused with its file, line and key.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection, Executor, PgConnection};

fn postgres_server() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

fn gateway() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gateway"));
    // From the repository's root, as the README runs it.
    command
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env("RUST_LOG", "warn")
        .env_remove("GATEWAY_CONFIG")
        .env_remove("DEPARTMENTS_DIR")
        .env_remove("DEPARTMENTS_URL");
    command
}

/// Reads the child's stdout until it prints the GraphQL address; returns it and the
/// tokens printed before it (`Authorization: Bearer …` lines, in the order printed).
/// The pipe closes then, with lines still to come: the gateway serves on.
fn graphql_address(child: &mut Child) -> (String, Vec<String>) {
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let mut tokens = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("readable stdout");
        if let Some(token) = line.trim().strip_prefix("Authorization: Bearer ") {
            tokens.push(token.to_owned());
        }
        if let Some(url) = line.strip_prefix("GraphQL:") {
            return (url.trim().to_owned(), tokens);
        }
    }
    panic!("the gateway exited without serving");
}

const SECRET: &str = "cli-test-secret-of-at-least-thirty-two-bytes";

/// POSTs `query` with `token`; returns the body.
async fn ask(
    client: &reqwest::Client,
    endpoint: &str,
    token: &str,
    query: &str,
) -> serde_json::Value {
    client
        .post(endpoint)
        .bearer_auth(token)
        .json(&serde_json::json!({ "query": query }))
        .send()
        .await
        .expect("the demo answers")
        .json()
        .await
        .expect("JSON")
}

/// `gateway token …` with the test secret: the last line of its output.
fn minted(args: &[&str]) -> String {
    let output = gateway()
        .arg("token")
        .args(args)
        .env("GATEWAY_JWT_SECRET", SECRET)
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned()
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

fn wait_with_deadline(child: &mut Child, deadline: Duration) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

#[tokio::test]
async fn the_demo_creates_its_database_seeds_it_serves_and_stops_on_sigterm() {
    let database = format!("gov_test_{}_cli_demo", std::process::id());
    let url = format!("{}/{database}", postgres_server());
    let mut child = gateway()
        .arg("demo")
        .env("DATABASE_URL", &url)
        .env("GATEWAY_LISTEN", "127.0.0.1:0")
        .env("GATEWAY_JWT_SECRET", SECRET)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let (endpoint, tokens) = graphql_address(&mut child);
    // One per role, the administrator last.
    assert_eq!(tokens.len(), 6, "{tokens:?}");
    let admin_token = tokens.last().cloned().unwrap_or_default();
    let client = reqwest::Client::new();

    let counts = "{ grids: jurisdictions(level: GRID) { totalCount } departments { totalCount } }";
    let refused = client
        .post(&endpoint)
        .json(&serde_json::json!({ "query": counts }))
        .send()
        .await
        .expect("the demo answers");
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);
    let body = ask(&client, &endpoint, &admin_token, counts).await;
    assert_eq!(body["data"]["grids"]["totalCount"], 1246, "{body}");
    assert_eq!(body["data"]["departments"]["totalCount"], 96, "{body}");

    // `gateway token` with the same secret mints what the demo accepts: a county
    // dispatcher sees that county's grids only.
    let county = minted(&[
        "--role",
        "DISPATCHER",
        "--jurisdiction",
        "220422",
        "--ttl",
        "10m",
    ]);
    let body = ask(&client, &endpoint, &county, counts).await;
    let grids = body["data"]["grids"]["totalCount"]
        .as_i64()
        .unwrap_or_default();
    assert!(grids > 0 && grids < 1246, "{body}");
    assert_eq!(body["data"]["departments"]["totalCount"], 24, "{body}");

    // GraphiQL offers the same tokens in its role picker.
    let page = client
        .get(endpoint.replace("/graphql", "/"))
        .send()
        .await
        .expect("the page")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains(&admin_token),
        "the role picker carries the tokens"
    );

    // The demo federates over its own simulator: the police over REST, the housing
    // bureau's database in PostgreSQL.
    let federated = "{
        persons(first: 3, filter: { jurisdiction: \"220422\" }) { nodes {
          name householdRegistration { name sources { department { code } } } } }
        places(first: 20, filter: { jurisdiction: \"220402\", kinds: [RESIDENCE] }) { nodes {
          building { structure sources { department { code } } } } } }";
    let body = ask(&client, &endpoint, &admin_token, federated).await;
    assert!(body.get("errors").is_none(), "{body}");
    for person in body["data"]["persons"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        assert_eq!(
            person["householdRegistration"]["name"], person["name"],
            "{body}"
        );
        assert_eq!(
            person["householdRegistration"]["sources"][0]["department"]["code"],
            "220422-GA"
        );
    }
    let buildings: Vec<&serde_json::Value> = body["data"]["places"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|place| place["building"]["structure"].is_string())
        .collect();
    assert!(
        !buildings.is_empty(),
        "some residences have a building record: {body}"
    );

    terminate(&child);
    let status = wait_with_deadline(&mut child, Duration::from_secs(10));
    assert!(
        status.is_some_and(|s| s.success()),
        "a clean exit on SIGTERM: {status:?}"
    );

    let mut admin = PgConnection::connect(&format!("{}/postgres", postgres_server()))
        .await
        .expect("admin connection");
    let _ = admin
        .execute(format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)").as_str())
        .await;
}

#[test]
fn serve_refuses_to_start_without_a_key_unless_told_that_none_is_needed() {
    let output = gateway()
        .arg("serve")
        .env_remove("GATEWAY_JWT_SECRET")
        .env("GATEWAY_LISTEN", "127.0.0.1:0")
        .env(
            "DATABASE_URL",
            format!("{}/gov_test_never_created", postgres_server()),
        )
        .env("REDIS_URL", "")
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no key to check tokens with"), "{stderr}");
    assert!(stderr.contains("required = false"), "{stderr}");
}

#[test]
fn token_refuses_what_the_gateway_would_refuse() {
    let output = gateway()
        .args(["token", "--role", "EMPEROR", "--jurisdiction", "220422"])
        .env("GATEWAY_JWT_SECRET", SECRET)
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown role `EMPEROR`"));
    let output = gateway()
        .args(["token", "--role", "ADMIN", "--jurisdiction", "220400"])
        .env_remove("GATEWAY_JWT_SECRET")
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("GATEWAY_JWT_SECRET"));
    let token = minted(&[
        "--role",
        "ANALYST",
        "--jurisdiction",
        "220400",
        "--ttl",
        "1h",
    ]);
    assert_eq!(token.split('.').count(), 3, "{token}");
}

#[test]
fn check_config_refuses_a_broken_department_file_naming_it() {
    let dir = std::env::temp_dir().join(format!("gateway-departments-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a folder");
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../connectors/departments/220422-GA.toml"
    ))
    .expect("the shipped config");
    std::fs::write(
        dir.join("220422-GA.toml"),
        shipped.replace("[limits]", "[limits]\nretries = 3"),
    )
    .expect("write config");
    let output = gateway()
        .arg("check-config")
        .env("DEPARTMENTS_DIR", &dir)
        .output()
        .expect("the binary runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = shipped
        .lines()
        .position(|l| l == "[limits]")
        .map_or(0, |index| index + 2);
    assert!(
        stderr.contains(&format!("220422-GA.toml:{line}")),
        "{stderr}"
    );
    assert!(stderr.contains("unknown field `retries`"), "{stderr}");

    let output = gateway()
        .arg("check-config")
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("department configs in connectors/departments are valid"),
        "{stdout}"
    );
}

#[test]
fn a_closed_stdout_loses_lines_not_the_process() {
    // The reader goes away before the gateway writes, as with `gateway … | head -1`
    // once head has its line.
    let mut child = gateway()
        .arg("check-config")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_broken_config_file_is_refused_naming_file_line_and_key() {
    let path = std::env::temp_dir().join(format!("gateway-broken-{}.toml", std::process::id()));
    std::fs::write(
        &path,
        "listen = \"127.0.0.1:0\"\n\n[limits]\nmax_body = 10\n",
    )
    .expect("write config");
    let output = gateway()
        .args(["--config", &path.to_string_lossy(), "check-config"])
        .output()
        .expect("the binary runs");
    let _ = std::fs::remove_file(&path);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&*path.to_string_lossy()), "{stderr}");
    assert!(stderr.contains("line 4"), "{stderr}");
    assert!(stderr.contains("unknown field `max_body`"), "{stderr}");
}
