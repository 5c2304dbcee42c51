#!/usr/bin/env bash
# The federated query against Hive Gateway over GraphQL Mesh, side by side in one run:
# the first 10 events of 东辽县, their parties, and each person's record in the county
# police's population register (220422-GA, served by the department simulator). The
# peer composes PostGraphile (npm, v4) over the same PostgreSQL tables with the
# simulator's OpenAPI document for 220422-GA, and looks the records up in one batched
# call per query, as the gateway does. Hive Gateway runs twice: one process (its
# default) and `--fork 2`. The gateway runs without Redis, so every request asks the
# department (no cache on either side). Every answer is checked (a 200, no `errors`,
# one register record per person who has one, counted in the database); the department
# calls per request are read from the simulator after each run.
#
#   bench/peer/federated.sh          # ROUNDS=3 DURATION=10s WARMUP=25s CONNECTIONS=10
#
# Environment: BENCH_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/gov_bench_peer, seeded at `small` when empty);
# GATEWAY_BIN, another build of the gateway to measure instead of this checkout's.
set -euo pipefail
cd "$(dirname "$0")/../.."

source bench/lib.sh
source bench/peer/lib.sh
simulator=http://127.0.0.1:17700

scripts/ensure-services.sh
cargo build --release -p gateway -p simulation --bin gateway --bin dept-sim
(cd bench/peer && npm ci --no-audit --no-fund --loglevel=error)
(cd bench/peer/hive && npm ci --no-audit --no-fund --loglevel=error)
gateway="${GATEWAY_BIN:-$CARGO_TARGET_DIR/release/gateway}"
postgraphile="bench/peer/node_modules/.bin/postgraphile"
hive="bench/peer/hive/node_modules/.bin/hive-gateway"

seed_and_sign "$gateway" "$database_url"
psql "$database_url" -q -v ON_ERROR_STOP=1 -f bench/peer/federated.sql
work=$(mktemp -d)
trap 'stop_servers; rm -rf "$work"' EXIT

"$CARGO_TARGET_DIR/release/dept-sim" --scale small --listen "${simulator#http://}" >/dev/null &
pids+=($!); simulator_pid=$!
REDIS_URL="" DATABASE_URL="$database_url" DEPARTMENTS_URL="$simulator" \
  GATEWAY_LISTEN=127.0.0.1:18410 RUST_LOG=warn "$gateway" serve &
pids+=($!); gateway_pid=$!
# Without the Node interface: its `node` field and `Query.query` would reach every other
# source's root fields, which composition then asks the store to serve.
"$postgraphile" -c "$database_url" -s public -n 127.0.0.1 -p 18411 -M --disable-query-log \
  --skip-plugins graphile-build:NodePlugin >/dev/null 2>&1 &
pids+=($!); store_pid=$!
answers 18411
for _ in $(seq 1 100); do curl -fs -o /dev/null "$simulator/220422-GA/openapi.json" && break; sleep 0.1; done
(cd bench/peer/hive && PEER_STORE_URL=http://127.0.0.1:18411/graphql DEPARTMENTS_URL="$simulator" \
  node_modules/.bin/mesh-compose -o "$work/supergraph.graphql" >/dev/null)
"$hive" supergraph "$work/supergraph.graphql" --host 127.0.0.1 --port 18412 >/dev/null 2>&1 &
pids+=($!); single_pid=$!
"$hive" supergraph "$work/supergraph.graphql" --host 127.0.0.1 --port 18413 --fork 2 >/dev/null 2>&1 &
pids+=($!); forked_pid=$!
for port in 18410 18412 18413; do answers "$port"; done

cat > "$work/gateway.json" <<'JSON'
{"query":"{ events(first: 10, filter: { jurisdiction: \"220422\" }) { nodes { title parties { role party { ... on Person { name householdRegistration { registrationNumber householdType registeredAddress } } } } } } }"}
JSON
cat > "$work/peer.json" <<'JSON'
{"query":"{ eventsIn(county: \"220422\", first: 10) { nodes { title eventPartiesByEventId(orderBy: PRIMARY_KEY_ASC) { nodes { role personByPersonId { name household { hjbh hklx hjdz { xxdz } } } } } } } }"}
JSON

# The persons of those events with a record in the register: what each answer must hold.
records=$(psql "$database_url" -Atc "
  SELECT count(*) FROM (SELECT id FROM events WHERE left(jurisdiction_code, 6) = '220422'
                         ORDER BY id LIMIT 10) e
    JOIN event_parties p ON p.event_id = e.id
    JOIN entity_links l ON l.entity_id = p.person_id AND l.department_code = '220422-GA'")
# Both sides answer the same events with the same records, in the same order.
same() {
  python3 - "$@" <<'PY'
import json, re, sys
def picks(text, *keys):
    return [m.group(2) for m in re.finditer(r'"(%s)":"([^"]*)"' % "|".join(keys), text)]
ours, theirs = sys.argv[1], sys.argv[2]
a = picks(ours, "title", "registrationNumber")
b = picks(theirs, "title", "hjbh")
sys.exit(0 if a == b and len(a) > 10 else f"the answers differ:\n{a}\n{b}")
PY
}
post() {
  curl -fs "http://127.0.0.1:$1/graphql" -H 'content-type: application/json' \
    -H "Authorization: Bearer $TOKEN" -d @"$work/$2.json"
}
ours=$(post 18410 gateway)
same "$ours" "$(post 18412 peer)"
same "$ours" "$(post 18413 peer)"
echo "each answer: 10 events, $records register records"

# run NAME PORT BODY EXPECT DURATION PID: one measured run, then the department calls
# per answered request.
run() {
  curl -fs -X DELETE "$simulator/_sim/stats" >/dev/null
  local line calls
  line=$(measure "$1" "$2" "$work/$3.json" "$5" "$4" "$records" "$6" "$simulator_pid $store_pid")
  calls=$(curl -fs "$simulator/_sim/stats" | python3 -c \
    'import json,sys; print(json.load(sys.stdin).get("220422-GA", {}).get("requests", 0))')
  local answered
  answered=$(sed -nE 's/.*failed [0-9]+ of ([0-9]+)$/\1/p' <<<"$line")
  awk -v line="$line" -v calls="$calls" -v n="$answered" \
    'BEGIN { printf "%s  department calls/req %.2f\n", line, calls / n }'
}

echo "== warm-up ($warmup each)"
run "gateway (warm-up)" 18410 gateway '"registrationNumber"' "$warmup" "$gateway_pid"
run "Hive Gateway (warm-up)" 18412 peer '"hjbh"' "$warmup" "$single_pid"
run "Hive Gateway --fork 2 (warm-up)" 18413 peer '"hjbh"' "$warmup" "$forked_pid"
for round in $(seq 1 "$rounds"); do
  echo "== round $round ($duration each, $CONNECTIONS connections)"
  run "gateway" 18410 gateway '"registrationNumber"' "$duration" "$gateway_pid"
  run "Hive Gateway" 18412 peer '"hjbh"' "$duration" "$single_pid"
  run "Hive Gateway --fork 2" 18413 peer '"hjbh"' "$duration" "$forked_pid"
done
