//! The GraphQL-over-HTTP endpoint, written around the schema rather than taken from the
//! stock integration: POST with `application/json` only (no CSRF-able text/plain),
//! queries only over GET, Accept negotiation between `application/json` and
//! `application/graphql-response+json`, 4xx for requests that cannot run, and one error
//! shape for every refusal.

use std::collections::HashMap;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType,
};
use async_graphql::{Request, Variables};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use schema::error::ErrorCode;
use schema::{AuditTrail, Documents, RequestLoaders};
use serde::Deserialize;

use super::AppState;
use super::error::{Refusal, json_response, name_request, status_for};
use super::negotiate::{MediaType, is_json_body, response_type, wants_html};
use crate::auth::AuthError;
use crate::metrics::Outcome;
use schema::workflow::Actor;

/// A request as the client sent it, over either method.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GraphqlRequest {
    pub(super) query: Option<String>,
    pub(super) operation_name: Option<String>,
    pub(super) variables: Option<serde_json::Value>,
    /// A registered document's id, in place of `query`.
    pub(super) document_id: Option<String>,
    /// `persistedQuery` (automatic persisted queries) and anything else clients send.
    pub(super) extensions: Option<serde_json::Value>,
    /// Files of a multipart request, which its variables name.
    #[serde(skip)]
    pub(super) uploads: Vec<async_graphql::UploadValue>,
}

/// A request ready for the schema: what it runs, for whom until when, its type, and the
/// store it reads through (which counts its statements).
struct Ready {
    request: Request,
    expires: Option<i64>,
    operation: OperationType,
    /// The operation's name, from the request or the document.
    name: Option<String>,
    store: schema::Store,
}

/// Resolves a request's document (persisted or sent), checks it for the method, and
/// prepares it for its caller.
async fn ready(
    state: &AppState,
    headers: &HeaderMap,
    mut request: GraphqlRequest,
    method: Method,
    streaming: bool,
) -> Result<Ready, Refusal> {
    let persisted = state.persisted.resolve(
        request.query.as_deref(),
        request.document_id.as_deref(),
        request.extensions.as_ref(),
    );
    if let Some(document) = persisted.await? {
        request.query = Some(document);
    }
    let (operation, name) = check(state.schema.documents(), &request, method, streaming)?;
    let store = store_for(state, operation);
    let (request, expires) = prepare(state, &store, headers, request).await?;
    Ok(Ready {
        request,
        expires,
        operation,
        name,
        store,
    })
}

