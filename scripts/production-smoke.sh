#!/usr/bin/env bash
# Builds the gateway as production ships it, without the simulated city
# (`--no-default-features`), and checks it: no `seed` and no `demo` command, and on an
# empty database it migrates, serves an authenticated query, and stops on SIGTERM.
# Needs PostgreSQL (scripts/ensure-services.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# A target folder of its own: the workspace build keeps its features.
target="${CARGO_TARGET_DIR:-target}/production"
cargo build -p gateway --no-default-features --target-dir "$target"
gateway="$target/debug/gateway"

for command in seed demo; do
    if "$gateway" "$command" --help >/dev/null 2>&1; then
        echo "production-smoke: the production build has \`$command\`" >&2
        exit 1
    fi
done

database=gateway_production_smoke
PGOPTIONS="--client-min-messages=warning" psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $database"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database"
export GATEWAY_JWT_SECRET="production-smoke-$(date +%s%N)-0123456789abcdef"
export GATEWAY_LISTEN=127.0.0.1:0
"$gateway" migrate

log=$(mktemp)
"$gateway" serve >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
address=""
for _ in $(seq 1 100); do
    address=$(sed -n 's|^GraphQL: *http://\(.*\)/graphql$|\1|p' "$log")
    [[ -n "$address" ]] && break
    sleep 0.1
done
if [[ -z "$address" ]]; then
    echo "production-smoke: the gateway did not start:" >&2
    cat "$log" >&2
    exit 1
fi
curl -fsS "http://$address/readyz" >/dev/null
token=$("$gateway" token --role ADMIN --jurisdiction 220400 | tail -n 1)
answer=$(curl -sS "http://$address/graphql" \
    -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"query":"{ __typename jurisdictions { totalCount } }"}')
expected='{"data":{"__typename":"Query","jurisdictions":{"totalCount":0}}}'
if [[ "$answer" != "$expected" ]]; then
    echo "production-smoke: expected $expected, got $answer" >&2
    exit 1
fi
refused=$(curl -sS -o /dev/null -w '%{http_code}' "http://$address/graphql" \
    -H 'content-type: application/json' -d '{"query":"{ __typename }"}')
if [[ "$refused" != 401 ]]; then
    echo "production-smoke: a request without a token got $refused, not 401" >&2
    exit 1
fi
kill -TERM "$pid"
wait "$pid"
trap 'rm -f "$log"' EXIT
PGOPTIONS="--client-min-messages=warning" psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $database"
echo "production-smoke: the production build serves ($address), without seed or demo"
