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
    joinable: Mutex<Joinable>,
}

#[derive(Default)]
struct Joinable {
    feeds: HashMap<FeedKey, Weak<Feed>>,
    /// The size at which entries of feeds that ended before producing anything (all
    /// their subscribers left) are swept out: twice the size after the last sweep.
    sweep_at: usize,
}

/// The smallest `sweep_at`.
const SWEEP_FLOOR: usize = 64;

impl Feeds {
    /// A reader of `key`'s feed: an existing one that has produced nothing yet, else a new
    /// feed running `start()`.
    pub fn subscribe(
        self: &Arc<Self>,
        key: FeedKey,
        start: impl FnOnce() -> BoxStream<'static, Response>,
    ) -> Reader {
        let mut joinable = lock(&self.joinable);
        if let Some(feed) = joinable.feeds.get(&key).and_then(Weak::upgrade)
            && let Some(reader) = Feed::join(&feed)
        {
            return reader;
        }
        let (feed, reader) = Feed::start(start(), Some((Arc::downgrade(self), key.clone())));
        joinable.feeds.insert(key, Arc::downgrade(&feed));
        if joinable.feeds.len() > joinable.sweep_at {
            joinable.feeds.retain(|_, feed| feed.strong_count() > 0);
            joinable.sweep_at = (2 * joinable.feeds.len()).max(SWEEP_FLOOR);
        }
        reader
    }

    /// A reader of a feed of its own, never shared (queries and mutations).
    pub fn unshared(results: BoxStream<'static, Response>) -> Reader {
        Feed::start(results, None).1
    }

    fn forget(&self, key: &FeedKey, feed: &Weak<Feed>) {
        let mut joinable = lock(&self.joinable);
        if joinable
            .feeds
            .get(key)
            .is_some_and(|open| open.ptr_eq(feed))
        {
            joinable.feeds.remove(key);
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_graphql::{Name, Value};
    use tokio::sync::mpsc;

    use super::*;

    fn key(query: &str) -> FeedKey {
        FeedKey {
            caller: schema::workflow::Actor::anonymous(),
            query: query.to_owned(),
            operation_name: None,
            variables: String::new(),
        }
    }

    fn result(n: i32) -> Response {
        Response::new(Value::Object(
            [(Name::new("n"), Value::from(n))].into_iter().collect(),
        ))
    }

    /// A result stream fed by hand, and how many times one was started.
    fn source(
        started: &Arc<AtomicUsize>,
    ) -> (
        mpsc::UnboundedSender<Response>,
        impl FnOnce() -> BoxStream<'static, Response>,
    ) {
        let (sender, receiver) = mpsc::unbounded_channel::<Response>();
        let started = Arc::clone(started);
        let start = move || {
            started.fetch_add(1, Ordering::SeqCst);
            futures_util::stream::unfold(receiver, |mut receiver| async move {
                receiver.recv().await.map(|response| (response, receiver))
            })
            .boxed()
        };
        (sender, start)
    }

    fn payload(read: Option<Read>) -> String {
        match read {
            Some(Read::Output(Output::Next(payload))) => payload.to_string(),
            other => format!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn identical_subscribers_share_until_the_first_result() {
        let feeds = Arc::new(Feeds::default());
        let started = Arc::new(AtomicUsize::new(0));
        let (sender, start) = source(&started);
        let mut first = feeds.subscribe(key("s"), start);
        let (_, unused) = source(&started);
        let mut second = feeds.subscribe(key("s"), unused);
        assert_eq!(
            started.load(Ordering::SeqCst),
            1,
            "the second joined the first"
        );

        let _ = sender.send(result(1));
        let expected = r#"{"data":{"n":1}}"#;
        assert_eq!(payload(first.next().await), expected);
        assert_eq!(payload(second.next().await), expected);

        // The feed has produced: a newcomer would miss that, so it starts its own.
        let (_, own) = source(&started);
        let _late = feeds.subscribe(key("s"), own);
        assert_eq!(started.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_reader_too_far_behind_is_told_so_and_the_others_go_on() {
        let feeds = Arc::new(Feeds::default());
        let started = Arc::new(AtomicUsize::new(0));
        let (sender, start) = source(&started);
        let mut slow = feeds.subscribe(key("s"), start);
        let (_, unused) = source(&started);
        let mut keeping_up = feeds.subscribe(key("s"), unused);
        for n in 0..=BACKLOG as i32 {
            let _ = sender.send(result(n));
            assert!(matches!(
                keeping_up.next().await,
                Some(Read::Output(Output::Next(_)))
            ));
        }
        assert!(matches!(slow.next().await, Some(Read::Lagged)));
        drop(slow);
        let _ = sender.send(result(-1));
        assert_eq!(payload(keeping_up.next().await), r#"{"data":{"n":-1}}"#);
        drop(sender);
        assert!(matches!(
            keeping_up.next().await,
            Some(Read::Output(Output::Complete))
        ));
    }

    #[tokio::test]
    async fn feeds_left_before_producing_anything_are_swept() {
        let feeds = Arc::new(Feeds::default());
        let started = Arc::new(AtomicUsize::new(0));
        for n in 0..10 * SWEEP_FLOOR {
            let (_sender, start) = source(&started);
            drop(feeds.subscribe(key(&format!("s{n}")), start));
        }
        assert!(lock(&feeds.joinable).feeds.len() <= 2 * SWEEP_FLOOR);
    }
}
