//! Delivery of timeline entries to subscribers, losing nothing. PostgreSQL is the source:
//! entries get their positions (the cursors) in commit order, after commit (by their
//! writer, or at the latest by the outbox relay before it rings the doorbell; see
//! `super::ordering`), so "everything after cursor N" is a complete, ordered
//! answer at any moment. Each replica
//! runs one [`SignalHub`]: it reads what was appended since it last looked — when poked
//! (by a local mutation, or by the Redis doorbell the relay rings for every replica) and
//! every `period` anyway — and broadcasts it to its subscribers. A subscriber replays from
//! PostgreSQL after its cursor, then follows the broadcast, skipping what it has already
//! seen; should it fall behind the broadcast, it replays again.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use futures_util::Stream;
use tokio::sync::{Notify, broadcast};

use super::records::TimelineEntry;
use crate::store::{Store, StoreError};

/// Entries a subscriber may fall behind by before it replays from PostgreSQL.
const BROADCAST_CAPACITY: usize = 4_096;
/// Entries read per query.
const PAGE: i64 = 1_000;
/// `last` before the hub has read where the timeline ends.
const UNKNOWN: i64 = -1;

/// Which entries a subscriber follows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignalFilter {
    pub event_id: Option<i64>,
    /// Entries concerning this department (summoned, reporting in, overdue, ...).
    pub department_code: Option<String>,
    /// Entries of events in this jurisdiction subtree (a code prefix).
    pub jurisdiction_prefix: Option<String>,
}

impl SignalFilter {
    fn matches(&self, entry: &TimelineEntry) -> bool {
        self.event_id.is_none_or(|id| entry.event_id == id)
            && self
                .department_code
                .as_ref()
                .is_none_or(|code| entry.department_code.as_ref() == Some(code))
            && self
                .jurisdiction_prefix
                .as_ref()
                .is_none_or(|prefix| entry.jurisdiction_code.starts_with(prefix.as_str()))
    }
}

pub struct SignalHub {
    store: Store,
    /// Every entry, for subscribers that follow more than one department's.
    sender: broadcast::Sender<Arc<TimelineEntry>>,
    /// Each department's entries, for its subscribers: an entry wakes only the
    /// subscribers that may want it.
    departments: std::sync::Mutex<HashMap<String, broadcast::Sender<Arc<TimelineEntry>>>>,
    /// The last entry broadcast.
    last: AtomicI64,
    poked: Notify,
}

impl SignalHub {
    /// A hub that, once running, broadcasts what is appended from then on.
    pub fn new(store: Store) -> Arc<Self> {
        Arc::new(Self {
            store,
            sender: broadcast::channel(BROADCAST_CAPACITY).0,
            departments: std::sync::Mutex::new(HashMap::new()),
            last: AtomicI64::new(UNKNOWN),
            poked: Notify::new(),
        })
    }

    /// Something was appended: look now rather than at the next period.
    pub fn poke(&self) {
        self.poked.notify_one();
    }

