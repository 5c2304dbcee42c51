//! The per-request loaders: every relation and every `node` fetch resolves through one
//! of these, so a level of a query costs one statement per relation, whatever the number
//! of rows (keys gathered by the query's shape: see `batching`). Built per request with
//! the caller's scope.

use std::collections::HashMap;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use connectors::{Element, Federation, Scope};
use futures_util::future::try_join_all;

use super::batching::{BatchKey, Batched, Batches};
use super::federated::Upstream;
use crate::model::{
    Department, EntityLink, Event, EventParty, Jurisdiction, Organization, Person, Place, Staff,
    Thing,
};
use crate::store::{Condition, Entity, Key, ListQuery, Page, Relation, Store, StoreError};
use crate::workflow::{DuePage, EventQueue, Owner, Queue, Summons, SummonsQueue};

pub type LoadError = Arc<StoreError>;

/// Entities by id, within the scope.
pub struct ById<E> {
    store: Store,
    scope: Scope,
    _entity: PhantomData<fn() -> E>,
}

impl<E: Entity> Loader<i64> for ById<E> {
    type Value = E;
    type Error = LoadError;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, E>, LoadError> {
        let rows = self.store.by_ids::<E>(&self.scope, ids).await?;
        Ok(rows.into_iter().map(|row| (row.id(), row)).collect())
    }
}

/// A page of related rows: the parent's key plus the list's conditions and page.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub relation: Relation,
    pub key: Key,
    pub query: ListQuery,
}

pub struct Pages<E> {
    store: Store,
    scope: Scope,
    _entity: PhantomData<fn() -> E>,
}

impl<E: Entity> Loader<PageKey> for Pages<E> {
    type Value = Page<E>;
    type Error = LoadError;

    async fn load(&self, keys: &[PageKey]) -> Result<HashMap<PageKey, Page<E>>, LoadError> {
        // Parents asking for the same list the same way share one statement.
        let groups = group(keys, |k| (k.relation, k.query.clone()), |k| k.key.clone());
        let loaded = try_join_all(groups.into_iter().map(
            |((relation, query), parents)| async move {
                let mut pages = self
                    .store
                    .list_pages::<E>(&self.scope, relation, &parents, &query)
                    .await?;
                Ok::<_, StoreError>(
                    parents
                        .into_iter()
                        .map(|key| {
                            let page = pages.remove(&key).unwrap_or_else(Page::empty);
                            (
                                PageKey {
                                    relation,
                                    key,
                                    query: query.clone(),
                                },
                                page,
                            )
                        })
                        .collect::<Vec<_>>(),
                )
            },
        ))
        .await?;
        Ok(loaded.into_iter().flatten().collect())
    }
}

/// The total of a list: the parent's key plus the list's conditions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CountKey {
    pub relation: Relation,
    pub key: Key,
    pub conditions: Vec<Condition>,
}

pub struct Counts<E> {
    store: Store,
    scope: Scope,
    _entity: PhantomData<fn() -> E>,
}

impl<E: Entity> Loader<CountKey> for Counts<E> {
    type Value = i64;
    type Error = LoadError;

    async fn load(&self, keys: &[CountKey]) -> Result<HashMap<CountKey, i64>, LoadError> {
        let groups = group(
            keys,
            |k| (k.relation, k.conditions.clone()),
            |k| k.key.clone(),
        );
        let loaded = try_join_all(groups.into_iter().map(
            |((relation, conditions), parents)| async move {
                let counts = self
                    .store
                    .count_lists::<E>(&self.scope, relation, &parents, &conditions)
                    .await?;
                Ok::<_, StoreError>(
                    parents
                        .into_iter()
                        .map(|key| {
                            let total = counts.get(&key).copied().unwrap_or(0);
                            (
                                CountKey {
                                    relation,
                                    key,
                                    conditions: conditions.clone(),
                                },
                                total,
                            )
                        })
                        .collect::<Vec<_>>(),
                )
            },
        ))
        .await?;
        Ok(loaded.into_iter().flatten().collect())
    }
}

