//! Executions of WebSocket operations, and the sharing of subscriptions.
//!
//! Each operation runs as a feed: one task drives the schema's result stream and appends
//! every result, serialized once, to the feed's log; the feed's readers (subscribers) read
//! the log at their own pace and frame each result with their own operation id.
//!
//! Subscriptions that [`super::sharing`] finds alike (the same caller and selection over
//! the same signals, whatever their operation names and cursors) share one feed, so each
//! entry is rendered once for all of them. The feed's results carry their entries'
//! cursors: a subscriber joins at any time, at the end of the log, and skips what is at
//! or before its own cursor; one whose cursor lies behind the feed's last entry first
//! replays the entries in between in an execution of its own that ends there, so it
//! misses nothing. A reader that falls more than [`BACKLOG`] results behind its feed
//! ends with an error rather than missing results; with its last cursor it resubscribes
//! losing nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

use async_graphql::Response;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use schema::graphql::{Resume, YieldedCursors};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

use schema::workflow::Actor;

/// Results a reader may fall behind its feed by.
pub const BACKLOG: usize = 1_024;

/// What makes two subscriptions share a feed: see [`super::sharing`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FeedKey {
    pub caller: Actor,
    /// The operation as it bears on results, printed in one way.
    pub selection: String,
    /// The variables (but the cursor's) as JSON text.
    pub variables: String,
}

/// Where a subscriber starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    /// With what comes next.
    Now,
    /// After this cursor.
    After(i64),
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

impl Output {
    /// A response serialized: `Failed` if it is the first and holds only errors.
    fn of(response: &Response, first: bool) -> Self {
        if first && response.data == async_graphql::Value::Null && !response.errors.is_empty() {
            Self::Failed(serialized(&response.errors))
        } else {
            Self::Next(serialized(response))
        }
    }
}

/// What a reader gets from its feed.
#[derive(Debug, Clone)]
pub enum Read {
    Output(Output),
    /// The reader fell too far behind; the feed goes on without it.
    Lagged,
}

/// Starts an execution of a subscription: from where it resumes (`None`: from its own
/// arguments), telling the cursor of each result to the cursors given.
pub type Start<'a> =
    dyn Fn(Option<Resume>, Option<YieldedCursors>) -> BoxStream<'static, Response> + 'a;

/// The shared feeds running, by key.
#[derive(Default)]
pub struct Feeds {
    joinable: Mutex<Joinable>,
}

#[derive(Default)]
struct Joinable {
    feeds: HashMap<FeedKey, Weak<Feed>>,
    /// The size at which entries of feeds that ended (all their subscribers left) are
    /// swept out: twice the size after the last sweep.
    sweep_at: usize,
}

/// The smallest `sweep_at`.
const SWEEP_FLOOR: usize = 64;

impl Feeds {
    /// A reader of `key`'s feed from `from`: an existing one, after a replay of its own
    /// where it starts behind the feed; else a new feed, from `from` (from `now`, the
    /// signal hub's last entry, for `From::Now`). Without `now` (the hub has not read
    /// where the timeline ends yet) a subscription from now runs alone.
    pub fn follow(
        self: &Arc<Self>,
        key: FeedKey,
        from: From,
        now: Option<i64>,
        start: &Start<'_>,
    ) -> Reader {
        let mut joinable = lock(&self.joinable);
        if let Some(feed) = joinable.feeds.get(&key).and_then(Weak::upgrade)
            && let Some((mut reader, behind)) = Feed::join(&feed, from)
        {
            drop(joinable);
            if let Some((after, until)) = behind {
                let resume = Resume {
                    after,
                    until: Some(until),
                };
                reader.replay = Some(start(Some(resume), None));
            }
            return reader;
        }
        let after = match (from, now) {
            (From::After(after), _) | (From::Now, Some(after)) => after,
            (From::Now, None) => return Self::unshared(start(None, None)),
        };
        let cursors = YieldedCursors::default();
        let resume = Resume { after, until: None };
        let results = start(Some(resume), Some(cursors.clone()));
        let (feed, reader) = Feed::start(
            results,
            Some(Shared {
                feeds: Arc::downgrade(self),
                key: key.clone(),
                cursors,
            }),
            after,
        );
        joinable.feeds.insert(key, Arc::downgrade(&feed));
        if joinable.feeds.len() > joinable.sweep_at {
            joinable.feeds.retain(|_, feed| feed.strong_count() > 0);
            joinable.sweep_at = (2 * joinable.feeds.len()).max(SWEEP_FLOOR);
        }
        reader
    }

