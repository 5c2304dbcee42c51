//! A department's change feed, read a page at a time from a cursor: each change the
//! department's id of the record changed and the index fields it fills, normalised by
//! the feed's `[feed.map]`. A page that does not read (a change without an id, a value
//! that does not fit its field) fails whole, so that nothing is skipped unseen.

use serde_json::{Map, Value};

use crate::catalog::index_fields;
use crate::config::{Feed, FeedSource, Provision};
use crate::department::{Client, Department, DepartmentError};
use crate::mapping::{normalise, record_id};
use crate::upstream::UpstreamError;

/// One change: the department's id of the record, and the index fields it sets (those
/// it left out or gave as null are absent).
#[derive(Debug, Clone, PartialEq)]
pub struct FeedChange {
    pub source_id: String,
    pub values: Map<String, Value>,
}

/// A page of changes and the cursor after it (`None`: the page was empty, the cursor
/// stays).
#[derive(Debug, Clone, PartialEq)]
pub struct FeedPage {
    pub changes: Vec<FeedChange>,
    pub next: Option<String>,
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

impl Department {
    /// The department's change feed, if it has one.
    pub fn feed(&self) -> Option<&Feed> {
        self.config.feed.as_ref()
    }

    /// The changes after `cursor`, at most the feed's page, under the guard.
    pub async fn changes(&self, cursor: &str) -> Result<FeedPage, DepartmentError> {
        let Some(feed) = self.feed() else {
            return Ok(FeedPage {
                changes: Vec::new(),
                next: None,
            });
        };
        let started = std::time::Instant::now();
        let page = self
            .guard
            .read(|| self.page(feed, cursor), UpstreamError::retryable)
            .await
            .map_err(|error| self.failure(error));
        self.observe(started, page.as_ref().err());
        page
    }

    async fn page(&self, feed: &Feed, cursor: &str) -> Result<FeedPage, UpstreamError> {
        let limit = feed.page.to_string();
        let (raw, next) = match (&self.client, &feed.source) {
            (
                Client::Rest(rest),
                FeedSource::Rest {
                    path,
                    changes,
                    next,
                },
            ) => {
                let path = path
                    .replace("{cursor}", &urlencode(cursor))
                    .replace("{limit}", &limit);
                let answer = rest.read(&path).await?;
                let raw = match changes.find(&answer) {
                    Some(Value::Array(items)) => items.clone(),
                    Some(Value::Null) | None if answer.is_null() => Vec::new(),
                    _ => {
                        return Err(UpstreamError::BadResponse(format!(
                            "the feed's answer has no list of changes at `{changes}`"
                        )));
                    }
                };
                let next = next.find(&answer).and_then(text);
                (raw, next)
            }
            (
                Client::Sql(sql),
                FeedSource::Sql {
                    query,
                    cursor: column,
                },
            ) => {
                let value = |name: &str| match name {
                    "cursor" => Some(cursor.to_owned()),
                    "limit" => Some(limit.clone()),
                    _ => None,
                };
                let raw = sql.read_all(query, &value).await?;
                let next = match raw.last() {
                    Some(last) => Some(last.get(column).and_then(text).ok_or_else(|| {
                        UpstreamError::BadResponse(format!(
                            "the feed's rows have no cursor column `{column}`"
                        ))
                    })?),
                    None => None,
                };
                (raw, next)
            }
            _ => {
                return Ok(FeedPage {
                    changes: Vec::new(),
                    next: None,
                });
            }
        };
        let next = if raw.is_empty() { None } else { next };
        if !raw.is_empty() && next.is_none() {
            return Err(UpstreamError::BadResponse(
                "a page of changes came without the cursor after it".to_owned(),
            ));
        }
        let Some(federated) = index_fields(feed.element) else {
            return Ok(FeedPage {
                changes: Vec::new(),
                next,
            });
        };
        let provision = Provision {
            federated,
            precedence: 0,
            fields: feed.fields.clone(),
        };
        let mut changes = Vec::with_capacity(raw.len());
        for record in &raw {
            let bad = |e: crate::BadRecord| UpstreamError::BadResponse(e.to_string());
            let source_id = record_id(record, &feed.id).map_err(bad)?;
            let normalised = normalise(record, &[&provision]).map_err(bad)?;
            let mut values = match normalised.get(federated.field) {
                Some(Value::Object(values)) => values.clone(),
                _ => Map::new(),
            };
            // A field the change does not carry (absent, or null as a change table's
            // untouched columns are) is left as it is.
            values.retain(|_, value| !value.is_null());
            changes.push(FeedChange { source_id, values });
        }
        Ok(FeedPage { changes, next })
    }
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
