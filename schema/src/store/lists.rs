//! Pages of entities drawn through a relation, for many parents in one statement.
//!
//! A list is "the rows of table T related to parent K, narrowed by conditions, one page
//! of them". The parents' keys travel as one array; `CROSS JOIN LATERAL` takes a page per
//! parent, so a relation resolved for 100 parents is one statement, not 100.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use connectors::Scope;
use sqlx::{Postgres, QueryBuilder};

use super::lookups::{PARTY_COLUMNS, decode_party, push_parties_of};
use super::map::{Centre, push_near};
use super::{ColumnSet, Columns, Entity, PartyColumns, Store, StoreError, decode_rows};
use crate::model::EventParty;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    Id,
    Code,
}

/// How a row of the listed table relates to its parent key `k.key`. Relations are
/// constants below, never built from input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Relation {
    pub key_type: KeyType,
    predicate: Predicate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Predicate {
    /// A SQL predicate on the table aliased `t`.
    Sql(&'static str),
    /// Filed under the jurisdiction subtree whose code prefix is the key.
    Subtree,
}

/// How rows filed under a jurisdiction subtree are matched, by the length of the
/// subtree's code prefix. A subtree at a fixed level is an equality on an expression
/// index `(left(jurisdiction_code, n), id)`, so a page ordered by id is read straight off
/// the index whatever the subtree's size and however its ids are spread, and PostgreSQL
/// keeps one plan for every subtree of a level (a range is planned again on every run:
/// its best plan hinges on the bounds). A grid is a leaf: its code is the whole code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subtree {
    Everything,
    /// `left(jurisdiction_code, n)`: the city (no index, and none needed where one
    /// gateway serves one city), a county, a township, a community.
    Level(usize),
    Grid,
    Range,
}

impl Subtree {
    fn of(prefix_length: usize) -> Self {
        match prefix_length {
            0 => Self::Everything,
            4 | 6 | 9 | 12 => Self::Level(prefix_length),
            15 => Self::Grid,
            _ => Self::Range,
        }
    }
}

impl Relation {
    /// The predicate for keys of this length.
    fn predicate(self, key_length: usize) -> Cow<'static, str> {
        match (self.predicate, Subtree::of(key_length)) {
            (Predicate::Sql(sql), _) => sql.into(),
            (Predicate::Subtree, Subtree::Everything) => "TRUE".into(),
            (Predicate::Subtree, Subtree::Level(length)) => {
                format!("left(t.jurisdiction_code, {length}) = k.key").into()
            }
            (Predicate::Subtree, Subtree::Grid) => "t.jurisdiction_code = k.key".into(),
            (Predicate::Subtree, Subtree::Range) => {
                "t.jurisdiction_code >= k.key AND t.jurisdiction_code < k.key || '~'".into()
            }
        }
    }

    /// The keys grouped by the predicate they need: one statement per group.
    fn groups(self, keys: &[Key]) -> HashMap<Cow<'static, str>, Vec<Key>> {
        let mut groups: HashMap<Cow<'static, str>, Vec<Key>> = HashMap::new();
        for key in keys {
            let length = match key {
                Key::Code(code) => code.len(),
                Key::Id(_) => 0,
            };
            groups
                .entry(self.predicate(length))
                .or_default()
                .push(key.clone());
        }
        groups
    }
}

pub mod relations {
    use super::{KeyType, Predicate, Relation};

    const fn id(predicate: &'static str) -> Relation {
        Relation {
            key_type: KeyType::Id,
            predicate: Predicate::Sql(predicate),
        }
    }

