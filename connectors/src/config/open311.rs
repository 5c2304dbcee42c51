//! The `[open311]` section, which only open311 systems have: where a request's
//! jurisdiction is, which of the system's services become which event categories, how
//! often to pull, and which Open311 status each event status shows as.
//!
//! ```toml
//! [open311]
//! jurisdiction_field = "zone_code"
//! poll_interval_s = 60
//! lookback_days = 30
//! max_results = 1000
//!
//! [open311.services]
//! "101" = "NEIGHBOR_DISPUTE"
//!
//! [open311.statuses]
//! REPORTED = "open"
//! CLOSED = "closed"
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::validate::{Problems, bounded};
use crate::ConnectorKind;
use crate::catalog::Catalog;
use crate::open311::RequestStatus;

/// The section as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Open311File {
    /// The request field holding the code of the jurisdiction (a grid, usually) the
    /// system's dispatcher assigned: an extension field such as `zone_code`.
    pub jurisdiction_field: Spanned<String>,
    /// Seconds between two rounds of pulling requests and pushing statuses.
    pub poll_interval_s: Option<Spanned<u64>>,
    /// How far back the first pull looks, in days (Open311 searches span at most 90).
    pub lookback_days: Option<Spanned<u64>>,
    /// The most requests the system answers to one search (its page cap; GeoReport v2
    /// servers commonly stop at 1,000): a search answered this many is asked again in
    /// halves.
    pub max_results: Option<Spanned<u64>>,
    /// The system's `service_code` → our event category.
    pub services: BTreeMap<Spanned<String>, Spanned<String>>,
    /// Our event status → the Open311 status (`open` or `closed`) the system shows.
    pub statuses: BTreeMap<Spanned<String>, Spanned<String>>,
}

const DEFAULT_POLL_INTERVAL_S: u64 = 60;
const DEFAULT_LOOKBACK_DAYS: u64 = 30;
const MAX_POLL_INTERVAL_S: u64 = 86_400;
const MAX_LOOKBACK_DAYS: u64 = 90;
const DEFAULT_MAX_RESULTS: u64 = 1_000;
const MAX_MAX_RESULTS: u64 = 100_000;

/// An open311 system's settings, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open311 {
    pub jurisdiction_field: String,
    /// `service_code` → event category name (as GraphQL spells it).
    pub services: BTreeMap<String, String>,
    /// Event status name → Open311 status.
    pub statuses: BTreeMap<String, RequestStatus>,
    pub poll_interval: Duration,
    pub lookback: Duration,
    /// The most requests one search answers.
    pub max_results: usize,
}

impl Open311 {
    /// The event category of a service; `None` for services that do not become events.
    pub fn category(&self, service_code: &str) -> Option<&str> {
        self.services.get(service_code).map(String::as_str)
    }

    /// The Open311 status an event status shows as.
    pub fn status(&self, event_status: &str) -> Option<RequestStatus> {
        self.statuses.get(event_status).copied()
    }
}

