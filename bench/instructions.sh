#!/usr/bin/env bash
# Instructions per request of the store query (10 events, their parties, each party's
# name), counted by valgrind's callgrind: repeatable for the same build and data
# whatever else the machine is doing, so two builds compare without rounds. The gateway
# runs under callgrind; after 10 requests of warm-up the counts are zeroed, N requests
# are sent one after another, and the total is divided by N (the background jobs' polls
# in those seconds are included, a fraction of a percent).
#
#   bench/instructions.sh                # N=200
#   GATEWAY_BIN=/path/to/other/build bench/instructions.sh
#
# Environment: BENCH_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/gov_bench_peer, seeded at `small` when empty).
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/lib.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/gov-gateway-target}"
database_url="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/gov_bench_peer}"
requests="${N:-200}"
port=18430
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }

scripts/ensure-services.sh
if [ -z "${GATEWAY_BIN:-}" ]; then
  cargo build --release -p gateway
  GATEWAY_BIN="$CARGO_TARGET_DIR/release/gateway"
fi
seed_and_sign "$GATEWAY_BIN" "$database_url"
out=$(mktemp -d)
trap 'stop_servers; rm -rf "$out"' EXIT

DATABASE_URL="$database_url" DEPARTMENTS_DIR="" GATEWAY_LISTEN=127.0.0.1:$port RUST_LOG=warn \
  valgrind --tool=callgrind --callgrind-out-file="$out/callgrind" "$GATEWAY_BIN" serve \
  >"$out/log" 2>&1 &
pids+=($!); grinding=$!
body='{"query":"{ events(first: 10) { nodes { title parties { role party { ... on Person { name } ... on Organization { name } } } } } }"}'
post() {
  curl -fs -o "$out/answer" -X POST "http://127.0.0.1:$port/graphql" -H 'content-type: application/json' \
    -H "Authorization: Bearer $TOKEN" -d "$1"
}
for _ in $(seq 1 600); do post '{"query":"{ __typename }"}' && break; sleep 0.2; done
for _ in $(seq 1 10); do post "$body"; done
# Every answer checked: 10 events, no errors.
check() {
  [ "$(grep -o '"title"' "$out/answer" | wc -l)" -eq 10 ] && ! grep -q '"errors"' "$out/answer" \
    || { echo "a wrong answer: $(head -c 300 "$out/answer")" >&2; exit 1; }
}
check
callgrind_control -z "$grinding" >/dev/null 2>&1
for _ in $(seq 1 "$requests"); do post "$body"; check; done
callgrind_control -d "$grinding" >/dev/null 2>&1
total=$(sed -nE 's/^summary: ([0-9]+)/\1/p' "$out/callgrind.1")
echo "$(basename "$GATEWAY_BIN"): $requests requests, $total instructions, $((total / requests)) per request"
