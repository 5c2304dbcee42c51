//! Keys, indexes and foreign keys set aside while the seed loads, and made again once
//! every row is in, several at a time.
//!
//! Keeping an index up to date row by row costs many times what building it over loaded
//! rows does (a unique key over text in random order: 20 s against 8 s for the city's
//! department links; the trigram GIN indexes likewise), and a foreign key checked row by
//! row is a lookup per row where checking it over a loaded table is one join. Everything
//! is dropped and made again from the definitions the database holds, so the migrations
//! stay the one place that defines them, and rows that break a key or a reference still
//! fail the seed.
//!
//! Building them is most of a seed's time and one connection uses one core, so they are
//! made after the rows commit, each in its own transaction, on as many connections as
//! there are cores. What is still to make is recorded in `seed_pending` in the
//! transaction that drops it, and each row leaves that table in the transaction that
//! makes its object: a seed stopped halfway leaves an exact list, and
//! [`super::finish`] (run by the next seed, reset or start) makes the rest. When the
//! database refuses a step, the seeded rows are removed and the rest is made over the
//! empty tables, so a failed seed leaves the database empty, as it found it.

use sqlx::{PgConnection, PgPool};
use tokio::task::JoinSet;

use super::Progress;

/// What the progress of making everything again is reported as.
pub const STEP: &str = "keys and indexes";

/// Primary keys and unique constraints of the tables, and every foreign key from or to
/// them (one to a key must go before the key can): name, table, kind, referenced table,
/// definition.
const CONSTRAINTS: &str = "
    SELECT quote_ident(conname), conrelid::regclass::text, contype::text,
           CASE WHEN contype = 'f' THEN confrelid::regclass::text END, pg_get_constraintdef(oid)
      FROM pg_constraint
     WHERE (contype IN ('p', 'u') AND conrelid = ANY($1::text[]::regclass[]))
        OR (contype = 'f' AND (conrelid = ANY($1::text[]::regclass[])
                               OR confrelid = ANY($1::text[]::regclass[])))
     ORDER BY oid";

/// The tables' other indexes: name, table, definition.
const INDEXES: &str = "
    SELECT i.indexrelid::regclass::text, i.indrelid::regclass::text, pg_get_indexdef(i.indexrelid)
      FROM pg_index i
     WHERE i.indrelid = ANY($1::text[]::regclass[])
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
     ORDER BY i.indexrelid";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Key,
    Index,
    ForeignKey,
    /// The table's statistics, gathered once its indexes are made (an expression index
    /// has statistics of its own).
    Statistics,
}

impl Kind {
    const NAMES: [(Kind, &'static str); 4] = [
        (Kind::Key, "key"),
        (Kind::Index, "index"),
        (Kind::ForeignKey, "foreign key"),
        (Kind::Statistics, "statistics"),
    ];

    fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(kind, _)| *kind == self)
            .map_or("key", |(_, name)| name)
    }

    fn parse(name: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(_, known)| *known == name)
            .map(|(kind, _)| *kind)
    }
}

/// One object to make again.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    /// Its place in the order that makes everything on one connection.
    step: i32,
    kind: Kind,
    name: String,
    table: String,
    /// A foreign key's referenced table.
    referenced: Option<String>,
    statement: String,
    /// How long it is expected to take, relative to the others (see [`Plan::new`]).
    weight: i64,
}

impl Step {
    fn tables(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.table).chain(&self.referenced)
    }

    /// Whether the two would wait for each other's locks: making a key or a foreign key
    /// locks its tables against every other change, building an index only against
    /// writes (two index builds on one table run side by side).
    fn conflicts(&self, other: &Step) -> bool {
        let shared = self
            .tables()
            .any(|table| other.tables().any(|t| t == table));
        shared && !(self.kind == Kind::Index && other.kind == Kind::Index)
    }

    /// Whether `self` can only be made after `other`: a foreign key needs the key it
    /// references, statistics everything else on their table.
    fn needs(&self, other: &Step) -> bool {
        match self.kind {
            Kind::ForeignKey => {
                other.kind == Kind::Key && self.referenced.as_ref() == Some(&other.table)
            }
            Kind::Statistics => other.kind != Kind::Statistics && other.table == self.table,
            Kind::Key | Kind::Index => false,
        }
    }
}

