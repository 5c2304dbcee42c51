#!/usr/bin/env bash
# Builds the gateway as production ships it, without the simulated city
# (`--no-default-features`), and checks it: no `seed` and no `demo` command, and on an
# empty database it migrates, serves an authenticated query, exports the request's spans
# to an OTLP collector (a stand-in that keeps what it is sent), and stops on SIGTERM.
# Needs PostgreSQL (scripts/ensure-services.sh) and Python 3.
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

# The collector: answers every OTLP/HTTP export, and appends its body to a file.
spans=$(mktemp)
python3 - "$spans" >"$spans.port" <<'PYTHON' &
import http.server, sys
out = sys.argv[1]
class Collector(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        with open(out, "ab") as f:
            f.write(body + b"\n")
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Collector)
print(server.server_address[1], flush=True)
server.serve_forever()
PYTHON
collector=$!
for _ in $(seq 1 50); do [[ -s "$spans.port" ]] && break; sleep 0.1; done

log=$(mktemp)
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$(cat "$spans.port")" OTEL_EXPORTER_OTLP_PROTOCOL=http/json \
    "$gateway" serve >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" "$collector" 2>/dev/null || true; rm -f "$log" "$spans" "$spans.port"' EXIT
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
answer=$(curl -sS "http://$address/graphql" -H 'x-request-id: production-smoke-trace' \
    -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"query":"{ __typename jurisdictions { totalCount } jurisdiction(code: \"220400\") { name } }"}')
expected='{"data":{"__typename":"Query","jurisdictions":{"totalCount":0},"jurisdiction":null}}'
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
# Stopping sends the spans still buffered: the request's, with its id, and its batches'.
for expected in '"name": "request"' '"stringValue": "production-smoke-trace"' '"name": "batch"'; do
    if ! grep -q "$expected" "$spans"; then
        echo "production-smoke: the collector got no span with $expected" >&2
        head -c 2000 "$spans" >&2
        exit 1
    fi
done
kill "$collector"
trap 'rm -f "$log" "$spans" "$spans.port"' EXIT
PGOPTIONS="--client-min-messages=warning" psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $database"
echo "production-smoke: the production build serves ($address), without seed or demo, and exports its spans"
