//! Which subscriptions share one execution. Dispatch boards follow the same signals with
//! the same selection, each under an operation name of its own and from its own cursor.
//! What a result holds for an entry depends only on the caller, the root field (its
//! response key and its arguments but `after`), the selection set, the fragments and the
//! variables: subscriptions alike in those share one execution, which renders each entry
//! once, and each subscriber starts from its own cursor (see [`super::feeds`]).

use std::fmt::Write;

use async_graphql::parser::types::{
    Directive, ExecutableDocument, Field, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned};
use async_graphql_value::{ConstValue, Value};
use schema::graphql::timeline_cursor;
use schema::workflow::Actor;

use super::feeds::{FeedKey, From};

/// The root fields whose subscriptions are shared, and where one without `after` starts.
const SHARED: [(&str, From); 2] = [
    ("dispatchSignals", From::Now),
    ("eventTimeline", From::After(0)),
];

/// A subscription to share: the execution it shares, and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub key: FeedKey,
    pub from: From,
}

/// The plan for a subscription `operation` of `document`, or `None` for one that runs
/// alone: its root is not one shared field, or its `after` is not a cursor (its own
/// execution then says what is wrong).
pub fn plan(
    caller: &Actor,
    document: &ExecutableDocument,
    operation: &OperationDefinition,
    variables: Option<&serde_json::Value>,
) -> Option<Plan> {
    let [root] = operation.selection_set.node.items.as_slice() else {
        return None;
    };
    let Selection::Field(field) = &root.node else {
        return None;
    };
    let field = &field.node;
    let (_, omitted) = SHARED
        .iter()
        .find(|(name, _)| *name == field.name.node.as_str())?;
    let mut variables = variables
        .and_then(serde_json::Value::as_object)
        .cloned()
        .unwrap_or_default();
    let after = field
        .arguments
        .iter()
        .find(|(name, _)| name.node == "after")
        .map(|(_, value)| &value.node);
    let (from, variable) = match after {
        None | Some(Value::Null) => (*omitted, None),
        Some(Value::String(cursor)) => (From::After(timeline_cursor(cursor)?), None),
        Some(Value::Variable(name)) => {
            let given = variables
                .get(name.as_str())
                .filter(|value| !value.is_null());
            let default = operation
                .variable_definitions
                .iter()
                .find(|definition| definition.node.name.node == *name)
                .and_then(|definition| definition.node.default_value.as_ref())
                .map(|default| &default.node);
            let from = match (given, default) {
                (Some(serde_json::Value::String(cursor)), _) => {
                    From::After(timeline_cursor(cursor)?)
                }
                (Some(_), _) => return None,
                (None, Some(ConstValue::String(cursor))) => From::After(timeline_cursor(cursor)?),
                (None, None | Some(ConstValue::Null)) => *omitted,
                (None, Some(_)) => return None,
            };
            (from, Some(name))
        }
        Some(_) => return None,
    };
    let (text, body) = canonical(document, operation, field);
    // The cursor's variable leaves the key, unless something else reads it.
    if let Some(name) = variable
        && !mentions(&text[body..], name)
    {
        variables.remove(name.as_str());
    }
    Some(Plan {
        key: key(caller, text, &variables),
        from,
    })
}

fn key(
    caller: &Actor,
    selection: String,
    variables: &serde_json::Map<String, serde_json::Value>,
) -> FeedKey {
    // A token's expiry ends its own connection; it changes nothing in the results.
    let caller = Actor {
        expires_at: None,
        ..caller.clone()
    };
    FeedKey {
        caller,
        selection,
        variables: serde_json::Value::Object(variables.clone()).to_string(),
    }
}

