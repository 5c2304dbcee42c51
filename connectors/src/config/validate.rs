//! From a file as written to a checked [`DepartmentConfig`], and the checks across files.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use toml::Spanned;

use super::file::{AuthFile, DepartmentFile, LimitsFile, LookupFile, MappingFile, ProvidesFile};
use super::{
    Auth, ConfigError, DepartmentConfig, FieldMapping, FieldPath, Limits, Lookup, Provision, Vars,
};
use crate::catalog::{Catalog, FederatedType, ValueType};
use crate::resilience::{BreakerConfig, GuardConfig, RetryPolicy};
use crate::{ConnectorKind, Element};

/// Collects the problems of one file, each with the line it is on.
pub(super) struct Problems<'a> {
    file: &'a Path,
    text: &'a str,
    found: Vec<ConfigError>,
}

impl Problems<'_> {
    fn line(&self, span: Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text[..end].matches('\n').count() + 1
    }

    pub(super) fn at(
        &mut self,
        span: Option<Range<usize>>,
        key: impl Into<String>,
        reason: impl Into<String>,
    ) {
        let line = span.map(|s| self.line(s));
        self.found.push(ConfigError {
            file: self.file.to_owned(),
            line,
            key: key.into(),
            reason: reason.into(),
        });
    }
}

pub fn department(
    file: &Path,
    text: &str,
    catalog: Option<&Catalog>,
    vars: &Vars,
) -> Result<DepartmentConfig, Vec<ConfigError>> {
    let mut problems = Problems {
        file,
        text,
        found: Vec::new(),
    };
    let raw: DepartmentFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(error) => {
            problems.at(error.span(), "", error.message().trim().to_owned());
            return Err(problems.found);
        }
    };

    let code = raw.code.get_ref().clone();
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if stem != code {
        problems.at(
            Some(raw.code.span()),
            "code",
            format!("`{code}` does not match the file name (expected {code}.toml)"),
        );
    }
    let county = raw.county.get_ref().clone();
    if county.len() != 6 || !county.bytes().all(|b| b.is_ascii_digit()) {
        problems.at(
            Some(raw.county.span()),
            "county",
            format!("`{county}` is not a six-digit county code"),
        );
    } else if !code.starts_with(&format!("{county}-")) {
        problems.at(
            Some(raw.code.span()),
            "code",
            format!(
                "department codes are `<county>-<abbreviation>`; `{code}` is not in county {county}"
            ),
        );
    }

    let endpoint = endpoint(&mut problems, raw.kind, raw.endpoint.as_ref(), vars);
    let auth = auth(&mut problems, raw.auth.as_ref(), vars);
    let limits = limits(&mut problems, &raw.limits);
    let lookups = lookups(&mut problems, raw.kind, &raw.lookups);
    let provides = match catalog {
        Some(catalog) => provisions(&mut problems, catalog, &raw.provides, &lookups),
        None => Vec::new(),
    };
    let open311 = super::open311::check(&mut problems, raw.kind, raw.open311.as_ref(), catalog);
    let operations = super::operations::check(&mut problems, raw.kind, &raw.operations);
    let feed = super::feed::check(&mut problems, raw.kind, raw.feed.as_ref());

    if !problems.found.is_empty() {
        return Err(problems.found);
    }
    Ok(DepartmentConfig {
        code,
        name: raw.name,
        county,
        kind: raw.kind,
        endpoint,
        auth,
        limits,
        lookups,
        provides,
        open311,
        operations,
        feed,
        file: file.to_owned(),
    })
}

fn endpoint(
    problems: &mut Problems<'_>,
    kind: ConnectorKind,
    raw: Option<&Spanned<String>>,
    vars: &Vars,
) -> String {
    let Some(raw) = raw else {
        problems.at(
            None,
            "endpoint",
            "missing: where is this department's system reached?",
        );
        return String::new();
    };
    let value = match vars.interpolate(raw.get_ref()) {
        Ok(value) => value,
        Err(error) => {
            problems.at(Some(raw.span()), "endpoint", error.to_string());
            return String::new();
        }
    };
    let schemes: &[&str] = match kind {
        ConnectorKind::Rest | ConnectorKind::Open311 => &["http", "https"],
        ConnectorKind::Sql => &["postgres", "postgresql", "mysql", "mariadb"],
    };
    match url::Url::parse(&value) {
        Ok(url) if schemes.contains(&url.scheme()) => {}
        Ok(url) => problems.at(
            Some(raw.span()),
            "endpoint",
            format!(
                "a {kind} endpoint must be a {} URL, not {}:",
                schemes.join("/"),
                url.scheme()
            ),
        ),
        Err(error) => problems.at(
            Some(raw.span()),
            "endpoint",
            format!("`{value}` is not a URL: {error}"),
        ),
    }
    value
}