    fn departments(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, broadcast::Sender<Arc<TimelineEntry>>>> {
        self.departments.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The broadcast a subscriber with `filter` needs: its department's, or all entries.
    fn receiver(&self, filter: &SignalFilter) -> broadcast::Receiver<Arc<TimelineEntry>> {
        match &filter.department_code {
            Some(code) => self
                .departments()
                .entry(code.clone())
                .or_insert_with(|| broadcast::channel(BROADCAST_CAPACITY).0)
                .subscribe(),
            None => self.sender.subscribe(),
        }
    }

    /// Broadcasts new entries whenever poked, and every `period`; runs until dropped.
    pub async fn run(self: Arc<Self>, period: Duration) {
        if let Err(error) = self.pump().await {
            tracing::warn!(%error, "reading the timeline failed; retrying");
        }
        loop {
            tokio::select! {
                () = self.poked.notified() => {}
                () = tokio::time::sleep(period) => {}
            }
            if let Err(error) = self.pump().await {
                tracing::warn!(%error, "reading new timeline entries failed; retrying");
            }
        }
    }

    async fn pump(&self) -> Result<(), StoreError> {
        if self.last.load(Ordering::Acquire) == UNKNOWN {
            let last = self.store.last_timeline_position().await?;
            self.last.store(last, Ordering::Release);
        }
        loop {
            let after = self.last.load(Ordering::Acquire);
            let entries = self
                .store
                .timeline_after(&SignalFilter::default(), after, PAGE)
                .await?;
            let count = entries.len();
            let mut departments = self.departments();
            // Departments nobody follows any more.
            departments.retain(|_, sender| sender.receiver_count() > 0);
            for entry in entries {
                self.last
                    .store(entry.position.unwrap_or_default(), Ordering::Release);
                let entry = Arc::new(entry);
                if let Some(sender) = entry
                    .department_code
                    .as_ref()
                    .and_then(|code| departments.get(code))
                {
                    let _ = sender.send(Arc::clone(&entry));
                }
                // No subscriber is not an error.
                let _ = self.sender.send(entry);
            }
            drop(departments);
            if (count as i64) < PAGE {
                return Ok(());
            }
        }
    }

    /// The entries matching `filter` after `after` (no cursor: from now), in order, then
    /// live, for as long as the stream is polled. A store failure ends the stream with it.
    pub fn follow(
        self: &Arc<Self>,
        filter: SignalFilter,
        after: Option<i64>,
    ) -> impl Stream<Item = Result<TimelineEntry, StoreError>> + Send + use<> {
        // Subscribed before the replay: whatever is broadcast from now on is received,
        // and whatever was broadcast before is in the replay. A subscriber already at or
        // past the last entry broadcast has nothing to replay, and skips the query.
        let receiver = self.receiver(&filter);
        let broadcast = self.last.load(Ordering::Acquire);
        // From now: from the last entry broadcast, or, before the hub has read where the
        // timeline ends, from where it ends when the stream starts.
        let last = after.unwrap_or(broadcast);
        let state = Follow {
            hub: Arc::clone(self),
            receiver: Some(receiver),
            filter,
            last,
            until: None,
            buffer: VecDeque::new(),
            replay: broadcast == UNKNOWN || last < broadcast,
            failed: false,
        };
        futures_util::stream::unfold(state, Follow::next)
    }

    /// The entries matching `filter` after `after` up to `until`, in order, from
    /// PostgreSQL; then the stream ends.
    pub fn replay(
        self: &Arc<Self>,
        filter: SignalFilter,
        after: i64,
        until: i64,
    ) -> impl Stream<Item = Result<TimelineEntry, StoreError>> + Send + use<> {
        let state = Follow {
            hub: Arc::clone(self),
            receiver: None,
            filter,
            last: after,
            until: Some(until),
            buffer: VecDeque::new(),
            replay: after < until,
            failed: false,
        };
        futures_util::stream::unfold(state, Follow::next)
    }

    /// The last entry broadcast, once the hub has read where the timeline ends.
    pub fn position(&self) -> Option<i64> {
        Some(self.last.load(Ordering::Acquire)).filter(|last| *last != UNKNOWN)
    }
}

struct Follow {
    hub: Arc<SignalHub>,
    /// The live entries; none for a replay that ends.
    receiver: Option<broadcast::Receiver<Arc<TimelineEntry>>>,
    filter: SignalFilter,
    last: i64,
    /// Where a replay that ends stops.
    until: Option<i64>,
    buffer: VecDeque<TimelineEntry>,
    replay: bool,
    failed: bool,
}

impl Follow {
    async fn next(mut self) -> Option<(Result<TimelineEntry, StoreError>, Self)> {
        if self.failed {
            return None;
        }
        loop {
            if let Some(entry) = self.buffer.pop_front() {
                self.last = entry.position.unwrap_or_default();
                return Some((Ok(entry), self));
            }
            if self.last == UNKNOWN {
                match self.hub.store.last_timeline_position().await {
                    Ok(last) => self.last = last,
                    Err(error) => {
                        self.failed = true;
                        return Some((Err(error), self));
                    }
                }
            }
            if self.replay {
                // Boxed: an idle subscriber's state then holds a pointer, not the query.
                let replay = Box::pin(self.hub.store.timeline_after(&self.filter, self.last, PAGE));
                match replay.await {
                    Ok(entries) => {
                        let until = self.until.unwrap_or(i64::MAX);
                        let before = self.buffer.len();
                        self.buffer.extend(
                            entries
                                .into_iter()
                                .filter(|entry| entry.position.unwrap_or_default() <= until),
                        );
                        // A full page, none of it past `until`: there may be more.
                        self.replay = self.buffer.len() - before == PAGE as usize;
                        continue;
                    }
                    Err(error) => {
                        self.failed = true;
                        return Some((Err(error), self));
                    }
                }
            }
            // A replay that ends has no live entries to wait for.
            match self.receiver.as_mut()?.recv().await {
                Ok(entry) => {
                    if entry.position.unwrap_or_default() > self.last && self.filter.matches(&entry)
                    {
                        self.buffer.push_back((*entry).clone());
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => self.replay = true,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}
