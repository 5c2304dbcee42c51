#!/usr/bin/env bash
# The write path under load: workflow mutations (reportEvent + acceptEvent) from WRITERS
# clients spread over REPLICAS gateway replicas, and the latency of reads (READERS
# clients, spread the same way) alone and then during the write burst, ROUNDS times.
# Every answer is checked.
#
#   bench/writes.sh                 # REPLICAS=2 ROUNDS=3 SECONDS_PER_PHASE=10 WRITERS=32 READERS=4
#   READERS=0 bench/writes.sh       # the writes alone, and their CPU per mutation
#   READ_REPLICAS=1 bench/writes.sh # the readers on replicas of their own
#   READ_RATE=200 bench/writes.sh   # 200 reads/s in all, sent on time (default: each reader
#                                   # reads again as soon as answered)
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
read_replicas="${READ_REPLICAS:-0}"
read_rate="${READ_RATE:-0}"

scripts/ensure-services.sh
[ -n "${GATEWAY_BIN:-}" ] || cargo build --release -p gateway
cargo build --release -p integration-tests --example writes
gateway="${GATEWAY_BIN:-$CARGO_TARGET_DIR/release/gateway}"
load="$CARGO_TARGET_DIR/release/examples/writes"

source bench/lib.sh
seed_and_sign "$gateway" "$database_url"

gateways=() read_gateways=()
for port in $(seq 18300 $((18300 + replicas + read_replicas - 1))); do
  DATABASE_URL="$database_url" DEPARTMENTS_DIR="" GATEWAY_LISTEN="127.0.0.1:$port" RUST_LOG=warn \
    "$gateway" serve &
  pids+=($!)
  ready "$port"
  if [ "$port" -lt $((18300 + replicas)) ]; then
    gateways+=("http://127.0.0.1:$port")
  else
    read_gateways+=("http://127.0.0.1:$port")
  fi
done

postgres_pid=$(pgrep -o -x postgres)
for round in $(seq 1 "$rounds"); do
  echo "== round $round"
  gateways_before=$(ticks "${pids[@]}"); postgres_before=$(ticks "$postgres_pid")
  out=$("$load" --gateways "$(IFS=,; echo "${gateways[*]}")" \
    --read-gateways "$(IFS=,; echo "${read_gateways[*]}")" --seconds "$seconds" \
    --writers "$writers" --readers "$readers" --read-rate "$read_rate")
  echo "$out"
  # CPU per mutation over the round: with READERS=0 the writes' own cost, otherwise the
  # readers' (idle phase included) too.
  mutations=$(sed -nE 's/^workflow mutations: ([0-9]+) per second.*/\1/p' <<<"$out")
  awk -v g=$(( $(ticks "${pids[@]}") - gateways_before )) -v p=$(( $(ticks "$postgres_pid") - postgres_before )) \
      -v n=$(( mutations * seconds )) -v hz="$hz" -v readers="$readers" \
    'BEGIN { printf "CPU s over the round (both phases): gateways %.1f, PostgreSQL %.1f\n", g / hz, p / hz
             if (n > 0) printf "CPU ms per mutation%s: gateways %.3f, PostgreSQL %.3f\n",
             (readers > 0 ? " (reads included)" : ""), g * 1000 / hz / n, p * 1000 / hz / n }'
done