fn auth(problems: &mut Problems<'_>, raw: Option<&Spanned<AuthFile>>, vars: &Vars) -> Auth {
    let Some(raw) = raw else {
        return Auth::None;
    };
    let mut secret = |key: &str, value: &str| match vars.interpolate(value) {
        Ok(value) => value,
        Err(error) => {
            problems.at(Some(raw.span()), key, error.to_string());
            String::new()
        }
    };
    match raw.get_ref() {
        AuthFile::None => Auth::None,
        AuthFile::Bearer { token } => Auth::Bearer {
            token: secret("auth.token", token),
        },
        AuthFile::Basic { username, password } => Auth::Basic {
            username: secret("auth.username", username),
            password: secret("auth.password", password),
        },
    }
}

fn limits(problems: &mut Problems<'_>, raw: &LimitsFile) -> Limits {
    for (key, value) in [
        ("limits.timeout_ms", raw.timeout_ms),
        ("limits.max_concurrency", raw.max_concurrency as u64),
        ("limits.queue_timeout_ms", raw.queue_timeout_ms),
        ("limits.max_batch", raw.max_batch as u64),
        ("limits.retry_attempts", u64::from(raw.retry_attempts)),
        ("limits.breaker_failures", u64::from(raw.breaker_failures)),
    ] {
        if value == 0 {
            problems.at(None, key, "must be at least 1");
        }
    }
    Limits {
        guard: GuardConfig {
            timeout: Duration::from_millis(raw.timeout_ms),
            queue_timeout: Duration::from_millis(raw.queue_timeout_ms),
            retry: RetryPolicy {
                max_attempts: raw.retry_attempts,
                base_delay: Duration::from_millis(raw.retry_base_delay_ms),
                max_delay: Duration::from_millis(raw.retry_max_delay_ms),
            },
            breaker: BreakerConfig {
                failure_threshold: raw.breaker_failures,
                open_for: Duration::from_millis(raw.breaker_open_ms),
            },
            max_concurrency: raw.max_concurrency,
        },
        max_batch: raw.max_batch,
        cache_ttl: Duration::from_secs(raw.cache_ttl_s),
        stale_if_error: Duration::from_secs(raw.stale_if_error_s),
    }
}

fn lookups(
    problems: &mut Problems<'_>,
    kind: ConnectorKind,
    raw: &BTreeMap<Spanned<String>, LookupFile>,
) -> BTreeMap<Element, Lookup> {
    let mut lookups = BTreeMap::new();
    for (name, lookup) in raw {
        let key = format!("lookups.{}", name.get_ref());
        let Some(element) = Element::parse(name.get_ref()) else {
            problems.at(
                Some(name.span()),
                key,
                "not an element (person, place, thing, organization, event)",
            );
            continue;
        };
        let span = Some(name.span());
        let resolved = match kind {
            ConnectorKind::Rest => rest_lookup(problems, &key, span, lookup),
            ConnectorKind::Sql => sql_lookup(problems, &key, span, lookup),
            ConnectorKind::Open311 => {
                problems.at(
                    span,
                    key,
                    "open311 systems are read through their service requests, not lookups",
                );
                None
            }
        };
        if let Some(resolved) = resolved {
            lookups.insert(element, resolved);
        }
    }
    lookups
}

fn rest_lookup(
    problems: &mut Problems<'_>,
    key: &str,
    span: Option<Range<usize>>,
    raw: &LookupFile,
) -> Option<Lookup> {
    if let Some(query) = &raw.query {
        problems.at(
            Some(query.span()),
            format!("{key}.query"),
            "`query` is for sql departments; a rest lookup has `batch` and/or `single`",
        );
    }
    let placeholder =
        |problems: &mut Problems<'_>, field: &str, template: &Spanned<String>, needle: &str| {
            if !template.get_ref().contains(needle) {
                problems.at(
                    Some(template.span()),
                    format!("{key}.{field}"),
                    format!(
                        "must contain `{needle}` where the id{} go",
                        if needle == "{ids}" { "s" } else { "" }
                    ),
                );
            }
        };
    if let Some(batch) = &raw.batch {
        placeholder(problems, "batch", batch, "{ids}");
    }
    if let Some(single) = &raw.single {
        placeholder(problems, "single", single, "{id}");
    }
    if raw.batch.is_none() && raw.single.is_none() {
        problems.at(
            span,
            key.to_owned(),
            "needs `batch` (with {ids}), `single` (with {id}), or both",
        );
        return None;
    }
    Some(Lookup::Rest {
        batch: raw.batch.as_ref().map(|s| s.get_ref().clone()),
        single: raw.single.as_ref().map(|s| s.get_ref().clone()),
        records: FieldPath::parse(&raw.records),
        record: FieldPath::parse(&raw.record),
        id: FieldPath::parse(&raw.id),
    })
}

