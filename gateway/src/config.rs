//! Configuration: one TOML file (optional) plus environment overrides. Every setting has
//! a default that works on a developer machine with PostgreSQL and Redis on localhost.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::auth::{AuthConfig, MIN_SECRET_BYTES, SigningSecret};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to serve HTTP on (`GATEWAY_LISTEN`).
    pub listen: SocketAddr,
    /// PostgreSQL holding the platform's own data (`DATABASE_URL`).
    pub database_url: Secret,
    /// A read replica of that database for queries; empty: queries read from the primary
    /// (`READ_DATABASE_URL`).
    pub read_database_url: Secret,
    /// Redis; empty disables it (`REDIS_URL`).
    pub redis_url: Secret,
    pub database: DatabaseConfig,
    pub limits: LimitsConfig,
    pub departments: DepartmentsConfig,
    pub workflow: WorkflowConfig,
    /// Sending what department systems are asked to do (the write outbox).
    pub writeback: WritebackConfig,
    /// Authentication of callers by JWT; off until a secret is set.
    pub auth: AuthConfig,
    pub rate_limit: crate::rate_limit::RateLimitConfig,
    pub persisted: crate::http::persisted::PersistedConfig,
    /// Origins allowed to call the API from a browser (CORS); empty allows none.
    pub cors_allowed_origins: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: Secret("postgres://postgres@127.0.0.1:5432/governance".into()),
            read_database_url: Secret(String::new()),
            redis_url: Secret("redis://127.0.0.1:6379".into()),
            database: DatabaseConfig::default(),
            limits: LimitsConfig::default(),
            departments: DepartmentsConfig::default(),
            workflow: WorkflowConfig::default(),
            writeback: WritebackConfig::default(),
            auth: AuthConfig::default(),
            rate_limit: Default::default(),
            persisted: Default::default(),
            cors_allowed_origins: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// Connections for requests.
    pub max_connections: u32,
    /// Connections for background jobs, apart from the requests'.
    pub job_connections: u32,
    /// Workflow changes run at once (the others wait their turn), so that a burst of
    /// writes leaves reads their connections and their share of the CPU.
    pub max_writers: usize,
    /// How long a query waits for a connection before answering DATABASE_UNAVAILABLE.
    pub acquire_timeout_ms: u64,
    /// Apply pending migrations when `serve` starts.
    pub migrate_on_start: bool,
    /// How far behind the primary the read replica may be (checked every second) before
    /// queries read from the primary instead.
    pub max_replica_lag_ms: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            max_connections: 16,
            job_connections: 4,
            max_writers: schema::store::DEFAULT_WRITERS,
            acquire_timeout_ms: 3_000,
            migrate_on_start: true,
            max_replica_lag_ms: 5_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkflowConfig {
    /// How often summonses are checked for passed deadlines (督办); 0 disables the check
    /// on this replica.
    pub deadline_check_ms: u64,
    /// How long idempotency keys and published outbox rows are kept, in days.
    pub retention_days: u64,
    /// How often they are pruned (once per period across replicas), in seconds; 0
    /// disables pruning on this replica.
    pub prune_every_s: u64,
}

/// How writes into department systems are sent: looked for every `poll_ms`, each sent
/// once per try under a lease, tried again with exponential backoff from
/// `retry_base_ms` up to `retry_max_ms` until the department answers, and a PENDING
/// answer asked about again every `ask_again_ms`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WritebackConfig {
    /// 0 disables sending on this replica.
    pub poll_ms: u64,
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// How long a claimed write is left to the replica sending it; one that died meanwhile
    /// is sent again (same key) after it. Longer than any department's time limit.
    pub lease_ms: u64,
    pub ask_again_ms: u64,
}

impl Default for WritebackConfig {
    fn default() -> Self {
        Self {
            poll_ms: 1_000,
            retry_base_ms: 1_000,
            retry_max_ms: 300_000,
            lease_ms: 30_000,
            ask_again_ms: 5_000,
        }
    }
}

impl Default for WorkflowConfig {
    fn default() -> Self {
        Self {
            deadline_check_ms: 10_000,
            retention_days: 7,
            prune_every_s: 3_600,
        }
    }
}

impl WorkflowConfig {
    pub fn deadline_check(&self) -> Duration {
        Duration::from_millis(self.deadline_check_ms)
    }

    pub fn retention(&self) -> Duration {
        Duration::from_secs(self.retention_days.saturating_mul(86_400))
    }

