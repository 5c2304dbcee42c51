//! Live signals of the workflow: a department's or a jurisdiction's dispatch signals, and
//! one event's timeline. Each starts after the cursor given (replaying what was missed
//! from PostgreSQL), then follows live, in order, with no gaps and no duplicates. Also
//! the query for the latest signals, which a board opens with before it follows.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_graphql::{Context, ErrorExtensions, ID, Result, Subscription};
use futures_util::{Stream, StreamExt};

use super::ids::{NodeType, decode_numeric};
use super::resolve::{self, store_error};
use crate::error::{ApiError, ErrorCode};
use crate::workflow::{SignalFilter, SignalHub, TimelineEntry};

pub struct SubscriptionRoot;

fn hub<'a>(ctx: &Context<'a>) -> Result<&'a Arc<SignalHub>> {
    ctx.data::<Arc<SignalHub>>().map_err(|_| {
        ApiError::new(ErrorCode::Internal, "subscriptions are not served here").extend()
    })
}

/// A timeline cursor as `after` takes it: a non-negative integer.
pub fn timeline_cursor(text: &str) -> Option<i64> {
    text.parse::<i64>().ok().filter(|cursor| *cursor >= 0)
}

fn cursor(after: Option<ID>) -> Result<Option<i64>> {
    after
        .map(|cursor| {
            timeline_cursor(&cursor)
                .ok_or_else(|| ApiError::bad_input("`after` is not a timeline cursor").into())
        })
        .transpose()
}

/// Where an execution of a signals subscription starts instead of its `after`, set by a
/// server that shares one execution among subscribers of the same selection: after
/// `after`, live; or, with `until`, only the entries up to it, then the stream ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    pub after: i64,
    pub until: Option<i64>,
}

/// The cursor of each entry a signals subscription yields, in order (`None` for a
/// failure), for a server that shares its results to tell which subscribers have seen
/// which: one per result.
#[derive(Debug, Clone, Default)]
pub struct YieldedCursors(Arc<Mutex<VecDeque<Option<i64>>>>);

impl YieldedCursors {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Option<i64>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records the cursor of the next result.
    pub fn push(&self, cursor: Option<i64>) {
        self.lock().push_back(cursor);
    }

    /// The cursor of the oldest result not yet taken.
    pub fn take(&self) -> Option<Option<i64>> {
        self.lock().pop_front()
    }
}

fn entries(
    ctx: &Context<'_>,
    hub: &Arc<SignalHub>,
    filter: SignalFilter,
    after: Option<i64>,
) -> impl Stream<Item = Result<TimelineEntry>> + use<> {
    let entries = match ctx.data_opt::<Resume>() {
        Some(Resume {
            after,
            until: Some(until),
        }) => hub.replay(filter, *after, *until).left_stream(),
        Some(Resume { after, until: None }) => hub.follow(filter, Some(*after)).right_stream(),
        None => hub.follow(filter, after).right_stream(),
    };
    let cursors = ctx.data_opt::<YieldedCursors>().cloned();
    entries.map(move |entry| {
        if let Some(cursors) = &cursors {
            let cursor = entry.as_ref().ok().and_then(|entry| entry.position);
            cursors.push(cursor);
        }
        entry.map_err(store_error)
    })
}

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// 吹哨/报到 signals: the entries concerning a department (whistles summoning it, its
    /// report-ins, overdue and supervision notices), or every entry of events in a
    /// jurisdiction subtree; both given, the entries meeting both. Always within the
    /// caller's jurisdiction (FORBIDDEN for a subtree outside it). `after`: the last
    /// cursor seen, to resume losing nothing; omitted, the signals start from now
    /// (`after: "0"` replays the whole timeline).
    async fn dispatch_signals(
        &self,
        ctx: &Context<'_>,
        department_code: Option<String>,
        jurisdiction_code: Option<String>,
        after: Option<ID>,
    ) -> Result<impl Stream<Item = Result<TimelineEntry>> + use<>> {
        let filter = signal_filter(ctx, department_code, jurisdiction_code)?;
        Ok(entries(ctx, hub(ctx)?, filter, cursor(after)?))
    }

    /// One event's timeline entries after `after`, then live. An event the caller cannot
    /// see shows nothing, like one that does not exist.
    async fn event_timeline(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
        after: Option<ID>,
    ) -> Result<impl Stream<Item = Result<TimelineEntry>> + use<>> {
        let scope = resolve::scope(ctx)?;
        let id = decode_numeric(&event_id, NodeType::Event)?;
        // An event's own timeline replays from its beginning unless told otherwise.
        let after = cursor(after)?.or(Some(0));
        let hub = hub(ctx)?;
        // Visibility beyond the jurisdiction (a department's summonses) needs the event.
        if scope.summoned().is_some()
            && resolve::entity::<crate::model::Event>(ctx, Some(id))
                .await?
                .is_none()
        {
            return Ok(futures_util::stream::pending().left_stream());
        }
        let filter = SignalFilter {
            event_id: Some(id),
            department_code: None,
            jurisdiction_prefix: Some(scope.prefix().to_owned()).filter(|p| !p.is_empty()),
        };
        Ok(entries(ctx, hub, filter, after).right_stream())
    }
}

/// The entries `dispatchSignals` carries for these arguments, in the caller's scope.
fn signal_filter(
    ctx: &Context<'_>,
    department_code: Option<String>,
    jurisdiction_code: Option<String>,
) -> Result<SignalFilter> {
    if department_code.is_none() && jurisdiction_code.is_none() {
        return Err(
            ApiError::bad_input("give a departmentCode, a jurisdictionCode, or both").into(),
        );
    }
    let scope = resolve::scope(ctx)?;
    // A department's staff follow their own department's signals.
    let department_code = match (scope.summoned(), department_code) {
        (Some(own), Some(asked)) if own != asked => {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "a department's staff follow their own department's signals",
            )
            .extend());
        }
        (Some(own), _) => Some(own.to_owned()),
        (None, asked) => asked,
    };
    let requested = jurisdiction_code
        .as_deref()
        .map_or("", connectors::subtree_prefix);
    let prefix = scope.narrow(requested).ok_or_else(|| {
        ApiError::new(
            ErrorCode::Forbidden,
            "that jurisdiction is outside the caller's own",
        )
        .extend()
    })?;
    Ok(SignalFilter {
        event_id: None,
        department_code,
        jurisdiction_prefix: Some(prefix.to_owned()).filter(|p| !p.is_empty()),
    })
}

/// The most recent dispatch signals, for a screen that opens with them and then follows.
#[derive(Default)]
pub struct SignalQueries;

const MAX_RECENT: i32 = 100;

#[async_graphql::Object]
impl SignalQueries {
    /// The latest `last` (at most 100) entries `dispatchSignals` would have carried for
    /// these arguments, oldest first: a board shows them on opening and subscribes
    /// `after` the last one's cursor, missing nothing in between.
    async fn recent_signals(
        &self,
        ctx: &Context<'_>,
        department_code: Option<String>,
        jurisdiction_code: Option<String>,
        #[graphql(default = 20)] last: i32,
    ) -> Result<Vec<TimelineEntry>> {
        if !(0..=MAX_RECENT).contains(&last) {
            return Err(
                ApiError::bad_input(format!("`last` is 0 to {MAX_RECENT}, not {last}")).into(),
            );
        }
        let filter = signal_filter(ctx, department_code, jurisdiction_code)?;
        resolve::store(ctx)?
            .latest_timeline(&filter, i64::from(last))
            .await
            .map_err(store_error)
    }
}
