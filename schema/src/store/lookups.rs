//! Rows by key, many keys per statement: what the loaders call.

use std::sync::Arc;

use connectors::Scope;
use sqlx::{Postgres, QueryBuilder};

use super::lists::{Page, push_conditions};
use super::{ColumnSet, Columns, Entity, PartyColumns, Store, StoreError, decode_rows};
use crate::enums::JurisdictionLevel;
use crate::model::{Department, EntityLink, EventParty, Jurisdiction, Organization, Person};

const JURISDICTION_COLUMNS: &str = "code, name, level, kind, parent_code, prefix, depth";
const DEPARTMENT_COLUMNS: &str = "code, name, short_name, kind, county_code, connector";

/// Which jurisdictions a top-level list shows; paged by code.
#[derive(Debug, Clone, Default)]
pub struct JurisdictionQuery {
    pub level: Option<JurisdictionLevel>,
    pub parent_code: Option<String>,
}

/// ` = $n` for one key, ` = ANY($n)` for several: over one value the statement is planned
/// no more after five runs, over an array on every run (see `lists::push_keys`). One key
/// is what a mutation's payload and a single event's page ask for.
fn push_one_or_any<'a, T>(builder: &mut QueryBuilder<'a, Postgres>, keys: &'a [T])
where
    T: sqlx::Type<Postgres>
        + sqlx::Encode<'a, Postgres>
        + sqlx::postgres::PgHasArrayType
        + Clone
        + Send
        + 'a,
{
    match keys {
        [key] => builder.push(" = ").push_bind(key.clone()),
        _ => builder.push(" = ANY(").push_bind(keys.to_vec()).push(")"),
    };
}

impl Store {
    /// Entities by id, restricted to the scope: an id outside it reads as absent.
    pub async fn by_ids<E: Entity>(
        &self,
        scope: &Scope,
        ids: &[i64],
    ) -> Result<Vec<E>, StoreError> {
        let mut builder = QueryBuilder::new(format!(
            "SELECT {} FROM {} t WHERE t.id",
            E::COLUMNS,
            E::TABLE
        ));
        push_one_or_any(&mut builder, ids);
        push_conditions::<E>(&mut builder, scope, &[], &[]);
        let rows = builder.build().fetch_all(self.executor()).await?;
        Ok(decode_rows(&rows, E::decode)?)
    }

    /// Jurisdictions by code, those the scope sees: its subtree and the levels above it.
    pub async fn jurisdictions_by_code(
        &self,
        scope: &Scope,
        codes: &[String],
    ) -> Result<Vec<Jurisdiction>, StoreError> {
        let mut builder = QueryBuilder::new(format!(
            "SELECT {JURISDICTION_COLUMNS} FROM jurisdictions j WHERE code"
        ));
        push_one_or_any(&mut builder, codes);
        push_jurisdiction_visible(&mut builder, scope, "j");
        Ok(builder.build_query_as().fetch_all(self.executor()).await?)
    }

    pub async fn jurisdiction_children(
        &self,
        scope: &Scope,
        codes: &[String],
    ) -> Result<Vec<Jurisdiction>, StoreError> {
        let mut builder = QueryBuilder::new(format!(
            "SELECT {JURISDICTION_COLUMNS} FROM jurisdictions j WHERE parent_code = ANY("
        ));
        builder.push_bind(codes.to_vec()).push(")");
        push_jurisdiction_visible(&mut builder, scope, "j");
        builder.push(" ORDER BY code");
        Ok(builder.build_query_as().fetch_all(self.executor()).await?)
    }

    /// A page of jurisdictions ordered by code.
    pub async fn list_jurisdictions(
        &self,
        scope: &Scope,
        query: &JurisdictionQuery,
        page: &CodePage,
    ) -> Result<Page<Jurisdiction>, StoreError> {
        let mut builder = QueryBuilder::new(format!(
            "SELECT {JURISDICTION_COLUMNS} FROM jurisdictions j WHERE TRUE"
        ));
        push_jurisdiction_query(&mut builder, scope, query);
        push_code_page(&mut builder, page);
        let rows = builder.build_query_as().fetch_all(self.executor()).await?;
        Ok(Page::from_rows(rows, page.limit, page.from_end))
    }

    pub async fn count_jurisdictions(
        &self,
        scope: &Scope,
        query: &JurisdictionQuery,
    ) -> Result<i64, StoreError> {
        let mut builder = QueryBuilder::new("SELECT count(*) FROM jurisdictions j WHERE TRUE");
        push_jurisdiction_query(&mut builder, scope, query);
        Ok(builder
            .build_query_scalar()
            .fetch_one(self.executor())
            .await?)
    }

