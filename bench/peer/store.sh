#!/usr/bin/env bash
# The gateway's store part against PostGraphile (npm, v4), side by side in one run, over
# the same PostgreSQL tables and the same query: 10 events, their parties, each party's
# name. Both serve on this machine's 2 cores; wrk drives each in turn with the same
# connections and checks every answer (a 200, no `errors`, exactly 10 `"title"`).
# PostGraphile runs twice: one process (its default) and `--cluster-workers 2`. Each
# server is warmed up first (Node's JIT needs 20-30 s). Per request, the CPU of the
# server's processes and of PostgreSQL's (all of them: both peers use the same server)
# is read from /proc before and after each run.
#
#   bench/peer/store.sh              # ROUNDS=3 DURATION=10s WARMUP=25s CONNECTIONS=10
#
# Environment: BENCH_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/gov_bench_peer, seeded at `small` when empty);
# GATEWAY_BIN, another build of the gateway to measure instead of this checkout's.
set -euo pipefail
cd "$(dirname "$0")/../.."

source bench/lib.sh
source bench/peer/lib.sh

scripts/ensure-services.sh
cargo build --release -p gateway
(cd bench/peer && npm ci --no-audit --no-fund --loglevel=error)
gateway="${GATEWAY_BIN:-$CARGO_TARGET_DIR/release/gateway}"
postgraphile="bench/peer/node_modules/.bin/postgraphile"

seed_and_sign "$gateway" "$database_url"
bodies=$(mktemp -d)
trap 'stop_servers; rm -rf "$bodies"' EXIT

DATABASE_URL="$database_url" DEPARTMENTS_DIR="" GATEWAY_LISTEN=127.0.0.1:18400 RUST_LOG=warn \
  "$gateway" serve &
pids+=($!); gateway_pid=$!
"$postgraphile" -c "$database_url" -s public -n 127.0.0.1 -p 18401 -M --disable-query-log \
  >/dev/null 2>&1 &
pids+=($!); single_pid=$!
"$postgraphile" -c "$database_url" -s public -n 127.0.0.1 -p 18402 -M --disable-query-log \
  --cluster-workers 2 >/dev/null 2>&1 &
pids+=($!); cluster_pid=$!
for port in 18400 18401 18402; do answers "$port"; done

cat > "$bodies/gateway.json" <<'JSON'
{"query":"{ events(first: 10) { nodes { title parties { role party { ... on Person { name } ... on Organization { name } } } } } }"}
JSON
cat > "$bodies/postgraphile.json" <<'JSON'
{"query":"{ allEvents(first: 10, orderBy: PRIMARY_KEY_ASC) { nodes { title eventPartiesByEventId(orderBy: PRIMARY_KEY_ASC) { nodes { role personByPersonId { name } organizationByOrganizationId { name } } } } } }"}
JSON

# run NAME PORT BODY DURATION PID: one measured run of the 10-event query.
run() {
  measure "$1" "$2" "$bodies/$3.json" "$4" '"title"' 10 "$5" ""
}

echo "== warm-up ($warmup each)"
run "gateway (warm-up)" 18400 gateway "$warmup" "$gateway_pid"
run "PostGraphile (warm-up)" 18401 postgraphile "$warmup" "$single_pid"
run "PostGraphile x2 (warm-up)" 18402 postgraphile "$warmup" "$cluster_pid"
for round in $(seq 1 "$rounds"); do
  echo "== round $round ($duration each, $CONNECTIONS connections)"
  run "gateway" 18400 gateway "$duration" "$gateway_pid"
  run "PostGraphile" 18401 postgraphile "$duration" "$single_pid"
  run "PostGraphile --cluster-workers 2" 18402 postgraphile "$duration" "$cluster_pid"
done