    /// Rows filed anywhere under a jurisdiction: the key is the subtree's code prefix.
    pub const IN_SUBTREE: Relation = Relation {
        key_type: KeyType::Code,
        predicate: Predicate::Subtree,
    };
    pub const RESIDENTS_OF_PLACE: Relation = id("t.residence_place_id = k.key");
    pub const AT_PLACE: Relation = id("t.place_id = k.key");
    pub const MEMBERS_OF_ORGANIZATION: Relation = id(
        "t.id IN (SELECT m.person_id FROM organization_members m WHERE m.organization_id = k.key)",
    );
    pub const LEGAL_REPRESENTATIVE_OF: Relation =
        id("t.id IN (SELECT m.person_id FROM organization_members m \
         WHERE m.organization_id = k.key AND m.role = 'LEGAL_REPRESENTATIVE')");
    pub const ORGANIZATIONS_OF_PERSON: Relation = id(
        "t.id IN (SELECT m.organization_id FROM organization_members m WHERE m.person_id = k.key)",
    );
    pub const EVENTS_OF_PERSON: Relation = id(
        "(t.reporter_id = k.key OR t.id IN (SELECT p.event_id FROM event_parties p WHERE p.person_id = k.key))",
    );
    /// Events other than the key (events near it: the distance is a condition).
    pub const OTHER_EVENTS: Relation = id("t.id <> k.key");
    pub const EVENTS_OF_ORGANIZATION: Relation =
        id("t.id IN (SELECT p.event_id FROM event_parties p WHERE p.organization_id = k.key)");
}

/// A parent key: an entity id or a jurisdiction code prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Id(i64),
    Code(String),
}

/// One narrowing condition of a list. Column names come from [`Entity`] constants or the
/// filter inputs' own constants, never from the client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Condition {
    /// Within a jurisdiction subtree (a code prefix).
    Within(String),
    NameStartsWith(String),
    NameContains(String),
    /// `column` equals one of the values.
    OneOf(&'static str, Vec<&'static str>),
    /// The entity's time column at or after.
    From(DateTime<Utc>),
    /// The entity's time column strictly before.
    Until(DateTime<Utc>),
    /// A constant predicate on the row `t`.
    Holds(&'static str),
    /// A constant SQL expression on the row `t`, compared with a value.
    Compare(&'static str, Comparison, Bound),
    /// The entity's position (see [`Entity::POSITION`]) within so many metres of a centre.
    Near(Centre, i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comparison {
    Equal,
    AtLeast,
    AtMost,
    Before,
}

impl Comparison {
    fn operator(self) -> &'static str {
        match self {
            Self::Equal => " = ",
            Self::AtLeast => " >= ",
            Self::AtMost => " <= ",
            Self::Before => " < ",
        }
    }
}

/// The value a [`Condition::Compare`] binds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Bound {
    Int(i64),
    Text(String),
    Time(DateTime<Utc>),
}

/// Keyset pagination on the id: `after`/`before` are ids, `limit` the page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageArgs {
    pub after: Option<i64>,
    pub before: Option<i64>,
    pub limit: i64,
    /// Take the page from the end (`last`), returned in ascending order all the same.
    pub from_end: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListQuery {
    pub conditions: Vec<Condition>,
    pub page: PageArgs,
    /// Read each row's parties in the same statement, with these columns of their
    /// persons and organizations (entities with [`Entity::HAS_PARTIES`]; ignored for the
    /// others): a list whose rows' parties are asked for costs one statement, not two.
    pub parties: Option<PartyColumns>,
    /// The rows' columns to read (the others' fields keep their defaults).
    pub columns: ColumnSet,
}

/// A page of rows; `more` says whether rows beyond it exist in the page's direction.
#[derive(Debug, Clone)]
pub struct Page<E> {
    pub rows: Vec<E>,
    pub more: bool,
}

impl<E> Page<E> {
    pub fn empty() -> Self {
        Self {
            rows: Vec::new(),
            more: false,
        }
    }

    /// From rows fetched with `limit + 1` in the page's direction: the extra row only
    /// says that more follow. Rows come back in ascending order either way.
    pub(super) fn from_rows(mut rows: Vec<E>, limit: i64, from_end: bool) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit.max(0) as usize);
        if from_end {
            rows.reverse();
        }
        Self { rows, more }
    }
}

