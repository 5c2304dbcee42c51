//! The `sql` departments' own databases, created and filled in PostgreSQL or MariaDB from
//! the records the simulator derives. A database already holding the same records (by
//! fingerprint) is left as it is, so restarting the simulator is quick.

use std::collections::BTreeMap;

use sqlx::mysql::MySqlPoolOptions;
use sqlx::postgres::PgPoolOptions;

use super::records::{Native, NativeRecord};
use super::render::column;

/// One table to create: its name, the column holding record ids, and its rows.
pub struct Table {
    pub name: String,
    pub id_column: String,
    pub rows: Vec<NativeRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("`{0}` is not a database URL with a database name")]
    BadUrl(String),
    #[error("database {database}: {source}")]
    Sql {
        database: String,
        #[source]
        source: sqlx::Error,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Postgres,
    MySql,
}

/// Creates (or keeps) the database `endpoint` names, holding `tables`. Returns whether it
/// had to be (re)built.
pub async fn fill(endpoint: &str, tables: &[Table]) -> Result<bool, DatabaseError> {
    let mut url =
        url::Url::parse(endpoint).map_err(|_| DatabaseError::BadUrl(endpoint.to_owned()))?;
    let database = url.path().trim_start_matches('/').to_owned();
    let valid = !database.is_empty()
        && database
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(DatabaseError::BadUrl(endpoint.to_owned()));
    }
    let dialect = match url.scheme() {
        "mysql" | "mariadb" => Dialect::MySql,
        _ => Dialect::Postgres,
    };
    let fingerprint = fingerprint(tables);
    let sql_error = |source| DatabaseError::Sql {
        database: database.clone(),
        source,
    };
    let target = match dialect {
        Dialect::MySql => format!("mysql://{}", &endpoint[url.scheme().len() + 3..]),
        Dialect::Postgres => endpoint.to_owned(),
    };
    if current_fingerprint(dialect, &target).await.as_deref() == Some(fingerprint.as_str()) {
        return Ok(false);
    }
    let statements = match dialect {
        Dialect::Postgres => vec![
            format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
            format!("CREATE DATABASE {database} ENCODING 'UTF8' TEMPLATE template0"),
        ],
        Dialect::MySql => vec![
            format!("DROP DATABASE IF EXISTS {database}"),
            format!("CREATE DATABASE {database} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"),
        ],
    };
    url.set_path(if dialect == Dialect::Postgres {
        "/postgres"
    } else {
        "/"
    });
    let admin = match dialect {
        Dialect::MySql => format!("mysql://{}", &url.as_str()[url.scheme().len() + 3..]),
        Dialect::Postgres => url.to_string(),
    };
    execute(dialect, &admin, &statements)
        .await
        .map_err(sql_error)?;
    let mut script = Vec::new();
    for table in tables {
        script.extend(table_statements(dialect, table));
    }
    script.push("CREATE TABLE _sim_meta (fingerprint VARCHAR(64) NOT NULL)".to_owned());
    script.push(format!("INSERT INTO _sim_meta VALUES ('{fingerprint}')"));
    execute(dialect, &target, &script)
        .await
        .map_err(sql_error)?;
    Ok(true)
}

/// Whether `endpoint` is a MySQL or MariaDB database.
pub fn is_mysql(endpoint: &str) -> bool {
    endpoint.starts_with("mysql://") || endpoint.starts_with("mariadb://")
}

/// `endpoint` as sqlx connects to it (`mariadb://` is spelled `mysql://`).
pub fn connectable(endpoint: &str) -> String {
    match endpoint.strip_prefix("mariadb://") {
        Some(rest) => format!("mysql://{rest}"),
        None => endpoint.to_owned(),
    }
}

/// Runs `statements` in the database `endpoint` names.
pub async fn run_script(endpoint: &str, statements: &[String]) -> Result<(), DatabaseError> {
    let dialect = if is_mysql(endpoint) {
        Dialect::MySql
    } else {
        Dialect::Postgres
    };
    execute(dialect, &connectable(endpoint), statements)
        .await
        .map_err(|source| DatabaseError::Sql {
            database: endpoint.rsplit('/').next().unwrap_or_default().to_owned(),
            source,
        })
}

async fn current_fingerprint(dialect: Dialect, url: &str) -> Option<String> {
    let query = "SELECT fingerprint FROM _sim_meta";
    match dialect {
        Dialect::Postgres => {
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .ok()?;
            let found = sqlx::query_scalar(query).fetch_one(&pool).await.ok();
            pool.close().await;
            found
        }
        Dialect::MySql => {
            let pool = MySqlPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .ok()?;
            let found = sqlx::query_scalar(query).fetch_one(&pool).await.ok();
            pool.close().await;
            found
        }
    }
}

