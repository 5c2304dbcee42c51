//! Relay global ids: `base64url("<Type>:<key>")`, opaque to clients, checked on the way in.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{ApiError, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeType {
    Jurisdiction,
    Department,
    Person,
    Place,
    Thing,
    Organization,
    Event,
    Summons,
    Staff,
}

impl NodeType {
    const ALL: [NodeType; 9] = [
        Self::Jurisdiction,
        Self::Department,
        Self::Person,
        Self::Place,
        Self::Thing,
        Self::Organization,
        Self::Event,
        Self::Summons,
        Self::Staff,
    ];

    /// The type a name names.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jurisdiction => "Jurisdiction",
            Self::Department => "Department",
            Self::Person => "Person",
            Self::Place => "Place",
            Self::Thing => "Thing",
            Self::Organization => "Organization",
            Self::Event => "Event",
            Self::Summons => "Summons",
            Self::Staff => "Staff",
        }
    }
}

pub fn encode(node_type: NodeType, key: impl std::fmt::Display) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{key}", node_type.as_str())))
}

/// The type and key an id names.
pub fn decode(id: &str) -> Result<(NodeType, String), ApiError> {
    let invalid = || ApiError::new(ErrorCode::InvalidId, format!("`{id}` is not a valid id"));
    let bytes = URL_SAFE_NO_PAD.decode(id).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (type_name, key) = text.split_once(':').ok_or_else(invalid)?;
    let node_type = NodeType::parse(type_name).ok_or_else(invalid)?;
    if key.is_empty() {
        return Err(invalid());
    }
    Ok((node_type, key.to_owned()))
}

/// The numeric key of an id that must name `expected`.
pub fn decode_numeric(id: &str, expected: NodeType) -> Result<i64, ApiError> {
    let (node_type, key) = decode(id)?;
    if node_type != expected {
        return Err(ApiError::new(
            ErrorCode::InvalidId,
            format!(
                "`{id}` names a {}, not a {}",
                node_type.as_str(),
                expected.as_str()
            ),
        ));
    }
    numeric_key(id, &key)
}

pub fn numeric_key(id: &str, key: &str) -> Result<i64, ApiError> {
    key.parse()
        .map_err(|_| ApiError::new(ErrorCode::InvalidId, format!("`{id}` is not a valid id")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_name_their_type() {
        let id = encode(NodeType::Person, 42);
        assert_eq!(decode(&id).ok(), Some((NodeType::Person, "42".to_owned())));
        assert_eq!(decode_numeric(&id, NodeType::Person).ok(), Some(42));
        let wrong = decode_numeric(&id, NodeType::Place)
            .err()
            .map(|e| e.message);
        assert_eq!(
            wrong,
            Some(format!("`{}` names a Person, not a Place", id.0))
        );
    }

    #[test]
    fn malformed_ids_are_refused_with_their_text() {
        for bad in ["", "!!!", "UGVyc29u", "Tm9wZTox", "UGVyc29uOg"] {
            let err = decode(bad).err();
            assert_eq!(err.map(|e| e.code), Some(ErrorCode::InvalidId), "{bad}");
        }
    }
}
