//! The `rest` kind: JSON over HTTP, a batched lookup (`persons?ids=a,b,c`) where the
//! department has one, else one request per record.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::config::{Auth, FieldPath};
use crate::upstream::UpstreamError;

/// Answers larger than this are refused rather than read into memory.
const MAX_BODY: usize = 32 * 1024 * 1024;

#[derive(Clone)]
pub struct RestClient {
    http: reqwest::Client,
    endpoint: String,
    auth: Auth,
}

impl RestClient {
    pub fn new(endpoint: &str, auth: Auth, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            http,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            auth,
        })
    }

    fn url(&self, template: &str, placeholder: &str, value: &str) -> String {
        let path = template.replace(placeholder, value);
        format!("{}/{}", self.endpoint, path.trim_start_matches('/'))
    }

    /// The records for `ids` from one batched request.
    pub async fn batch(
        &self,
        template: &str,
        records: &FieldPath,
        ids: &[String],
    ) -> Result<Vec<Value>, UpstreamError> {
        let joined: Vec<String> = ids.iter().map(|id| encode(id)).collect();
        let url = self.url(template, "{ids}", &joined.join(","));
        let Some(answer) = self.get(&url).await? else {
            return Ok(Vec::new());
        };
        match records.find(&answer) {
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(Value::Null) => Ok(Vec::new()),
            _ => Err(UpstreamError::BadResponse(format!(
                "the answer has no list of records at `{records}`"
            ))),
        }
    }

    /// One record, or `None` when the department has none under that id.
    pub async fn single(
        &self,
        template: &str,
        record: &FieldPath,
        id: &str,
    ) -> Result<Option<Value>, UpstreamError> {
        let url = self.url(template, "{id}", &encode(id));
        let Some(answer) = self.get(&url).await? else {
            return Ok(None);
        };
        match record.find(&answer) {
            Some(Value::Null) | None => Ok(None),
            Some(found) => Ok(Some(found.clone())),
        }
    }

    /// Sends a write with the idempotency key the department dedupes on. A 2xx answer
    /// and a 409 or 422 refusal (a business refusal, with its reason in the body) are
    /// read as JSON; anything else fails as a read does.
    pub async fn write(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        key: &str,
    ) -> Result<Reply, UpstreamError> {
        let url = format!("{}/{}", self.endpoint, path.trim_start_matches('/'));
        let request = self
            .http
            .request(method, url)
            .header("idempotency-key", key)
            .json(body);
        self.answer(request).await
    }

    /// GETs the current state of something written (a pending answer asked again).
    pub async fn poll(&self, template: &str, id: &str) -> Result<Reply, UpstreamError> {
        let url = self.url(template, "{id}", &encode(id));
        self.answer(self.http.get(url)).await
    }

    async fn answer(&self, request: reqwest::RequestBuilder) -> Result<Reply, UpstreamError> {
        match send(request, &self.auth, true).await? {
            Some((status, body)) => Ok(Reply {
                refused: !status.is_success(),
                body,
            }),
            None => Err(UpstreamError::Refused(
                "it answered HTTP 404 Not Found: is the operation's path right?".to_owned(),
            )),
        }
    }

    /// GETs a JSON answer; `None` for 404.
    /// GETs `path` (relative to the endpoint) and reads its JSON answer; a 404 is an
    /// answer of `null`.
    pub async fn read(&self, path: &str) -> Result<Value, UpstreamError> {
        let url = format!("{}/{}", self.endpoint, path.trim_start_matches('/'));
        Ok(self.get(&url).await?.unwrap_or(Value::Null))
    }

    async fn get(&self, url: &str) -> Result<Option<Value>, UpstreamError> {
        send_json(self.http.get(url), &self.auth).await
    }
}

/// Sends `request` with `auth` and reads a JSON answer: `None` for 404, JSON `null` for an
/// empty body; 5xx and 429 are `Unavailable`, other refusals `Refused`, and what does not
/// parse (or is over 32 MiB) `BadResponse`.
pub(crate) async fn send_json(
    request: reqwest::RequestBuilder,
    auth: &Auth,
) -> Result<Option<Value>, UpstreamError> {
    Ok(send(request, auth, false).await?.map(|(_, body)| body))
}

/// A department's answer to a write: its body, and whether it was a refusal (409, 422).
pub struct Reply {
    pub refused: bool,
    pub body: Value,
}

/// [`send_json`], reading the body of a 409 or 422 too when `refusals_have_bodies`.
async fn send(
    request: reqwest::RequestBuilder,
    auth: &Auth,
    refusals_have_bodies: bool,
) -> Result<Option<(StatusCode, Value)>, UpstreamError> {
    let request = request.header("accept", "application/json");
    let request = match auth {
        Auth::None => request,
        Auth::Bearer { token } => request.bearer_auth(token),
        Auth::Basic { username, password } => request.basic_auth(username, Some(password)),
    };
    let mut response = request.send().await.map_err(|error| {
        UpstreamError::Unavailable(format!("cannot reach the system: {}", root_cause(&error)))
    })?;
    let status = response.status();
    if status == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        return Err(UpstreamError::Unavailable(format!(
            "it answered HTTP {status}"
        )));
    }
    let business_refusal = refusals_have_bodies
        && matches!(
            status,
            StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY
        );
    if !status.is_success() && !business_refusal {
        return Err(UpstreamError::Refused(format!(
            "it refused the call: HTTP {status}"
        )));
    }
    let mut body = Vec::new();
    loop {
        let chunk = response.chunk().await.map_err(|error| {
            UpstreamError::Unavailable(format!("the answer broke off: {}", root_cause(&error)))
        })?;
        let Some(chunk) = chunk else { break };
        if body.len() + chunk.len() > MAX_BODY {
            return Err(UpstreamError::BadResponse(format!(
                "the answer is larger than {} MiB",
                MAX_BODY / 1024 / 1024
            )));
        }
        body.extend_from_slice(&chunk);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Some((status, Value::Null)));
    }
    serde_json::from_slice(&body)
        .map(|body| Some((status, body)))
        .map_err(|error| UpstreamError::BadResponse(format!("the answer is not JSON: {error}")))
}

/// Percent-encodes an id for a path or query (ids are usually plain letters and digits).
pub(crate) fn encode(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}
