//! Relay cursor connections: argument checks, opaque cursors, and the `totalCount` that is
//! counted only when asked for.

use async_graphql::connection::{
    Connection, ConnectionNameType, CursorType, Edge, EdgeNameType, EmptyFields,
};
use async_graphql::{Context, Object, OutputType, Result, SelectionField};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};

use super::loaders::{CountKey, Loaded, Loaders};
use super::resolve::{loaders, store, store_error};
use crate::error::ApiError;
use crate::model::{Event, Organization, Person, Place, Thing};
use crate::store::{
    AuditQuery, CodePage, ColumnSet, Condition, JurisdictionQuery, Key, Page, PageArgs,
    PartyColumns, Relation,
};
use crate::workflow::{DuePage, EventQueueFilter, Owner, Queue, SummonsQueueFilter};

pub const DEFAULT_PAGE_SIZE: i32 = 20;
pub const MAX_PAGE_SIZE: i32 = 100;

/// A list's share of a query's complexity: its selection, once per item of the page it
/// may return, so nested lists multiply as the rows they fetch do.
pub fn page_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first
        .or(last)
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE);
    (size as usize).saturating_mul(child_complexity)
}

/// The four Relay arguments as the client sent them.
#[derive(Debug, Clone, Default)]
pub struct Paging {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// The checked form: page size, direction, and the decoded cursors.
struct Checked<C> {
    limit: i64,
    from_end: bool,
    after: Option<C>,
    before: Option<C>,
}

impl Paging {
    fn check<C: CursorType>(&self) -> Result<Checked<C>, ApiError> {
        let size = |name: &str, value: i32| {
            if (0..=MAX_PAGE_SIZE).contains(&value) {
                Ok(i64::from(value))
            } else {
                Err(ApiError::bad_input(format!(
                    "`{name}` must be between 0 and {MAX_PAGE_SIZE}, got {value}"
                )))
            }
        };
        let (limit, from_end) = match (self.first, self.last) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_input("pass `first` or `last`, not both"));
            }
            (Some(first), None) => (size("first", first)?, false),
            (None, Some(last)) => (size("last", last)?, true),
            (None, None) => (i64::from(DEFAULT_PAGE_SIZE), false),
        };
        let cursor = |name: &str, value: &Option<String>| {
            value
                .as_deref()
                .map(|text| {
                    C::decode_cursor(text).map_err(|_| {
                        ApiError::bad_input(format!("`{name}` is not a cursor this list gave out"))
                    })
                })
                .transpose()
        };
        Ok(Checked {
            limit,
            from_end,
            after: cursor("after", &self.after)?,
            before: cursor("before", &self.before)?,
        })
    }

    pub fn id_page(&self) -> Result<PageArgs, ApiError> {
        let checked = self.check::<IdCursor>()?;
        Ok(PageArgs {
            after: checked.after.map(|c| c.0),
            before: checked.before.map(|c| c.0),
            limit: checked.limit,
            from_end: checked.from_end,
        })
    }

    /// A page of a work queue, which pages forward by deadline only.
    pub fn due_page(&self) -> Result<DuePage, ApiError> {
        if self.last.is_some() || self.before.is_some() {
            return Err(ApiError::bad_input(
                "work queues page forward by deadline: use `first` and `after`",
            ));
        }
        let checked = self.check::<DueCursor>()?;
        Ok(DuePage {
            after: checked.after.map(|c| (c.0, c.1)),
            limit: checked.limit,
        })
    }

    pub fn code_page(&self) -> Result<CodePage, ApiError> {
        let checked = self.check::<CodeCursor>()?;
        Ok(CodePage {
            after: checked.after.map(|c| c.0),
            before: checked.before.map(|c| c.0),
            limit: checked.limit,
            from_end: checked.from_end,
        })
    }
}

fn encode_cursor(kind: &str, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{key}"))
}

fn decode_cursor(kind: &str, text: &str) -> Result<String, &'static str> {
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| "not base64")?;
    let text = String::from_utf8(bytes).map_err(|_| "not text")?;
    text.strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix(':'))
        .map(str::to_owned)
        .ok_or("not this kind of cursor")
}

/// A position in a list ordered by id.
pub struct IdCursor(pub i64);

