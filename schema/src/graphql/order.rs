//! Response maps in the order fields were selected, as the spec's serialized-map
//! ordering asks: async-graphql resolves an object's fields concurrently and builds its
//! map in the order they finish, so a field that waits on a loader can come out after
//! one selected later. After execution, every map is put back in selection order
//! (fragments expanded where they stand, aliases as named), over HTTP, SSE and WebSocket
//! alike — every result, subscription results included, passes through it (see
//! [`super::execution`]).

use std::cell::OnceCell;

use async_graphql::Positioned;
use async_graphql::Value;
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
        let fragments = Fragments(document);
        Plan::of(&[selection], &fragments).apply(data, &fragments);
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

/// The order of one selection's response keys, each with the plan of what is selected
/// under it — made once per selection, not once per object: the items of a list share
/// their plans.
struct Plan<'a> {
    keys: Vec<Key<'a>>,
}

struct Key<'a> {
    name: &'a str,
    /// The selection sets under the key (one per place it is selected).
    sets: Vec<&'a SelectionSet>,
    below: OnceCell<Plan<'a>>,
}

impl<'a> Plan<'a> {
    /// The keys `sets` select, in order; fragments are expanded where they stand,
    /// whatever their type condition (a key of a type the value is not is simply absent
    /// from it).
    fn of(sets: &[&'a SelectionSet], fragments: &Fragments<'a>) -> Self {
        let mut plan = Plan { keys: Vec::new() };
        let mut expanded = Vec::new();
        for set in sets {
            plan.collect(set, fragments, &mut expanded);
        }
        plan
    }

    fn collect(
        &mut self,
        set: &'a SelectionSet,
        fragments: &Fragments<'a>,
        expanded: &mut Vec<&'a str>,
    ) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.alias.as_ref().unwrap_or(&field.name).node.as_str();
                    let under = &field.selection_set.node;
                    match self.keys.iter_mut().find(|key| key.name == name) {
                        Some(key) => key.sets.push(under),
                        None => self.keys.push(Key {
                            name,
                            sets: vec![under],
                            below: OnceCell::new(),
                        }),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if !expanded.contains(&name) {
                        expanded.push(name);
                        if let Some(fragment) = fragments.get(name) {
                            self.collect(&fragment.node.selection_set.node, fragments, expanded);
                        }
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.collect(&inline.node.selection_set.node, fragments, expanded);
                }
            }
        }
    }

    /// Puts `value`'s maps in this plan's order, at every depth.
    fn apply(&self, value: &mut Value, fragments: &Fragments<'a>) {
        match value {
            Value::List(items) => {
                for item in items {
                    self.apply(item, fragments);
                }
            }
            Value::Object(map) => {
                if !self.follows(map.keys().map(|key| key.as_str())) {
                    let mut unordered = std::mem::take(map);
                    for key in &self.keys {
                        if let Some((name, child)) = unordered.shift_remove_entry(key.name) {
                            map.insert(name, child);
                        }
                    }
                    // Nothing should be left; if anything is, it keeps its place after the rest.
                    map.extend(unordered);
                }
                // The map's keys are now this plan's, in its order (any others last).
                let mut keys = self.keys.iter();
                for (name, child) in map.iter_mut() {
                    let Some(key) = keys.find(|key| key.name == name.as_str()) else {
                        break;
                    };
                    key.below
                        .get_or_init(|| Plan::of(&key.sets, fragments))
                        .apply(child, fragments);
                }
            }
            _ => {}
        }
    }

    /// Whether `names` come in this plan's order (some may be absent, none other).
    fn follows<'n>(&self, names: impl Iterator<Item = &'n str>) -> bool {
        let mut keys = self.keys.iter();
        names
            .into_iter()
            .all(|name| keys.any(|key| key.name == name))
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
        in_selection_order(&mut data, &document, None);
        assert_eq!(
            serde_json::to_string(&data.into_json().expect("JSON")).expect("text"),
            r#"{"b":{"name":"n","code":"1","level":"GRID"},"a":{"nodes":[{"id":1,"title":"t"},{"id":2,"title":"u"}]}}"#
        );
    }

    #[test]
    fn maps_in_order_are_kept_and_their_children_still_put_in_order() {
        let document =
            async_graphql::parser::parse_query("{ a { z y } b { x { w v } } }").expect("parses");
        let mut data = Value::from_json(serde_json::json!({
            "a": { "y": 1, "z": 2 },
            "b": [{ "x": { "v": 1, "w": 2 } }, { "x": null }, { "x": { "w": 3 } }],
        }))
        .expect("a value");
        in_selection_order(&mut data, &document, None);
        assert_eq!(
            serde_json::to_string(&data.into_json().expect("JSON")).expect("text"),
            r#"{"a":{"z":2,"y":1},"b":[{"x":{"w":2,"v":1}},{"x":null},{"x":{"w":3}}]}"#
        );
    }
}