/// The parents' keys as the row source `k(key)`: an array, or for a single parent with
/// no conditions a plain value. PostgreSQL cannot size an array in a generic plan, so a
/// statement over `unnest` is planned again on every run; over one value its generic plan
/// costs what the custom ones do, and after five runs it is planned no more. With
/// conditions (a name search, a time range) the best plan hinges on their values, and
/// planning each run is what keeps it right, so those keep the array form.
fn push_keys(
    builder: &mut QueryBuilder<'_, Postgres>,
    relation: Relation,
    keys: &[Key],
    conditions: &[Condition],
) {
    if let [key] = keys
        && conditions.is_empty()
    {
        builder.push("(SELECT ");
        match key {
            Key::Id(id) => builder.push_bind(*id).push("::bigint"),
            Key::Code(code) => builder.push_bind(code.clone()).push("::text"),
        };
        builder.push(" AS key) k");
        return;
    }
    match relation.key_type {
        KeyType::Id => {
            let ids: Vec<i64> = keys
                .iter()
                .filter_map(|key| match key {
                    Key::Id(id) => Some(*id),
                    Key::Code(_) => None,
                })
                .collect();
            builder
                .push("unnest(")
                .push_bind(ids)
                .push("::bigint[]) AS k(key)");
        }
        KeyType::Code => {
            let codes: Vec<String> = keys
                .iter()
                .filter_map(|key| match key {
                    Key::Code(code) => Some(code.clone()),
                    Key::Id(_) => None,
                })
                .collect();
            builder
                .push("unnest(")
                .push_bind(codes)
                .push("::text[]) AS k(key)");
        }
    }
}

/// Appends `AND …` for the scope and every condition. The scope's subtree is left out
/// when `keys` are all subtrees inside it: the relation already narrows to them, and a
/// second range on the code would keep PostgreSQL from counting off the per-level index.
pub(super) fn push_conditions<E: Entity>(
    builder: &mut QueryBuilder<'_, Postgres>,
    scope: &Scope,
    keys: &[Key],
    conditions: &[Condition],
) {
    let inside = !keys.is_empty()
        && keys
            .iter()
            .all(|key| matches!(key, Key::Code(code) if code.starts_with(scope.prefix())));
    if !inside {
        push_within(builder, scope.prefix());
    }
    if E::SUMMONED
        && let Some(department) = scope.summoned()
    {
        builder
            .push(" AND EXISTS (SELECT 1 FROM summonses v WHERE v.event_id = t.id AND v.department_code = ")
            .push_bind(department.to_owned())
            .push(")");
    }
    for condition in conditions {
        match condition {
            Condition::Within(prefix) => push_within(builder, prefix),
            Condition::NameStartsWith(text) => {
                // A byte-wise range, served by the `text_pattern_ops` index whatever the
                // database's collation and whatever the prefix.
                builder
                    .push(format_args!(" AND t.{} ~>=~ ", E::NAME_COLUMN))
                    .push_bind(text.clone())
                    .push(format_args!(" AND t.{} ~<~ ", E::NAME_COLUMN))
                    .push_bind(format!("{text}\u{10FFFF}"));
            }
            Condition::NameContains(text) => {
                builder
                    .push(format_args!(" AND t.{} LIKE ", E::NAME_COLUMN))
                    .push_bind(format!("%{}%", escape_like(text)));
            }
            Condition::OneOf(column, values) => {
                let values: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
                builder
                    .push(format_args!(" AND t.{column} = ANY("))
                    .push_bind(values)
                    .push(")");
            }
            Condition::From(time) => {
                builder
                    .push(format_args!(" AND t.{} >= ", E::TIME_COLUMN))
                    .push_bind(*time);
            }
            Condition::Until(time) => {
                builder
                    .push(format_args!(" AND t.{} < ", E::TIME_COLUMN))
                    .push_bind(*time);
            }
            Condition::Holds(predicate) => {
                builder.push(format_args!(" AND {predicate}"));
            }
            Condition::Compare(expression, comparison, bound) => {
                builder.push(format_args!(" AND {expression}{}", comparison.operator()));
                match bound {
                    Bound::Int(value) => builder.push_bind(*value),
                    Bound::Text(value) => builder.push_bind(value.clone()),
                    Bound::Time(value) => builder.push_bind(*value),
                };
            }
            Condition::Near(centre, radius_m) => {
                push_near(builder, E::POSITION, *centre, *radius_m);
            }
        }
    }
}

