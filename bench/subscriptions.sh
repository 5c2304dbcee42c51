#!/usr/bin/env bash
# Subscriptions under load: SUBSCRIBERS WebSocket subscribers (graphql-transport-ws) of one
# department's dispatch signals; WHISTLES whistles blown through the first replica, each
# timed from the moment its mutation is sent to its arrival at every subscriber; the
# resident memory per idle subscription; the CPU spent per receipt; and the sustained
# rate of workflow mutations. Four runs, with the same load client:
#
#   1. the floor: a bare axum WebSocket broadcast (no GraphQL, no database);
#   2. one gateway replica, every board sending the same subscription (shared execution);
#   3. one replica, boards as they are in a city: each under an operation name of its
#      own, resuming from its own cursor (one of the last four whistles; it first gets
#      the ones after it again), with one of four selections;
#   4. two replicas, the subscribers spread over both.
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
cargo build --release -p integration-tests --example subscribers --example bare_broadcast
gateway="$CARGO_TARGET_DIR/release/gateway"
load="$CARGO_TARGET_DIR/release/examples/subscribers"
bare="$CARGO_TARGET_DIR/release/examples/bare_broadcast"

# The boards and the workflow act as the administrator, as the bearer of one token.
source bench/lib.sh
seed_and_sign "$gateway" "$database_url"

start() {
  DATABASE_URL="$database_url" DEPARTMENTS_DIR="" GATEWAY_LISTEN="127.0.0.1:$1" RUST_LOG=warn \
    "$gateway" serve &
  pids+=($!)
  ready "$1"
}

echo "== the floor: a bare axum WebSocket broadcast"
"$bare" 127.0.0.1:18200 &
bare_pid=$!
pids+=("$bare_pid")
ready 18200
"$load" --gateways http://127.0.0.1:18200 --subscribers "$subscribers" --whistles "$whistles" \
  --pids "$bare_pid" --mutation-seconds 0
kill -TERM "$bare_pid"

# Each run gets fresh gateways, so that memory is measured from a clean start.
start 18100
echo "== one replica, identical subscriptions"
"$load" --gateways http://127.0.0.1:18100 --subscribers "$subscribers" --whistles "$whistles" \
  --pids "${pids[-1]}"
kill -TERM "${pids[-1]}"

start 18101
echo "== one replica, distinct subscriptions (own names, own cursors, four selections)"
"$load" --gateways http://127.0.0.1:18101 --subscribers "$subscribers" --whistles "$whistles" \
  --pids "${pids[-1]}" --mutation-seconds 0 --distinct
kill -TERM "${pids[-1]}"

start 18102
start 18103
echo "== two replicas, identical subscriptions"
"$load" --gateways http://127.0.0.1:18102,http://127.0.0.1:18103 --subscribers "$subscribers" \
  --whistles "$whistles" --pids "${pids[-2]},${pids[-1]}" --mutation-seconds 5