/// Which step to start next: the heaviest one that waits for no running step's locks
/// and for no key it needs (so two connections never wait for each other, and cannot
/// deadlock).
#[derive(Debug)]
struct Plan {
    waiting: Vec<Step>,
    running: Vec<Step>,
}

impl Plan {
    fn new(mut steps: Vec<Step>) -> Self {
        steps.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.step.cmp(&b.step)));
        Self {
            waiting: steps,
            running: Vec::new(),
        }
    }

    fn start_next(&mut self) -> Option<Step> {
        let at = self.waiting.iter().position(|step| {
            !self.running.iter().any(|running| step.conflicts(running))
                && !self
                    .waiting
                    .iter()
                    .chain(&self.running)
                    .any(|other| step.needs(other))
        })?;
        let step = self.waiting.remove(at);
        self.running.push(step.clone());
        Some(step)
    }

    fn finished(&mut self, step: &Step) {
        self.running.retain(|running| running.step != step.step);
    }

    fn is_done(&self) -> bool {
        self.waiting.is_empty() && self.running.is_empty()
    }
}

/// Why making everything again stopped.
#[derive(Debug)]
pub enum Failed {
    /// The database refused a step: the rows break a key or a reference (or the server
    /// could not do the work).
    Step {
        name: String,
        kind: &'static str,
        source: sqlx::Error,
    },
    /// The list could not be read or a connection was lost: nothing says the rows are
    /// at fault, and what is left stays listed.
    Interrupted(sqlx::Error),
}

/// Drops the keys, indexes and foreign keys of `tables`, recording each in
/// `seed_pending` with the statement that makes it again, and the gathering of each
/// table's statistics after.
pub async fn set_aside(conn: &mut PgConnection, tables: &[&str]) -> Result<(), sqlx::Error> {
    let statistics = tables.iter().map(|table| {
        let statement = format!("ANALYZE {table}");
        (
            Kind::Statistics,
            table.to_string(),
            table.to_string(),
            None,
            statement,
        )
    });
    let tables: Vec<String> = tables.iter().map(|table| table.to_string()).collect();
    type Constraint = (String, String, String, Option<String>, String);
    let constraints: Vec<Constraint> = sqlx::query_as(CONSTRAINTS)
        .bind(tables.clone())
        .fetch_all(&mut *conn)
        .await?;
    let indexes: Vec<(String, String, String)> = sqlx::query_as(INDEXES)
        .bind(tables)
        .fetch_all(&mut *conn)
        .await?;

    let (foreign_keys, keys): (Vec<_>, Vec<_>) = constraints
        .into_iter()
        .partition(|(_, _, kind, _, _)| kind == "f");
    // References go before the keys they point at.
    let drops = foreign_keys
        .iter()
        .chain(&keys)
        .map(|(name, table, ..)| format!("ALTER TABLE {table} DROP CONSTRAINT {name}"))
        .chain(
            indexes
                .iter()
                .map(|(name, ..)| format!("DROP INDEX {name}")),
        );
    for drop in drops {
        sqlx::query(&drop)
            .persistent(false)
            .execute(&mut *conn)
            .await?;
    }

    // Made again in this order on one connection: keys, indexes, foreign keys, statistics.
    let constraint = |kind: Kind| {
        move |(name, table, _, referenced, definition): Constraint| {
            let statement = format!("ALTER TABLE {table} ADD CONSTRAINT {name} {definition}");
            (kind, name, table, referenced, statement)
        }
    };
    let steps: Vec<Step> = (1..)
        .zip(
            keys.into_iter()
                .map(constraint(Kind::Key))
                .chain(
                    indexes
                        .into_iter()
                        .map(|(name, table, make)| (Kind::Index, name, table, None, make)),
                )
                .chain(foreign_keys.into_iter().map(constraint(Kind::ForeignKey)))
                .chain(statistics),
        )
        .map(|(step, (kind, name, table, referenced, statement))| Step {
            step,
            kind,
            name,
            table,
            referenced,
            statement,
            weight: 0,
        })
        .collect();
    let column = |field: fn(&Step) -> Option<String>| -> Vec<Option<String>> {
        steps.iter().map(field).collect()
    };
    sqlx::query(
        "INSERT INTO seed_pending (step, kind, name, table_name, referenced, statement)
         SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])",
    )
    .bind(steps.iter().map(|step| step.step).collect::<Vec<_>>())
    .bind(column(|step| Some(step.kind.name().to_owned())))
    .bind(column(|step| Some(step.name.clone())))
    .bind(column(|step| Some(step.table.clone())))
    .bind(column(|step| step.referenced.clone()))
    .bind(column(|step| Some(step.statement.clone())))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A row of `seed_pending`, with the step's weight.
