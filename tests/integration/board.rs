//! The dispatch board (`/board`) in headless Chromium: `tests/board/board.mjs` signs in
//! with a token, sees a whistle blown through the API within two seconds, and after its
//! connection is cut and restored shows the whistles blown meanwhile once each. Needs
//! Node 20 with npm (playwright-core, pinned by the lock file, installed here from the
//! registry) and Debian's `chromium` (`scripts/ensure-services.sh` installs it).

use std::path::PathBuf;

use reqwest::StatusCode;
use serde_json::Value;

use crate::access::{gateway_with, token};
use crate::helpers::{run_in, succeeded};

fn folder() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/board"))
}

#[tokio::test]
async fn the_board_follows_whistles_live_and_resumes_after_a_cut_losing_and_repeating_nothing() {
    let npm = ["ci", "--no-audit", "--no-fund", "--loglevel=error"];
    let output = run_in(
        folder(),
        "npm",
        npm.map(String::from).to_vec(),
        "npm (Node 20)",
    )
    .await;
    succeeded(&output, "npm ci");
    let gateway = gateway_with(|_| {}).await;

    // The page and its files are served by the gateway itself.
    for (path, kind) in [
        ("/board", "text/html"),
        ("/board/board.js", "text/javascript"),
        ("/board/board.css", "text/css"),
    ] {
        let response = gateway.client.get(gateway.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert!(content_type.starts_with(kind), "{path}: {content_type}");
    }
    let missing = gateway
        .client
        .get(gateway.url("/board/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let board = token("DISPATCHER", "220422", None);
    let api = token("ADMIN", "220400", None);
    let grid = gateway.grid_of("220422").await;
    let mut args = vec!["board.mjs".to_owned(), gateway.url(""), board, api, grid];
    if let Ok(path) = std::env::var("BOARD_SCREENSHOT") {
        args.push(path);
    }
    let output = run_in(folder(), "node", args, "Node 20").await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("board.mjs: {stdout}");
    succeeded(&output, "board.mjs");
    let measured: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    // What the script checked, read back: a figure outside these means a checker that
    // did not run.
    assert!(
        measured["liveMs"].as_u64().is_some_and(|ms| ms <= 2000),
        "{measured}"
    );
    let counts = measured["counts"].as_object().expect("counts");
    assert_eq!(counts.len(), 3, "{measured}");
    assert!(counts.values().all(|n| n == 1), "{measured}");
    assert!(
        measured["openRows"].as_u64().is_some_and(|n| n >= 3),
        "{measured}"
    );
}