/// The store an operation runs on: a query reads from the read replica while it is
/// usable; a mutation, and a subscription (which follows the timeline), use the primary.
pub(super) fn store_for(state: &AppState, operation: OperationType) -> schema::Store {
    match operation {
        OperationType::Query => state.store.for_query(),
        OperationType::Mutation | OperationType::Subscription => state.store.for_request(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let streaming = wants_event_stream(&headers);
    let media = match response_type(&headers) {
        Some(media) => media,
        None if streaming => MediaType::Json,
        None => return not_acceptable(),
    };
    let request = async {
        if super::uploads::is_multipart(&headers) {
            return super::uploads::receive(&state.limits, &headers, body).await;
        }
        if !is_json_body(&headers) {
            return Err(Refusal::new(
                ErrorCode::UnsupportedMediaType,
                "send the request as JSON with `Content-Type: application/json` \
                 (or files as a GraphQL multipart request)",
            ));
        }
        let bytes = read_body(body, state.limits.max_body_bytes).await?;
        serde_json::from_slice::<GraphqlRequest>(&bytes).map_err(|e| {
            let message = if e.is_data() {
                format!("the request body is not a GraphQL request: {e}")
            } else {
                format!("the request body is not valid JSON: {e}")
            };
            Refusal::new(ErrorCode::BadRequest, message)
        })
    }
    .await;
    match request {
        Ok(request) if streaming => event_stream(&state, &headers, request).await,
        Ok(request) => execute(&state, &headers, request, Method::Post, media).await,
        Err(refusal) => refusal.answered_as(media).into_response(),
    }
}

/// Whether the client asked for Server-Sent Events (`Accept: text/event-stream`).
fn wants_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get_all(axum::http::header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.contains("text/event-stream"))
}

/// GraphQL over Server-Sent Events, for clients that cannot use WebSocket: every result
/// as an `event: next`, then `event: complete`.
async fn event_stream(state: &AppState, headers: &HeaderMap, request: GraphqlRequest) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use futures_util::StreamExt;

    let Ready {
        request: graphql,
        expires,
        operation,
        ..
    } = match ready(state, headers, request, Method::Post, true).await {
        Ok(ready) => ready,
        Err(refusal) => return refusal.answered_as(MediaType::Json).into_response(),
    };
    let results = if operation == OperationType::Subscription {
        state.schema.execute_stream(graphql).boxed()
    } else {
        let state = state.clone();
        futures_util::stream::once(async move { execute_within_limit(&state, graphql).await })
            .boxed()
    };
    // A stream ends when the caller's token does, and when the server shuts down (else
    // graceful shutdown would wait for it forever).
    let shared = state.clone();
    let until = async move {
        let expiry = async {
            match expires {
                Some(exp) => tokio::time::sleep_until(super::ws::instant_of(exp)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = expiry => {}
            () = shared.stopped() => {}
        }
    };
    // Counted open while the stream lives.
    let open = crate::metrics::Open::new("gateway_sse_streams_open");
    let results = results
        .take_until(until)
        .map(move |response| {
            let _counted = &open;
            let data = serde_json::to_string(&response).unwrap_or_default();
            Ok::<_, std::convert::Infallible>(Event::default().event("next").data(data))
        })
        .chain(futures_util::stream::once(async {
            Ok(Event::default().event("complete").data(""))
        }));
    Sse::new(results)
        .keep_alive(KeepAlive::default())
        .into_response()
}

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let names_a_document = params.contains_key("query")
        || params.contains_key("documentId")
        || params.contains_key("extensions");
    if !names_a_document && wants_html(&headers) {
        return super::graphiql::serve(State(state)).await.into_response();
    }
    let Some(media) = response_type(&headers) else {
        return not_acceptable();
    };
    let json = |name: &str| {
        params
            .get(name)
            .map(|text| serde_json::from_str::<serde_json::Value>(text))
            .transpose()
            .map_err(|e| {
                Refusal::new(
                    ErrorCode::BadRequest,
                    format!("`{name}` is not valid JSON: {e}"),
                )
                .answered_as(media)
            })
    };
    let (variables, extensions) = match (json("variables"), json("extensions")) {
        (Ok(variables), Ok(extensions)) => (variables, extensions),
        (Err(refusal), _) | (_, Err(refusal)) => return refusal.into_response(),
    };
    let request = GraphqlRequest {
        query: params.get("query").cloned(),
        operation_name: params.get("operationName").cloned(),
        variables,
        document_id: params.get("documentId").cloned(),
        extensions,
        uploads: Vec::new(),
    };
    execute(&state, &headers, request, Method::Get, media).await
}

/// Runs `execution` within the request time limit; `None` when it ran out.
async fn within_limit<F: std::future::Future<Output = async_graphql::Response>>(
    state: &AppState,
    execution: F,
) -> Option<async_graphql::Response> {
    let limit = state.limits.request_timeout();
    let outcome = tokio::time::timeout(limit, execution).await.ok();
    if outcome.is_none() {
        tracing::warn!(timeout_ms = limit.as_millis() as u64, "request timed out");
    }
    outcome
}

fn timed_out(state: &AppState) -> Refusal {
    Refusal::new(
        ErrorCode::Timeout,
        format!(
            "the request did not finish within {} ms",
            state.limits.request_timeout().as_millis()
        ),
    )
}

/// A query or mutation over a streaming transport (WebSocket, Server-Sent Events), with
/// the HTTP time limit: past it, the answer is a `TIMEOUT` error.
pub(super) async fn execute_within_limit(
    state: &AppState,
    request: Request,
) -> async_graphql::Response {
    match within_limit(state, state.schema.execute(request)).await {
        Some(response) => response,
        None => {
            let refusal = timed_out(state);
            let error = schema::error::ApiError::new(refusal.code, refusal.message);
            async_graphql::Response::from_errors(vec![
                async_graphql::ErrorExtensions::extend(&error)
                    .into_server_error(async_graphql::Pos::default()),
            ])
        }
    }
}

fn not_acceptable() -> Response {
    Refusal::new(
        ErrorCode::NotAcceptable,
        "this endpoint answers application/graphql-response+json or application/json",
    )
    .into_response()
}

pub(super) async fn read_body(body: Body, limit: usize) -> Result<Bytes, Refusal> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(Refusal::new(
            ErrorCode::PayloadTooLarge,
            format!("the request body is larger than {limit} bytes"),
        )),
        Err(e) => Err(Refusal::new(
            ErrorCode::BadRequest,
            format!("the request body could not be read: {e}"),
        )),
    }
}

