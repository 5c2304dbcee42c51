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

fn unreadable(column: &str, type_name: &str) -> UpstreamError {
    UpstreamError::BadResponse(format!(
        "column `{column}` has type {type_name}, which the sql connector does not read; cast it in the query"
    ))
}

fn decode_error(column: &str, error: sqlx::Error) -> UpstreamError {
    UpstreamError::BadResponse(format!("column `{column}` cannot be read: {error}"))
}

fn pg_record(row: &PgRow) -> Result<Value, UpstreamError> {
    let mut record = Map::new();
    for column in row.columns() {
        let name = column.name();
        let type_name = column.type_info().name();
        let index = column.ordinal();
        let error = |e| decode_error(name, e);
        let value = match type_name {
            "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => row
                .try_get::<Option<String>, _>(index)
                .map_err(error)?
                .map(Value::from),
            "INT2" => row
                .try_get::<Option<i16>, _>(index)
                .map_err(error)?
                .map(Value::from),
            "INT4" => row
                .try_get::<Option<i32>, _>(index)
                .map_err(error)?
                .map(Value::from),
            "INT8" => row
                .try_get::<Option<i64>, _>(index)
                .map_err(error)?
                .map(Value::from),
            "FLOAT4" => row
                .try_get::<Option<f32>, _>(index)
                .map_err(error)?
                .map(Value::from),
            "FLOAT8" => row
                .try_get::<Option<f64>, _>(index)
                .map_err(error)?
                .map(Value::from),
            "BOOL" => row
                .try_get::<Option<bool>, _>(index)
                .map_err(error)?
                .map(Value::from),
            "DATE" => row
                .try_get::<Option<NaiveDate>, _>(index)
                .map_err(error)?
                .map(|d| Value::from(d.format("%Y-%m-%d").to_string())),
            other => return Err(unreadable(name, other)),
        };
        record.insert(name.to_owned(), value.unwrap_or(Value::Null));
    }
    Ok(Value::Object(record))
}

fn mysql_record(row: &MySqlRow) -> Result<Value, UpstreamError> {
    let mut record = Map::new();
    for column in row.columns() {
        let name = column.name();
        let type_name = column.type_info().name();
        let index = column.ordinal();
        let error = |e| decode_error(name, e);
        let value = match type_name {
            "VARCHAR" | "CHAR" | "TEXT" | "TINYTEXT" | "MEDIUMTEXT" | "LONGTEXT" => row
                .try_get::<Option<String>, _>(index)
                .map_err(error)?
                .map(Value::from),
            "BOOLEAN" => row
                .try_get::<Option<bool>, _>(index)
                .map_err(error)?
                .map(Value::from),
            "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" => row
                .try_get::<Option<i64>, _>(index)
                .map_err(error)?
                .map(Value::from),
            "FLOAT" => row
                .try_get::<Option<f32>, _>(index)
                .map_err(error)?
                .map(Value::from),
            "DOUBLE" => row
                .try_get::<Option<f64>, _>(index)
                .map_err(error)?
                .map(Value::from),
            "DATE" => row
                .try_get::<Option<NaiveDate>, _>(index)
                .map_err(error)?
                .map(|d| Value::from(d.format("%Y-%m-%d").to_string())),
            other => return Err(unreadable(name, other)),
        };
        record.insert(name.to_owned(), value.unwrap_or(Value::Null));
    }
    Ok(Value::Object(record))
}
