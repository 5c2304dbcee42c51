//! The `open311` kind: a system speaking Open311 GeoReport v2, such as the city's 12345
//! hotline (辽源市12345政务服务便民热线). It is not read record by record like the other
//! kinds: the gateway pulls its service requests (which become events) and pushes the
//! events' status back. Every call goes through the system's [`Guard`](crate::resilience::Guard).
//!
//! What is used of the protocol:
//! - `GET services.json`: the services (request types) the system offers;
//! - `GET requests.json?start_date=&end_date=&status=`: requests in a time window. This
//!   hotline applies the window to `updated_datetime` (the spec leaves it to
//!   `requested_datetime`), so that a request edited on the hotline's side comes again;
//! - `GET requests/{id}.json`: one request, as a one-element list;
//! - `POST requests/{id}.json` with the form fields `status` (`open`/`closed`) and
//!   `status_notes`: the hotline's update extension (GeoReport v2 only creates requests),
//!   by which the departments handling a request report its progress to the hotline.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::config::{Auth, Open311};
use crate::resilience::CallError;
use crate::rest::encode;
use crate::upstream::UpstreamError;
use crate::{ConnectorKind, Department};

/// The two states Open311 knows a request in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestStatus {
    Open,
    Closed,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(Self::Open),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }
}

impl std::fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One service (request type) the system offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    #[serde(deserialize_with = "text_or_number")]
    pub service_code: String,
    pub service_name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Whether the service takes extra attributes when a request is created.
    #[serde(default)]
    pub metadata: bool,
    /// `realtime`, `batch` or `blackbox`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub keywords: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
}

/// One service request, as GeoReport v2 describes it, with the system's extension fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRequest {
    #[serde(deserialize_with = "text_or_number")]
    pub service_request_id: String,
    pub status: RequestStatus,
    #[serde(default)]
    pub status_notes: Option<String>,
    #[serde(default)]
    pub service_name: Option<String>,
    #[serde(deserialize_with = "text_or_number")]
    pub service_code: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub agency_responsible: Option<String>,
    #[serde(default)]
    pub service_notice: Option<String>,
    pub requested_datetime: DateTime<FixedOffset>,
    #[serde(default, deserialize_with = "optional_datetime")]
    pub updated_datetime: Option<DateTime<FixedOffset>>,
    #[serde(default, deserialize_with = "optional_datetime")]
    pub expected_datetime: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub address_id: Option<String>,
    #[serde(default)]
    pub zipcode: Option<String>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub long: Option<f64>,
    #[serde(default)]
    pub media_url: Option<String>,
    /// Fields the spec does not name: the system's extensions (such as the zone its
    /// dispatcher assigned).
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
}

impl ServiceRequest {
    /// An extension field as text (numbers written out); `None` when absent, null or empty.
    pub fn extension(&self, name: &str) -> Option<String> {
        match self.extensions.get(name)? {
            Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        }
    }
}

/// Which requests to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestQuery {
    /// Updated at or after.
    pub start: Option<DateTime<Utc>>,
    /// Updated at or before.
    pub end: Option<DateTime<Utc>>,
    pub status: Option<RequestStatus>,
}

/// Why a call to an open311 system gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Open311Error {
    /// The system failed repeatedly; its breaker keeps calls away for a while.
    #[error("{system}: not called, it failed repeatedly and is given a rest (next try in {} ms)", retry_after.as_millis())]
    CircuitOpen {
        system: String,
        retry_after: Duration,
    },
    /// Too many calls to the system in flight: it was not called.
    #[error("{system}: not called, {in_flight} calls to it in flight and none finished within {} ms", waited.as_millis())]
    Saturated {
        system: String,
        waited: Duration,
        in_flight: usize,
    },
    #[error("{system}: no answer within {} ms", limit.as_millis())]
    Timeout { system: String, limit: Duration },
    #[error("{system}: {source}")]
    Upstream {
        system: String,
        #[source]
        source: UpstreamError,
    },
}

impl Open311Error {
    /// Down, slow or resting: further calls now would fail the same way, unlike a call
    /// refused or answered with something unreadable, which concerns that call alone.
    pub fn transient(&self) -> bool {
        match self {
            Self::CircuitOpen { .. } | Self::Saturated { .. } | Self::Timeout { .. } => true,
            Self::Upstream { source, .. } => source.retryable(),
        }
    }
}

