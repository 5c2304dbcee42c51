//! Writing into department systems: the operations a department may declare beside its
//! lookups, what the gateway hands each of them, and how a department's answer is read.
//!
//! Operations are a fixed catalog, like the federated fields: the workflow asks for
//! `file_mediation` of a county's justice bureau, never for a path or a statement. A
//! department config says how its system does it (`[operations.<name>]`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::config::FieldPath;

/// What the gateway asks a department system to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OperationName {
    /// Register a people's mediation case (人民调解案件) with the justice bureau.
    FileMediation,
    /// Ask the court to confirm a mediation agreement (司法确认); it decides later.
    RequestConfirmation,
    /// File a case with the court (立案).
    FileCase,
    /// Register a letter or visit (信访件) with the petitions bureau.
    RegisterPetition,
}

/// Paths every operation's payload has: the event.
const EVENT_FIELDS: &[&str] = &[
    "event.id",
    "event.title",
    "event.description",
    "event.category",
    "event.category_name",
    "event.reported_at",
    "event.reported_on",
    "event.grid",
    "event.grid_name",
    "event.parties",
];

/// Paths of the mediation an operation concerns.
const MEDIATION_FIELDS: &[&str] = &[
    "mediation.id",
    "mediation.kind",
    "mediation.kind_name",
    "mediation.mediator",
    "mediation.team",
    "mediation.case_number",
    "mediation.agreement",
    "mediation.outcome",
];

/// Paths of a court filing.
const CASE_FIELDS: &[&str] = &["case.cause", "case.reason"];

impl OperationName {
    pub const ALL: [OperationName; 4] = [
        Self::FileMediation,
        Self::RequestConfirmation,
        Self::FileCase,
        Self::RegisterPetition,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::FileMediation => "file_mediation",
            Self::RequestConfirmation => "request_confirmation",
            Self::FileCase => "file_case",
            Self::RegisterPetition => "register_petition",
        }
    }

    /// Whether `path` is a field of this operation's payload.
    pub fn has_field(self, path: &str) -> bool {
        let groups: &[&[&str]] = match self {
            Self::FileMediation | Self::RequestConfirmation => &[EVENT_FIELDS, MEDIATION_FIELDS],
            Self::FileCase => &[EVENT_FIELDS, MEDIATION_FIELDS, CASE_FIELDS],
            Self::RegisterPetition => &[EVENT_FIELDS],
        };
        path == "idempotency_key" || groups.iter().any(|fields| fields.contains(&path))
    }

    /// The payload's fields, for messages.
    pub fn fields(self) -> Vec<&'static str> {
        let mut fields = vec!["idempotency_key"];
        fields.extend(EVENT_FIELDS);
        if self != Self::RegisterPetition {
            fields.extend(MEDIATION_FIELDS);
        }
        if self == Self::FileCase {
            fields.extend(CASE_FIELDS);
        }
        fields
    }
}

impl fmt::Display for OperationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "unknown operation `{0}` (expected one of: file_mediation, request_confirmation, file_case)"
)]
pub struct UnknownOperation(pub String);

impl FromStr for OperationName {
    type Err = UnknownOperation;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|name| name.as_str() == s)
            .ok_or_else(|| UnknownOperation(s.to_owned()))
    }
}

/// Where a department stands on something it was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteState {
    /// Done: registered, filed, confirmed.
    Filed,
    /// Taken in, not decided yet: ask again later (`poll`).
    Pending,
    /// Refused, with a reason; asking again will not change it.
    Refused,
}

impl FromStr for WriteState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "FILED" => Ok(Self::Filed),
            "PENDING" => Ok(Self::Pending),
            "REFUSED" => Ok(Self::Refused),
            other => Err(format!(
                "`{other}` is not a write state (expected FILED, PENDING or REFUSED)"
            )),
        }
    }
}

