//! GraphQL over WebSocket. The `graphql-transport-ws` protocol (the `graphql-ws` npm
//! client), to the letter: `connection_init` within the configured time or close 4408,
//! one init only (4429), nothing before the ack (4401), unique ids (4409), anything
//! malformed closes with 4400; `ping`/`pong`; an operation that fails before producing a
//! result gets an `error` message, not `next`. Also the legacy `subscriptions-transport-ws`
//! protocol (subprotocol `graphql-ws`: `start`/`stop`, `data`, keep-alive `ka`), for older
//! clients. Idle connections read into a small buffer so that thousands of them cost
//! little memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::AppState;
use crate::scope::scope_for;

pub const PROTOCOL: &str = "graphql-transport-ws";
/// The subprotocol name of the legacy `subscriptions-transport-ws` protocol.
pub const LEGACY_PROTOCOL: &str = "graphql-ws";
/// How often the legacy protocol's keep-alive (`ka`) is sent.
const LEGACY_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

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

/// Read buffer per connection: the default 128 KiB, zero-filled on first read, would
/// make every idle subscriber cost that much.
const READ_BUFFER: usize = 4 * 1024;
/// Messages queued for one connection before the slowest sender waits.
const OUTGOING: usize = 1_024;

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
    let scope = scope_for(&headers);
    ws.protocols([PROTOCOL, LEGACY_PROTOCOL])
        .read_buffer_size(READ_BUFFER)
        .max_message_size(state.limits.max_body_bytes)
        .on_upgrade(move |socket| async move {
            if let Some(protocol) = protocol {
                Session::new(state, scope, protocol).run(socket).await;
            } else {
                close(
                    socket,
                    4406,
                    "Subprotocol not acceptable: use graphql-transport-ws",
                )
                .await;
            }
        })
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
    query: String,
    #[serde(default)]
    variables: Option<Value>,
    operation_name: Option<String>,
}

/// Why a connection ends: a close code and reason of the protocol.
struct Closing(u16, String);

struct Session {
    state: AppState,
    scope: connectors::Scope,
    protocol: Protocol,
    acknowledged: bool,
    /// Operations running, by id; each removes itself when it completes.
    running: Arc<Mutex<HashMap<String, AbortHandle>>>,
}

impl Session {
    fn new(state: AppState, scope: connectors::Scope, protocol: Protocol) -> Self {
        Self {
            state,
            scope,
            protocol,
            acknowledged: false,
            running: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    async fn run(mut self, socket: WebSocket) {
        let (mut sink, mut incoming) = socket.split();
        let (outgoing, mut queue) = mpsc::channel::<Message>(OUTGOING);
        let writer = tokio::spawn(async move {
            while let Some(message) = queue.recv().await {
                let closing = matches!(message, Message::Close(_));
                if sink.send(message).await.is_err() || closing {
                    break;
                }
            }
        });
        let init_timeout = tokio::time::sleep(self.state.limits.ws_init_timeout());
        tokio::pin!(init_timeout);
        let mut keep_alive = tokio::time::interval(LEGACY_KEEP_ALIVE);
        let legacy = self.protocol == Protocol::Legacy;
        let closing = loop {
            let message = tokio::select! {
                () = &mut init_timeout, if !self.acknowledged => {
                    break Some(Closing(4408, "Connection initialisation timeout".to_owned()));
                }
                _ = keep_alive.tick(), if legacy && self.acknowledged => {
                    send(&outgoing, json!({ "type": "ka" })).await;
                    continue;
                }
                message = incoming.next() => message,
            };
            let text = match message {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Binary(_))) => {
                    break Some(Closing(
                        4400,
                        "Binary messages are not supported".to_owned(),
                    ));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break None,
            };
            if let Err(closing) = self.handle(text.as_str(), &outgoing).await {
                break Some(closing);
            }
        };
        for (_, task) in self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
        {
            task.abort();
        }
        if let Some(Closing(code, reason)) = closing {
            if legacy && code != 1000 {
                let error = json!({ "type": "connection_error", "payload": { "message": reason } });
                send(&outgoing, error).await;
            }
            let frame = CloseFrame {
                code,
                reason: Utf8Bytes::from(reason),
            };
            let _ = outgoing.send(Message::Close(Some(frame))).await;
        }
        drop(outgoing);
        let _ = writer.await;
    }

    async fn handle(
        &mut self,
        text: &str,
        outgoing: &mpsc::Sender<Message>,
    ) -> Result<(), Closing> {
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
                if self.acknowledged {
                    return Err(Closing(4429, "Too many initialisation requests".to_owned()));
                }
                self.acknowledged = true;
                send(outgoing, json!({ "type": "connection_ack" })).await;
            }
            "ping" => send(outgoing, json!({ "type": "pong" })).await,
            "pong" => {}
            "subscribe" => {
                if !self.acknowledged {
                    return Err(Closing(4401, "Unauthorized".to_owned()));
                }
                let id = message.id.filter(|id| !id.is_empty()).ok_or_else(|| {
                    Closing(
                        4400,
                        "Invalid message received: subscribe without id".to_owned(),
                    )
                })?;
                let operation: Operation = serde_json::from_value(message.payload)
                    .map_err(|error| Closing(4400, format!("Invalid message received: {error}")))?;
                let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
                if running.contains_key(&id) {
                    return Err(Closing(4409, format!("Subscriber for {id} already exists")));
                }
                let task = tokio::spawn(execute(
                    self.state.clone(),
                    self.scope.clone(),
                    self.protocol,
                    id.clone(),
                    operation,
                    outgoing.clone(),
                    self.running.clone(),
                ));
                running.insert(id, task.abort_handle());
            }
            "complete" => {
                if let Some(id) = message.id
                    && let Some(task) = self
                        .running
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&id)
                {
                    task.abort();
                }
            }
            _ => {
                return Err(Closing(
                    4400,
                    format!("Invalid message received: unknown type `{}`", message.kind),
                ));
            }
        }
        Ok(())
    }
}

async fn send(outgoing: &mpsc::Sender<Message>, message: Value) {
    let _ = outgoing
        .send(Message::Text(Utf8Bytes::from(message.to_string())))
        .await;
}

/// Runs one operation, sending its results as `next` (or its failure as `error`), then
/// `complete`.
async fn execute(
    state: AppState,
    scope: connectors::Scope,
    protocol: Protocol,
    id: String,
    operation: Operation,
    outgoing: mpsc::Sender<Message>,
    running: Arc<Mutex<HashMap<String, AbortHandle>>>,
) {
    let request = super::graphql::prepare_for(
        &state,
        scope,
        operation.query,
        operation.variables,
        operation.operation_name,
    );
    let mut responses = state.schema.execute_stream(request);
    let mut first = true;
    let mut failed = false;
    while let Some(response) = responses.next().await {
        if first && response.data == async_graphql::Value::Null && !response.errors.is_empty() {
            let errors = serde_json::to_value(&response.errors).unwrap_or(Value::Null);
            send(
                &outgoing,
                json!({ "id": id, "type": "error", "payload": errors }),
            )
            .await;
            failed = true;
            break;
        }
        first = false;
        let payload = serde_json::to_value(&response).unwrap_or(Value::Null);
        send(
            &outgoing,
            json!({ "id": id, "type": protocol.result(), "payload": payload }),
        )
        .await;
    }
    running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&id);
    if !failed {
        send(&outgoing, json!({ "id": id, "type": "complete" })).await;
    }
}
