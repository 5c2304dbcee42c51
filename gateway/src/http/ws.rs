//! GraphQL over WebSocket. The `graphql-transport-ws` protocol (the `graphql-ws` npm
//! client), to the letter: `connection_init` within the configured time or close 4408,
//! its payload's token accepted or close 4403, one init only (4429), nothing before the
//! ack (4401), unique ids (4409), anything
//! malformed closes with 4400; `ping`/`pong`; an operation that fails before producing a
//! result gets an `error` message, not `next`. Also the legacy `subscriptions-transport-ws`
//! protocol (subprotocol `graphql-ws`: `start`/`stop`, `data`, keep-alive `ka`), for older
//! clients. Idle connections read into a small buffer so that thousands of them cost
//! little memory.

use std::future::Future;
use std::pin::Pin;

use async_graphql::parser::types::OperationType;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::StreamExt;
use futures_util::future::Either;
use futures_util::stream::BoxStream;
use schema::error::ErrorCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::{Instant, Interval, MissedTickBehavior, Sleep};
use tokio_stream::StreamMap;

use super::AppState;
use super::error::{errors, named};
use super::feeds::{BACKLOG, Feeds, Output, Read};
use super::sharing;
use schema::graphql::{Resume, YieldedCursors};
use schema::workflow::Actor;

pub const PROTOCOL: &str = "graphql-transport-ws";
/// The subprotocol name of the legacy `subscriptions-transport-ws` protocol.
pub const LEGACY_PROTOCOL: &str = "graphql-ws";

/// Which of the two protocols a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    TransportWs,
    Legacy,
}

impl Protocol {
    /// The name of the result message: `next`, or `data` in the legacy protocol.
    fn result(self) -> &'static str {
        match self {
            Self::TransportWs => "next",
            Self::Legacy => "data",
        }
    }
}

/// The legacy protocol's keep-alive message.
const KEEP_ALIVE: &str = r#"{"type":"ka"}"#;

/// Read buffer per connection: the default 128 KiB, zero-filled on first read, would
/// make every idle subscriber cost that much.
const READ_BUFFER: usize = 4 * 1024;

pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let offered: Vec<String> = headers
        .get_all(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|protocol| protocol.trim().to_owned())
        .collect();
    let protocol = if offered.iter().any(|p| p == PROTOCOL) {
        Some(Protocol::TransportWs)
    } else if offered.iter().any(|p| p == LEGACY_PROTOCOL) {
        Some(Protocol::Legacy)
    } else {
        None
    };
    // Kept for clients that authenticate on the upgrade rather than in `connection_init`.
    let authorization = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let request_id = super::graphql::request_id(&headers);
    ws.protocols([PROTOCOL, LEGACY_PROTOCOL])
        .read_buffer_size(READ_BUFFER)
        .max_message_size(state.limits.max_body_bytes)
        .on_upgrade(move |socket| connection(socket, state, authorization, request_id, protocol))
}

/// A connection's task: its session, or the refusal of a subprotocol it does not speak.
/// Not an `async` block around the session: that would hold the socket a second time,
/// beside the session's own, for as long as the connection lives.
fn connection(
    socket: WebSocket,
    state: AppState,
    authorization: Option<String>,
    request_id: Option<String>,
    protocol: Option<Protocol>,
) -> impl Future<Output = ()> {
    let Some(protocol) = protocol else {
        return Either::Right(close(
            socket,
            4406,
            "Subprotocol not acceptable: use graphql-transport-ws",
        ));
    };
    // The upgrade's id names the connection's errors and log lines.
    let id = request_id.clone().unwrap_or_default();
    let span = tracing::info_span!("websocket", request_id = %id);
    let session = Session::new(state, authorization, request_id, protocol).run(socket);
    Either::Left(super::with_id(
        id,
        tracing::Instrument::instrument(session, span),
    ))
}

