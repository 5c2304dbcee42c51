//! A department's record, in the department's own shape, normalised to ours: the
//! federated fields it fills, each an object of our field names with typed values.
//! A value that does not fit its declared type makes the whole answer a bad response.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::catalog::ValueType;
use crate::config::{FieldMapping, FieldPath, Provision};

/// Why a department's record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadRecord {
    #[error("a record has no id at `{0}`")]
    MissingId(String),
    #[error("`{field}` (from `{path}`): {reason}")]
    Value {
        field: String,
        path: String,
        reason: String,
    },
    #[error("a record is not a JSON object")]
    NotAnObject,
}

/// The department's id of a record (text or a number).
pub fn record_id(record: &Value, id: &FieldPath) -> Result<String, BadRecord> {
    match id.find(record) {
        Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
        Some(Value::Number(number)) => Ok(number.to_string()),
        _ => Err(BadRecord::MissingId(id.to_string())),
    }
}

/// `{ "householdRegistration": { "registration_number": "…", … }, … }`: every
/// provision's fields, read from one record of the department.
pub fn normalise(record: &Value, provisions: &[&Provision]) -> Result<Value, BadRecord> {
    if !record.is_object() {
        return Err(BadRecord::NotAnObject);
    }
    let mut out = Map::with_capacity(provisions.len());
    for provision in provisions {
        let mut fields = Map::with_capacity(provision.fields.len());
        for mapping in &provision.fields {
            let value = match mapping.path.find(record) {
                None | Some(Value::Null) => Value::Null,
                Some(found) => convert(found, mapping).map_err(|reason| BadRecord::Value {
                    field: format!("{}.{}", provision.federated.field, mapping.spec.name),
                    path: mapping.path.to_string(),
                    reason,
                })?,
            };
            fields.insert(mapping.spec.name.to_owned(), value);
        }
        out.insert(provision.federated.field.to_owned(), Value::Object(fields));
    }
    Ok(Value::Object(out))
}

fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn convert(value: &Value, mapping: &FieldMapping) -> Result<Value, String> {
    let mapped;
    let value = match &mapping.values {
        Some(values) => {
            let key = as_text(value).ok_or_else(|| format!("expected a code, got {value}"))?;
            let target = values
                .get(key.trim())
                .ok_or_else(|| format!("`{key}` is not one of the codes the config maps"))?;
            mapped = Value::String(target.clone());
            &mapped
        }
        None => value,
    };
    match mapping.spec.value {
        ValueType::Text => as_text(value)
            .map(Value::String)
            .ok_or_else(|| format!("expected text, got {value}")),
        ValueType::Integer => match value {
            Value::Number(n) if n.is_i64() => Ok(value.clone()),
            Value::Number(n) => n
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| Value::from(f as i64))
                .ok_or_else(|| format!("expected an integer, got {value}")),
            Value::String(text) => text
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| format!("expected an integer, got {value}")),
            _ => Err(format!("expected an integer, got {value}")),
        },
        ValueType::Decimal => match value {
            Value::Number(n) => n
                .as_f64()
                .map(Value::from)
                .ok_or_else(|| format!("expected a number, got {value}")),
            Value::String(text) => text
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Value::from)
                .ok_or_else(|| format!("expected a number, got {value}")),
            _ => Err(format!("expected a number, got {value}")),
        },
        ValueType::Boolean => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::Number(n) if n.as_i64() == Some(0) => Ok(Value::Bool(false)),
            Value::Number(n) if n.as_i64() == Some(1) => Ok(Value::Bool(true)),
            Value::String(text) if text == "true" => Ok(Value::Bool(true)),
            Value::String(text) if text == "false" => Ok(Value::Bool(false)),
            _ => Err(format!("expected true or false, got {value}")),
        },
        ValueType::Date => {
            let text = as_text(value).ok_or_else(|| format!("expected a date, got {value}"))?;
            let format = mapping.date_format.as_deref().unwrap_or("%Y-%m-%d");
            NaiveDate::parse_from_str(text.trim(), format)
                // `Display` is ISO 8601 (`%Y-%m-%d`), without formatting by pattern.
                .map(|date| Value::String(date.to_string()))
                .map_err(|_| format!("`{text}` is not a date in the format `{format}`"))
        }
        ValueType::Enum(names) => {
            let text = as_text(value).ok_or_else(|| format!("expected a code, got {value}"))?;
            if names.contains(&text.as_str()) {
                Ok(Value::String(text))
            } else {
                Err(format!("`{text}` is not {}", mapping.spec.value))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::Element;
    use crate::catalog::{FederatedType, FieldSpec};

    static FIELDS: [FieldSpec; 4] = [
        FieldSpec {
            name: "number",
            value: ValueType::Text,
            personal: false,
        },
        FieldSpec {
            name: "gender",
            value: ValueType::Enum(&["MALE", "FEMALE"]),
            personal: false,
        },
        FieldSpec {
            name: "born",
            value: ValueType::Date,
            personal: false,
        },
        FieldSpec {
            name: "members",
            value: ValueType::Integer,
            personal: false,
        },
    ];
    static TYPE: FederatedType = FederatedType {
        element: Element::Person,
        field: "householdRegistration",
        type_name: "HouseholdRegistration",
        fields: &FIELDS,
    };

    fn provision() -> Provision {
        let mapping = |index: usize, path: &str| FieldMapping {
            spec: &FIELDS[index],
            path: FieldPath::parse(path),
            values: None,
            date_format: None,
        };
        let mut gender = mapping(1, "xb");
        gender.values = Some(BTreeMap::from([
            ("1".to_owned(), "MALE".to_owned()),
            ("2".to_owned(), "FEMALE".to_owned()),
        ]));
        let mut born = mapping(2, "csrq");
        born.date_format = Some("%Y%m%d".to_owned());
        Provision {
            federated: &TYPE,
            precedence: 0,
            fields: vec![mapping(0, "hjbh"), gender, born, mapping(3, "hu.rs")],
        }
    }

    #[test]
    fn codes_dates_and_paths_become_ours() {
        let provision = provision();
        let record = json!({ "hjbh": "HJ1", "xb": 2, "csrq": "19800105", "hu": { "rs": "3" } });
        let normalised = normalise(&record, &[&provision]);
        assert_eq!(
            normalised,
            Ok(json!({ "householdRegistration": {
                "number": "HJ1", "gender": "FEMALE", "born": "1980-01-05", "members": 3
            }}))
        );
        assert_eq!(
            record_id(&record, &FieldPath::parse("hjbh")),
            Ok("HJ1".to_owned())
        );
    }

    #[test]
    fn values_that_do_not_fit_are_refused_with_the_field() {
        let provision = provision();
        let record = json!({ "hjbh": "HJ1", "xb": "9" });
        let error = normalise(&record, &[&provision])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some(
                "`householdRegistration.gender` (from `xb`): `9` is not one of the codes the config maps"
            )
        );
        let record = json!({ "hjbh": "HJ1", "csrq": "1980-01-05" });
        assert!(normalise(&record, &[&provision]).is_err());
        let record = json!({ "hjbh": "HJ1", "hu": { "rs": "三" } });
        assert!(normalise(&record, &[&provision]).is_err());
        assert_eq!(
            normalise(&json!("x"), &[&provision]),
            Err(BadRecord::NotAnObject)
        );
        let missing = json!({ "hjbh": "HJ1" });
        assert_eq!(
            normalise(&missing, &[&provision]),
            Ok(json!({ "householdRegistration": {
                "number": "HJ1", "gender": null, "born": null, "members": null
            }}))
        );
    }
}
