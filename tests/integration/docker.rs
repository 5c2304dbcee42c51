//! The trial stack (`docker/`), checked as far as a machine without a Docker engine can:
//! the compose file parses and wires PostgreSQL with PostGIS, Redis, the seed, the
//! simulator and two gateway replicas behind the proxy; the replicas' config loads as
//! the gateway loads it and names the compose services; the proxy sends to both replicas,
//! passes WebSocket upgrades and keeps `/metrics` inside.

use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

fn docker_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docker")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(docker_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn text<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(value, |value, key| value.get(*key))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

#[test]
fn the_compose_file_wires_the_trial_stack() {
    let compose: Value =
        serde_yaml_ng::from_str(&read("compose.yml")).expect("compose.yml is YAML");
    let services = &compose["services"];
    let names: Vec<&str> = services
        .as_mapping()
        .map(|m| m.keys().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for service in [
        "postgres",
        "redis",
        "seed",
        "simulator",
        "gateway-1",
        "gateway-2",
        "lb",
    ] {
        assert!(names.contains(&service), "no `{service}` in {names:?}");
    }
    assert!(text(services, &["postgres", "image"]).contains("postgis"));
    // The second replica is the first (a YAML alias), and both serve.
    assert_eq!(services["gateway-1"], services["gateway-2"]);
    assert_eq!(services["gateway-1"]["command"][0], "serve");
    assert_eq!(
        text(services, &["gateway-1", "image"]),
        text(services, &["seed", "image"])
    );
    assert_eq!(services["simulator"]["entrypoint"][0], "dept-sim");
    assert_eq!(services["lb"]["ports"][0], "8080:8080");
    assert_eq!(
        services["lb"]["volumes"][0],
        "./nginx.conf:/etc/nginx/nginx.conf:ro"
    );
    assert!(
        text(
            services,
            &["gateway-1", "environment", "GATEWAY_JWT_SECRET"]
        )
        .len()
            > 32,
        "the replicas share a signing secret"
    );
}

#[test]
fn the_replicas_config_loads_and_names_the_compose_services() {
    let path = docker_dir().join("gateway.toml");
    let config = gateway::Config::load(Some(&path), |key| match key {
        "GATEWAY_JWT_SECRET" => Some("compose-trial-secret-change-me-0123456789".to_owned()),
        _ => None,
    })
    .unwrap_or_else(|e| panic!("docker/gateway.toml: {e}"));
    assert_eq!(config.listen.to_string(), "0.0.0.0:8080");
    let vars = &config.departments.vars;
    assert_eq!(
        vars.get("DEPARTMENTS_URL").map(String::as_str),
        Some("http://simulator:7700")
    );
    assert!(
        vars.get("LOCAL_DEPARTMENT_DB_URL")
            .is_some_and(|url| url.contains("@postgres:5432"))
    );
    // The Dockerfile puts the department configs where the config looks for them.
    let dockerfile = read("Dockerfile");
    let dir = config.departments.dir.to_string_lossy().into_owned();
    assert!(
        dockerfile.contains(&format!("COPY connectors/departments {dir}")),
        "{dir}"
    );
    assert!(dockerfile.contains("COPY docker/gateway.toml /etc/gateway/gateway.toml"));
    assert!(dockerfile.contains("AS trial") && dockerfile.contains("dept-sim"));
}

#[test]
fn the_proxy_sends_to_both_replicas_and_keeps_metrics_inside() {
    let nginx = read("nginx.conf");
    let opens = nginx.matches('{').count();
    assert_eq!(opens, nginx.matches('}').count(), "balanced braces");
    for line in [
        "server gateway-1:8080;",
        "server gateway-2:8080;",
        "listen 8080;",
    ] {
        assert!(nginx.contains(line), "no `{line}`");
    }
    assert!(nginx.contains("proxy_set_header Upgrade $http_upgrade;"));
    assert!(nginx.contains("proxy_set_header Connection $connection_upgrade;"));
    assert!(nginx.contains("proxy_set_header X-Request-Id $request_id_out;"));
    // Everything but /metrics reaches the replicas: GraphiQL, /graphql and its
    // WebSocket, the exports and the board.
    let locations: Vec<&str> = nginx
        .lines()
        .filter_map(|line| line.trim().strip_prefix("location "))
        .collect();
    assert_eq!(locations, ["= /metrics {", "/ {"]);
    let metrics = nginx
        .split("location = /metrics")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .unwrap_or_default();
    assert!(metrics.contains("return 404;"), "{metrics}");
}