#[derive(sqlx::FromRow)]
struct Listed {
    step: i32,
    kind: String,
    name: String,
    table_name: String,
    referenced: Option<String>,
    statement: String,
    weight: i64,
}

/// What `seed_pending` holds. An index build is weighed by its table's size, a GIN or
/// GiST one three times over (they cost several times a B-tree's and use one core
/// whatever the settings), so the longest start first and the connections end together.
async fn pending(conn: &mut PgConnection) -> Result<Vec<Step>, sqlx::Error> {
    let listed: Vec<Listed> = sqlx::query_as(
        "SELECT step, kind, name, table_name, referenced, statement,
                pg_relation_size(table_name::regclass)
                  * CASE WHEN statement ~ ' USING (gin|gist) ' THEN 3 ELSE 1 END AS weight
           FROM seed_pending ORDER BY step",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(listed
        .into_iter()
        .map(|listed| Step {
            step: listed.step,
            kind: Kind::parse(&listed.kind).unwrap_or(Kind::Index),
            name: listed.name,
            table: listed.table_name,
            referenced: listed.referenced,
            statement: listed.statement,
            weight: listed.weight,
        })
        .collect())
}

/// Makes one step in its own transaction, which also takes it off the list.
async fn make(pool: PgPool, step: Step) -> (Step, Result<(), sqlx::Error>) {
    let result = async {
        let mut tx = pool.begin().await?;
        // Room to sort in memory (a build that spills to disk takes longer); a crash
        // before the commit is flushed leaves the row listed, and the step is made again.
        for setting in [
            "SET LOCAL maintenance_work_mem = '256MB'",
            "SET LOCAL synchronous_commit = off",
        ] {
            sqlx::query(setting).execute(&mut *tx).await?;
        }
        make_on(&mut tx, &step).await?;
        tx.commit().await
    }
    .await;
    (step, result)
}