    pub fn prune_every(&self) -> Duration {
        Duration::from_secs(self.prune_every_s)
    }
}

/// The department systems the gateway federates.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DepartmentsConfig {
    /// The folder of department config files, one per department (`DEPARTMENTS_DIR`).
    /// Empty: no departments, and federated fields answer null.
    pub dir: PathBuf,
    /// Values for `${NAME}` in department configs, in front of the environment.
    pub vars: BTreeMap<String, String>,
    /// Endpoints by department code, in place of what the department's file says.
    pub endpoints: BTreeMap<String, String>,
    /// Prefix of the department cache's keys in Redis.
    pub cache_prefix: String,
    /// How long past their TTL department records holding personal data are kept to
    /// answer from when the department fails (at most their stale-if-error window).
    pub personal_stale_ttl_s: u64,
}

impl Default for DepartmentsConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("connectors/departments"),
            vars: BTreeMap::new(),
            endpoints: BTreeMap::new(),
            cache_prefix: "gov:".to_owned(),
            personal_stale_ttl_s: 3_600,
        }
    }
}

/// Variables may carry secrets (tokens, passwords): only their names are printed.
impl fmt::Debug for DepartmentsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DepartmentsConfig")
            .field("dir", &self.dir)
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("endpoints", &self.endpoints.keys().collect::<Vec<_>>())
            .field("cache_prefix", &self.cache_prefix)
            .field("personal_stale_ttl_s", &self.personal_stale_ttl_s)
            .finish()
    }
}

impl DepartmentsConfig {
    /// What `${NAME}` in department configs resolves to: these vars, then the environment.
    pub fn vars(&self) -> connectors::config::Vars {
        self.vars.iter().fold(
            connectors::config::Vars::from_env(),
            |vars, (name, value)| vars.set(name.clone(), value.clone()),
        )
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest request body accepted, in bytes (the GraphQL part of a multipart upload
    /// included; its files are counted apart).
    pub max_body_bytes: usize,
    /// Largest photo a multipart request may upload, and how many in one request.
    pub max_photo_bytes: usize,
    pub max_photos: usize,
    /// Deepest selection nesting.
    pub max_depth: usize,
    /// async-graphql complexity score.
    pub max_complexity: usize,
    /// Fields selected once fragments are expanded, `__typename` included.
    pub max_selections: usize,
    /// Bytes of a document's text.
    pub max_document_bytes: usize,
    /// Lexical tokens of a document.
    pub max_tokens: usize,
    /// Fields selected under another name, in a document.
    pub max_aliases: usize,
    /// Fields at the root of an operation.
    pub max_root_fields: usize,
    /// Times one field may be selected in one selection set.
    pub max_field_repeats: usize,
    /// Directives in a document.
    pub max_directives: usize,
    /// Bytes of a request's variables, as JSON.
    pub max_variables_bytes: usize,
    /// Whether the schema answers introspection queries (and suggests names in
    /// validation errors); off unless said, on in the demo.
    pub introspection: bool,
    /// Longest a GraphQL request may run.
    pub request_timeout_ms: u64,
    /// How long a WebSocket client has to send `connection_init` (then: close 4408).
    pub ws_init_timeout_ms: u64,
    /// Operations one WebSocket connection may run at once; one more is refused with
    /// an `error` message.
    pub ws_max_operations: usize,
    /// How often a WebSocket connection is pinged (and the legacy protocol sent `ka`); a
    /// client that answers nothing between two pings is dropped. 0 disables it.
    pub ws_keepalive_ms: u64,
    /// At shutdown, how long open connections are given to finish: WebSockets are told
    /// 1001 and SSE streams end at once, in-flight requests finish; past this the process
    /// exits whatever clients do.
    pub shutdown_grace_s: u64,
    /// Exports (`/export/...`) streaming at once; each holds a database connection while
    /// it runs, so the rest of the pool stays for queries. One more is refused (429).
    pub max_exports: usize,
    /// Distinct operation names `/metrics` labels requests with; later names are
    /// counted as `other`, so that clients cannot blow up the set of series.
    pub metrics_operation_names: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let query = schema::QueryLimits::default();
        Self {
            max_body_bytes: 256 * 1024,
            max_photo_bytes: 5 * 1024 * 1024,
            max_photos: 9,
            max_depth: query.max_depth,
            max_complexity: query.max_complexity,
            max_selections: query.max_selections,
            max_document_bytes: query.max_document_bytes,
            max_tokens: query.max_tokens,
            max_aliases: query.max_aliases,
            max_root_fields: query.max_root_fields,
            max_field_repeats: query.max_field_repeats,
            max_directives: query.max_directives,
            max_variables_bytes: query.max_variables_bytes,
            introspection: query.introspection,
            request_timeout_ms: 30_000,
            ws_init_timeout_ms: 10_000,
            ws_max_operations: 100,
            ws_keepalive_ms: 15_000,
            shutdown_grace_s: 10,
            max_exports: 4,
            metrics_operation_names: crate::metrics::MAX_OPERATION_NAMES,
        }
    }
}

impl LimitsConfig {
    pub fn query_limits(&self) -> schema::QueryLimits {
        schema::QueryLimits {
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
            max_selections: self.max_selections,
            max_document_bytes: self.max_document_bytes,
            max_tokens: self.max_tokens,
            max_aliases: self.max_aliases,
            max_root_fields: self.max_root_fields,
            max_field_repeats: self.max_field_repeats,
            max_directives: self.max_directives,
            max_variables_bytes: self.max_variables_bytes,
            introspection: self.introspection,
        }
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub fn ws_init_timeout(&self) -> Duration {
        Duration::from_millis(self.ws_init_timeout_ms)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_s)
    }