fn group<K, G: Hash + Eq, P>(
    keys: &[K],
    by: impl Fn(&K) -> G,
    part: impl Fn(&K) -> P,
) -> HashMap<G, Vec<P>> {
    let mut groups: HashMap<G, Vec<P>> = HashMap::new();
    for key in keys {
        groups.entry(by(key)).or_default().push(part(key));
    }
    groups
}

pub struct JurisdictionsByCode(Store, Scope);

impl Loader<String> for JurisdictionsByCode {
    type Value = Jurisdiction;
    type Error = LoadError;

    async fn load(&self, codes: &[String]) -> Result<HashMap<String, Jurisdiction>, LoadError> {
        let rows = self.0.jurisdictions_by_code(&self.1, codes).await?;
        Ok(rows
            .into_iter()
            .map(|row| (row.code.clone(), row))
            .collect())
    }
}

/// The children of each jurisdiction, ordered by code.
pub struct ChildrenOf(Store, Scope);

impl Loader<String> for ChildrenOf {
    type Value = Vec<Jurisdiction>;
    type Error = LoadError;

    async fn load(
        &self,
        codes: &[String],
    ) -> Result<HashMap<String, Vec<Jurisdiction>>, LoadError> {
        let mut children: HashMap<String, Vec<Jurisdiction>> = codes
            .iter()
            .map(|code| (code.clone(), Vec::new()))
            .collect();
        for row in self.0.jurisdiction_children(&self.1, codes).await? {
            if let Some(siblings) = row.parent_code.as_ref().and_then(|p| children.get_mut(p)) {
                siblings.push(row);
            }
        }
        Ok(children)
    }
}

pub struct DepartmentsByCode(Store, Scope);

impl Loader<String> for DepartmentsByCode {
    type Value = Department;
    type Error = LoadError;

    async fn load(&self, codes: &[String]) -> Result<HashMap<String, Department>, LoadError> {
        let rows = self.0.departments_by_code(&self.1, codes).await?;
        Ok(rows
            .into_iter()
            .map(|row| (row.code.clone(), row))
            .collect())
    }
}

/// Each event's parties in order.
pub struct PartiesOf(Store, Scope);

impl Loader<i64> for PartiesOf {
    type Value = Vec<EventParty>;
    type Error = LoadError;

    async fn load(&self, event_ids: &[i64]) -> Result<HashMap<i64, Vec<EventParty>>, LoadError> {
        let mut parties: HashMap<i64, Vec<EventParty>> = HashMap::new();
        for row in self.0.event_parties(&self.1, event_ids).await? {
            parties.entry(row.event_id).or_default().push(row);
        }
        Ok(parties)
    }
}

/// The department records held on each entity (or, for `events`, on each event).
pub struct LinksOf {
    store: Store,
    events: bool,
}

impl Loader<i64> for LinksOf {
    type Value = Vec<EntityLink>;
    type Error = LoadError;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<EntityLink>>, LoadError> {
        let rows = if self.events {
            self.store.event_links(ids).await?
        } else {
            self.store.entity_links(ids).await?
        };
        let mut links: HashMap<i64, Vec<EntityLink>> = HashMap::new();
        for row in rows {
            links.entry(row.entity_id).or_default().push(row);
        }
        Ok(links)
    }
}

/// Summonses by id.
pub struct SummonsById(Store, Scope);

impl Loader<i64> for SummonsById {
    type Value = Summons;
    type Error = LoadError;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, Summons>, LoadError> {
        Ok(self
            .0
            .summonses_by_id(&self.1, ids)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect())
    }
}

/// The summonses of each event.
pub struct SummonsesOf(Store, Scope);

impl Loader<i64> for SummonsesOf {
    type Value = Vec<Summons>;
    type Error = LoadError;

    async fn load(&self, event_ids: &[i64]) -> Result<HashMap<i64, Vec<Summons>>, LoadError> {
        let mut found: HashMap<i64, Vec<Summons>> = HashMap::new();
        for summons in self.0.summonses(&self.1, event_ids).await? {
            found.entry(summons.event_id).or_default().push(summons);
        }
        Ok(found)
    }
}