/// Checks what can be checked without the schema: a query is present, parses, names an
/// operation that exists, and is a query when it came over GET. Returns the operation's
/// type and name.
fn check(
    documents: &Documents,
    request: &GraphqlRequest,
    method: Method,
    streaming: bool,
) -> Result<(OperationType, Option<String>), Refusal> {
    let query = request
        .query
        .as_deref()
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| Refusal::new(ErrorCode::BadRequest, "the request has no `query`"))?;
    if let Some(variables) = &request.variables
        && !(variables.is_object() || variables.is_null())
    {
        return Err(Refusal::new(
            ErrorCode::BadRequest,
            "`variables` must be a JSON object",
        ));
    }
    let document = documents
        .parse(query)
        .map_err(|e| Refusal::new(ErrorCode::GraphqlParseFailed, e.to_string()))?;
    let (operation, name) = operation(&document, request.operation_name.as_deref())
        .map(|(operation, name)| (operation.ty, name))?;
    if operation == OperationType::Subscription && !streaming {
        return Err(Refusal::new(
            ErrorCode::BadRequest,
            "subscriptions are served over WebSocket (graphql-transport-ws) at /graphql, or as \
             Server-Sent Events to a POST with `Accept: text/event-stream`",
        ));
    }
    if method == Method::Get && operation != OperationType::Query {
        return Err(Refusal::method_not_allowed(
            "only queries may be sent with GET; send mutations and subscriptions with POST",
            "POST",
        ));
    }
    Ok((operation, name))
}

/// The operation of a parsed document that `operation_name` names (or its only one),
/// and that name.
pub(super) fn operation<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Result<(&'a OperationDefinition, Option<String>), Refusal> {
    let name = operation_name.filter(|n| !n.is_empty());
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(operation), None) => Some((&operation.node, None)),
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Multiple(operations), Some(name)) => operations
            .get(name)
            .map(|operation| (&operation.node, Some(name.to_owned()))),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations
            .iter()
            .next()
            .map(|(name, operation)| (&operation.node, Some(name.to_string()))),
        (DocumentOperations::Multiple(_), None) => {
            return Err(Refusal::new(
                ErrorCode::UnknownOperation,
                "the document holds several operations; name one with `operationName`",
            ));
        }
    };
    operation.ok_or_else(|| {
        Refusal::new(
            ErrorCode::UnknownOperation,
            format!(
                "the document has no operation named `{}`",
                name.unwrap_or_default()
            ),
        )
    })
}