async fn make_on(conn: &mut PgConnection, step: &Step) -> Result<(), sqlx::Error> {
    sqlx::query(&step.statement)
        .persistent(false)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM seed_pending WHERE step = $1")
        .bind(step.step)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Makes everything `seed_pending` lists, `connections` at a time, reporting each as it
/// ends; returns how many it made. Stops starting steps at the first failure and returns
/// it once the running ones end; what is left stays listed.
pub async fn restore(
    pool: &PgPool,
    connections: usize,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<u64, Failed> {
    let steps = {
        let mut conn = pool.acquire().await.map_err(Failed::Interrupted)?;
        pending(&mut conn).await.map_err(Failed::Interrupted)?
    };
    let total = steps.len() as u64;
    if total == 0 {
        return Ok(0);
    }
    let mut done = 0;
    progress(Progress {
        table: STEP,
        done,
        total,
    });
    let mut plan = Plan::new(steps);
    let mut running = JoinSet::new();
    let mut failure = None;
    loop {
        while failure.is_none() && running.len() < connections.max(1) {
            let Some(step) = plan.start_next() else { break };
            running.spawn(make(pool.clone(), step));
        }
        let Some(ended) = running.join_next().await else {
            break;
        };
        let (step, result) = match ended {
            Ok(ended) => ended,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => continue,
        };
        plan.finished(&step);
        match result {
            Ok(()) => {
                done += 1;
                progress(Progress {
                    table: STEP,
                    done,
                    total,
                });
            }
            Err(source @ sqlx::Error::Database(_)) => {
                failure.get_or_insert(Failed::Step {
                    name: step.name,
                    kind: step.kind.name(),
                    source,
                });
            }
            Err(source) => {
                failure.get_or_insert(Failed::Interrupted(source));
            }
        }
    }
    match failure {
        Some(failure) => Err(failure),
        None if plan.is_done() => Ok(total),
        None => Err(Failed::Interrupted(sqlx::Error::Protocol(
            "the steps left wait for each other".into(),
        ))),
    }
}

/// Makes everything `seed_pending` lists on `conn`, one at a time in the order that
/// needs no other (keys, indexes, foreign keys, statistics): for tables just emptied,
/// where each takes no time.
pub async fn restore_in_order(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    for step in pending(conn).await? {
        make_on(conn, &step).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(step: i32, kind: Kind, table: &str, referenced: Option<&str>, weight: i64) -> Step {
        Step {
            step,
            kind,
            name: format!("s{step}"),
            table: table.into(),
            referenced: referenced.map(Into::into),
            statement: String::new(),
            weight,
        }
    }

    fn started(plan: &mut Plan) -> Vec<i32> {
        std::iter::from_fn(|| plan.start_next())
            .map(|step| step.step)
            .collect()
    }

    #[test]
    fn the_heaviest_start_first_and_index_builds_share_a_table() {
        let mut plan = Plan::new(vec![
            step(1, Kind::Index, "events", None, 10),
            step(2, Kind::Index, "persons", None, 30),
            step(3, Kind::Index, "persons", None, 20),
        ]);
        assert_eq!(started(&mut plan), vec![2, 3, 1]);
    }

    #[test]
    fn a_key_locks_its_table_against_every_other_step() {
        let key = step(1, Kind::Key, "persons", None, 50);
        let mut plan = Plan::new(vec![
            key.clone(),
            step(2, Kind::Index, "persons", None, 40),
            step(3, Kind::Index, "events", None, 10),
        ]);
        assert_eq!(started(&mut plan), vec![1, 3]);
        plan.finished(&key);
        assert_eq!(started(&mut plan), vec![2]);
    }

    #[test]
    fn a_foreign_key_waits_for_the_key_it_references_and_locks_both_tables() {
        let key = step(1, Kind::Key, "persons", None, 5);
        let reference = step(2, Kind::ForeignKey, "event_parties", Some("persons"), 50);
        let mut plan = Plan::new(vec![
            key.clone(),
            reference.clone(),
            step(3, Kind::Index, "event_parties", None, 1),
            step(4, Kind::Index, "places", None, 1),
        ]);
        // The reference is heaviest but needs the key; the index on its table goes now.
        assert_eq!(started(&mut plan), vec![1, 3, 4]);
        plan.finished(&key);
        assert_eq!(
            started(&mut plan),
            Vec::<i32>::new(),
            "the index build holds the table"
        );
        plan.finished(&step(3, Kind::Index, "event_parties", None, 1));
        assert_eq!(started(&mut plan), vec![2]);
        assert!(!plan.is_done());
        plan.finished(&reference);
        plan.finished(&step(4, Kind::Index, "places", None, 1));
        assert!(plan.is_done());
    }

    #[test]
    fn statistics_wait_for_everything_on_their_table() {
        let index = step(1, Kind::Index, "persons", None, 10);
        let mut plan = Plan::new(vec![
            step(2, Kind::Statistics, "persons", None, 100),
            index.clone(),
            step(3, Kind::Statistics, "places", None, 1),
        ]);
        assert_eq!(started(&mut plan), vec![1, 3]);
        plan.finished(&index);
        assert_eq!(started(&mut plan), vec![2]);
    }

    #[test]
    fn kinds_are_read_back_as_written() {
        for (kind, name) in Kind::NAMES {
            assert_eq!(Kind::parse(kind.name()), Some(kind));
            assert_eq!(kind.name(), name);
        }
        assert_eq!(Kind::parse("trigger"), None);
    }
}