/// `AND` the row is filed under the subtree `prefix` (a scope's, or a filter's), matched
/// as [`Subtree`] says. Code columns are `COLLATE "C"`, so a range is the byte range
/// [prefix, prefix + "~").
fn push_within(builder: &mut QueryBuilder<'_, Postgres>, prefix: &str) {
    match Subtree::of(prefix.len()) {
        Subtree::Everything => {}
        Subtree::Level(length) => {
            builder
                .push(format_args!(" AND left(t.jurisdiction_code, {length}) = "))
                .push_bind(prefix.to_owned());
        }
        Subtree::Grid => {
            builder
                .push(" AND t.jurisdiction_code = ")
                .push_bind(prefix.to_owned());
        }
        Subtree::Range => {
            builder
                .push(" AND t.jurisdiction_code >= ")
                .push_bind(prefix.to_owned())
                .push(" AND t.jurisdiction_code < ")
                .push_bind(format!("{prefix}~"));
        }
    }
}

fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The key a row was listed for: its statement's first column.
fn parent_key(columns: &mut Columns<'_, '_>, key_type: KeyType) -> Result<Key, sqlx::Error> {
    Ok(match key_type {
        KeyType::Id => Key::Id(columns.read()?),
        KeyType::Code => Key::Code(columns.read()?),
    })
}

impl Store {
    /// One page of related rows for each key: one statement (per subtree level among
    /// the keys, which in practice are all of one level).
    pub async fn list_pages<E: Entity>(
        &self,
        scope: &Scope,
        relation: Relation,
        keys: &[Key],
        query: &ListQuery,
    ) -> Result<HashMap<Key, Page<E>>, StoreError> {
        let mut pages = HashMap::with_capacity(keys.len());
        for (predicate, keys) in relation.groups(keys) {
            pages.extend(
                self.list_pages_where::<E>(scope, relation, &predicate, &keys, query)
                    .await?,
            );
        }
        Ok(pages)
    }