    /// Departments by code, those of counties the scope sees (its own, or the whole city).
    pub async fn departments_by_code(
        &self,
        scope: &Scope,
        codes: &[String],
    ) -> Result<Vec<Department>, StoreError> {
        let mut builder = QueryBuilder::new(format!(
            "SELECT {DEPARTMENT_COLUMNS} FROM departments WHERE code = ANY("
        ));
        builder.push_bind(codes.to_vec()).push(")");
        push_department_visible(&mut builder, scope);
        Ok(builder.build_query_as().fetch_all(self.executor()).await?)
    }

    pub async fn list_departments(
        &self,
        scope: &Scope,
        county: Option<&str>,
        page: &CodePage,
    ) -> Result<Page<Department>, StoreError> {
        let mut builder = QueryBuilder::new(format!(
            "SELECT {DEPARTMENT_COLUMNS} FROM departments WHERE TRUE"
        ));
        push_department_visible(&mut builder, scope);
        if let Some(county) = county {
            builder
                .push(" AND county_code = ")
                .push_bind(county.to_owned());
        }
        push_code_page(&mut builder, page);
        let rows = builder.build_query_as().fetch_all(self.executor()).await?;
        Ok(Page::from_rows(rows, page.limit, page.from_end))
    }

    pub async fn count_departments(
        &self,
        scope: &Scope,
        county: Option<&str>,
    ) -> Result<i64, StoreError> {
        let mut builder = QueryBuilder::new("SELECT count(*) FROM departments WHERE TRUE");
        push_department_visible(&mut builder, scope);
        if let Some(county) = county {
            builder
                .push(" AND county_code = ")
                .push_bind(county.to_owned());
        }
        Ok(builder
            .build_query_scalar()
            .fetch_one(self.executor())
            .await?)
    }

    /// The parties of each event, in their recorded order, each with its person or
    /// organization as the scope shows it: one statement for the parties and their rows.
    pub async fn event_parties(
        &self,
        scope: &Scope,
        event_ids: &[i64],
    ) -> Result<Vec<EventParty>, StoreError> {
        let mut builder = QueryBuilder::new(format!(
            "SELECT p.event_id, {PARTY_COLUMNS} FROM event_parties p"
        ));
        push_party_rows(&mut builder, scope, PartyColumns::ALL);
        builder
            .push(" WHERE p.event_id = ANY(")
            .push_bind(event_ids.to_vec())
            .push(") ORDER BY p.event_id, p.position");
        let rows = builder.build().fetch_all(self.executor()).await?;
        let parties = decode_rows(&rows, |columns| {
            let event_id = columns.read()?;
            decode_party(columns, event_id, PartyColumns::ALL)
        })?;
        Ok(parties.into_iter().flatten().collect())
    }

    /// The department records held on each entity.
    pub async fn entity_links(&self, entity_ids: &[i64]) -> Result<Vec<EntityLink>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT entity_id, department_code, source_id FROM entity_links \
             WHERE entity_id = ANY($1) ORDER BY entity_id, department_code",
        )
        .bind(entity_ids)
        .fetch_all(self.executor())
        .await?)
    }

    /// The department case files held on each event.
    pub async fn event_links(&self, event_ids: &[i64]) -> Result<Vec<EntityLink>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT event_id AS entity_id, department_code, source_id FROM event_links \
             WHERE event_id = ANY($1) ORDER BY event_id, department_code",
        )
        .bind(event_ids)
        .fetch_all(self.executor())
        .await?)
    }
}

/// Keyset pagination on a code: like [`super::PageArgs`] for string keys.
#[derive(Debug, Clone, Default)]
pub struct CodePage {
    pub after: Option<String>,
    pub before: Option<String>,
    pub limit: i64,
    pub from_end: bool,
}

/// `AND` the jurisdiction aliased `alias` is visible to the scope: inside its subtree,
/// or one of the levels above it (whose own `prefix` starts the scope's). The org chart
/// above a principal is its breadcrumb; its siblings' subtrees are not its to see.
fn push_jurisdiction_visible(builder: &mut QueryBuilder<'_, Postgres>, scope: &Scope, alias: &str) {
    let prefix = scope.prefix();
    if prefix.is_empty() {
        return;
    }
    builder
        .push(format_args!(" AND (({alias}.code >= "))
        .push_bind(prefix.to_owned())
        .push(format_args!(" AND {alias}.code < "))
        .push_bind(format!("{prefix}~"))
        .push(") OR starts_with(")
        .push_bind(prefix.to_owned())
        .push(format_args!(", {alias}.prefix))"));
}

