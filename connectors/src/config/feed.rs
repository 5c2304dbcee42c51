//! The `[feed]` section: a department's change feed, pulled on a schedule into the
//! five-element index — which element it changes, how a page of changes is asked for
//! (a REST path or a SQL query, from a cursor), which of the index's fields each change
//! fills, and which fields the department is authoritative for.
//!
//! ```toml
//! [feed]
//! element = "person"
//! interval_s = 30
//! page = 200
//! # rest: `{cursor}` and `{limit}` are replaced; the answer's changes and next cursor.
//! path = "changes?after={cursor}&limit={limit}"
//! changes = "data"
//! next = "next"
//! # sql: `:cursor` and `:limit` are bound; the next cursor is the last row's column.
//! # query = "SELECT * FROM fw_bg WHERE bgxh > CAST(:cursor AS BIGINT) ORDER BY bgxh LIMIT :limit"
//! # cursor = "bgxh"
//! id = "hjbh"
//! authoritative = ["name", "gender", "birth_date", "id_number"]
//!
//! [feed.map]
//! name = "xm"
//! birth_date = { path = "csrq", date = "%Y%m%d" }
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::file::MappingFile;
use super::validate::{Problems, bounded, field_mappings};
use super::{FieldMapping, FieldPath};
use crate::catalog::index_fields;
use crate::{ConnectorKind, Element};

/// The section as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedFile {
    /// `person`, `place`, `thing` or `organization`.
    pub element: Spanned<String>,
    /// Seconds between two pulls.
    pub interval_s: Option<Spanned<u64>>,
    /// Changes asked for at once.
    pub page: Option<Spanned<u64>>,
    /// rest: the GET path, with `{cursor}` and `{limit}`.
    pub path: Option<Spanned<String>>,
    /// rest: where the list of changes is in the answer.
    pub changes: Option<String>,
    /// rest: where the cursor of the next page is in the answer.
    pub next: Option<String>,
    /// sql: the SELECT, with `:cursor` and `:limit`, in cursor order.
    pub query: Option<Spanned<String>>,
    /// sql: the column of the last row that is the next cursor.
    pub cursor: Option<String>,
    /// Where the department's id of the changed record is.
    pub id: String,
    /// The cursor of the first pull (before any change): `0` unless told.
    pub start: Option<String>,
    /// Index fields whose value this department's changes always set (a grid worker's
    /// value included).
    #[serde(default)]
    pub authoritative: Vec<Spanned<String>>,
    /// The index's field ← the department's.
    pub map: BTreeMap<Spanned<String>, Spanned<MappingFile>>,
}

const DEFAULT_INTERVAL_S: u64 = 60;
const MAX_INTERVAL_S: u64 = 86_400;
const DEFAULT_PAGE: u64 = 200;
const MAX_PAGE: u64 = 5_000;

/// How a page of changes is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedSource {
    Rest {
        path: String,
        changes: FieldPath,
        next: FieldPath,
    },
    Sql {
        query: String,
        cursor: String,
    },
}

/// A department's change feed, checked.
#[derive(Debug, Clone)]
pub struct Feed {
    pub element: Element,
    pub interval: Duration,
    pub page: usize,
    pub source: FeedSource,
    pub id: FieldPath,
    pub start: String,
    pub authoritative: Vec<String>,
    pub fields: Vec<FieldMapping>,
}

