//! Checks every operation passes before it runs, whatever the transport: the size of the
//! selection after fragments are expanded (`__typename` included, so alias floods and
//! fragment fans are caught), and error codes on parse and validation failures.

use std::collections::HashMap;

use async_graphql::Response;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};

use super::QueryLimits;
use super::shape::{Shape, count_tokens};
use crate::error::ErrorCode;

/// The checks, with the limits a request must keep.
pub(super) struct Checks {
    pub limits: QueryLimits,
}

/// A request over one of the limits: refused before anything of it runs.
fn too_large(what: &str, found: usize, limit: usize, key: &str) -> ServerError {
    with_code(
        ServerError::new(
            format!("the request has {found} {what}; the limit is {limit} (limits.{key})"),
            None,
        ),
        ErrorCode::QueryTooComplex,
    )
}

impl Checks {
    /// What can be measured before the document is parsed.
    pub(super) fn check_text(&self, query: &str, variables: &Variables) -> ServerResult<()> {
        let limits = &self.limits;
        if query.len() > limits.max_document_bytes {
            return Err(too_large(
                "bytes of document",
                query.len(),
                limits.max_document_bytes,
                "max_document_bytes",
            ));
        }
        let tokens = count_tokens(query, limits.max_tokens);
        if tokens > limits.max_tokens {
            return Err(too_large(
                "tokens (or more) in its document",
                tokens,
                limits.max_tokens,
                "max_tokens",
            ));
        }
        // Serialized only when there are any: most requests send none.
        let variables = if variables.is_empty() {
            0
        } else {
            serde_json::to_string(variables).map_or(0, |text| text.len())
        };
        if variables > limits.max_variables_bytes {
            return Err(too_large(
                "bytes of variables",
                variables,
                limits.max_variables_bytes,
                "max_variables_bytes",
            ));
        }
        Ok(())
    }

    /// What the parsed document asks for.
    pub(super) fn check_document(&self, document: &ExecutableDocument) -> ServerResult<()> {
        let limits = &self.limits;
        let selections = count_selections(document);
        if selections > limits.max_selections {
            return Err(too_large(
                "fields selected once fragments are expanded",
                selections,
                limits.max_selections,
                "max_selections",
            ));
        }
        let shape = Shape::of(document);
        if shape.introspects && !limits.introspection {
            return Err(with_code(
                ServerError::new(
                    "introspection is disabled on this gateway (limits.introspection)",
                    None,
                ),
                ErrorCode::GraphqlValidationFailed,
            ));
        }
        if shape.subscription_roots > 1 {
            return Err(with_code(
                ServerError::new(
                    format!(
                        "a subscription selects exactly one root field; this one selects {}",
                        shape.subscription_roots
                    ),
                    None,
                ),
                ErrorCode::GraphqlValidationFailed,
            ));
        }
        let measures = [
            ("aliases", shape.aliases, limits.max_aliases, "max_aliases"),
            (
                "fields at the root of an operation",
                shape.root_fields,
                limits.max_root_fields,
                "max_root_fields",
            ),
            (
                "selections of one field in one place",
                shape.field_repeats,
                limits.max_field_repeats,
                "max_field_repeats",
            ),
            (
                "directives",
                shape.directives,
                limits.max_directives,
                "max_directives",
            ),
        ];
        match measures
            .into_iter()
            .find(|(_, found, limit, _)| found > limit)
        {
            Some((what, found, limit, key)) => Err(too_large(what, found, limit, key)),
            None => Ok(()),
        }
    }
}

fn with_code(mut error: ServerError, code: ErrorCode) -> ServerError {
    let has_code = error
        .extensions
        .as_ref()
        .is_some_and(|ext| ext.get("code").is_some());
    if !has_code {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code.as_str());
    }
    error
}

/// A document that does not parse.
pub(super) fn parse_failed(error: async_graphql::parser::Error) -> ServerError {
    with_code(ServerError::from(error), ErrorCode::GraphqlParseFailed)
}

/// Every error carries a code (each result of a subscription passes here too).
/// async-graphql's own errors have none: before execution they are the document's
/// (validation, and the depth and complexity limits it checks); on a field, the caller's
/// input (a variable or argument of the wrong type or out of range, a value that does
/// not parse).
pub(super) fn coded(mut response: Response) -> Response {
    for error in &mut response.errors {
        let code = if !error.path.is_empty() {
            ErrorCode::BadUserInput
        // async-graphql words its limit errors this way (pinned version).
        } else if error.message.starts_with("Query is too complex")
            || error.message.starts_with("Query is nested too deep")
        {
            ErrorCode::QueryTooComplex
        } else {
            ErrorCode::GraphqlValidationFailed
        };
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", code.as_str());
        }
    }
    response
}

/// The number of fields every operation of the document selects, fragments expanded.
pub fn count_selections(document: &ExecutableDocument) -> usize {
    let mut counter = Counter {
        document,
        fragments: HashMap::new(),
    };
    document
        .operations
        .iter()
        .map(|(_, operation)| counter.selection_set(&operation.node.selection_set.node))
        .fold(0, usize::saturating_add)
}

struct Counter<'a> {
    document: &'a ExecutableDocument,
    /// Fragment name → its count; `None` while it is being counted (a cycle, which
    /// validation refuses anyway, counts as nothing).
    fragments: HashMap<&'a str, Option<usize>>,
}

impl<'a> Counter<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) => {
                    1usize.saturating_add(self.selection_set(&field.node.selection_set.node))
                }
                Selection::InlineFragment(fragment) => {
                    self.selection_set(&fragment.node.selection_set.node)
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str())
                }
            })
            .fold(0, usize::saturating_add)
    }

    fn fragment(&mut self, name: &'a str) -> usize {
        match self.fragments.get(name) {
            Some(Some(count)) => return *count,
            Some(None) => return 0,
            None => {}
        }
        let Some((key, definition)) = self.document.fragments.get_key_value(name) else {
            return 0;
        };
        self.fragments.insert(key.as_str(), None);
        let count = self.selection_set(&definition.node.selection_set.node);
        self.fragments.insert(key.as_str(), Some(count));
        count
    }
}

#[cfg(test)]
mod tests {
    use super::count_selections;
    use async_graphql::parser::parse_query;

    fn count(query: &str) -> usize {
        parse_query(query)
            .map(|doc| count_selections(&doc))
            .unwrap_or(usize::MAX)
    }

    #[test]
    fn typename_and_aliases_count_like_any_field() {
        assert_eq!(count("{ a: __typename b: __typename c: __typename }"), 3);
        assert_eq!(count("{ person(id: 1) { name id } }"), 3);
    }

    #[test]
    fn fragments_count_once_per_spread() {
        let query = "query { a: node(id: 1) { ...F } b: node(id: 2) { ...F } } \
                     fragment F on Person { name ...G } fragment G on Person { id gender }";
        // Each node: 1 + F(name + G(2)) = 4; two of them.
        assert_eq!(count(query), 8);
    }

    #[test]
    fn fragment_cycles_do_not_loop() {
        assert_eq!(
            count("{ ...A } fragment A on Query { x ...B } fragment B on Query { y ...A }"),
            2
        );
    }
}
