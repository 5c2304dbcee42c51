//! A deterministic synthetic data set modelled on Liaoyuan (辽源市), Jilin: the real
//! administrative tree down to its 47 townships, synthetic communities, villages and
//! 1,246 grids, and the people, places, things, organizations and events living on them.
//!
//! The same seed gives byte-identical data on any machine, forever: every draw comes from
//! our own PRNG ([`rng`]), every split is exact integer arithmetic, and nothing reads the
//! clock. Rows are loaded with COPY in one transaction, and a seed that fails, even after
//! that transaction, leaves the database empty, as it found it.

mod boundaries;
pub(crate) mod codes;
mod copy;
mod deferred;
mod departments;
mod event_text;
mod events;
mod generate;
mod history;
pub mod in_memory;
mod jurisdictions;
mod layout;
mod links;
mod organizations;
mod persons;
mod places;
mod rng;
mod staff;
mod things;
mod time;
mod vocabulary;
mod workflow;

use std::fmt;
use std::str::FromStr;

use sqlx::pool::PoolConnection;
use sqlx::{Acquire as _, PgConnection, PgPool, Postgres};
use tokio::sync::mpsc;

pub use departments::DEPARTMENT_TYPES;
pub use staff::{AUXILIARY_POLICE, JUDGES, MEDIATORS, RESIDENT_REPS};

/// How much data to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// About 2,000 places, 5,000 persons and 1,500 events: seeds in seconds, for
    /// development and tests.
    Small,
    /// The city's real order of magnitude: 300,000 places, a million persons, 100,000
    /// things and organizations, 200,000 events.
    City,
}

impl Scale {
    const NAMES: [(Scale, &'static str); 2] = [(Scale::Small, "small"), (Scale::City, "city")];

    fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(scale, _)| *scale == self)
            .map_or("small", |(_, name)| name)
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scale {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::NAMES
            .iter()
            .find(|(_, name)| *name == s)
            .map(|(scale, _)| *scale)
            .ok_or_else(|| format!("unknown scale `{s}` (expected one of: small, city)"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedOptions {
    pub scale: Scale,
    pub seed: u64,
}

impl Default for SeedOptions {
    fn default() -> Self {
        Self {
            scale: Scale::Small,
            seed: 20240101,
        }
    }
}

/// Where seeding has got to: `done` of `total` rows of `table`.
#[derive(Debug, Clone)]
pub struct Progress {
    pub table: &'static str,
    pub done: u64,
    pub total: u64,
}

/// Rows written, per kind.
#[derive(Debug, Clone, Default)]
pub struct SeedSummary {
    pub jurisdictions: u64,
    pub grids: u64,
    pub departments: u64,
    pub staff: u64,
    pub persons: u64,
    pub places: u64,
    pub things: u64,
    pub organizations: u64,
    pub events: u64,
    pub entity_links: u64,
    pub event_links: u64,
    pub whistles: u64,
    pub summonses: u64,
    pub timeline: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(
        "the database already holds data; seeding needs an empty database (run with --reset to empty it first)"
    )]
    NotEmpty,
    #[error("another seed or reset of this database is running; try again when it has ended")]
    InProgress,
    #[error(
        "seeding failed making the {kind} {name} again: {source}; the seeded rows were removed, so the database is empty again"
    )]
    Rebuild {
        kind: &'static str,
        name: String,
        source: sqlx::Error,
    },
    #[error(
        "seeding stopped before every key and index was made again ({0}); the rows are in, what is missing is listed in seed_pending, and the next seed, reset or gateway start makes it"
    )]
    Unfinished(#[source] sqlx::Error),
    #[error("seeding failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// The tables the seed fills, children before parents (the order TRUNCATE lists them).
const TABLES: [&str; 16] = [
    "timeline",
    "summonses",
    "whistles",
    "event_links",
    "event_parties",
    "events",
    "entity_links",
    "organization_members",
    "organizations",
    "things",
    "persons",
    "places",
    "team_members",
    "staff",
    "departments",
    "jurisdictions",
];

/// Whether the database holds no data: every seeded table hangs off jurisdictions, so
/// it is empty exactly when jurisdictions is.
pub async fn is_empty(pool: &PgPool) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM jurisdictions)")
        .fetch_one(pool)
        .await
}

