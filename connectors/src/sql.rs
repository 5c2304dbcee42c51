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
    /// Sessions are read-only unless `writes` (the operations' own pool).
    pub fn new(
        endpoint: &str,
        max_connections: usize,
        timeout: Duration,
        writes: bool,
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
                .after_connect(move |connection, _| {
                    Box::pin(async move {
                        if !writes {
                            connection
                                .execute("SET SESSION TRANSACTION READ ONLY")
                                .await?;
                        }
                        Ok(())
                    })
                })
                .connect_lazy_with(options);
            return Ok(Self::MySql(pool));
        }
        let read_only = if writes { "off" } else { "on" };
        let options = PgConnectOptions::from_str(endpoint)?
            .options([("default_transaction_read_only", read_only)])
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

    /// Runs `statement`, then reads what it did with `answer`, in one transaction; each
    /// `:name` parameter is bound to `value(name)` as text. `None`: the answer has no row.
    /// A statement refused as a duplicate (the key's unique index: it was done before)
    /// is answered by `answer` alone.
    pub async fn write(
        &self,
        statement: &str,
        answer: &str,
        value: &(dyn Fn(&str) -> Option<String> + Sync),
    ) -> Result<Option<Value>, UpstreamError> {
        match self {
            Self::Postgres(pool) => write_on(pool, true, statement, answer, value, pg_record).await,
            Self::MySql(pool) => {
                write_on(pool, false, statement, answer, value, mysql_record).await
            }
        }
    }

    /// One row of a SELECT with `:name` parameters, or `None`.
    pub async fn read_one(
        &self,
        query: &str,
        value: &(dyn Fn(&str) -> Option<String> + Sync),
    ) -> Result<Option<Value>, UpstreamError> {
        match self {
            Self::Postgres(pool) => read_on(pool, true, query, value, pg_record).await,
            Self::MySql(pool) => read_on(pool, false, query, value, mysql_record).await,
        }
    }
}

impl SqlClient {
    /// Every row of a SELECT with `:name` parameters.
    pub async fn read_all(
        &self,
        query: &str,
        value: &(dyn Fn(&str) -> Option<String> + Sync),
    ) -> Result<Vec<Value>, UpstreamError> {
        match self {
            Self::Postgres(pool) => {
                let (sql, names) = positional(query, true);
                let rows = bind_all(sqlx::query(&sql), &names, value)
                    .fetch_all(pool)
                    .await
                    .map_err(failure)?;
                rows.iter().map(pg_record).collect()
            }
            Self::MySql(pool) => {
                let (sql, names) = positional(query, false);
                let rows = bind_all(sqlx::query(&sql), &names, value)
                    .fetch_all(pool)
                    .await
                    .map_err(failure)?;
                rows.iter().map(mysql_record).collect()
            }
        }
    }
}

/// [`SqlClient::write`] on one kind of database (`postgres` says how parameters are
/// written), its rows read by `record`.
async fn write_on<DB>(
    pool: &sqlx::Pool<DB>,
    postgres: bool,
    statement: &str,
    answer: &str,
    value: &(dyn Fn(&str) -> Option<String> + Sync),
    record: fn(&DB::Row) -> Result<Value, UpstreamError>,
) -> Result<Option<Value>, UpstreamError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'c> &'c sqlx::Pool<DB>: Executor<'c, Database = DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let mut transaction = pool.begin().await.map_err(failure)?;
    let (sql, names) = positional(statement, postgres);
    let done = bind_all(sqlx::query::<DB>(&sql), &names, value)
        .execute(&mut *transaction)
        .await;
    match done {
        Err(error) if duplicate(&error) => {
            transaction.rollback().await.map_err(failure)?;
            return read_on(pool, postgres, answer, value, record).await;
        }
        done => done.map_err(failure)?,
    };
    let (sql, names) = positional(answer, postgres);
    let row = bind_all(sqlx::query::<DB>(&sql), &names, value)
        .fetch_optional(&mut *transaction)
        .await
        .map_err(failure)?;
    transaction.commit().await.map_err(failure)?;
    row.as_ref().map(record).transpose()
}

/// [`SqlClient::read_one`] on one kind of database.
async fn read_on<DB>(
    pool: &sqlx::Pool<DB>,
    postgres: bool,
    query: &str,
    value: &(dyn Fn(&str) -> Option<String> + Sync),
    record: fn(&DB::Row) -> Result<Value, UpstreamError>,
) -> Result<Option<Value>, UpstreamError>
where
    DB: sqlx::Database,
    for<'c> &'c sqlx::Pool<DB>: Executor<'c, Database = DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let (sql, names) = positional(query, postgres);
    let row = bind_all(sqlx::query::<DB>(&sql), &names, value)
        .fetch_optional(pool)
        .await
        .map_err(failure)?;
    row.as_ref().map(record).transpose()
}

fn bind_all<'q, DB: sqlx::Database>(
    mut query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    names: &[String],
    value: &(dyn Fn(&str) -> Option<String> + Sync),
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for name in names {
        query = query.bind(value(name));
    }
    query
}

/// Where each `:name` parameter is in `sql`, skipping quoted text and `::` casts.
fn parameters(sql: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let bytes = sql.as_bytes();
    let mut found = Vec::new();
    let mut quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => quoted = !quoted,
            b':' if !quoted && bytes.get(i + 1) == Some(&b':') => i += 1,
            b':' if !quoted && (i == 0 || bytes[i - 1] != b':') => {
                let start = i + 1;
                let end = bytes[start..]
                    .iter()
                    .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                    .map_or(bytes.len(), |n| start + n);
                if end > start && !bytes[start].is_ascii_digit() {
                    found.push((i..end, &sql[start..end]));
                    i = end;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// The names of a statement's `:name` parameters, each once.
pub(crate) fn parameter_names(sql: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (_, name) in parameters(sql) {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names
}

/// The statement with positional parameters (`$1` or `?`), and the name bound to each.
fn positional(sql: &str, postgres: bool) -> (String, Vec<String>) {
    let mut out = String::with_capacity(sql.len());
    let mut names = Vec::new();
    let mut last = 0;
    for (range, name) in parameters(sql) {
        out.push_str(&sql[last..range.start]);
        names.push(name.to_owned());
        if postgres {
            out.push_str(&format!("${}", names.len()));
        } else {
            out.push('?');
        }
        last = range.end;
    }
    out.push_str(&sql[last..]);
    (out, names)
}

/// A unique violation: PostgreSQL's 23505, MySQL's and MariaDB's 1062.
fn duplicate(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(error) => {
            error.is_unique_violation() || error.code().as_deref() == Some("23000")
        }
        _ => false,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_parameters_become_positional_outside_quotes_and_casts() {
        let sql =
            "INSERT INTO t (a, b, k) VALUES (:a, 'x:y', :b::int, :k) ON CONFLICT (k) DO NOTHING";
        let (positional_pg, names) = positional(sql, true);
        assert_eq!(names, ["a", "b", "k"]);
        assert_eq!(
            positional_pg,
            "INSERT INTO t (a, b, k) VALUES ($1, 'x:y', $2::int, $3) ON CONFLICT (k) DO NOTHING"
        );
        let (positional_my, _) = positional("SELECT * FROM t WHERE k = :idempotency_key", false);
        assert_eq!(positional_my, "SELECT * FROM t WHERE k = ?");
        assert_eq!(parameter_names("SELECT :a, :a, :b"), ["a", "b"]);
    }
}
