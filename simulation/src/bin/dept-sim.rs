//! `dept-sim`: every department system of a config folder, simulated in one process from
//! the seed's data set (give it the options `gateway seed` was given). Faults are injected at run time over HTTP:
//! `PUT /_sim/faults/{department}`, `DELETE /_sim/faults`, `GET /_sim/stats`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use connectors::config::{Departments, Vars};
use simulation::seed::{Scale, SeedOptions};
use simulation::simulator::Simulator;

#[derive(Parser)]
#[command(
    version,
    about = "Simulates the department systems the gateway federates"
)]
struct Cli {
    /// The data set's scale, as given to `gateway seed`: `small` or `city`.
    #[arg(long, env = "SEED_SCALE", default_value = "small")]
    scale: Scale,
    /// The data set's seed, as given to `gateway seed`.
    #[arg(long, env = "SEED", default_value_t = SeedOptions::default().seed)]
    seed: u64,
    /// The folder of department config files.
    #[arg(
        long,
        env = "DEPARTMENTS_DIR",
        default_value = "connectors/departments"
    )]
    departments: PathBuf,
    /// Where to serve the rest departments.
    #[arg(long, env = "SIMULATOR_LISTEN", default_value = "127.0.0.1:7700")]
    listen: SocketAddr,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let departments = Departments::load_dir(&cli.departments, None, &Vars::from_env())?;
    let seed = SeedOptions {
        scale: cli.scale,
        seed: cli.seed,
    };
    let simulator = Simulator::start(seed, &departments, cli.listen).await?;
    // A closed stdout loses the banner, not the simulator (`println!` would panic).
    let _ = writeln!(
        std::io::stdout(),
        "{} departments, {} records, {} databases built; serving at {}",
        departments.len(),
        simulator.records,
        simulator.databases_built,
        simulator.url()
    );
    tokio::select! {
        () = simulator.wait() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
