//! The query root: entry points to the five elements, the tree and the departments.

use async_graphql::{Context, ID, Object, Result};

use super::connection::{
    CodeConnection, EntityConnection, Paging, Total, code_connection, entity_connection, page_cost,
};
use super::filters::{
    EventFilter, OrganizationFilter, PersonFilter, PlaceFilter, ThingFilter, check_code, conditions,
};
use super::ids::{self, NodeType};
use super::loaders::Loaded;
use super::objects::Node;
use super::resolve::{self, loaders, store, store_error};
use super::selected::Selected;
use crate::enums::JurisdictionLevel;
use crate::error::ApiError;
use crate::model::{Department, Event, Jurisdiction, Organization, Person, Place, Thing};
use crate::store::{Condition, JurisdictionQuery, Key, Point, relations};

const MAX_NODES: usize = 100;

/// The query root: the five elements and the tree, and the figures.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    ElementQueries,
    super::figures::FigureQueries,
    super::subscription::SignalQueries,
);

#[derive(Default)]
pub struct ElementQueries;

async fn by_id<E: Loaded>(ctx: &Context<'_>, id: &ID, node_type: NodeType) -> Result<Option<E>> {
    let id = ids::decode_numeric(id, node_type)?;
    resolve::entity(ctx, Some(id)).await
}

/// A top-level list: the whole visible city, narrowed by the filter. The filter's
/// jurisdiction becomes the subtree the list is drawn from, so it is read off that
/// subtree's index.
async fn everywhere<E: super::connection::Counted + async_graphql::OutputType>(
    ctx: &Context<'_>,
    conditions: Vec<Condition>,
    paging: Paging,
) -> Result<EntityConnection<E>> {
    let (subtree, conditions): (Vec<_>, Vec<_>) = conditions
        .into_iter()
        .partition(|c| matches!(c, Condition::Within(_)));
    let key = subtree
        .into_iter()
        .find_map(|c| match c {
            Condition::Within(prefix) => Some(prefix),
            _ => None,
        })
        .unwrap_or_default();
    entity_connection(
        ctx,
        relations::IN_SUBTREE,
        Key::Code(key),
        conditions,
        paging,
    )
    .await
}

