//! The dispatch board (`/board`) in headless Chromium, as the trial stack serves it: two
//! gateway replicas behind nginx with the shipped `docker/nginx.conf` (its upstreams
//! pointed at the replicas). `tests/board/board.mjs` signs in with a token, sees a
//! whistle blown through the API within two seconds, and after its connection is cut and
//! restored shows the whistles blown meanwhile once each. Needs Node 20 with npm
//! (playwright-core, pinned by the lock file, installed here from the registry), and
//! Debian's `chromium` and `nginx` (`scripts/ensure-services.sh` installs them).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use serde_json::Value;

use crate::access::{authenticated, token};
use crate::helpers::{TestGateway, content_type, run_in, seeded_database, succeeded};

fn folder() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/board"))
}

/// nginx running the trial stack's configuration in front of the given replicas.
struct Proxy {
    nginx: Child,
    folder: PathBuf,
    address: String,
}

impl Proxy {
    async fn start(replicas: &[&TestGateway]) -> Self {
        let shipped =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docker/nginx.conf"))
                .expect("docker/nginx.conf");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let address = format!("127.0.0.1:{port}");
        let mut conf = shipped.replace("listen 8080;", &format!("listen {address};"));
        for (i, replica) in replicas.iter().enumerate() {
            let name = format!("server gateway-{}:8080;", i + 1);
            assert!(conf.contains(&name), "the shipped config names {name}");
            conf = conf.replace(&name, &format!("server {};", replica.address));
        }
        let folder = std::env::temp_dir().join(format!("gov-nginx-{}-{port}", std::process::id()));
        std::fs::create_dir_all(folder.join("logs")).expect("nginx's folder");
        std::fs::write(folder.join("nginx.conf"), conf).expect("nginx.conf written");
        let nginx = Command::new("nginx")
            .arg("-p")
            .arg(&folder)
            .args(["-c", "nginx.conf", "-e", "logs/error.log", "-g"])
            .arg(format!("daemon off; pid {}/nginx.pid;", folder.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("nginx is needed for this test: {error}"));
        let proxy = Self {
            nginx,
            folder,
            address,
        };
        let client = reqwest::Client::new();
        for _ in 0..100 {
            let answer = client.get(proxy.url("/healthz")).send().await;
            if answer.is_ok_and(|response| response.status() == StatusCode::OK) {
                return proxy;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let log = std::fs::read_to_string(proxy.folder.join("logs/error.log")).unwrap_or_default();
        panic!("nginx did not come up: {log}");
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.nginx.kill();
        let _ = self.nginx.wait();
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

#[tokio::test]
async fn the_board_behind_the_shipped_proxy_follows_whistles_live_and_resumes_after_a_cut() {
    let npm = ["ci", "--no-audit", "--no-fund", "--loglevel=error"];
    let output = run_in(
        folder(),
        "npm",
        npm.map(String::from).to_vec(),
        "npm (Node 20)",
    )
    .await;
    succeeded(&output, "npm ci");
    let database = seeded_database().await;
    let first = TestGateway::spawn_with(authenticated(&database), database.clone()).await;
    let second = TestGateway::spawn_with(authenticated(&database), database).await;
    let proxy = Proxy::start(&[&first, &second]).await;
    let client = reqwest::Client::new();

    // The page and its files come through the proxy from the gateway itself; metrics
    // stay inside.
    for (path, kind) in [
        ("/board", "text/html"),
        ("/board/board.js", "text/javascript"),
        ("/board/board.css", "text/css"),
        ("/", "text/html"),
    ] {
        let response = client
            .get(proxy.url(path))
            .send()
            .await
            .expect("the proxy answers");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let content_type = content_type(&response);
        assert!(content_type.starts_with(kind), "{path}: {content_type}");
    }
    for path in ["/board/app.js", "/metrics"] {
        let response = client
            .get(proxy.url(path))
            .send()
            .await
            .expect("the proxy answers");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // A client's request id passes through the proxy.
    let response = client
        .get(proxy.url("/healthz"))
        .header("x-request-id", "through-nginx-1")
        .send()
        .await
        .expect("the proxy answers");
    assert_eq!(response.headers()["x-request-id"], "through-nginx-1");

    let board = token("DISPATCHER", "220422", None);
    let api = token("ADMIN", "220400", None);
    let grid = first.grid_of("220422").await;
    let mut args = vec!["board.mjs".to_owned(), proxy.url(""), board, api, grid];
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
