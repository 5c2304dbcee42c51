//! `GET /export/{events,summonses,timeline,figures}.{csv,ndjson}`: bulk reads for BI and
//! spreadsheets, with the same bearer token, scope and rate limit as `/graphql`, the
//! `EventFilter` fields as query parameters, and the rows streamed from the database as
//! they come (memory stays flat whatever the size). `bom=true` starts a CSV with a byte
//! order mark, which Excel needs to read UTF-8.
//!
//! For map clients (Leaflet, OpenLayers, QGIS): `events.geojson` is the events export as a
//! GeoJSON FeatureCollection of points, and `boundaries.geojson?jurisdiction=&level=` the
//! polygons of one level's jurisdictions in a subtree.

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, stream};
use schema::enums::{
    EventCategory, EventChannel, EventStatus, JurisdictionLevel, ResolutionTier, Urgency,
};
use schema::error::ErrorCode;
use schema::graphql::{Circle, EventFilter};
use schema::store::{BoundaryQuery, Dataset, Dimension, FIGURE_COLUMNS, FigureQuery, FigureRow};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;

use super::AppState;
use super::error::Refusal;
use super::graphql::unauthenticated;

/// What `/export/{file}` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Rows(Dataset),
    Figures,
    Boundaries,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Ndjson,
    GeoJson,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Ndjson => "application/x-ndjson",
            Self::GeoJson => "application/geo+json",
        }
    }
}

fn file(name: &str) -> Option<(Table, Format)> {
    let (table, extension) = name.rsplit_once('.')?;
    let table = match table {
        "events" => Table::Rows(Dataset::Events),
        "summonses" => Table::Rows(Dataset::Summonses),
        "timeline" => Table::Rows(Dataset::Timeline),
        "figures" => Table::Figures,
        "boundaries" => Table::Boundaries,
        _ => return None,
    };
    let format = match extension {
        "csv" => Format::Csv,
        "ndjson" => Format::Ndjson,
        "geojson" => Format::GeoJson,
        _ => return None,
    };
    // Maps draw events and boundaries; tables are everything but boundaries.
    let exported = match (table, format) {
        (Table::Boundaries, format) => format == Format::GeoJson,
        (Table::Rows(Dataset::Events), _) => true,
        (_, format) => format != Format::GeoJson,
    };
    exported.then_some((table, format))
}

/// The query parameters: the `EventFilter` fields (lists comma-separated), `groupBy`
/// for figures, and `bom`.
struct Parameters {
    filter: EventFilter,
    group_by: Vec<Dimension>,
    bom: bool,
    /// The level of the boundaries drawn (grids unless told).
    level: JurisdictionLevel,
}

fn list<T>(name: &str, value: &str, parse: fn(&str) -> Option<T>) -> Result<Vec<T>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| parse(item).ok_or_else(|| format!("`{item}` is not a value of `{name}`")))
        .collect()
}

fn time(name: &str, value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|_| {
            format!("`{name}` is an RFC 3339 time such as 2026-10-01T00:00:00+08:00, not `{value}`")
        })
}

fn flag(name: &str, value: &str) -> Result<bool, String> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(format!("`{name}` is true or false, not `{value}`")),
    }
}

fn number(name: &str, value: &str) -> Result<i32, String> {
    value
        .parse()
        .map_err(|_| format!("`{name}` is a whole number, not `{value}`"))
}

/// `within=<longitude>,<latitude>,<radius in metres>`.
fn circle(name: &str, value: &str) -> Result<Circle, String> {
    let parts: Vec<&str> = value.split(',').map(str::trim).collect();
    let wrong = || format!("`{name}` is longitude,latitude,radius in metres, not `{value}`");
    let [longitude, latitude, radius] = parts.as_slice() else {
        return Err(wrong());
    };
    Ok(Circle {
        longitude: longitude.parse().map_err(|_| wrong())?,
        latitude: latitude.parse().map_err(|_| wrong())?,
        radius_m: radius.parse().map_err(|_| wrong())?,
    })
}

