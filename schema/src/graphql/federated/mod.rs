//! Department data as typed fields of the five elements: `Person.householdRegistration`,
//! `Place.building`, `Event.courtCase`, ... Each type is declared once with
//! [`federated_type!`](declare::federated_type); its values are fetched from whichever
//! departments' configs fill it, through one loader per request that calls each
//! department once per level of the query.

mod declare;
mod event;
mod organization;
mod person;
mod place;
mod source;
mod thing;

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, ErrorExtensions, Result};
use connectors::catalog::{Catalog, FederatedType};
use connectors::{DepartmentError, Element, Failure, Federation, Scope, Slot};
use futures_util::future::join_all;
use serde_json::{Map, Value};

pub use event::{CourtCase, MediationCase, Petition, ProcuratorialCase};
pub use organization::{
    AgriculturalEntity, BusinessRegistration, PollutionPermit, SchoolLicense, TaxRegistration,
};
pub use person::{
    HealthRecord, HouseholdRegistration, MedicalInsurance, SocialAssistance, SocialInsurance,
    VeteranStatus,
};
pub use place::{
    Building, CommercialOutlet, CulturalSite, IrrigationWorks, LandParcel, UrbanManagementArea,
};
pub use source::Source;
pub use thing::{FireFacility, Hazard, SpecialEquipment, Vehicle};

use crate::error::{ApiError, ErrorCode};
use crate::graphql::resolve::{loaders, store_error};

/// A federated type: its catalog entry and its provenance.
pub trait Federated: serde::de::DeserializeOwned + Send + Sync {
    const TYPE: FederatedType;

    fn with_sources(self, sources: Vec<Source>) -> Self;
}

/// Every federated field of the schema, and the event vocabulary open311 systems map onto,
/// for checking department configs.
pub fn catalog() -> Catalog {
    Catalog::new(
        [
            person::TYPES,
            place::TYPES,
            thing::TYPES,
            organization::TYPES,
            event::TYPES,
        ]
        .into_iter()
        .flatten()
        .copied(),
    )
    .with_events(connectors::catalog::EventVocabulary {
        categories: crate::enums::EventCategory::NAMES,
        statuses: crate::enums::EventStatus::NAMES,
    })
}

/// One department record wanted by a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UpstreamKey {
    pub department: Arc<str>,
    pub element: Element,
    pub source_id: String,
}

/// Fetches a level's department records of one element (each element has its own
/// loader): the keys of one batch are grouped by department and every group is fetched
/// at once, concurrently.
pub struct Upstream {
    federation: Arc<Federation>,
    scope: Scope,
}

impl Upstream {
    pub fn new(federation: Arc<Federation>, scope: Scope) -> Self {
        Self { federation, scope }
    }
}

impl Loader<UpstreamKey> for Upstream {
    type Value = Slot;
    type Error = std::convert::Infallible;

    async fn load(&self, keys: &[UpstreamKey]) -> Result<HashMap<UpstreamKey, Slot>, Self::Error> {
        let mut groups: HashMap<(Arc<str>, Element), Vec<String>> = HashMap::new();
        for key in keys {
            groups
                .entry((key.department.clone(), key.element))
                .or_default()
                .push(key.source_id.clone());
        }
        let fetches = groups
            .into_iter()
            .map(|((department, element), ids)| async move {
                let slots = self
                    .federation
                    .fetch(&self.scope, &department, element, &ids)
                    .await;
                slots.into_iter().map(move |(source_id, slot)| {
                    let key = UpstreamKey {
                        department: department.clone(),
                        element,
                        source_id,
                    };
                    (key, slot)
                })
            });
        Ok(join_all(fetches).await.into_iter().flatten().collect())
    }
}

