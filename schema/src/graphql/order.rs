//! Response maps in the order fields were selected, as the spec's serialized-map
//! ordering asks: async-graphql resolves an object's fields concurrently and builds its
//! map in the order they finish, so a field that waits on a loader can come out after
//! one selected later. After execution, every map is put back in selection order
//! (fragments expanded where they stand, aliases as named), over HTTP, SSE and WebSocket
//! alike — every result, subscription results included, passes through it (see
//! [`super::execution`]).

use std::collections::HashSet;

use async_graphql::Positioned;
use async_graphql::Value;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};

/// Puts the maps of `data`, the result of the operation `operation_name` names in
/// `document`, in the order its fields were selected.
pub(super) fn in_selection_order(
    data: &mut Value,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) {
    if let Some(selection) = operation(document, operation_name) {
        reorder(data, &[selection], &Fragments(document));
    }
}

/// The selection set of the operation that ran.
fn operation<'a>(document: &'a ExecutableDocument, name: Option<&str>) -> Option<&'a SelectionSet> {
    match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(&operation.node.selection_set.node),
        (DocumentOperations::Multiple(operations), Some(name)) => operations
            .get(name)
            .map(|operation| &operation.node.selection_set.node),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations
            .values()
            .next()
            .map(|operation| &operation.node.selection_set.node),
        _ => None,
    }
}

struct Fragments<'a>(&'a ExecutableDocument);

impl<'a> Fragments<'a> {
    fn get(&self, name: &str) -> Option<&'a Positioned<FragmentDefinition>> {
        self.0.fragments.get(name)
    }
}

/// Puts `value`'s maps in the order `sets` select their keys, at every depth.
fn reorder(value: &mut Value, sets: &[&SelectionSet], fragments: &Fragments<'_>) {
    match value {
        Value::List(items) => {
            for item in items {
                reorder(item, sets, fragments);
            }
        }
        Value::Object(map) => {
            let mut keys: IndexMap<&str, Vec<&SelectionSet>> = IndexMap::new();
            let mut expanded = HashSet::new();
            for set in sets {
                collect(set, fragments, &mut keys, &mut expanded);
            }
            let mut unordered = std::mem::take(map);
            for (key, children) in &keys {
                if let Some((name, mut child)) = unordered.shift_remove_entry(*key) {
                    reorder(&mut child, children, fragments);
                    map.insert(name, child);
                }
            }
            // Nothing should be left; if anything is, it keeps its place after the rest.
            map.extend(unordered);
        }
        _ => {}
    }
}

/// The response keys of `set` in order, each with the selection sets under it; fragments
/// are expanded where they stand, whatever their type condition (a key of a type the
/// value is not is simply absent from it).
fn collect<'a>(
    set: &'a SelectionSet,
    fragments: &Fragments<'a>,
    keys: &mut IndexMap<&'a str, Vec<&'a SelectionSet>>,
    expanded: &mut HashSet<&'a str>,
) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let field = &field.node;
                let key = field.alias.as_ref().unwrap_or(&field.name).node.as_str();
                keys.entry(key).or_default().push(&field.selection_set.node);
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if expanded.insert(name)
                    && let Some(fragment) = fragments.get(name)
                {
                    collect(&fragment.node.selection_set.node, fragments, keys, expanded);
                }
            }
            Selection::InlineFragment(inline) => {
                collect(&inline.node.selection_set.node, fragments, keys, expanded);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_follow_the_selection_through_aliases_fragments_and_lists() {
        let document = async_graphql::parser::parse_query(
            "{ b: jurisdiction { name ...F } a: events { nodes { id title } } }
             fragment F on Jurisdiction { code ... on Jurisdiction { level } }",
        )
        .expect("parses");
        let mut data = Value::from_json(serde_json::json!({
            "a": { "nodes": [{ "title": "t", "id": 1 }, { "title": "u", "id": 2 }] },
            "b": { "level": "GRID", "code": "1", "name": "n" },
        }))
        .expect("a value");
        let fragments = Fragments(&document);
        let set = operation(&document, None).expect("one operation");
        reorder(&mut data, &[set], &fragments);
        assert_eq!(
            serde_json::to_string(&data.into_json().expect("JSON")).expect("text"),
            r#"{"b":{"name":"n","code":"1","level":"GRID"},"a":{"nodes":[{"id":1,"title":"t"},{"id":2,"title":"u"}]}}"#
        );
    }
}