pub(super) fn check(
    problems: &mut Problems<'_>,
    kind: ConnectorKind,
    raw: Option<&Spanned<FeedFile>>,
) -> Option<Feed> {
    let raw = raw?;
    let section = raw.get_ref();
    if !matches!(kind, ConnectorKind::Rest | ConnectorKind::Sql) {
        problems.at(
            Some(raw.span()),
            "feed",
            format!("only rest and sql departments have a change feed; this one is {kind}"),
        );
        return None;
    }
    let element = Element::parse(section.element.get_ref());
    let Some(fields_of) = element.and_then(index_fields) else {
        problems.at(
            Some(section.element.span()),
            "feed.element",
            format!(
                "`{}` is not an element a feed changes (person, place, thing or organization)",
                section.element.get_ref()
            ),
        );
        return None;
    };
    let interval = bounded(
        problems,
        section.interval_s.as_ref(),
        "feed.interval_s",
        DEFAULT_INTERVAL_S,
        MAX_INTERVAL_S,
    );
    let page = bounded(
        problems,
        section.page.as_ref(),
        "feed.page",
        DEFAULT_PAGE,
        MAX_PAGE,
    );
    let source = match kind {
        ConnectorKind::Rest => {
            let path = section
                .path
                .as_ref()
                .map(|p| p.get_ref().clone())
                .unwrap_or_default();
            if !path.contains("{cursor}") {
                problems.at(
                    section.path.as_ref().map(Spanned::span).or(Some(raw.span())),
                    "feed.path",
                    "a rest feed needs a `path` with `{cursor}` (and `{limit}`), e.g. \"changes?after={cursor}&limit={limit}\"",
                );
            }
            for (name, value) in [("changes", &section.changes), ("next", &section.next)] {
                if value.is_none() {
                    problems.at(
                        Some(raw.span()),
                        format!("feed.{name}"),
                        "missing: a rest feed says where the answer's changes and next cursor are",
                    );
                }
            }
            if section.query.is_some() || section.cursor.is_some() {
                problems.at(
                    Some(raw.span()),
                    "feed.query",
                    "`query` and `cursor` are for sql feeds",
                );
            }
            FeedSource::Rest {
                path,
                changes: FieldPath::parse(section.changes.as_deref().unwrap_or_default()),
                next: FieldPath::parse(section.next.as_deref().unwrap_or_default()),
            }
        }
        _ => {
            let query = section
                .query
                .as_ref()
                .map(|q| q.get_ref().clone())
                .unwrap_or_default();
            let names = crate::sql::parameter_names(&query);
            if !query
                .trim_start()
                .to_ascii_uppercase()
                .starts_with("SELECT")
                || !names.iter().any(|n| n == "cursor")
            {
                problems.at(
                    section.query.as_ref().map(Spanned::span).or(Some(raw.span())),
                    "feed.query",
                    "a sql feed needs a SELECT `query` with `:cursor` (and `:limit`), in cursor order",
                );
            }
            if let Some(other) = names
                .iter()
                .find(|n| !matches!(n.as_str(), "cursor" | "limit"))
            {
                problems.at(
                    section.query.as_ref().map(Spanned::span),
                    "feed.query",
                    format!("`:{other}` is not a parameter of a feed (it has :cursor and :limit)"),
                );
            }
            if section.cursor.is_none() {
                problems.at(
                    Some(raw.span()),
                    "feed.cursor",
                    "missing: name the column whose last value is the next cursor",
                );
            }
            if section.path.is_some() || section.changes.is_some() || section.next.is_some() {
                problems.at(
                    Some(raw.span()),
                    "feed.path",
                    "`path`, `changes` and `next` are for rest feeds",
                );
            }
            FeedSource::Sql {
                query,
                cursor: section.cursor.clone().unwrap_or_default(),
            }
        }
    };
    if section.id.trim().is_empty() {
        problems.at(
            Some(raw.span()),
            "feed.id",
            "is empty: name where the changed record's id is",
        );
    }
    let fields = field_mappings(problems, "feed", fields_of, &section.map);
    let mut authoritative = Vec::new();
    for field in &section.authoritative {
        let name = field.get_ref();
        if !section.map.keys().any(|k| k.get_ref() == name) {
            problems.at(
                Some(field.span()),
                "feed.authoritative",
                format!("`{name}` is not a field the feed maps"),
            );
        }
        authoritative.push(name.clone());
    }
    Some(Feed {
        element: fields_of.element,
        interval: Duration::from_secs(interval),
        page: usize::try_from(page).unwrap_or(usize::MAX),
        source,
        id: FieldPath::parse(&section.id),
        start: section.start.clone().unwrap_or_else(|| "0".to_owned()),
        authoritative,
        fields,
    })
}
