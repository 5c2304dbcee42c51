//! `gateway`: serve the governance GraphQL gateway, migrate or seed its database, or run
//! the demo (all of it in one command).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};
use connectors::config::Departments;
use connectors::simulator::Simulator;
use gateway::database::{self, Purpose};
use gateway::{Application, Config, load_departments, shutdown_signal};
use indicatif::{ProgressBar, ProgressStyle};
use schema::seed::{self, Progress, Scale, SeedOptions};

#[derive(Parser)]
#[command(version, about = "GraphQL gateway for city social governance")]
struct Cli {
    /// TOML configuration file; environment variables DATABASE_URL, REDIS_URL and
    /// GATEWAY_LISTEN override it.
    #[arg(long, global = true, env = "GATEWAY_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations (unless disabled) and serve.
    Serve,
    /// Create the database if missing, apply pending migrations and exit.
    Migrate,
    /// Create and migrate the database if needed, and fill it with the synthetic
    /// Liaoyuan data set.
    Seed {
        /// `small` (thousands of rows, seconds) or `city` (the real city's size).
        #[arg(long, default_value = "small")]
        scale: Scale,
        /// The same seed always gives the same data.
        #[arg(long, default_value_t = SeedOptions::default().seed)]
        seed: u64,
        /// Empty the database first.
        #[arg(long, conflicts_with = "if_empty")]
        reset: bool,
        /// Do nothing (and succeed) when the database already holds data.
        #[arg(long)]
        if_empty: bool,
    },
    /// Create the database if missing, migrate, seed `small` if empty, start the
    /// department simulator (all 96 departments, in this process) and serve over it.
    Demo,
    /// Check the configuration, department config files included, and exit.
    CheckConfig,
    /// Pull the 12345 hotline's new service requests into events and push the status of
    /// its events back, once (what `serve` does every poll interval), and print what was done.
    HotlineSync,
    /// Mint a token with the configured HS256 secret (auth.jwt_secret or
    /// GATEWAY_JWT_SECRET); the token alone is printed on the last line.
    Token {
        /// GRID_WORKER, DISPATCHER, DEPARTMENT_STAFF, SUPERVISOR, ANALYST or ADMIN.
        #[arg(long)]
        role: String,
        /// The jurisdiction code the principal acts at (220422, 220422001, ...).
        #[arg(long)]
        jurisdiction: String,
        /// The principal's department (required for DEPARTMENT_STAFF), e.g. 220422-XJ.
        #[arg(long)]
        department: Option<String>,
        /// How long the token lasts: 90s, 30m, 8h, 7d.
        #[arg(long, default_value = "8h", value_parser = parse_ttl)]
        ttl: i64,
        /// The principal's id (`sub`); made from the role and jurisdiction when omitted.
        #[arg(long)]
        sub: Option<String>,
        /// The name recorded on the timeline.
        #[arg(long)]
        name: Option<String>,
    },
}

/// A duration like `90s`, `30m`, `8h` or `7d`, in seconds.
fn parse_ttl(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 30m, 8h or 7d"))?;
    let unit = match unit {
        "s" | "" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("`{text}`: the unit is s, m, h or d")),
    };
    match number.checked_mul(unit) {
        Some(seconds) if seconds > 0 => Ok(seconds),
        _ => Err(format!("`{text}` must be a positive duration")),
    }
}

