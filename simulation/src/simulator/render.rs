//! Native records as a department's API renders them (JSON in its date format, nested
//! by dotted names) and as its database stores them (flat columns).

use serde_json::{Map, Value};

use super::records::{Envelope, Native, NativeRecord, Style};

/// A JSON record, dotted names nested: `hjdz.xxdz` → `{"hjdz": {"xxdz": …}}`.
pub fn json_record(record: &NativeRecord, style: Style) -> Value {
    let mut out = Map::new();
    for (name, value) in record {
        let value = match value {
            Native::Text(text) => Value::from(text.as_str()),
            Native::Int(n) => Value::from(*n),
            Native::Float(f) => Value::from(*f),
            Native::Bool(b) => Value::from(*b),
            Native::Date(d) => Value::from(d.format(style.date_format).to_string()),
            Native::Null => Value::Null,
        };
        let mut parts = name.split('.').peekable();
        let mut target = &mut out;
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                target.insert(part.to_owned(), value);
                break;
            }
            let next = target
                .entry(part.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !next.is_object() {
                *next = Value::Object(Map::new());
            }
            match next {
                Value::Object(map) => target = map,
                _ => break,
            }
        }
    }
    Value::Object(out)
}

/// The column a dotted name becomes in a table.
pub fn column(name: &str) -> String {
    name.replace('.', "_")
}

/// A record as the `sql` connector reads it back from a table: flat, dates `YYYY-MM-DD`.
pub fn sql_row(record: &NativeRecord) -> Value {
    let flat: NativeRecord = record.clone();
    let mut out = Map::new();
    for (name, value) in flat {
        let value = match value {
            Native::Text(text) => Value::from(text),
            Native::Int(n) => Value::from(n),
            Native::Float(f) => Value::from(f),
            Native::Bool(b) => Value::from(b),
            Native::Date(d) => Value::from(d.format("%Y-%m-%d").to_string()),
            Native::Null => Value::Null,
        };
        out.insert(column(name), value);
    }
    Value::Object(out)
}

/// A batch answer wrapped as the department type wraps it.
pub fn batch_answer(records: Vec<Value>, envelope: Envelope) -> Value {
    match envelope {
        Envelope::CodeData => serde_json::json!({ "code": 0, "msg": "成功", "data": records }),
        Envelope::ResultRecords => {
            serde_json::json!({ "result": { "total": records.len(), "records": records } })
        }
        Envelope::Bare => Value::Array(records),
    }
}

/// A one-record answer wrapped as the department type wraps it.
pub fn single_answer(record: Value, envelope: Envelope) -> Value {
    match envelope {
        Envelope::CodeData => serde_json::json!({ "code": 0, "msg": "成功", "data": record }),
        Envelope::ResultRecords => serde_json::json!({ "result": record }),
        Envelope::Bare => record,
    }
}