    async fn list_pages_where<E: Entity>(
        &self,
        scope: &Scope,
        relation: Relation,
        predicate: &str,
        keys: &[Key],
        query: &ListQuery,
    ) -> Result<HashMap<Key, Page<E>>, StoreError> {
        let page = query.page;
        let parties = query.parties.filter(|_| E::HAS_PARTIES);
        let mut builder = QueryBuilder::new("SELECT k.key AS parent_key, t.*");
        if parties.is_some() {
            builder.push(format_args!(", {PARTY_COLUMNS}"));
        }
        builder.push(" FROM ");
        push_keys(&mut builder, relation, keys, &query.conditions);
        builder.push(format_args!(
            " CROSS JOIN LATERAL (SELECT {} FROM {} t WHERE {predicate}",
            query.columns.select_list::<E>(),
            E::TABLE,
        ));
        push_conditions::<E>(&mut builder, scope, keys, &query.conditions);
        if let Some(after) = page.after {
            builder.push(" AND t.id > ").push_bind(after);
        }
        if let Some(before) = page.before {
            builder.push(" AND t.id < ").push_bind(before);
        }
        let direction = if page.from_end { "DESC" } else { "ASC" };
        builder.push(format_args!(" ORDER BY t.id {direction} LIMIT "));
        // Written out: over a parameter, PostgreSQL's generic plan guesses a tenth of the
        // table for the page, which costs more than the custom plans of a small page as
        // soon as the table is large (or the parties are joined), so every run was planned
        // again — planning cost five times the run. One statement per page size; sizes are
        // bounded (`Paging`).
        builder.push(page.limit + 1);
        builder.push(") t");
        if let Some(read) = parties {
            push_parties_of(&mut builder, scope, "t.id", read);
        }
        builder.push(format_args!(" ORDER BY k.key, t.id {direction}"));
        if parties.is_some() {
            builder.push(", p.position");
        }

        let rows = builder.build().fetch_all(self.executor()).await?;
        let mut grouped: HashMap<Key, Vec<E>> = HashMap::with_capacity(keys.len());
        let read = query.columns;
        if let Some(party_columns) = parties {
            // One row per party (or one with NULL party columns): the row's own columns
            // repeat and are read once, on its first.
            let width = read.width::<E>();
            let mut listed: Vec<(Key, E, Vec<EventParty>)> = Vec::new();
            decode_rows(&rows, |columns| {
                let key = parent_key(columns, relation.key_type)?;
                let id: i64 = columns.peek()?;
                match listed.last_mut() {
                    Some((last_key, last, _)) if *last_key == key && last.id() == id => {
                        columns.skip(width);
                    }
                    _ => listed.push((key, E::decode_some(columns, read)?, Vec::new())),
                }
                if let Some(party) = decode_party(columns, id, party_columns)?
                    && let Some((_, _, parties)) = listed.last_mut()
                {
                    parties.push(party);
                }
                Ok(())
            })?;
            for (key, mut entity, parties) in listed {
                entity.keep_parties(parties);
                grouped.entry(key).or_default().push(entity);
            }
        } else {
            for (key, entity) in decode_rows(&rows, |columns| {
                Ok((
                    parent_key(columns, relation.key_type)?,
                    E::decode_some(columns, read)?,
                ))
            })? {
                grouped.entry(key).or_default().push(entity);
            }
        }
        Ok(grouped
            .into_iter()
            .map(|(key, rows)| (key, Page::from_rows(rows, page.limit, page.from_end)))
            .collect())
    }

    /// How many related rows each key has, conditions applied, grouped like
    /// [`Store::list_pages`].
    pub async fn count_lists<E: Entity>(
        &self,
        scope: &Scope,
        relation: Relation,
        keys: &[Key],
        conditions: &[Condition],
    ) -> Result<HashMap<Key, i64>, StoreError> {
        let mut counts = HashMap::with_capacity(keys.len());
        for (predicate, keys) in relation.groups(keys) {
            counts.extend(
                self.count_lists_where::<E>(scope, relation, &predicate, &keys, conditions)
                    .await?,
            );
        }
        Ok(counts)
    }

    async fn count_lists_where<E: Entity>(
        &self,
        scope: &Scope,
        relation: Relation,
        predicate: &str,
        keys: &[Key],
        conditions: &[Condition],
    ) -> Result<HashMap<Key, i64>, StoreError> {
        let mut builder = QueryBuilder::new(format!(
            "SELECT k.key AS parent_key, (SELECT count(*) FROM {} t WHERE {predicate}",
            E::TABLE,
        ));
        push_conditions::<E>(&mut builder, scope, keys, conditions);
        builder.push(") AS total FROM ");
        push_keys(&mut builder, relation, keys, conditions);

        let rows = builder.build().fetch_all(self.executor()).await?;
        let totals = decode_rows(&rows, |columns| {
            Ok((parent_key(columns, relation.key_type)?, columns.read()?))
        })?;
        Ok(totals.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn like_wildcards_in_search_text_match_literally() {
        assert_eq!(escape_like("100%_纯\\"), "100\\%\\_纯\\\\");
    }
}
