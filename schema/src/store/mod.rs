//! The PostgreSQL store of the platform's own data. SQL lives here in small named
//! functions; every function takes the caller's [`Scope`] where rows are scoped.
//!
//! Every statement goes through [`Store::executor`], which counts it: the count is how
//! tests prove that relations are batched (no N+1) and is exported as a metric.

mod audit;
mod columns;
mod entities;
mod export;
mod figures;
mod hotline;
mod lists;
mod lookups;
mod map;
mod replica;
mod staff;
mod sync;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::PgPool;

use crate::model::EventParty;
use crate::workflow::ordering::Orderer;

pub use audit::{AuditEntry, AuditQuery, UnmaskedRead};
pub use columns::{ColumnSet, Columns, PartyColumns, decode_rows};
pub use export::Dataset;
pub use figures::{Counts, Dimension, FIGURE_COLUMNS, FigureQuery, FigureRow, KeyValue};
pub use hotline::{HotlineStatusChange, NewHotlineEvent};
pub use lists::{
    Bound, Comparison, Condition, Key, KeyType, ListQuery, Page, PageArgs, Relation, relations,
};
pub use lookups::{CodePage, JurisdictionQuery};
pub use map::{BoundaryQuery, Centre, MAX_RADIUS_M, Point, Position};
pub use replica::{ReadReplica, ReplicaState};
pub use sync::SyncLock;
pub(crate) use sync::set_cursor;

/// A table of the entity index (or the events table) that lists and lookups read.
pub trait Entity: Send + Sync + Unpin + Clone + 'static {
    const TABLE: &'static str;
    /// The selected columns, qualified with the alias `t`, in the order
    /// [`Entity::decode`] reads them.
    const COLUMNS: &'static str;
    /// The names of [`Entity::COLUMNS`], the id first.
    const NAMES: &'static [&'static str];
    /// The column searched by name prefix and substring.
    const NAME_COLUMN: &'static str;
    /// The column a time-range filter applies to.
    const TIME_COLUMN: &'static str;
    /// Whether a scope bound to a department's summonses narrows this table (events).
    const SUMMONED: bool = false;
    /// Whether its rows have parties a list can read with them (events).
    const HAS_PARTIES: bool = false;
    /// Where a row is on the map.
    const POSITION: Position;

    fn id(&self) -> i64;

    /// The entity from the next columns, those of `read` (see [`ColumnSet`]).
    fn decode_some(columns: &mut Columns<'_, '_>, read: ColumnSet) -> Result<Self, sqlx::Error>;

    /// The entity from the next columns, all of [`Entity::COLUMNS`].
    fn decode(columns: &mut Columns<'_, '_>) -> Result<Self, sqlx::Error> {
        Self::decode_some(columns, ColumnSet::ALL)
    }

    /// The entity from the next columns, those of `read`, or `None` when they are NULL
    /// (an outer join found none).
    fn decode_optional(
        columns: &mut Columns<'_, '_>,
        read: ColumnSet,
    ) -> Result<Option<Self>, sqlx::Error> {
        if columns.at_null()? {
            columns.skip(read.width::<Self>());
            return Ok(None);
        }
        Self::decode_some(columns, read).map(Some)
    }

    /// Keeps the parties a list read with the row (see [`Entity::HAS_PARTIES`]).
    fn keep_parties(&mut self, _parties: Vec<EventParty>) {}
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Unreachable, or every connection of the pool busy past its wait: either way a
    /// retry may succeed, and the message says which it was.
    #[error("{because}: {0}", because = unavailable_because(.0))]
    Unavailable(#[source] sqlx::Error),
    #[error("database query failed: {0}")]
    Query(#[source] sqlx::Error),
    /// Input PostgreSQL cannot store or compare (a NUL character in text): the caller's
    /// mistake, not a fault.
    #[error("{0}")]
    Unstorable(&'static str),
}

fn unavailable_because(error: &sqlx::Error) -> &'static str {
    if pool_busy(error) {
        "no database connection came free in time (every one busy)"
    } else {
        "the database is unreachable"
    }
}

/// The pool had no connection free in time (the database itself may be answering).
fn pool_busy(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::PoolTimedOut)
}

impl StoreError {
    /// Whether the pool had no connection free in time.
    pub fn is_busy(&self) -> bool {
        matches!(self, Self::Unavailable(error) if pool_busy(error))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => Self::Unavailable(error),
            sqlx::Error::Database(ref db)
                if db.code().is_some_and(|code| {
                    // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now,
                    // 08xxx connection exceptions.
                    code.starts_with("57P") || code.starts_with("08")
                }) =>
            {
                Self::Unavailable(error)
            }
            // 22021 character_not_in_repertoire (a NUL byte in text), 22P05
            // untranslatable_character.
            sqlx::Error::Database(ref db)
                if matches!(db.code().as_deref(), Some("22021" | "22P05")) =>
            {
                Self::Unstorable(
                    "text may not contain the NUL character (U+0000) or other characters \
                     that cannot be stored",
                )
            }
            other => Self::Query(other),
        }
    }
}