/// Checks the section against the kind, and its names against the catalog's event
/// vocabulary when there is a catalog (the simulator reads configs without one).
pub(super) fn check(
    problems: &mut Problems<'_>,
    kind: ConnectorKind,
    raw: Option<&Spanned<Open311File>>,
    catalog: Option<&Catalog>,
) -> Option<Open311> {
    let raw = match (kind, raw) {
        (ConnectorKind::Open311, Some(raw)) => raw,
        (ConnectorKind::Open311, None) => {
            problems.at(
                None,
                "open311",
                "missing: an open311 system needs an `[open311]` section (jurisdiction_field, services, statuses)",
            );
            return None;
        }
        (_, Some(raw)) => {
            problems.at(
                Some(raw.span()),
                "open311",
                format!("only open311 systems have an `[open311]` section; this one is {kind}"),
            );
            return None;
        }
        (_, None) => return None,
    };
    let section = raw.get_ref();
    let vocabulary = catalog.map(Catalog::events).unwrap_or_default();

    let field = section.jurisdiction_field.get_ref().trim();
    if field.is_empty() {
        problems.at(
            Some(section.jurisdiction_field.span()),
            "open311.jurisdiction_field",
            "is empty: name the request field holding the jurisdiction code, e.g. \"zone_code\"",
        );
    }

    let poll_interval_s = bounded(
        problems,
        section.poll_interval_s.as_ref(),
        "open311.poll_interval_s",
        DEFAULT_POLL_INTERVAL_S,
        MAX_POLL_INTERVAL_S,
    );
    let lookback_days = bounded(
        problems,
        section.lookback_days.as_ref(),
        "open311.lookback_days",
        DEFAULT_LOOKBACK_DAYS,
        MAX_LOOKBACK_DAYS,
    );
    let max_results = bounded(
        problems,
        section.max_results.as_ref(),
        "open311.max_results",
        DEFAULT_MAX_RESULTS,
        MAX_MAX_RESULTS,
    );

    if section.services.is_empty() {
        problems.at(
            Some(raw.span()),
            "open311.services",
            "maps no service: list the system's service codes and the event category each becomes",
        );
    }
    let mut services = BTreeMap::new();
    for (code, category) in &section.services {
        let key = format!("open311.services.{}", code.get_ref());
        if code.get_ref().trim().is_empty() {
            problems.at(Some(code.span()), key.clone(), "the service code is empty");
        }
        if !vocabulary.categories.is_empty()
            && !vocabulary.categories.contains(&category.get_ref().as_str())
        {
            problems.at(
                Some(category.span()),
                key,
                format!(
                    "`{}` is not an event category (one of {})",
                    category.get_ref(),
                    vocabulary.categories.join(", ")
                ),
            );
            continue;
        }
        services.insert(code.get_ref().clone(), category.get_ref().clone());
    }

    let mut statuses = BTreeMap::new();
    for (status, shown) in &section.statuses {
        let key = format!("open311.statuses.{}", status.get_ref());
        if !vocabulary.statuses.is_empty()
            && !vocabulary.statuses.contains(&status.get_ref().as_str())
        {
            problems.at(
                Some(status.span()),
                key,
                format!(
                    "`{}` is not an event status (one of {})",
                    status.get_ref(),
                    vocabulary.statuses.join(", ")
                ),
            );
            continue;
        }
        match RequestStatus::parse(shown.get_ref()) {
            Some(shown) => {
                statuses.insert(status.get_ref().clone(), shown);
            }
            None => problems.at(
                Some(shown.span()),
                key,
                format!(
                    "`{}` is not an Open311 status (\"open\" or \"closed\")",
                    shown.get_ref()
                ),
            ),
        }
    }
    let missing: Vec<&str> = vocabulary
        .statuses
        .iter()
        .copied()
        .filter(|status| !section.statuses.keys().any(|k| k.get_ref() == status))
        .collect();
    if !missing.is_empty() {
        problems.at(
            Some(raw.span()),
            "open311.statuses",
            format!(
                "says nothing of {}: every event status needs the Open311 status it shows as",
                missing.join(", ")
            ),
        );
    }

    Some(Open311 {
        jurisdiction_field: field.to_owned(),
        services,
        statuses,
        poll_interval: Duration::from_secs(poll_interval_s),
        lookback: Duration::from_secs(lookback_days * 86_400),
        max_results: max_results as usize,
    })
}

/// A whole number from 1 to `max`, or `default` when not given.
#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::catalog::{Catalog, EventVocabulary};
    use crate::config::{ConfigError, Vars, validate};

    const HOTLINE: &str = r#"code = "220400-12345"
name = "辽源市12345政务服务便民热线"
county = "220400"
kind = "open311"
endpoint = "http://127.0.0.1:7700/220400-12345"

[open311]
jurisdiction_field = "zone_code"
poll_interval_s = 30

[open311.services]
"101" = "NEIGHBOR_DISPUTE"
"402" = "ENVIRONMENT"

