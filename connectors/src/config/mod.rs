//! Departments are configuration: one TOML file per department system, checked against
//! the schema's catalog of federated fields when the gateway starts (and by
//! `gateway check-config`). Every problem is reported with its file, line, key and reason.

mod error;
mod feed;
mod file;
mod open311;
mod operations;
pub(crate) use operations::placeholders;
mod validate;
mod vars;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::{ConfigError, ConfigErrors};
pub use feed::{Feed, FeedSource};
pub use open311::Open311;
pub use vars::{VarError, Vars};

use crate::catalog::{Catalog, FederatedType, FieldSpec};
use crate::operations::{Operation, OperationName};
use crate::resilience::GuardConfig;
use crate::{ConnectorKind, Element};

/// One department system, as its config file declares it, checked and resolved.
#[derive(Debug, Clone)]
pub struct DepartmentConfig {
    pub code: String,
    pub name: String,
    pub county: String,
    pub kind: ConnectorKind,
    /// With variables replaced.
    pub endpoint: String,
    pub auth: Auth,
    pub limits: Limits,
    pub lookups: BTreeMap<Element, Lookup>,
    pub provides: Vec<Provision>,
    /// open311 systems: how their service requests become events.
    pub open311: Option<Open311>,
    /// What the gateway may ask the system to do.
    pub operations: BTreeMap<OperationName, Operation>,
    /// Its change feed into the five-element index, when it has one.
    pub feed: Option<Feed>,
    /// The file it came from.
    pub file: PathBuf,
}

impl DepartmentConfig {
    /// Reads one of the department's raw `element` records: its id and the normalised
    /// values of every federated field it fills from `element` records.
    pub fn read_record(
        &self,
        element: Element,
        raw: &serde_json::Value,
    ) -> Result<(String, serde_json::Value), crate::BadRecord> {
        let id = match self.lookups.get(&element) {
            Some(Lookup::Rest { id, .. }) => id.clone(),
            Some(Lookup::Sql { id, .. }) => FieldPath::parse(id),
            None => FieldPath::default(),
        };
        let provisions: Vec<&Provision> = self.provisions(element).collect();
        Ok((
            crate::mapping::record_id(raw, &id)?,
            crate::mapping::normalise(raw, &provisions)?,
        ))
    }

    /// The abbreviation in the department's code: `GA` in `220422-GA`.
    pub fn abbreviation(&self) -> &str {
        self.code.rsplit('-').next().unwrap_or_default()
    }

    pub fn provisions(&self, element: Element) -> impl Iterator<Item = &Provision> {
        self.provides
            .iter()
            .filter(move |p| p.federated.element == element)
    }
}

#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Bearer { token: String },
    Basic { username: String, password: String },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Bearer { .. } => f.write_str("Bearer(***)"),
            Self::Basic { username, .. } => write!(f, "Basic({username}:***)"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub guard: GuardConfig,
    pub max_batch: usize,
    pub cache_ttl: Duration,
    pub stale_if_error: Duration,
}

/// How one element's records are fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Rest {
        /// Relative to the endpoint, with `{ids}`.
        batch: Option<String>,
        /// Relative to the endpoint, with `{id}`.
        single: Option<String>,
        records: FieldPath,
        record: FieldPath,
        id: FieldPath,
    },
    Sql {
        /// A SELECT with `{ids}`.
        query: String,
        id: String,
    },
}

/// A dotted path into a JSON record: `hjdz.xxdz`. Empty: the value itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldPath(Vec<String>);

impl FieldPath {
    pub fn parse(text: &str) -> Self {
        Self(
            text.split('.')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    pub fn find<'a>(&self, value: &'a serde_json::Value) -> Option<&'a serde_json::Value> {
        self.0
            .iter()
            .try_fold(value, |value, key| value.get(key.as_str()))
    }
}

impl std::fmt::Display for FieldPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

/// A federated field a department fills, and how.
#[derive(Debug, Clone)]
pub struct Provision {
    pub federated: &'static FederatedType,
    pub precedence: i32,
    pub fields: Vec<FieldMapping>,
}

#[derive(Debug, Clone)]
pub struct FieldMapping {
    pub spec: &'static FieldSpec,
    pub path: FieldPath,
    pub values: Option<BTreeMap<String, String>>,
    pub date_format: Option<String>,
}

/// Every department's config, checked one by one and against each other.
#[derive(Debug, Clone, Default)]
pub struct Departments {
    by_code: BTreeMap<String, DepartmentConfig>,
}

impl Departments {
    /// Reads every `*.toml` in `dir`, checking each `[[provides]]` against `catalog`.
    /// Without a catalog (the simulator, which serves records but reads no mapping)
    /// the provides are skipped.
    pub fn load_dir(
        dir: &Path,
        catalog: Option<&Catalog>,
        vars: &Vars,
    ) -> Result<Self, ConfigErrors> {
        let entries = std::fs::read_dir(dir).map_err(|error| {
            ConfigErrors::one(ConfigError::file(
                dir,
                format!("cannot read the folder: {error}"),
            ))
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(ConfigErrors::one(ConfigError::file(
                dir,
                "no department config files (*.toml) in this folder".to_owned(),
            )));
        }
        let mut errors = Vec::new();
        let mut configs = Vec::new();
        for file in files {
            match std::fs::read_to_string(&file) {
                Ok(text) => match validate::department(&file, &text, catalog, vars) {
                    Ok(config) => configs.push(config),
                    Err(mut found) => errors.append(&mut found),
                },
                Err(error) => {
                    errors.push(ConfigError::file(&file, format!("cannot read: {error}")))
                }
            }
        }
        errors.extend(validate::across(&configs));
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        Ok(Self {
            by_code: configs.into_iter().map(|c| (c.code.clone(), c)).collect(),
        })
    }

    /// Points a department at another endpoint (the operator's override of its file).
    /// `false` when there is no such department.
    pub fn set_endpoint(&mut self, code: &str, endpoint: &str) -> bool {
        match self.by_code.get_mut(code) {
            Some(config) => {
                config.endpoint = endpoint.to_owned();
                true
            }
            None => false,
        }
    }

    pub fn get(&self, code: &str) -> Option<&DepartmentConfig> {
        self.by_code.get(code)
    }

    pub fn iter(&self) -> impl Iterator<Item = &DepartmentConfig> {
        self.by_code.values()
    }

    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }
}
