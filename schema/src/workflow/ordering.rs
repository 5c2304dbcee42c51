//! Timeline positions in commit order. Every writer asks for its entries' positions
//! right after commit; `order_timeline()` numbers whatever is committed and has none.
//! One call runs at a time per process, and the writers that commit while it runs are
//! served together by the next call: each asked after its commit, and that call starts
//! after it asked, so it numbers their entries. A burst of commits costs a call per
//! round, not one per commit each queueing for the function's lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

use crate::store::{Store, StoreError};

/// Positions by entry id, or why the call that was to give them failed.
pub(crate) type Positions = Result<Arc<HashMap<i64, i64>>, Arc<StoreError>>;

/// The callers waiting for the next call, and one call at a time.
#[derive(Default)]
pub(crate) struct Orderer {
    next: Mutex<Round>,
    turn: tokio::sync::Mutex<()>,
}

/// What the next call is for: the entries whose positions are wanted back, and who
/// waits for them.
#[derive(Default)]
struct Round {
    wanted: Vec<i64>,
    waiting: Vec<oneshot::Sender<Positions>>,
}

impl Orderer {
    /// `wanted`'s positions from the next `call` that starts after this: the first
    /// caller to take the turn makes it, with what every caller waiting wants.
    async fn round<F, Fut>(&self, wanted: &[i64], call: F) -> Positions
    where
        F: Fn(Vec<i64>) -> Fut,
        Fut: Future<Output = Result<Vec<(i64, i64)>, StoreError>>,
    {
        loop {
            let (answer, answered) = oneshot::channel();
            {
                let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
                next.wanted.extend_from_slice(wanted);
                next.waiting.push(answer);
            }
            {
                let _turn = self.turn.lock().await;
                let round =
                    std::mem::take(&mut *self.next.lock().unwrap_or_else(PoisonError::into_inner));
                // Empty when a caller before this one took it into its round.
                if !round.waiting.is_empty() {
                    let positions = call(round.wanted)
                        .await
                        .map(|positions| Arc::new(positions.into_iter().collect()))
                        .map_err(Arc::new);
                    for waiter in round.waiting {
                        let _ = waiter.send(positions.clone());
                    }
                }
            }
            // A round whose caller was dropped mid-call answers no one: ask again.
            if let Ok(positions) = answered.await {
                return positions;
            }
        }
    }
}

impl Store {
    /// Gives every committed entry without a position the next ones, in id order, by
    /// a call that starts after this one was made; returns the positions of `wanted`
    /// (and of entries others wanted in the same round).
    pub(crate) async fn order_timeline(&self, wanted: &[i64]) -> Positions {
        self.orderer()
            .round(
                wanted,
                |wanted| async move { self.order_call(&wanted).await },
            )
            .await
    }

    /// [`Self::order_timeline`] after a commit whose entries need no position back: a
    /// failure is logged, and the outbox relay orders them on its next round.
    pub(crate) async fn order_committed(&self) {
        if let Err(error) = self.order_timeline(&[]).await {
            tracing::warn!(%error, "ordering committed timeline entries failed; the outbox relay retries");
        }
    }

    /// One `order_timeline()` call (one caller at a time across replicas, for the length
    /// of the statement).
    async fn order_call(&self, wanted: &[i64]) -> Result<Vec<(i64, i64)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT entry, entry_position FROM order_timeline($1)")
                .bind(wanted)
                .fetch_all(self.executor())
                .await?,
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::Semaphore;

    use super::*;

    /// Numbers ids by their square, counting calls; each call waits for a permit from `gate`.
    async fn fake_call(
        calls: &AtomicUsize,
        gate: &Semaphore,
        wanted: Vec<i64>,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        calls.fetch_add(1, Ordering::SeqCst);
        let _permit = gate.acquire().await.expect("open");
        Ok(wanted.into_iter().map(|id| (id, id * id)).collect())
    }

    #[tokio::test]
    async fn callers_arriving_during_a_call_share_the_next_one() {
        let orderer = Arc::new(Orderer::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Semaphore::new(0));
        let call = {
            let (calls, gate) = (Arc::clone(&calls), Arc::clone(&gate));
            move |wanted| {
                let (calls, gate) = (Arc::clone(&calls), Arc::clone(&gate));
                async move { fake_call(&calls, &gate, wanted).await }
            }
        };
        let first = tokio::spawn({
            let (orderer, call) = (Arc::clone(&orderer), call.clone());
            async move { orderer.round(&[1], call).await }
        });
        while calls.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        // Twenty commits while the first call runs.
        let rest: Vec<_> = (2..22)
            .map(|id| {
                let (orderer, call) = (Arc::clone(&orderer), call.clone());
                tokio::spawn(async move { (id, orderer.round(&[id], call).await) })
            })
            .collect();
        while orderer.next.lock().expect("unpoisoned").waiting.len() < 20 {
            tokio::task::yield_now().await;
        }
        gate.add_permits(1);
        let positions = first.await.expect("joined").expect("ordered");
        assert_eq!(positions.get(&1), Some(&1));
        for caller in rest {
            let (id, positions) = caller.await.expect("joined");
            assert_eq!(positions.expect("ordered").get(&id), Some(&(id * id)));
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "one call, then one for the rest"
        );
    }

    #[tokio::test]
    async fn a_failed_call_fails_its_whole_round_and_the_next_round_is_new() {
        let orderer = Orderer::default();
        let failed = orderer
            .round(&[1], |_| async { Err(StoreError::Unstorable("down")) })
            .await;
        assert!(failed.is_err());
        let positions = orderer
            .round(&[2], |wanted| async move {
                Ok(wanted.into_iter().map(|id| (id, 7)).collect())
            })
            .await
            .expect("ordered");
        assert_eq!(positions.get(&2), Some(&7));
    }
}