/// Why a system cannot be reached as an open311 system at all.
#[derive(Debug, thiserror::Error)]
pub enum Open311BuildError {
    #[error("{system} is a {kind} system, not open311")]
    NotOpen311 { system: String, kind: ConnectorKind },
    #[error("{system}: its config has no [open311] section")]
    NoSettings { system: String },
    #[error("{system}: cannot build its HTTP client: {source}")]
    Http {
        system: String,
        #[source]
        source: reqwest::Error,
    },
}

/// An open311 system: its settings, its HTTP client and the guard of its department.
pub struct Hotline {
    department: Arc<Department>,
    settings: Open311,
    http: reqwest::Client,
    endpoint: String,
    auth: Auth,
}

impl std::fmt::Debug for Hotline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hotline")
            .field("code", &self.code())
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Hotline {
    /// Reaches `department`, which must be an open311 system; calls go through its guard.
    pub fn new(department: Arc<Department>) -> Result<Self, Open311BuildError> {
        let config = department.config();
        let system = config.code.clone();
        if config.kind != ConnectorKind::Open311 {
            return Err(Open311BuildError::NotOpen311 {
                system,
                kind: config.kind,
            });
        }
        let Some(settings) = config.open311.clone() else {
            return Err(Open311BuildError::NoSettings { system });
        };
        let http = reqwest::Client::builder()
            .connect_timeout(config.limits.guard.timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|source| Open311BuildError::Http {
                system: system.clone(),
                source,
            })?;
        Ok(Self {
            endpoint: config.endpoint.trim_end_matches('/').to_owned(),
            auth: config.auth.clone(),
            settings,
            http,
            department,
        })
    }

    /// The system's code: `220400-12345`.
    pub fn code(&self) -> &str {
        &self.department.config().code
    }

    pub fn name(&self) -> &str {
        &self.department.config().name
    }

    pub fn settings(&self) -> &Open311 {
        &self.settings
    }

    /// The services the system offers.
    pub async fn services(&self) -> Result<Vec<Service>, Open311Error> {
        let url = format!("{}/services.json", self.endpoint);
        self.guarded(|| async {
            let answer = self.get(&url).await?.unwrap_or(Value::Array(Vec::new()));
            parse(answer, "services")
        })
        .await
    }

    /// The requests matching `query`.
    pub async fn requests(
        &self,
        query: &RequestQuery,
    ) -> Result<Vec<ServiceRequest>, Open311Error> {
        let mut url = format!("{}/requests.json", self.endpoint);
        let pairs = {
            let mut pairs = url::form_urlencoded::Serializer::new(String::new());
            if let Some(start) = query.start {
                pairs.append_pair("start_date", &w3c(start));
            }
            if let Some(end) = query.end {
                pairs.append_pair("end_date", &w3c(end));
            }
            if let Some(status) = query.status {
                pairs.append_pair("status", status.as_str());
            }
            pairs.finish()
        };
        if !pairs.is_empty() {
            url = format!("{url}?{pairs}");
        }
        self.guarded(|| async {
            let answer = self.get(&url).await?.unwrap_or(Value::Array(Vec::new()));
            parse(answer, "service requests")
        })
        .await
    }

    /// One request; `None` when the system has none under that id.
    pub async fn request(&self, id: &str) -> Result<Option<ServiceRequest>, Open311Error> {
        let url = format!("{}/requests/{}.json", self.endpoint, encode(id));
        self.guarded(|| async {
            let Some(answer) = self.get(&url).await? else {
                return Ok(None);
            };
            let found: Vec<ServiceRequest> = parse(answer, "service requests")?;
            Ok(found.into_iter().next())
        })
        .await
    }

    /// Sets a request's status, with a note for the citizen and the hotline's operators
    /// (the hotline's update extension). Setting the same status and note twice is
    /// harmless, so a call that timed out is tried again like a read.
    pub async fn update_status(
        &self,
        id: &str,
        status: RequestStatus,
        notes: &str,
    ) -> Result<(), Open311Error> {
        let url = format!("{}/requests/{}.json", self.endpoint, encode(id));
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("status", status.as_str())
            .append_pair("status_notes", notes)
            .finish();
        self.guarded(|| async {
            let request = self
                .http
                .post(&url)
                .header("accept", "application/json")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.clone());
            match self.send(request).await? {
                Some(_) => Ok(()),
                None => Err(UpstreamError::Refused(format!(
                    "it has no service request `{id}`"
                ))),
            }
        })
        .await
    }

    async fn guarded<T, F, Fut>(&self, call: F) -> Result<T, Open311Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, UpstreamError>>,
    {
        let system = self.code().to_owned();
        self.department
            .guard()
            .read(call, UpstreamError::retryable)
            .await
            .map_err(|error| match error {
                CallError::CircuitOpen { retry_after } => Open311Error::CircuitOpen {
                    system,
                    retry_after,
                },
                CallError::Saturated { waited, in_flight } => Open311Error::Saturated {
                    system,
                    waited,
                    in_flight,
                },
                CallError::Timeout(limit) => Open311Error::Timeout { system, limit },
                CallError::Upstream(source) => Open311Error::Upstream { system, source },
            })
    }

    /// GETs a JSON answer; `None` for 404.
    async fn get(&self, url: &str) -> Result<Option<Value>, UpstreamError> {
        self.send(self.http.get(url)).await
    }

    /// Sends with the system's credentials and reads a JSON answer; `None` for 404.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Option<Value>, UpstreamError> {
        crate::rest::send_json(request, &self.auth).await
    }
}

