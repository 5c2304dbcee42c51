//! All department systems together: who fills which federated field, and fetching from
//! them with the caller's scope.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

use crate::cache::Cache;
use crate::catalog::{FederatedType, ValueType};
use crate::config::Departments;
use crate::department::{BuildError, Department, Slot};
use crate::{Element, PersonalData, Scope};

/// A department filling a federated field, with its precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub department: String,
    pub precedence: i32,
}

pub struct Federation {
    departments: BTreeMap<String, Arc<Department>>,
    /// By (element, federated field).
    providers: HashMap<(Element, &'static str), Vec<Provider>>,
    cache: Option<Arc<Cache>>,
}

impl Federation {
    pub fn new(configs: &Departments, cache: Option<Cache>) -> Result<Self, BuildError> {
        let mut departments = BTreeMap::new();
        let mut providers: HashMap<(Element, &'static str), Vec<Provider>> = HashMap::new();
        for config in configs.iter() {
            for provision in &config.provides {
                providers
                    .entry((provision.federated.element, provision.federated.field))
                    .or_default()
                    .push(Provider {
                        department: config.code.clone(),
                        precedence: provision.precedence,
                    });
            }
            departments.insert(
                config.code.clone(),
                Arc::new(Department::new(config.clone())?),
            );
        }
        for list in providers.values_mut() {
            list.sort_by_key(|provider| std::cmp::Reverse(provider.precedence));
        }
        Ok(Self {
            departments,
            providers,
            cache: cache.map(Arc::new),
        })
    }

    /// No departments: federated fields answer null.
    pub fn empty() -> Self {
        Self {
            departments: BTreeMap::new(),
            providers: HashMap::new(),
            cache: None,
        }
    }

    pub fn department(&self, code: &str) -> Option<&Arc<Department>> {
        self.departments.get(code)
    }

    pub fn departments(&self) -> impl Iterator<Item = &Arc<Department>> {
        self.departments.values()
    }

    /// The departments filling `federated`, highest precedence first.
    pub fn providers(&self, federated: &FederatedType) -> &[Provider] {
        self.providers
            .get(&(federated.element, federated.field))
            .map_or(&[], Vec::as_slice)
    }

    /// Records of one department on `element`, by the department's ids. Personal data is
    /// masked unless `scope` shows it.
    pub async fn fetch(
        &self,
        scope: &Scope,
        department: &str,
        element: Element,
        ids: &[String],
    ) -> HashMap<String, Slot> {
        let Some(found) = self.departments.get(department) else {
            return HashMap::new();
        };
        let mut slots = found.fetch(self.cache.clone(), element, ids).await;
        if scope.personal_data() == PersonalData::Masked {
            let personal: Vec<(&str, &str)> = found
                .config()
                .provisions(element)
                .flat_map(|p| {
                    p.fields
                        .iter()
                        .filter(|f| f.spec.personal && f.spec.value == ValueType::Text)
                        .map(|f| (p.federated.field, f.spec.name))
                })
                .collect();
            if !personal.is_empty() {
                for slot in slots.values_mut() {
                    if let Ok(Some(fetched)) = slot {
                        let mut record = (*fetched.record).clone();
                        for (field, name) in &personal {
                            if let Some(Value::String(text)) =
                                record.get_mut(*field).and_then(|f| f.get_mut(*name))
                            {
                                *text = crate::scope::mask(text);
                            }
                        }
                        fetched.record = Arc::new(record);
                    }
                }
            }
        }
        slots
    }
}