#[Object]
impl ElementQueries {
    /// Anything by its global id.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Selected<Node>>> {
        let (node_type, key) = ids::decode(&id)?;
        let numeric = || ids::numeric_key(&id, &key);
        let node = match node_type {
            NodeType::Jurisdiction => resolve::jurisdiction(ctx, &key)
                .await?
                .map(Node::Jurisdiction),
            NodeType::Department => loaders(ctx)?
                .departments
                .load_one(key.clone())
                .await
                .map_err(store_error)?
                .map(Node::Department),
            NodeType::Person => resolve::entity(ctx, Some(numeric()?))
                .await?
                .map(Node::Person),
            NodeType::Place => resolve::entity(ctx, Some(numeric()?))
                .await?
                .map(Node::Place),
            NodeType::Thing => resolve::entity(ctx, Some(numeric()?))
                .await?
                .map(Node::Thing),
            NodeType::Organization => resolve::entity(ctx, Some(numeric()?))
                .await?
                .map(Node::Organization),
            NodeType::Event => resolve::entity(ctx, Some(numeric()?))
                .await?
                .map(Node::Event),
            NodeType::Summons => loaders(ctx)?
                .summons_by_id
                .load_one(numeric()?)
                .await
                .map_err(store_error)?
                .map(Node::Summons),
            NodeType::Staff => loaders(ctx)?
                .staff
                .load_one(numeric()?)
                .await
                .map_err(store_error)?
                .map(Node::Staff),
        };
        Ok(node.map(Selected))
    }

    /// Several nodes by global id (at most 100), in the order asked.
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Vec<Option<Selected<Node>>>> {
        if ids.len() > MAX_NODES {
            return Err(ApiError::bad_input(format!("at most {MAX_NODES} ids at a time")).into());
        }
        let lookups = ids.into_iter().map(|id| self.node(ctx, id));
        futures_util::future::try_join_all(lookups).await
    }

    /// Who the request runs as: its name, role, jurisdiction and department, as its
    /// token says. A page signed in with a token reads its own scope here.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer> {
        Ok(Viewer(super::workflow::actor(ctx)?.clone()))
    }

    /// A jurisdiction by its administrative code, e.g. 220402 (龙山区).
    async fn jurisdiction(&self, ctx: &Context<'_>, code: String) -> Result<Option<Jurisdiction>> {
        resolve::jurisdiction(ctx, check_code(&code)?).await
    }

    /// The grid a point lies in (degrees, WGS 84), if it lies in the city and in the
    /// caller's jurisdiction. A point on the edge between two grids lies in both; the one
    /// with the lower code is answered. Its `parent` and `ancestors` are the community,
    /// township and county the point is in.
    async fn at(
        &self,
        ctx: &Context<'_>,
        longitude: f64,
        latitude: f64,
    ) -> Result<Option<Jurisdiction>> {
        let point = Point::new(longitude, latitude).map_err(ApiError::bad_input)?;
        let grid = store(ctx)?.grid_at(point).await.map_err(store_error)?;
        match grid {
            Some(code) => resolve::jurisdiction(ctx, &code).await,
            None => Ok(None),
        }
    }

    /// Jurisdictions ordered by code, optionally of one level or below one parent.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[expect(
        clippy::too_many_arguments,
        reason = "two filters and Relay's four paging arguments"
    )]
    async fn jurisdictions(
        &self,
        ctx: &Context<'_>,
        level: Option<JurisdictionLevel>,
        parent_code: Option<String>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<CodeConnection<Jurisdiction>> {
        if let Some(code) = &parent_code {
            check_code(code)?;
        }
        let page = Paging {
            first,
            after,
            last,
            before,
        }
        .code_page()?;
        let query = JurisdictionQuery { level, parent_code };
        let rows = store(ctx)?
            .list_jurisdictions(resolve::scope(ctx)?, &query, &page)
            .await
            .map_err(store_error)?;
        Ok(code_connection(
            rows,
            &page,
            Total::Jurisdictions(query),
            |j| j.code.clone(),
        ))
    }

    /// A department by code, e.g. 220422-GA (东辽县公安局).
    async fn department(&self, ctx: &Context<'_>, code: String) -> Result<Option<Department>> {
        loaders(ctx)?
            .departments
            .load_one(code)
            .await
            .map_err(store_error)
    }

    /// Departments ordered by code, optionally of one county (e.g. 220422).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn departments(
        &self,
        ctx: &Context<'_>,
        county: Option<String>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<CodeConnection<Department>> {
        if let Some(code) = &county {
            check_code(code)?;
        }
        let page = Paging {
            first,
            after,
            last,
            before,
        }
        .code_page()?;
        let rows = store(ctx)?
            .list_departments(resolve::scope(ctx)?, county.as_deref(), &page)
            .await
            .map_err(store_error)?;
        Ok(code_connection(
            rows,
            &page,
            Total::Departments(county),
            |d| d.code.clone(),
        ))
    }

    /// Summonses waiting on departments, by their next deadline (reporting in until
    /// reported, then handling): a dispatch board's or supervisor's work queue.
    #[graphql(complexity = "page_cost(first, None, child_complexity)")]
    async fn summonses(
        &self,
        ctx: &Context<'_>,
        filter: Option<super::queues::SummonsFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<super::connection::QueueConnection<crate::workflow::Summons>> {
        let paging = Paging {
            first,
            after,
            ..Paging::default()
        };
        super::queues::summonses(ctx, None, filter, paging).await
    }

    /// Who read personal data in clear, and why: the audit rows of the caller's subtree,
    /// oldest first. Administrators only.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<super::audit::AuditLogFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<
        async_graphql::connection::Connection<
            super::connection::IdCursor,
            super::audit::AuditLogEntry,
            super::connection::ListTotal,
        >,
    > {
        let paging = Paging {
            first,
            after,
            last,
            before,
        };
        super::audit::audit_log(ctx, filter, paging).await
    }

    async fn person(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Person>> {
        by_id(ctx, &id, NodeType::Person).await
    }

    async fn place(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Place>> {
        by_id(ctx, &id, NodeType::Place).await
    }

    async fn thing(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Thing>> {
        by_id(ctx, &id, NodeType::Thing).await
    }

    async fn organization(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Organization>> {
        by_id(ctx, &id, NodeType::Organization).await
    }

    async fn event(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Event>> {
        by_id(ctx, &id, NodeType::Event).await
    }

    /// People, ordered by id.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn persons(
        &self,
        ctx: &Context<'_>,
        filter: Option<PersonFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<EntityConnection<Person>> {
        everywhere(
            ctx,
            conditions(&filter)?,
            Paging {
                first,
                after,
                last,
                before,
            },
        )
        .await
    }

    /// Places, ordered by id.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn places(
        &self,
        ctx: &Context<'_>,
        filter: Option<PlaceFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<EntityConnection<Place>> {
        everywhere(
            ctx,
            conditions(&filter)?,
            Paging {
                first,
                after,
                last,
                before,
            },
        )
        .await
    }

    /// Things, ordered by id.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn things(
        &self,
        ctx: &Context<'_>,
        filter: Option<ThingFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<EntityConnection<Thing>> {
        everywhere(
            ctx,
            conditions(&filter)?,
            Paging {
                first,
                after,
                last,
                before,
            },
        )
        .await
    }

    /// Organizations, ordered by id.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrganizationFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<EntityConnection<Organization>> {
        everywhere(
            ctx,
            conditions(&filter)?,
            Paging {
                first,
                after,
                last,
                before,
            },
        )
        .await
    }

    /// Events, ordered by id (which follows the time they were reported).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        filter: Option<EventFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<EntityConnection<Event>> {
        everywhere(
            ctx,
            conditions(&filter)?,
            Paging {
                first,
                after,
                last,
                before,
            },
        )
        .await
    }
}

/// The caller of a request, as its token names it.
pub struct Viewer(crate::access::Actor);

#[Object]
impl Viewer {
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// GRID_WORKER, DISPATCHER, DEPARTMENT_STAFF, SUPERVISOR, ANALYST or ADMIN
    /// (ANONYMOUS while authentication is off).
    async fn role(&self) -> &'static str {
        self.0.role.as_str()
    }

    /// The jurisdiction the caller acts in: everything it reads lies in its subtree.
    /// Null for a city-wide caller without one.
    async fn jurisdiction(&self, ctx: &Context<'_>) -> Result<Option<Jurisdiction>> {
        if self.0.jurisdiction.is_empty() {
            return Ok(None);
        }
        resolve::jurisdiction(ctx, &self.0.jurisdiction).await
    }

    /// The department the caller works for, if any.
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        match &self.0.department {
            Some(code) => resolve::department(ctx, code).await,
            None => Ok(None),
        }
    }

    /// The purpose the request states (`X-Purpose`): personal data the role may see is
    /// read in clear under one.
    async fn purpose(&self) -> Option<&str> {
        self.0.purpose.as_deref()
    }

    /// When the caller's token expires.
    async fn expires_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0
            .expires_at
            .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 0))
    }
}
