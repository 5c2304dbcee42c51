//! 网格员信息采集 over GraphQL: persons, places, things and organizations created and
//! updated, memberships, duplicates merged, and each element's history.
//!
//! What a collector types is checked here (ID-card check digit, phone numbers, credit
//! codes, lengths, positions); where it lies and what it duplicates is checked by the
//! store, in the change's transaction.

use async_graphql::{
    ComplexObject, Context, ID, InputObject, Json, MaybeUndefined, Object, Result, SimpleObject,
    Union,
};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::filters::check_code;
use super::ids::{NodeType, decode, decode_numeric, numeric_key};
use super::resolve;
use super::workflow::{TimelineActor, actor, store, workflow_error};
use crate::enums::*;
use crate::error::ApiError;
use crate::identifiers;
use crate::model::{Organization, Person, Place, Thing};
use crate::store::Point;
use crate::workflow::{Candidate, Collected, Draft, ElementChange};

/// A person, a place, a thing or an organization of the index.
#[derive(Union)]
pub enum Element {
    Person(Person),
    Place(Place),
    Thing(Thing),
    Organization(Organization),
}

/// The element `id` of type `element`, as the caller sees it.
pub(super) async fn element(
    ctx: &Context<'_>,
    element: ElementType,
    id: i64,
) -> Result<Option<Element>> {
    Ok(match element {
        ElementType::Person => resolve::entity(ctx, Some(id)).await?.map(Element::Person),
        ElementType::Place => resolve::entity(ctx, Some(id)).await?.map(Element::Place),
        ElementType::Thing => resolve::entity(ctx, Some(id)).await?.map(Element::Thing),
        ElementType::Organization => resolve::entity(ctx, Some(id))
            .await?
            .map(Element::Organization),
    })
}

/// One change to an element: who, when, from which source, each field before → after.
#[Object]
impl ElementChange {
    /// Read the history on after this.
    async fn cursor(&self) -> ID {
        ID(self.id.to_string())
    }

    async fn kind(&self) -> ElementChangeKind {
        self.kind
    }

    async fn element_type(&self) -> ElementType {
        self.entity_type
    }

    async fn at(&self) -> DateTime<Utc> {
        self.at
    }

    async fn actor(&self) -> TimelineActor {
        TimelineActor {
            name: self.actor.clone(),
            role: self.actor_role.clone(),
            department_code: self.actor_department.clone(),
        }
    }

    /// `GRID` for what was collected, or the code of the department whose feed brought it.
    async fn source(&self) -> &str {
        &self.source
    }

    /// Each field the change set: `{"phone": {"before": ..., "after": ...}}` (columns
    /// as stored; personal fields are masked unless the caller reads them in clear).
    async fn changes(&self, ctx: &Context<'_>) -> Result<Json<Value>> {
        Ok(Json(masked(ctx, &self.changes)?))
    }

    /// What else it carried: the duplicate merged and what followed it, a membership's
    /// organization or person.
    async fn detail(&self, ctx: &Context<'_>) -> Result<Json<Value>> {
        Ok(Json(masked(ctx, &self.detail)?))
    }
}

/// Personal fields in a history value, masked for a caller who may not read them.
fn masked(ctx: &Context<'_>, value: &Value) -> Result<Value> {
    let actor = actor(ctx)?;
    let hide_id = !actor.sees(crate::access::PersonalField::IdNumber);
    let hide_phone = !actor.sees(crate::access::PersonalField::Phone);
    Ok(mask_fields(value, hide_id, hide_phone))
}

