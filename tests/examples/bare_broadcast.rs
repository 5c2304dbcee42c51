//! The floor the subscription benchmark is measured against: a bare axum WebSocket
//! broadcast, no GraphQL. It answers the load client (`subscribers`) the way the gateway
//! does — `connection_ack`, then one `next` per whistle to every connection — so both
//! run on the same machine with the same client and show what the gateway itself adds.
//!
//!   bare_broadcast 127.0.0.1:18200
//!
//! POST /graphql: a mutation naming `blowWhistle` broadcasts a signal; any other answers
//! a stand-in of the shape the client reads. Run by `bench/subscriptions.sh`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::broadcast;

#[derive(Clone)]
struct Bare {
    signals: broadcast::Sender<Arc<str>>,
    cursor: Arc<AtomicU64>,
}

#[tokio::main]
async fn main() {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18200".to_owned());
    let bare = Bare {
        signals: broadcast::channel(1_024).0,
        cursor: Arc::new(AtomicU64::new(0)),
    };
    let app = Router::new()
        .route("/graphql", get(upgrade).post(mutation))
        .route("/readyz", get(|| async { "ready" }))
        .with_state(bare);
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .expect("the address is free");
    axum::serve(listener, app).await.expect("serves");
}

async fn upgrade(State(bare): State<Bare>, ws: WebSocketUpgrade) -> Response {
    ws.protocols(["graphql-transport-ws"])
        .read_buffer_size(4 * 1024)
        .on_upgrade(move |socket| connection(socket, bare))
}

async fn connection(mut socket: WebSocket, bare: Bare) {
    let mut signals = bare.signals.subscribe();
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) if text.contains("connection_init") => {
                    let ack = json!({ "type": "connection_ack" }).to_string();
                    if socket.send(Message::Text(ack.into())).await.is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                _ => return,
            },
            signal = signals.recv() => match signal {
                Ok(signal) => {
                    if socket.send(Message::Text(signal.as_ref().into())).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}

async fn mutation(State(bare): State<Bare>, body: String) -> impl IntoResponse {
    let data = if body.contains("blowWhistle") {
        let cursor = bare.cursor.fetch_add(1, Ordering::Relaxed) + 1;
        let signal = json!({ "id": "1", "type": "next", "payload": { "data": {
            "dispatchSignals": { "cursor": cursor.to_string(), "kind": "WHISTLE" } } } });
        let _ = bare.signals.send(signal.to_string().into());
        json!({ "blowWhistle": { "entries": [{ "cursor": cursor.to_string() }] } })
    } else if body.contains("reportEvent") {
        json!({ "reportEvent": { "event": { "id": "RXZlbnQ6MQ" } } })
    } else {
        json!({ "acceptEvent": { "replayed": false } })
    };
    axum::Json(json!({ "data": data }) as Value)
}
