//! Load client for `bench/writes.sh`: workflow mutations from many clients spread over
//! the replicas, and how reads fare meanwhile. First the readers run alone (idle), then
//! beside the writers (burst); every answer is checked, and one with an error or a
//! non-200 status counts as failed.
//!
//!   writes --gateways http://127.0.0.1:18300,http://127.0.0.1:18301 --seconds 10 --writers 32

use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Options {
    gateways: Vec<String>,
    seconds: u64,
    writers: usize,
    readers: usize,
}

fn options() -> Options {
    let mut options = Options {
        gateways: vec!["http://127.0.0.1:18300".to_owned()],
        seconds: 10,
        writers: 32,
        readers: 4,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--gateways" => options.gateways = value.split(',').map(str::to_owned).collect(),
            "--seconds" => options.seconds = value.parse().unwrap_or(options.seconds),
            "--writers" => options.writers = value.parse().unwrap_or(options.writers),
            "--readers" => options.readers = value.parse().unwrap_or(options.readers),
            other => eprintln!("ignored argument {other}"),
        }
    }
    options
}

/// Sends one operation as the bearer of `TOKEN`; the data, or `None` when the answer was
/// not a 200 without errors.
async fn graphql(
    client: &reqwest::Client,
    gateway: &str,
    query: &str,
    variables: Value,
) -> Option<Value> {
    let mut request = client.post(format!("{gateway}/graphql"));
    if let Ok(token) = std::env::var("TOKEN") {
        request = request.bearer_auth(token);
    }
    let response = request
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let body: Value = response.json().await.ok()?;
    if body.get("errors").is_some() {
        eprintln!("{body}");
        return None;
    }
    Some(body["data"].clone())
}

/// Reports an event and accepts it: two workflow mutations, each checked.
async fn report_and_accept(client: &reqwest::Client, gateway: &str, key: &str) -> (u64, u64) {
    let Some(data) = graphql(
        client,
        gateway,
        "mutation($key: String!) { reportEvent(input: { idempotencyKey: $key, description: \"压测事件\",
           category: SAFETY_HAZARD, gridCode: \"220422001001001\" }) { event { id } } }",
        json!({ "key": format!("{key}-report") }),
    )
    .await
    else {
        return (0, 1);
    };
    let event = data["reportEvent"]["event"]["id"].clone();
    let accepted = graphql(
        client,
        gateway,
        "mutation($key: String!, $event: ID!) { acceptEvent(idempotencyKey: $key, eventId: $event) { entries { cursor } } }",
        json!({ "key": format!("{key}-accept"), "event": event }),
    )
    .await
    .filter(|data| data["acceptEvent"]["entries"][0]["cursor"].is_string());
    match accepted {
        Some(_) => (2, 0),
        None => (1, 1),
    }
}

const READ: &str = "{ events(first: 10) { nodes { id title status jurisdiction { name } } } }";

/// Reads until `until`; the latency of each answer, and how many failed.
async fn read_until(client: reqwest::Client, gateway: String, until: Instant) -> (Vec<f64>, u64) {
    let (mut latencies, mut failed) = (Vec::new(), 0);
    while Instant::now() < until {
        let started = Instant::now();
        match graphql(&client, &gateway, READ, json!({})).await {
            Some(data)
                if data["events"]["nodes"]
                    .as_array()
                    .is_some_and(|n| n.len() == 10) =>
            {
                latencies.push(started.elapsed().as_secs_f64() * 1e3);
            }
            _ => failed += 1,
        }
    }
    (latencies, failed)
}

async fn readers(options: &Options, client: &reqwest::Client, until: Instant) -> (Vec<f64>, u64) {
    let tasks: Vec<_> = (0..options.readers)
        .map(|r| {
            let gateway = options.gateways[r % options.gateways.len()].clone();
            tokio::spawn(read_until(client.clone(), gateway, until))
        })
        .collect();
    let (mut all, mut failed) = (Vec::new(), 0);
    for task in tasks {
        let (latencies, lost) = task.await.unwrap_or_default();
        all.extend(latencies);
        failed += lost;
    }
    all.sort_by(f64::total_cmp);
    (all, failed)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let options = options();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("an HTTP client");
    let window = Duration::from_secs(options.seconds);

    let (idle, idle_failed) = readers(&options, &client, Instant::now() + window).await;

    let until = Instant::now() + window;
    let writers: Vec<_> = (0..options.writers)
        .map(|w| {
            let gateway = options.gateways[w % options.gateways.len()].clone();
            let client = client.clone();
            tokio::spawn(async move {
                let (mut done, mut failed, mut n) = (0, 0, 0);
                while Instant::now() < until {
                    let key = format!("writes-{}-{w}-{n}", std::process::id());
                    let (ok, lost) = report_and_accept(&client, &gateway, &key).await;
                    done += ok;
                    failed += lost;
                    n += 1;
                }
                (done, failed)
            })
        })
        .collect();
    let (burst, burst_failed) = readers(&options, &client, until).await;
    let (mut mutations, mut failed) = (0, 0);
    for writer in writers {
        let (done, lost) = writer.await.unwrap_or_default();
        mutations += done;
        failed += lost;
    }

    println!(
        "workflow mutations: {:.0} per second ({} writers over {} replicas, {} s); failed: {failed} of {}",
        mutations as f64 / options.seconds as f64,
        options.writers,
        options.gateways.len(),
        options.seconds,
        mutations + failed,
    );
    for (name, sorted, lost) in [
        ("idle", &idle, idle_failed),
        ("burst", &burst, burst_failed),
    ] {
        println!(
            "reads {name}: p50 {:.1} ms, p99 {:.1} ms, {} answers, failed: {lost}",
            percentile(sorted, 0.5),
            percentile(sorted, 0.99),
            sorted.len(),
        );
    }
    println!(
        "read p99 during the burst / idle: {:.2}x",
        percentile(&burst, 0.99) / percentile(&idle, 0.99)
    );
}
