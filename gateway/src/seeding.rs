//! `gateway seed`: the simulated city's data set loaded into the gateway's database,
//! with a progress bar.

use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use simulation::seed::{self, Progress, SeedOptions};

use crate::Config;
use crate::database::{self, Purpose};

/// What `gateway seed` was asked.
#[derive(Debug, Clone, Copy)]
pub struct SeedCommand {
    pub options: SeedOptions,
    /// Empty the database first.
    pub reset: bool,
    /// Do nothing (and succeed) when the database already holds data.
    pub if_empty: bool,
}

/// Creates and migrates the database if needed, and seeds it.
pub async fn seed_command(config: &Config, command: SeedCommand) -> anyhow::Result<()> {
    database::create_if_missing(config).await?;
    let pool = database::pool(config, Purpose::Maintenance)?;
    database::migrate(&pool, config).await?;
    if command.reset {
        seed::reset(&pool)
            .await
            .context("emptying the database failed")?;
    } else if command.if_empty
        && !seed::is_empty(&pool)
            .await
            .context("reading the database failed")?
    {
        println!("the database already holds data; nothing seeded");
        return Ok(());
    }
    run(&pool, &command.options).await
}

/// Seeds an empty database, showing progress.
pub async fn run(pool: &sqlx::PgPool, options: &SeedOptions) -> anyhow::Result<()> {
    let started = Instant::now();
    let bar: Mutex<Option<(&'static str, ProgressBar)>> = Mutex::new(None);
    let style = ProgressStyle::with_template("{msg:>22} [{bar:40}] {pos:>9}/{len:9} {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let progress = |p: Progress| {
        let Ok(mut current) = bar.lock() else { return };
        if current.as_ref().is_none_or(|(table, _)| *table != p.table) {
            if let Some((_, done)) = current.take() {
                done.finish();
            }
            let next = ProgressBar::new(p.total)
                .with_style(style.clone())
                .with_message(p.table);
            *current = Some((p.table, next));
        }
        if let Some((_, current)) = current.as_ref() {
            current.set_length(p.total);
            current.set_position(p.done);
        }
    };
    let summary = seed::seed(pool, options, &progress).await?;
    if let Some((_, done)) = bar.lock().ok().and_then(|mut current| current.take()) {
        done.finish();
    }
    println!(
        "seeded scale {} (seed {}) in {:.1} s: {summary:?}",
        options.scale,
        options.seed,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
