//! Load on the subscriptions: N WebSocket subscribers (graphql-transport-ws) spread over
//! one or more gateway replicas, each following one department's dispatch signals; a
//! whistle is blown K times through the first replica and every subscriber's receipt is
//! timed from the moment the mutation was sent. Also: resident memory of the gateway
//! processes per idle subscription, and the sustained rate of workflow mutations.
//!
//!   subscribers --gateways http://127.0.0.1:18100,http://127.0.0.1:18101 \
//!               --subscribers 10000 --whistles 10 --pids 123,456
//!
//! Run by `bench/subscriptions.sh`, which starts the gateways.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, http::HeaderValue};

const DEPARTMENT: &str = "220422-XJ";

/// The selections distinct boards choose among.
const SHAPES: [&str; 4] = [
    "cursor kind",
    "cursor kind at stateAfter",
    "cursor kind event { id } department { code }",
    "cursor kind at detail",
];

/// Whistles blown before the boards subscribe; a distinct board resumes after one of
/// them and first receives the ones after it again.
const EARLIER: usize = 4;

struct Options {
    gateways: Vec<String>,
    subscribers: usize,
    whistles: usize,
    pids: Vec<u32>,
    mutation_seconds: u64,
    /// Boards as they are in a city: each under an operation name of its own, resuming
    /// from its own cursor (one of the last few whistles), with one of a few selections.
    /// Without it every board sends the same document from the latest cursor.
    distinct: bool,
}

fn options() -> Options {
    let mut options = Options {
        gateways: vec!["http://127.0.0.1:18100".to_owned()],
        subscribers: 1_000,
        whistles: 10,
        pids: Vec::new(),
        mutation_seconds: 10,
        distinct: false,
    };
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "--distinct") {
        args.remove(at);
        options.distinct = true;
    }
    for pair in args.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--gateways" => options.gateways = value.split(',').map(str::to_owned).collect(),
            "--subscribers" => options.subscribers = value.parse().unwrap_or(options.subscribers),
            "--whistles" => options.whistles = value.parse().unwrap_or(options.whistles),
            "--pids" => options.pids = value.split(',').filter_map(|p| p.parse().ok()).collect(),
            "--mutation-seconds" => {
                options.mutation_seconds = value.parse().unwrap_or(options.mutation_seconds)
            }
            other => eprintln!("ignored argument {other}"),
        }
    }
    options
}

/// The bearer token the load acts with (`TOKEN`; the gateway refuses callers without
/// one unless its authentication is off).
fn token() -> Option<String> {
    std::env::var("TOKEN").ok().filter(|t| !t.is_empty())
}

async fn graphql(client: &reqwest::Client, gateway: &str, query: &str, variables: Value) -> Value {
    let mut request = client.post(format!("{gateway}/graphql"));
    if let Some(token) = token() {
        request = request.bearer_auth(token);
    }
    let body: Value = request
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("the gateway answers")
        .json()
        .await
        .expect("JSON");
    if body.get("errors").is_some() {
        panic!("{body}");
    }
    body["data"].clone()
}

/// A new accepted event of 东辽县; returns its id.
async fn event(client: &reqwest::Client, gateway: &str, key: &str) -> Value {
    let data = graphql(
        client,
        gateway,
        "mutation($key: String!) { reportEvent(input: { idempotencyKey: $key, description: \"压测事件\",
           category: SAFETY_HAZARD, gridCode: \"220422001001001\" }) { event { id } } }",
        json!({ "key": format!("{key}-report") }),
    )
    .await;
    let event = data["reportEvent"]["event"]["id"].clone();
    graphql(
        client,
        gateway,
        "mutation($key: String!, $event: ID!) { acceptEvent(idempotencyKey: $key, eventId: $event) { replayed } }",
        json!({ "key": format!("{key}-accept"), "event": event }),
    )
    .await;
    event
}

/// Blows a whistle summoning the department; returns the entry's cursor.
async fn whistle(client: &reqwest::Client, gateway: &str, event: &Value, key: &str) -> i64 {
    let data = graphql(
        client,
        gateway,
        "mutation($key: String!, $event: ID!, $department: String!) {
           blowWhistle(idempotencyKey: $key, eventId: $event, jurisdictionCode: \"220422\",
                       summons: [{ departmentCode: $department }]) { entries { cursor } } }",
        json!({ "key": key, "event": event, "department": DEPARTMENT }),
    )
    .await;
    data["blowWhistle"]["entries"][0]["cursor"]
        .as_str()
        .and_then(|c| c.parse().ok())
        .unwrap_or_default()
}

/// The cursor of a `next` message's entry (0 if it has none).
fn cursor(text: &str) -> i64 {
    let message: Value = serde_json::from_str(text).unwrap_or_default();
    message["payload"]["data"]["dispatchSignals"]["cursor"]
        .as_str()
        .and_then(|c| c.parse().ok())
        .unwrap_or_default()
}