    /// The keep-alive period, unless disabled.
    pub fn ws_keepalive(&self) -> Option<Duration> {
        (self.ws_keepalive_ms > 0).then(|| Duration::from_millis(self.ws_keepalive_ms))
    }
}

/// A connection string that may carry a password: never printed in full.
#[derive(Clone, Deserialize, Default, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

/// The URL with its password replaced, for logs.
fn redact(value: &str) -> String {
    match url::Url::parse(value) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(url) => url.to_string(),
        Err(_) if value.is_empty() => String::new(),
        Err(_) => "<unparsable url>".to_owned(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is invalid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{origin}: `{key}` {reason}")]
    Invalid {
        origin: String,
        key: &'static str,
        reason: String,
    },
}

/// Where settings come from, for error messages.
fn origin(path: Option<&Path>, env: &str, from_env: bool) -> String {
    match (from_env, path) {
        (true, _) => format!("environment variable {env}"),
        (false, Some(path)) => format!("config file {}", path.display()),
        (false, None) => "default configuration".to_owned(),
    }
}

impl Config {
    /// Reads the file (if any), then applies `DATABASE_URL`, `READ_DATABASE_URL`,
    /// `REDIS_URL`, `DEPARTMENTS_DIR`,
    /// `GATEWAY_JWT_SECRET`
    /// and `GATEWAY_LISTEN`
    /// from `env`, then checks the result.
    pub fn load(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut config = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                Self::parse(&text).map_err(|message| ConfigError::Parse {
                    path: path.to_owned(),
                    message,
                })?
            }
            None => Self::default(),
        };
        let database_from_env = env("DATABASE_URL")
            .map(|v| config.database_url = Secret(v))
            .is_some();
        let read_database_from_env = env("READ_DATABASE_URL")
            .map(|v| config.read_database_url = Secret(v))
            .is_some();
        let redis_from_env = env("REDIS_URL")
            .map(|v| config.redis_url = Secret(v))
            .is_some();
        if let Some(dir) = env("DEPARTMENTS_DIR") {
            config.departments.dir = PathBuf::from(dir);
        }
        let secret_from_env = env("GATEWAY_JWT_SECRET")
            .map(|v| config.auth.jwt_secret = SigningSecret(v))
            .is_some();
        if let Some(listen) = env("GATEWAY_LISTEN") {
            config.listen = listen.parse().map_err(|_| ConfigError::Invalid {
                origin: origin(path, "GATEWAY_LISTEN", true),
                key: "listen",
                reason: format!("must be an address like 127.0.0.1:8080, got `{listen}`"),
            })?;
        }
        config.check(
            &origin(path, "DATABASE_URL", database_from_env),
            &origin(path, "READ_DATABASE_URL", read_database_from_env),
            &origin(path, "REDIS_URL", redis_from_env),
            &origin(path, "GATEWAY_JWT_SECRET", secret_from_env),
            &origin(path, "", false),
        )?;
        Ok(config)
    }

