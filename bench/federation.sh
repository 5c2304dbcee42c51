#!/usr/bin/env bash
# Federation latency: 100 events of 东辽县 with their parties' household registration
# (公安局, rest), social assistance (民政局, rest) and their places' building (住建局, sql on
# PostgreSQL), every upstream call delayed 20 ms by the department simulator. Runs
# `gateway demo` (which starts the simulator in-process) over the `small` data set.
#
#   bench/federation.sh
#
# Three runs: the same events without federated fields (the gateway's own cost), cold
# (no Redis, so every request asks the departments) and warm (Redis cache filled by a
# first request). Each run: one connection (latency) and CONNECTIONS connections
# (throughput). Needs a release build and wrk (`apt-get install wrk`).
# Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/gov_bench_federation),
# DURATION (default 15s), CONNECTIONS (default 8), LATENCY_MS (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/gov-gateway-target}"
database_url="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/gov_bench_federation}"
duration="${DURATION:-15s}"
connections="${CONNECTIONS:-8}"
latency_ms="${LATENCY_MS:-20}"
listen=127.0.0.1:18090

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
scripts/ensure-services.sh
cargo build --release -p gateway
gateway="$CARGO_TARGET_DIR/release/gateway"
# Callers present tokens, as in production: the administrator's sees the whole city.
export GATEWAY_JWT_SECRET="${GATEWAY_JWT_SECRET:-bench-secret-of-at-least-thirty-two-bytes}"
TOKEN=$("$gateway" token --role ADMIN --jurisdiction 220400 --ttl 2h | tail -n1)
export TOKEN

bodies=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$bodies"
}
trap cleanup EXIT

cat > "$bodies/index.json" <<'JSON'
{"query":"{ events(first: 100, filter: { jurisdiction: \"220422\" }) { nodes { title parties { party { ... on Person { name birthDate } } } place { name address } } } }"}
JSON
cat > "$bodies/federated.json" <<'JSON'
{"query":"{ events(first: 100, filter: { jurisdiction: \"220422\" }) { nodes { title parties { party { ... on Person { name householdRegistration { registrationNumber householdType registeredAddress } socialAssistance { assistanceType monthlyAmount status } } } } place { name building { buildingNumber structure floors safetyRating } } } } }"}
JSON

# Starts the demo with REDIS_URL=$1 and sets the simulated latency.
start() {
  local log="$bodies/demo.log"
  REDIS_URL="$1" DATABASE_URL="$database_url" GATEWAY_LISTEN="$listen" RUST_LOG=warn \
    "$gateway" demo > "$log" 2>&1 &
  server=$!
  local simulator=""
  for _ in $(seq 1 600); do
    simulator=$(sed -nE 's/^department simulator: .* at (http[^ ]+) .*/\1/p' "$log")
    [ -n "$simulator" ] && curl -fs "http://$listen/readyz" >/dev/null && break
    kill -0 "$server" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.2
  done
  for department in 220422-GA 220422-MZ 220422-ZJ; do
    curl -fs -X PUT "$simulator/_sim/faults/$department" -H 'content-type: application/json' \
      -d "{\"latency_ms\": $latency_ms}" >/dev/null
  done
}

stop() {
  kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null
  server=""
}

measure() {
  local name=$1 body=$2
  echo "== $name, 1 connection"
  BODY_FILE="$bodies/$body.json" wrk -t1 -c1 -d"$duration" --latency -s bench/post.lua \
    "http://$listen/graphql" | grep -E '^ +50%|^ +99%|Requests/sec|failed answers'
  echo "== $name, $connections connections"
  BODY_FILE="$bodies/$body.json" wrk -t2 -c"$connections" -d"$duration" --latency -s bench/post.lua \
    "http://$listen/graphql" | grep -E '^ +50%|^ +99%|Requests/sec|failed answers'
}

start ""
measure "index only (no federated fields)" index
measure "federated, cold (no cache)" federated
stop

start "${REDIS_URL:-redis://127.0.0.1:6379}"
curl -fs "http://$listen/graphql" -H 'content-type: application/json' \
  -H "Authorization: Bearer $TOKEN" -d @"$bodies/federated.json" >/dev/null
measure "federated, warm (Redis cache)" federated
