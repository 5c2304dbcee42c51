//! The outbox: timeline entries not yet published to the signal channel, published in
//! order by whichever replica claims them first.

use crate::store::{Store, StoreError};

impl Store {
    /// Publishes up to `limit` outbox entries with `publish` (given the newest cursor) and
    /// marks them published, all or nothing; returns how many. Rows another replica is
    /// publishing are skipped.
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

/// Why outbox entries were not published; they stay in the outbox for the next try.
#[derive(Debug, thiserror::Error)]
pub enum PublishError<E> {
    #[error(transparent)]
    Store(StoreError),
    #[error("publishing failed: {0}")]
    Publish(E),
}

fn store_failure<E>(error: sqlx::Error) -> PublishError<E> {
    PublishError::Store(error.into())
}
