//! The department simulator: all 96 department systems in one process, behaving like
//! real ones (including badly, on request). `rest` departments are served over HTTP,
//! `sql` departments get databases of their own in PostgreSQL or MariaDB, filled from
//! the seed's data set (generated again in memory, never read from the gateway's
//! tables) so that ids line up and the same seed gives the same answers.

mod changes;
mod databases;
mod dice;
mod faults;
mod filings;
mod hotline;
pub mod index;
mod openapi;
mod postgres_proxy;
pub mod records;
pub mod render;
mod server;

use std::collections::HashMap;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use databases::DatabaseError;
pub use faults::{Fault, Garbage};
pub use filings::COURT_DECISION_DELAY;
pub use index::Facts;
pub use records::{Envelope, Native, NativeRecord, Style};
pub use server::Counts;

use connectors::config::{DepartmentConfig, Departments, Lookup};

use crate::seed::SeedOptions;
use connectors::{ConnectorKind, Element};

#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    #[error("the seed generator failed: {0}")]
    Generator(String),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot proxy the database server {server}: {source}")]
    Proxy {
        server: String,
        #[source]
        source: std::io::Error,
    },
    #[error("department {department}: {source}")]
    Database {
        department: String,
        #[source]
        source: DatabaseError,
    },
}

/// How often the population registers register a change of their own (outside any
/// sandbox).
const CHANGES_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// A simulator serving in the background.
pub struct Simulator {
    pub address: SocketAddr,
    /// `sql` departments whose databases were (re)built at start.
    pub databases_built: usize,
    /// Records held, all departments together.
    pub records: usize,
    /// `sql` departments on PostgreSQL and their endpoints through the simulator's proxy.
    proxied: Vec<(String, String)>,
    task: tokio::task::JoinHandle<()>,
}