fn parameters(query: Option<&str>, table: Table) -> Result<Parameters, String> {
    let mut filter = EventFilter::default();
    let mut group_by = Vec::new();
    let mut bom = false;
    let mut level = JurisdictionLevel::Grid;
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let value = value.as_ref();
        match name.as_ref() {
            "jurisdiction" => filter.jurisdiction = Some(value.to_owned()),
            "level" if table == Table::Boundaries => {
                level = JurisdictionLevel::parse(value).ok_or_else(|| {
                    format!("`level` is COUNTY, TOWNSHIP, COMMUNITY or GRID, not `{value}`")
                })?;
            }
            other if table == Table::Boundaries => {
                return Err(format!(
                    "unknown parameter `{other}` (boundaries take `jurisdiction` and `level`)"
                ));
            }
            "titleStartsWith" => filter.title_starts_with = Some(value.to_owned()),
            "titleContains" => filter.title_contains = Some(value.to_owned()),
            "categories" => filter.categories = Some(list(&name, value, EventCategory::parse)?),
            "channels" => filter.channels = Some(list(&name, value, EventChannel::parse)?),
            "statuses" => filter.statuses = Some(list(&name, value, EventStatus::parse)?),
            "urgencies" => filter.urgencies = Some(list(&name, value, Urgency::parse)?),
            "tiers" => filter.tiers = Some(list(&name, value, ResolutionTier::parse)?),
            "reportedFrom" => filter.reported_from = Some(time(&name, value)?),
            "reportedUntil" => filter.reported_until = Some(time(&name, value)?),
            "resolvedFrom" => filter.resolved_from = Some(time(&name, value)?),
            "resolvedUntil" => filter.resolved_until = Some(time(&name, value)?),
            "closedFrom" => filter.closed_from = Some(time(&name, value)?),
            "closedUntil" => filter.closed_until = Some(time(&name, value)?),
            "satisfactionAtLeast" => filter.satisfaction_at_least = Some(number(&name, value)?),
            "satisfactionAtMost" => filter.satisfaction_at_most = Some(number(&name, value)?),
            "handlingLevel" => filter.handling_level = Some(value.to_owned()),
            "overdue" => filter.overdue = Some(flag(&name, value)?),
            "open" => filter.open = Some(flag(&name, value)?),
            "within" => filter.within = Some(circle(&name, value)?),
            "groupBy" if table == Table::Figures => {
                for dimension in list(&name, value, Dimension::parse)? {
                    if group_by.contains(&dimension) {
                        return Err("`groupBy` names a dimension twice".to_owned());
                    }
                    group_by.push(dimension);
                }
            }
            "bom" => bom = flag(&name, value)?,
            other => return Err(format!("unknown parameter `{other}`")),
        }
    }
    Ok(Parameters {
        filter,
        group_by,
        bom,
        level,
    })
}

/// Rows of figures per export: far more than any real grouping has.
const MAX_FIGURE_ROWS: i64 = 1_000_000;

