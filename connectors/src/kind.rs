//! The protocols a department system can speak. Code exists per kind, never per department.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectorKind {
    /// JSON over HTTP.
    Rest,
    /// The department's own relational database, read-only.
    Sql,
    /// Open311 GeoReport v2 (the 12345 hotline).
    Open311,
}

impl ConnectorKind {
    pub const ALL: [ConnectorKind; 3] = [Self::Rest, Self::Sql, Self::Open311];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rest => "rest",
            Self::Sql => "sql",
            Self::Open311 => "open311",
        }
    }
}

impl fmt::Display for ConnectorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown connector kind `{0}` (expected one of: rest, sql, open311)")]
pub struct UnknownConnectorKind(pub String);

impl FromStr for ConnectorKind {
    type Err = UnknownConnectorKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| UnknownConnectorKind(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in ConnectorKind::ALL {
            assert_eq!(kind.as_str().parse::<ConnectorKind>().ok(), Some(kind));
        }
        let err = "soap".parse::<ConnectorKind>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown connector kind `soap` (expected one of: rest, sql, open311)")
        );
    }
}