    /// Parses a TOML text; the message names the line, column and key at fault.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())
    }

    fn check(
        &self,
        database_origin: &str,
        read_database_origin: &str,
        redis_origin: &str,
        secret_origin: &str,
        file_origin: &str,
    ) -> Result<(), ConfigError> {
        let invalid = |origin: &str, key, reason: &str| ConfigError::Invalid {
            origin: origin.to_owned(),
            key,
            reason: reason.to_owned(),
        };
        let postgres = |url: &str| {
            (url.starts_with("postgres://") || url.starts_with("postgresql://"))
                && url::Url::parse(url).is_ok()
        };
        if !postgres(self.database_url.expose()) {
            return Err(invalid(
                database_origin,
                "database_url",
                "must be a PostgreSQL URL like postgres://user@host:5432/database",
            ));
        }
        let read = self.read_database_url.expose();
        if !read.is_empty() && !postgres(read) {
            return Err(invalid(
                read_database_origin,
                "read_database_url",
                "must be a PostgreSQL URL like postgres://user@replica:5432/database, or empty \
                 to read from the primary",
            ));
        }
        let redis = self.redis_url.expose();
        if !redis.is_empty()
            && (!(redis.starts_with("redis://") || redis.starts_with("rediss://"))
                || url::Url::parse(redis).is_err())
        {
            return Err(invalid(
                redis_origin,
                "redis_url",
                "must be a Redis URL like redis://127.0.0.1:6379, or empty to run without Redis",
            ));
        }
        let secret = &self.auth.jwt_secret.0;
        if !secret.is_empty() && secret.len() < MIN_SECRET_BYTES {
            return Err(invalid(
                secret_origin,
                "auth.jwt_secret",
                &format!("must be at least {MIN_SECRET_BYTES} bytes for HS256"),
            ));
        }
        let positive = [
            (
                "database.max_connections",
                self.database.max_connections as u64,
            ),
            (
                "database.job_connections",
                self.database.job_connections as u64,
            ),
            ("database.max_writers", self.database.max_writers as u64),
            ("limits.max_body_bytes", self.limits.max_body_bytes as u64),
            ("limits.max_exports", self.limits.max_exports as u64),
            (
                "limits.metrics_operation_names",
                self.limits.metrics_operation_names as u64,
            ),
            ("limits.max_photo_bytes", self.limits.max_photo_bytes as u64),
            ("limits.max_depth", self.limits.max_depth as u64),
            ("limits.max_complexity", self.limits.max_complexity as u64),
            ("limits.max_selections", self.limits.max_selections as u64),
            (
                "limits.max_document_bytes",
                self.limits.max_document_bytes as u64,
            ),
            ("limits.max_tokens", self.limits.max_tokens as u64),
            ("limits.max_root_fields", self.limits.max_root_fields as u64),
            (
                "limits.max_field_repeats",
                self.limits.max_field_repeats as u64,
            ),
            ("limits.request_timeout_ms", self.limits.request_timeout_ms),
            ("limits.ws_init_timeout_ms", self.limits.ws_init_timeout_ms),
            (
                "limits.ws_max_operations",
                self.limits.ws_max_operations as u64,
            ),
        ];
        let rate = self.rate_limit.requests_per_s;
        if !(rate.is_finite() && rate >= 0.0) {
            return Err(invalid(
                file_origin,
                "rate_limit.requests_per_s",
                "must be a number of requests per second, 0 or more (0: no limits)",
            ));
        }
        if let Some((key, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(invalid(file_origin, key, "must be greater than 0"));
        }
        // Writers waiting on each other's locks must never hold every connection.
        if self.database.max_writers >= self.database.max_connections as usize {
            return Err(invalid(
                file_origin,
                "database.max_writers",
                &format!(
                    "must be less than database.max_connections ({}), so that reads always find a connection",
                    self.database.max_connections
                ),
            ));
        }
        Ok(())
    }

    /// The database URL without its database: `postgres://user@host:port`.
    pub fn database_server(&self) -> Option<String> {
        let mut url = url::Url::parse(self.database_url.expose()).ok()?;
        url.set_path("");
        Some(url.as_str().trim_end_matches('/').to_owned())
    }

    pub fn database_name(&self) -> Option<String> {
        url::Url::parse(self.database_url.expose())
            .ok()
            .map(|url| url.path().trim_start_matches('/').to_owned())
            .filter(|name| !name.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_work_without_a_file() {
        let config = Config::load(None, no_env).ok();
        assert_eq!(
            config.and_then(|c| c.database_name()).as_deref(),
            Some("governance")
        );
    }

    #[test]
    fn environment_overrides_the_file() {
        let env = |key: &str| match key {
            "DATABASE_URL" => Some("postgres://u:hunter2@db:5432/other".to_owned()),
            "REDIS_URL" => Some(String::new()),
            "GATEWAY_LISTEN" => Some("0.0.0.0:9000".to_owned()),
            _ => None,
        };
        let config = Config::load(None, env).ok();
        let config = config.as_ref();
        assert_eq!(
            config.and_then(|c| c.database_name()).as_deref(),
            Some("other")
        );
        assert_eq!(config.map(|c| c.listen.port()), Some(9000));
        assert_eq!(config.map(|c| c.redis_url.is_empty()), Some(true));
        assert_eq!(
            config.map(|c| format!("{:?}", c.database_url)).as_deref(),
            Some("postgres://u:***@db:5432/other")
        );
    }

    #[test]
    fn unknown_keys_are_named_with_their_line() {
        let err = Config::parse("listen = \"127.0.0.1:1\"\n[limits]\nmax_bodybytes = 5\n").err();
        let err = err.unwrap_or_default();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("unknown field `max_bodybytes`"), "{err}");
    }

    #[test]
    fn every_shipped_config_file_parses_and_passes_its_checks() {
        let shipped = [
            (
                "config/gateway.example.toml",
                include_str!("../../config/gateway.example.toml"),
            ),
            (
                "docker/gateway.toml",
                include_str!("../../docker/gateway.toml"),
            ),
        ];
        for (name, text) in shipped {
            let config = Config::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let checked = config.check("file", "file", "file", "file", "file");
            assert!(checked.is_ok(), "{name}: {checked:?}");
        }
    }

    #[test]
    fn the_example_config_states_the_defaults() {
        let example =
            Config::parse(include_str!("../../config/gateway.example.toml")).expect("parses");
        let default = Config::default();
        assert_eq!(example.listen, default.listen);
        assert_eq!(example.database_url, default.database_url);
        assert_eq!(example.redis_url, default.redis_url);
        assert_eq!(example.read_database_url, default.read_database_url);
        assert_eq!(
            format!("{:?}", example.database),
            format!("{:?}", default.database)
        );
        assert_eq!(
            format!("{:?}", example.limits),
            format!("{:?}", default.limits)
        );
        assert_eq!(format!("{:?}", example.auth), format!("{:?}", default.auth));
    }

    #[test]
    fn a_short_secret_is_refused() {
        let short = |key: &str| (key == "GATEWAY_JWT_SECRET").then(|| "hunter2".to_owned());
        let err = Config::load(None, short).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "environment variable GATEWAY_JWT_SECRET: `auth.jwt_secret` must be at least 32 bytes for HS256"
            )
        );
    }

    #[test]
    fn writers_may_not_take_every_connection() {
        let config =
            Config::parse("[database]\nmax_connections = 4\nmax_writers = 4\n").expect("parses");
        let refused = config.check("file", "file", "file", "file", "file").err();
        assert_eq!(
            refused.map(|e| e.to_string()).as_deref(),
            Some(
                "file: `database.max_writers` must be less than database.max_connections (4), so that reads always find a connection"
            )
        );
    }

    #[test]
    fn a_read_replica_is_optional_and_its_url_is_checked_and_masked() {
        assert!(Config::default().read_database_url.is_empty());
        let bad = |key: &str| (key == "READ_DATABASE_URL").then(|| "replica:5432".to_owned());
        let err = Config::load(None, bad).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "environment variable READ_DATABASE_URL: `read_database_url` must be a PostgreSQL URL like postgres://user@replica:5432/database, or empty to read from the primary"
            )
        );
        let good = |key: &str| {
            (key == "READ_DATABASE_URL").then(|| "postgres://u:hunter2@replica/city".to_owned())
        };
        let config = Config::load(None, good).ok();
        assert_eq!(
            config.map(|c| c.read_database_url.to_string()).as_deref(),
            Some("postgres://u:***@replica/city")
        );
    }

    #[test]
    fn bad_values_name_their_origin_and_key() {
        let env = |key: &str| (key == "DATABASE_URL").then(|| "mysql://x".to_owned());
        let err = Config::load(None, env).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "environment variable DATABASE_URL: `database_url` must be a PostgreSQL URL like postgres://user@host:5432/database"
            )
        );
    }
}