/// The request for the schema, for the caller the headers authenticate, and when the
/// caller's token expires.
async fn prepare(
    state: &AppState,
    store: &schema::Store,
    headers: &HeaderMap,
    request: GraphqlRequest,
) -> Result<(Request, Option<i64>), Refusal> {
    let caller = state
        .auth
        .from_headers(headers)
        .await
        .map_err(unauthenticated)?;
    if let Some(limiter) = &state.limiter {
        limiter
            .admit(&caller.subject)
            .await
            .map_err(Refusal::rate_limited)?;
    }
    let expires = caller.expires_at;
    let mut prepared = prepare_for(
        state,
        store,
        caller,
        request_id(headers),
        request.query.unwrap_or_default(),
        request.variables,
        request.operation_name,
    );
    prepared.uploads = request.uploads;
    Ok((prepared, expires))
}

pub(super) fn unauthenticated(error: AuthError) -> Refusal {
    Refusal::new(ErrorCode::Unauthenticated, error.to_string())
}

/// The request's id (`X-Request-Id`, set by the router when the client sent none).
pub(super) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// The request for the schema from its parts, for `caller`: its loaders (built for its
/// scope), the actor its changes are recorded under, the trail of personal data it reads
/// in clear, and the signal hub.
pub(super) fn prepare_for(
    state: &AppState,
    store: &schema::Store,
    caller: Actor,
    request_id: Option<String>,
    query: String,
    variables: Option<serde_json::Value>,
    operation_name: Option<String>,
) -> Request {
    let variables = variables
        .filter(|v| !v.is_null())
        .map(Variables::from_json)
        .unwrap_or_default();
    let mut graphql = Request::new(query)
        .variables(variables)
        .data(RequestLoaders::new(
            store,
            &state.federation,
            caller.scope.clone(),
        ))
        .data(caller)
        .data(AuditTrail::new(request_id))
        .data(store.clone())
        .data(state.signals.clone());
    if let Some(name) = operation_name.filter(|n| !n.is_empty()) {
        graphql = graphql.operation_name(name);
    }
    graphql
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    request: GraphqlRequest,
    method: Method,
    media: MediaType,
) -> Response {
    let started = std::time::Instant::now();
    let record = |name: Option<&str>, outcome, store: Option<&schema::Store>| {
        crate::metrics::graphql_request(
            name,
            "http",
            outcome,
            started.elapsed(),
            store.map_or(0, schema::Store::request_statements),
        );
    };
    let asked = request.operation_name.clone();
    let ready = match ready(state, headers, request, method, false).await {
        Ok(ready) => ready,
        Err(refusal) => {
            record(asked.as_deref(), Outcome::Refused, None);
            return refusal.answered_as(media).into_response();
        }
    };
    let (name, store) = (ready.name, ready.store);

    let Some(response) = within_limit(state, state.schema.execute(ready.request)).await else {
        record(name.as_deref(), Outcome::Timeout, Some(&store));
        return timed_out(state).answered_as(media).into_response();
    };
    record(name.as_deref(), Outcome::of(&response), Some(&store));

    // No data and no error from a resolver: the request failed before it ran.
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let http_status = if request_error {
        response
            .errors
            .first()
            .and_then(|e| e.extensions.as_ref())
            .and_then(|ext| match ext.get("code") {
                Some(async_graphql::Value::String(code)) => Some(code.clone()),
                _ => None,
            })
            .and_then(|code| ErrorCode::parse(&code))
            .map_or(StatusCode::BAD_REQUEST, |code| status_for(code, media))
    } else {
        StatusCode::OK
    };
    let errors = (!response.errors.is_empty()).then(|| {
        let mut errors = serde_json::to_value(&response.errors).unwrap_or_default();
        name_request(&mut errors);
        errors
    });
    let body = Answer {
        data: (!request_error).then_some(&response.data),
        errors,
    };
    json_response(http_status, media, &body)
}

/// A response's body, written straight from the executed value: `data` unless the
/// request failed before it ran, `errors` when there are any.
#[derive(serde::Serialize)]
struct Answer<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a async_graphql::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<serde_json::Value>,
}
