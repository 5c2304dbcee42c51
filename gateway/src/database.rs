//! Reaching PostgreSQL: the pool, creating the database for the demo, migrations.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use crate::config::{Config, Secret};

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("{setting} is not a usable PostgreSQL URL: {source}")]
    Url {
        setting: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot reach PostgreSQL at {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot create database `{name}`: {source}")]
    Create {
        name: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("applying migrations failed: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

fn options(config: &Config) -> Result<PgConnectOptions, DatabaseError> {
    options_of("DATABASE_URL", &config.database_url)
}

fn options_of(setting: &'static str, url: &Secret) -> Result<PgConnectOptions, DatabaseError> {
    let options: PgConnectOptions = url
        .expose()
        .parse()
        .map_err(|source| DatabaseError::Url { setting, source })?;
    Ok(options.application_name("governance-gateway"))
}

/// What a pool is for: serving warns about slow statements; maintenance (migrating,
/// seeding) runs long statements on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Requests: `database.max_connections`.
    Serving,
    /// Queries on the read replica (`read_database_url`): as many as requests.
    Reads,
    /// Background jobs (signal hub and relay, deadline watcher, department writes,
    /// feeds): `database.job_connections` of their own, so that they never take the
    /// connections requests need, nor wait behind them.
    Jobs,
    Maintenance,
}

/// A pool that connects on first use, so the process starts (and reports not ready)
/// while PostgreSQL is down, and recovers by itself when it comes back.
pub fn pool(config: &Config, purpose: Purpose) -> Result<PgPool, DatabaseError> {
    let options = match purpose {
        Purpose::Reads => options_of("READ_DATABASE_URL", &config.read_database_url)?,
        Purpose::Serving | Purpose::Jobs | Purpose::Maintenance => options(config)?,
    };
    let options = match purpose {
        Purpose::Serving | Purpose::Reads | Purpose::Jobs => {
            options.log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(1))
        }
        Purpose::Maintenance => options.disable_statement_logging(),
    };
    let connections = match purpose {
        Purpose::Jobs => config.database.job_connections,
        Purpose::Serving | Purpose::Reads | Purpose::Maintenance => config.database.max_connections,
    };
    Ok(PgPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_millis(config.database.acquire_timeout_ms))
        .connect_lazy_with(options))
}

/// Creates the configured database when it does not exist yet; says whether it did.
pub async fn create_if_missing(config: &Config) -> Result<bool, DatabaseError> {
    let target = options(config)?;
    let name = target.get_database().unwrap_or("postgres").to_owned();
    let unreachable = |source| DatabaseError::Unreachable {
        url: config.database_url.to_string(),
        source,
    };
    let mut admin = sqlx::PgConnection::connect_with(&target.clone().database("postgres"))
        .await
        .map_err(unreachable)?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .map_err(unreachable)?;
    if !exists {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        sqlx::query(&format!("CREATE DATABASE {quoted}"))
            .execute(&mut admin)
            .await
            .map_err(|source| DatabaseError::Create {
                name: name.clone(),
                source,
            })?;
    }
    let _ = admin.close().await;
    Ok(!exists)
}

/// The store of a one-off job (`hotline-sync`, `feed-sync`), with migrations applied
/// first as `serve` would.
pub async fn job_store(config: &Config) -> Result<schema::Store, DatabaseError> {
    let pool = pool(config, Purpose::Serving)?;
    if config.database.migrate_on_start {
        migrate(&pool, config).await?;
    }
    Ok(schema::Store::new(pool))
}

pub async fn migrate(pool: &PgPool, config: &Config) -> Result<(), DatabaseError> {
    schema::MIGRATOR.run(pool).await.map_err(|e| match e {
        sqlx::migrate::MigrateError::Execute(source) if is_connection_error(&source) => {
            DatabaseError::Unreachable {
                url: config.database_url.to_string(),
                source,
            }
        }
        other => DatabaseError::Migrate(other),
    })
}

fn is_connection_error(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_)
    )
}
