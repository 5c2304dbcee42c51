//! Executions of WebSocket operations, and the sharing of subscriptions.
//!
//! Each operation runs as a feed: one task drives the schema's result stream and appends
//! every result, serialized once, to the feed's log; the feed's readers (subscribers) read
//! the log at their own pace and frame each result with their own operation id.
//!
//! Subscriptions that [`super::sharing`] finds alike (the same caller and selection over
//! the same signals, whatever their operation names and cursors) share one feed, so each
//! entry is rendered once for all of them. The feed's results carry their entries'
//! cursors, and the recent ones (at most [`KEPT`], within [`RECENT`] cursors of the
//! newest) stay in the log after every reader has read them. A
//! subscriber joins at any time: from the first result after its cursor where the log
//! reaches back that far; further behind, it first replays the entries the log no
//! longer holds in an execution of its own that ends there, so it misses nothing. A
//! reader that falls more than [`BACKLOG`] results behind its feed ends with an error
//! rather than missing results; with its last cursor it resubscribes losing nothing.

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

/// Results a feed keeps after every reader has read them, at most, for subscribers that
/// join a little behind: a dispatch board reconnecting after a few signals.
pub const KEPT: usize = 64;

/// What is recent, in cursors: a new feed starts this far before the signal hub's last
/// entry at the latest (boards subscribe in any order, and the recent entries the first
/// one does not need are in the log for those that follow it from an older cursor), and
/// keeps read results only this close to its newest. A feed per caller (boards signed
/// in as different people do not share) thus keeps a few results, not [`KEPT`].
pub const RECENT: i64 = 256;

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
    /// where it starts behind what the feed's log holds; else a new feed, from `from`
    /// (from `now`, the signal hub's last entry, for `From::Now`) or [`RECENT`] cursors
    /// before `now`, whichever is earlier. Without `now` (the hub has not read where the
    /// timeline ends yet) a subscription from now runs alone.
    pub fn follow(
        self: &Arc<Self>,
        key: FeedKey,
        from: From,
        now: Option<i64>,
        start: &Start<'_>,
    ) -> Reader {
        let mut joinable = lock(&self.joinable);
        if let Some(feed) = joinable.feeds.get(&key).and_then(Weak::upgrade)
            && let Some((mut reader, behind)) = Feed::join(&feed, from, now)
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
        let floor = now.map_or(after, |now| after.min(now.saturating_sub(RECENT).max(0)));
        let cursors = YieldedCursors::default();
        let resume = Resume {
            after: floor,
            until: None,
        };
        let results = start(Some(resume), Some(cursors.clone()));
        let (feed, reader) = Feed::start(
            results,
            Some(Shared {
                feeds: Arc::downgrade(self),
                key: key.clone(),
                cursors,
            }),
            floor,
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
        Feed::start(results, None, i64::MIN, i64::MIN).1
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
    /// Every result after this cursor the feed has produced is in `outputs`: the cursor
    /// the feed started after, or that of the last output dropped.
    floor: i64,
    /// Whether the feed has ended (`Complete` or `Failed` appended): no one joins it.
    ended: bool,
}

struct Logged {
    output: Output,
    cursor: Option<i64>,
    unread: usize,
}

impl Feed {
    /// A feed of the entries after `floor`, and its first reader, from `after`.
    fn start(
        results: BoxStream<'static, Response>,
        shared: Option<Shared>,
        floor: i64,
        after: i64,
    ) -> (Arc<Self>, Reader) {
        let feed = Arc::new(Self {
            log: Mutex::new(Log {
                start: 0,
                outputs: VecDeque::new(),
                readers: 1,
                appended: 0,
                last: floor,
                floor,
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

    /// A reader from the first result after its cursor, if the log reaches back that far;
    /// else from the log's start, with the entries it must replay first (after its
    /// cursor, up to the log's floor). From now is after `now` where it is known.
    fn join(
        feed: &Arc<Self>,
        from: From,
        now: Option<i64>,
    ) -> Option<(Reader, Option<(i64, i64)>)> {
        let mut log = lock(&feed.log);
        if log.ended {
            return None;
        }
        log.readers += 1;
        let after = match from {
            From::Now => now.map_or(log.last, |now| now.max(log.last)),
            From::After(after) => after,
        };
        let (skipped, behind) = if after >= log.floor {
            let skipped = log
                .outputs
                .iter()
                .position(|logged| logged.cursor.is_some_and(|cursor| cursor > after))
                .unwrap_or(log.outputs.len());
            (skipped, None)
        } else {
            (0, Some((after, log.floor)))
        };
        for logged in log.outputs.iter_mut().skip(skipped) {
            logged.unread += 1;
        }
        let position = log.start + skipped as u64;
        let reader = Reader::new(Arc::clone(feed), position, after.max(log.floor));
        Some((reader, behind))
    }

    fn append(&self, output: Output, cursor: Option<i64>) {
        let mut log = lock(&self.log);
        if log.outputs.len() == BACKLOG {
            // The slowest readers lose their place, and learn it at their next read.
            drop_first(&mut log);
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

/// Drops the outputs every reader has read, but the recent ones: at most [`KEPT`], within
/// [`RECENT`] cursors of the newest.
fn trim(log: &mut Log) {
    let recent = log.last.saturating_sub(RECENT);
    while let Some(front) = log.outputs.front()
        && front.unread == 0
        && (log.outputs.len() > KEPT || front.cursor.is_none_or(|cursor| cursor <= recent))
    {
        drop_first(log);
    }
}

fn drop_first(log: &mut Log) {
    if let Some(logged) = log.outputs.pop_front() {
        log.start += 1;
        if let Some(cursor) = logged.cursor {
            log.floor = log.floor.max(cursor);
        }
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
        // Entries are numbered by their cursors; the hub's last entry is `r + 6`.
        let r = RECENT as i32;
        let hub = Some(i64::from(r + 6));
        let follow = |from| feeds.follow(key("s"), from, hub, &start);
        let after = |cursor: i32| From::After(i64::from(cursor));
        let mut first = follow(after(r + 5));
        assert_eq!(
            source.resumes(),
            [Some(Resume {
                after: 6,
                until: None
            })],
            "the feed starts RECENT cursors before the hub's last entry"
        );
        source.send(0, 10, 10);
        source.send(0, r + 6, i64::from(r + 6));
        assert_eq!(payload(first.next().await), n(r + 6), "10 is skipped");

        // At the feed's cursor, or from now: nothing to replay, no execution of its own.
        let mut level = follow(after(r + 6));
        let mut now = follow(From::Now);
        // Behind it, but not behind where it started: the log holds what they missed.
        let mut recent = follow(after(r + 5));
        let mut older = follow(after(8));
        // Ahead of the feed: what it has seen is skipped.
        let mut ahead = follow(after(r + 7));
        assert_eq!(source.resumes().len(), 1);
        // Behind where it started: the entries before are replayed for it alone, then it
        // reads the log.
        let mut behind = follow(after(2));
        assert_eq!(
            source.resumes()[1],
            Some(Resume {
                after: 2,
                until: Some(6)
            })
        );
        source.send(1, 3, 3);
        source.end(1);
        source.send(0, r + 7, i64::from(r + 7));
        source.send(0, r + 8, i64::from(r + 8));
        for reader in [&mut first, &mut level, &mut now] {
            assert_eq!(payload(reader.next().await), n(r + 7));
            assert_eq!(payload(reader.next().await), n(r + 8));
        }
        assert_eq!(payload(ahead.next().await), n(r + 8));
        for expected in [r + 6, r + 7, r + 8] {
            assert_eq!(payload(recent.next().await), n(expected));
        }
        for expected in [10, r + 6, r + 7, r + 8] {
            assert_eq!(payload(older.next().await), n(expected));
        }
        for expected in [3, 10, r + 6, r + 7, r + 8] {
            assert_eq!(payload(behind.next().await), n(expected));
        }
        // Another key is another execution.
        let _other = feeds.follow(key("t"), From::Now, hub, &start);
        assert_eq!(
            source.resumes()[2],
            Some(Resume {
                after: 6,
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
    async fn the_log_keeps_the_last_results_for_those_who_join_behind() {
        let feeds = Arc::new(Feeds::default());
        let source = Source::default();
        let start = |resume, cursors| source.start(resume, cursors);
        let mut first = feeds.follow(key("s"), From::After(0), None, &start);
        let total = KEPT as i32 + 10;
        for n in 1..=total {
            source.send(0, n, i64::from(n));
            assert_eq!(payload(first.next().await), self::n(n));
        }
        // The last KEPT results are there for a newcomer: no execution of its own.
        let oldest_kept = total - KEPT as i32 + 1;
        let mut kept = feeds.follow(
            key("s"),
            From::After(i64::from(oldest_kept - 1)),
            None,
            &start,
        );
        assert_eq!(source.resumes().len(), 1);
        for n in oldest_kept..=total {
            assert_eq!(payload(kept.next().await), self::n(n));
        }
        // One further behind replays only what the log no longer holds.
        let mut further = feeds.follow(key("s"), From::After(3), None, &start);
        assert_eq!(
            source.resumes()[1],
            Some(Resume {
                after: 3,
                until: Some(i64::from(oldest_kept - 1))
            })
        );
        for n in 4..oldest_kept {
            source.send(1, n, i64::from(n));
        }
        source.end(1);
        for n in 4..=total {
            assert_eq!(payload(further.next().await), self::n(n));
        }
        assert_eq!(lock(&first.feed.log).outputs.len(), KEPT);
        // Only results within RECENT cursors of the newest are kept.
        drop((kept, further));
        let newest = i64::from(total) + RECENT;
        source.send(0, 0, newest);
        assert_eq!(payload(first.next().await), self::n(0));
        let log = lock(&first.feed.log);
        let kept: Vec<_> = log.outputs.iter().map(|logged| logged.cursor).collect();
        assert_eq!(kept, [Some(newest)]);
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
