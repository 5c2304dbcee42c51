//! Error codes mapped once to HTTP statuses, and the GraphQL-shaped error body every
//! refusal carries, so clients read one format whatever went wrong.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use schema::error::ErrorCode;
use serde_json::json;

use super::negotiate::MediaType;

/// The HTTP status of a request that fails as a whole with this code.
pub fn status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadRequest
        | ErrorCode::GraphqlParseFailed
        | ErrorCode::GraphqlValidationFailed
        | ErrorCode::QueryTooComplex
        | ErrorCode::UnknownOperation
        | ErrorCode::BadUserInput
        | ErrorCode::InvalidId
        | ErrorCode::PersistedQueryNotFound
        | ErrorCode::PersistedQueryRequired
        | ErrorCode::PersistedQueryNotSupported => StatusCode::BAD_REQUEST,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::UriTooLong => StatusCode::URI_TOO_LONG,
        ErrorCode::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::DatabaseUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::SubscriberLagged => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::InvalidTransition | ErrorCode::IdempotencyKeyReused => StatusCode::CONFLICT,
        ErrorCode::DepartmentUnavailable | ErrorCode::DepartmentBadResponse => {
            StatusCode::BAD_GATEWAY
        }
        ErrorCode::DepartmentBusy => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The status of a request that failed as a whole, answered as `media`. The spec's own
/// type tells the failure in the status; a client that accepts only `application/json`
/// gets 200 for a well-formed request whatever its GraphQL errors, as GraphQL-over-HTTP
/// asks for that type.
pub fn status_for(code: ErrorCode, media: MediaType) -> StatusCode {
    match (media, code) {
        (
            MediaType::Json,
            ErrorCode::GraphqlParseFailed
            | ErrorCode::GraphqlValidationFailed
            | ErrorCode::UnknownOperation
            | ErrorCode::QueryTooComplex
            | ErrorCode::BadUserInput
            | ErrorCode::InvalidId
            | ErrorCode::PersistedQueryNotFound
            | ErrorCode::PersistedQueryNotSupported,
        ) => StatusCode::OK,
        _ => status(code),
    }
}

/// A request refused before or instead of execution.
#[derive(Debug)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    pub media: MediaType,
    /// The methods the endpoint does answer, for `METHOD_NOT_ALLOWED`.
    allow: &'static str,
    /// Seconds until the caller may try again, for `RATE_LIMITED`.
    retry_after: u64,
}

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            media: MediaType::Json,
            allow: "GET, POST",
            retry_after: 1,
        }
    }

    /// Over the caller's rate limit, for `wait` more.
    pub fn rate_limited(wait: std::time::Duration) -> Self {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Self {
            retry_after: seconds.max(1),
            ..Self::new(
                ErrorCode::RateLimited,
                format!("too many requests; try again in {} s", seconds.max(1)),
            )
        }
    }

    /// A method the endpoint does not answer; it answers `allow`.
    pub fn method_not_allowed(message: impl Into<String>, allow: &'static str) -> Self {
        Self {
            allow,
            ..Self::new(ErrorCode::MethodNotAllowed, message)
        }
    }

    pub fn answered_as(mut self, media: MediaType) -> Self {
        self.media = media;
        self
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = json!({ "errors": errors(self.code, &self.message) });
        let mut response = json_response(status_for(self.code, self.media), self.media, &body);
        if self.code == ErrorCode::MethodNotAllowed {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(self.allow));
        }
        if self.code == ErrorCode::RateLimited
            && let Ok(value) = HeaderValue::from_str(&self.retry_after.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if self.code == ErrorCode::Unauthenticated {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        response
    }
}

/// Names the request in each error of a GraphQL `errors` list, as the logs and audit
/// rows do (`extensions.requestId`).
pub fn name_request(errors: &mut serde_json::Value) {
    let (Some(id), serde_json::Value::Array(list)) = (super::request_id(), errors) else {
        return;
    };
    for error in list.iter_mut().filter(|error| error.is_object()) {
        error["extensions"]["requestId"] = json!(id);
    }
}

/// The GraphQL `errors` list of one error, with its code and the request's id.
pub fn errors(code: ErrorCode, message: &str) -> serde_json::Value {
    let mut list = json!([{ "message": message, "extensions": { "code": code.as_str() } }]);
    name_request(&mut list);
    list
}

/// A GraphQL `errors` list (JSON text) with each error naming the request it answers. An
/// operation's failure is shared by the identical subscriptions that joined it, so each
/// connection names its own request as it sends the failure on.
pub fn named(errors: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(errors) {
        Ok(mut list) if list.is_array() => {
            name_request(&mut list);
            list.to_string()
        }
        _ => errors.to_owned(),
    }
}

pub fn json_response(
    status: StatusCode,
    media: MediaType,
    body: &impl serde::Serialize,
) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    (
        status,
        [(header::CONTENT_TYPE, media.header_value())],
        bytes,
    )
        .into_response()
}
