#!/usr/bin/env bash
# Query latency of the gateway over the city-scale data set (1,000,000 people, 200,000
# events, ...). Needs a release build and wrk (`apt-get install wrk`).
#
#   bench/queries.sh            # seeds `governance_city` first when it is empty (~2 min)
#
# Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/governance_city),
# DURATION (default 15s), CONNECTIONS (default 16).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/gov-gateway-target}"
database_url="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/governance_city}"
duration="${DURATION:-15s}"
connections="${CONNECTIONS:-16}"
listen=127.0.0.1:18080

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release -p gateway
gateway="$CARGO_TARGET_DIR/release/gateway"

DATABASE_URL="$database_url" "$gateway" seed --scale city --if-empty
# Callers present tokens, as in production: the administrator's sees the whole city.
export GATEWAY_JWT_SECRET="${GATEWAY_JWT_SECRET:-bench-secret-of-at-least-thirty-two-bytes}"
TOKEN=$("$gateway" token --role ADMIN --jurisdiction 220400 --ttl 2h | tail -n1)
export TOKEN
DATABASE_URL="$database_url" GATEWAY_LISTEN="$listen" RUST_LOG=warn "$gateway" serve &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 50); do curl -fs "http://$listen/readyz" >/dev/null && break; sleep 0.2; done

person_id=$(curl -fs "http://$listen/graphql" -H 'content-type: application/json' \
  -H "Authorization: Bearer $TOKEN" \
  -d '{"query":"{ persons(last: 1) { nodes { id } } }"}' | sed -E 's/.*"id":"([^"]+)".*/\1/')

bodies=$(mktemp -d)
cat > "$bodies/node.json" <<JSON
{"query":"query(\$id: ID!) { person(id: \$id) { name gender grid { name parent { name } } residence { address } } }","variables":{"id":"$person_id"}}
JSON
cat > "$bodies/events100.json" <<'JSON'
{"query":"{ events(first: 100, filter: { jurisdiction: \"220421\" }) { totalCount nodes { title status place { name jurisdiction { name } } jurisdiction { name parent { name } } grid { code } reporter { name residence { address } } parties { role party { ... on Person { name grid { name } } ... on Organization { name place { name } } } } } } }"}
JSON
cat > "$bodies/search.json" <<'JSON'
{"query":"{ persons(first: 20, filter: { nameContains: \"晓\", jurisdiction: \"220402\" }) { totalCount nodes { name residence { name } } } }"}
JSON
cat > "$bodies/subtree.json" <<'JSON'
{"query":"{ jurisdiction(code: \"220421\") { persons(first: 20) { totalCount nodes { name } } events(last: 20, filter: { statuses: [REPORTED, ACCEPTED, DISPATCHED, IN_PROGRESS] }) { totalCount nodes { title } } } }"}
JSON

for name in node events100 search subtree; do
  echo "== $name"
  BODY_FILE="$bodies/$name.json" wrk -t2 -c"$connections" -d"$duration" --latency \
    -s bench/post.lua "http://$listen/graphql" | grep -E 'Latency|50%|99%|Requests/sec|failed answers'
done