/// `AND` the department's county is visible to the scope.
fn push_department_visible(builder: &mut QueryBuilder<'_, Postgres>, scope: &Scope) {
    if scope.prefix().is_empty() {
        return;
    }
    builder
        .push(" AND EXISTS (SELECT 1 FROM jurisdictions c WHERE c.code = departments.county_code");
    push_jurisdiction_visible(builder, scope, "c");
    builder.push(")");
}

fn push_jurisdiction_query(
    builder: &mut QueryBuilder<'_, Postgres>,
    scope: &Scope,
    query: &JurisdictionQuery,
) {
    push_jurisdiction_visible(builder, scope, "j");
    if let Some(level) = query.level {
        builder.push(" AND level = ").push_bind(level);
    }
    if let Some(parent) = &query.parent_code {
        builder
            .push(" AND parent_code = ")
            .push_bind(parent.clone());
    }
}

fn push_code_page(builder: &mut QueryBuilder<'_, Postgres>, page: &CodePage) {
    if let Some(after) = &page.after {
        builder.push(" AND code > ").push_bind(after.clone());
    }
    if let Some(before) = &page.before {
        builder.push(" AND code < ").push_bind(before.clone());
    }
    let direction = if page.from_end { "DESC" } else { "ASC" };
    builder
        .push(format_args!(" ORDER BY code {direction} LIMIT "))
        .push_bind(page.limit + 1);
}

/// A party's columns (of `event_parties p` and [`push_party_rows`]), in the order
/// [`decode_party`] reads them.
pub(super) const PARTY_COLUMNS: &str =
    "p.position, p.role, p.person_id, p.organization_id, person.*, organization.*";

/// `LEFT JOIN` the parties of the event whose id is `event_id` as `p`, each with its rows
/// ([`push_party_rows`]): one row per party, or one of NULL columns for an event without.
pub(super) fn push_parties_of(
    builder: &mut QueryBuilder<'_, Postgres>,
    scope: &Scope,
    event_id: &str,
    read: PartyColumns,
) {
    // `OFFSET 0` keeps the subquery a lookup by the event's key for each event: as a plain
    // join it was planned as a hash of the whole table (every party of the city read for
    // a page of 10 events: 3× the statements it replaces, in PostgreSQL's CPU).
    builder.push(format_args!(
        " LEFT JOIN LATERAL (SELECT p.position, p.role, p.person_id, p.organization_id \
         FROM event_parties p WHERE p.event_id = {event_id} OFFSET 0) p ON TRUE"
    ));
    push_party_rows(builder, scope, read);
}

/// Joins each party of `event_parties p` with its person and its organization as the
/// scope shows them, their columns of `read`.
fn push_party_rows(builder: &mut QueryBuilder<'_, Postgres>, scope: &Scope, read: PartyColumns) {
    push_party::<Person>(builder, scope, "p.person_id", "person", read.person);
    push_party::<Organization>(
        builder,
        scope,
        "p.organization_id",
        "organization",
        read.organization,
    );
}

/// The party of `event_id` from the next [`PARTY_COLUMNS`]; `None` where an outer join
/// found no party (its position is NULL).
pub(super) fn decode_party(
    columns: &mut Columns<'_, '_>,
    event_id: i64,
    read: PartyColumns,
) -> Result<Option<EventParty>, sqlx::Error> {
    if columns.at_null()? {
        columns.skip(4 + read.person.width::<Person>() + read.organization.width::<Organization>());
        return Ok(None);
    }
    Ok(Some(EventParty {
        event_id,
        position: columns.read()?,
        role: columns.read()?,
        person_id: columns.read()?,
        organization_id: columns.read()?,
        person: Person::decode_optional(columns, read.person)?.map(Arc::new),
        organization: Organization::decode_optional(columns, read.organization)?.map(Arc::new),
    }))
}

/// `LEFT JOIN` the party whose id is `id` as `alias`: the same row and the same scope as a
/// lookup by id, built into the parties' statement instead of a statement of its own;
/// its columns are NULL when the scope does not hold it.
fn push_party<E: Entity>(
    builder: &mut QueryBuilder<'_, Postgres>,
    scope: &Scope,
    id: &str,
    alias: &str,
    read: ColumnSet,
) {
    builder.push(format_args!(
        " LEFT JOIN LATERAL (SELECT {} FROM {} t WHERE t.id = {id}",
        read.select_list::<E>(),
        E::TABLE
    ));
    push_conditions::<E>(builder, scope, &[], &[]);
    // `LIMIT 1` (an id names one row anyway) keeps the subquery a lookup by key for each
    // party: pulled up into a plain join, it was planned as a hash of every organization
    // in the scope (3× the statement's time with 600 of them).
    builder.push(format_args!(" LIMIT 1) {alias} ON TRUE"));
}