fn mask_fields(value: &Value, hide_id: bool, hide_phone: bool) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| {
                    let hide = (key == "id_number" && hide_id) || (key == "phone" && hide_phone);
                    let value = if hide {
                        mask_leaves(value)
                    } else {
                        mask_fields(value, hide_id, hide_phone)
                    };
                    (key.clone(), value)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn mask_leaves(value: &Value) -> Value {
    match value {
        Value::String(text) => Value::String(connectors::mask(text)),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), mask_leaves(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// An element taken for a duplicate of the one being written.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Duplicate {
    #[graphql(skip)]
    candidate: Candidate,
    reason: DuplicateReason,
    /// How alike the names are, 0 to 1.
    similarity: f32,
}

#[ComplexObject]
impl Duplicate {
    async fn element(&self, ctx: &Context<'_>) -> Result<Option<Element>> {
        element(ctx, self.candidate.element, self.candidate.id).await
    }
}

/// What a collection change did.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CollectionPayload {
    #[graphql(skip)]
    collected: Collected,
    /// Elements taken for duplicates. When any is listed nothing was written: update or
    /// merge the one it duplicates, or — when every one is only near-identical — create
    /// again naming them in `distinctFrom`.
    duplicates: Vec<Duplicate>,
    /// The history rows the change appended (none when nothing changed).
    changes: Vec<ElementChange>,
    /// True when this idempotency key had been used: nothing was done again.
    replayed: bool,
}

#[ComplexObject]
impl CollectionPayload {
    /// The element as it is now (none when duplicates stopped its creation).
    async fn element(&self, ctx: &Context<'_>) -> Result<Option<Element>> {
        match self.collected.id {
            Some(id) => element(ctx, self.collected.element, id).await,
            None => Ok(None),
        }
    }
}

impl From<Collected> for CollectionPayload {
    fn from(collected: Collected) -> Self {
        Self {
            duplicates: collected
                .duplicates
                .iter()
                .map(|candidate| Duplicate {
                    candidate: candidate.clone(),
                    reason: candidate.reason,
                    similarity: candidate.similarity,
                })
                .collect(),
            changes: collected.changes.clone(),
            replayed: collected.replayed,
            collected,
        }
    }
}

/// A person as collected. `idNumber` gives gender and birth date; the grid follows the
/// home unless `gridCode` is given. On update, fields left out stay as they are; `phone`
/// and `residenceId` set to null clear them.
#[derive(InputObject, Default)]
pub struct PersonInput {
    pub name: Option<String>,
    /// 居民身份证号码, 18 characters with its check character.
    pub id_number: Option<String>,
    /// A mobile number or a landline with its area code.
    pub phone: MaybeUndefined<String>,
    /// Where the person lives (a Place's id).
    pub residence_id: MaybeUndefined<ID>,
    pub grid_code: Option<String>,
}

/// A place as collected. Its grid is the one its position lies in unless `gridCode` is
/// given (then the position must lie in it); its address may not name another county or
/// township.
#[derive(InputObject, Default)]
pub struct PlaceInput {
    pub name: Option<String>,
    pub kind: Option<PlaceKind>,
    pub address: Option<String>,
    /// Degrees (WGS 84); both or neither, null to clear.
    pub longitude: MaybeUndefined<f64>,
    pub latitude: MaybeUndefined<f64>,
    pub grid_code: Option<String>,
}

/// A thing as collected; its grid follows its place unless `gridCode` is given.
#[derive(InputObject, Default)]
pub struct ThingInput {
    pub name: Option<String>,
    pub kind: Option<ThingKind>,
    /// Its registration or serial number.
    pub identifier: Option<String>,
    pub place_id: MaybeUndefined<ID>,
    /// Who owns it: a Person's or an Organization's id.
    pub owner_id: MaybeUndefined<ID>,
    pub grid_code: Option<String>,
}

/// An organization as collected; its grid follows its place unless `gridCode` is given.
#[derive(InputObject, Default)]
pub struct OrganizationInput {
    pub name: Option<String>,
    pub kind: Option<OrganizationKind>,
    /// 统一社会信用代码, 18 characters with its check character.
    pub credit_code: Option<String>,
    pub place_id: MaybeUndefined<ID>,
    pub grid_code: Option<String>,
}

/// Builds the columns of a draft, checking what was typed.
struct Fields {
    values: Map<String, Value>,
    creating: bool,
}

impl Fields {
    fn new(creating: bool) -> Self {
        Self {
            values: Map::new(),
            creating,
        }
    }

    fn set(&mut self, column: &str, value: Value) {
        self.values.insert(column.to_owned(), value);
    }

    /// Text of 1 to `max` characters, trimmed; required when creating.
    fn text(&mut self, name: &str, column: &str, value: &Option<String>, max: usize) -> Result<()> {
        match value.as_deref().map(str::trim) {
            Some(text) if text.is_empty() || text.chars().count() > max => {
                Err(ApiError::bad_input(format!("`{name}` is 1 to {max} characters")).into())
            }
            Some(text) => {
                self.set(column, json!(text));
                Ok(())
            }
            None if self.creating => {
                Err(ApiError::bad_input(format!("`{name}` is required")).into())
            }
            None => Ok(()),
        }
    }

    fn kind(&mut self, value: Option<&'static str>) -> Result<()> {
        match value {
            Some(kind) => self.set("kind", json!(kind)),
            None if self.creating => return Err(ApiError::bad_input("`kind` is required").into()),
            None => {}
        }
        Ok(())
    }

    /// An id of one of `types` (null clears it).
    fn reference(
        &mut self,
        name: &str,
        column: &str,
        value: &MaybeUndefined<ID>,
        types: &[NodeType],
    ) -> Result<()> {
        match value {
            MaybeUndefined::Undefined => {}
            MaybeUndefined::Null => self.set(column, Value::Null),
            MaybeUndefined::Value(id) => {
                let (node_type, key) = decode(id)?;
                if !types.contains(&node_type) {
                    let expected: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
                    return Err(ApiError::bad_input(format!(
                        "`{name}` names a {}, not a {}",
                        node_type.as_str(),
                        expected.join(" or ")
                    ))
                    .into());
                }
                self.set(column, json!(numeric_key(id, &key)?));
            }
        }
        Ok(())
    }

    fn draft(self, element: ElementType, grid: &Option<String>) -> Result<Draft> {
        let grid = grid
            .as_deref()
            .map(|code| check_code(code).map(str::to_owned))
            .transpose()?;
        Ok(Draft {
            element,
            values: self.values,
            grid,
        })
    }
}

fn invalid(error: identifiers::InvalidIdentifier) -> async_graphql::Error {
    ApiError::bad_input(error.to_string()).into()
}

impl PersonInput {
    fn draft(&self, creating: bool) -> Result<Draft> {
        let mut fields = Fields::new(creating);
        fields.text("name", "name", &self.name, 50)?;
        match &self.id_number {
            Some(typed) => {
                let number = identifiers::id_number(typed).map_err(invalid)?;
                let birth = format!("{}-{}-{}", &number[6..10], &number[10..12], &number[12..14]);
                // The 17th digit is odd for men, even for women.
                let odd = number.as_bytes()[16] % 2 == 1;
                fields.set("id_number", json!(number));
                fields.set("birth_date", json!(birth));
                fields.set("gender", json!(if odd { "MALE" } else { "FEMALE" }));
            }
            None if creating => return Err(ApiError::bad_input("`idNumber` is required").into()),
            None => {}
        }
        match &self.phone {
            MaybeUndefined::Undefined => {}
            MaybeUndefined::Null => fields.set("phone", Value::Null),
            MaybeUndefined::Value(typed) => {
                fields.set("phone", json!(identifiers::phone(typed).map_err(invalid)?));
            }
        }
        fields.reference(
            "residenceId",
            "residence_place_id",
            &self.residence_id,
            &[NodeType::Place],
        )?;
        fields.draft(ElementType::Person, &self.grid_code)
    }
}

impl PlaceInput {
    fn draft(&self, creating: bool) -> Result<Draft> {
        let mut fields = Fields::new(creating);
        fields.text("name", "name", &self.name, 100)?;
        fields.kind(self.kind.map(PlaceKind::as_str))?;
        fields.text("address", "address", &self.address, 200)?;
        match (&self.longitude, &self.latitude) {
            (MaybeUndefined::Undefined, MaybeUndefined::Undefined) => {}
            (MaybeUndefined::Null, MaybeUndefined::Null) => {
                fields.set("longitude", Value::Null);
                fields.set("latitude", Value::Null);
            }
            (MaybeUndefined::Value(longitude), MaybeUndefined::Value(latitude)) => {
                let point = Point::new(*longitude, *latitude).map_err(ApiError::bad_input)?;
                fields.set("longitude", json!(point.longitude));
                fields.set("latitude", json!(point.latitude));
            }
            _ => {
                return Err(
                    ApiError::bad_input("give both longitude and latitude, or neither").into(),
                );
            }
        }
        fields.draft(ElementType::Place, &self.grid_code)
    }
}

impl ThingInput {
    fn draft(&self, creating: bool) -> Result<Draft> {
        let mut fields = Fields::new(creating);
        fields.text("name", "name", &self.name, 100)?;
        fields.kind(self.kind.map(ThingKind::as_str))?;
        fields.text("identifier", "identifier", &self.identifier, 64)?;
        fields.reference("placeId", "place_id", &self.place_id, &[NodeType::Place])?;
        fields.reference(
            "ownerId",
            "owner_id",
            &self.owner_id,
            &[NodeType::Person, NodeType::Organization],
        )?;
        fields.draft(ElementType::Thing, &self.grid_code)
    }
}

impl OrganizationInput {
    fn draft(&self, creating: bool) -> Result<Draft> {
        let mut fields = Fields::new(creating);
        fields.text("name", "name", &self.name, 100)?;
        fields.kind(self.kind.map(OrganizationKind::as_str))?;
        match &self.credit_code {
            Some(typed) => {
                let code = identifiers::credit_code(typed).map_err(invalid)?;
                fields.set("credit_code", json!(code));
            }
            None if creating => return Err(ApiError::bad_input("`creditCode` is required").into()),
            None => {}
        }
        fields.reference("placeId", "place_id", &self.place_id, &[NodeType::Place])?;
        fields.draft(ElementType::Organization, &self.grid_code)
    }
}

fn ids_of(ids: &[ID], node_type: NodeType) -> Result<Vec<i64>> {
    Ok(ids
        .iter()
        .map(|id| decode_numeric(id, node_type))
        .collect::<Result<_, _>>()?)
}

async fn create(
    ctx: &Context<'_>,
    key: &str,
    draft: Result<Draft>,
    distinct_from: Option<Vec<ID>>,
    node_type: NodeType,
) -> Result<CollectionPayload> {
    let draft = draft?;
    let distinct = ids_of(&distinct_from.unwrap_or_default(), node_type)?;
    store(ctx)?
        .create_element(key, actor(ctx)?, &draft, &distinct)
        .await
        .map(Into::into)
        .map_err(workflow_error)
}

async fn update(
    ctx: &Context<'_>,
    key: &str,
    id: &ID,
    draft: Result<Draft>,
    node_type: NodeType,
) -> Result<CollectionPayload> {
    let id = decode_numeric(id, node_type)?;
    let draft = draft?;
    store(ctx)?
        .update_element(key, actor(ctx)?, id, &draft)
        .await
        .map(Into::into)
        .map_err(workflow_error)
}

/// The element type both ids name, or why they cannot be merged.
fn same_type(keep: &ID, duplicate: &ID) -> Result<(ElementType, i64, i64)> {
    let (keep_type, keep_key) = decode(keep)?;
    let (duplicate_type, duplicate_key) = decode(duplicate)?;
    let element = match keep_type {
        NodeType::Person => ElementType::Person,
        NodeType::Place => ElementType::Place,
        NodeType::Thing => ElementType::Thing,
        NodeType::Organization => ElementType::Organization,
        other => {
            return Err(ApiError::bad_input(format!(
                "a {} is not an element that can be merged",
                other.as_str()
            ))
            .into());
        }
    };
    if keep_type != duplicate_type {
        return Err(ApiError::bad_input(format!(
            "a {} cannot be merged into a {}",
            duplicate_type.as_str(),
            keep_type.as_str()
        ))
        .into());
    }
    Ok((
        element,
        numeric_key(keep, &keep_key)?,
        numeric_key(duplicate, &duplicate_key)?,
    ))
}

#[derive(Default)]
pub struct CollectionMutations;

#[Object]
impl CollectionMutations {
    /// 采集: a person into the index, unless a duplicate is found (then nothing is
    /// written and `duplicates` lists it).
    async fn create_person(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        input: PersonInput,
        distinct_from: Option<Vec<ID>>,
    ) -> Result<CollectionPayload> {
        let draft = input.draft(true);
        create(
            ctx,
            &idempotency_key,
            draft,
            distinct_from,
            NodeType::Person,
        )
        .await
    }

    async fn create_place(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        input: PlaceInput,
        distinct_from: Option<Vec<ID>>,
    ) -> Result<CollectionPayload> {
        let draft = input.draft(true);
        create(ctx, &idempotency_key, draft, distinct_from, NodeType::Place).await
    }

    async fn create_thing(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        input: ThingInput,
        distinct_from: Option<Vec<ID>>,
    ) -> Result<CollectionPayload> {
        let draft = input.draft(true);
        create(ctx, &idempotency_key, draft, distinct_from, NodeType::Thing).await
    }

    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        input: OrganizationInput,
        distinct_from: Option<Vec<ID>>,
    ) -> Result<CollectionPayload> {
        let draft = input.draft(true);
        create(
            ctx,
            &idempotency_key,
            draft,
            distinct_from,
            NodeType::Organization,
        )
        .await
    }

    /// Sets the fields given; the others stay as they are.
    async fn update_person(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        id: ID,
        input: PersonInput,
    ) -> Result<CollectionPayload> {
        update(
            ctx,
            &idempotency_key,
            &id,
            input.draft(false),
            NodeType::Person,
        )
        .await
    }

    async fn update_place(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        id: ID,
        input: PlaceInput,
    ) -> Result<CollectionPayload> {
        update(
            ctx,
            &idempotency_key,
            &id,
            input.draft(false),
            NodeType::Place,
        )
        .await
    }

    async fn update_thing(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        id: ID,
        input: ThingInput,
    ) -> Result<CollectionPayload> {
        update(
            ctx,
            &idempotency_key,
            &id,
            input.draft(false),
            NodeType::Thing,
        )
        .await
    }

    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        id: ID,
        input: OrganizationInput,
    ) -> Result<CollectionPayload> {
        let draft = input.draft(false);
        update(ctx, &idempotency_key, &id, draft, NodeType::Organization).await
    }

    /// A person joins an organization in a role, or takes another role in it.
    async fn add_member(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        organization_id: ID,
        person_id: ID,
        role: OrganizationRole,
    ) -> Result<CollectionPayload> {
        membership(
            ctx,
            &idempotency_key,
            &organization_id,
            &person_id,
            Some(role),
        )
        .await
    }

    async fn remove_member(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        organization_id: ID,
        person_id: ID,
    ) -> Result<CollectionPayload> {
        membership(ctx, &idempotency_key, &organization_id, &person_id, None).await
    }

    /// Merges a duplicate into the element it duplicates (two of one type): its events,
    /// relations and department links follow, the kept element takes its values where it
    /// has none, and the duplicate is deleted. Both histories say so.
    async fn merge_elements(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        keep_id: ID,
        duplicate_id: ID,
    ) -> Result<CollectionPayload> {
        let (element, keep, duplicate) = same_type(&keep_id, &duplicate_id)?;
        store(ctx)?
            .merge_elements(&idempotency_key, actor(ctx)?, element, keep, duplicate)
            .await
            .map(Into::into)
            .map_err(workflow_error)
    }
}

