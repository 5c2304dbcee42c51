//! The department side of the tests: one department simulator per test process, over
//! the data set the template is seeded with (so its ids line up with every test
//! database), and gateways that
//! federate over it, each in a sandbox of its own so that faults and request counts of
//! one test do not touch another.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use connectors::config::{Departments, Vars};
use serde_json::Value;
use simulation::simulator::Simulator;
use std::sync::OnceLock;

use crate::helpers::{TestGateway, postgres_server, seeded_database, test_config};

/// Where MariaDB runs for the tests' `sql` departments of the vertical systems (courts, tax).
pub fn mariadb_server() -> String {
    std::env::var("TEST_MARIADB_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

pub fn shipped_departments() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../connectors/departments")
}

/// The variables the shipped department configs need, pointed at the test servers:
/// land and housing databases in PostgreSQL, court and tax databases in MariaDB.
pub(crate) fn database_vars() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("LOCAL_DEPARTMENT_DB_URL".to_owned(), postgres_server()),
        ("VERTICAL_DEPARTMENT_DB_URL".to_owned(), mariadb_server()),
        ("DEPARTMENT_DB_PREFIX".to_owned(), "gov_sim".to_owned()),
    ])
}

/// What the tests need of the running simulator.
pub struct RunningSimulator {
    pub url: String,
    /// `sql` departments on PostgreSQL and their endpoints through the simulator's proxy.
    pub proxied: Vec<(String, String)>,
}

static SIMULATOR: OnceLock<RunningSimulator> = OnceLock::new();

/// The simulator's base URL, started on first use.
pub async fn simulator_url() -> String {
    simulator().await.url.clone()
}

/// The simulator serves from a runtime of its own, on a thread of its own, for the whole
/// test process: a test's runtime, and what it spawned, ends with the test.
async fn simulator() -> &'static RunningSimulator {
    if let Some(running) = SIMULATOR.get() {
        return running;
    }
    tokio::task::spawn_blocking(move || SIMULATOR.get_or_init(start_simulator))
        .await
        .expect("the simulator starts")
}

fn start_simulator() -> RunningSimulator {
    let (started, running) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime for the simulator");
        runtime.block_on(async move {
            let vars = database_vars()
                .into_iter()
                .fold(Vars::empty(), |vars, (name, value)| vars.set(name, value));
            let departments = Departments::load_dir(&shipped_departments(), None, &vars)
                .unwrap_or_else(|errors| panic!("{errors}"));
            // The data set the template database was seeded with.
            let simulator = Simulator::start(
                simulation::seed::SeedOptions::default(),
                &departments,
                "127.0.0.1:0".parse().expect("address"),
            )
            .await
            .unwrap_or_else(|e| panic!("the simulator starts: {e}"));
            drop_stale_cache_keys().await;
            drop_stale_config_folders();
            let _ = started.send(RunningSimulator {
                url: simulator.url(),
                proxied: simulator.proxied_endpoints().to_vec(),
            });
            simulator.wait().await;
        });
    });
    running.recv().expect("the simulator's thread reports")
}

/// Removes the config folders `edited_departments` made in earlier test processes that
/// are gone.
fn drop_stale_config_folders() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("gov-departments-") else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or_default();
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Deletes the department cache keys of earlier test processes that are gone (each test
/// gateway caches under `gov_test:<pid>-<n>:`).
async fn drop_stale_cache_keys() {
    let Ok(client) = redis::Client::open(crate::helpers::redis_url()) else {
        return;
    };
    let Ok(mut connection) = client.get_multiplexed_async_connection().await else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("gov_test:*")
        .query_async(&mut connection)
        .await
        .unwrap_or_default();
    let stale: Vec<&String> = keys
        .iter()
        .filter(|key| {
            let pid = key.split(':').nth(1).and_then(|s| s.split('-').next());
            !pid.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists())
        })
        .collect();
    for chunk in stale.chunks(500) {
        let _: Result<(), _> = redis::cmd("DEL")
            .arg(chunk)
            .query_async(&mut connection)
            .await;
    }
}

static NEXT_SANDBOX: AtomicU32 = AtomicU32::new(0);