impl CursorType for IdCursor {
    type Error = &'static str;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        decode_cursor("id", s)?
            .parse()
            .map(IdCursor)
            .map_err(|_| "not a number")
    }

    fn encode_cursor(&self) -> String {
        encode_cursor("id", &self.0.to_string())
    }
}

/// A position in a work queue: the row's deadline and id.
pub struct DueCursor(pub DateTime<Utc>, pub i64);

impl CursorType for DueCursor {
    type Error = &'static str;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let text = decode_cursor("due", s)?;
        let (micros, id) = text.split_once(':').ok_or("not a deadline cursor")?;
        let micros: i64 = micros.parse().map_err(|_| "not a number")?;
        let due = DateTime::from_timestamp_micros(micros).ok_or("not a time")?;
        Ok(DueCursor(due, id.parse().map_err(|_| "not a number")?))
    }

    fn encode_cursor(&self) -> String {
        encode_cursor("due", &format!("{}:{}", self.0.timestamp_micros(), self.1))
    }
}

/// A position in a list ordered by code.
pub struct CodeCursor(pub String);

impl CursorType for CodeCursor {
    type Error = &'static str;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        decode_cursor("code", s).map(CodeCursor)
    }

    fn encode_cursor(&self) -> String {
        encode_cursor("code", &self.0)
    }
}

/// What a connection's `totalCount` counts, evaluated only when selected.
pub enum Total {
    Entities(EntityTotal),
    Jurisdictions(JurisdictionQuery),
    Departments(Option<String>),
    AuditLog(AuditQuery),
    SummonsQueue(Owner, SummonsQueueFilter),
    /// An event queue (a level's or a person's).
    EventQueue(Owner, EventQueueFilter),
}

pub enum EntityTotal {
    Persons(CountKey),
    Places(CountKey),
    Things(CountKey),
    Organizations(CountKey),
    Events(CountKey),
}

/// The fields every connection adds to edges and pageInfo.
pub struct ListTotal(Total);

impl ListTotal {
    pub fn new(total: Total) -> Self {
        Self(total)
    }
}

#[Object]
impl ListTotal {
    /// How many items the whole list holds, all pages together.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let loaders = loaders(ctx)?;
        match &self.0 {
            Total::Entities(total) => count_entities(loaders, total).await,
            Total::Jurisdictions(query) => Ok(store(ctx)?
                .count_jurisdictions(&loaders.scope, query)
                .await
                .map_err(store_error)?),
            Total::Departments(county) => Ok(store(ctx)?
                .count_departments(&loaders.scope, county.as_deref())
                .await
                .map_err(store_error)?),
            Total::AuditLog(query) => Ok(store(ctx)?
                .count_audit(&loaders.scope, query)
                .await
                .map_err(store_error)?),
            Total::SummonsQueue(owner, filter) => Ok(loaders
                .summons_queues
                .counts
                .load_one((owner.clone(), filter.clone()))
                .await
                .map_err(store_error)?
                .unwrap_or(0)),
            Total::EventQueue(owner, filter) => Ok(loaders
                .event_queues
                .counts
                .load_one((owner.clone(), filter.clone()))
                .await
                .map_err(store_error)?
                .unwrap_or(0)),
        }
    }
}

async fn count_entities(loaders: &Loaders, total: &EntityTotal) -> Result<i64> {
    let counted = match total {
        EntityTotal::Persons(key) => loaders.persons.counts.load_one(key.clone()).await,
        EntityTotal::Places(key) => loaders.places.counts.load_one(key.clone()).await,
        EntityTotal::Things(key) => loaders.things.counts.load_one(key.clone()).await,
        EntityTotal::Organizations(key) => loaders.organizations.counts.load_one(key.clone()).await,
        EntityTotal::Events(key) => loaders.events.counts.load_one(key.clone()).await,
    };
    Ok(counted.map_err(store_error)?.unwrap_or(0))
}

/// How an entity type's total is named in [`EntityTotal`], and which columns its page
/// reads.
pub trait Counted: Loaded {
    /// The columns each of its GraphQL fields reads besides the id, for a page to read
    /// only those of the fields a query selects; a field not listed reads them all.
    const FIELD_COLUMNS: &'static [(&'static str, &'static [&'static str])] = &[];

    fn total(key: CountKey) -> EntityTotal;
}