pub async fn serve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some((table, format)) = file(&name) else {
        return Refusal::new(
            ErrorCode::NotFound,
            "exports are events, summonses, timeline or figures, as .csv or .ndjson, and \
             events or boundaries as .geojson",
        )
        .into_response();
    };
    let caller = match state.auth.from_headers(&headers).await {
        Ok(caller) => caller,
        Err(error) => return unauthenticated(error).into_response(),
    };
    if let Some(limiter) = &state.limiter
        && let Err(wait) = limiter.admit(&caller.subject).await
    {
        return Refusal::rate_limited(wait).into_response();
    }
    // Held until the export ends: each holds a database connection meanwhile.
    let Ok(permit) = std::sync::Arc::clone(&state.exports).try_acquire_owned() else {
        return Refusal::new(
            ErrorCode::RateLimited,
            format!(
                "{} exports are running, the most at once (limits.max_exports); try again shortly",
                state.limits.max_exports
            ),
        )
        .into_response();
    };
    let bad = |message: String| Refusal::new(ErrorCode::BadRequest, message).into_response();
    let parameters = match parameters(query.as_deref(), table) {
        Ok(parameters) => parameters,
        Err(message) => return bad(message),
    };
    let conditions = match parameters.filter.conditions() {
        Ok(conditions) => conditions,
        Err(error) => return bad(error.message),
    };

    let (columns, rows, done) = match table {
        Table::Boundaries => {
            let query = BoundaryQuery {
                jurisdiction: parameters.filter.jurisdiction.clone().unwrap_or_default(),
                level: parameters.level,
            };
            let result = state
                .store
                .for_query()
                .boundaries(&caller.scope, &query)
                .await;
            drop(permit);
            return match result {
                Ok(collection) => (
                    [
                        (
                            header::CONTENT_TYPE,
                            HeaderValue::from_static(Format::GeoJson.content_type()),
                        ),
                        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                    ],
                    collection,
                )
                    .into_response(),
                Err(error) => {
                    tracing::warn!(%error, "boundaries for an export failed");
                    Refusal::new(
                        ErrorCode::DatabaseUnavailable,
                        "the boundaries cannot be read right now",
                    )
                    .into_response()
                }
            };
        }
        Table::Rows(dataset) => {
            let (sender, receiver) = mpsc::channel(4);
            let (finished, done) = oneshot::channel();
            let store = state.store.for_query();
            let scope = caller.scope.clone();
            tokio::spawn(async move {
                let geometry = format == Format::GeoJson;
                let result = store
                    .export(&scope, dataset, &conditions, geometry, sender)
                    .await;
                drop(permit);
                if let Err(error) = &result {
                    tracing::warn!(%error, "an export stopped");
                }
                let _ = finished.send(result.is_ok());
            });
            let columns: Vec<String> = dataset.columns().iter().map(|c| (*c).to_owned()).collect();
            (columns, receiver, done)
        }
        Table::Figures => {
            let query = FigureQuery {
                dimensions: parameters.group_by.clone(),
                conditions,
                limit: MAX_FIGURE_ROWS,
            };
            let figures = match state.store.for_query().figures(&caller.scope, &query).await {
                Ok(figures) => figures,
                Err(error) => {
                    tracing::warn!(%error, "figures for an export failed");
                    return Refusal::new(
                        ErrorCode::DatabaseUnavailable,
                        "the figures cannot be read right now",
                    )
                    .into_response();
                }
            };
            drop(permit);
            let (columns, records) = figure_records(&parameters.group_by, figures);
            let (sender, receiver) = mpsc::channel(1);
            let _ = sender.try_send(records);
            let (finished, done) = oneshot::channel();
            let _ = finished.send(true);
            (columns, receiver, done)
        }
    };
    respond(&name, format, parameters.bom, columns, rows, done)
}

/// Figures as export rows: the key columns (and `<key>_name` for jurisdictions and
/// departments), then every count and rate.
fn figure_records(dimensions: &[Dimension], figures: Vec<FigureRow>) -> (Vec<String>, Vec<Value>) {
    let mut columns = Vec::new();
    for dimension in dimensions {
        let name = dimension.name().to_lowercase();
        columns.push(name.clone());
        if dimension.has_names() {
            columns.push(format!("{name}_name"));
        }
    }
    columns.extend(FIGURE_COLUMNS.iter().map(|c| (*c).to_owned()));
    let records = figures
        .into_iter()
        .map(|row| {
            let mut record: Vec<Value> = Vec::with_capacity(columns.len());
            for key in row.key {
                let named = key.dimension.has_names();
                record.push(Value::String(key.value));
                if named {
                    record.push(key.name.map_or(Value::Null, Value::String));
                }
            }
            record.extend(row.counts.record());
            Value::Array(record)
        })
        .collect();
    (columns, records)
}

