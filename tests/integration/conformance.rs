//! Real clients against a running gateway: in Node (`tests/conformance/clients.mjs`), the
//! GraphQL-over-HTTP audit of `graphql-http`, `graphql-ws` in lazy mode, Apollo Client,
//! urql, graphql-request and subscriptions-transport-ws; in Python
//! (`tests/conformance/clients.py`), gql over HTTP and both WebSocket subprotocols. Each
//! does a query, a mutation with an idempotency key and a subscription that receives a
//! whistle. Needs Node 20 with npm, and Python 3 with venv; the packages are pinned
//! (`package-lock.json`, `requirements.txt`) and installed here from the registries.

use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;
use std::path::PathBuf;
use tokio::sync::OnceCell;

use crate::helpers::{TestGateway, run_in, seeded_database, succeeded, test_config};

const SECRET: &str = "conformance-test-secret-of-thirty-two-bytes";

fn folder() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/conformance"))
}

static INSTALLED: OnceCell<()> = OnceCell::const_new();

async fn run(program: &str, args: Vec<String>, needs: &'static str) -> std::process::Output {
    run_in(folder(), program, args, needs).await
}

/// The clients' packages, once per test process: `npm ci` (the lock file's exact
/// versions) and a Python virtual environment from `requirements.txt`.
async fn installed() {
    INSTALLED
        .get_or_init(|| async {
            let npm = ["ci", "--no-audit", "--no-fund", "--loglevel=error"];
            let output = run("npm", npm.map(String::from).to_vec(), "npm (Node 20)").await;
            succeeded(&output, "npm ci");
            let venv = ["-m", "venv", ".venv"].map(String::from).to_vec();
            succeeded(&run("python3", venv, "Python 3").await, "python3 -m venv");
            let pip = ["install", "--quiet", "--requirement", "requirements.txt"];
            let output = run(".venv/bin/pip", pip.map(String::from).to_vec(), "pip").await;
            succeeded(&output, "pip install");
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
    for (program, script) in [("node", "clients.mjs"), (".venv/bin/python", "clients.py")] {
        let output = run(
            program,
            vec![script.to_owned(), url.clone(), token.clone()],
            "the client runtime",
        )
        .await;
        let stdout = String::from_utf8_lossy(&output.stdout);
        println!("{script}: {stdout}");
        succeeded(&output, script);
        assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    }
}
