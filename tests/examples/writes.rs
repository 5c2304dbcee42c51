//! Load client for `bench/writes.sh`: workflow mutations from many clients spread over
//! the replicas, and how reads fare meanwhile. First the readers run alone (idle), then
//! beside the writers (burst); every answer is checked, and one with an error or a
//! non-200 status counts as failed.
//!
//!   writes --gateways http://127.0.0.1:18300,http://127.0.0.1:18301 --seconds 10 --writers 32
//!
//! `--read-gateways` sends the readers to other replicas than the writers.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Options {
    gateways: Vec<String>,
    read_gateways: Vec<String>,
    seconds: u64,
    writers: usize,
    readers: usize,
    /// Reads per second over all readers; 0: each reader reads again as soon as answered.
    read_rate: f64,
}

fn options() -> Options {
    let mut options = Options {
        gateways: vec!["http://127.0.0.1:18300".to_owned()],
        read_gateways: Vec::new(),
        seconds: 10,
        writers: 32,
        readers: 4,
        read_rate: 0.0,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--gateways" => options.gateways = value.split(',').map(str::to_owned).collect(),
            "--read-gateways" => {
                options.read_gateways = value
                    .split(',')
                    .filter(|g| !g.is_empty())
                    .map(str::to_owned)
                    .collect()
            }
            "--seconds" => options.seconds = value.parse().unwrap_or(options.seconds),
            "--writers" => options.writers = value.parse().unwrap_or(options.writers),
            "--readers" => options.readers = value.parse().unwrap_or(options.readers),
            "--read-rate" => options.read_rate = value.parse().unwrap_or(options.read_rate),
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

/// One read; its latency from `since` in milliseconds, or `None` when it failed.
async fn read_once(client: &reqwest::Client, gateway: &str, since: Instant) -> Option<f64> {
    let data = graphql(client, gateway, READ, json!({})).await?;
    let nodes = data["events"]["nodes"].as_array()?;
    (nodes.len() == 10).then(|| since.elapsed().as_secs_f64() * 1e3)
}

/// Reads until `until`: one after another (`every` none), or one every `every` whether
/// the one before has answered or not, its latency counted from when it was due (a late
/// answer delays no later read, and a stall is not hidden by reads not sent). The
/// latency of each answer, and how many failed.
async fn read_until(
    client: reqwest::Client,
    gateway: String,
    until: Instant,
    every: Option<Duration>,
) -> (Vec<f64>, u64) {
    let mut answers = Vec::new();
    match every {
        None => {
            while Instant::now() < until {
                answers.push(read_once(&client, &gateway, Instant::now()).await);
            }
        }
        Some(every) => {
            let mut ticks = tokio::time::interval(every);
            let mut reads = Vec::new();
            while Instant::now() < until {
                let due = ticks.tick().await.into_std();
                let (client, gateway) = (client.clone(), gateway.clone());
                reads.push(tokio::spawn(async move {
                    read_once(&client, &gateway, due).await
                }));
            }
            for read in reads {
                answers.push(read.await.unwrap_or_default());
            }
        }
    }
    let failed = answers.iter().filter(|answer| answer.is_none()).count() as u64;
    (answers.into_iter().flatten().collect(), failed)
}

/// The readers, each on a thread and runtime of its own with its own connection, as
/// separate clients are: a reader's latency is the gateway's, not time spent waiting
/// behind this process's writer tasks. Their results come back through [`gather`].
fn readers(options: &Options, until: Instant) -> Vec<std::thread::JoinHandle<(Vec<f64>, u64)>> {
    let gateways = if options.read_gateways.is_empty() {
        &options.gateways
    } else {
        &options.read_gateways
    };
    // Each reader's share of the rate.
    let every = (options.read_rate > 0.0)
        .then(|| Duration::from_secs_f64(options.readers as f64 / options.read_rate));
    (0..options.readers)
        .map(|r| {
            let gateway = gateways[r % gateways.len()].clone();
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for a reader")
                    .block_on(read_until(http_client(), gateway, until, every))
            })
        })
        .collect()
}

/// All readers' latencies, sorted, and how many reads failed.
fn gather(readers: Vec<std::thread::JoinHandle<(Vec<f64>, u64)>>) -> (Vec<f64>, u64) {
    let (mut all, mut failed) = (Vec::new(), 0);
    for reader in readers {
        let (latencies, lost) = reader.join().unwrap_or_default();
        all.extend(latencies);
        failed += lost;
    }
    all.sort_by(f64::total_cmp);
    (all, failed)
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("an HTTP client")
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
    let client = http_client();
    let window = Duration::from_secs(options.seconds);

    let (idle, idle_failed) = gather(readers(&options, Instant::now() + window));

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
    let burst = readers(&options, until);
    let (mut mutations, mut failed) = (0, 0);
    for writer in writers {
        let (done, lost) = writer.await.unwrap_or_default();
        mutations += done;
        failed += lost;
    }
    let (burst, burst_failed) = gather(burst);

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