async fn execute(dialect: Dialect, url: &str, statements: &[String]) -> Result<(), sqlx::Error> {
    match dialect {
        Dialect::Postgres => {
            let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
            for statement in statements {
                sqlx::raw_sql(statement).execute(&pool).await?;
            }
            pool.close().await;
        }
        Dialect::MySql => {
            let pool = MySqlPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await?;
            for statement in statements {
                sqlx::raw_sql(statement).execute(&pool).await?;
            }
            pool.close().await;
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ColumnType {
    Text,
    Int,
    Float,
    Bool,
    Date,
}

fn column_type(value: &Native) -> Option<ColumnType> {
    match value {
        Native::Text(_) => Some(ColumnType::Text),
        Native::Int(_) => Some(ColumnType::Int),
        Native::Float(_) => Some(ColumnType::Float),
        Native::Bool(_) => Some(ColumnType::Bool),
        Native::Date(_) => Some(ColumnType::Date),
        Native::Null => None,
    }
}

fn sql_type(dialect: Dialect, column: ColumnType) -> &'static str {
    match (dialect, column) {
        (Dialect::Postgres, ColumnType::Text) => "TEXT",
        (Dialect::MySql, ColumnType::Text) => "VARCHAR(500)",
        (_, ColumnType::Int) => "BIGINT",
        (Dialect::Postgres, ColumnType::Float) => "DOUBLE PRECISION",
        (Dialect::MySql, ColumnType::Float) => "DOUBLE",
        (_, ColumnType::Bool) => "BOOLEAN",
        (_, ColumnType::Date) => "DATE",
    }
}

fn literal(dialect: Dialect, value: &Native) -> String {
    match value {
        Native::Text(text) => {
            let mut escaped = text.replace('\'', "''");
            if dialect == Dialect::MySql {
                escaped = escaped.replace('\\', "\\\\");
            }
            format!("'{escaped}'")
        }
        Native::Int(n) => n.to_string(),
        Native::Float(f) if f.is_finite() => format!("{f:?}"),
        Native::Float(_) | Native::Null => "NULL".to_owned(),
        Native::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Native::Date(d) => format!("DATE '{}'", d.format("%Y-%m-%d")),
    }
}

/// CREATE TABLE, its index on the id column, and INSERTs of up to 500 rows.
fn table_statements(dialect: Dialect, table: &Table) -> Vec<String> {
    let mut columns: Vec<(String, Option<ColumnType>)> = Vec::new();
    for row in &table.rows {
        for (name, value) in row {
            let name = column(name);
            match columns.iter_mut().find(|(known, _)| *known == name) {
                Some((_, kind @ None)) => *kind = column_type(value),
                Some(_) => {}
                None => columns.push((name, column_type(value))),
            }
        }
    }
    if columns.is_empty() {
        columns.push((table.id_column.clone(), Some(ColumnType::Text)));
    }
    let definitions: Vec<String> = columns
        .iter()
        .map(|(name, kind)| {
            format!(
                "{name} {}",
                sql_type(dialect, kind.unwrap_or(ColumnType::Text))
            )
        })
        .collect();
    let mut statements = vec![
        format!("CREATE TABLE {} ({})", table.name, definitions.join(", ")),
        format!(
            "CREATE INDEX {0}_id_idx ON {0} ({1})",
            table.name, table.id_column
        ),
    ];
    let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
    for chunk in table.rows.chunks(500) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|row| {
                let by_name: BTreeMap<String, &Native> = row
                    .iter()
                    .map(|(name, value)| (column(name), value))
                    .collect();
                let values: Vec<String> = names
                    .iter()
                    .map(|name| {
                        by_name
                            .get(*name)
                            .map_or("NULL".to_owned(), |v| literal(dialect, v))
                    })
                    .collect();
                format!("({})", values.join(", "))
            })
            .collect();
        statements.push(format!(
            "INSERT INTO {} ({}) VALUES {}",
            table.name,
            names.join(", "),
            rows.join(", ")
        ));
    }
    statements
}

/// FNV-1a over the tables' contents, as hex.
fn fingerprint(tables: &[Table]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |text: &str| {
        for byte in text.bytes().chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for table in tables {
        feed(&table.name);
        feed(&table.id_column);
        for row in &table.rows {
            for (name, value) in row {
                feed(name);
                feed(&format!("{value:?}"));
            }
        }
    }
    format!("{hash:016x}")
}
