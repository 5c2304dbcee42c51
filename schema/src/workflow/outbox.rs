//! The outbox: timeline entries not yet published to the signal channel, published in
//! order by whichever replica claims them first.

use crate::store::{Store, StoreError};

impl Store {
    /// Publishes up to `limit` outbox entries with `publish` (given the newest cursor) and
    /// marks them published, all or nothing; returns how many. Their entries are ordered
    /// first (the writer's own ordering may have failed, or the writer gone). Rows another
    /// replica is publishing are skipped.
    pub async fn publish_outbox<F, Fut, E>(
        &self,
        limit: i64,
        publish: F,
    ) -> Result<usize, PublishError<E>>
    where
        F: FnOnce(i64) -> Fut,
        Fut: std::future::Future<Output = Result<(), E>>,
    {
        let mut transaction = self.executor().begin().await.map_err(store_failure)?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT timeline_id FROM outbox WHERE published_at IS NULL \
             ORDER BY timeline_id LIMIT $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(limit)
        .fetch_all(&mut *transaction)
        .await
        .map_err(store_failure)?;
        let Some(newest) = ids.last().copied() else {
            return Ok(0);
        };
        // Entries whose writers committed and went before ordering them are ordered now,
        // so every replica the doorbell wakes reads them.
        self.order_timeline(&[])
            .await
            .map_err(PublishError::Ordering)?;
        publish(newest).await.map_err(PublishError::Publish)?;
        sqlx::query("UPDATE outbox SET published_at = now() WHERE timeline_id = ANY($1)")
            .bind(&ids)
            .execute(&mut *transaction)
            .await
            .map_err(store_failure)?;
        transaction.commit().await.map_err(store_failure)?;
        Ok(ids.len())
    }
}

impl Store {
    /// Entries waiting to be published, and how long the oldest has waited (seconds; 0
    /// when none waits).
    pub async fn outbox_backlog(&self) -> Result<(i64, f64), StoreError> {
        Ok(sqlx::query_as(
            "SELECT count(*), COALESCE(extract(epoch FROM now() - min(t.at)), 0)::float8 \
             FROM outbox o JOIN timeline t ON t.id = o.timeline_id WHERE o.published_at IS NULL",
        )
        .fetch_one(self.executor())
        .await?)
    }
}

/// Why outbox entries were not published; they stay in the outbox for the next try.
#[derive(Debug, thiserror::Error)]
pub enum PublishError<E> {
    #[error(transparent)]
    Store(StoreError),
    #[error("ordering the timeline failed: {0}")]
    Ordering(std::sync::Arc<StoreError>),
    #[error("publishing failed: {0}")]
    Publish(E),
}

fn store_failure<E>(error: sqlx::Error) -> PublishError<E> {
    PublishError::Store(error.into())
}
