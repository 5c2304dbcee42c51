//! Work queues over GraphQL: `summonses` (the root list), `Department.summonses` and
//! `Jurisdiction.handlingEvents`, ordered by the next deadline, batched per level through
//! the loaders and scoped like every read.

use async_graphql::{Context, InputObject, OutputType, Result};
use chrono::{DateTime, Utc};

use super::connection::{Paging, QueueConnection, Total, queue_connection};
use super::filters::check_code;
use super::loaders::{QueueKey, QueueLoaders};
use super::resolve::{loaders, store_error};
use crate::enums::{EventCategory, EventStatus, SummonsStatus};
use crate::model::Event;
use crate::store::Page;
use crate::workflow::{EventQueueFilter, Owner, Queue, Summons, SummonsQueueFilter};

/// What narrows a queue of summonses.
#[derive(InputObject, Default)]
pub struct SummonsFilter {
    /// The summoned department (e.g. 220422-XJ); not on `Department.summonses`.
    pub department: Option<String>,
    /// Summonses of events under this jurisdiction (its subtree).
    pub jurisdiction: Option<String>,
    /// Any of these statuses.
    #[graphql(default)]
    pub statuses: Vec<SummonsStatus>,
    /// Overdue now (marked OVERDUE, or open with its next deadline passed), or not.
    pub overdue: Option<bool>,
    /// The next deadline before this.
    pub due_before: Option<DateTime<Utc>>,
}

/// What narrows a queue of events (a level's, a person's).
#[derive(InputObject)]
pub struct HandlingFilter {
    /// Only events still open (not RESOLVED, CLOSED or REJECTED).
    #[graphql(default = true)]
    pub open: bool,
    /// Any of these statuses.
    #[graphql(default)]
    pub statuses: Vec<EventStatus>,
    /// Any of these categories.
    #[graphql(default)]
    pub categories: Vec<EventCategory>,
    /// Open and past its own deadline now (or not).
    pub overdue: Option<bool>,
}

impl From<Option<HandlingFilter>> for EventQueueFilter {
    fn from(filter: Option<HandlingFilter>) -> Self {
        match filter {
            None => Self {
                open_only: true,
                ..Self::default()
            },
            Some(filter) => Self {
                open_only: filter.open,
                statuses: filter.statuses,
                categories: filter.categories,
                overdue: filter.overdue,
            },
        }
    }
}

impl SummonsFilter {
    /// The queue's owner and the filter left, checked.
    fn split(self, owner: Option<String>) -> Result<(Owner, SummonsQueueFilter)> {
        if let Some(code) = &self.jurisdiction {
            check_code(code)?;
        }
        let within = self
            .jurisdiction
            .as_deref()
            .map(|code| connectors::subtree_prefix(code).to_owned());
        let owner = match (owner, self.department) {
            (Some(department), None) | (None, Some(department)) => Owner::Department(department),
            (Some(_), Some(_)) => {
                return Err(crate::error::ApiError::bad_input(
                    "`department` is the department itself here",
                )
                .into());
            }
            (None, None) => Owner::Subtree(within.clone().unwrap_or_default()),
        };
        let filter = SummonsQueueFilter {
            within,
            statuses: self.statuses,
            overdue: self.overdue,
            due_before: self.due_before,
        };
        Ok((owner, filter))
    }
}

/// A summons queue: the root's (`department` = None) or a department's.
pub async fn summonses(
    ctx: &Context<'_>,
    department: Option<String>,
    filter: Option<SummonsFilter>,
    paging: Paging,
) -> Result<QueueConnection<Summons>> {
    let (owner, filter) = filter.unwrap_or_default().split(department)?;
    summons_queue(ctx, owner, filter, paging).await
}

/// The summonses addressed to the person `staff` or to a team they serve on.
pub async fn addressed_summonses(
    ctx: &Context<'_>,
    staff: i64,
    filter: Option<SummonsFilter>,
    paging: Paging,
) -> Result<QueueConnection<Summons>> {
    let filter = filter.unwrap_or_default();
    if filter.department.is_some() {
        return Err(crate::error::ApiError::bad_input(
            "a person's summonses are not filtered by department",
        )
        .into());
    }
    let (_, filter) = filter.split(None)?;
    summons_queue(ctx, Owner::Addressed(staff), filter, paging).await
}

/// One page of `owner`'s queue of `Q`, through `loaders` (one statement per level).
async fn queue<Q: Queue>(
    loaders: &QueueLoaders<Q>,
    owner: Owner,
    filter: Q::Filter,
    paging: Paging,
    total: Total,
) -> Result<QueueConnection<Q::Row>>
where
    Q::Row: OutputType,
{
    let page = paging.due_page()?;
    let key = QueueKey {
        owner,
        filter,
        page,
    };
    let rows = loaders
        .pages
        .load_one(key)
        .await
        .map_err(store_error)?
        .unwrap_or_else(Page::empty);
    Ok(queue_connection::<Q>(rows, &page, total))
}

async fn summons_queue(
    ctx: &Context<'_>,
    owner: Owner,
    filter: SummonsQueueFilter,
    paging: Paging,
) -> Result<QueueConnection<Summons>> {
    let total = Total::SummonsQueue(owner.clone(), filter.clone());
    queue(&loaders(ctx)?.summons_queues, owner, filter, paging, total).await
}

/// The events a level handles (`Owner::Handler`) or a person is in charge of
/// (`Owner::Assignee`), by deadline.
pub async fn events(
    ctx: &Context<'_>,
    owner: Owner,
    filter: Option<HandlingFilter>,
    paging: Paging,
) -> Result<QueueConnection<Event>> {
    let filter = EventQueueFilter::from(filter);
    let total = Total::EventQueue(owner.clone(), filter.clone());
    queue(&loaders(ctx)?.event_queues, owner, filter, paging, total).await
}
