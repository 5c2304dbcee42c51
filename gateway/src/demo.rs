//! The demo, all in one command: the database created, migrated and seeded when empty,
//! the department simulator started in this process, and the gateway served over it.
//! Its users get a signing secret of the demo's own when none is configured, and a
//! ready-made token for each role, held by principals of the seeded city (东辽县's first
//! grid, its township, the county's fire brigade, the city).

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use connectors::config::Departments;
use simulation::seed::{self, SeedOptions};
use simulation::simulator::Simulator;
use sqlx::PgPool;

use crate::auth::{AuthConfig, Claims, MintError, mint};
use crate::database::{self, Purpose};
use crate::http::RoleToken;
use crate::say;
use crate::{Application, Config};

/// Prepares the demo: database, seed, simulator (kept running for the process's life),
/// configuration and tokens; returns the application to run.
pub async fn prepare(config: Config) -> anyhow::Result<(Application, Simulator)> {
    if database::create_if_missing(&config).await? {
        tracing::info!(database = %config.database_url, "created the demo database");
    }
    let pool = database::pool(&config, Purpose::Maintenance)?;
    database::migrate(&pool, &config).await?;
    if seed::is_empty(&pool)
        .await
        .context("reading the database failed")?
    {
        crate::seeding::run(&pool, &SeedOptions::default()).await?;
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
    let simulator = start_simulator(&config).await?;
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
        config.auth.jwt_secret =
            crate::auth::SigningSecret(random_secret().context("no randomness for a demo secret")?);
        say!("no GATEWAY_JWT_SECRET set: the demo signs with a secret of its own, made now");
    }
    let tokens = tokens(&pool, &config.auth).await?;
    pool.close().await;
    print_tokens(&tokens);
    let app = Application::build_with_tokens(&config, tokens).await?;
    Ok((app, simulator))
}

/// The department simulator, serving every department of the config folder from the
/// demo's data set, on a free port.
async fn start_simulator(config: &Config) -> anyhow::Result<Simulator> {
    let dir = &config.departments.dir;
    let departments = Departments::load_dir(dir, None, &config.departments.vars())?;
    let started = Instant::now();
    let address = SocketAddr::from(([127, 0, 0, 1], 0));
    let simulator = Simulator::start(SeedOptions::default(), &departments, address)
        .await
        .context("the department simulator did not start")?;
    say!(
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
fn print_tokens(tokens: &[RoleToken]) {
    say!(
        "tokens (valid {} h; GraphiQL's role picker sends them for you):",
        TOKEN_TTL_S / 3600
    );
    for token in tokens {
        say!("  {:<17} {}", token.role, token.label);
        say!("    Authorization: Bearer {}", token.token);
    }
}

/// How long the demo's tokens last.
pub const TOKEN_TTL_S: i64 = 8 * 3600;

/// A principal of the seeded city the demo makes a token for.
struct Principal {
    role: &'static str,
    /// What the role is called, for people.
    title: &'static str,
    name: &'static str,
    sub: &'static str,
    jurisdiction: &'static str,
    department: Option<&'static str>,
}

const PRINCIPALS: [Principal; 6] = [
    Principal {
        role: "GRID_WORKER",
        title: "网格员",
        name: "张伟",
        sub: "demo-grid-worker",
        jurisdiction: "220422001001001",
        department: None,
    },
    Principal {
        role: "DISPATCHER",
        title: "调度员",
        name: "李强",
        sub: "demo-dispatcher",
        jurisdiction: "220422001",
        department: None,
    },
    Principal {
        role: "DEPARTMENT_STAFF",
        title: "部门工作人员",
        name: "王秀英",
        sub: "demo-department-staff",
        jurisdiction: "220422",
        department: Some("220422-XJ"),
    },
    Principal {
        role: "SUPERVISOR",
        title: "督办员",
        name: "刘洋",
        sub: "demo-supervisor",
        jurisdiction: "220422",
        department: None,
    },
    Principal {
        role: "ANALYST",
        title: "数据分析员",
        name: "陈静",
        sub: "demo-analyst",
        jurisdiction: "220400",
        department: None,
    },
    Principal {
        role: "ADMIN",
        title: "管理员",
        name: "赵敏",
        sub: "demo-admin",
        jurisdiction: "220400",
        department: None,
    },
];

/// A random HS256 secret (48 random bytes, base64url).
pub fn random_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[derive(Debug, thiserror::Error)]
pub enum DemoTokenError {
    #[error(transparent)]
    Mint(#[from] MintError),
    #[error("reading the seeded jurisdictions failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// A token for each role, signed with the configured secret.
pub async fn tokens(pool: &PgPool, auth: &AuthConfig) -> Result<Vec<RoleToken>, DemoTokenError> {
    let exp = chrono::Utc::now().timestamp() + TOKEN_TTL_S;
    let mut tokens = Vec::with_capacity(PRINCIPALS.len());
    for principal in &PRINCIPALS {
        let place: Option<String> =
            sqlx::query_scalar("SELECT name FROM jurisdictions WHERE code = $1")
                .bind(principal.jurisdiction)
                .fetch_optional(pool)
                .await?;
        let claims = Claims {
            sub: principal.sub.to_owned(),
            name: Some(principal.name.to_owned()),
            role: principal.role.to_owned(),
            department: principal.department.map(str::to_owned),
            jurisdiction: principal.jurisdiction.to_owned(),
            staff: None,
            exp,
        };
        let at = place.as_deref().unwrap_or(principal.jurisdiction);
        tokens.push(RoleToken {
            role: principal.role,
            label: format!("{} {} · {at}", principal.title, principal.name),
            token: mint(auth, &claims)?,
        });
    }
    Ok(tokens)
}