/// A department's answer to an operation, read with the operation's mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteAnswer {
    pub state: WriteState,
    /// The department's own id for what was filed.
    pub id: Option<String>,
    /// The number it gave the case (案号).
    pub case_number: Option<String>,
    /// Why it refused.
    pub reason: Option<String>,
}

/// How one operation is sent, and its answer read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub name: OperationName,
    pub send: Send,
    /// Where the department's id is in its answer.
    pub id: FieldPath,
    pub case_number: Option<FieldPath>,
    /// The answer's state field and its values; without it, an answer is FILED.
    pub status: Option<(FieldPath, BTreeMap<String, WriteState>)>,
    pub reason: Option<FieldPath>,
    /// How a PENDING answer is asked again: a GET path with `{id}` (rest), a SELECT with
    /// `:id` (sql).
    pub poll: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Send {
    Rest {
        method: reqwest::Method,
        /// Relative to the endpoint, with `{field}` placeholders from the payload.
        path: String,
        /// The department's field ← a payload path.
        body: BTreeMap<String, String>,
    },
    Sql {
        /// With `:name` parameters; `:idempotency_key` is how the department dedupes.
        statement: String,
        /// The SELECT reading the answer, with `:idempotency_key`.
        answer: String,
        /// `:name` ← a payload path.
        params: BTreeMap<String, String>,
    },
}

impl Operation {
    /// Reads a department's answer (a JSON object; a row, for sql).
    pub fn read(&self, answer: &Value) -> Result<WriteAnswer, String> {
        let text = |path: &FieldPath| match path.find(answer) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let state = match &self.status {
            None => WriteState::Filed,
            Some((path, values)) => {
                let found =
                    text(path).ok_or_else(|| format!("the answer has no state at `{path}`"))?;
                *values.get(&found).ok_or_else(|| {
                    format!("the answer's state `{found}` (at `{path}`) is not one the config maps")
                })?
            }
        };
        let id = text(&self.id);
        if id.is_none() && state != WriteState::Refused {
            return Err(format!("the answer has no id at `{}`", self.id));
        }
        Ok(WriteAnswer {
            state,
            id,
            case_number: self.case_number.as_ref().and_then(text),
            reason: self.reason.as_ref().and_then(text),
        })
    }
}

/// The payload's value at a dotted path, as text (`None` for null or absent).
pub fn payload_text(payload: &Value, path: &str) -> Option<String> {
    match FieldPath::parse(path).find(payload)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_read_with_the_operations_mapping() {
        let operation = Operation {
            name: OperationName::RequestConfirmation,
            send: Send::Rest {
                method: reqwest::Method::POST,
                path: "confirmations".into(),
                body: BTreeMap::new(),
            },
            id: FieldPath::parse("data.sqbh"),
            case_number: Some(FieldPath::parse("data.ah")),
            status: Some((
                FieldPath::parse("data.zt"),
                [
                    ("0", WriteState::Pending),
                    ("1", WriteState::Filed),
                    ("2", WriteState::Refused),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            )),
            reason: Some(FieldPath::parse("data.bqly")),
            poll: None,
        };
        let pending = serde_json::json!({ "data": { "sqbh": 17, "zt": "0" } });
        assert_eq!(
            operation.read(&pending),
            Ok(WriteAnswer {
                state: WriteState::Pending,
                id: Some("17".into()),
                case_number: None,
                reason: None
            })
        );
        let refused = serde_json::json!({ "data": { "sqbh": "17", "zt": "2", "bqly": "违法" } });
        assert_eq!(
            operation.read(&refused).map(|a| a.reason),
            Ok(Some("违法".into()))
        );
        let unknown = serde_json::json!({ "data": { "sqbh": "17", "zt": "9" } });
        assert!(operation.read(&unknown).is_err());
        assert!(OperationName::FileCase.has_field("case.cause"));
        assert!(!OperationName::FileMediation.has_field("case.cause"));
        assert!(OperationName::FileMediation.has_field("event.grid_name"));
    }
}
