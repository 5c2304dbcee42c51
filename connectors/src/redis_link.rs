//! A Redis connection made when first needed and kept (it reconnects by itself once
//! made). While Redis cannot be reached, callers get `None` at once, and a new attempt
//! is made only every [`RECONNECT_AFTER`]: a Redis that is down costs requests nothing.
//! The department cache and the gateway's rate limits share this behaviour.

use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::sync::Mutex;

/// Redis answers within this, or the call is given up.
pub const REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// After a failed attempt to connect, this long passes before the next.
pub const RECONNECT_AFTER: Duration = Duration::from_secs(5);

pub struct RedisLink {
    client: redis::Client,
    /// What the connection serves, for the log.
    purpose: &'static str,
    connection: Mutex<Connection>,
}

#[derive(Default)]
enum Connection {
    #[default]
    None,
    Failed(tokio::time::Instant),
    Ready(ConnectionManager),
}

impl RedisLink {
    pub fn new(client: redis::Client, purpose: &'static str) -> Self {
        Self {
            client,
            purpose,
            connection: Mutex::new(Connection::None),
        }
    }

    /// The connection, or `None` while Redis cannot be reached.
    pub async fn connection(&self) -> Option<ConnectionManager> {
        let mut slot = self.connection.lock().await;
        match &*slot {
            Connection::Ready(manager) => return Some(manager.clone()),
            Connection::Failed(at) if at.elapsed() < RECONNECT_AFTER => return None,
            Connection::Failed(_) | Connection::None => {}
        }
        let connect = ConnectionManager::new(self.client.clone());
        match tokio::time::timeout(REDIS_TIMEOUT * 4, connect).await {
            Ok(Ok(manager)) => {
                *slot = Connection::Ready(manager.clone());
                return Some(manager);
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, purpose = self.purpose, "Redis unreachable");
            }
            Err(_) => tracing::warn!(purpose = self.purpose, "Redis did not answer"),
        }
        *slot = Connection::Failed(tokio::time::Instant::now());
        None
    }
}
