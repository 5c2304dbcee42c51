//! Batching by the query's shape, not by a clock. Every loader of a request queues the
//! keys its fields ask for; nothing is fetched while any field of the request can still
//! make progress. Only when the whole operation waits — every field that is not done
//! waits on a loader or on I/O — does each loader with queued keys fetch them, in one
//! batch. A batch's answers reach all its waiters at once, so every field of a level
//! resumes together and queues the next level's keys before the next dispatch: one
//! fetch per loader per level of a list, however long the fetches take and however busy
//! the machine is.
//!
//! The batches run inside the operation's own task (no task per batch), and [`Driven`]
//! drives every execution — queries, mutations and each result of a subscription (see
//! [`super::execution`]).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Wake, Waker};

use async_graphql::dataloader::Loader;
use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesUnordered, Stream, StreamExt};
use futures_util::task::AtomicWaker;

/// The loaders of one request that have keys waiting.
#[derive(Clone, Default)]
pub struct Batches {
    waiting: Arc<Mutex<Vec<Arc<dyn Dispatch>>>>,
}

impl Batches {
    /// The fetches of every loader with queued keys, each in its own future.
    fn take(&self) -> Vec<BoxFuture<'static, ()>> {
        let waiting = std::mem::take(&mut *lock(&self.waiting));
        waiting.into_iter().filter_map(Dispatch::dispatch).collect()
    }

    fn wait(&self, loader: Arc<dyn Dispatch>) {
        lock(&self.waiting).push(loader);
    }
}

/// A loader with keys queued.
trait Dispatch: Send + Sync {
    /// The fetch of the queued keys (`None` when there are none).
    fn dispatch(self: Arc<Self>) -> Option<BoxFuture<'static, ()>>;
}

/// What a loader's keys must be.
pub trait BatchKey: Send + Sync + std::hash::Hash + Eq + Clone + 'static {}

impl<K: Send + Sync + std::hash::Hash + Eq + Clone + 'static> BatchKey for K {}

/// A loader whose keys are gathered by the request's [`Batches`] and fetched together.
pub struct Batched<K: BatchKey, T: Loader<K>> {
    shared: Arc<Shared<K, T>>,
}

struct Shared<K: BatchKey, T: Loader<K>> {
    loader: T,
    batches: Batches,
    /// The keys asked for since the last fetch.
    open: Mutex<Option<Open<K, T>>>,
}

struct Open<K: BatchKey, T: Loader<K>> {
    keys: Vec<K>,
    seen: HashSet<K>,
    answer: Arc<Answer<K, T>>,
}

type Loaded<K, T> = Result<HashMap<K, <T as Loader<K>>::Value>, <T as Loader<K>>::Error>;

/// One batch's answer, shared by all who asked in it.
struct Answer<K: BatchKey, T: Loader<K>> {
    loaded: OnceLock<Loaded<K, T>>,
    wakers: Mutex<Vec<Waker>>,
}