/// Resolves a federated field of row `id` of the type's element: its records at the
/// departments that fill the field,
/// merged field by field by precedence. A department that fails adds an error naming it;
/// what the others gave is still returned.
pub async fn resolve<T: Federated>(ctx: &Context<'_>, id: i64) -> Result<Option<T>> {
    let federation = ctx
        .data::<Arc<Federation>>()
        .map_err(|_| ApiError::new(ErrorCode::Internal, "internal error").extend())?;
    let providers = federation.providers(&T::TYPE);
    if providers.is_empty() {
        return Ok(None);
    }
    let loaders = loaders(ctx)?;
    let element = T::TYPE.element;
    let links = loaders
        .links
        .of(element)
        .load_one(id)
        .await
        .map_err(store_error)?
        .unwrap_or_default();
    // Highest precedence first.
    let mut wanted: Vec<(i32, UpstreamKey)> = links
        .into_iter()
        .filter_map(|link| {
            let provider = providers
                .iter()
                .find(|p| p.department == link.department_code)?;
            Some((
                provider.precedence,
                UpstreamKey {
                    department: Arc::from(link.department_code),
                    element,
                    source_id: link.source_id,
                },
            ))
        })
        .collect();
    if wanted.is_empty() {
        return Ok(None);
    }
    wanted.sort_by_key(|(precedence, _)| std::cmp::Reverse(*precedence));
    let slots = join_all(
        wanted
            .iter()
            .map(|(_, key)| loaders.upstream.of(element).load_one(key.clone())),
    )
    .await;

    let mut records = Vec::new();
    let mut sources = Vec::new();
    let mut failures = Vec::new();
    for ((_, key), slot) in wanted.iter().zip(slots) {
        match slot.ok().flatten() {
            Some(Ok(Some(fetched))) => {
                records.push(fetched.record.clone());
                sources.push(Source {
                    department_code: key.department.to_string(),
                    source_id: key.source_id.clone(),
                    fetched_at: fetched.fetched_at,
                    cached: fetched.cached,
                    stale: fetched.stale,
                });
            }
            Some(Ok(None)) | None => {}
            Some(Err(error)) => failures.push(error),
        }
    }
    // Nothing to show: the field is null, with the first failure as its error. Otherwise
    // the failures are added beside the partial value.
    let mut failures = failures.into_iter();
    if sources.is_empty()
        && let Some(first) = failures.next()
    {
        for error in failures {
            add_error(ctx, &error);
        }
        return Err(department_error(&first));
    }
    for error in failures {
        add_error(ctx, &error);
    }
    if sources.is_empty() {
        return Ok(None);
    }
    let fields = records.iter().filter_map(|record| {
        record
            .get(T::TYPE.field)
            .filter(|fields| fields.is_object())
    });
    let value: T = merged(fields).map_err(|error| {
        tracing::error!(%error, field = %T::TYPE.path(), "normalised record does not fit its type");
        ApiError::new(ErrorCode::Internal, "internal error").extend()
    })?;
    Ok(Some(value.with_sources(sources)))
}

/// The federated value from its records' fields, highest precedence first: each field
/// from the first record that holds it (not null). One record, the common case, is read
/// where it lies; only several are merged into a copy.
fn merged<'a, T: Federated>(mut records: impl Iterator<Item = &'a Value>) -> serde_json::Result<T> {
    let Some(first) = records.next() else {
        return T::deserialize(&Value::Object(Map::new()));
    };
    let Some(second) = records.next() else {
        return T::deserialize(first);
    };
    let mut merged = first.as_object().cloned().unwrap_or_default();
    for (name, value) in [second]
        .into_iter()
        .chain(records)
        .filter_map(Value::as_object)
        .flatten()
    {
        let taken = merged.get(name).is_some_and(|v| !v.is_null());
        if !taken {
            merged.insert(name.clone(), value.clone());
        }
    }
    T::deserialize(&Value::Object(merged))
}

/// Reports a department's failure at the current field, without failing the field.
fn add_error(ctx: &Context<'_>, error: &DepartmentError) {
    let error = department_error(error).into_server_error(ctx.item.pos);
    ctx.add_error(ctx.set_error_path(error));
}

/// A department's failure as the client sees it: the code, the department, the reason.
fn department_error(error: &DepartmentError) -> async_graphql::Error {
    let code = match error.failure {
        Failure::Unavailable => ErrorCode::DepartmentUnavailable,
        Failure::Busy => ErrorCode::DepartmentBusy,
        Failure::BadResponse => ErrorCode::DepartmentBadResponse,
    };
    tracing::warn!(department = %error.department, reason = %error.message, "department call failed");
    let department = error.department.clone();
    ApiError::new(
        code,
        format!("department {}: {}", error.department, error.message),
    )
    .extend()
    .extend_with(|_, extensions| extensions.set("department", department.as_str()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::merged;
    use crate::graphql::federated::person::HouseholdRegistration;

    #[test]
    fn each_field_comes_from_the_first_record_that_holds_it() {
        let first = json!({ "registration_number": "A-1", "name": null, "ethnicity": "汉族" });
        let second =
            json!({ "registration_number": "B-2", "name": "张三", "head_of_household": "李四" });

        let both: HouseholdRegistration = merged([&first, &second].into_iter()).expect("merged");
        assert_eq!(both.registration_number.as_deref(), Some("A-1"));
        assert_eq!(
            both.name.as_deref(),
            Some("张三"),
            "a null is filled by the next record"
        );
        assert_eq!(both.ethnicity.as_deref(), Some("汉族"));
        assert_eq!(both.head_of_household.as_deref(), Some("李四"));

        let one: HouseholdRegistration = merged([&second].into_iter()).expect("one record");
        assert_eq!(one.registration_number.as_deref(), Some("B-2"));

        let none: HouseholdRegistration = merged(std::iter::empty()).expect("no record");
        assert!(none.registration_number.is_none() && none.name.is_none());
    }
}
