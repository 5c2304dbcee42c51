//! The five elements (五要素) a department system can hold records on.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Element {
    Person,
    Place,
    Thing,
    Organization,
    Event,
}

impl Element {
    pub const ALL: [Element; 5] = [
        Self::Person,
        Self::Place,
        Self::Thing,
        Self::Organization,
        Self::Event,
    ];

    /// The name used in config files and cache keys: `person`, `place`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Person => "person",
            Self::Place => "place",
            Self::Thing => "thing",
            Self::Organization => "organization",
            Self::Event => "event",
        }
    }

    /// The GraphQL type carrying the element's federated fields.
    pub fn type_name(self) -> &'static str {
        match self {
            Self::Person => "Person",
            Self::Place => "Place",
            Self::Thing => "Thing",
            Self::Organization => "Organization",
            Self::Event => "Event",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == text)
    }

    pub fn from_type_name(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.type_name() == text)
    }
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