/// Each event's mediations, oldest first.
pub struct MediationsOf(Store);

impl Loader<i64> for MediationsOf {
    type Value = Vec<crate::workflow::Mediation>;
    type Error = LoadError;

    async fn load(
        &self,
        event_ids: &[i64],
    ) -> Result<HashMap<i64, Vec<crate::workflow::Mediation>>, LoadError> {
        let mut found: HashMap<i64, Vec<_>> = HashMap::new();
        for mediation in self.0.mediations(event_ids).await? {
            found.entry(mediation.event_id).or_default().push(mediation);
        }
        Ok(found)
    }
}

/// What was asked of department systems about each event, oldest first.
pub struct WritesOf(Store);

impl Loader<i64> for WritesOf {
    type Value = Vec<crate::workflow::DepartmentWrite>;
    type Error = LoadError;

    async fn load(
        &self,
        event_ids: &[i64],
    ) -> Result<HashMap<i64, Vec<crate::workflow::DepartmentWrite>>, LoadError> {
        let mut found: HashMap<i64, Vec<_>> = HashMap::new();
        for write in self.0.department_writes(event_ids).await? {
            found.entry(write.event_id).or_default().push(write);
        }
        Ok(found)
    }
}

/// One page of a work queue.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueueKey<O, F> {
    pub owner: O,
    pub filter: F,
    pub page: DuePage,
}

/// Keys grouped by what they share besides their owner: one statement per group.
fn by_filter<O: Clone, F: Clone + Eq + Hash>(
    keys: &[QueueKey<O, F>],
) -> HashMap<(F, DuePage), Vec<O>> {
    let mut groups: HashMap<(F, DuePage), Vec<O>> = HashMap::new();
    for key in keys {
        groups
            .entry((key.filter.clone(), key.page))
            .or_default()
            .push(key.owner.clone());
    }
    groups
}

/// Pages of work queues of `Q` (a department's summonses, a level's events, ...).
pub struct Queues<Q>(Store, Scope, PhantomData<fn() -> Q>);

impl<Q: Queue> Loader<QueueKey<Owner, Q::Filter>> for Queues<Q> {
    type Value = Page<Q::Row>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[QueueKey<Owner, Q::Filter>],
    ) -> Result<HashMap<QueueKey<Owner, Q::Filter>, Page<Q::Row>>, LoadError> {
        let mut found = HashMap::new();
        for ((filter, page), owners) in by_filter(keys) {
            let pages = self
                .0
                .queue_pages::<Q>(&self.1, &owners, &filter, page)
                .await?;
            for (owner, rows) in pages {
                let key = QueueKey {
                    owner,
                    filter: filter.clone(),
                    page,
                };
                found.insert(key, rows);
            }
        }
        Ok(found)
    }
}

/// The sizes of work queues of `Q`.
pub struct QueueCounts<Q>(Store, Scope, PhantomData<fn() -> Q>);

impl<Q: Queue> Loader<(Owner, Q::Filter)> for QueueCounts<Q> {
    type Value = i64;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[(Owner, Q::Filter)],
    ) -> Result<HashMap<(Owner, Q::Filter), i64>, LoadError> {
        let mut groups: HashMap<Q::Filter, Vec<Owner>> = HashMap::new();
        for (owner, filter) in keys {
            groups
                .entry(filter.clone())
                .or_default()
                .push(owner.clone());
        }
        let mut found = HashMap::new();
        for (filter, owners) in groups {
            for (owner, n) in self.0.queue_counts::<Q>(&self.1, &owners, &filter).await? {
                found.insert((owner, filter.clone()), n);
            }
        }
        Ok(found)
    }
}

/// A queue's page loader and count loader.
pub struct QueueLoaders<Q: Queue> {
    pub pages: Batched<QueueKey<Owner, Q::Filter>, Queues<Q>>,
    pub counts: Batched<(Owner, Q::Filter), QueueCounts<Q>>,
}

