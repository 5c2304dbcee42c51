//! The `sql` kind: a department's own database (PostgreSQL or MySQL/MariaDB), read with
//! the SELECT its config declares, on read-only sessions. Rows become JSON records whose
//! keys are the column names.

use std::str::FromStr;
use std::time::Duration;

use chrono::NaiveDate;
use serde_json::{Map, Value};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Column, Executor, Row, TypeInfo};

use crate::upstream::UpstreamError;

#[derive(Clone)]
pub enum SqlClient {
    Postgres(PgPool),
    MySql(MySqlPool),
}

impl SqlClient {
    /// Connects lazily: a department whose database is down does not stop the gateway.
    pub fn new(
        endpoint: &str,
        max_connections: usize,
        timeout: Duration,
    ) -> Result<Self, sqlx::Error> {
        let max = u32::try_from(max_connections.max(1)).unwrap_or(u32::MAX);
        if let Some(rest) = endpoint
            .strip_prefix("mysql://")
            .or_else(|| endpoint.strip_prefix("mariadb://"))
        {
            let options = MySqlConnectOptions::from_str(&format!("mysql://{rest}"))?;
            let pool = MySqlPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(timeout)
                // A broken connection fails its query, which the guard retries: no
                // ping round trip before every query.
                .test_before_acquire(false)
                .after_connect(|connection, _| {
                    Box::pin(async move {
                        connection
                            .execute("SET SESSION TRANSACTION READ ONLY")
                            .await
                            .map(|_| ())
                    })
                })
                .connect_lazy_with(options);
            return Ok(Self::MySql(pool));
        }
        let options = PgConnectOptions::from_str(endpoint)?
            .options([("default_transaction_read_only", "on")])
            .application_name("governance-gateway");
        let pool = PgPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(timeout)
            .test_before_acquire(false)
            .connect_lazy_with(options);
        Ok(Self::Postgres(pool))
    }

    /// Runs `query` with `{ids}` replaced by one bound parameter per id.
    pub async fn select(&self, query: &str, ids: &[String]) -> Result<Vec<Value>, UpstreamError> {
        match self {
            Self::Postgres(pool) => {
                let list: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
                let sql = query.replace("{ids}", &list.join(", "));
                let mut statement = sqlx::query(&sql);
                for id in ids {
                    statement = statement.bind(id);
                }
                let rows = statement.fetch_all(pool).await.map_err(failure)?;
                rows.iter().map(pg_record).collect()
            }
            Self::MySql(pool) => {
                let list = vec!["?"; ids.len()];
                let sql = query.replace("{ids}", &list.join(", "));
                let mut statement = sqlx::query(&sql);
                for id in ids {
                    statement = statement.bind(id);
                }
                let rows = statement.fetch_all(pool).await.map_err(failure)?;
                rows.iter().map(mysql_record).collect()
            }
        }
    }
}

fn failure(error: sqlx::Error) -> UpstreamError {
    match error {
        sqlx::Error::Database(error) => UpstreamError::Refused(format!(
            "the database refused the query: {}",
            error.message()
        )),
        sqlx::Error::ColumnDecode { index, source } => {
            UpstreamError::BadResponse(format!("column {index} cannot be read: {source}"))
        }
        other => UpstreamError::Unavailable(format!("the database cannot be reached: {other}")),
    }
}

/// A row as a JSON record keyed by column name; `read` turns one column, given its type's
/// name, into a value (`None` for a type the connector does not read).
fn record<R: Row>(
    row: &R,
    read: impl Fn(&R, usize, &str) -> Option<Result<Option<Value>, sqlx::Error>>,
) -> Result<Value, UpstreamError>
where
    usize: sqlx::ColumnIndex<R>,
{
    let mut record = Map::new();
    for column in row.columns() {
        let name = column.name();
        let type_name = column.type_info().name();
        let value = read(row, column.ordinal(), type_name)
            .ok_or_else(|| {
                UpstreamError::BadResponse(format!(
                    "column `{name}` has type {type_name}, which the sql connector does not read; cast it in the query"
                ))
            })?
            .map_err(|error| {
                UpstreamError::BadResponse(format!("column `{name}` cannot be read: {error}"))
            })?;
        record.insert(name.to_owned(), value.unwrap_or(Value::Null));
    }
    Ok(Value::Object(record))
}

/// One column as JSON, decoded as `T`.
fn cell<'r, R, T>(row: &'r R, index: usize) -> Result<Option<Value>, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    T: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database> + Into<Value>,
{
    Ok(row.try_get::<Option<T>, _>(index)?.map(Into::into))
}

fn date<'r, R>(row: &'r R, index: usize) -> Result<Option<Value>, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    NaiveDate: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(row
        .try_get::<Option<NaiveDate>, _>(index)?
        .map(|d| Value::from(d.format("%Y-%m-%d").to_string())))
}

fn pg_record(row: &PgRow) -> Result<Value, UpstreamError> {
    record(row, |row, index, type_name| {
        Some(match type_name {
            "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => cell::<_, String>(row, index),
            "INT2" => cell::<_, i16>(row, index),
            "INT4" => cell::<_, i32>(row, index),
            "INT8" => cell::<_, i64>(row, index),
            "FLOAT4" => cell::<_, f32>(row, index),
            "FLOAT8" => cell::<_, f64>(row, index),
            "BOOL" => cell::<_, bool>(row, index),
            "DATE" => date(row, index),
            _ => return None,
        })
    })
}

fn mysql_record(row: &MySqlRow) -> Result<Value, UpstreamError> {
    record(row, |row, index, type_name| {
        Some(match type_name {
            "VARCHAR" | "CHAR" | "TEXT" | "TINYTEXT" | "MEDIUMTEXT" | "LONGTEXT" => {
                cell::<_, String>(row, index)
            }
            "BOOLEAN" => cell::<_, bool>(row, index),
            "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" => cell::<_, i64>(row, index),
            "FLOAT" => cell::<_, f32>(row, index),
            "DOUBLE" => cell::<_, f64>(row, index),
            "DATE" => date(row, index),
            _ => return None,
        })
    })
}