/// Waits for the interval's next tick, if there is an interval.
async fn tick(interval: &mut Option<Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Waits for the timer, if there is one.
async fn expiry(timer: &mut Option<Pin<Box<Sleep>>>) {
    match timer {
        Some(timer) => timer.await,
        None => std::future::pending().await,
    }
}

/// The moment a token's `exp` (seconds since the epoch) passes, on the runtime's clock.
pub(super) fn instant_of(exp: i64) -> Instant {
    let now = chrono::Utc::now().timestamp_millis();
    let left = u64::try_from(exp.saturating_mul(1_000).saturating_sub(now)).unwrap_or(0);
    Instant::now() + std::time::Duration::from_millis(left)
}

/// A close frame's reason holds at most 123 bytes: longer ones are cut at a character.
fn close_reason(mut reason: String) -> String {
    const MAX: usize = 123;
    if reason.len() > MAX {
        let mut end = MAX;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    reason
}

async fn close(mut socket: WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from(reason.to_owned()),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

#[derive(Deserialize)]
struct Incoming {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
    #[serde(default)]
    payload: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Operation {
    #[serde(default)]
    query: String,
    #[serde(default)]
    variables: Option<Value>,
    operation_name: Option<String>,
    /// A registered document's id, in place of `query`.
    document_id: Option<String>,
    /// `persistedQuery` of automatic persisted queries.
    extensions: Option<Value>,
}

/// Why a connection ends: a close code and reason of the protocol.
struct Closing(u16, String);

/// The messages one operation sends: its results, then `complete`.
type Messages = BoxStream<'static, String>;

/// One connection: a single task reads the client's messages, runs its operations as
/// streams of outgoing messages, and writes those to the socket itself; an idle
/// subscriber costs its socket, this state, and its operation's stream.
struct Session {
    state: AppState,
    /// The upgrade request's `Authorization` header, if any.
    authorization: Option<String>,
    /// The upgrade request's id, recorded on the audit rows of its operations.
    request_id: Option<String>,
    protocol: Protocol,
    /// Who the connection acts as, once `connection_init` is accepted.
    caller: Option<Actor>,
    /// Operations running, by id; one that completes leaves the map.
    running: StreamMap<String, Messages>,
    /// Counts the connection open while it lives.
    _open: crate::metrics::Open,
}

impl Session {
    fn new(
        state: AppState,
        authorization: Option<String>,
        request_id: Option<String>,
        protocol: Protocol,
    ) -> Self {
        Self {
            state,
            authorization,
            request_id,
            protocol,
            caller: None,
            running: StreamMap::new(),
            _open: crate::metrics::Open::new("gateway_websocket_connections_open"),
        }
    }

    /// Not an `async fn`: its arguments would stay in its future beside the copies its
    /// body works on, doubling what every idle connection holds of its session and socket.
    #[allow(clippy::manual_async_fn)]
    fn run(mut self, mut socket: WebSocket) -> impl Future<Output = ()> {
        async move {
            // Dropped once the connection is initialised: a timer left armed would wake every
            // idle connection once more, all of them around the same time.
            let mut init_timeout = Some(Box::pin(tokio::time::sleep(
                self.state.limits.ws_init_timeout(),
            )));
            let legacy = self.protocol == Protocol::Legacy;
            // Pings keep proxies from closing quiet connections and find clients that are
            // gone: one that answers nothing between two pings is dropped.
            let mut keep_alive = self.state.limits.ws_keepalive().map(|period| {
                let mut interval = tokio::time::interval_at(Instant::now() + period, period);
                interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
                interval
            });
            let mut heard = true;
            // Waited on afresh in each round: a future kept across rounds would be held by
            // every idle connection beside the round's own.
            let mut stopping = self.state.stopping.clone();
            // The connection ends when its token does: set once the caller is known.
            let mut token_expiry: Option<Pin<Box<Sleep>>> = None;
            let closing = loop {
                if self.caller.is_some() && init_timeout.is_some() {
                    init_timeout = None;
                    token_expiry = self
                        .caller
                        .as_ref()
                        .and_then(|caller| caller.expires_at)
                        .map(|exp| Box::pin(tokio::time::sleep_until(instant_of(exp))));
                }
                let operations = !self.running.is_empty();
                tokio::select! {
                    () = expiry(&mut init_timeout), if init_timeout.is_some() => {
                        break Some(Closing(4408, "Connection initialisation timeout".to_owned()));
                    }
                    () = expiry(&mut token_expiry), if token_expiry.is_some() => {
                        break Some(Closing(4403, "Forbidden: the token expired".to_owned()));
                    }
                    () = super::stopped(&mut stopping) => {
                        break Some(Closing(1001, "Server shutting down".to_owned()));
                    }
                    () = tick(&mut keep_alive), if keep_alive.is_some() && self.caller.is_some() => {
                        if !heard {
                            break None;
                        }
                        heard = false;
                        if legacy
                            && send(&mut socket, KEEP_ALIVE.to_owned()).await.is_err()
                        {
                            break None;
                        }
                        if socket.send(Message::Ping(Default::default())).await.is_err() {
                            break None;
                        }
                    }
                    Some((_, message)) = self.running.next(), if operations => {
                        if send(&mut socket, message).await.is_err() {
                            break None;
                        }
                    }
                    message = socket.recv() => {
                        heard = true;
                        let text = match message {
                            Some(Ok(Message::Text(text))) => text,
                            Some(Ok(Message::Binary(_))) => {
                                break Some(Closing(4400, "Binary messages are not supported".to_owned()));
                            }
                            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                            Some(Ok(Message::Close(_))) => {
                                // The library queued the answering Close frame (RFC 6455
                                // §5.5.1); it leaves only when the socket is flushed.
                                let _ = futures_util::SinkExt::flush(&mut socket).await;
                                break None;
                            }
                            Some(Err(_)) | None => break None,
                        };
                        let initialised = self.caller.is_some();
                        // Boxed: handling a message awaits token checks, persisted documents and
                        // rate limits, whose futures are large; inline, every idle connection's
                        // task would hold room for them.
                        match Box::pin(self.handle(text.as_str())).await {
                            Ok(Some(reply)) => {
                                if send(&mut socket, reply).await.is_err() {
                                    break None;
                                }
                            }
                            Ok(None) => {}
                            Err(closing) => break Some(closing),
                        }
                        // The legacy protocol's clients start their keep-alive clock on a `ka`.
                        if legacy
                            && !initialised
                            && self.caller.is_some()
                            && send(&mut socket, KEEP_ALIVE.to_owned()).await.is_err()
                        {
                            break None;
                        }
                    }
                }
            };
            if let Some(Closing(code, reason)) = closing {
                if legacy && code != 1000 {
                    let error =
                        json!({ "type": "connection_error", "payload": { "message": reason } });
                    let _ = send(&mut socket, error.to_string()).await;
                }
                let frame = CloseFrame {
                    code,
                    reason: Utf8Bytes::from(close_reason(reason)),
                };
                let _ = socket.send(Message::Close(Some(frame))).await;
            }
        }
    }

    /// Acts on one client message; answers with the reply to send, if any, or the
    /// reason to close.
    async fn handle(&mut self, text: &str) -> Result<Option<String>, Closing> {
        let message: Incoming = serde_json::from_str(text)
            .map_err(|error| Closing(4400, format!("Invalid message received: {error}")))?;
        // The legacy protocol's names for the same things.
        let kind = match (self.protocol, message.kind.as_str()) {
            (Protocol::Legacy, "start") => "subscribe",
            (Protocol::Legacy, "stop") => "complete",
            (Protocol::Legacy, "connection_terminate") => {
                return Err(Closing(1000, "Terminated".to_owned()));
            }
            (Protocol::Legacy, "ping" | "pong" | "subscribe" | "complete") => "unknown",
            (_, kind) => kind,
        };
        match kind {
            "connection_init" => {
                if self.caller.is_some() {
                    return Err(Closing(4429, "Too many initialisation requests".to_owned()));
                }
                let caller = self
                    .state
                    .auth
                    .from_init_payload(&message.payload, self.authorization.as_deref())
                    .await
                    .map_err(|error| Closing(4403, format!("Forbidden: {error}")))?;
                self.caller = Some(caller);
                return Ok(Some(json!({ "type": "connection_ack" }).to_string()));
            }
            "ping" => return Ok(Some(json!({ "type": "pong" }).to_string())),
            "pong" => {}
            "subscribe" => {
                let Some(caller) = self.caller.clone() else {
                    return Err(Closing(4401, "Unauthorized".to_owned()));
                };
                let id = message.id.filter(|id| !id.is_empty()).ok_or_else(|| {
                    Closing(
                        4400,
                        "Invalid message received: subscribe without id".to_owned(),
                    )
                })?;
                let mut operation: Operation = serde_json::from_value(message.payload)
                    .map_err(|error| Closing(4400, format!("Invalid message received: {error}")))?;
                // The document a persisted id names, or its refusal as this operation's error.
                let persisted = self.state.persisted.resolve(
                    Some(operation.query.as_str()),
                    operation.document_id.as_deref(),
                    operation.extensions.as_ref(),
                );
                match persisted.await {
                    Ok(Some(document)) => operation.query = document,
                    Ok(None) => {}
                    Err(refusal) => {
                        let id = serde_json::to_string(&id).unwrap_or_default();
                        let payload = errors(refusal.code, &refusal.message).to_string();
                        return Ok(Some(framed(&id, "error", Some(&payload))));
                    }
                }
                if self.running.contains_key(&id) {
                    return Err(Closing(4409, format!("Subscriber for {id} already exists")));
                }
                let limit = self.state.limits.ws_max_operations;
                if self.running.len() >= limit {
                    let id = serde_json::to_string(&id).unwrap_or_default();
                    let message = format!(
                        "this connection already runs {limit} operations; complete one first"
                    );
                    let payload = errors(ErrorCode::BadRequest, &message).to_string();
                    return Ok(Some(framed(&id, "error", Some(&payload))));
                }
                if let Some(limiter) = &self.state.limiter
                    && let Err(wait) = limiter.admit(&caller.subject).await
                {
                    let id = serde_json::to_string(&id).unwrap_or_default();
                    let message = format!(
                        "too many requests; try again in {} ms",
                        wait.as_millis().max(1)
                    );
                    let payload = errors(ErrorCode::RateLimited, &message).to_string();
                    return Ok(Some(framed(&id, "error", Some(&payload))));
                }
                let messages = self.execute(caller, id.clone(), operation);
                self.running.insert(id, messages);
            }
            "complete" => {
                if let Some(id) = message.id {
                    self.running.remove(&id);
                }
            }
            _ => {
                return Err(Closing(
                    4400,
                    format!("Invalid message received: unknown type `{}`", message.kind),
                ));
            }
        }
        Ok(None)
    }

    /// One operation's messages: each result as `next` (`data` in the legacy protocol),
    /// then `complete`; or, when it fails before producing a result, one `error`.
    /// Subscriptions alike share one execution (see [`super::sharing`]).
    fn execute(&self, caller: Actor, id: String, operation: Operation) -> Messages {
        let document = self.state.schema.documents().parse(&operation.query).ok();
        let selected = document.as_deref().and_then(|document| {
            super::graphql::operation(document, operation.operation_name.as_deref())
                .ok()
                .map(|(selected, _)| (document, selected))
        });
        let operation_type = selected.map(|(_, selected)| selected.ty);
        let subscription = operation_type == Some(OperationType::Subscription);
        let plan = selected
            .filter(|_| subscription)
            .and_then(|(document, selected)| {
                sharing::plan(&caller, document, selected, operation.variables.as_ref())
            });
        let start = |resume: Option<Resume>, cursors: Option<YieldedCursors>| {
            let mut request = super::graphql::prepare_for(
                &self.state,
                // A document that does not parse fails before it reads: the primary.
                &super::graphql::store_for(
                    &self.state,
                    operation_type.unwrap_or(OperationType::Mutation),
                ),
                caller.clone(),
                self.request_id.clone(),
                operation.query.clone(),
                operation.variables.clone(),
                operation.operation_name.clone(),
            );
            if let Some(resume) = resume {
                request = request.data(resume);
            }
            if let Some(cursors) = cursors {
                request = request.data(cursors);
            }
            request
        };
        let reader = match plan {
            Some(plan) => self.state.feeds.follow(
                plan.key,
                plan.from,
                self.state.signals.position(),
                &|resume, cursors| {
                    self.state
                        .schema
                        .execute_stream(start(resume, cursors))
                        .boxed()
                },
            ),
            None if subscription => {
                Feeds::unshared(self.state.schema.execute_stream(start(None, None)).boxed())
            }
            None => {
                // Queries and mutations get the time limit they get over HTTP.
                let state = self.state.clone();
                let request = start(None, None);
                Feeds::unshared(
                    futures_util::stream::once(async move {
                        super::graphql::execute_within_limit(&state, request).await
                    })
                    .boxed(),
                )
            }
        };
        let id = serde_json::to_string(&id).unwrap_or_default();
        let next = self.protocol.result();
        // Counted open while the operation's stream lives.
        let open = crate::metrics::Open::new(if subscription {
            "gateway_subscriptions_open"
        } else {
            "gateway_websocket_operations_open"
        });
        reader
            .into_stream()
            .map(move |read| {
                let _counted = &open;
                match read {
                    Read::Output(Output::Next(payload)) => framed(&id, next, Some(&payload)),
                    Read::Output(Output::Failed(errors)) => {
                        framed(&id, "error", Some(&named(&errors)))
                    }
                    Read::Output(Output::Complete) => framed(&id, "complete", None),
                    Read::Lagged => framed(&id, "error", Some(&lagged())),
                }
            })
            .boxed()
    }
}

/// A protocol message for the operation whose JSON-encoded id is `id`, around a payload
/// already serialized.
fn framed(id: &str, kind: &str, payload: Option<&str>) -> String {
    match payload {
        Some(payload) => format!(r#"{{"id":{id},"type":"{kind}","payload":{payload}}}"#),
        None => format!(r#"{{"id":{id},"type":"{kind}"}}"#),
    }
}

/// The error ending a subscription that fell too far behind.
fn lagged() -> String {
    let message = format!(
        "this subscriber fell more than {BACKLOG} results behind and was ended; \
         resubscribe with the last cursor received to continue without loss"
    );
    errors(ErrorCode::SubscriberLagged, &message).to_string()
}

async fn send(socket: &mut WebSocket, text: String) -> Result<(), axum::Error> {
    socket.send(Message::Text(Utf8Bytes::from(text))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn future_of<A, B, F: Future>(_: fn(A, B) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    fn future_of_5<A, B, C, D, E, F: Future>(_: fn(A, B, C, D, E) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// An idle connection is mostly its task: the session and its socket, once each, and
    /// what one round of its loop waits on. Taken by an `async fn`, or moved into an
    /// `async` block around it, they were held twice (2,032 and 2,576 bytes in a debug
    /// build, against 1,272 and 1,344 now): a kibibyte more per idle subscriber.
    #[test]
    fn a_connection_task_holds_its_session_and_socket_once() {
        let held = std::mem::size_of::<Session>() + std::mem::size_of::<WebSocket>();
        let run = future_of(Session::run);
        assert!(
            run < held + 768,
            "a session's loop takes {run} bytes for {held} of session and socket"
        );
        let connection = future_of_5(connection);
        assert!(
            connection < run + 128,
            "a connection's task takes {connection} bytes around its session's {run}"
        );
    }
}
