//! One place for what the tests share: databases, a running gateway, a client, a proxy
//! that can cut the database connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use gateway::{Application, Config, config::Secret};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OnceCell, oneshot, watch};

/// The PostgreSQL server tests create their databases on.
pub fn postgres_server() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub fn database_url(name: &str) -> String {
    format!("{}/{name}", postgres_server())
}

async fn admin() -> PgConnection {
    PgConnection::connect(&database_url("postgres"))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL must run at {} for the tests: {e}",
                postgres_server()
            )
        })
}

fn prefix() -> String {
    format!("gov_test_{}_", std::process::id())
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();
static NEXT_DATABASE: AtomicU32 = AtomicU32::new(0);

/// Drops databases left by earlier test processes that are gone.
async fn drop_stale_databases(admin: &mut PgConnection) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'gov\\_test\\_%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    for name in names {
        let pid = name
            .split('_')
            .nth(2)
            .and_then(|pid| pid.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            let _ = admin
                .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
                .await;
        }
    }
}

/// Creates a database of this test process, empty or as a copy of `template`.
async fn create_database(template: Option<&str>) -> String {
    let name = format!(
        "{}{}",
        prefix(),
        NEXT_DATABASE.fetch_add(1, Ordering::Relaxed)
    );
    let copy = template
        .map(|t| format!(" TEMPLATE \"{t}\""))
        .unwrap_or_default();
    admin()
        .await
        .execute(format!("CREATE DATABASE \"{name}\"{copy}").as_str())
        .await
        .expect("create a test database");
    name
}

/// A new, empty database with the migrations applied.
pub async fn migrated_database() -> (String, PgPool) {
    let name = create_database(None).await;
    let pool = PgPool::connect(&database_url(&name))
        .await
        .expect("connect test database");
    schema::MIGRATOR
        .run(&pool)
        .await
        .expect("migrations apply to an empty database");
    (name, pool)
}

/// The migrated database seeded `small`, made once per test process.
async fn template() -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            drop_stale_databases(&mut admin().await).await;
            let (name, pool) = migrated_database().await;
            simulation::seed::seed(&pool, &simulation::seed::SeedOptions::default(), &|_| {})
                .await
                .expect("seeding the template database");
            pool.close().await;
            name
        })
        .await
}

/// A fresh copy of the seeded template.
pub async fn seeded_database() -> String {
    create_database(Some(template().await)).await
}

/// A gateway's configuration over `database`, authentication explicitly off (every
/// caller anonymous): tests of access set a key themselves.
pub fn test_config(database: &str) -> Config {
    Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        database_url: Secret::new(database_url(database)),
        redis_url: Secret::new(redis_url()),
        departments: gateway::config::DepartmentsConfig {
            dir: std::path::PathBuf::new(),
            ..Default::default()
        },
        auth: gateway::auth::AuthConfig {
            required: false,
            ..Default::default()
        },
        limits: gateway::config::LimitsConfig {
            // Every test's operation names keep their label in the shared recorder.
            metrics_operation_names: 100_000,
            ..Default::default()
        },
        ..Config::default()
    }
}

