//! Carrying timeline entries to every replica's subscribers: this replica's signal hub
//! (reading new entries from PostgreSQL when poked, and every second regardless), the
//! outbox relay (ringing a Redis doorbell for every replica once entries are committed),
//! and the doorbell listener (poking this replica's hub). Redis only says "look now":
//! with Redis down, hubs still find every entry on their next period — late, never lost.
//! Without Redis configured, the gateway is a single node and the relay just empties the
//! outbox.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use schema::Store;
use schema::workflow::SignalHub;
use tokio::task::JoinHandle;

/// How often a hub looks for entries it was not poked about.
const HUB_PERIOD: Duration = Duration::from_secs(1);
/// How often the relay looks at the outbox.
const RELAY_PERIOD: Duration = Duration::from_millis(100);
/// Outbox rows published per round.
const RELAY_BATCH: i64 = 1_000;

pub struct SignalJobs {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for SignalJobs {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl SignalJobs {
    pub fn start(
        hub: Arc<SignalHub>,
        store: Store,
        redis: Option<(redis::Client, String)>,
    ) -> Self {
        let mut tasks = vec![tokio::spawn(hub.clone().run(HUB_PERIOD))];
        match redis {
            Some((client, channel)) => {
                tasks.push(tokio::spawn(relay(
                    store,
                    Some((client.clone(), channel.clone())),
                )));
                tasks.push(tokio::spawn(doorbell(hub, client, channel)));
            }
            None => tasks.push(tokio::spawn(relay(store, None))),
        }
        Self { tasks }
    }
}

async fn relay(store: Store, redis: Option<(redis::Client, String)>) {
    let mut connection = None;
    loop {
        tokio::time::sleep(RELAY_PERIOD).await;
        loop {
            let published = match &redis {
                None => {
                    store
                        .publish_outbox(RELAY_BATCH, |_| async { Ok::<(), redis::RedisError>(()) })
                        .await
                }
                Some((client, channel)) => {
                    if connection.is_none() {
                        connection = client.get_multiplexed_async_connection().await.ok();
                    }
                    let Some(link) = connection.clone() else {
                        break;
                    };
                    store
                        .publish_outbox(RELAY_BATCH, |newest| async move {
                            let mut link = link;
                            redis::cmd("PUBLISH")
                                .arg(channel)
                                .arg(newest)
                                .query_async::<i64>(&mut link)
                                .await
                                .map(|_| ())
                        })
                        .await
                }
            };
            match published {
                Ok(count) if (count as i64) < RELAY_BATCH => break,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "outbox relay failed; entries stay in the outbox");
                    connection = None;
                    break;
                }
            }
        }
    }
}

async fn doorbell(hub: Arc<SignalHub>, client: redis::Client, channel: String) {
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => {
                if pubsub.subscribe(&channel).await.is_ok() {
                    // Whatever was committed while not listening is found now.
                    hub.poke();
                    let mut messages = pubsub.on_message();
                    while messages.next().await.is_some() {
                        hub.poke();
                    }
                }
                tracing::warn!("lost the Redis doorbell; reconnecting");
            }
            Err(error) => tracing::warn!(%error, "Redis doorbell unreachable; retrying"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