fn sql_lookup(
    problems: &mut Problems<'_>,
    key: &str,
    span: Option<Range<usize>>,
    raw: &LookupFile,
) -> Option<Lookup> {
    for (field, value) in [("batch", &raw.batch), ("single", &raw.single)] {
        if let Some(value) = value {
            problems.at(
                Some(value.span()),
                format!("{key}.{field}"),
                format!("`{field}` is for rest departments; a sql lookup has `query`"),
            );
        }
    }
    let Some(query) = &raw.query else {
        problems.at(
            span,
            key.to_owned(),
            "needs `query`: a SELECT with {ids} where the ids go",
        );
        return None;
    };
    let text = query.get_ref().trim();
    let lower = text.to_ascii_lowercase();
    let mut reasons = Vec::new();
    if !(lower.starts_with("select") || lower.starts_with("with")) {
        reasons.push("must be a read-only SELECT");
    }
    if text.contains(';') {
        reasons.push("must be one statement, without `;`");
    }
    if !text.contains("{ids}") {
        reasons.push("must contain `{ids}` where the list of ids goes");
    }
    for reason in reasons {
        problems.at(Some(query.span()), format!("{key}.query"), reason);
    }
    Some(Lookup::Sql {
        query: text.to_owned(),
        id: raw.id.clone(),
    })
}

fn provisions(
    problems: &mut Problems<'_>,
    catalog: &Catalog,
    raw: &[ProvidesFile],
    lookups: &BTreeMap<Element, Lookup>,
) -> Vec<Provision> {
    let mut provisions: Vec<Provision> = Vec::new();
    for (index, provides) in raw.iter().enumerate() {
        let key = format!("provides[{index}]");
        let path = provides.field.get_ref();
        let Some(federated) = catalog.get(path) else {
            let known: Vec<&str> = catalog.paths().collect();
            problems.at(
                Some(provides.field.span()),
                format!("{key}.field"),
                format!(
                    "the schema has no federated field `{path}` (it has: {})",
                    known.join(", ")
                ),
            );
            continue;
        };
        if provisions
            .iter()
            .any(|p| std::ptr::eq(p.federated, federated))
        {
            problems.at(
                Some(provides.field.span()),
                format!("{key}.field"),
                format!("`{path}` is provided twice in this file"),
            );
            continue;
        }
        if !lookups.contains_key(&federated.element) {
            problems.at(
                Some(provides.field.span()),
                format!("{key}.field"),
                format!(
                    "there is no `[lookups.{}]` to fetch {} records with",
                    federated.element, federated.element
                ),
            );
        }
        let fields = field_mappings(problems, &key, federated, &provides.map);
        provisions.push(Provision {
            federated,
            precedence: provides.precedence.unwrap_or(0),
            fields,
        });
    }
    provisions
}

/// The mappings of a `map` table (our field ← the department's path, with codes and
/// date formats) onto the fields of `federated`, each checked.
pub(super) fn field_mappings(
    problems: &mut Problems<'_>,
    key: &str,
    federated: &'static FederatedType,
    map: &BTreeMap<Spanned<String>, Spanned<MappingFile>>,
) -> Vec<FieldMapping> {
    let mut fields = Vec::new();
    for (ours, mapping) in map {
        let map_key = format!("{key}.map.{}", ours.get_ref());
        let Some(spec) = federated.field_spec(ours.get_ref()) else {
            let known: Vec<&str> = federated.fields.iter().map(|f| f.name).collect();
            problems.at(
                Some(ours.span()),
                map_key,
                format!(
                    "{} has no field `{}` (it has: {})",
                    federated.type_name,
                    ours.get_ref(),
                    known.join(", ")
                ),
            );
            continue;
        };
        let span = Some(mapping.span());
        let (path, values, date_format) = match mapping.get_ref() {
            MappingFile::Path(path) => (path.clone(), None, None),
            MappingFile::Detailed(detail) => (
                detail.path.clone(),
                detail.values.clone(),
                detail.date.clone(),
            ),
        };
        if path.trim().is_empty() {
            problems.at(
                span.clone(),
                map_key.clone(),
                "the department's field path is empty",
            );
        }
        if date_format.is_some() && spec.value != ValueType::Date {
            problems.at(
                span.clone(),
                map_key.clone(),
                format!(
                    "`date` applies to date fields; `{}` is {}",
                    spec.name, spec.value
                ),
            );
        }
        if let (Some(values), ValueType::Enum(names)) = (&values, spec.value) {
            for target in values.values() {
                if !names.contains(&target.as_str()) {
                    problems.at(
                        span.clone(),
                        map_key.clone(),
                        format!("`{target}` is not {}", spec.value),
                    );
                }
            }
        }
        fields.push(FieldMapping {
            spec,
            path: FieldPath::parse(&path),
            values,
            date_format,
        });
    }
    fields
}

