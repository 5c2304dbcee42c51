//! Connections end cleanly: a client's Close frame is answered, and at shutdown every
//! WebSocket is told 1001 and every SSE stream ends, so the process exits promptly.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::helpers::{TestGateway, seeded_database, test_config};
use crate::subscriptions::{connect, init, initialised, receive, subscribe};

#[tokio::test]
async fn a_clients_close_frame_is_answered_on_both_subprotocols() {
    let gateway = TestGateway::spawn().await;
    for legacy in [false, true] {
        let mut socket = if legacy {
            crate::subscriptions::connect_legacy(&gateway).await
        } else {
            connect(&gateway).await
        };
        let answer = init(&mut socket, json!({})).await;
        assert_eq!(answer["type"], "connection_ack", "{answer}");
        socket
            .send(Message::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "bye".into(),
            })))
            .await
            .expect("the close frame goes out");
        // Past keep-alives, the next frame is the server's own Close, not a dropped line.
        let answered = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(frame) = socket.next().await {
                match frame {
                    Ok(Message::Close(frame)) => return Ok(frame),
                    Ok(_) => continue,
                    Err(error) => return Err(error.to_string()),
                }
            }
            Err("the connection ended without a Close frame".to_owned())
        })
        .await
        .expect("an answer in time");
        assert!(
            matches!(answered, Ok(Some(ref frame)) if frame.code == CloseCode::Normal),
            "legacy {legacy}: {answered:?}"
        );
    }
}

#[tokio::test]
async fn at_shutdown_websockets_are_told_1001_sse_streams_end_and_the_process_exits() {
    let database = seeded_database().await;
    let mut config = test_config(&database);
    config.limits.shutdown_grace_s = 5;
    let mut gateway = TestGateway::spawn_with(config, database).await;

    let mut socket = initialised(&gateway).await;
    subscribe(&mut socket, "board", "departmentCode: \"220422-GA\"").await;
    let mut sse = gateway
        .client
        .post(gateway.url("/graphql"))
        .header("accept", "text/event-stream")
        .json(&json!({ "query": "subscription { dispatchSignals(departmentCode: \"220422-GA\") { cursor } }" }))
        .send()
        .await
        .expect("the stream starts");
    // Both are open and idle when the signal comes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let server = gateway.begin_shutdown().expect("the server is running");

    let closed = receive(&mut socket).await;
    assert_eq!(closed["closed"][0], 1001, "{closed}");
    let mut text = String::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), sse.chunk())
        .await
        .expect("the stream ends in time")
        .expect("readable")
    {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.contains("event: complete"), "{text}");
    let served = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops in time");
    assert!(matches!(served, Ok(Ok(()))), "{served:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "told, the clients let it go before the grace time: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_raw_close_frame_gets_a_close_frame_back() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let gateway = TestGateway::spawn().await;
    let mut stream = tokio::net::TcpStream::connect(gateway.address)
        .await
        .expect("connect");
    stream
        .write_all(
            b"GET /graphql HTTP/1.1\r\nHost: gateway\r\nUpgrade: websocket\r\n\
              Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
              Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n",
        )
        .await
        .expect("the upgrade request goes out");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream
            .read_exact(&mut byte)
            .await
            .expect("the upgrade answer");
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    // A masked Close frame, code 1000: FIN | close, MASK | 2 bytes, the key, the payload.
    let key = [0x11, 0x22, 0x33, 0x44];
    let code = 1000u16.to_be_bytes();
    let frame = [
        0x88,
        0x82,
        key[0],
        key[1],
        key[2],
        key[3],
        code[0] ^ key[0],
        code[1] ^ key[1],
    ];
    stream
        .write_all(&frame)
        .await
        .expect("the close frame goes out");
    let mut answer = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut answer))
        .await
        .expect("an answer in time")
        .expect("a Close frame, not a dropped connection");
    // FIN | close, unmasked, 2 bytes: the code echoed.
    assert_eq!(answer, [0x88, 0x02, code[0], code[1]]);
}