impl Counted for Person {
    const FIELD_COLUMNS: &'static [(&'static str, &'static [&'static str])] =
        super::objects::PERSON_FIELD_COLUMNS;

    fn total(key: CountKey) -> EntityTotal {
        EntityTotal::Persons(key)
    }
}
impl Counted for Place {
    fn total(key: CountKey) -> EntityTotal {
        EntityTotal::Places(key)
    }
}
impl Counted for Thing {
    fn total(key: CountKey) -> EntityTotal {
        EntityTotal::Things(key)
    }
}
impl Counted for Organization {
    const FIELD_COLUMNS: &'static [(&'static str, &'static [&'static str])] =
        super::objects::ORGANIZATION_FIELD_COLUMNS;

    fn total(key: CountKey) -> EntityTotal {
        EntityTotal::Organizations(key)
    }
}
impl Counted for Event {
    const FIELD_COLUMNS: &'static [(&'static str, &'static [&'static str])] =
        super::objects::EVENT_FIELD_COLUMNS;

    fn total(key: CountKey) -> EntityTotal {
        EntityTotal::Events(key)
    }
}

pub type EntityConnection<E> = Connection<IdCursor, E, ListTotal>;
pub type QueueConnection<N> =
    Connection<DueCursor, N, ListTotal, EmptyFields, QueueName, QueueEdgeName>;

/// Work queues are named apart from their nodes' plain lists: `SummonsQueue`,
/// `EventQueue`, with edges `SummonsQueueEdge`, `EventQueueEdge`.
pub struct QueueName;

impl ConnectionNameType for QueueName {
    fn type_name<T: OutputType>() -> String {
        format!("{}Queue", T::type_name())
    }
}

pub struct QueueEdgeName;

impl EdgeNameType for QueueEdgeName {
    fn type_name<T: OutputType>() -> String {
        format!("{}QueueEdge", T::type_name())
    }
}

/// A page of a work queue, as a connection.
pub fn queue_connection<Q: Queue>(
    page: Page<Q::Row>,
    paging: &DuePage,
    total: Total,
) -> QueueConnection<Q::Row>
where
    Q::Row: OutputType,
{
    let mut connection: QueueConnection<Q::Row> =
        Connection::with_additional_fields(paging.after.is_some(), page.more, ListTotal(total));
    connection.edges.extend(page.rows.into_iter().map(|row| {
        let (at, id) = Q::position(&row);
        Edge::with_additional_fields(DueCursor(at, id), row, EmptyFields)
    }));
    connection
}
pub type CodeConnection<N> = Connection<CodeCursor, N, ListTotal>;

/// One page of `E` related to `key` through `relation`, as a connection.
pub async fn entity_connection<E: Counted + OutputType>(
    ctx: &Context<'_>,
    relation: Relation,
    key: Key,
    conditions: Vec<Condition>,
    paging: Paging,
) -> Result<EntityConnection<E>> {
    let page_args = paging.id_page()?;
    let selection = ctx.look_ahead();
    let items = selection
        .field("nodes")
        .selection_fields()
        .into_iter()
        .chain(selection.field("edges").field("node").selection_fields());
    let total = ListTotal(Total::Entities(E::total(CountKey {
        relation,
        key: key.clone(),
        conditions: conditions.clone(),
    })));
    let page = load_page::<E>(ctx, relation, key, conditions, page_args, items).await?;
    let (has_previous, has_next) = page_flags(
        page.more,
        page_args.from_end,
        page_args.after.is_some(),
        page_args.before.is_some(),
    );
    let mut connection = Connection::with_additional_fields(has_previous, has_next, total);
    connection.edges.extend(
        page.rows
            .into_iter()
            .map(|row| Edge::new(IdCursor(row.id()), row)),
    );
    Ok(connection)
}

/// The first `E` related to `key` through `relation`, for a field that returns that row
/// itself rather than a connection.
pub async fn first_related<E: Counted>(
    ctx: &Context<'_>,
    relation: Relation,
    key: Key,
) -> Result<Option<E>> {
    let first = Paging {
        first: Some(1),
        ..Paging::default()
    };
    let page = load_page::<E>(
        ctx,
        relation,
        key,
        Vec::new(),
        first.id_page()?,
        [ctx.field()],
    )
    .await?;
    Ok(page.rows.into_iter().next())
}

