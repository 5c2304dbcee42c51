//! Parsed documents, kept by their text. Clients send the same few documents again and
//! again (a frontend's operations, a board's subscription), and parsing one costs more
//! than running a small query's resolvers. Each request's document is parsed once — the
//! checks before the schema and the schema's execution read the same parse — and a
//! document seen lately is not parsed again. Only documents that parse are kept, at most
//! [`TEXT_BUDGET`] bytes of their text, the least recently used leaving first — and not
//! those that hold only subscriptions: a subscription is parsed when it starts (twice:
//! once for the gateway's checks, once to run) and then runs for hours, so keeping its
//! text saves nothing worth the memory, and boards that each send their own would crowd
//! out the documents that requests send again and again.

use std::sync::{Arc, Mutex};

use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::parser::{Error as ParseError, parse_query};
use lru::LruCache;

/// The text of the documents kept, in bytes. A parsed document takes tens of times its
/// text's size: filled with distinct documents this budget held about 10 MiB of parsed
/// documents. Room for a city's frontends' few hundred operations.
const TEXT_BUDGET: usize = 256 * 1024;

fn only_subscriptions(document: &ExecutableDocument) -> bool {
    document
        .operations
        .iter()
        .all(|(_, operation)| operation.node.ty == OperationType::Subscription)
}

/// The documents parsed lately, by their text.
pub struct Documents {
    kept: Mutex<Kept>,
    budget: usize,
}

struct Kept {
    documents: LruCache<String, Arc<ExecutableDocument>>,
    /// The bytes of the kept documents' text.
    bytes: usize,
}

impl Default for Documents {
    fn default() -> Self {
        Self::with_budget(TEXT_BUDGET)
    }
}

impl Documents {
    /// Keeps at most `budget` bytes of documents' text.
    fn with_budget(budget: usize) -> Self {
        Self {
            kept: Mutex::new(Kept {
                documents: LruCache::unbounded(),
                bytes: 0,
            }),
            budget,
        }
    }

    /// The document `query` parses to.
    pub fn parse(&self, query: &str) -> Result<Arc<ExecutableDocument>, ParseError> {
        if let Some(document) = self.kept().documents.get(query) {
            return Ok(document.clone());
        }
        let document = Arc::new(parse_query(query)?);
        if query.len() <= self.budget && !only_subscriptions(&document) {
            let mut kept = self.kept();
            if kept
                .documents
                .put(query.to_owned(), document.clone())
                .is_none()
            {
                kept.bytes += query.len();
            }
            while kept.bytes > self.budget {
                let Some((text, _)) = kept.documents.pop_lru() else {
                    break;
                };
                kept.bytes -= text.len();
            }
        }
        Ok(document)
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        // The cache holds no invariant a panicking holder could break beyond a miscount.
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How many documents are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.kept().documents.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_seen_before_is_the_same_parse() {
        let documents = Documents::default();
        let first = documents
            .parse("{ events { totalCount } }")
            .expect("parses");
        let again = documents
            .parse("{ events { totalCount } }")
            .expect("parses");
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(documents.len(), 1);
    }

    #[test]
    fn documents_of_subscriptions_only_are_parsed_but_not_kept() {
        let documents = Documents::default();
        let board = "subscription Board { whistles { id } }";
        let first = documents.parse(board).expect("parses");
        let again = documents.parse(board).expect("parses");
        assert!(!Arc::ptr_eq(&first, &again));
        assert_eq!(documents.len(), 0);

        documents
            .parse("query List { events { totalCount } } subscription Board { whistles { id } }")
            .expect("parses");
        assert_eq!(documents.len(), 1, "a document with a query is kept");
    }

    #[test]
    fn a_document_that_does_not_parse_is_an_error_and_not_kept() {
        let documents = Documents::default();
        assert!(documents.parse("{ events {").is_err());
        assert_eq!(documents.len(), 0);
    }

    #[test]
    fn the_least_recently_used_documents_leave_when_the_budget_is_spent() {
        let queries: Vec<String> = (0..4).map(|i| format!("{{ a{i}: __typename }}")).collect();
        // Room for three of the four texts.
        let documents = Documents::with_budget(queries[0].len() * 3);
        for query in &queries[..3] {
            documents.parse(query).expect("parses");
        }
        // The first is used again, so the second is the least recently used.
        let first = documents.parse(&queries[0]).expect("parses");
        documents.parse(&queries[3]).expect("parses");
        assert_eq!(documents.len(), 3);
        assert!(Arc::ptr_eq(
            &first,
            &documents.parse(&queries[0]).expect("parses")
        ));
        let second = documents.parse(&queries[1]).expect("parses");
        // The second came back as a new parse, pushing out the third.
        assert_eq!(documents.len(), 3);
        assert!(Arc::ptr_eq(
            &second,
            &documents.parse(&queries[1]).expect("parses")
        ));
    }

    #[test]
    fn a_document_larger_than_the_budget_is_parsed_and_not_kept() {
        let documents = Documents::with_budget(8);
        documents.parse("{ __typename }").expect("parses");
        assert_eq!(documents.len(), 0);
    }
}
