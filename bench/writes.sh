#!/usr/bin/env bash
# The write path under load: workflow mutations (reportEvent + acceptEvent) from WRITERS
# clients spread over REPLICAS gateway replicas, and the latency of reads (READERS
# clients, spread the same way) alone and then during the write burst, ROUNDS times.
# Every answer is checked.
#
#   bench/writes.sh                 # REPLICAS=2 ROUNDS=3 SECONDS_PER_PHASE=10 WRITERS=32 READERS=4
#
# Environment: BENCH_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/gov_bench_writes); GATEWAY_BIN, another build of the
# gateway to measure instead of this checkout's (give it a database of its own when its
# migrations differ).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/gov-gateway-target}"
database_url="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/gov_bench_writes}"
rounds="${ROUNDS:-3}"
seconds="${SECONDS_PER_PHASE:-10}"
writers="${WRITERS:-32}"
readers="${READERS:-4}"
replicas="${REPLICAS:-2}"

scripts/ensure-services.sh
[ -n "${GATEWAY_BIN:-}" ] || cargo build --release -p gateway
cargo build --release -p integration-tests --example writes
gateway="${GATEWAY_BIN:-$CARGO_TARGET_DIR/release/gateway}"
load="$CARGO_TARGET_DIR/release/examples/writes"

source bench/lib.sh
seed_and_sign "$gateway" "$database_url"

gateways=()
for port in $(seq 18300 $((18300 + replicas - 1))); do
  DATABASE_URL="$database_url" DEPARTMENTS_DIR="" GATEWAY_LISTEN="127.0.0.1:$port" RUST_LOG=warn \
    "$gateway" serve &
  pids+=($!)
  ready "$port"
  gateways+=("http://127.0.0.1:$port")
done

for round in $(seq 1 "$rounds"); do
  echo "== round $round"
  "$load" --gateways "$(IFS=,; echo "${gateways[*]}")" --seconds "$seconds" \
    --writers "$writers" --readers "$readers"
done
