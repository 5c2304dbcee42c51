//! A PostgreSQL wire proxy in front of the `sql` departments' databases, so that their
//! faults (latency, down, hang, errors) can be injected like those of `rest` departments,
//! and their statements counted. It reads the startup message to learn which database,
//! hence which department, a connection is for; everything else passes through untouched.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::faults::Effect;
use super::server::Shared;

const SSL_REQUEST: u32 = 80_877_103;
const GSS_REQUEST: u32 = 80_877_104;
/// Startup messages are small; anything larger is not a PostgreSQL client.
const MAX_STARTUP: usize = 10_000;

/// Listens on a free port and forwards to `upstream`; `databases` maps database names
/// to department codes.
pub async fn start(
    upstream: SocketAddr,
    databases: HashMap<String, String>,
    shared: Arc<Shared>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let databases = Arc::new(databases);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (databases, shared) = (databases.clone(), shared.clone());
            tokio::spawn(async move {
                if let Err(error) = relay(client, upstream, &databases, &shared).await {
                    tracing::debug!(%error, "database proxy connection ended");
                }
            });
        }
    });
    Ok(address)
}

async fn read_message(client: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let length = client.read_u32().await? as usize;
    if !(8..=MAX_STARTUP).contains(&length) {
        return Err(std::io::Error::other("not a PostgreSQL startup message"));
    }
    let mut body = vec![0; length - 4];
    client.read_exact(&mut body).await?;
    Ok(body)
}

/// The `database` parameter of a startup message (defaulting to the user, as PostgreSQL does).
fn database_of(startup: &[u8]) -> Option<String> {
    let pairs: Vec<&[u8]> = startup.get(4..)?.split(|b| *b == 0).collect();
    let value = |key: &[u8]| {
        pairs
            .chunks(2)
            .find(|pair| pair.first() == Some(&key))
            .and_then(|pair| pair.get(1))
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    value(b"database").or_else(|| value(b"user"))
}

async fn relay(
    mut client: TcpStream,
    upstream: SocketAddr,
    databases: &HashMap<String, String>,
    shared: &Shared,
) -> std::io::Result<()> {
    let startup = loop {
        let body = read_message(&mut client).await?;
        let code = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
        if code == SSL_REQUEST || code == GSS_REQUEST {
            // No encryption on the simulator's loopback: the client goes on in plain text.
            client.write_all(b"N").await?;
            continue;
        }
        break body;
    };
    let department = database_of(&startup)
        .and_then(|name| databases.get(&name).cloned())
        .unwrap_or_default();
    let fault = shared.fault(&department);
    if fault.down {
        return Ok(());
    }
    let mut server = TcpStream::connect(upstream).await?;
    server.write_u32(startup.len() as u32 + 4).await?;
    server.write_all(&startup).await?;
    let (mut server_read, mut server_write) = server.into_split();
    let (mut client_read, mut client_write) = client.into_split();
    let to_client = tokio::io::copy(&mut server_read, &mut client_write);
    let to_server = async {
        let mut messages = MessageCounter::default();
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            let read = client_read.read(&mut buffer).await?;
            if read == 0 {
                return Ok::<(), std::io::Error>(());
            }
            let (statements, round_trips) = messages.feed(&buffer[..read]);
            if round_trips > 0 {
                shared.count(&department, statements);
                let fault = shared.fault(&department);
                let delay = fault.delay();
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                match fault.effect() {
                    Effect::Answer => {}
                    Effect::Hang => std::future::pending::<()>().await,
                    // The connection breaks mid-query, as a failing server's would.
                    Effect::Fail(_) => return Ok(()),
                }
            }
            server_write.write_all(&buffer[..read]).await?;
        }
    };
    tokio::select! {
        result = to_client => result.map(|_| ()),
        result = to_server => result,
    }
}

/// Follows the client's message stream (type byte, length, body) across reads, counting
/// statements (Execute, simple Query) and round trips (Sync, simple Query).
#[derive(Default)]
struct MessageCounter {
    /// Bytes of the current message still to skip.
    remaining: usize,
    /// A header split across reads.
    header: Vec<u8>,
}

impl MessageCounter {
    fn feed(&mut self, mut bytes: &[u8]) -> (usize, usize) {
        let (mut statements, mut round_trips) = (0, 0);
        while !bytes.is_empty() {
            if self.remaining > 0 {
                let skip = self.remaining.min(bytes.len());
                self.remaining -= skip;
                bytes = &bytes[skip..];
                continue;
            }
            let need = 5 - self.header.len();
            let take = need.min(bytes.len());
            self.header.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.header.len() < 5 {
                break;
            }
            let kind = self.header[0];
            let length = u32::from_be_bytes([
                self.header[1],
                self.header[2],
                self.header[3],
                self.header[4],
            ]);
            self.header.clear();
            self.remaining = (length as usize).saturating_sub(4);
            match kind {
                b'E' => statements += 1,
                b'Q' => {
                    statements += 1;
                    round_trips += 1;
                }
                b'S' => round_trips += 1,
                _ => {}
            }
        }
        (statements, round_trips)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut bytes = vec![kind];
        bytes.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        bytes.extend_from_slice(body);
        bytes
    }

    #[test]
    fn statements_and_round_trips_are_counted_across_split_reads() {
        let mut stream = Vec::new();
        for (kind, body) in [
            (b'P', &b"select"[..]),
            (b'B', b""),
            (b'E', b"\0\0\0\0\0"),
            (b'S', b""),
        ] {
            stream.extend(message(kind, body));
        }
        stream.extend(message(b'Q', b"SELECT 1\0"));
        let mut counter = MessageCounter::default();
        let (first, rest) = stream.split_at(9);
        let a = counter.feed(first);
        let b = counter.feed(rest);
        assert_eq!((a.0 + b.0, a.1 + b.1), (2, 2));
    }

    #[test]
    fn the_database_is_read_from_the_startup_message() {
        let mut startup = 196_608u32.to_be_bytes().to_vec();
        startup.extend_from_slice(b"user\0postgres\0database\0dept_220422_zj\0\0");
        assert_eq!(database_of(&startup).as_deref(), Some("dept_220422_zj"));
    }
}
