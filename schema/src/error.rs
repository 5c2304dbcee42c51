//! The one vocabulary of error codes a client sees in `extensions.code`. The gateway maps
//! each code to an HTTP status; internal detail is logged where it happens and never sent.

use async_graphql::ErrorExtensions;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The HTTP request itself is malformed (body, parameters, JSON).
    BadRequest,
    /// The request body is larger than the configured limit.
    PayloadTooLarge,
    /// The request URI is longer than the HTTP parser takes (64 KiB).
    UriTooLong,
    /// The request's header fields are too large or too many for the HTTP parser.
    HeadersTooLarge,
    /// No such endpoint.
    NotFound,
    /// The request's Content-Type is not one the endpoint accepts.
    UnsupportedMediaType,
    /// None of the media types the client accepts can be produced.
    NotAcceptable,
    /// The HTTP method cannot carry this operation (a mutation over GET).
    MethodNotAllowed,
    /// The GraphQL document does not parse.
    GraphqlParseFailed,
    /// The document does not validate against the schema.
    GraphqlValidationFailed,
    /// `operationName` names no operation of the document, or is needed and missing.
    UnknownOperation,
    /// The document is too large, too deep or too complex to run.
    QueryTooComplex,
    /// An argument's value is outside what the field accepts.
    BadUserInput,
    /// A global id that is malformed or names another type.
    InvalidId,
    /// The platform database cannot be reached right now.
    DatabaseUnavailable,
    /// The request took longer than the configured limit.
    Timeout,
    /// The caller's token is missing (where one is required), malformed, expired or not
    /// signed by the configured key.
    Unauthenticated,
    /// The caller is authenticated but may not do this: its role may not run the
    /// operation, or not on this object. Nothing was changed.
    Forbidden,
    /// A persisted document's id names no document the gateway holds: send the document
    /// with its hash (automatic persisted queries), or register it (trusted documents).
    PersistedQueryNotFound,
    /// Only registered documents run here: name one by id instead of sending `query`.
    PersistedQueryRequired,
    /// Automatic persisted queries are turned off: send the document as `query`.
    PersistedQueryNotSupported,
    /// The caller made more requests than its rate limit allows; `Retry-After` says
    /// when to try again.
    RateLimited,
    /// An idempotency key the caller already used for another operation or other
    /// arguments. Nothing was changed.
    IdempotencyKeyReused,
    /// A subscriber fell too far behind its subscription and was ended; resubscribing
    /// with the last cursor received continues without loss.
    SubscriberLagged,
    /// The workflow change is not allowed in the event's (or summons') current state;
    /// `extensions.currentState` says which. Nothing was changed.
    InvalidTransition,
    /// A department system is down, slow, refusing calls, or its circuit is open; the
    /// error's `department` extension names it. Other fields are unaffected.
    DepartmentUnavailable,
    /// Too many calls to a department are in flight from this gateway for one more to
    /// wait its turn: the department was not called (nor blamed); retry shortly.
    /// `department` names it.
    DepartmentBusy,
    /// A department system answered something that cannot be read (bad JSON, wrong
    /// types); `department` names it.
    DepartmentBadResponse,
    /// Anything else: a fault of the gateway, logged with its detail.
    Internal,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 29] = [
        Self::BadRequest,
        Self::NotFound,
        Self::PayloadTooLarge,
        Self::UriTooLong,
        Self::HeadersTooLarge,
        Self::UnsupportedMediaType,
        Self::NotAcceptable,
        Self::MethodNotAllowed,
        Self::GraphqlParseFailed,
        Self::GraphqlValidationFailed,
        Self::UnknownOperation,
        Self::QueryTooComplex,
        Self::BadUserInput,
        Self::InvalidId,
        Self::DatabaseUnavailable,
        Self::Timeout,
        Self::Unauthenticated,
        Self::Forbidden,
        Self::SubscriberLagged,
        Self::PersistedQueryNotFound,
        Self::PersistedQueryRequired,
        Self::PersistedQueryNotSupported,
        Self::RateLimited,
        Self::IdempotencyKeyReused,
        Self::InvalidTransition,
        Self::DepartmentUnavailable,
        Self::DepartmentBusy,
        Self::DepartmentBadResponse,
        Self::Internal,
    ];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|code| code.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "BAD_REQUEST",
            Self::NotFound => "NOT_FOUND",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::UriTooLong => "URI_TOO_LONG",
            Self::HeadersTooLarge => "HEADERS_TOO_LARGE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::NotAcceptable => "NOT_ACCEPTABLE",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            Self::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Self::UnknownOperation => "UNKNOWN_OPERATION",
            Self::QueryTooComplex => "QUERY_TOO_COMPLEX",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::InvalidId => "INVALID_ID",
            Self::DatabaseUnavailable => "DATABASE_UNAVAILABLE",
            Self::Timeout => "TIMEOUT",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::SubscriberLagged => "SUBSCRIBER_LAGGED",
            Self::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            Self::RateLimited => "RATE_LIMITED",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::PersistedQueryRequired => "PERSISTED_QUERY_REQUIRED",
            Self::PersistedQueryNotSupported => "PERSISTED_QUERY_NOT_SUPPORTED",
            Self::InvalidTransition => "INVALID_TRANSITION",
            Self::DepartmentUnavailable => "DEPARTMENT_UNAVAILABLE",
            Self::DepartmentBusy => "DEPARTMENT_BUSY",
            Self::DepartmentBadResponse => "DEPARTMENT_BAD_RESPONSE",
            Self::Internal => "INTERNAL",
        }
    }
}

/// An error as the client sees it: a code and a message meant for people.
///
/// Deliberately not `Display`: async-graphql converts any `Display` type into an error
/// without extensions, and every error here must keep its code.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadUserInput, message)
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.message.clone())
            .extend_with(|_, ext| ext.set("code", self.code.as_str()))
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        error.extend()
    }
}
