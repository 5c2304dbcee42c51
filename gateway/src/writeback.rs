//! The write outbox's sender: every `writeback.poll_ms` it claims the writes that are
//! due, sends each to its department (or, for one the department answered PENDING, asks
//! again), and settles it with the answer. A try that gets no answer — the department
//! down, slow, refusing the call, answering garbage, or not configured — is tried again
//! later with the same idempotency key, backing off, so that every write is done once
//! and none is lost. Any number of replicas may send: each write is claimed by one.

use std::sync::Arc;
use std::time::Duration;

use connectors::Federation;
use connectors::operations::OperationName;
use futures_util::future::join_all;
use schema::Store;
use schema::enums::WriteStatus;
use schema::workflow::DueWrite;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::config::WritebackConfig;

/// Writes claimed per round; the next round takes the rest at once.
const BATCH: i64 = 50;

/// Runs until dropped.
pub struct WriteBack {
    task: JoinHandle<()>,
}

impl WriteBack {
    /// `None` when sending is disabled on this replica.
    pub fn start(
        store: Store,
        federation: Arc<Federation>,
        config: WritebackConfig,
    ) -> Option<Self> {
        if config.poll_ms == 0 {
            return None;
        }
        Some(Self {
            task: tokio::spawn(run(store, federation, config)),
        })
    }
}

impl Drop for WriteBack {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(store: Store, federation: Arc<Federation>, config: WritebackConfig) {
    let mut ticks = tokio::time::interval(Duration::from_millis(config.poll_ms));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let lease = Duration::from_millis(config.lease_ms);
    loop {
        ticks.tick().await;
        loop {
            let due = match store.claim_writes(lease, BATCH).await {
                Ok(due) => due,
                Err(error) => {
                    tracing::warn!(%error, "cannot claim department writes; retrying next round");
                    break;
                }
            };
            let claimed = due.len();
            join_all(
                due.iter()
                    .map(|write| send(&store, &federation, &config, write)),
            )
            .await;
            if (claimed as i64) < BATCH {
                break;
            }
        }
    }
}

/// One try of one write, and what it got recorded.
async fn send(store: &Store, federation: &Federation, config: &WritebackConfig, write: &DueWrite) {
    let answer = match (
        federation.department(&write.department_code),
        write.operation.parse::<OperationName>(),
    ) {
        (None, _) => Err(format!(
            "department {} is not configured on this gateway",
            write.department_code
        )),
        (_, Err(error)) => Err(error.to_string()),
        (Some(department), Ok(operation)) => match (&write.status, &write.department_id) {
            (WriteStatus::Awaiting, Some(id)) => department.poll(operation, id).await,
            _ => {
                department
                    .write(operation, &write.payload, &write.idempotency_key)
                    .await
            }
        }
        .map_err(|error| error.to_string()),
    };
    let recorded = match answer {
        Ok(answer) => {
            tracing::info!(
                write = write.id,
                department = %write.department_code,
                operation = %write.operation,
                state = ?answer.state,
                case_number = answer.case_number.as_deref().unwrap_or(""),
                "a department answered"
            );
            let ask_again = Duration::from_millis(config.ask_again_ms);
            store
                .write_answered(write, &answer, ask_again)
                .await
                .map(|_| ())
        }
        Err(error) => {
            let retry_in = backoff(config, write.attempts);
            tracing::warn!(
                write = write.id,
                department = %write.department_code,
                operation = %write.operation,
                attempts = write.attempts,
                retry_in_ms = retry_in.as_millis() as u64,
                %error,
                "a department write got no answer; trying again later"
            );
            store.write_failed(write.id, &error, retry_in).await
        }
    };
    if let Err(error) = recorded {
        // The claim's lease ends and the write is tried again: the department dedupes.
        tracing::warn!(write = write.id, %error, "cannot record a department's answer");
    }
}

/// `retry_base_ms` doubled per try so far, at most `retry_max_ms`, with up to a quarter
/// more at random so that replicas do not retry in step.
fn backoff(config: &WritebackConfig, attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let base = config.retry_base_ms.saturating_mul(1 << doublings);
    let capped = base.min(config.retry_max_ms);
    Duration::from_millis(capped + fastrand::u64(0..=capped / 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tries_back_off_to_the_cap() {
        let config = WritebackConfig {
            retry_base_ms: 100,
            retry_max_ms: 1_000,
            ..WritebackConfig::default()
        };
        let ms = |attempts| backoff(&config, attempts).as_millis() as u64;
        assert!((100..=125).contains(&ms(1)));
        assert!((400..=500).contains(&ms(3)));
        assert!((1_000..=1_250).contains(&ms(30)));
    }
}
