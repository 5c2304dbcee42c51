//! Each rest department described as OpenAPI 3.0, for tools that build a GraphQL source
//! from such a document (GraphQL Mesh): `GET /<code>/openapi.json`.
//!
//! The document describes the department's positional face, `GET /<code>/openapi/
//! <collection>?ids=a,b,c`: one item per id asked, in the order asked, `null` where the
//! department holds nothing, with no envelope. That is what such tools need to batch
//! lookups (they match answers to keys by position); the department's own endpoints
//! skip what they do not hold and wrap their answers each its own way.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::server::{Served, collection_of};

/// How many records of a collection are read to describe its fields.
const SAMPLE: usize = 200;

/// The document for one department.
pub fn document(code: &str, served: &Served) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let mut collections: Vec<_> = served.records.iter().collect();
    collections.sort_by_key(|(element, _)| **element);
    for (element, records) in collections {
        let collection = collection_of(*element);
        let record = format!("{}Record", element.type_name());
        let mut sample: Vec<(&String, &Value)> = records.iter().collect();
        sample.sort_by_key(|(id, _)| *id);
        schemas.insert(
            record.clone(),
            describe(sample.iter().take(SAMPLE).map(|(_, value)| *value)),
        );
        paths.insert(
            format!("/{code}/openapi/{collection}"),
            json!({ "get": {
                "operationId": collection,
                "summary": format!("{collection} by id, one item per id in the order asked (null where none)"),
                "parameters": [{
                    "name": "ids", "in": "query", "required": true,
                    "style": "form", "explode": false,
                    "schema": { "type": "array", "items": { "type": "string" } }
                }],
                "responses": {
                    "200": { "description": "one item per id", "content": { "application/json": {
                        "schema": { "type": "array", "items": {
                            "nullable": true,
                            "allOf": [{ "$ref": format!("#/components/schemas/{record}") }]
                        } }
                    } } },
                    "401": { "description": "missing or wrong credentials" }
                }
            } }),
        );
    }
    json!({
        "openapi": "3.0.3",
        "info": { "title": code, "version": "1" },
        "paths": paths,
        "components": { "schemas": schemas },
    })
}

/// A JSON Schema that every sampled record fits: an object with the fields seen, each
/// typed by its first non-null value.
fn describe<'a>(records: impl Iterator<Item = &'a Value>) -> Value {
    let mut fields: BTreeMap<String, Vec<&'a Value>> = BTreeMap::new();
    for record in records {
        if let Value::Object(record) = record {
            for (name, value) in record {
                fields.entry(name.clone()).or_default().push(value);
            }
        }
    }
    let properties: Map<String, Value> = fields
        .into_iter()
        .map(|(name, values)| {
            let schema = match values.iter().find(|value| !value.is_null()) {
                Some(Value::Object(_)) => describe(values.into_iter()),
                Some(Value::Bool(_)) => json!({ "type": "boolean" }),
                Some(Value::Number(number)) if number.is_i64() => json!({ "type": "integer" }),
                Some(Value::Number(_)) => json!({ "type": "number" }),
                Some(Value::Array(_)) => json!({ "type": "array", "items": {} }),
                Some(Value::String(_)) | Some(Value::Null) | None => json!({ "type": "string" }),
            };
            (name, schema)
        })
        .collect();
    json!({ "type": "object", "properties": properties })
}
