//! What every pull from a department system shares (a change feed, the 12345 hotline):
//! a lock that lets one replica at a time sync a source, and the source's cursor.
//!
//! These run for the platform itself, not for a caller: they take no scope.

use sqlx::{Connection as _, PgConnection};

use super::{Store, StoreError};

/// Held while one replica syncs a source, on a connection of its own rather than one of
/// the pool's: a round's steps take the pool's connections, and rounds of several sources
/// start together, so locks held on pooled connections could take them all and leave
/// every round waiting for one more. Dropping it closes the connection, which ends the
/// lock with the session once the server notices; [`SyncLock::release`] gives it up at
/// once.
pub struct SyncLock {
    connection: PgConnection,
    key: String,
}

impl SyncLock {
    /// Unlocks, then closes the connection: a holder asking right after is not refused
    /// while the server is still ending the session (seen as a refusal right after a
    /// release, when the unlock was left to the close).
    pub async fn release(mut self) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_advisory_unlock(hashtextextended($1, 0))")
            .bind(&self.key)
            .execute(&mut self.connection)
            .await?;
        self.connection.close().await?;
        Ok(())
    }
}

impl Store {
    /// The source's sync lock, or `None` when another replica (or a one-off run) holds
    /// it. A session's advisory lock on a connection of its own: it cannot outlive its
    /// holder.
    pub async fn try_lock_sync(&self, source: &str) -> Result<Option<SyncLock>, StoreError> {
        let mut connection = PgConnection::connect_with(&self.pool.connect_options()).await?;
        self.count_statement();
        let key = format!("sync:{source}");
        let locked: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
                .bind(&key)
                .fetch_one(&mut connection)
                .await?;
        Ok(locked.then_some(SyncLock { connection, key }))
    }

    /// Up to where the source has been read.
    pub async fn sync_cursor(&self, source: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT cursor FROM sync_cursors WHERE source = $1")
                .bind(source)
                .fetch_optional(self.executor())
                .await?,
        )
    }

    /// Moves the source's cursor.
    pub async fn set_sync_cursor(&self, source: &str, cursor: &str) -> Result<(), StoreError> {
        let mut connection = self.executor().acquire().await?;
        set_cursor(&mut connection, source, cursor).await?;
        Ok(())
    }
}

/// Moves a source's cursor on `connection` (a transaction's, to move it with what was
/// read).
pub(crate) async fn set_cursor(
    connection: &mut sqlx::PgConnection,
    source: &str,
    cursor: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sync_cursors (source, cursor) VALUES ($1, $2) \
         ON CONFLICT (source) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()",
    )
    .bind(source)
    .bind(cursor)
    .execute(connection)
    .await?;
    Ok(())
}