/// A list answer read as `T`s, naming the first item that does not fit.
fn parse<T: serde::de::DeserializeOwned>(
    answer: Value,
    what: &str,
) -> Result<Vec<T>, UpstreamError> {
    let Value::Array(items) = answer else {
        return Err(UpstreamError::BadResponse(format!(
            "the answer is not a list of {what}"
        )));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            serde_json::from_value(item).map_err(|error| {
                UpstreamError::BadResponse(format!("item {index} of the {what}: {error}"))
            })
        })
        .collect()
}

/// The W3C datetime format Open311 uses: `2026-11-27T07:00:00Z`.
fn w3c(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Ids and codes are strings in the spec, numbers in some systems.
fn text_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::String(text) => Ok(text),
        Value::Number(number) => Ok(number.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected a string or number, not {other}"
        ))),
    }
}

/// A datetime that systems leave out, null or empty when unknown.
fn optional_datetime<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<FixedOffset>>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) => DateTime::parse_from_rfc3339(text.trim())
            .map(Some)
            .map_err(|error| serde::de::Error::custom(format!("`{text}`: {error}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_read_with_numbers_empty_dates_and_extensions() {
        let answer = serde_json::json!([{
            "service_request_id": 240017,
            "status": "open",
            "service_code": 101,
            "service_name": "邻里纠纷",
            "description": "楼上住户夜间装修噪音扰民",
            "requested_datetime": "2026-11-20T09:30:00+08:00",
            "updated_datetime": "",
            "expected_datetime": null,
            "address": "吉林省辽源市龙山区向阳街道兴华社区向阳路42号",
            "zone_code": "220402008003001"
        }]);
        let requests: Vec<ServiceRequest> = parse(answer, "service requests").unwrap_or_default();
        let request = &requests[0];
        assert_eq!(request.service_request_id, "240017");
        assert_eq!(request.service_code, "101");
        assert_eq!(request.updated_datetime, None);
        assert_eq!(
            request.extension("zone_code").as_deref(),
            Some("220402008003001")
        );
        assert_eq!(request.extension("missing"), None);
    }

    #[test]
    fn an_unreadable_item_is_named() {
        let answer = serde_json::json!([{ "service_request_id": "1", "status": "pending",
            "service_code": "101", "requested_datetime": "2026-11-20T09:30:00+08:00" }]);
        let error = parse::<ServiceRequest>(answer, "service requests").err();
        assert!(
            matches!(&error, Some(UpstreamError::BadResponse(m)) if m.starts_with("item 0 of the service requests")),
            "{error:?}"
        );
    }
}
