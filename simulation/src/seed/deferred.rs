//! Keys, indexes and foreign keys set aside while the seed loads, and made again once
//! every row is in.
//!
//! Keeping an index up to date row by row costs many times what building it over loaded
//! rows does (a unique key over text in random order: 20 s against 8 s for the city's
//! department links; the trigram GIN indexes likewise), and a foreign key checked row by
//! row is a lookup per row where checking it over a loaded table is one join. Everything
//! is dropped and made again inside the seed's transaction, from the definitions the
//! database holds: the migrations stay the one place that defines them, rows that break
//! a key or a reference still fail the seed (when the key or reference is made again),
//! and a failed seed leaves them as they were.

use sqlx::PgConnection;

use super::Progress;

/// Primary keys and unique constraints of the tables, and every foreign key from or to
/// them (one to a key must go before the key can): name, table, kind, definition.
const CONSTRAINTS: &str = "
    SELECT quote_ident(conname), conrelid::regclass::text, contype::text, pg_get_constraintdef(oid)
      FROM pg_constraint
     WHERE (contype IN ('p', 'u') AND conrelid = ANY($1::text[]::regclass[]))
        OR (contype = 'f' AND (conrelid = ANY($1::text[]::regclass[])
                               OR confrelid = ANY($1::text[]::regclass[])))
     ORDER BY oid";

/// The tables' other indexes: name, definition.
const INDEXES: &str = "
    SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
      FROM pg_index i
     WHERE i.indrelid = ANY($1::text[]::regclass[])
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
     ORDER BY i.indexrelid";

/// What was set aside: the statements that make it again, in the order they must run.
#[derive(Debug)]
pub struct Deferred {
    steps: [(&'static str, Vec<String>); 3],
}

impl Deferred {
    /// Drops the keys, indexes and foreign keys of `tables`.
    pub async fn set_aside(conn: &mut PgConnection, tables: &[&str]) -> Result<Self, sqlx::Error> {
        let tables: Vec<String> = tables.iter().map(|table| table.to_string()).collect();
        let constraints: Vec<(String, String, String, String)> = sqlx::query_as(CONSTRAINTS)
            .bind(tables.clone())
            .fetch_all(&mut *conn)
            .await?;
        let indexes: Vec<(String, String)> = sqlx::query_as(INDEXES)
            .bind(tables)
            .fetch_all(&mut *conn)
            .await?;

        let (foreign_keys, keys): (Vec<_>, Vec<_>) = constraints
            .into_iter()
            .partition(|(_, _, kind, _)| kind == "f");
        let drop_constraint = |(name, table, _, _): &(String, String, String, String)| -> String {
            format!("ALTER TABLE {table} DROP CONSTRAINT {name}")
        };
        let add_constraint = |(name, table, _, definition): (String, String, String, String)| {
            format!("ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        };
        // References go before the keys they point at.
        let drops: Vec<String> = foreign_keys
            .iter()
            .chain(&keys)
            .map(drop_constraint)
            .chain(indexes.iter().map(|(name, _)| format!("DROP INDEX {name}")))
            .collect();
        for drop in drops {
            sqlx::query(&drop)
                .persistent(false)
                .execute(&mut *conn)
                .await?;
        }
        Ok(Self {
            steps: [
                ("keys", keys.into_iter().map(add_constraint).collect()),
                (
                    "indexes",
                    indexes.into_iter().map(|(_, make)| make).collect(),
                ),
                (
                    "foreign keys",
                    foreign_keys.into_iter().map(add_constraint).collect(),
                ),
            ],
        })
    }

    /// Makes everything again: keys, then indexes, then foreign keys (each checked over
    /// its whole table at once), reporting each step.
    pub async fn restore(
        self,
        conn: &mut PgConnection,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<(), sqlx::Error> {
        // Room to sort in memory: a build that spills to disk takes longer.
        sqlx::query("SET LOCAL maintenance_work_mem = '256MB'")
            .execute(&mut *conn)
            .await?;
        for (table, statements) in self.steps {
            let total = statements.len() as u64;
            progress(Progress {
                table,
                done: 0,
                total,
            });
            for (done, statement) in (1..).zip(statements) {
                sqlx::query(&statement)
                    .persistent(false)
                    .execute(&mut *conn)
                    .await?;
                progress(Progress { table, done, total });
            }
        }
        Ok(())
    }
}
