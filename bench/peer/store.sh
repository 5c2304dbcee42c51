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
# postgres://postgres@127.0.0.1:5432/gov_bench_peer, seeded at `small` when empty).
set -euo pipefail
cd "$(dirname "$0")/../.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/gov-gateway-target}"
database_url="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/gov_bench_peer}"
rounds="${ROUNDS:-3}"
duration="${DURATION:-10s}"
warmup="${WARMUP:-25s}"
connections="${CONNECTIONS:-10}"

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
scripts/ensure-services.sh
cargo build --release -p gateway
(cd bench/peer && npm ci --no-audit --no-fund --loglevel=error)
gateway="$CARGO_TARGET_DIR/release/gateway"
postgraphile="bench/peer/node_modules/.bin/postgraphile"

source bench/lib.sh
seed_and_sign "$gateway" "$database_url"
bodies=$(mktemp -d)
trap 'stop_servers; rm -rf "$bodies"' EXIT

# answers PORT: waits until the server on PORT answers GraphQL (PostGraphile has no
# readiness endpoint).
answers() {
  for _ in $(seq 1 300); do
    curl -fs -o /dev/null -X POST "http://127.0.0.1:$1/graphql" -H 'content-type: application/json' \
      -H "Authorization: Bearer $TOKEN" -d '{"query":"{ __typename }"}' && return
    sleep 0.1
  done
  echo "nothing answers on port $1" >&2; exit 1
}

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

# CPU time (clock ticks) of the processes given, their live children, and the children
# they have reaped (PostgreSQL's postmaster counts the backends that ended).
ticks() {
  local total=0 pid fields
  for pid in "$@" $(for p in "$@"; do pgrep -P "$p" || true; done); do
    [ -r "/proc/$pid/stat" ] || continue
    read -r -a fields < <(sed 's/^.*) //' "/proc/$pid/stat")
    total=$((total + fields[11] + fields[12] + fields[13] + fields[14]))
  done
  echo "$total"
}
# PostgreSQL: the postmaster (whose children are every backend).
postgres_pid=$(pgrep -o -x postgres)
hz=$(getconf CLK_TCK)

# run NAME PORT BODY DURATION PIDS...: one wrk run; prints a line of figures.
run() {
  local name=$1 port=$2 body=$3 length=$4; shift 4
  local server_before pg_before out requests failed
  server_before=$(ticks "$@")
  pg_before=$(ticks "$postgres_pid")
  out=$(BODY_FILE="$bodies/$body.json" TOKEN="$TOKEN" EXPECT='"title"' EXPECT_COUNT=10 \
    wrk -t2 -c"$connections" -d"$length" --latency -s bench/post.lua "http://127.0.0.1:$port/graphql")
  local server_used=$(( $(ticks "$@") - server_before ))
  local pg_used=$(( $(ticks "$postgres_pid") - pg_before ))
  requests=$(sed -nE 's/^failed answers: [0-9]+ of ([0-9]+)$/\1/p' <<<"$out")
  failed=$(sed -nE 's/^failed answers: ([0-9]+) of [0-9]+$/\1/p' <<<"$out")
  awk -v name="$name" -v rps="$(sed -nE 's/^Requests\/sec: *([0-9.]+).*/\1/p' <<<"$out")" \
      -v p99="$(sed -nE 's/^ *99% *([0-9.]+[a-z]+).*/\1/p' <<<"$out")" \
      -v server="$server_used" -v pg="$pg_used" -v hz="$hz" -v n="$requests" -v failed="$failed" \
    'BEGIN { printf "%-26s %9.0f req/s  p99 %8s  server %.3f ms/req  PostgreSQL %.3f ms/req  failed %d of %d\n",
             name, rps, p99, server * 1000 / hz / n, pg * 1000 / hz / n, failed, n }'
}

echo "== warm-up ($warmup each)"
run "gateway (warm-up)" 18400 gateway "$warmup" "$gateway_pid"
run "PostGraphile (warm-up)" 18401 postgraphile "$warmup" "$single_pid"
run "PostGraphile x2 (warm-up)" 18402 postgraphile "$warmup" "$cluster_pid"
for round in $(seq 1 "$rounds"); do
  echo "== round $round ($duration each, $connections connections)"
  run "gateway" 18400 gateway "$duration" "$gateway_pid"
  run "PostGraphile" 18401 postgraphile "$duration" "$single_pid"
  run "PostGraphile --cluster-workers 2" 18402 postgraphile "$duration" "$cluster_pid"
done