/// A gateway serving on a random port until dropped.
pub struct TestGateway {
    pub address: SocketAddr,
    pub database: String,
    pub client: reqwest::Client,
    store: schema::Store,
    /// Dropped (or sent) to shut the gateway down.
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestGateway {
    /// A gateway over a fresh copy of the seeded data set.
    pub async fn spawn() -> Self {
        let database = seeded_database().await;
        Self::spawn_with(test_config(&database), database).await
    }

    pub async fn spawn_with(config: Config, database: String) -> Self {
        let app = Application::build(&config)
            .await
            .expect("the gateway starts");
        let address = app.address();
        let store = app.store().clone();
        let (shutdown, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run(async {
            let _ = stopped.await;
        }));
        Self {
            address,
            database,
            client: reqwest::Client::new(),
            store,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    /// Signals shutdown, as SIGTERM does; returns the server's task, which ends when the
    /// server has stopped.
    pub fn begin_shutdown(&mut self) -> Option<tokio::task::JoinHandle<std::io::Result<()>>> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.server.take()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// The body of `/readyz`, whatever its status.
    pub async fn readiness(&self) -> Value {
        self.client
            .get(self.url("/readyz"))
            .send()
            .await
            .expect("the gateway answers")
            .json()
            .await
            .expect("JSON")
    }

    /// SQL statements the gateway has sent so far.
    pub fn statements(&self) -> u64 {
        self.store.statements_executed()
    }

    /// POSTs a GraphQL request the way a standard client does; returns status and body.
    pub async fn post(&self, query: &str, variables: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url("/graphql"))
            .header(
                "accept",
                "application/graphql-response+json, application/json;q=0.9",
            )
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status();
        (status, response.json().await.expect("the body is JSON"))
    }

    /// Runs a query that must succeed without errors; returns `data`.
    pub async fn query(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self.post(query, variables).await;
        assert_eq!(status, StatusCode::OK, "{body:#}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// A connection to the gateway's own database, to check answers against.
    /// The first grid of a county, by code.
    pub async fn grid_of(&self, county: &str) -> String {
        sqlx::query_scalar(
            "SELECT code FROM jurisdictions WHERE level = 'GRID' AND code LIKE $1 || '%' ORDER BY code LIMIT 1",
        )
        .bind(county)
        .fetch_one(&mut self.database().await)
        .await
        .expect("a grid of the county")
    }

    pub async fn database(&self) -> PgConnection {
        PgConnection::connect(&database_url(&self.database))
            .await
            .expect("connect test database")
    }

    /// A connection in a transaction holding `event`'s row (a global id), as a change
    /// in progress does; the row is free again when the transaction ends.
    pub async fn holding_event(&self, event: &Value) -> PgConnection {
        let mut holder = self.database().await;
        sqlx::query("BEGIN")
            .execute(&mut holder)
            .await
            .expect("begin");
        sqlx::query("SELECT 1 FROM events WHERE id = $1 FOR UPDATE")
            .bind(crate::departments::numeric_id(event))
            .execute(&mut holder)
            .await
            .expect("the event's row");
        holder
    }
}

/// The code of the first error of a response body.
pub fn first_error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<no code>")
}

/// A TCP proxy to PostgreSQL that can cut every connection and refuse new ones, like a
/// database that goes away, and come back.
pub struct DatabaseProxy {
    pub port: u16,
    cut: Arc<AtomicBool>,
    cuts: watch::Sender<u64>,
}

impl DatabaseProxy {
    /// A proxy to the tests' PostgreSQL server.
    pub async fn to_postgres() -> Self {
        let server = url::Url::parse(&postgres_server()).expect("server URL");
        let upstream = format!(
            "{}:{}",
            server.host_str().unwrap_or("127.0.0.1"),
            server.port().unwrap_or(5432)
        );
        Self::start(upstream.parse().expect("socket address")).await
    }

    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let cut = Arc::new(AtomicBool::new(false));
        let (cuts, _) = watch::channel(0u64);
        let proxy = Self {
            port,
            cut: cut.clone(),
            cuts: cuts.clone(),
        };
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if cut.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let mut cut_signal = cuts.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut_signal.changed() => {}
                    }
                });
            }
        });
        proxy
    }

    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

/// Runs `program` with `args` in `folder`, off the runtime's threads (the gateway under
/// test runs on them); its output, or a panic saying what is missing.
pub async fn run_in(
    folder: std::path::PathBuf,
    program: &str,
    args: Vec<String>,
    needs: &'static str,
) -> std::process::Output {
    let program = program.to_owned();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(&program)
            .args(&args)
            .current_dir(folder)
            .output()
    })
    .await
    .expect("the command runs")
    .unwrap_or_else(|error| panic!("{needs} is needed for these tests: {error}"))
}

/// Panics with the output of a command that failed.
pub fn succeeded(output: &std::process::Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A response's `Content-Type`, or nothing.
pub fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