[open311.statuses]
REPORTED = "open"
CLOSED = "closed"
"#;

    fn catalog() -> Catalog {
        Catalog::new([]).with_events(EventVocabulary {
            categories: &["NEIGHBOR_DISPUTE", "ENVIRONMENT"],
            statuses: &["REPORTED", "CLOSED"],
        })
    }

    fn check(text: &str) -> Result<crate::config::DepartmentConfig, Vec<ConfigError>> {
        validate::department(
            Path::new("220400-12345.toml"),
            text,
            Some(&catalog()),
            &Vars::empty(),
        )
    }

    fn line_of(text: &str, needle: &str) -> Option<usize> {
        text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
    }

    #[test]
    fn a_hotline_config_reads_with_its_defaults() {
        let config = check(HOTLINE).ok();
        let open311 = config.and_then(|c| c.open311);
        let open311 = open311.as_ref();
        assert_eq!(open311.and_then(|o| o.category("402")), Some("ENVIRONMENT"));
        assert_eq!(
            open311.and_then(|o| o.status("CLOSED")),
            Some(crate::open311::RequestStatus::Closed)
        );
        assert_eq!(open311.map(|o| o.poll_interval.as_secs()), Some(30));
        assert_eq!(open311.map(|o| o.lookback.as_secs()), Some(30 * 86_400));
        assert_eq!(open311.map(|o| o.max_results), Some(1_000));
        let capped = HOTLINE.replace(
            "poll_interval_s = 30",
            "poll_interval_s = 30
max_results = 0",
        );
        let errors = check(&capped).err().unwrap_or_default();
        assert!(
            errors.iter().any(|e| e.key == "open311.max_results"),
            "{errors:?}"
        );
    }

    #[test]
    fn bad_names_and_values_are_refused_with_line_and_key() {
        let text = HOTLINE
            .replace("\"ENVIRONMENT\"", "\"POLLUTION\"")
            .replace("CLOSED = \"closed\"", "CLOSED = \"done\"")
            .replace(
                "poll_interval_s = 30",
                "poll_interval_s = 0\ncolour = \"red\"",
            );
        let errors = check(&text).err().unwrap_or_default();
        // An unknown key stops the parse: it is reported alone, with its line.
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, line_of(&text, "colour"));
        assert!(
            errors[0].reason.contains("unknown field `colour`"),
            "{errors:?}"
        );

        let text = text.replace("colour = \"red\"\n", "");
        let errors = check(&text).err().unwrap_or_default();
        let found = |key: &str| errors.iter().find(|e| e.key == key);
        let category = found("open311.services.402");
        assert_eq!(category.and_then(|e| e.line), line_of(&text, "POLLUTION"));
        assert!(
            category.is_some_and(|e| e.reason.contains("`POLLUTION` is not an event category")),
            "{errors:?}"
        );
        let status = found("open311.statuses.CLOSED");
        assert_eq!(status.and_then(|e| e.line), line_of(&text, "\"done\""));
        assert!(found("open311.poll_interval_s").is_some(), "{errors:?}");
    }

    #[test]
    fn the_section_belongs_to_open311_systems_only() {
        let missing = HOTLINE.split("[open311]").next().unwrap_or_default();
        let errors = check(missing).err().unwrap_or_default();
        assert!(errors.iter().any(|e| e.key == "open311"), "{errors:?}");

        let rest = HOTLINE.replace("kind = \"open311\"", "kind = \"rest\"");
        let errors = check(&rest).err().unwrap_or_default();
        assert!(
            errors
                .iter()
                .any(|e| e.key == "open311" && e.reason.contains("only open311 systems")),
            "{errors:?}"
        );

        let lookups =
            format!("{HOTLINE}\n[lookups.event]\nbatch = \"cases?ids={{ids}}\"\nid = \"id\"\n");
        let errors = check(&lookups).err().unwrap_or_default();
        assert!(
            errors.iter().any(|e| e.key == "lookups.event"),
            "{errors:?}"
        );

        let statuses = HOTLINE.replace("CLOSED = \"closed\"\n", "");
        let errors = check(&statuses).err().unwrap_or_default();
        assert!(
            errors
                .iter()
                .any(|e| e.key == "open311.statuses" && e.reason.contains("CLOSED")),
            "{errors:?}"
        );
    }
}