pub(super) fn bounded(
    problems: &mut Problems<'_>,
    raw: Option<&Spanned<u64>>,
    key: &str,
    default: u64,
    max: u64,
) -> u64 {
    let Some(raw) = raw else {
        return default;
    };
    let value = *raw.get_ref();
    if value == 0 || value > max {
        problems.at(
            Some(raw.span()),
            key,
            format!("must be from 1 to {max}, not {value}"),
        );
        return default;
    }
    value
}

/// Two departments of one county filling the same federated field must say which one
/// prevails, with different precedences.
pub fn across(configs: &[DepartmentConfig]) -> Vec<ConfigError> {
    let mut claims: BTreeMap<(String, String, i32), &DepartmentConfig> = BTreeMap::new();
    let mut errors = Vec::new();
    for config in configs {
        for provision in &config.provides {
            let claim = (
                config.county.clone(),
                provision.federated.path(),
                provision.precedence,
            );
            match claims.get(&claim) {
                Some(other) => errors.push(ConfigError {
                    file: config.file.clone(),
                    line: None,
                    key: "provides".to_owned(),
                    reason: format!(
                        "both {} ({}) and {} fill `{}` in county {} with precedence {}; give one a higher `precedence`",
                        other.code,
                        other.file.display(),
                        config.code,
                        claim.1,
                        claim.0,
                        claim.2
                    ),
                }),
                None => {
                    claims.insert(claim, config);
                }
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{FederatedType, FieldSpec};

    static FIELDS: [FieldSpec; 3] = [
        FieldSpec {
            name: "structure",
            value: ValueType::Text,
            personal: false,
        },
        FieldSpec {
            name: "built_on",
            value: ValueType::Date,
            personal: false,
        },
        FieldSpec {
            name: "rating",
            value: ValueType::Enum(&["A", "B", "C", "D"]),
            personal: false,
        },
    ];
    static BUILDING: FederatedType = FederatedType {
        element: Element::Place,
        field: "building",
        type_name: "Building",
        fields: &FIELDS,
    };

    const GOOD: &str = r#"
code = "220422-ZJ"
name = "东辽县住建局"
county = "220422"
kind = "sql"
endpoint = "${DB:-postgres://postgres@127.0.0.1:5432}/dept_220422_zj"

[lookups.place]
query = "SELECT fwbh, jzjg FROM fw_jbxx WHERE fwbh IN ({ids})"
id = "fwbh"

[[provides]]
field = "Place.building"
[provides.map]
structure = "jzjg"
rating = { path = "aqdj", values = { "1" = "A", "2" = "B" } }
"#;

    fn check(text: &str) -> Result<DepartmentConfig, Vec<String>> {
        let catalog = Catalog::new([&BUILDING]);
        department(
            Path::new("220422-ZJ.toml"),
            text,
            Some(&catalog),
            &Vars::empty(),
        )
        .map_err(|errors| errors.iter().map(ToString::to_string).collect())
    }

    fn refused(text: &str) -> Vec<String> {
        match check(text) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(errors) => errors,
        }
    }

    #[test]
    fn a_good_file_resolves_its_variables_and_mappings() {
        let config = check(GOOD).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            config.endpoint,
            "postgres://postgres@127.0.0.1:5432/dept_220422_zj"
        );
        assert_eq!(config.provides[0].fields.len(), 2);
        assert_eq!(config.abbreviation(), "ZJ");
    }

    #[test]
    fn operations_are_checked_against_their_payload_and_the_kind() {
        let good = format!(
            "{GOOD}
[operations.file_case]
statement = \"INSERT INTO ajxx (ay, k) VALUES (:cause, :idempotency_key)\"
answer = \"SELECT ajbs FROM ajxx WHERE k = :idempotency_key\"
id = \"ajbs\"
params = {{ cause = \"case.cause\" }}
"
        );
        let config = check(&good).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(
            config
                .operations
                .contains_key(&crate::operations::OperationName::FileCase)
        );
        let errors = refused(
            &good
                .replace("case.cause", "case.caus")
                .replace("WHERE k = :idempotency_key", "WHERE k = :key")
                .replace(
                    "[operations.file_case]",
                    "[operations.file_case]\npath = \"cases\"",
                ),
        );
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[0].contains("`operations.file_case.path`: is for rest departments"));
        assert!(errors[1].contains("`case.caus` is not a field of file_case's payload"));
        assert!(errors[2].contains("must use `:idempotency_key`"));
        assert!(errors[3].contains("`:key` is not declared in `params`"));
        let unknown = refused(&good.replace("operations.file_case", "operations.file_anything"));
        assert!(
            unknown[0].contains("unknown operation `file_anything`"),
            "{unknown:?}"
        );
        let pending = refused(&format!(
            "{good}status = {{ path = \"zt\", values = {{ \"0\" = \"PENDING\", \"9\" = \"DONE\" }} }}\n"
        ));
        assert_eq!(pending.len(), 2, "{pending:?}");
        assert!(
            pending
                .iter()
                .any(|e| e.contains("`DONE` is not a write state"))
        );
        assert!(
            pending
                .iter()
                .any(|e| e.contains("so `poll` must say how to ask again"))
        );
    }

    #[test]
    fn sql_queries_must_be_one_read_only_select_with_ids() {
        let errors = refused(&GOOD.replace(
            "SELECT fwbh, jzjg FROM fw_jbxx WHERE fwbh IN ({ids})",
            "DELETE FROM fw_jbxx; SELECT 1",
        ));
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors[0]
                .starts_with("220422-ZJ.toml:9: `lookups.place.query`: must be a read-only SELECT")
        );
        assert!(errors[1].ends_with("must be one statement, without `;`"));
        assert!(errors[2].ends_with("must contain `{ids}` where the list of ids goes"));
    }

    #[test]
    fn endpoints_must_fit_the_kind_and_have_their_variables() {
        let errors =
            refused(&GOOD.replace("${DB:-postgres://postgres@127.0.0.1:5432}", "http://h"));
        assert!(
            errors[0].contains(
                "a sql endpoint must be a postgres/postgresql/mysql/mariadb URL, not http:"
            ),
            "{errors:?}"
        );
        let errors = refused(&GOOD.replace("${DB:-postgres://postgres@127.0.0.1:5432}", "${DB}"));
        assert_eq!(
            errors,
            ["220422-ZJ.toml:6: `endpoint`: environment variable DB is not set and has no default"]
        );
    }

    #[test]
    fn mappings_must_fit_the_fields_they_fill() {
        let errors = refused(&GOOD.replace(
            r#"rating = { path = "aqdj", values = { "1" = "A", "2" = "B" } }"#,
            r#"rating = { path = "aqdj", values = { "1" = "A", "2" = "E" } }
structure_kind = "x"
built_on = { path = "jcrq", date = "%Y" }
"#,
        ));
        let expected = [
            "`provides[0].map.rating`: `E` is not one of A, B, C, D",
            "`provides[0].map.structure_kind`: Building has no field `structure_kind` (it has: structure, built_on, rating)",
        ];
        for text in expected {
            assert!(
                errors.iter().any(|e| e.contains(text)),
                "{text} in {errors:?}"
            );
        }
        let errors = refused(&GOOD.replace("rating = {", "structure = \"a\"\nrating_x = {"));
        assert!(errors[0].contains("duplicate key"), "{errors:?}");
        let errors = refused(&GOOD.replace(
            "structure = \"jzjg\"",
            "structure = { path = \"jzjg\", date = \"%Y\" }",
        ));
        assert!(
            errors[0].contains("`date` applies to date fields; `structure` is text"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_field_needs_a_lookup_for_its_element() {
        let errors = refused(&GOOD.replace("[lookups.place]", "[lookups.thing]"));
        assert!(
            errors
                .iter()
                .any(|e| e.contains("there is no `[lookups.place]` to fetch place records with")),
            "{errors:?}"
        );
    }

    #[test]
    fn the_file_name_and_county_must_agree_with_the_code() {
        let errors = refused(&GOOD.replace("code = \"220422-ZJ\"", "code = \"220421-ZJ\""));
        assert!(
            errors
                .iter()
                .any(|e| e.contains("does not match the file name")),
            "{errors:?}"
        );
        assert!(
            errors.iter().any(|e| e.contains("is not in county 220422")),
            "{errors:?}"
        );
    }
}
