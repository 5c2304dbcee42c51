//! `gateway seed`: the simulated city's data set loaded into the gateway's database,
//! with a progress bar.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use simulation::seed::{self, Progress, SeedOptions};

use crate::Config;
use crate::database::{self, Purpose};
use crate::{say, say_err};

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
    } else if command.if_empty {
        // Data there may be a seed's that stopped before its keys and indexes were made
        // (or, made over rows that break one, no data any more).
        finish_interrupted(&pool).await;
        if !seed::is_empty(&pool)
            .await
            .context("reading the database failed")?
        {
            say!("the database already holds data; nothing seeded");
            return Ok(());
        }
    }
    run(&pool, &command.options).await
}

/// Makes what a seed stopped before making (its keys and indexes, after its rows were
/// in), so that a process starting on the database does not serve it without them.
/// Logs what happened rather than stopping the start: the data are there either way.
pub async fn finish_interrupted(pool: &sqlx::PgPool) {
    match seed::finish(pool, &|_| {}).await {
        Ok(false) => {}
        Ok(true) => tracing::info!("made the keys and indexes an interrupted seed left unmade"),
        Err(seed::SeedError::InProgress) => {
            tracing::warn!(
                "a seed of this database is running: its keys and indexes are not all made yet"
            )
        }
        Err(error) => tracing::error!(%error, "finishing an interrupted seed failed"),
    }
}

/// Seeds an empty database, showing progress: bars on a terminal, else a line when
/// each table starts and at each quarter of it (for logs and CI).
pub async fn run(pool: &sqlx::PgPool, options: &SeedOptions) -> anyhow::Result<()> {
    let started = Instant::now();
    let terminal = std::io::stderr().is_terminal();
    let bar: Mutex<Option<(&'static str, ProgressBar)>> = Mutex::new(None);
    let lines: Mutex<Option<(&'static str, u64)>> = Mutex::new(None);
    let style = ProgressStyle::with_template("{msg:>22} [{bar:40}] {pos:>9}/{len:9} {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let progress = |p: Progress| {
        if !terminal {
            let Ok(mut last) = lines.lock() else { return };
            let quarter = (p.done * 4).checked_div(p.total).unwrap_or(4).min(4);
            if last.is_none_or(|(table, shown)| table != p.table || quarter > shown) {
                say_err!(
                    "seeding {:<22} {:>9}/{:<9} {:>5.1} s",
                    p.table,
                    p.done,
                    p.total,
                    started.elapsed().as_secs_f64()
                );
                *last = Some((p.table, quarter));
            }
            return;
        }
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
    say!(
        "seeded scale {} (seed {}) in {:.1} s: {summary:?}",
        options.scale,
        options.seed,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