impl<K: BatchKey, T: Loader<K>> Batched<K, T>
where
    T::Error: Sync,
{
    pub fn new(loader: T, batches: &Batches) -> Self {
        Self {
            shared: Arc::new(Shared {
                loader,
                batches: batches.clone(),
                open: Mutex::new(None),
            }),
        }
    }

    pub async fn load_one(&self, key: K) -> Result<Option<T::Value>, T::Error> {
        let answer = self.ask(std::slice::from_ref(&key));
        Ok(Waiting(&answer)
            .await
            .as_ref()
            .map_err(Clone::clone)?
            .get(&key)
            .cloned())
    }

    pub async fn load_many(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<HashMap<K, T::Value>, T::Error> {
        let keys: Vec<K> = keys.into_iter().collect();
        let answer = self.ask(&keys);
        let loaded = Waiting(&answer).await.as_ref().map_err(Clone::clone)?;
        Ok(keys
            .into_iter()
            .filter_map(|key| loaded.get(&key).cloned().map(|value| (key, value)))
            .collect())
    }

    /// Queues `keys` in the open batch (opening one, and telling the request, if there
    /// is none) and returns where its answer will be.
    fn ask(&self, keys: &[K]) -> Arc<Answer<K, T>> {
        let mut open = lock(&self.shared.open);
        let batch = open.get_or_insert_with(|| {
            self.shared
                .batches
                .wait(self.shared.clone() as Arc<dyn Dispatch>);
            Open {
                keys: Vec::new(),
                seen: HashSet::new(),
                answer: Arc::new(Answer {
                    loaded: OnceLock::new(),
                    wakers: Mutex::new(Vec::new()),
                }),
            }
        });
        for key in keys {
            if batch.seen.insert(key.clone()) {
                batch.keys.push(key.clone());
            }
        }
        batch.answer.clone()
    }
}

impl<K: BatchKey, T: Loader<K>> Dispatch for Shared<K, T>
where
    T::Error: Sync,
{
    fn dispatch(self: Arc<Self>) -> Option<BoxFuture<'static, ()>> {
        let batch = lock(&self.open).take()?;
        if batch.keys.is_empty() {
            return None;
        }
        // Each batch runs in a span of its own under the request's, named for its
        // loader (written out only when a subscriber records the span).
        let span = tracing::info_span!("batch", loader = %ShortName(std::any::type_name::<T>()));
        Some(Box::pin(tracing::Instrument::instrument(
            async move {
                let loaded = self.loader.load(&batch.keys).await;
                let answer = batch.answer;
                let _ = answer.loaded.set(loaded);
                for waker in std::mem::take(&mut *lock(&answer.wakers)) {
                    waker.wake();
                }
            },
            span,
        )))
    }
}

/// Waits for a batch's answer.
struct Waiting<'a, K: BatchKey, T: Loader<K>>(&'a Arc<Answer<K, T>>);

impl<'a, K: BatchKey, T: Loader<K>> Future for Waiting<'a, K, T> {
    type Output = &'a Loaded<K, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let answer: &'a Answer<K, T> = self.0;
        if let Some(loaded) = answer.loaded.get() {
            return Poll::Ready(loaded);
        }
        let mut wakers = lock(&answer.wakers);
        // Checked again under the lock the answer is announced under.
        if let Some(loaded) = answer.loaded.get() {
            return Poll::Ready(loaded);
        }
        if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
            wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether the operation was woken while (or since) it was last polled.
#[derive(Default)]
struct Woken {
    flag: AtomicBool,
    task: AtomicWaker,
}

impl Wake for Woken {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.flag.store(true, Ordering::Release);
        self.task.wake();
    }
}

/// An operation (a future) or a subscription (a stream of results) and the batches its
/// loaders ask for, polled in one task.
pub(super) struct Driven<F> {
    operation: Pin<Box<F>>,
    batches: Batches,
    woken: Arc<Woken>,
    waker: Waker,
    running: FuturesUnordered<BoxFuture<'static, ()>>,
}

impl<F> Driven<F> {
    pub(super) fn new(operation: F, batches: Batches) -> Self {
        let woken = Arc::new(Woken::default());
        Self {
            operation: Box::pin(operation),
            batches,
            waker: Waker::from(woken.clone()),
            woken,
            running: FuturesUnordered::new(),
        }
    }

    /// Polls the operation with `poll`; when it waits and nothing woke it meanwhile,
    /// every field that is not done waits (a wake, had there been one, has already
    /// rescheduled this task), and the queued batches start.
    fn drive<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(Pin<&mut F>, &mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        self.woken.task.register(cx.waker());
        let mut inner = Context::from_waker(&self.waker);
        self.woken.flag.store(false, Ordering::Release);
        if let Poll::Ready(done) = poll(self.operation.as_mut(), &mut inner) {
            return Poll::Ready(done);
        }
        if !self.woken.flag.load(Ordering::Acquire) {
            self.running.extend(self.batches.take());
        }
        // Finished batches wake their waiters, and through them this task.
        while let Poll::Ready(Some(())) = self.running.poll_next_unpin(&mut inner) {}
        Poll::Pending
    }
}