/// What was written about the seeded rows since, emptied with them: element histories,
/// rejected feed changes, and how far each department's feed had been read.
const WRITTEN_SINCE: [&str; 3] = ["element_history", "feed_rejects", "sync_cursors"];

/// Empties every seeded table (and what was written about its rows since), restarts
/// the id sequences, and makes whatever an interrupted seed left unmade.
pub async fn reset(pool: &PgPool) -> Result<(), SeedError> {
    let mut session = Session::lock(pool).await?;
    let reset = empty(&mut session.conn).await;
    session.release().await;
    Ok(reset?)
}

async fn empty(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin().await?;
    sqlx::query(&format!(
        "TRUNCATE {}, {} RESTART IDENTITY CASCADE",
        TABLES.join(", "),
        WRITTEN_SINCE.join(", ")
    ))
    .execute(&mut *tx)
    .await?;
    // Shared by four tables and owned by none, so RESTART IDENTITY does not reach it.
    sqlx::query("ALTER SEQUENCE entity_id_seq RESTART WITH 1")
        .execute(&mut *tx)
        .await?;
    deferred::restore_in_order(&mut tx).await?;
    tx.commit().await
}

/// Makes the keys, indexes and foreign keys a seed stopped before making (see
/// `seed_pending`), over the rows it loaded; if one fails, the rows are removed. Returns
/// whether there was anything to make. For a process starting on the database.
pub async fn finish(
    pool: &PgPool,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<bool, SeedError> {
    let mut session = Session::lock(pool).await?;
    let finished = restore(&mut session, progress).await.map(|made| made > 0);
    session.release().await;
    finished
}

/// Makes what `seed_pending` lists on the session's spare connections, returning how
/// many steps it made; if the database refuses a step, empties the tables (making the
/// rest over no rows) and returns the failure; if a connection is lost, leaves the rest
/// listed.
async fn restore(
    session: &mut Session,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<u64, SeedError> {
    match deferred::restore(&session.pool, session.spare, progress).await {
        Ok(made) => Ok(made),
        Err(deferred::Failed::Step { name, kind, source }) => {
            empty(&mut session.conn).await?;
            Err(SeedError::Rebuild { kind, name, source })
        }
        Err(deferred::Failed::Interrupted(source)) => Err(SeedError::Unfinished(source)),
    }
}

/// The connection a seed, reset or finish holds its database's seeding lock on, so that
/// only one runs at a time, and how many more of the pool's connections it may use.
struct Session {
    pool: PgPool,
    conn: PoolConnection<Postgres>,
    spare: usize,
}

impl Session {
    async fn lock(pool: &PgPool) -> Result<Self, SeedError> {
        let mut conn = pool.acquire().await?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(SEEDING_LOCK)
            .fetch_one(&mut *conn)
            .await?;
        if !locked {
            return Err(SeedError::InProgress);
        }
        // Never back to the pool with the lock.
        conn.close_on_drop();
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let spare = (pool.options().get_max_connections() as usize).saturating_sub(1);
        Ok(Self {
            pool: pool.clone(),
            conn,
            spare: cores.min(spare).max(1),
        })
    }

    /// Gives the lock up: at once, so that a seed right after is not refused while the
    /// server notices the connection close (which ends the lock with the session in any
    /// case, also when the seed is dropped halfway).
    async fn release(mut self) {
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(SEEDING_LOCK)
            .execute(&mut *self.conn)
            .await;
    }
}

/// The session-level advisory lock of seeding (an arbitrary constant of this program's).
const SEEDING_LOCK: i64 = 0x5345_4544_494e_4731;

/// Fills an empty database with the data set of `options`, calling `progress` as rows
/// go in (at least every 10,000 rows of a table, and at each table's end) and as keys and
/// indexes are made.
pub async fn seed(
    pool: &PgPool,
    options: &SeedOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<SeedSummary, SeedError> {
    let mut session = Session::lock(pool).await?;
    let seeded = seed_locked(&mut session, options, progress).await;
    session.release().await;
    seeded
}

async fn seed_locked(
    session: &mut Session,
    options: &SeedOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<SeedSummary, SeedError> {
    // What a seed before this one left unmade (it refuses to seed over that seed's rows).
    restore(session, progress).await?;
    let (loaded, generated) = load(&mut session.conn, options, progress).await?;
    // With fresh statistics for sensible plans. (The rows were written frozen and
    // visible to all, so counts over a subtree are index-only scans without a VACUUM.)
    restore(session, progress).await?;

    Ok(SeedSummary {
        jurisdictions: loaded.rows("jurisdictions"),
        grids: generated.grids,
        departments: loaded.rows("departments"),
        staff: loaded.rows("staff"),
        persons: loaded.rows("persons"),
        places: loaded.rows("places"),
        things: loaded.rows("things"),
        organizations: loaded.rows("organizations"),
        events: loaded.rows("events"),
        entity_links: loaded.rows("entity_links"),
        event_links: loaded.rows("event_links"),
        whistles: loaded.rows("whistles"),
        summonses: loaded.rows("summonses"),
        timeline: loaded.rows("timeline"),
    })
}

/// Loads the rows in one transaction, with the tables' keys, indexes and foreign keys
/// set aside (and listed in `seed_pending`): a failure leaves the database as it was.
async fn load(
    conn: &mut PgConnection,
    options: &SeedOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<(copy::Loaded, generate::Generated), SeedError> {
    let mut tx = conn.begin().await?;
    // Nothing is lost by a crash before commit that a re-run would not redo.
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
    // Taken before the emptiness check, so that a process writing cannot slip in.
    sqlx::query("LOCK TABLE jurisdictions IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let empty: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM jurisdictions)")
        .fetch_one(&mut *tx)
        .await?;
    if !empty {
        return Err(SeedError::NotEmpty);
    }
    deferred::set_aside(&mut tx, &TABLES).await?;
    // Emptied in this transaction, the tables take their rows frozen (COPY FREEZE): no
    // later pass sets hint bits or the visibility map.
    sqlx::query(&format!("TRUNCATE {}", TABLES.join(", ")))
        .execute(&mut *tx)
        .await?;

    // A few chunks in flight: the generator runs ahead of the server, within ~4 MiB.
    let (sender, receiver) = mpsc::channel(4);
    let SeedOptions { scale, seed } = *options;
    let generator = tokio::task::spawn_blocking(move || {
        generate::generate(&copy::Sender::new(sender), scale, seed)
    });
    let (loaded, complete) = copy::load(&mut tx, receiver, progress).await?;
    let generated = match generator.await {
        Ok(Ok(generated)) if complete => generated,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        _ => {
            return Err(SeedError::Database(sqlx::Error::Protocol(
                "the seed generator stopped before the end".into(),
            )));
        }
    };

    sqlx::query("SELECT setval('entity_id_seq', $1)")
        .bind(generated.max_entity_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT setval(pg_get_serial_sequence('events', 'id'), $1)")
        .bind(generated.max_event_id)
        .execute(&mut *tx)
        .await?;
    for (table, max_id) in [
        ("whistles", generated.max_whistle_id),
        ("summonses", generated.max_summons_id),
        ("timeline", generated.max_timeline_id),
    ] {
        // An empty table's sequence starts again at 1.
        sqlx::query("SELECT setval(pg_get_serial_sequence($1, 'id'), GREATEST($2, 1), $2 > 0)")
            .bind(table)
            .bind(max_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok((loaded, generated))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compiles only if a seeding future can be spawned on a multi-threaded runtime.
    #[allow(dead_code)]
    fn seeding_is_send(pool: &PgPool) {
        fn send<T: Send>(_: &T) {}
        send(&seed(pool, &SeedOptions::default(), &|_| {}));
        send(&reset(pool));
    }

    #[test]
    fn scales_parse_and_display() {
        assert_eq!("small".parse::<Scale>(), Ok(Scale::Small));
        assert_eq!("city".parse::<Scale>(), Ok(Scale::City));
        assert_eq!(Scale::City.to_string(), "city");
        let error = "town".parse::<Scale>().err().unwrap_or_default();
        assert!(error.contains("small") && error.contains("city"), "{error}");
        assert_eq!(SeedOptions::default().seed, 20240101);
        assert_eq!(SeedOptions::default().scale, Scale::Small);
    }
}