    /// A reader of a feed of its own, never shared.
    pub fn unshared(results: BoxStream<'static, Response>) -> Reader {
        Feed::start(results, None, i64::MIN).1
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

/// A shared feed's place among the feeds, and the cursors of its results.
struct Shared {
    feeds: Weak<Feeds>,
    key: FeedKey,
    cursors: YieldedCursors,
}

/// The outputs not yet read by every reader, each with its entry's cursor and how many
/// readers still need it.
struct Log {
    /// The sequence number of `outputs[0]`.
    start: u64,
    outputs: VecDeque<Logged>,
    readers: usize,
    /// Outputs appended so far: the sequence number of the next.
    appended: u64,
    /// The cursor of the last result appended, or the one the feed started after.
    last: i64,
    /// Whether the feed has ended (`Complete` or `Failed` appended): no one joins it.
    ended: bool,
}

struct Logged {
    output: Output,
    cursor: Option<i64>,
    unread: usize,
}

impl Feed {
    fn start(
        results: BoxStream<'static, Response>,
        shared: Option<Shared>,
        after: i64,
    ) -> (Arc<Self>, Reader) {
        let feed = Arc::new(Self {
            log: Mutex::new(Log {
                start: 0,
                outputs: VecDeque::new(),
                readers: 1,
                appended: 0,
                last: after,
                ended: false,
            }),
            appended: Notify::new(),
            task: OnceLock::new(),
        });
        let task = tokio::spawn(drive(Arc::downgrade(&feed), results, shared));
        let _ = feed.task.set(task.abort_handle());
        let reader = Reader::new(Arc::clone(&feed), 0, after);
        (feed, reader)
    }

    /// A reader at the end of the log, skipping what is at or before its cursor; and the
    /// entries it must replay first (after its cursor, up to the feed's last), if any.
    fn join(feed: &Arc<Self>, from: From) -> Option<(Reader, Option<(i64, i64)>)> {
        let mut log = lock(&feed.log);
        if log.ended {
            return None;
        }
        log.readers += 1;
        let after = match from {
            From::Now => log.last,
            From::After(after) => after,
        };
        let behind = (after < log.last).then_some((after, log.last));
        let reader = Reader::new(Arc::clone(feed), log.appended, after.max(log.last));
        Some((reader, behind))
    }

    fn append(&self, output: Output, cursor: Option<i64>) {
        let mut log = lock(&self.log);
        if log.outputs.len() == BACKLOG {
            // The slowest readers lose their place, and learn it at their next read.
            log.outputs.pop_front();
            log.start += 1;
        }
        if let Some(cursor) = cursor {
            log.last = log.last.max(cursor);
        }
        log.ended |= !matches!(output, Output::Next(_));
        let unread = log.readers;
        log.outputs.push_back(Logged {
            output,
            cursor,
            unread,
        });
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
    shared: Option<Shared>,
) {
    let mut first = true;
    while let Some(response) = results.next().await {
        let Some(feed) = feed.upgrade() else { return };
        let cursor = shared
            .as_ref()
            .and_then(|shared| shared.cursors.take())
            .flatten();
        let output = Output::of(&response, first);
        first = false;
        let failed = matches!(output, Output::Failed(_));
        if failed {
            forget(&shared, &feed);
        }
        feed.append(output, cursor);
        if failed {
            return;
        }
    }
    if let Some(feed) = feed.upgrade() {
        forget(&shared, &feed);
        feed.append(Output::Complete, None);
    }
}

/// A feed that ended is no longer joined.
fn forget(shared: &Option<Shared>, feed: &Arc<Feed>) {
    if let Some(shared) = shared
        && let Some(feeds) = shared.feeds.upgrade()
    {
        feeds.forget(&shared.key, &Arc::downgrade(feed));
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

/// One subscriber's place in a feed, after the replay of its own it runs first, if any.
pub struct Reader {
    feed: Arc<Feed>,
    position: u64,
    /// Results at or before this cursor are skipped.
    after: i64,
    /// The entries between the subscriber's cursor and the feed's, rendered for it alone.
    replay: Option<BoxStream<'static, Response>>,
    /// Whether the replay has produced a result.
    replayed: bool,
    /// The replay failed: the subscription ends after telling so.
    ending: bool,
}

impl Reader {
    fn new(feed: Arc<Feed>, position: u64, after: i64) -> Self {
        Self {
            feed,
            position,
            after,
            replay: None,
            replayed: false,
            ending: false,
        }
    }

    /// The next output, waiting for it; `None` if the feed's task died without ending.
    pub async fn next(&mut self) -> Option<Read> {
        if self.ending {
            return Some(Read::Output(Output::Complete));
        }
        if let Some(replay) = &mut self.replay {
            if let Some(response) = replay.next().await {
                let output = Output::of(&response, !self.replayed);
                self.replayed = true;
                // A result with errors ended the replay early: going on would skip entries.
                self.ending = !response.errors.is_empty();
                return Some(Read::Output(output));
            }
            self.replay = None;
        }
        let Self {
            feed,
            position,
            after,
            ..
        } = self;
        loop {
            let appended = feed.appended.notified();
            tokio::pin!(appended);
            appended.as_mut().enable();
            if let Some(read) = take(feed, position, *after) {
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
        for logged in log.outputs.iter_mut().skip(from) {
            logged.unread = logged.unread.saturating_sub(1);
        }
        trim(&mut log);
    }
}

/// The next output at or after `position` for a reader past `after`, moving past it.
fn take(feed: &Feed, position: &mut u64, after: i64) -> Option<Read> {
    let mut log = lock(&feed.log);
    if *position < log.start {
        return Some(Read::Lagged);
    }
    let read = loop {
        let index = usize::try_from(*position - log.start).unwrap_or(usize::MAX);
        let Some(logged) = log.outputs.get_mut(index) else {
            break None;
        };
        logged.unread = logged.unread.saturating_sub(1);
        *position += 1;
        if logged.cursor.is_none_or(|cursor| cursor > after) {
            break Some(Read::Output(logged.output.clone()));
        }
    };
    trim(&mut log);
    read
}

/// Drops the outputs every reader has read.
fn trim(log: &mut Log) {
    while log.outputs.front().is_some_and(|logged| logged.unread == 0) {
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

    fn key(selection: &str) -> FeedKey {
        FeedKey {
            caller: schema::workflow::Actor::anonymous(),
            selection: selection.to_owned(),
            variables: String::new(),
        }
    }

    fn result(n: i32) -> Response {
        Response::new(Value::Object(
            [(Name::new("n"), Value::from(n))].into_iter().collect(),
        ))
    }

    /// Executions started by hand: each start is recorded with its `Resume`, and its
    /// results are sent with their cursors through the sender it hands out.
    #[derive(Default)]
    struct Source {
        started: Mutex<Vec<(Option<Resume>, Results)>>,
    }

    /// Where an execution's results (a number, and its entry's cursor) are sent.
    type Results = mpsc::UnboundedSender<(i32, Option<i64>)>;

    impl Source {
        fn start(
            &self,
            resume: Option<Resume>,
            cursors: Option<YieldedCursors>,
        ) -> BoxStream<'static, Response> {
            let (sender, receiver) = mpsc::unbounded_channel::<(i32, Option<i64>)>();
            lock(&self.started).push((resume, sender));
            futures_util::stream::unfold(receiver, move |mut receiver| {
                let cursors = cursors.clone();
                async move {
                    let (n, cursor) = receiver.recv().await?;
                    if let Some(cursors) = &cursors {
                        cursors.push(cursor);
                    }
                    Some((result(n), receiver))
                }
            })
            .boxed()
        }

        fn resumes(&self) -> Vec<Option<Resume>> {
            lock(&self.started)
                .iter()
                .map(|(resume, _)| *resume)
                .collect()
        }

        /// Sends result `n` for the entry at `cursor` through execution `which`.
        fn send(&self, which: usize, n: i32, cursor: i64) {
            let _ = lock(&self.started)[which].1.send((n, Some(cursor)));
        }

        fn end(&self, which: usize) {
            let (closed, _) = mpsc::unbounded_channel();
            lock(&self.started)[which].1 = closed;
        }
    }

    fn payload(read: Option<Read>) -> String {
        match read {
            Some(Read::Output(Output::Next(payload))) => payload.to_string(),
            other => format!("{other:?}"),
        }
    }

    fn n(value: i32) -> String {
        format!(r#"{{"data":{{"n":{value}}}}}"#)
    }

    #[tokio::test]
    async fn subscribers_alike_share_one_execution_each_from_its_own_cursor() {
        let feeds = Arc::new(Feeds::default());
        let source = Source::default();
        let start = |resume, cursors| source.start(resume, cursors);
        let mut first = feeds.follow(key("s"), From::After(5), Some(9), &start);
        assert_eq!(
            source.resumes(),
            [Some(Resume {
                after: 5,
                until: None
            })],
            "the feed starts at its first subscriber's cursor"
        );
        source.send(0, 6, 6);
        assert_eq!(payload(first.next().await), n(6));

        // At the feed's cursor, or from now: nothing to replay, no execution of its own.
        let mut level = feeds.follow(key("s"), From::After(6), Some(9), &start);
        let mut now = feeds.follow(key("s"), From::Now, Some(9), &start);
        // Ahead of the feed: what it has seen is skipped.
        let mut ahead = feeds.follow(key("s"), From::After(7), Some(9), &start);
        assert_eq!(source.resumes().len(), 1);
        // Behind it: the entries in between are replayed for it alone, then it follows.
        let mut behind = feeds.follow(key("s"), From::After(2), Some(9), &start);
        assert_eq!(
            source.resumes()[1],
            Some(Resume {
                after: 2,
                until: Some(6)
            })
        );
        source.send(1, 3, 3);
        source.send(1, 6, 6);
        source.end(1);
        source.send(0, 7, 7);
        source.send(0, 8, 8);
        for reader in [&mut first, &mut level, &mut now] {
            assert_eq!(payload(reader.next().await), n(7));
            assert_eq!(payload(reader.next().await), n(8));
        }
        assert_eq!(payload(ahead.next().await), n(8));
        for expected in [3, 6, 7, 8] {
            assert_eq!(payload(behind.next().await), n(expected));
        }
        // Another key is another execution.
        let _other = feeds.follow(key("t"), From::Now, Some(9), &start);
        assert_eq!(
            source.resumes()[2],
            Some(Resume {
                after: 9,
                until: None
            })
        );
        assert_eq!(source.resumes().len(), 3);
    }

    #[tokio::test]
    async fn a_replay_that_fails_ends_the_subscription_rather_than_skip_entries() {
        let feeds = Arc::new(Feeds::default());
        let failing = |resume: Option<Resume>, _| match resume {
            Some(Resume { until: Some(_), .. }) => futures_util::stream::iter([
                result(3),
                Response::from_errors(vec![async_graphql::ServerError::new("gone", None)]),
            ])
            .boxed(),
            _ => futures_util::stream::iter([result(9)])
                .chain(futures_util::stream::pending())
                .boxed(),
        };
        let mut first = feeds.follow(key("s"), From::After(8), None, &failing);
        assert_eq!(payload(first.next().await), n(9));
        // The feed's result carried no cursor here; a reader behind its start replays.
        let reader = feeds.follow(key("s"), From::After(1), None, &failing);
        let reads: Vec<_> = reader
            .into_stream()
            .map(|read| format!("{read:?}"))
            .collect()
            .await;
        assert_eq!(reads.len(), 3, "{reads:?}");
        assert!(reads[0].contains(r#"{\"n\":3}"#), "{reads:?}");
        assert!(reads[1].contains("gone"), "{reads:?}");
        assert!(reads[2].contains("Complete"), "{reads:?}");
    }

    #[tokio::test]
    async fn from_now_before_the_hub_knows_where_the_timeline_ends_runs_alone() {
        let feeds = Arc::new(Feeds::default());
        let source = Source::default();
        let start = |resume, cursors| source.start(resume, cursors);
        let _one = feeds.follow(key("s"), From::Now, None, &start);
        let _two = feeds.follow(key("s"), From::Now, None, &start);
        assert_eq!(source.resumes(), [None, None]);
    }

    #[tokio::test]
    async fn a_reader_too_far_behind_is_told_so_and_the_others_go_on() {
        let feeds = Arc::new(Feeds::default());
        let source = Source::default();
        let start = |resume, cursors| source.start(resume, cursors);
        let mut slow = feeds.follow(key("s"), From::After(0), None, &start);
        let mut keeping_up = feeds.follow(key("s"), From::After(0), None, &start);
        for n in 1..=BACKLOG as i32 + 1 {
            source.send(0, n, i64::from(n));
            assert!(matches!(
                keeping_up.next().await,
                Some(Read::Output(Output::Next(_)))
            ));
        }
        assert!(matches!(slow.next().await, Some(Read::Lagged)));
        drop(slow);
        source.send(0, -1, 10_000);
        assert_eq!(payload(keeping_up.next().await), n(-1));
        source.end(0);
        assert!(matches!(
            keeping_up.next().await,
            Some(Read::Output(Output::Complete))
        ));
        // An ended feed is not joined: a newcomer starts its own.
        let _late = feeds.follow(key("s"), From::After(0), None, &start);
        assert_eq!(source.resumes().len(), 2);
    }

    #[tokio::test]
    async fn feeds_left_are_swept() {
        let feeds = Arc::new(Feeds::default());
        let started = AtomicUsize::new(0);
        let start = |_, _| {
            started.fetch_add(1, Ordering::SeqCst);
            futures_util::stream::pending().boxed()
        };
        for n in 0..10 * SWEEP_FLOOR {
            drop(feeds.follow(key(&format!("s{n}")), From::After(0), None, &start));
        }
        assert_eq!(started.load(Ordering::SeqCst), 10 * SWEEP_FLOOR);
        assert!(lock(&feeds.joinable).feeds.len() <= 2 * SWEEP_FLOOR);
    }
}