/// A gateway federating over the simulator, in a sandbox of its own.
pub struct Federated {
    pub gateway: TestGateway,
    pub sandbox: String,
    config: gateway::Config,
    simulator: String,
    http: reqwest::Client,
}

/// Options of a federated gateway: the departments folder and Redis (the test server
/// unless said otherwise).
pub struct Setup {
    pub departments: PathBuf,
    pub redis_url: Option<String>,
    /// An HS256 secret: callers then need tokens (otherwise they are anonymous).
    pub jwt_secret: Option<String>,
    /// The request time limit, when not the default.
    pub request_timeout_ms: Option<u64>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            departments: shipped_departments(),
            redis_url: None,
            jwt_secret: None,
            request_timeout_ms: None,
        }
    }
}

impl Federated {
    pub async fn spawn() -> Self {
        Self::spawn_with(Setup::default()).await
    }

    pub async fn spawn_with(setup: Setup) -> Self {
        let running = simulator().await;
        let simulator = running.url.clone();
        let sandbox = format!(
            "{}-{}",
            std::process::id(),
            NEXT_SANDBOX.fetch_add(1, Ordering::Relaxed)
        );
        let database = seeded_database().await;
        let mut config = test_config(&database);
        if let Some(redis_url) = setup.redis_url {
            config.redis_url = gateway::config::Secret::new(redis_url);
        }
        if let Some(limit) = setup.request_timeout_ms {
            config.limits.request_timeout_ms = limit;
        }
        if let Some(secret) = setup.jwt_secret {
            config.auth.jwt_secret = gateway::auth::SigningSecret(secret);
            config.auth.required = true;
        }
        config.departments.dir = setup.departments;
        config.departments.cache_prefix = format!("gov_test:{sandbox}:");
        config.departments.vars = database_vars();
        config.departments.vars.insert(
            "DEPARTMENTS_URL".to_owned(),
            format!("{simulator}/_t/{sandbox}"),
        );
        config.departments.endpoints = running.proxied.iter().cloned().collect();
        // Department writes go out at once and are tried again soon.
        config.writeback = gateway::config::WritebackConfig {
            poll_ms: 100,
            retry_base_ms: 200,
            retry_max_ms: 1_000,
            lease_ms: 2_000,
            ask_again_ms: 200,
        };
        let gateway = TestGateway::spawn_with(config.clone(), database).await;
        Self {
            gateway,
            sandbox,
            config,
            simulator,
            http: reqwest::Client::new(),
        }
    }

    /// Stops the gateway (as SIGTERM does) and starts another over the same database and
    /// configuration.
    pub async fn restart(&mut self) {
        if let Some(server) = self.gateway.begin_shutdown() {
            let _ = server.await;
        }
        let database = self.gateway.database.clone();
        self.gateway = TestGateway::spawn_with(self.config.clone(), database).await;
    }

    /// The ids of the cases a department of this sandbox registered through the gateway.
    pub async fn filed_cases(&self, department: &str) -> Vec<String> {
        self.http
            .get(format!(
                "{}/_sim/filings/{department}?sandbox={}",
                self.simulator, self.sandbox
            ))
            .send()
            .await
            .expect("the simulator answers")
            .json()
            .await
            .expect("filings are JSON")
    }

    /// Requests each department of this sandbox received: (requests, ids per request).
    pub async fn upstream_calls(&self) -> BTreeMap<String, (u64, Vec<u64>)> {
        self.calls(&self.sandbox).await
    }

    /// Round trips to each `sql` department behind the simulator's database proxy (which
    /// has no sandboxes): (round trips, statements per round trip).
    pub async fn database_calls(&self) -> BTreeMap<String, (u64, Vec<u64>)> {
        self.calls("").await
    }

