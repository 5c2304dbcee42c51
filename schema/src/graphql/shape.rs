//! The measures of a document that bound what a request may ask before anything of it
//! runs: its tokens (counted before it is parsed), and once parsed its aliases, root
//! fields, the most times one field is selected in one place, and its directives.

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};

/// How many lexical tokens a GraphQL text holds (names, numbers, strings, punctuators);
/// whitespace, commas and comments are not tokens. Stops counting past `limit`.
pub fn count_tokens(text: &str, limit: usize) -> usize {
    let bytes = text.as_bytes();
    let mut tokens = 0;
    let mut i = 0;
    while i < bytes.len() && tokens <= limit {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            // A byte-order mark.
            0xEF if bytes[i..].starts_with(&[0xEF, 0xBB, 0xBF]) => i += 3,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                tokens += 1;
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
            }
            b'"' => {
                tokens += 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                tokens += 1;
                i += 3;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' => {
                tokens += 1;
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'.' | b'+'))
                {
                    i += 1;
                }
            }
            _ => {
                tokens += 1;
                i += 1;
            }
        }
    }
    tokens
}

/// What a parsed document asks for, as its limits count it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// Fields selected under another name, in the whole document.
    pub aliases: usize,
    /// Fields at the root of the largest operation, fragments at the root included.
    pub root_fields: usize,
    /// The most times one response key is selected in one selection set.
    pub field_repeats: usize,
    /// Directives used, in the whole document.
    pub directives: usize,
    /// Whether an operation asks for `__schema` or `__type`.
    pub introspects: bool,
    /// The most response keys at the root of a subscription (the spec allows one).
    pub subscription_roots: usize,
}

impl Shape {
    pub fn of(document: &ExecutableDocument) -> Self {
        let mut shape = Shape::default();
        for (_, operation) in document.operations.iter() {
            let operation = &operation.node;
            shape.directives += operation.directives.len();
            let mut keys = HashMap::new();
            shape.introspects |= root_keys(document, &operation.selection_set.node, &mut keys, 0);
            shape.root_fields = shape.root_fields.max(keys.values().sum());
            if operation.ty == OperationType::Subscription {
                shape.subscription_roots = shape.subscription_roots.max(keys.len());
            }
            shape.measure(&operation.selection_set.node);
        }
        for fragment in document.fragments.values() {
            shape.directives += fragment.node.directives.len();
            shape.measure(&fragment.node.selection_set.node);
        }
        shape
    }

    fn measure(&mut self, set: &SelectionSet) {
        let mut keys: HashMap<&str, usize> = HashMap::new();
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    self.aliases += usize::from(field.alias.is_some());
                    self.directives += field.directives.len();
                    *keys.entry(field.response_key().node.as_str()).or_default() += 1;
                    self.measure(&field.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    self.directives += fragment.node.directives.len();
                    self.measure(&fragment.node.selection_set.node);
                }
                Selection::FragmentSpread(spread) => {
                    self.directives += spread.node.directives.len();
                }
            }
        }
        self.field_repeats = self
            .field_repeats
            .max(keys.values().copied().max().unwrap_or(0));
    }
}

/// The response keys at the root of an operation, through fragments (at most a few
/// levels of them: deeper nesting adds nothing a client needs); whether any of the
/// fields there is an introspection field.
fn root_keys<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    keys: &mut HashMap<&'a str, usize>,
    depth: usize,
) -> bool {
    if depth > 8 {
        return false;
    }
    let mut introspects = false;
    for item in &set.items {
        let nested = match &item.node {
            Selection::Field(field) => {
                *keys
                    .entry(field.node.response_key().node.as_str())
                    .or_default() += 1;
                introspects |= matches!(field.node.name.node.as_str(), "__schema" | "__type");
                None
            }
            Selection::InlineFragment(fragment) => Some(&fragment.node.selection_set.node),
            Selection::FragmentSpread(spread) => document
                .fragments
                .get(&spread.node.fragment_name.node)
                .map(|fragment| &fragment.node.selection_set.node),
        };
        if let Some(nested) = nested {
            introspects |= root_keys(document, nested, keys, depth + 1);
        }
    }
    introspects
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn shape(query: &str) -> Shape {
        parse_query(query)
            .map(|d| Shape::of(&d))
            .unwrap_or_default()
    }

    #[test]
    fn tokens_are_counted_as_the_grammar_has_them() {
        assert_eq!(count_tokens("{ a }", 100), 3);
        assert_eq!(
            count_tokens("query Q($x: Int = -1.5e3) { a(x: $x) }", 100),
            19
        );
        assert_eq!(count_tokens("{ a(s: \"x y \\\" z\") # comment\n }", 100), 8);
        assert_eq!(
            count_tokens("{ a(s: \"\"\"block \" string\"\"\") ...F }", 100),
            10
        );
        assert_eq!(
            count_tokens("{ a b c d e f }", 3),
            4,
            "stops past the limit"
        );
    }

    #[test]
    fn aliases_repeats_root_fields_and_directives_are_measured() {
        let measured = shape(
            "query @a { x: f y: f f f @skip(if: true) ...R } \
             fragment R on Query { g h: g @include(if: true) }",
        );
        assert_eq!(
            measured,
            Shape {
                aliases: 3,
                root_fields: 6,
                field_repeats: 2,
                directives: 3,
                introspects: false,
                subscription_roots: 0,
            }
        );
        assert_eq!(shape("{ a { b b b b } }").field_repeats, 4);
    }
}