/// A page of `E` read with the columns of the fields selected on `items` (the selections
/// that show its rows), and with its rows' parties when they are selected there: the page
/// then reads them in its own statement, with the columns of their persons and
/// organizations that `party` selects.
async fn load_page<'a, E: Counted>(
    ctx: &Context<'_>,
    relation: Relation,
    key: Key,
    conditions: Vec<Condition>,
    page: PageArgs,
    items: impl IntoIterator<Item = SelectionField<'a>>,
) -> Result<Page<E>> {
    let mut fields = Vec::new();
    let mut party_fields = Vec::new();
    let mut parties = false;
    for item in items {
        for field in item.selection_set() {
            if field.name() == "parties" {
                parties = true;
                for party in field.selection_set().filter(|f| f.name() == "party") {
                    party_fields.extend(party.selection_set().map(|f| f.name()));
                }
            }
            fields.push(field.name());
        }
    }
    let parties = (E::HAS_PARTIES && parties).then(|| PartyColumns {
        person: columns_of::<Person>(&party_fields),
        organization: columns_of::<Organization>(&party_fields),
    });
    Ok(E::loaders(loaders(ctx)?)
        .pages
        .load_one(super::loaders::PageKey {
            relation,
            key,
            query: crate::store::ListQuery {
                conditions,
                page,
                parties,
                columns: columns_of::<E>(&fields),
            },
        })
        .await
        .map_err(store_error)?
        .unwrap_or_else(Page::empty))
}

/// The columns of `E` that its fields named `fields` read (see [`Counted::FIELD_COLUMNS`]).
fn columns_of<E: Counted>(fields: &[&str]) -> ColumnSet {
    fields.iter().fold(ColumnSet::ID, |read, name| {
        match E::FIELD_COLUMNS.iter().find(|(known, _)| known == name) {
            Some((_, columns)) => read.with::<E>(columns),
            None if *name == "__typename" => read,
            None => ColumnSet::ALL,
        }
    })
}

/// A page of rows keyed by code, as a connection.
pub fn code_connection<N: OutputType>(
    page: Page<N>,
    paging: &CodePage,
    total: Total,
    code: impl Fn(&N) -> String,
) -> CodeConnection<N> {
    let (has_previous, has_next) = page_flags(
        page.more,
        paging.from_end,
        paging.after.is_some(),
        paging.before.is_some(),
    );
    let mut connection =
        Connection::with_additional_fields(has_previous, has_next, ListTotal(total));
    connection.edges.extend(
        page.rows
            .into_iter()
            .map(|row| Edge::new(CodeCursor(code(&row)), row)),
    );
    connection
}

/// Relay's pageInfo flags: `more` is known in the page's direction; the other side is
/// reported from the cursor the client came from, as the spec allows.
pub(super) fn page_flags(more: bool, from_end: bool, after: bool, before: bool) -> (bool, bool) {
    if from_end {
        (more, before)
    } else {
        (after, more)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_do_not_mix_kinds() {
        let cursor = IdCursor(7).encode_cursor();
        assert_eq!(IdCursor::decode_cursor(&cursor).map(|c| c.0), Ok(7));
        assert!(CodeCursor::decode_cursor(&cursor).is_err());
        assert!(IdCursor::decode_cursor("garbage!").is_err());
    }

    #[test]
    fn paging_arguments_are_checked() {
        let both = Paging {
            first: Some(1),
            last: Some(1),
            ..Paging::default()
        };
        assert!(both.id_page().is_err());
        let negative = Paging {
            first: Some(-1),
            ..Paging::default()
        };
        assert!(negative.id_page().is_err());
        let huge = Paging {
            last: Some(MAX_PAGE_SIZE + 1),
            ..Paging::default()
        };
        assert!(huge.id_page().is_err());
        let default = Paging::default().id_page().ok();
        assert_eq!(
            default.map(|p| (p.limit, p.from_end)),
            Some((i64::from(DEFAULT_PAGE_SIZE), false))
        );
    }
}