/// mimalloc returns freed memory to the system promptly and fragments less than the
/// system allocator under many small, concurrent allocations (thousands of WebSocket
/// connections): idle subscriptions cost less resident memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let outcome = Config::load(cli.config.as_deref(), |key| std::env::var(key).ok())
        .map_err(anyhow::Error::from)
        .and_then(|config| {
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(run(cli.command, config))
        });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The cause chain on one line, without a backtrace: this is for operators.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(&config).await,
        Command::Migrate => {
            database::create_if_missing(&config).await?;
            let pool = database::pool(&config, Purpose::Maintenance)?;
            database::migrate(&pool, &config).await?;
            tracing::info!(database = %config.database_url, "migrations applied");
            Ok(())
        }
        Command::Seed {
            scale,
            seed,
            reset,
            if_empty,
        } => {
            database::create_if_missing(&config).await?;
            let pool = database::pool(&config, Purpose::Maintenance)?;
            database::migrate(&pool, &config).await?;
            if reset {
                seed::reset(&pool)
                    .await
                    .context("emptying the database failed")?;
            } else if if_empty
                && !seed::is_empty(&pool)
                    .await
                    .context("reading the database failed")?
            {
                println!("the database already holds data; nothing seeded");
                return Ok(());
            }
            run_seed(&pool, &SeedOptions { scale, seed }).await
        }
        Command::Demo => {
            if database::create_if_missing(&config).await? {
                tracing::info!(database = %config.database_url, "created the demo database");
            }
            let pool = database::pool(&config, Purpose::Maintenance)?;
            database::migrate(&pool, &config).await?;
            if seed::is_empty(&pool)
                .await
                .context("reading the database failed")?
            {
                run_seed(&pool, &SeedOptions::default()).await?;
            }
            let mut config = config;
            // GraphiQL's documentation and completion need introspection.
            config.limits.introspection = true;
            // The shipped `sql` departments put their databases on the demo's own
            // PostgreSQL server unless told otherwise.
            if let Some(server) = config.database_server() {
                let vars = config.departments.vars();
                for name in ["LOCAL_DEPARTMENT_DB_URL", "VERTICAL_DEPARTMENT_DB_URL"] {
                    if vars.get(name).is_none() {
                        config
                            .departments
                            .vars
                            .insert(name.to_owned(), server.clone());
                    }
                }
            }
            let simulator = start_simulator(&pool, &config).await?;
            config
                .departments
                .vars
                .insert("DEPARTMENTS_URL".to_owned(), simulator.url());
            for (code, endpoint) in simulator.proxied_endpoints() {
                config
                    .departments
                    .endpoints
                    .insert(code.clone(), endpoint.clone());
            }
            if config.auth.jwt_secret.0.is_empty() {
                config.auth.jwt_secret = gateway::auth::SigningSecret(
                    gateway::demo::random_secret().context("no randomness for a demo secret")?,
                );
                println!(
                    "no GATEWAY_JWT_SECRET set: the demo signs with a secret of its own, made now"
                );
            }
            let tokens = gateway::demo::tokens(&pool, &config.auth).await?;
            pool.close().await;
            print_tokens(&tokens);
            let app = Application::build_with_tokens(&config, tokens).await?;
            run_app(app).await
        }
        Command::HotlineSync => {
            let reports = gateway::hotline::sync_once(&config).await?;
            if reports.is_empty() {
                println!("no open311 system is configured: nothing to sync");
            }
            for report in &reports {
                println!("{report}");
            }
            let failed = reports.iter().filter(|r| !r.is_ok()).count();
            if failed > 0 {
                anyhow::bail!("{failed} open311 system(s) not fully synced; see the errors above");
            }
            Ok(())
        }
        Command::Token {
            role,
            jurisdiction,
            department,
            ttl,
            sub,
            name,
        } => {
            let claims = gateway::auth::Claims {
                sub: sub.unwrap_or_else(|| format!("{}-{jurisdiction}", role.to_lowercase())),
                name,
                role,
                department,
                jurisdiction,
                exp: chrono::Utc::now().timestamp() + ttl,
            };
            let token = gateway::auth::mint(&config.auth, &claims)?;
            println!("{token}");
            Ok(())
        }
        Command::CheckConfig => {
            let departments = load_departments(&config)?;
            println!("configuration is valid: {config:#?}");
            println!(
                "{} department configs in {} are valid",
                departments.len(),
                config.departments.dir.display()
            );
            let keyless = config.auth.jwt_secret.0.is_empty()
                && config.auth.jwks_file.is_none()
                && config.auth.jwks_url.is_none();
            if keyless && config.auth.required {
                println!(
                    "note: no key to check tokens with; `serve` will refuse to start until \
                     GATEWAY_JWT_SECRET, auth.jwks_file or auth.jwks_url is set \
                     (or auth.required = false)"
                );
            }
            Ok(())
        }
    }
}

/// The department simulator, serving every department of the config folder from the
/// demo's own entity index, on a free port.
async fn start_simulator(pool: &sqlx::PgPool, config: &Config) -> anyhow::Result<Simulator> {
    let dir = &config.departments.dir;
    let departments = Departments::load_dir(dir, None, &config.departments.vars())?;
    let started = Instant::now();
    let simulator = Simulator::start(pool, &departments, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .context("the department simulator did not start")?;
    println!(
        "department simulator: {} departments, {} records, {} databases built, at {} ({:.1} s)",
        departments.len(),
        simulator.records,
        simulator.databases_built,
        simulator.url(),
        started.elapsed().as_secs_f64()
    );
    Ok(simulator)
}

/// The demo's tokens, ready to paste as an `Authorization` header.
fn print_tokens(tokens: &[gateway::demo::DemoToken]) {
    println!(
        "tokens (valid {} h; GraphiQL's role picker sends them for you):",
        gateway::demo::TOKEN_TTL_S / 3600
    );
    for token in tokens {
        println!("  {:<17} {}", token.role, token.label);
        println!("    Authorization: Bearer {}", token.token);
    }
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    run_app(Application::build(config).await?).await
}

async fn run_app(app: Application) -> anyhow::Result<()> {
    let address = app.address();
    println!("GraphiQL:  http://{address}/");
    println!("GraphQL:   http://{address}/graphql");
    app.run(shutdown_signal()).await.context("serving failed")
}

async fn run_seed(pool: &sqlx::PgPool, options: &SeedOptions) -> anyhow::Result<()> {
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
