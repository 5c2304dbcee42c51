#!/usr/bin/env bash
# Subscriptions under load: SUBSCRIBERS WebSocket subscribers (graphql-transport-ws) of one
# department's dispatch signals, on one gateway replica and then spread over two; WHISTLES
# whistles blown through the first replica, each timed from the moment its mutation is
# sent to its arrival at every subscriber; the gateways' resident memory per idle
# subscription; and the sustained rate of workflow mutations.
#
#   bench/subscriptions.sh                 # SUBSCRIBERS=10000 WHISTLES=10
#
# Needs the open-files limit raised (the script asks for 20,000; each side of a
# connection holds one). Environment: BENCH_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/gov_bench_signals), SUBSCRIBERS, WHISTLES.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/gov-gateway-target}"
database_url="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/gov_bench_signals}"
subscribers="${SUBSCRIBERS:-10000}"
whistles="${WHISTLES:-10}"

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
scripts/ensure-services.sh
cargo build --release -p gateway
cargo build --release -p integration-tests --example subscribers
gateway="$CARGO_TARGET_DIR/release/gateway"
load="$CARGO_TARGET_DIR/release/examples/subscribers"

DATABASE_URL="$database_url" "$gateway" seed --if-empty

pids=()
cleanup() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

start() {
  DATABASE_URL="$database_url" DEPARTMENTS_DIR="" GATEWAY_LISTEN="127.0.0.1:$1" RUST_LOG=warn \
    "$gateway" serve &
  pids+=($!)
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$1/readyz" >/dev/null && return; sleep 0.1; done
  echo "the gateway on port $1 did not start" >&2; exit 1
}

start 18100
echo "== one replica"
"$load" --gateways http://127.0.0.1:18100 --subscribers "$subscribers" --whistles "$whistles" \
  --pids "${pids[0]}"

start 18101
echo "== two replicas"
"$load" --gateways http://127.0.0.1:18100,http://127.0.0.1:18101 --subscribers "$subscribers" \
  --whistles "$whistles" --pids "${pids[0]},${pids[1]}" --mutation-seconds 5