    async fn calls(&self, sandbox: &str) -> BTreeMap<String, (u64, Vec<u64>)> {
        let stats: Value = self
            .http
            .get(format!("{}/_sim/stats?sandbox={sandbox}", self.simulator))
            .send()
            .await
            .expect("the simulator answers")
            .json()
            .await
            .expect("stats are JSON");
        stats
            .as_object()
            .map(|departments| {
                departments
                    .iter()
                    .map(|(code, counts)| {
                        let sizes = counts["batch_sizes"]
                            .as_array()
                            .map(|a| a.iter().filter_map(Value::as_u64).collect())
                            .unwrap_or_default();
                        (
                            code.clone(),
                            (counts["requests"].as_u64().unwrap_or(0), sizes),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub async fn requests_to(&self, department: &str) -> u64 {
        self.upstream_calls()
            .await
            .get(department)
            .map_or(0, |(requests, _)| *requests)
    }

    /// Appends changes to a department's feed in this sandbox.
    pub async fn append_changes(&self, department: &str, changes: Value) {
        let response = self
            .http
            .post(format!(
                "{}/_sim/changes/{department}?sandbox={}",
                self.simulator, self.sandbox
            ))
            .json(&changes)
            .send()
            .await
            .expect("the simulator answers");
        assert!(response.status().is_success(), "changes {changes} refused");
    }

    /// One round of every department feed, as `gateway feed-sync` runs it (waiting its
    /// turn should a background round hold a feed).
    pub async fn feed_sync(&self) -> Vec<gateway::feeds::FeedReport> {
        loop {
            let reports = gateway::feeds::sync_once(&self.config)
                .await
                .unwrap_or_else(|e| panic!("feed-sync starts: {e}"));
            if reports.iter().all(|r| !r.busy) {
                return reports;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Injects a fault into one department of this sandbox.
    pub async fn fault(&self, department: &str, fault: Value) {
        let response = self
            .http
            .put(format!(
                "{}/_sim/faults/{department}?sandbox={}",
                self.simulator, self.sandbox
            ))
            .json(&fault)
            .send()
            .await
            .expect("the simulator answers");
        assert!(response.status().is_success(), "fault {fault} refused");
    }

    pub async fn clear_fault(&self, department: &str) {
        self.http
            .delete(format!(
                "{}/_sim/faults/{department}?sandbox={}",
                self.simulator, self.sandbox
            ))
            .send()
            .await
            .expect("the simulator answers");
    }

    pub async fn clear_faults(&self) {
        self.http
            .delete(format!(
                "{}/_sim/faults?sandbox={}",
                self.simulator, self.sandbox
            ))
            .send()
            .await
            .expect("the simulator answers");
    }
}

/// A copy of the shipped department configs in a temporary folder, with `edit` applied
/// to the text of each file it names.
pub fn edited_departments(edits: &[(&str, &dyn Fn(String) -> String)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "gov-departments-{}-{}",
        std::process::id(),
        NEXT_SANDBOX.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a config folder");
    for entry in std::fs::read_dir(shipped_departments()).expect("read the shipped configs") {
        let path = entry.expect("a config file").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let mut text = std::fs::read_to_string(&path).expect("read a config");
        for (file, edit) in edits {
            if name == *file {
                text = edit(text);
            }
        }
        std::fs::write(dir.join(&name), text).expect("write a config");
    }
    dir
}

/// Replaces a `key = value` line of a config's `[limits]` (or adds it there).
pub fn set_limit(text: String, key: &str, value: &str) -> String {
    let mut out = Vec::new();
    let mut done = false;
    for line in text.lines() {
        if line.trim_start().starts_with(&format!("{key} "))
            || line.trim_start().starts_with(&format!("{key}="))
        {
            out.push(format!("{key} = {value}"));
            done = true;
        } else {
            out.push(line.to_owned());
            if line.trim() == "[limits]" && !text.contains(&format!("\n{key} ")) {
                out.push(format!("{key} = {value}"));
                done = true;
            }
        }
    }
    assert!(done, "no [limits] to set {key} in");
    out.join("\n") + "\n"
}

/// The global id of a record of the index: `Person:42` in base64url.
pub fn global_id(type_name: &str, id: impl std::fmt::Display) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}"))
}

/// The database id inside a global id.
pub fn numeric_id(id: &serde_json::Value) -> i64 {
    use base64::Engine;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id.as_str().expect("an id"))
        .expect("base64");
    let text = String::from_utf8(decoded).expect("UTF-8");
    text.rsplit(':')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a numeric id")
}