async fn membership(
    ctx: &Context<'_>,
    key: &str,
    organization: &ID,
    person: &ID,
    role: Option<OrganizationRole>,
) -> Result<CollectionPayload> {
    let organization = decode_numeric(organization, NodeType::Organization)?;
    let person = decode_numeric(person, NodeType::Person)?;
    store(ctx)?
        .change_membership(key, actor(ctx)?, organization, person, role)
        .await
        .map(Into::into)
        .map_err(workflow_error)
}

/// An element's history, oldest first, after `after` (a cursor), at most `first` (1 to
/// 500).
pub(super) async fn history(
    ctx: &Context<'_>,
    id: i64,
    after: Option<ID>,
    first: i32,
) -> Result<Vec<ElementChange>> {
    if !(1..=500).contains(&first) {
        return Err(ApiError::bad_input("first must be 1 to 500").into());
    }
    let after = match after {
        Some(cursor) => cursor
            .parse::<i64>()
            .map_err(|_| ApiError::bad_input("`after` is not a history cursor"))?,
        None => 0,
    };
    resolve::store(ctx)?
        .element_history(resolve::scope(ctx)?, id, after, i64::from(first))
        .await
        .map_err(resolve::store_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_fields_in_history_are_masked() {
        let changes = json!({
            "phone": { "before": "13904371234", "after": "13904375678" },
            "name": { "before": "王芳", "after": "王芳芳" },
            "id_number": { "before": null, "after": "220402199001011234" }
        });
        let masked = mask_fields(&changes, true, true);
        assert_eq!(masked["name"], changes["name"]);
        assert_eq!(masked["id_number"]["before"], Value::Null);
        assert_ne!(masked["phone"]["after"], changes["phone"]["after"]);
        assert_ne!(masked["id_number"]["after"], changes["id_number"]["after"]);
        assert_eq!(mask_fields(&changes, false, false), changes);
    }
}
