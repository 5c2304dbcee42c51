#!/usr/bin/env bash
# The write path under load: workflow mutations (reportEvent + acceptEvent) from WRITERS
# clients spread over two gateway replicas, and the latency of reads (READERS clients)
# alone and then during the write burst, ROUNDS times. Every answer is checked.
#
#   bench/writes.sh                 # ROUNDS=3 SECONDS_PER_PHASE=10 WRITERS=32 READERS=4
#
# Environment: BENCH_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/gov_bench_writes).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/gov-gateway-target}"
database_url="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/gov_bench_writes}"
rounds="${ROUNDS:-3}"
seconds="${SECONDS_PER_PHASE:-10}"
writers="${WRITERS:-32}"
readers="${READERS:-4}"

scripts/ensure-services.sh
cargo build --release -p gateway
cargo build --release -p integration-tests --example writes
gateway="$CARGO_TARGET_DIR/release/gateway"
load="$CARGO_TARGET_DIR/release/examples/writes"

DATABASE_URL="$database_url" "$gateway" seed --if-empty
export GATEWAY_JWT_SECRET="${GATEWAY_JWT_SECRET:-bench-secret-of-at-least-thirty-two-bytes}"
TOKEN=$("$gateway" token --role ADMIN --jurisdiction 220400 --ttl 2h | tail -n1)
export TOKEN

pids=()
cleanup() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

ready() {
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$1/readyz" >/dev/null && return; sleep 0.1; done
  echo "nothing answers on port $1" >&2; exit 1
}

for port in 18300 18301; do
  DATABASE_URL="$database_url" DEPARTMENTS_DIR="" GATEWAY_LISTEN="127.0.0.1:$port" RUST_LOG=warn \
    "$gateway" serve &
  pids+=($!)
  ready "$port"
done

for round in $(seq 1 "$rounds"); do
  echo "== round $round"
  "$load" --gateways http://127.0.0.1:18300,http://127.0.0.1:18301 --seconds "$seconds" \
    --writers "$writers" --readers "$readers"
done