impl<Q: Queue> QueueLoaders<Q> {
    fn new(store: &Store, scope: &Scope, batches: &Batches) -> Self {
        Self {
            pages: Batched::new(Queues(store.clone(), scope.clone(), PhantomData), batches),
            counts: Batched::new(
                QueueCounts(store.clone(), scope.clone(), PhantomData),
                batches,
            ),
        }
    }
}

/// Staff by id.
pub struct StaffById(Store, Scope);

impl Loader<i64> for StaffById {
    type Value = Staff;
    type Error = LoadError;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, Staff>, LoadError> {
        let rows = self.0.staff_by_ids(&self.1, ids).await?;
        Ok(rows.into_iter().map(|staff| (staff.id, staff)).collect())
    }
}

/// The team of each grid.
pub struct TeamsOf(Store);

impl Loader<String> for TeamsOf {
    type Value = Vec<Staff>;
    type Error = LoadError;

    async fn load(&self, grids: &[String]) -> Result<HashMap<String, Vec<Staff>>, LoadError> {
        Ok(self.0.teams(grids).await?)
    }
}

/// The grids each staff member serves.
pub struct GridsServed(Store);

impl Loader<i64> for GridsServed {
    type Value = Vec<String>;
    type Error = LoadError;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<String>>, LoadError> {
        Ok(self.0.grids_served(ids).await?)
    }
}

/// The loaders of one entity type.
pub struct EntityLoaders<E: Entity> {
    pub by_id: Batched<i64, ById<E>>,
    pub pages: Batched<PageKey, Pages<E>>,
    pub counts: Batched<CountKey, Counts<E>>,
}

impl<E: Entity> EntityLoaders<E> {
    fn new(store: &Store, scope: &Scope, batches: &Batches) -> Self {
        Self {
            by_id: Batched::new(
                ById {
                    store: store.clone(),
                    scope: scope.clone(),
                    _entity: PhantomData,
                },
                batches,
            ),
            pages: Batched::new(
                Pages {
                    store: store.clone(),
                    scope: scope.clone(),
                    _entity: PhantomData,
                },
                batches,
            ),
            counts: Batched::new(
                Counts {
                    store: store.clone(),
                    scope: scope.clone(),
                    _entity: PhantomData,
                },
                batches,
            ),
        }
    }
}

/// Everything a request resolves through, with the scope it was built for.
pub struct Loaders {
    pub scope: Scope,
    pub jurisdictions: Batched<String, JurisdictionsByCode>,
    pub children: Batched<String, ChildrenOf>,
    pub departments: Batched<String, DepartmentsByCode>,
    pub parties: Batched<i64, PartiesOf>,
    /// The department records held on each element's rows.
    pub links: PerElement<i64, LinksOf>,
    /// Department records, fetched through the connectors.
    pub upstream: PerElement<super::federated::UpstreamKey, Upstream>,
    pub summons_by_id: Batched<i64, SummonsById>,
    pub summonses: Batched<i64, SummonsesOf>,
    pub mediations: Batched<i64, MediationsOf>,
    pub department_writes: Batched<i64, WritesOf>,
    pub summons_queues: QueueLoaders<SummonsQueue>,
    pub event_queues: QueueLoaders<EventQueue>,
    pub staff: Batched<i64, StaffById>,
    pub teams: Batched<String, TeamsOf>,
    pub grids_served: Batched<i64, GridsServed>,
    pub persons: EntityLoaders<Person>,
    pub places: EntityLoaders<Place>,
    pub things: EntityLoaders<Thing>,
    pub organizations: EntityLoaders<Organization>,
    pub events: EntityLoaders<Event>,
}

