//! `gateway`: serve the governance GraphQL gateway, migrate its database, check its
//! configuration or mint a token; with the `simulation` feature (the default, off in a
//! production build), also seed the database or run the demo (all of it in one command).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use gateway::database::{self, Purpose};
use gateway::{Application, Config, load_departments, say, say_err, shutdown_signal};
#[cfg(feature = "simulation")]
use simulation::seed::{Scale, SeedOptions};

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
    #[cfg(feature = "simulation")]
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
    #[cfg(feature = "simulation")]
    Demo,
    /// Check the configuration, department config files included, and exit.
    CheckConfig,
    /// Pull the 12345 hotline's new service requests into events and push the status of
    /// its events back, once (what `serve` does every poll interval), and print what was done.
    HotlineSync,
    /// Pull each department's change feed into the index once (what `serve` does every
    /// feed interval), and print what was done.
    FeedSync,
    /// Mint a token with the configured HS256 secret (auth.jwt_secret or
    /// GATEWAY_JWT_SECRET); the token alone is printed on the last line.
    Token {
        /// GRID_WORKER, DISPATCHER, DEPARTMENT_STAFF, SUPERVISOR, ANALYST or ADMIN.
        #[arg(long)]
        role: String,
        /// The jurisdiction code the principal acts at (220422, 220422001, ...).
        #[arg(long)]
        jurisdiction: String,
        /// The principal's department (DEPARTMENT_STAFF needs it or --staff), e.g. 220422-XJ.
        #[arg(long)]
        department: Option<String>,
        /// The principal's Staff id (a grid team's member): they act on summonses
        /// addressed to them or their teams.
        #[arg(long)]
        staff: Option<i64>,
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
    let _telemetry = match gateway::telemetry::init() {
        Ok(telemetry) => telemetry,
        Err(error) => {
            say_err!("error: the OTLP exporter cannot be built: {error}");
            return ExitCode::FAILURE;
        }
    };
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
            say_err!("error: {error:#}");
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
        #[cfg(feature = "simulation")]
        Command::Seed {
            scale,
            seed,
            reset,
            if_empty,
        } => {
            let options = SeedOptions { scale, seed };
            let command = gateway::seeding::SeedCommand {
                options,
                reset,
                if_empty,
            };
            gateway::seeding::seed_command(&config, command).await
        }
        #[cfg(feature = "simulation")]
        Command::Demo => {
            // The simulator serves as long as the gateway does.
            let (app, _simulator) = gateway::demo::prepare(config).await?;
            run_app(app).await
        }
        Command::HotlineSync => {
            let reports = gateway::hotline::sync_once(&config).await?;
            if reports.is_empty() {
                say!("no open311 system is configured: nothing to sync");
            }
            for report in &reports {
                say!("{report}");
            }
            let failed = reports.iter().filter(|r| !r.is_ok()).count();
            if failed > 0 {
                anyhow::bail!("{failed} open311 system(s) not fully synced; see the errors above");
            }
            Ok(())
        }
        Command::FeedSync => {
            let reports = gateway::feeds::sync_once(&config).await?;
            if reports.is_empty() {
                say!("no department declares a [feed]: nothing to sync");
            }
            for report in &reports {
                say!("{report}");
            }
            let failed = reports.iter().filter(|r| !r.is_ok()).count();
            if failed > 0 {
                anyhow::bail!("{failed} feed(s) not fully synced; see the errors above");
            }
            Ok(())
        }
        Command::Token {
            role,
            jurisdiction,
            department,
            staff,
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
                staff,
                exp: chrono::Utc::now().timestamp() + ttl,
            };
            let token = gateway::auth::mint(&config.auth, &claims)?;
            // The token is the whole answer: a stdout nobody reads fails the command.
            writeln!(std::io::stdout(), "{token}").context("cannot write the token to stdout")
        }
        Command::CheckConfig => {
            let departments = load_departments(&config)?;
            say!("configuration is valid: {config:#?}");
            say!(
                "{} department configs in {} are valid",
                departments.len(),
                config.departments.dir.display()
            );
            let keyless = config.auth.jwt_secret.0.is_empty()
                && config.auth.jwks_file.is_none()
                && config.auth.jwks_url.is_none();
            if keyless && config.auth.required {
                say!(
                    "note: no key to check tokens with; `serve` will refuse to start until \
                     GATEWAY_JWT_SECRET, auth.jwks_file or auth.jwks_url is set \
                     (or auth.required = false)"
                );
            }
            Ok(())
        }
    }
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    run_app(Application::build(config).await?).await
}

async fn run_app(app: Application) -> anyhow::Result<()> {
    let address = app.address();
    say!("GraphiQL:  http://{address}/");
    say!("GraphQL:   http://{address}/graphql");
    say!("Board:     http://{address}/board");
    app.run(shutdown_signal()).await.context("serving failed")
}