#[derive(Clone)]
pub struct Store {
    /// Where this store's statements go: the primary, or for a query the read replica
    /// while it is usable.
    pool: PgPool,
    /// Where changes and the audit of reads go.
    primary: PgPool,
    replica: Option<Arc<ReadReplica>>,
    statements: Arc<AtomicU64>,
    /// The statements of one request, when this is a request's store.
    request: Option<Arc<AtomicU64>>,
    /// Workflow changes in progress at once: the others wait for their turn, so that a
    /// burst of writes leaves reads their connections and their share of the CPU.
    writers: Arc<tokio::sync::Semaphore>,
    /// Timeline ordering calls, one at a time, shared by the writers.
    orderer: Arc<Orderer>,
}

/// Workflow changes one store runs at once, unless told otherwise.
pub const DEFAULT_WRITERS: usize = 4;

impl Store {
    pub fn new(pool: PgPool) -> Self {
        Self {
            primary: pool.clone(),
            pool,
            replica: None,
            statements: Arc::new(AtomicU64::new(0)),
            request: None,
            writers: Arc::new(tokio::sync::Semaphore::new(DEFAULT_WRITERS)),
            orderer: Arc::default(),
        }
    }

    /// The same store running at most `writers` workflow changes at once.
    pub fn with_writers(self, writers: usize) -> Self {
        Self {
            writers: Arc::new(tokio::sync::Semaphore::new(writers.max(1))),
            ..self
        }
    }

    /// The same store with queries reading from `replica` while it is usable (see
    /// [`Store::for_query`]).
    pub fn with_read_replica(self, replica: Arc<ReadReplica>) -> Self {
        Self {
            replica: Some(replica),
            ..self
        }
    }

    /// A turn to run a workflow change, held until it commits or is dropped (`None`
    /// only if the semaphore were closed, which it never is).
    pub(crate) async fn writer_turn(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.writers.clone().acquire_owned().await.ok()
    }

    /// Where this store's writers wait for their entries' positions.
    pub(crate) fn orderer(&self) -> &Orderer {
        &self.orderer
    }

    /// The same store for one request: its statements count in this store's total and
    /// in [`Store::request_statements`].
    pub fn for_request(&self) -> Self {
        Self {
            request: Some(Arc::new(AtomicU64::new(0))),
            ..self.clone()
        }
    }

    /// The read replica, when one is configured.
    pub fn read_replica(&self) -> Option<&ReadReplica> {
        self.replica.as_deref()
    }

    /// The store for one query operation: as [`Store::for_request`], reading from the
    /// read replica while it is usable (the primary otherwise). A query changes nothing
    /// but the audit of its personal reads, which goes to the primary.
    pub fn for_query(&self) -> Self {
        let request = self.for_request();
        match self.replica.as_deref().and_then(ReadReplica::pool) {
            Some(replica) => Self {
                pool: replica.clone(),
                ..request
            },
            None => request,
        }
    }

    /// The pool, for one statement: each call counts one.
    pub(crate) fn executor(&self) -> &PgPool {
        self.count_statement();
        &self.pool
    }

    /// The primary, for one statement that writes whatever store this is: each call
    /// counts one.
    pub(crate) fn primary(&self) -> &PgPool {
        self.count_statement();
        &self.primary
    }

    /// Counts a statement (one sent on a transaction rather than through
    /// [`Store::executor`] too).
    pub(crate) fn count_statement(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
        if let Some(request) = &self.request {
            request.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How many statements this store has sent since it was created.
    pub fn statements_executed(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// How many statements this request's store has sent (0 for a store of no request).
    pub fn request_statements(&self) -> u64 {
        self.request
            .as_ref()
            .map_or(0, |request| request.load(Ordering::Relaxed))
    }

    /// One round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(self.executor()).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::StoreError;

    #[test]
    fn a_busy_pool_is_told_apart_from_an_unreachable_database() {
        let busy = StoreError::from(sqlx::Error::PoolTimedOut);
        assert!(busy.is_busy());
        assert!(
            busy.to_string()
                .starts_with("no database connection came free in time"),
            "{busy}"
        );
        let gone = StoreError::from(sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert!(matches!(gone, StoreError::Unavailable(_)) && !gone.is_busy());
        assert!(
            gone.to_string().starts_with("the database is unreachable"),
            "{gone}"
        );
    }
}