/// The body: a header line (CSV), then each batch of rows as it arrives. An export that
/// fails midway ends the body with an error, so the client sees a broken transfer rather
/// than a short file.
fn respond(
    name: &str,
    format: Format,
    bom: bool,
    columns: Vec<String>,
    rows: mpsc::Receiver<Vec<Value>>,
    done: oneshot::Receiver<bool>,
) -> Response {
    let mut head = String::new();
    match format {
        Format::Csv => {
            if bom {
                head.push('\u{FEFF}');
            }
            head.push_str(&csv_line(columns.iter().map(|c| Some(c.as_str()))));
        }
        Format::GeoJson => head.push_str(r#"{"type":"FeatureCollection","features":["#),
        Format::Ndjson => {}
    }
    let tail = if format == Format::GeoJson {
        "]}\n"
    } else {
        ""
    };
    let mut first = true;
    let batches = ReceiverStream::new(rows).map(move |batch| {
        let bytes = render(format, &columns, batch, first);
        first = false;
        Ok(bytes)
    });
    let end = stream::once(async move {
        match done.await {
            Ok(true) => Ok(Bytes::from_static(tail.as_bytes())),
            _ => Err(std::io::Error::other("the export stopped before its end")),
        }
    });
    let body = stream::once(async move { Ok(Bytes::from(head)) })
        .chain(batches)
        .chain(end);
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// A batch of rows (JSON arrays in column order) as CSV lines, NDJSON objects or GeoJSON
/// features (the geometry last in each row), the first batch's first feature without a
/// leading comma.
fn render(format: Format, columns: &[String], batch: Vec<Value>, first: bool) -> Bytes {
    let mut out = String::with_capacity(batch.len() * 256);
    for (index, row) in batch.into_iter().enumerate() {
        let Value::Array(mut values) = row else {
            continue;
        };
        match format {
            Format::GeoJson => {
                let geometry = values.pop().unwrap_or(Value::Null);
                let id = values.first().cloned().unwrap_or(Value::Null);
                let properties: serde_json::Map<String, Value> =
                    columns.iter().cloned().zip(values).collect();
                let feature = serde_json::json!({
                    "type": "Feature",
                    "id": id,
                    "geometry": geometry,
                    "properties": properties,
                });
                if !(first && index == 0) {
                    out.push(',');
                }
                out.push_str(&feature.to_string());
            }
            Format::Csv => {
                let cells: Vec<Option<String>> = values.iter().map(cell).collect();
                out.push_str(&csv_line(cells.iter().map(Option::as_deref)));
            }
            Format::Ndjson => {
                let object: serde_json::Map<String, Value> =
                    columns.iter().cloned().zip(values).collect();
                out.push_str(&Value::Object(object).to_string());
                out.push('\n');
            }
        }
    }
    Bytes::from(out)
}

/// A CSV cell: text as it is, numbers and booleans as JSON writes them, null empty.
fn cell(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// One RFC 4180 line: a field with a comma, quote or line break is quoted, its quotes
/// doubled.
fn csv_line<'a>(fields: impl Iterator<Item = Option<&'a str>>) -> String {
    let mut line = String::new();
    for (index, field) in fields.enumerate() {
        if index > 0 {
            line.push(',');
        }
        let field = field.unwrap_or_default();
        if field.contains([',', '"', '\n', '\r']) {
            line.push('"');
            line.push_str(&field.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(field);
        }
    }
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_separators_are_quoted() {
        let line = csv_line(
            [
                Some("a"),
                None,
                Some("甲,乙"),
                Some("say \"hi\""),
                Some("x\ny"),
            ]
            .into_iter(),
        );
        assert_eq!(line, "a,,\"甲,乙\",\"say \"\"hi\"\"\",\"x\ny\"\r\n");
    }

    #[test]
    fn names_and_parameters_are_checked() {
        assert_eq!(
            file("events.csv"),
            Some((Table::Rows(Dataset::Events), Format::Csv))
        );
        assert_eq!(
            file("figures.ndjson"),
            Some((Table::Figures, Format::Ndjson))
        );
        assert_eq!(file("persons.csv"), None);
        assert_eq!(file("events.xlsx"), None);
        let error = parameters(Some("categories=NEIGHBOR_DISPUTE,NOPE"), Table::Figures)
            .err()
            .unwrap_or_default();
        assert!(error.contains("NOPE"), "{error}");
        let error = parameters(Some("groupBy=TOWNSHIP"), Table::Rows(Dataset::Events))
            .err()
            .unwrap_or_default();
        assert!(error.contains("unknown parameter `groupBy`"), "{error}");
        let parsed = parameters(
            Some(
                "groupBy=TOWNSHIP,MONTH&bom=true&overdue=false&reportedFrom=2026-10-01T00:00:00%2B08:00",
            ),
            Table::Figures,
        );
        let parsed = parsed.ok();
        assert_eq!(
            parsed.as_ref().map(|p| p.group_by.clone()),
            Some(vec![Dimension::Township, Dimension::Month])
        );
        assert_eq!(parsed.as_ref().map(|p| p.bom), Some(true));
        assert!(parameters(Some("reportedFrom=yesterday"), Table::Figures).is_err());
    }
}
