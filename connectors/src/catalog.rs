//! What the unified schema can receive from departments: each federated field (such as
//! `Person.householdRegistration`) with the fields of its type and their value types.
//! The schema crate declares the entries; config files are checked against them, and
//! department answers are normalised to them.

use std::collections::BTreeMap;
use std::fmt;

use crate::Element;

/// The type of one value of a federated record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Text,
    Integer,
    Decimal,
    Boolean,
    /// A calendar date, normalised to `YYYY-MM-DD`.
    Date,
    /// One of a closed set of names (a GraphQL enum).
    Enum(&'static [&'static str]),
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text => f.write_str("text"),
            Self::Integer => f.write_str("integer"),
            Self::Decimal => f.write_str("decimal"),
            Self::Boolean => f.write_str("boolean"),
            Self::Date => f.write_str("date"),
            Self::Enum(names) => write!(f, "one of {}", names.join(", ")),
        }
    }
}

/// One field of a federated type, named as in config files (snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub value: ValueType,
    /// Personal data (ID numbers, phones): masked unless the caller's scope shows it.
    pub personal: bool,
}

/// A federated field on an element and the fields of its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FederatedType {
    pub element: Element,
    /// The field on the element, as in GraphQL: `householdRegistration`.
    pub field: &'static str,
    /// The GraphQL type: `HouseholdRegistration`.
    pub type_name: &'static str,
    pub fields: &'static [FieldSpec],
}

impl FederatedType {
    /// `Person.householdRegistration`: how config files name it.
    pub fn path(&self) -> String {
        format!("{}.{}", self.element.type_name(), self.field)
    }

    pub fn field_spec(&self, name: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// The closed vocabularies of events, as GraphQL spells them: what the `[open311]`
/// section of a config maps a system's services and statuses onto.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventVocabulary {
    pub categories: &'static [&'static str],
    pub statuses: &'static [&'static str],
}

/// Every federated field of the schema, by its path.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    types: BTreeMap<String, &'static FederatedType>,
    events: EventVocabulary,
}

impl Catalog {
    pub fn new(types: impl IntoIterator<Item = &'static FederatedType>) -> Self {
        Self {
            types: types.into_iter().map(|t| (t.path(), t)).collect(),
            events: EventVocabulary::default(),
        }
    }

    /// The same catalog, with the event vocabulary configs are checked against.
    pub fn with_events(mut self, events: EventVocabulary) -> Self {
        self.events = events;
        self
    }

    /// Empty lists when the catalog was built without them: names are then not checked.
    pub fn events(&self) -> EventVocabulary {
        self.events
    }

    pub fn get(&self, path: &str) -> Option<&'static FederatedType> {
        self.types.get(path).copied()
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.types.keys().map(String::as_str)
    }

    pub fn types(&self) -> impl Iterator<Item = &'static FederatedType> + '_ {
        self.types.values().copied()
    }
}

const fn spec(name: &'static str, value: ValueType, personal: bool) -> FieldSpec {
    FieldSpec {
        name,
        value,
        personal,
    }
}

/// The index's own fields of each element, as a department's change feed fills them
/// (`[feed.map]`): the columns of the five-element index, not federated fields.
pub static INDEX_FIELDS: [FederatedType; 4] = [
    FederatedType {
        element: Element::Person,
        field: "index",
        type_name: "Person",
        fields: &[
            spec("name", ValueType::Text, false),
            spec("gender", ValueType::Enum(&["MALE", "FEMALE"]), false),
            spec("birth_date", ValueType::Date, false),
            spec("id_number", ValueType::Text, true),
            spec("phone", ValueType::Text, true),
            spec("jurisdiction_code", ValueType::Text, false),
        ],
    },
    FederatedType {
        element: Element::Place,
        field: "index",
        type_name: "Place",
        fields: &[
            spec("name", ValueType::Text, false),
            // One of the GraphQL enum's names; the store refuses others.
            spec("kind", ValueType::Text, false),
            spec("address", ValueType::Text, false),
            spec("longitude", ValueType::Decimal, false),
            spec("latitude", ValueType::Decimal, false),
            spec("jurisdiction_code", ValueType::Text, false),
        ],
    },
    FederatedType {
        element: Element::Thing,
        field: "index",
        type_name: "Thing",
        fields: &[
            spec("name", ValueType::Text, false),
            // One of the GraphQL enum's names; the store refuses others.
            spec("kind", ValueType::Text, false),
            spec("identifier", ValueType::Text, false),
            spec("jurisdiction_code", ValueType::Text, false),
        ],
    },
    FederatedType {
        element: Element::Organization,
        field: "index",
        type_name: "Organization",
        fields: &[
            spec("name", ValueType::Text, false),
            // One of the GraphQL enum's names; the store refuses others.
            spec("kind", ValueType::Text, false),
            spec("credit_code", ValueType::Text, false),
            spec("deregistered_on", ValueType::Date, false),
            spec("jurisdiction_code", ValueType::Text, false),
        ],
    },
];

/// The index fields of `element`; `None` for events, which feeds do not write.
pub fn index_fields(element: Element) -> Option<&'static FederatedType> {
    INDEX_FIELDS.iter().find(|t| t.element == element)
}
