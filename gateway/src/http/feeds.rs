//! Executions of WebSocket operations, and the sharing of identical subscriptions.
//!
//! Each operation runs as a feed: one task drives the schema's result stream and appends
//! every result, serialized once, to the feed's log; the feed's readers (subscribers) read
//! the log at their own pace and frame each result with their own operation id.
//!
//! Identical subscriptions (same document, operation name and variables, same caller)
//! resolve the same fields over the same entries into the same bytes, so they share one
//! feed (as Apollo Router deduplicates subscriptions). A subscriber joins an existing feed
//! only while that feed has produced nothing yet: a later one would have missed what was
//! already sent, so it gets a feed of its own. A reader that falls more than
//! [`BACKLOG`] results behind its feed ends with an error rather than missing results;
//! with its last cursor it resubscribes losing nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

use async_graphql::Response;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

use schema::workflow::Actor;

/// Results a reader may fall behind its feed by.
pub const BACKLOG: usize = 1_024;

/// What makes two subscriptions identical.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FeedKey {
    pub caller: Actor,
    pub query: String,
    pub operation_name: Option<String>,
    /// The variables as JSON text.
    pub variables: String,
}

/// One thing a feed produces, serialized.
#[derive(Debug, Clone)]
pub enum Output {
    /// A result: the `payload` of a `next` message.
    Next(Arc<str>),
    /// The operation failed before producing a result: the `payload` of an `error`.
    Failed(Arc<str>),
    /// The operation ended.
    Complete,
}

/// What a reader gets from its feed.
#[derive(Debug, Clone)]
pub enum Read {
    Output(Output),
    /// The reader fell too far behind; the feed goes on without it.
    Lagged,
}

/// The feeds open for joining, by key.
#[derive(Default)]
pub struct Feeds {
    joinable: Mutex<HashMap<FeedKey, Weak<Feed>>>,
}

impl Feeds {
    /// A reader of `key`'s feed: an existing one that has produced nothing yet, else a new
    /// feed running `start()`.
    pub fn subscribe(
        self: &Arc<Self>,
        key: FeedKey,
        start: impl FnOnce() -> BoxStream<'static, Response>,
    ) -> Reader {
        let mut joinable = lock(&self.joinable);
        if let Some(feed) = joinable.get(&key).and_then(Weak::upgrade)
            && let Some(reader) = Feed::join(&feed)
        {
            return reader;
        }
        let (feed, reader) = Feed::start(start(), Some((Arc::downgrade(self), key.clone())));
        joinable.insert(key, Arc::downgrade(&feed));
        reader
    }

    /// A reader of a feed of its own, never shared (queries and mutations).
    pub fn unshared(results: BoxStream<'static, Response>) -> Reader {
        Feed::start(results, None).1
    }

