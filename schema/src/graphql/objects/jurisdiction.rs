use async_graphql::{Context, ID, Object, Result};

use crate::enums::{JurisdictionKind, JurisdictionLevel};
use crate::graphql::connection::{EntityConnection, Paging, entity_connection, page_cost};
use crate::graphql::filters::{
    EventFilter, OrganizationFilter, PersonFilter, PlaceFilter, ThingFilter, conditions,
};
use crate::graphql::ids::{NodeType, encode};
use crate::graphql::resolve::{self, loaders, store_error};
use crate::model::{Event, Jurisdiction, Organization, Person, Place, Thing};
use crate::store::{Key, relations};

/// The codes of a jurisdiction's ancestors, root first, read off its code: a county's
/// city is `XXXX00`, and each lower level extends its parent's code by three digits.
fn ancestor_codes(code: &str) -> Vec<String> {
    let mut codes = Vec::new();
    if code.len() < 6 || !code.is_ascii() {
        return codes;
    }
    let city = format!("{}00", &code[..4]);
    if city != code {
        codes.push(city);
    }
    codes.extend(
        [6, 9, 12]
            .into_iter()
            .filter(|len| code.len() > *len)
            .map(|len| code[..len].to_owned()),
    );
    codes
}

/// A node of the administrative tree: city, county, township, community or village, grid.
#[Object]
impl Jurisdiction {
    pub async fn id(&self) -> ID {
        encode(NodeType::Jurisdiction, &self.code)
    }

    /// The administrative code (行政区划代码), e.g. 220402.
    async fn code(&self) -> &str {
        &self.code
    }

    async fn name(&self) -> &str {
        &self.name
    }

    async fn level(&self) -> JurisdictionLevel {
        self.level
    }

    async fn kind(&self) -> JurisdictionKind {
        self.kind
    }

    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Jurisdiction>> {
        match &self.parent_code {
            Some(code) => resolve::jurisdiction(ctx, code).await,
            None => Ok(None),
        }
    }

    /// The jurisdictions directly below, ordered by code.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Jurisdiction>> {
        Ok(loaders(ctx)?
            .children
            .load_one(self.code.clone())
            .await
            .map_err(store_error)?
            .unwrap_or_default())
    }

    /// Every jurisdiction above, from the city down to the parent.
    async fn ancestors(&self, ctx: &Context<'_>) -> Result<Vec<Jurisdiction>> {
        let codes = ancestor_codes(&self.code);
        let mut found = loaders(ctx)?
            .jurisdictions
            .load_many(codes.iter().cloned())
            .await
            .map_err(store_error)?;
        Ok(codes.iter().filter_map(|code| found.remove(code)).collect())
    }

    /// People filed anywhere in this subtree.
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
        let paging = Paging {
            first,
            after,
            last,
            before,
        };
        entity_connection(
            ctx,
            relations::IN_SUBTREE,
            self.subtree(),
            conditions(&filter)?,
            paging,
        )
        .await
    }

    /// Places anywhere in this subtree.
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
        let paging = Paging {
            first,
            after,
            last,
            before,
        };
        entity_connection(
            ctx,
            relations::IN_SUBTREE,
            self.subtree(),
            conditions(&filter)?,
            paging,
        )
        .await
    }

    /// Things anywhere in this subtree.
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
        let paging = Paging {
            first,
            after,
            last,
            before,
        };
        entity_connection(
            ctx,
            relations::IN_SUBTREE,
            self.subtree(),
            conditions(&filter)?,
            paging,
        )
        .await
    }

    /// Organizations anywhere in this subtree.
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
        let paging = Paging {
            first,
            after,
            last,
            before,
        };
        entity_connection(
            ctx,
            relations::IN_SUBTREE,
            self.subtree(),
            conditions(&filter)?,
            paging,
        )
        .await
    }

    /// A grid's 法官进网格 "1+4" team; null above the grid level.
    async fn team(&self) -> Option<super::Team> {
        (self.level == crate::enums::JurisdictionLevel::Grid).then(|| super::Team {
            grid_code: self.code.clone(),
        })
    }

    /// The events this level handles (its grids' events while at the township, those
    /// escalated or assigned to it), by deadline (`dueAt`): its work queue.
    #[graphql(complexity = "crate::graphql::connection::page_cost(first, None, child_complexity)")]
    async fn handling_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<crate::graphql::queues::HandlingFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<crate::graphql::connection::QueueConnection<Event>> {
        let paging = Paging {
            first,
            after,
            ..Paging::default()
        };
        let owner = crate::workflow::Owner::Handler(self.code.clone());
        crate::graphql::queues::events(ctx, owner, filter, paging).await
    }

    /// Events anywhere in this subtree.
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
        let paging = Paging {
            first,
            after,
            last,
            before,
        };
        entity_connection(
            ctx,
            relations::IN_SUBTREE,
            self.subtree(),
            conditions(&filter)?,
            paging,
        )
        .await
    }
}

impl Jurisdiction {
    fn subtree(&self) -> Key {
        Key::Code(self.prefix.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::ancestor_codes;

    #[test]
    fn ancestors_are_read_off_the_code_root_first() {
        assert!(ancestor_codes("220400").is_empty());
        assert_eq!(ancestor_codes("220402"), ["220400"]);
        assert_eq!(
            ancestor_codes("220402001002003"),
            ["220400", "220402", "220402001", "220402001002"]
        );
    }
}