fn rss_kib(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
        .filter_map(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .sum()
}

/// CPU time (user + system) the processes have used, in seconds.
fn cpu_seconds(pids: &[u32]) -> f64 {
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|stat| {
            // Fields after the command name, which is in parentheses.
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            let user: f64 = fields.get(11)?.parse().ok()?;
            let system: f64 = fields.get(12)?.parse().ok()?;
            Some((user + system) / 100.0)
        })
        .sum()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let options = options();
    let client = reqwest::Client::new();
    let first = options.gateways[0].clone();
    let run = std::process::id();
    let mut earlier = Vec::with_capacity(EARLIER);
    for k in 0..EARLIER {
        let event = event(&client, &first, &format!("load-{run}-e{k}")).await;
        earlier.push(whistle(&client, &first, &event, &format!("load-{run}-e{k}")).await);
    }
    let earlier = Arc::new(earlier);

    let before = rss_kib(&options.pids);
    // Each subscriber notes its receipts itself and hands them over once it has all of
    // them; the count tells the main task when a whistle has reached everyone. (A channel
    // to the main task per receipt cost this client more CPU than the gateway spent.)
    let received = Arc::new(AtomicUsize::new(0));
    // Boards whose replay of the earlier whistles is complete, and those whose replay
    // was not exactly the whistles after their cursor.
    let (resumed, wrong) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (receipts, mut collected) = mpsc::unbounded_channel::<(usize, Vec<Instant>)>();
    let ready = Arc::new(tokio::sync::Semaphore::new(0));
    let started = Instant::now();
    for n in 0..options.subscribers {
        let gateway = options.gateways[n % options.gateways.len()].replace("http://", "ws://");
        let (received, receipts, ready) = (received.clone(), receipts.clone(), ready.clone());
        let (resumed, wrong) = (resumed.clone(), wrong.clone());
        let whistles = options.whistles;
        // A distinct board resumes after one of the earlier whistles (all combinations of
        // cursor and selection occur), an identical one after the latest.
        let (name, shape, from) = if options.distinct {
            (
                format!("Board{n}"),
                SHAPES[n % SHAPES.len()],
                (n / SHAPES.len()) % EARLIER,
            )
        } else {
            ("Board".to_owned(), SHAPES[0], EARLIER - 1)
        };
        let after = earlier[from];
        let replay: Vec<i64> = earlier[from + 1..].to_vec();
        tokio::spawn(async move {
            let mut request = format!("{gateway}/graphql")
                .into_client_request()
                .expect("a request");
            request.headers_mut().insert(
                "sec-websocket-protocol",
                HeaderValue::from_static("graphql-transport-ws"),
            );
            // A small read buffer, as the gateway has: tungstenite's default 128 KiB per
            // connection would make this client, not the gateway, what is measured.
            let config = WebSocketConfig::default().read_buffer_size(4 * 1024);
            let Ok((mut socket, _)) =
                tokio_tungstenite::connect_async_with_config(request, Some(config), false).await
            else {
                eprintln!("subscriber {n} could not connect");
                return;
            };
            let payload = token()
                .map(|token| json!({ "Authorization": format!("Bearer {token}") }))
                .unwrap_or_else(|| json!({}));
            let init = json!({ "type": "connection_init", "payload": payload }).to_string();
            let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
                "query": format!("subscription {name} {{ dispatchSignals(departmentCode: \"{DEPARTMENT}\", after: \"{after}\") {{ {shape} }} }}")
            }})
            .to_string();
            let _ = socket.send(Message::Text(init.into())).await;
            let _ = socket.send(Message::Text(subscribe.into())).await;
            let mut acknowledged = false;
            let mut replayed = Vec::with_capacity(replay.len());
            if replay.is_empty() {
                resumed.fetch_add(1, Ordering::Relaxed);
            }
            let mut mine = Vec::with_capacity(whistles);
            while let Some(Ok(message)) = socket.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                if !acknowledged {
                    acknowledged = true;
                    ready.add_permits(1);
                    continue;
                }
                if !text.contains("\"next\"") {
                    continue;
                }
                if replayed.len() < replay.len() {
                    replayed.push(cursor(&text));
                    if replayed.len() == replay.len() {
                        if replayed != replay {
                            wrong.fetch_add(1, Ordering::Relaxed);
                        }
                        resumed.fetch_add(1, Ordering::Relaxed);
                    }
                    continue;
                }
                if mine.len() < whistles {
                    mine.push(Instant::now());
                    received.fetch_add(1, Ordering::Relaxed);
                    if mine.len() == whistles {
                        let _ = receipts.send((n % SHAPES.len(), std::mem::take(&mut mine)));
                    }
                }
            }
        });
    }
    let _ = ready
        .acquire_many(options.subscribers as u32)
        .await
        .map(|permits| permits.forget());
    // Let every board replay what it missed and the subscriptions settle, then measure
    // idle memory.
    let replaying = Instant::now();
    while resumed.load(Ordering::Relaxed) < options.subscribers
        && replaying.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (resumed, wrong) = (
        resumed.load(Ordering::Relaxed),
        wrong.load(Ordering::Relaxed),
    );
    if resumed < options.subscribers || wrong > 0 {
        println!(
            "replays: {} of {} boards resumed, {wrong} of them with other entries than the whistles they missed",
            resumed, options.subscribers
        );
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = rss_kib(&options.pids);
    println!(
        "{} subscribers on {} replica(s) connected in {:.1} s",
        options.subscribers,
        options.gateways.len(),
        started.elapsed().as_secs_f64()
    );
    if !options.pids.is_empty() {
        println!(
            "gateway memory: {before} KiB before, {idle} KiB with the subscribers: {:.1} KiB per idle subscription",
            (idle.saturating_sub(before)) as f64 / options.subscribers as f64
        );
    }

    let mut latencies = Vec::with_capacity(options.subscribers * options.whistles);
    let cpu_before = cpu_seconds(&options.pids);
    let own_cpu_before = cpu_seconds(&[std::process::id()]);
    let mut sent_at = Vec::with_capacity(options.whistles);
    let mut answered = Vec::with_capacity(options.whistles);
    for k in 0..options.whistles {
        // A department is summoned to an event once while its summons is open: each
        // whistle is to a new event, reported and accepted before the clock starts.
        let event = event(&client, &first, &format!("load-{run}-w{k}")).await;
        let sent = Instant::now();
        sent_at.push(sent);
        whistle(&client, &first, &event, &format!("load-{run}-w{k}")).await;
        answered.push(sent.elapsed());
        let everyone = options.subscribers * (k + 1);
        while received.load(Ordering::Relaxed) < everyone
            && sent.elapsed() < Duration::from_secs(10)
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let got = received.load(Ordering::Relaxed);
        if got < everyone {
            println!(
                "whistle {k}: only {} of {} subscribers received it",
                options.subscribers - (everyone - got),
                options.subscribers
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop(receipts);
    let mut slowest = vec![Duration::ZERO; options.whistles];
    let mut fastest = vec![Duration::MAX; options.whistles];
    let mut by_shape = vec![vec![Duration::ZERO; options.whistles]; SHAPES.len()];
    while let Ok(Some((shape, mine))) =
        tokio::time::timeout(Duration::from_millis(200), collected.recv()).await
    {
        for (k, (at, sent)) in mine.iter().zip(&sent_at).enumerate() {
            let latency = at.saturating_duration_since(*sent);
            slowest[k] = slowest[k].max(latency);
            fastest[k] = fastest[k].min(latency);
            by_shape[shape][k] = by_shape[shape][k].max(latency);
            latencies.push(latency);
        }
    }
    // Where a slow whistle's time went: until the mutation was answered (the write and
    // its commit), until the first board had it (the hub's read and rendering), until
    // the last one had it (the fan-out).
    let millis = |times: &[Duration]| times.iter().map(Duration::as_millis).collect::<Vec<_>>();
    println!(
        "each whistle's mutation answered, ms: {:?}",
        millis(&answered)
    );
    println!("first receipt of each whistle, ms: {:?}", millis(&fastest));
    println!(
        "slowest receipt of each whistle, ms: {:?}",
        millis(&slowest)
    );
    if options.distinct {
        for (shape, slowest) in SHAPES.iter().zip(&by_shape) {
            println!("  selection `{shape}`: {:?}", millis(slowest));
        }
    }
    let cpu = cpu_seconds(&options.pids) - cpu_before;
    let own_cpu = cpu_seconds(&[std::process::id()]) - own_cpu_before;
    latencies.sort();
    println!(
        "delivery of {} whistles to every subscriber ({} receipts): first {:.1} ms, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        options.whistles,
        latencies.len(),
        latencies.first().copied().unwrap_or_default().as_secs_f64() * 1e3,
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    if !options.pids.is_empty() && !latencies.is_empty() {
        println!(
            "CPU while delivering, per receipt: gateway {:.1} µs, this load client {:.1} µs",
            cpu * 1e6 / latencies.len() as f64,
            own_cpu * 1e6 / latencies.len() as f64
        );
    }

    if options.mutation_seconds == 0 {
        return;
    }
    // Sustained workflow mutations: report + accept pairs from 16 clients.
    let deadline = Instant::now() + Duration::from_secs(options.mutation_seconds);
    let workers = (0..16).map(|w| {
        let (client, gateway) = (client.clone(), first.clone());
        tokio::spawn(async move {
            let mut done = 0u64;
            let mut n = 0;
            while Instant::now() < deadline {
                event(
                    &client,
                    &gateway,
                    &format!("rate-{}-{w}-{n}", std::process::id()),
                )
                .await;
                n += 1;
                done += 2;
            }
            done
        })
    });
    let mut mutations = 0;
    for worker in workers {
        mutations += worker.await.unwrap_or(0);
    }
    println!(
        "workflow mutations: {:.0} per second (reportEvent + acceptEvent, 16 clients, {} s)",
        mutations as f64 / options.mutation_seconds as f64,
        options.mutation_seconds
    );
}
