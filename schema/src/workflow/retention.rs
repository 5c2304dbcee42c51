//! Pruning what the workflow keeps only for a while: idempotency keys (a retry comes
//! within minutes, not weeks) and outbox rows already published. The timeline itself is
//! never pruned. One replica prunes per period: the run is claimed under an advisory lock
//! and recorded in `job_runs`.

use std::time::Duration;

use crate::store::{Store, StoreError};

/// The advisory lock a pruning run holds.
const PRUNE_LOCK: i64 = 0x5052_554e_454b_4559; // "PRUNEKEY"
const JOB: &str = "prune";

/// What one run removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub idempotency_keys: u64,
    pub outbox_rows: u64,
}

impl Store {
    /// Removes idempotency keys and published outbox rows older than `retention`, unless
    /// a run (on any replica) happened less than `every` ago or is under way; `None` when
    /// skipped.
    pub async fn prune(
        &self,
        retention: Duration,
        every: Duration,
    ) -> Result<Option<Pruned>, StoreError> {
        let retention_s = i64::try_from(retention.as_secs()).unwrap_or(i64::MAX);
        let every_ms = i64::try_from(every.as_millis()).unwrap_or(i64::MAX);
        let mut transaction = self.executor().begin().await?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(PRUNE_LOCK)
            .fetch_one(&mut *transaction)
            .await?;
        if !locked {
            return Ok(None);
        }
        let due: bool = sqlx::query_scalar(
            "SELECT NOT EXISTS (SELECT 1 FROM job_runs WHERE job = $1 \
               AND ran_at > now() - make_interval(secs => $2::double precision / 1000))",
        )
        .bind(JOB)
        .bind(every_ms)
        .fetch_one(&mut *transaction)
        .await?;
        if !due {
            return Ok(None);
        }
        let cutoff = "now() - make_interval(secs => $1::double precision)";
        let keys = sqlx::query(&format!(
            "DELETE FROM idempotency_keys WHERE created_at < {cutoff}"
        ))
        .bind(retention_s)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        let outbox = sqlx::query(&format!("DELETE FROM outbox WHERE published_at < {cutoff}"))
            .bind(retention_s)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        sqlx::query(
            "INSERT INTO job_runs (job, ran_at) VALUES ($1, now()) \
             ON CONFLICT (job) DO UPDATE SET ran_at = excluded.ran_at",
        )
        .bind(JOB)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(Some(Pruned {
            idempotency_keys: keys,
            outbox_rows: outbox,
        }))
    }
}