impl<F: Future> Future for Driven<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.get_mut().drive(cx, Future::poll)
    }
}

impl<S: Stream> Stream for Driven<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        self.get_mut().drive(cx, Stream::poll_next)
    }
}

/// A type's name without its module paths: `ById<Person>`.
struct ShortName(&'static str);

impl std::fmt::Display for ShortName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
            let (path, tail) = rest.split_at(at);
            let mut chars = tail.chars();
            let separator = chars.next().unwrap_or_default();
            write!(
                f,
                "{}{separator}",
                path.rsplit("::").next().unwrap_or_default()
            )?;
            rest = chars.as_str();
        }
        f.write_str(rest.rsplit("::").next().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn short_type_name(full: &'static str) -> String {
        ShortName(full).to_string()
    }

    #[test]
    fn batch_spans_name_their_loader_without_module_paths() {
        assert_eq!(
            short_type_name("schema::graphql::loaders::ById<schema::model::Person>"),
            "ById<Person>"
        );
        assert_eq!(
            short_type_name("a::Queues<b::c::SummonsQueue>"),
            "Queues<SummonsQueue>"
        );
        assert_eq!(short_type_name("Plain"), "Plain");
    }

    /// Doubles its keys, keeping each batch it was asked for.
    struct Doubles(Arc<Mutex<Vec<Vec<u32>>>>);

    impl Loader<u32> for Doubles {
        type Value = u32;
        type Error = Arc<String>;

        async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u32>, Self::Error> {
            lock(&self.0).push(keys.to_vec());
            // A fetch that takes a while, and yields more than once.
            tokio::time::sleep(Duration::from_millis(u64::from(keys[0] % 3))).await;
            tokio::task::yield_now().await;
            Ok(keys.iter().map(|k| (*k, k * 2)).collect())
        }
    }

    /// A tree of `width` nodes per level, `depth` levels deep, each node loading its key
    /// and then its children's with work in between that yields a varying number of
    /// times: one batch per level, whatever the interleaving.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_level_is_one_batch_however_its_fields_interleave() {
        let batches = Batches::default();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let loader = Arc::new(Batched::new(Doubles(asked.clone()), &batches));

        fn node(
            loader: Arc<Batched<u32, Doubles>>,
            key: u32,
            depth: u32,
        ) -> BoxFuture<'static, u32> {
            Box::pin(async move {
                for _ in 0..(key % 5) {
                    tokio::task::yield_now().await;
                }
                let value = loader.load_one(key).await.ok().flatten().expect("a value");
                if depth == 0 {
                    return value;
                }
                let children = (0..40).map(|i| node(loader.clone(), key * 100 + i, depth - 1));
                value
                    + futures_util::future::join_all(children)
                        .await
                        .iter()
                        .sum::<u32>()
            })
        }

        let total = Driven::new(node(loader, 7, 2), batches).await;
        let asked = lock(&asked).clone();
        let sizes: Vec<usize> = asked.iter().map(Vec::len).collect();
        assert_eq!(sizes, [1, 40, 1_600], "one batch per level");
        let expected: u32 = 14
            + (0..40)
                .map(|i| {
                    let child = 700 + i;
                    child * 2 + (0..40).map(|j| (child * 100 + j) * 2).sum::<u32>()
                })
                .sum::<u32>();
        assert_eq!(total, expected);
    }

    #[tokio::test]
    async fn a_batch_that_fails_fails_each_of_its_waiters() {
        struct Fails;
        impl Loader<u32> for Fails {
            type Value = u32;
            type Error = Arc<String>;
            async fn load(&self, _: &[u32]) -> Result<HashMap<u32, u32>, Self::Error> {
                Err(Arc::new("down".to_owned()))
            }
        }
        let batches = Batches::default();
        let loader = Batched::new(Fails, &batches);
        let both = Driven::new(
            async { futures_util::join!(loader.load_one(1), loader.load_many([2, 3])) },
            batches,
        )
        .await;
        assert_eq!(both.0.expect_err("failed").as_str(), "down");
        assert_eq!(both.1.expect_err("failed").as_str(), "down");
    }
}
