// Throwaway driver for the seed (to be deleted).
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let url = &args[1];
    let scale: schema::seed::Scale = args[2].parse()?;
    let seed: u64 = args[3].parse()?;
    let pool = sqlx::PgPool::connect(url).await?;
    schema::MIGRATOR.run(&pool).await?;
    if args.get(4).map(String::as_str) == Some("reset") {
        schema::seed::reset(&pool).await?;
    }
    println!("empty: {}", schema::seed::is_empty(&pool).await?);
    let start = Instant::now();
    let last = std::sync::Mutex::new(String::new());
    let calls = std::sync::atomic::AtomicU64::new(0);
    let progress = |p: schema::seed::Progress| {
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut last = last.lock().unwrap();
        if *last != p.table || p.done == p.total {
            eprintln!("{:>8.2}s {} {}/{}", start.elapsed().as_secs_f64(), p.table, p.done, p.total);
            *last = p.table.to_string();
        }
    };
    let result = schema::seed::seed(&pool, &schema::seed::SeedOptions { scale, seed }, &progress).await;
    println!("{:?}", result);
    println!("elapsed {:.2}s, progress calls {}", start.elapsed().as_secs_f64(), calls.load(std::sync::atomic::Ordering::Relaxed));
    Ok(())
}
