//! Real clients in Node against a running gateway (`tests/conformance/clients.mjs`): the
//! GraphQL-over-HTTP audit of `graphql-http`, and `graphql-ws` in lazy mode doing a
//! query, a mutation and a subscription that receives a whistle, closing and reopening
//! its socket between operations. Needs Node 20 and npm; the packages are pinned by
//! `tests/conformance/package-lock.json` and installed here.

use std::path::PathBuf;
use std::process::Command;

use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;
use tokio::sync::OnceCell;

use crate::helpers::{TestGateway, seeded_database, test_config};

const SECRET: &str = "conformance-test-secret-of-thirty-two-bytes";

fn folder() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/conformance"))
}

static INSTALLED: OnceCell<()> = OnceCell::const_new();

/// `npm ci` once per test process: the exact versions of the lock file.
async fn installed() {
    INSTALLED
        .get_or_init(|| async {
            let output = tokio::task::spawn_blocking(|| {
                Command::new("npm")
                    .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                    .current_dir(folder())
                    .output()
            })
            .await
            .expect("the install runs")
            .expect("npm is installed (Node 20 and npm are needed for these tests)");
            assert!(
                output.status.success(),
                "npm ci failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        })
        .await;
}

#[tokio::test]
async fn real_clients_and_the_graphql_over_http_audit_pass() {
    installed().await;
    let database = seeded_database().await;
    let mut config = test_config(&database);
    config.auth.jwt_secret = gateway::auth::SigningSecret(SECRET.to_owned());
    config.auth.required = true;
    // Two of the audits ask `__type` with variables.
    config.limits.introspection = true;
    let gateway = TestGateway::spawn_with(config, database).await;
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() + 600)
        .unwrap_or_default();
    let token = jsonwebtoken::encode(
        &Header::default(),
        &json!({ "sub": "conformance", "role": "ADMIN", "jurisdiction": "220400", "exp": exp }),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("a token");
    let url = gateway.url("/graphql");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(folder().join("clients.mjs"))
            .args([url, token])
            .output()
    })
    .await
    .expect("the clients run")
    .expect("node is installed");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}
