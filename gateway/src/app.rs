//! The application: built from configuration, bound before it runs so callers (and tests,
//! on port 0) learn its address, then served until a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use connectors::config::{ConfigErrors, Departments};
use connectors::{Cache, Federation};

use schema::{Store, build_schema};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::database::{self, DatabaseError};
use crate::http::{AppState, Shared, router};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Database(#[from] DatabaseError),
    #[error("REDIS_URL is not a usable Redis URL: {0}")]
    Redis(#[source] redis::RedisError),
    #[error("{0}")]
    Departments(#[from] connectors::config::ConfigErrors),
    #[error(transparent)]
    Federation(#[from] connectors::BuildError),
    #[error(transparent)]
    Hotline(#[from] connectors::Open311BuildError),
    #[error(
        "no key to check tokens with: set auth.jwt_secret (or GATEWAY_JWT_SECRET), auth.jwks_file \
         or auth.jwks_url; or say `required = false` under [auth] to serve without \
         authentication, every caller anonymous"
    )]
    NoKey,
    #[error(transparent)]
    Manifest(#[from] crate::http::persisted::ManifestError),
    #[error("auth: {0}")]
    Keys(#[from] crate::auth::KeysError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    router: axum::Router,
    store: Store,
    /// The open311 systems (the 12345 hotline) synced in the background while serving.
    hotlines: Vec<Arc<crate::hotline::HotlineSync>>,
    /// The departments' change feeds, pulled into the index while serving.
    feeds: Vec<Arc<crate::feeds::FeedSync>>,
    deadline_check: std::time::Duration,
    workflow: crate::config::WorkflowConfig,
    writeback: crate::config::WritebackConfig,
    /// The department systems, which the write outbox sends to.
    federation: Arc<Federation>,
    /// Told when shutdown begins, so that WebSockets and SSE streams end.
    stopping: tokio::sync::watch::Sender<bool>,
    /// How long connections may take to finish once shutdown begins.
    grace: std::time::Duration,
    /// The store background jobs use.
    jobs: Store,
    signals: Arc<schema::workflow::SignalHub>,
    /// Redis and the doorbell channel, when configured.
    doorbell: Option<(redis::Client, String)>,
    /// The read replica queries read from, when configured.
    replica: Option<Arc<schema::store::ReadReplica>>,
}

impl Application {
    pub async fn build(config: &Config) -> Result<Self, StartError> {
        Self::build_with_tokens(config, Vec::new()).await
    }

    /// The application, its GraphiQL page offering `tokens` in a role picker (the demo).
    pub async fn build_with_tokens(
        config: &Config,
        tokens: Vec<crate::http::RoleToken>,
    ) -> Result<Self, StartError> {
        let auth = crate::auth::Authenticator::new(&config.auth).await?;
        let stopping = tokio::sync::watch::Sender::new(false);
        if !auth.enabled() && config.auth.required {
            return Err(StartError::NoKey);
        }
        // Department configs first: a broken one is the operator's to fix before anything runs.
        let departments = load_departments(config)?;
        let pool = database::pool(config, database::Purpose::Serving)?;
        if config.database.migrate_on_start {
            database::migrate(&pool, config).await?;
            #[cfg(feature = "simulation")]
            crate::seeding::finish_interrupted(&pool).await;
        }
        let redis = if config.redis_url.is_empty() {
            tracing::info!("no REDIS_URL configured: running single-node without Redis");
            None
        } else {
            Some(redis::Client::open(config.redis_url.expose()).map_err(StartError::Redis)?)
        };
        let cache = redis.clone().map(|client| {
            Cache::new(client, config.departments.cache_prefix.clone()).with_personal_stale_ttl(
                std::time::Duration::from_secs(config.departments.personal_stale_ttl_s),
            )
        });
        let federation = Arc::new(Federation::new(&departments, cache)?);
        tracing::info!(
            departments = departments.len(),
            "department connectors ready"
        );
        // Metrics recorded from now on show at /metrics.
        crate::metrics::handle();
        crate::metrics::keep_operation_names(config.limits.metrics_operation_names);
        // Background jobs have connections of their own, and their statements are
        // counted apart from the requests'.
        let jobs = Store::new(database::pool(config, database::Purpose::Jobs)?);
        let signals = schema::workflow::SignalHub::new(jobs.clone());
        let hotlines = crate::hotline::syncs(federation.departments(), &jobs)?;
        let feeds = crate::feeds::syncs(federation.departments(), &jobs);
        let replica = crate::replica::open(config).await?;
        let mut store = Store::new(pool).with_writers(config.database.max_writers);
        if let Some(replica) = &replica {
            store = store.with_read_replica(replica.clone());
        }
        let state = AppState::new(Shared {
            schema: build_schema(
                store.clone(),
                federation.clone(),
                config.limits.query_limits(),
            ),
            store: store.clone(),
            federation: federation.clone(),
            signals: signals.clone(),
            redis: redis.clone(),
            limits: config.limits.clone(),
            exports: Arc::new(tokio::sync::Semaphore::new(config.limits.max_exports)),
            auth,
            feeds: Default::default(),
            graphiql: crate::http::graphiql_page(&tokens),
            board: crate::http::board_page(&tokens),
            persisted: crate::http::persisted::PersistedDocuments::new(
                &config.persisted,
                redis.clone(),
                &config.departments.cache_prefix,
            )?,
            limiter: crate::rate_limit::RateLimiter::new(
                &config.rate_limit,
                redis.clone(),
                &config.departments.cache_prefix,
            ),
            stopping: stopping.subscribe(),
        });
        if state.auth.enabled() {
            tracing::info!(
                required = config.auth.required,
                "authentication on: callers present bearer tokens"
            );
        } else {
            tracing::warn!(
                "authentication off (auth.required = false and no key): every caller is \
                 anonymous, city-wide, and may run every workflow change"
            );
        }
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Bind {
                    address: config.listen,
                    source,
                })?;
        let address = listener.local_addr().map_err(|source| StartError::Bind {
            address: config.listen,
            source,
        })?;
        Ok(Self {
            listener,
            address,
            router: router(state, config),
            store,
            hotlines,
            feeds,
            deadline_check: config.workflow.deadline_check(),
            workflow: config.workflow.clone(),
            writeback: config.writeback.clone(),
            federation: federation.clone(),
            stopping,
            grace: config.limits.shutdown_grace(),
            jobs,
            signals,
            doorbell: redis.map(|client| {
                (
                    client,
                    format!("{}signals", config.departments.cache_prefix),
                )
            }),
            replica,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The store the application queries through; its statement count is how tests see
    /// the SQL a request cost.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(address = %self.address, "serving GraphQL at /graphql, GraphiQL at /");
        // Stops with the server, when dropped.
        let mut _syncs = crate::periodic::Periodic::new();
        crate::hotline::schedule(&self.hotlines, &mut _syncs);
        crate::feeds::schedule(&self.feeds, &mut _syncs);
        if let Some(replica) = self.replica {
            crate::replica::schedule(replica, &mut _syncs);
        }
        let _deadlines =
            crate::deadlines::DeadlineWatcher::start(self.jobs.clone(), self.deadline_check);
        let _writeback = crate::writeback::WriteBack::start(
            self.jobs.clone(),
            self.federation.clone(),
            self.writeback.clone(),
        );
        let _pruner = crate::retention::Pruner::start(
            self.jobs.clone(),
            self.workflow.retention(),
            self.workflow.prune_every(),
        );
        let _signals = crate::signals::SignalJobs::start(
            self.signals.clone(),
            self.jobs.clone(),
            self.doorbell.clone(),
        );
        let stopping = self.stopping;
        let mut stopped = stopping.subscribe();
        let server = axum::serve(crate::http::RefusingListener(self.listener), self.router)
            .with_graceful_shutdown(async move {
                shutdown.await;
                // WebSockets are told 1001 and SSE streams end; requests finish.
                stopping.send_replace(true);
            })
            .into_future();
        let grace = self.grace;
        let drain_over = async move {
            let _ = stopped.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            served = server => served,
            () = drain_over => {
                tracing::warn!(
                    grace_s = grace.as_secs(),
                    "connections still open after the shutdown grace time: exiting anyway"
                );
                Ok(())
            }
        }
    }
}

/// Reads and checks every department config file; an empty `dir` means none.
pub fn load_departments(config: &Config) -> Result<Departments, ConfigErrors> {
    let dir = &config.departments.dir;
    if dir.as_os_str().is_empty() {
        return Ok(Departments::default());
    }
    let mut departments =
        Departments::load_dir(dir, Some(&schema::catalog()), &config.departments.vars())?;
    let mut unknown = Vec::new();
    for (code, endpoint) in &config.departments.endpoints {
        if !departments.set_endpoint(code, endpoint) {
            unknown.push(connectors::config::ConfigError {
                file: dir.clone(),
                line: None,
                key: format!("departments.endpoints.{code}"),
                reason: "no department config has this code".to_owned(),
            });
        }
    }
    if unknown.is_empty() {
        Ok(departments)
    } else {
        Err(ConfigErrors(unknown))
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received: finishing in-flight requests");
}