impl Loaders {
    /// Loaders for one request, queueing their keys in `batches`.
    pub fn new(
        store: &Store,
        federation: &Arc<Federation>,
        scope: Scope,
        batches: &Batches,
    ) -> Self {
        let links = |events| LinksOf {
            store: store.clone(),
            events,
        };
        Self {
            jurisdictions: Batched::new(JurisdictionsByCode(store.clone(), scope.clone()), batches),
            children: Batched::new(ChildrenOf(store.clone(), scope.clone()), batches),
            departments: Batched::new(DepartmentsByCode(store.clone(), scope.clone()), batches),
            parties: Batched::new(PartiesOf(store.clone(), scope.clone()), batches),
            links: PerElement::new(|element| {
                Batched::new(links(element == Element::Event), batches)
            }),
            summons_by_id: Batched::new(SummonsById(store.clone(), scope.clone()), batches),
            summonses: Batched::new(SummonsesOf(store.clone(), scope.clone()), batches),
            mediations: Batched::new(MediationsOf(store.clone()), batches),
            department_writes: Batched::new(WritesOf(store.clone()), batches),
            summons_queues: QueueLoaders::new(store, &scope, batches),
            event_queues: QueueLoaders::new(store, &scope, batches),
            staff: Batched::new(StaffById(store.clone(), scope.clone()), batches),
            teams: Batched::new(TeamsOf(store.clone()), batches),
            grids_served: Batched::new(GridsServed(store.clone()), batches),
            // The departments' own `max_batch` chunks a level's department records.
            upstream: PerElement::new(|_| {
                Batched::new(Upstream::new(federation.clone(), scope.clone()), batches)
            }),
            persons: EntityLoaders::new(store, &scope, batches),
            places: EntityLoaders::new(store, &scope, batches),
            things: EntityLoaders::new(store, &scope, batches),
            organizations: EntityLoaders::new(store, &scope, batches),
            events: EntityLoaders::new(store, &scope, batches),
            scope,
        }
    }
}

/// One loader per element: a level of one element's rows (persons, say) is gathered on
/// its own, never split by the timing of another element's level that shares a loader.
pub struct PerElement<K: BatchKey, T: Loader<K>> {
    loaders: Vec<Batched<K, T>>,
}

impl<K: BatchKey, T: Loader<K>> PerElement<K, T> {
    fn new(make: impl Fn(Element) -> Batched<K, T>) -> Self {
        Self {
            loaders: Element::ALL.into_iter().map(make).collect(),
        }
    }

    pub fn of(&self, element: Element) -> &Batched<K, T> {
        let index = Element::ALL
            .iter()
            .position(|e| *e == element)
            .unwrap_or_default();
        &self.loaders[index]
    }
}

/// A request's loaders, built when first used: a subscription waiting for its first
/// signal holds none of them.
pub struct RequestLoaders {
    store: Store,
    federation: Arc<Federation>,
    scope: Scope,
    /// Where its loaders queue their keys.
    batches: Batches,
    /// Boxed: an idle subscription's request data then holds a pointer, not every loader.
    built: std::sync::OnceLock<Box<Loaders>>,
}

impl RequestLoaders {
    pub fn new(store: &Store, federation: &Arc<Federation>, scope: Scope) -> Self {
        Self {
            store: store.clone(),
            federation: federation.clone(),
            scope,
            batches: Batches::default(),
            built: std::sync::OnceLock::new(),
        }
    }

    /// The caller's scope, without building the loaders.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    pub fn get(&self) -> &Loaders {
        self.built.get_or_init(|| {
            Box::new(Loaders::new(
                &self.store,
                &self.federation,
                self.scope.clone(),
                &self.batches,
            ))
        })
    }

    /// Where the loaders queue their keys, for the driver of each execution.
    pub fn batches(&self) -> Batches {
        self.batches.clone()
    }
}

/// Reaches the loaders of an entity type generically.
pub trait Loaded: Entity {
    fn loaders(loaders: &Loaders) -> &EntityLoaders<Self>;
}

macro_rules! loaded {
    ($($entity:ty => $field:ident),+) => {$(
        impl Loaded for $entity {
            fn loaders(loaders: &Loaders) -> &EntityLoaders<Self> {
                &loaders.$field
            }
        }
    )+};
}

loaded!(Person => persons, Place => places, Thing => things, Organization => organizations, Event => events);
