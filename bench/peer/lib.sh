# Shared by the peer benches (sourced after bench/lib.sh): their settings, readiness of
# servers without a readiness endpoint, and one measured wrk run (CPU from bench/lib.sh's
# `ticks`).

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/gov-gateway-target}"
database_url="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/gov_bench_peer}"
rounds="${ROUNDS:-3}"
duration="${DURATION:-10s}"
warmup="${WARMUP:-25s}"
export CONNECTIONS="${CONNECTIONS:-10}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }

# answers PORT: waits until the server on PORT answers GraphQL.
answers() {
  for _ in $(seq 1 600); do
    curl -fs -o /dev/null -X POST "http://127.0.0.1:$1/graphql" -H 'content-type: application/json' \
      -H "Authorization: Bearer $TOKEN" -d '{"query":"{ __typename }"}' && return
    sleep 0.1
  done
  echo "nothing answers on port $1" >&2; exit 1
}

# measure NAME PORT BODY_FILE DURATION EXPECT COUNT "SERVER PIDS" "SYSTEM PIDS": one wrk
# run (CONNECTIONS connections, 2 threads or one per connection), every answer checked
# (a 200, no `errors`, exactly COUNT occurrences of EXPECT); prints requests/s, p99, the
# CPU per request of the server's processes, of PostgreSQL, and of the whole system (the
# server's, the services it calls, PostgreSQL's), and the failed answers.
measure() {
  local name=$1 port=$2 body=$3 length=$4 expect=$5 count=$6 server=$7 system=$8
  local server_before pg_before system_before out requests failed postgres_pid
  # PostgreSQL: the postmaster (whose children are every backend).
  postgres_pid=$(pgrep -o -x postgres)
  # shellcheck disable=SC2086 # pid lists
  server_before=$(ticks $server); pg_before=$(ticks "$postgres_pid")
  # shellcheck disable=SC2086
  system_before=$(ticks $server $system "$postgres_pid")
  out=$(BODY_FILE="$body" TOKEN="$TOKEN" EXPECT="$expect" EXPECT_COUNT="$count" \
    wrk -t"$(( CONNECTIONS < 2 ? CONNECTIONS : 2 ))" -c"$CONNECTIONS" -d"$length" --latency -s bench/post.lua "http://127.0.0.1:$port/graphql")
  # shellcheck disable=SC2086
  local server_used=$(( $(ticks $server) - server_before ))
  local pg_used=$(( $(ticks "$postgres_pid") - pg_before ))
  # shellcheck disable=SC2086
  local system_used=$(( $(ticks $server $system "$postgres_pid") - system_before ))
  requests=$(sed -nE 's/^failed answers: [0-9]+ of ([0-9]+)$/\1/p' <<<"$out")
  failed=$(sed -nE 's/^failed answers: ([0-9]+) of [0-9]+$/\1/p' <<<"$out")
  awk -v name="$name" -v rps="$(sed -nE 's/^Requests\/sec: *([0-9.]+).*/\1/p' <<<"$out")" \
      -v p99="$(sed -nE 's/^ *99% *([0-9.]+[a-z]+).*/\1/p' <<<"$out")" \
      -v server="$server_used" -v pg="$pg_used" -v whole="$system_used" -v hz="$hz" -v n="$requests" -v failed="$failed" \
    'BEGIN { printf "%-30s %6.0f req/s  p99 %8s  CPU ms/req: server %.3f  PostgreSQL %.3f  system %.3f  failed %d of %d\n",
             name, rps, p99, server * 1000 / hz / n, pg * 1000 / hz / n, whole * 1000 / hz / n, failed, n }'
}