/// Whether the printed document reads the variable `name` (not some longer name).
fn mentions(text: &str, name: &Name) -> bool {
    let reference = format!("${name}");
    text.match_indices(&reference).any(|(at, _)| {
        !text[at + reference.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The operation as it bears on results, printed in one way: its variable definitions
/// and directives, the root field without `after`, and the fragments by name; and where
/// what follows the variable definitions starts.
fn canonical(
    document: &ExecutableDocument,
    operation: &OperationDefinition,
    root: &Field,
) -> (String, usize) {
    let mut out = String::new();
    for definition in &operation.variable_definitions {
        let definition = &definition.node;
        let _ = write!(
            out,
            "${}:{}",
            definition.name.node, definition.var_type.node
        );
        if let Some(default) = &definition.default_value {
            let _ = write!(out, "={}", default.node);
        }
        directives(&mut out, &definition.directives);
        out.push(' ');
    }
    let body = out.len();
    directives(&mut out, &operation.directives);
    out.push('{');
    field(&mut out, root, Some("after"));
    out.push('}');
    let mut fragments: Vec<_> = document.fragments.iter().collect();
    fragments.sort_by(|a, b| a.0.cmp(b.0));
    for (name, fragment) in fragments {
        let fragment = &fragment.node;
        let _ = write!(
            out,
            " fragment {name} on {}",
            fragment.type_condition.node.on.node
        );
        directives(&mut out, &fragment.directives);
        selection_set(&mut out, &fragment.selection_set.node);
    }
    (out, body)
}

fn field(out: &mut String, field: &Field, without: Option<&str>) {
    if let Some(alias) = &field.alias {
        let _ = write!(out, "{}:", alias.node);
    }
    out.push_str(&field.name.node);
    arguments(
        out,
        field
            .arguments
            .iter()
            .filter(|(name, _)| Some(name.node.as_str()) != without),
    );
    directives(out, &field.directives);
    if !field.selection_set.node.items.is_empty() {
        selection_set(out, &field.selection_set.node);
    }
}

fn selection_set(out: &mut String, set: &SelectionSet) {
    out.push('{');
    for selection in &set.items {
        match &selection.node {
            Selection::Field(selected) => field(out, &selected.node, None),
            Selection::FragmentSpread(spread) => {
                let _ = write!(out, "...{}", spread.node.fragment_name.node);
                directives(out, &spread.node.directives);
            }
            Selection::InlineFragment(inline) => {
                out.push_str("...");
                if let Some(condition) = &inline.node.type_condition {
                    let _ = write!(out, " on {}", condition.node.on.node);
                }
                directives(out, &inline.node.directives);
                selection_set(out, &inline.node.selection_set.node);
            }
        }
        out.push(' ');
    }
    out.push('}');
}

fn arguments<'a>(
    out: &mut String,
    arguments: impl Iterator<Item = &'a (Positioned<Name>, Positioned<Value>)>,
) {
    let mut open = false;
    for (name, value) in arguments {
        out.push(if open { ',' } else { '(' });
        open = true;
        let _ = write!(out, "{}:{}", name.node, value.node);
    }
    if open {
        out.push(')');
    }
}

fn directives(out: &mut String, directives: &[Positioned<Directive>]) {
    for directive in directives {
        let _ = write!(out, " @{}", directive.node.name.node);
        arguments(out, directive.node.arguments.iter());
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;
    use serde_json::json;

    use super::*;

    fn planned(query: &str, variables: serde_json::Value) -> Option<Plan> {
        let document = parse_query(query).expect("a document");
        let (operation, _) =
            super::super::graphql::operation(&document, None).expect("one operation");
        plan(&Actor::anonymous(), &document, operation, Some(&variables))
    }

    #[test]
    fn boards_alike_but_for_their_names_and_cursors_share() {
        let one = planned(
            r#"subscription A { dispatchSignals(departmentCode: "X", after: "5") { cursor kind } }"#,
            json!({}),
        )
        .expect("shared");
        let other = planned(
            "subscription Other($after: ID) {\n  dispatchSignals(after: $after, departmentCode: \"X\") {\n    cursor\n    kind\n  }\n}",
            json!({ "after": "9" }),
        )
        .expect("shared");
        assert_eq!(one.from, From::After(5));
        assert_eq!(other.from, From::After(9));
        // The variable's definition differs; the results do not, but the key is kept
        // conservative: only the operation's name and the cursor's value are left out.
        let third = planned(
            r#"subscription B { dispatchSignals(departmentCode: "X") { cursor kind } }"#,
            json!({}),
        )
        .expect("shared");
        assert_eq!(third.from, From::Now);
        assert_eq!(one.key, third.key);
        assert_ne!(one.key, other.key);
    }

    #[test]
    fn what_changes_a_result_changes_the_key() {
        let base = r#"subscription { dispatchSignals(departmentCode: "X") { cursor kind } }"#;
        let key = |query: &str, variables| planned(query, variables).expect("shared").key;
        let reference = key(base, json!({}));
        for different in [
            r#"subscription { dispatchSignals(departmentCode: "Y") { cursor kind } }"#,
            r#"subscription { dispatchSignals(departmentCode: "X") { kind cursor } }"#,
            r#"subscription { signals: dispatchSignals(departmentCode: "X") { cursor kind } }"#,
            r#"subscription { dispatchSignals(departmentCode: "X") { cursor k: kind } }"#,
            r#"subscription { dispatchSignals(departmentCode: "X") { cursor ...F } } fragment F on TimelineEntry { kind }"#,
        ] {
            assert_ne!(key(different, json!({})), reference, "{different}");
        }
        let with = r#"subscription($d: String) { dispatchSignals(departmentCode: $d) { cursor } }"#;
        assert_ne!(
            key(with, json!({ "d": "X" })),
            key(with, json!({ "d": "Y" }))
        );
        // A caller of another scope never shares.
        let document = parse_query(base).expect("a document");
        let (operation, _) = super::super::graphql::operation(&document, None).expect("one");
        let other = Actor {
            jurisdiction: "110101".to_owned(),
            ..Actor::anonymous()
        };
        let theirs = plan(&other, &document, operation, None).expect("shared");
        assert_ne!(theirs.key, reference);
    }

    #[test]
    fn the_cursor_leaves_the_key_unless_something_else_reads_it() {
        let only = r#"subscription($a: ID) { dispatchSignals(departmentCode: "X", after: $a) { cursor } }"#;
        assert_eq!(
            planned(only, json!({ "a": "1" })).expect("shared").key,
            planned(only, json!({ "a": "2" })).expect("shared").key
        );
        let also = r#"subscription($a: ID) { dispatchSignals(departmentCode: "X", after: $a) { cursor summons(id: $a) { id } } }"#;
        let one = planned(also, json!({ "a": "1" })).expect("shared");
        assert_eq!(one.from, From::After(1));
        assert_ne!(
            one.key,
            planned(also, json!({ "a": "2" })).expect("shared").key
        );
        assert!(mentions("$a $ab", &Name::new("a")));
        assert!(!mentions("$ab $abc", &Name::new("a")));
    }

    #[test]
    fn only_a_single_shared_root_with_a_cursor_is_planned() {
        for alone in [
            r#"subscription { eventTimeline(eventId: "RXZlbnQ6MQ") { cursor } dispatchSignals(departmentCode: "X") { cursor } }"#,
            r#"subscription { ... on Subscription { dispatchSignals(departmentCode: "X") { cursor } } }"#,
            r#"subscription { dispatchSignals(departmentCode: "X", after: "-1") { cursor } }"#,
            r#"subscription { dispatchSignals(departmentCode: "X", after: "abc") { cursor } }"#,
            r#"subscription { dispatchSignals(departmentCode: "X", after: 5) { cursor } }"#,
        ] {
            assert!(planned(alone, json!({})).is_none(), "{alone}");
        }
        let timeline = planned(
            r#"subscription { eventTimeline(eventId: "RXZlbnQ6MQ") { cursor } }"#,
            json!({}),
        )
        .expect("shared");
        assert_eq!(timeline.from, From::After(0));
    }
}