    fn forget(&self, key: &FeedKey, feed: &Weak<Feed>) {
        let mut joinable = lock(&self.joinable);
        if joinable.get(key).is_some_and(|open| open.ptr_eq(feed)) {
            joinable.remove(key);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub struct Feed {
    log: Mutex<Log>,
    appended: Notify,
    task: OnceLock<AbortHandle>,
}

/// The outputs not yet read by every reader, each with how many readers still need it.
struct Log {
    /// The sequence number of `outputs[0]`.
    start: u64,
    outputs: VecDeque<(Output, usize)>,
    readers: usize,
    /// Outputs appended so far; readers join only while it is 0.
    appended: u64,
}

impl Feed {
    fn start(
        results: BoxStream<'static, Response>,
        joinable: Option<(Weak<Feeds>, FeedKey)>,
    ) -> (Arc<Self>, Reader) {
        let feed = Arc::new(Self {
            log: Mutex::new(Log {
                start: 0,
                outputs: VecDeque::new(),
                readers: 1,
                appended: 0,
            }),
            appended: Notify::new(),
            task: OnceLock::new(),
        });
        let task = tokio::spawn(drive(Arc::downgrade(&feed), results, joinable));
        let _ = feed.task.set(task.abort_handle());
        let reader = Reader {
            feed: Arc::clone(&feed),
            position: 0,
        };
        (feed, reader)
    }

    fn join(feed: &Arc<Self>) -> Option<Reader> {
        let mut log = lock(&feed.log);
        if log.appended > 0 {
            return None;
        }
        log.readers += 1;
        Some(Reader {
            feed: Arc::clone(feed),
            position: 0,
        })
    }

    fn append(&self, output: Output) {
        let mut log = lock(&self.log);
        if log.outputs.len() == BACKLOG {
            // The slowest readers lose their place, and learn it at their next read.
            log.outputs.pop_front();
            log.start += 1;
        }
        let readers = log.readers;
        log.outputs.push_back((output, readers));
        log.appended += 1;
        drop(log);
        self.appended.notify_waiters();
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        if let Some(task) = self.task.get() {
            task.abort();
        }
    }
}

/// Runs the operation, appending its results to the feed until the feed has no reader.
async fn drive(
    feed: Weak<Feed>,
    mut results: BoxStream<'static, Response>,
    joinable: Option<(Weak<Feeds>, FeedKey)>,
) {
    let mut first = true;
    while let Some(response) = results.next().await {
        let Some(feed) = feed.upgrade() else { return };
        if first {
            first = false;
            close_joining(&joinable, &Arc::downgrade(&feed));
            if response.data == async_graphql::Value::Null && !response.errors.is_empty() {
                feed.append(Output::Failed(serialized(&response.errors)));
                return;
            }
        }
        feed.append(Output::Next(serialized(&response)));
    }
    if let Some(feed) = feed.upgrade() {
        close_joining(&joinable, &Arc::downgrade(&feed));
        feed.append(Output::Complete);
    }
}

/// Once a feed has produced something, newcomers would miss it: they start their own.
fn close_joining(joinable: &Option<(Weak<Feeds>, FeedKey)>, feed: &Weak<Feed>) {
    if let Some((feeds, key)) = joinable
        && let Some(feeds) = feeds.upgrade()
    {
        feeds.forget(key, feed);
    }
}

fn serialized<T: serde::Serialize + ?Sized>(value: &T) -> Arc<str> {
    serde_json::to_string(value)
        .unwrap_or_else(|error| {
            serde_json::json!([{ "message": format!("the result could not be serialized: {error}") }])
                .to_string()
        })
        .into()
}

/// One subscriber's place in a feed.
pub struct Reader {
    feed: Arc<Feed>,
    position: u64,
}

impl Reader {
    /// The next output, waiting for it; `None` if the feed's task died without ending.
    pub async fn next(&mut self) -> Option<Read> {
        let Self { feed, position } = self;
        loop {
            let appended = feed.appended.notified();
            tokio::pin!(appended);
            appended.as_mut().enable();
            if let Some(read) = take(feed, position) {
                return Some(read);
            }
            if feed.task.get().is_some_and(AbortHandle::is_finished) {
                return None;
            }
            appended.await;
        }
    }

    /// The reader's outputs as a stream, ending after `Complete`, `Failed` or `Lagged`.
    pub fn into_stream(self) -> impl Stream<Item = Read> + Send + 'static {
        futures_util::stream::unfold(Some(self), |reader| async move {
            let mut reader = reader?;
            let read = reader.next().await?;
            let last = !matches!(read, Read::Output(Output::Next(_)));
            Some((read, (!last).then_some(reader)))
        })
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let mut log = lock(&self.feed.log);
        log.readers -= 1;
        let from = usize::try_from(self.position.saturating_sub(log.start)).unwrap_or(usize::MAX);
        for (_, unread) in log.outputs.iter_mut().skip(from) {
            *unread = unread.saturating_sub(1);
        }
        trim(&mut log);
    }
}

/// The output at `position`, moving past it.
fn take(feed: &Feed, position: &mut u64) -> Option<Read> {
    let mut log = lock(&feed.log);
    if *position < log.start {
        return Some(Read::Lagged);
    }
    let index = usize::try_from(*position - log.start).ok()?;
    let (output, unread) = log.outputs.get_mut(index)?;
    let output = output.clone();
    *unread = unread.saturating_sub(1);
    *position += 1;
    trim(&mut log);
    Some(Read::Output(output))
}

/// Drops the outputs every reader has read.
fn trim(log: &mut Log) {
    while log.outputs.front().is_some_and(|(_, unread)| *unread == 0) {
        log.outputs.pop_front();
        log.start += 1;
    }
}