impl Simulator {
    /// Derives every department's records from the data set `seed` generates (the one
    /// `gateway seed` loads with the same options), builds the `sql` departments'
    /// databases, and serves the `rest` departments on `address`.
    pub async fn start(
        seed: SeedOptions,
        departments: &Departments,
        address: SocketAddr,
    ) -> Result<Self, SimulatorError> {
        let data = tokio::task::spawn_blocking(move || index::data_set(seed))
            .await
            .map_err(|error| SimulatorError::Generator(error.to_string()))?;
        let mut by_department: HashMap<String, Vec<(Element, Facts)>> = HashMap::new();
        let mut records = 0;
        for (element, facts) in index::facts(&data) {
            by_department
                .entry(facts.department_code.clone())
                .or_default()
                .push((element, facts));
        }
        let mut served = HashMap::new();
        let mut databases_built = 0;
        let mut behind_proxy: HashMap<String, HashMap<String, String>> = HashMap::new();
        let mut open311 = Vec::new();
        let mut courts = Vec::new();
        let mut registers = Vec::new();
        for config in departments.iter() {
            let facts = by_department.remove(&config.code).unwrap_or_default();
            if config.kind == ConnectorKind::Rest
                && config
                    .feed
                    .as_ref()
                    .is_some_and(|f| f.element == Element::Person)
            {
                let grids = index::grids(&data, &config.county);
                registers.push(changes::register(
                    &config.code,
                    &config.county,
                    &facts,
                    grids,
                ));
            }
            match config.kind {
                ConnectorKind::Rest => {
                    let department = rest_department(config, &facts);
                    records += department.records.values().map(HashMap::len).sum::<usize>();
                    served.insert(config.code.clone(), department);
                }
                ConnectorKind::Sql => {
                    let tables = sql_tables(config, &facts);
                    records += tables.iter().map(|t| t.rows.len()).sum::<usize>();
                    let built =
                        databases::fill(&config.endpoint, &tables)
                            .await
                            .map_err(|source| SimulatorError::Database {
                                department: config.code.clone(),
                                source,
                            })?;
                    databases_built += usize::from(built);
                    if config.feed.is_some() && config.abbreviation() == "ZJ" {
                        let mysql = databases::is_mysql(&config.endpoint);
                        databases::run_script(
                            &config.endpoint,
                            &[changes::building_changes(mysql)],
                        )
                        .await
                        .map_err(|source| SimulatorError::Database {
                            department: config.code.clone(),
                            source,
                        })?;
                    }
                    if config.abbreviation() == "FY" {
                        let mysql = databases::is_mysql(&config.endpoint);
                        let schema = filings::court_schema(&config.county, mysql);
                        databases::run_script(&config.endpoint, &schema)
                            .await
                            .map_err(|source| SimulatorError::Database {
                                department: config.code.clone(),
                                source,
                            })?;
                        courts.push((config.county.clone(), config.endpoint.clone()));
                    }
                    if let Some((server, database)) = postgres_server(&config.endpoint) {
                        behind_proxy
                            .entry(server)
                            .or_default()
                            .insert(database, config.code.clone());
                    }
                }
                ConnectorKind::Open311 => open311.push(config),
            }
        }
        let hotlines = hotline::Hotlines::load(&data, &open311);
        drop(data);
        records += hotlines.requests();
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| SimulatorError::Listen { address, source })?;
        let address = listener
            .local_addr()
            .map_err(|source| SimulatorError::Listen { address, source })?;
        let proxied = behind_proxy
            .values()
            .flat_map(|databases| databases.values().cloned())
            .collect();
        let shared = Arc::new(server::Shared::new(served, proxied).with_hotlines(hotlines));
        let generator = changes::generate(shared.changes.clone(), registers, CHANGES_EVERY);
        let mut proxied = Vec::new();
        for (server, databases) in behind_proxy {
            let proxy = start_proxy(&server, databases.clone(), shared.clone())
                .await
                .map_err(|source| SimulatorError::Proxy {
                    server: server.clone(),
                    source,
                })?;
            for (database, code) in databases {
                proxied.push((code, format!("{proxy}/{database}")));
            }
        }
        proxied.sort();
        let app = server::router(shared);
        let task = tokio::spawn(async move {
            tokio::select! {
                served = axum::serve(listener, app).into_future() => {
                    if let Err(error) = served {
                        tracing::error!(%error, "department simulator stopped");
                    }
                }
                () = filings::court_clerks(courts) => {}
                () = generator => {}
            }
        });
        Ok(Self {
            address,
            databases_built,
            records,
            proxied,
            task,
        })
    }

    /// The base URL the `rest` departments are under (`DEPARTMENTS_URL`).
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The `sql` departments on PostgreSQL, each with its endpoint through the
    /// simulator's proxy, where their faults are injected and statements counted.
    pub fn proxied_endpoints(&self) -> &[(String, String)] {
        &self.proxied
    }

    /// Serves until the process ends.
    pub async fn wait(mut self) {
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        let _ = task.await;
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn rest_department(config: &DepartmentConfig, facts: &[(Element, Facts)]) -> server::Served {
    let abbr = config.abbreviation();
    let style = records::style(abbr);
    let mut by_element: HashMap<Element, HashMap<String, serde_json::Value>> = HashMap::new();
    for (element, facts) in facts {
        if !config.lookups.contains_key(element) {
            continue;
        }
        if let Some(record) = records::native(abbr, *element, facts) {
            by_element
                .entry(*element)
                .or_default()
                .insert(facts.source_id.clone(), render::json_record(&record, style));
        }
    }
    server::Served {
        auth: config.auth.clone(),
        envelope: style.envelope,
        batched: config
            .lookups
            .values()
            .any(|lookup| matches!(lookup, Lookup::Rest { batch: Some(_), .. })),
        records: by_element,
    }
}

fn sql_tables(config: &DepartmentConfig, facts: &[(Element, Facts)]) -> Vec<databases::Table> {
    let abbr = config.abbreviation();
    config
        .lookups
        .iter()
        .filter_map(|(element, lookup)| {
            let Lookup::Sql { id, .. } = lookup else {
                return None;
            };
            let rows = facts
                .iter()
                .filter(|(e, _)| e == element)
                .filter_map(|(_, facts)| records::native(abbr, *element, facts))
                .collect();
            Some(databases::Table {
                name: records::table(abbr, *element),
                id_column: id.clone(),
                rows,
            })
        })
        .collect()
}

/// For a PostgreSQL endpoint, its server (`postgres://user@host:port`) and database.
fn postgres_server(endpoint: &str) -> Option<(String, String)> {
    let url = url::Url::parse(endpoint).ok()?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return None;
    }
    let database = url.path().trim_start_matches('/').to_owned();
    let (server, _) = endpoint
        .split_at(endpoint.len() - url.path().len() - url.query().map_or(0, |q| q.len() + 1));
    Some((server.trim_end_matches('/').to_owned(), database))
}

/// Starts a proxy in front of `server` and returns the server URL through it.
async fn start_proxy(
    server: &str,
    databases: HashMap<String, String>,
    shared: Arc<server::Shared>,
) -> std::io::Result<String> {
    let mut url = url::Url::parse(server).map_err(std::io::Error::other)?;
    let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
    let port = url.port().unwrap_or(5432);
    let upstream = tokio::net::lookup_host((host.as_str(), port))
        .await?
        .next()
        .ok_or_else(|| std::io::Error::other(format!("{host} does not resolve")))?;
    let proxy = postgres_proxy::start(upstream, databases, shared).await?;
    url.set_host(Some("127.0.0.1"))
        .map_err(std::io::Error::other)?;
    url.set_port(Some(proxy.port()))
        .map_err(|()| std::io::Error::other("cannot set the proxy's port"))?;
    Ok(url.as_str().trim_end_matches('/').to_owned())
}
