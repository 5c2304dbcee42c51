#!/usr/bin/env bash
# 考核 over the city-scale data set: a month of figures for the 47 townships, a year of
# department rankings, and a full export of a year of events, each beside a floor
# measured in the same run (the same SQL run by psql), every answer checked.
#
#   bench/kaohe.sh              # seeds `governance_city` first when it is empty (~3 min)
#
# Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/governance_city),
# ROUNDS (default 15).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/gov-gateway-target}"
database_url="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/governance_city}"
rounds="${ROUNDS:-15}"
listen=127.0.0.1:18081

for tool in curl jq psql python3; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done
cargo build --release -p gateway
gateway="$CARGO_TARGET_DIR/release/gateway"

DATABASE_URL="$database_url" "$gateway" seed --scale city --if-empty
export GATEWAY_JWT_SECRET="${GATEWAY_JWT_SECRET:-bench-secret-of-at-least-thirty-two-bytes}"
TOKEN=$("$gateway" token --role ADMIN --jurisdiction 220400 --ttl 2h | tail -n1)
DATABASE_URL="$database_url" GATEWAY_LISTEN="$listen" RUST_LOG=warn "$gateway" serve &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 50); do curl -fs "http://$listen/readyz" >/dev/null && break; sleep 0.2; done

month_from=2026-10-01T00:00:00+08:00
month_until=2026-11-01T00:00:00+08:00
year_from=2025-11-01T00:00:00+08:00
year_until=2026-11-01T00:00:00+08:00

# Seconds per call of `$1` (a shell function that checks its own answer), over $rounds
# rounds: min, median, max.
timed() {
  local times=()
  for _ in $(seq 1 "$rounds"); do
    local start end
    start=$(date +%s.%N)
    "$1"
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | python3 -c '
import sys, statistics
t = sorted(float(x) * 1000 for x in sys.stdin)
print(f"min {t[0]:.0f} ms, median {statistics.median(t):.0f} ms, max {t[-1]:.0f} ms")'
}

graphql() {
  curl -fsS "http://$listen/graphql" -H 'content-type: application/json' \
    -H "Authorization: Bearer $TOKEN" -d "$1"
}

figures_month() {
  local body
  body=$(graphql "{\"query\":\"{ eventStats(filter: { reportedFrom: \\\"$month_from\\\", reportedUntil: \\\"$month_until\\\" }, groupBy: [TOWNSHIP]) { township { code } figures { events resolved responseRate satisfactionRate reworkRate overdueRate shareBeforeLitigation meanHandlingHours p90HandlingHours } } }\"}")
  [ "$(jq '.data.eventStats | length' <<<"$body")" = 47 ] || { echo "bad answer: $body" >&2; exit 1; }
  [ "$(jq '.errors' <<<"$body")" = null ] || { echo "errors: $body" >&2; exit 1; }
}

ranking_year() {
  local body
  body=$(graphql "{\"query\":\"{ departmentRanking(period: { from: \\\"$year_from\\\", until: \\\"$year_until\\\" }) { rank score unit { code } figures { summonses responseRate summonsOverdueRate } } }\"}")
  [ "$(jq '.data.departmentRanking | length' <<<"$body")" = 96 ] || { echo "bad answer: $body" >&2; exit 1; }
  # In the seeded history 14 of the 24 kinds of department answer summonses (three more
  # only decline, and are not scored): 56 scored.
  [ "$(jq '[.data.departmentRanking[] | select(.score != null)] | length' <<<"$body")" = 56 ] \
    || { echo "too few departments scored: $body" >&2; exit 1; }
  [ "$(jq '.data.departmentRanking[0].rank' <<<"$body")" = 1 ] || { echo "no rank 1: $body" >&2; exit 1; }
}

# The floors: the same aggregation run by psql alone, no gateway.
floor_month() {
  psql "$database_url" -Atq -c "SELECT count(*) FROM (SELECT left(t.jurisdiction_code, 9),
      count(*), count(*) FILTER (WHERE t.resolved), count(*) FILTER (WHERE t.satisfied),
      percentile_cont(0.9) WITHIN GROUP (ORDER BY t.handling_hours) FILTER (WHERE t.resolved)
    FROM bi.events t WHERE t.reported_at >= '$month_from' AND t.reported_at < '$month_until'
    GROUP BY 1) g" >/dev/null
}

echo "== a month of figures for the 47 townships (eventStats groupBy TOWNSHIP)"
# Assigned first: a failed check inside stops the script.
result=$(timed figures_month)
echo "gateway: $result"
result=$(timed floor_month)
echo "floor (the events half of the SQL in psql): $result"

echo "== a year of department rankings (96 departments)"
result=$(timed ranking_year)
echo "gateway: $result"

echo "== a full export of a year of events (CSV)"
expected=$(psql "$database_url" -Atq -c "SELECT count(*) FROM events WHERE reported_at >= '$year_from' AND reported_at < '$year_until'")
query="reportedFrom=${year_from/+/%2B}&reportedUntil=${year_until/+/%2B}"
for round in 1 2 3; do
  before=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
  start=$(date +%s.%N)
  rows=$(curl -fsS "http://$listen/export/events.csv?$query" -H "Authorization: Bearer $TOKEN" \
    | python3 -c 'import csv, sys; print(sum(1 for _ in csv.reader(sys.stdin)) - 1)')
  end=$(date +%s.%N)
  after=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
  [ "$rows" = "$expected" ] || { echo "exported $rows rows, expected $expected" >&2; exit 1; }
  seconds=$(echo "$end - $start" | bc -l)
  printf 'round %d: %d rows in %.2f s = %.0f rows/s; gateway peak memory %d -> %d MiB\n' \
    "$round" "$rows" "$seconds" "$(echo "$rows / $seconds" | bc -l)" $((before / 1024)) $((after / 1024))
done
start=$(date +%s.%N)
psql "$database_url" -Atq -c "\\copy (SELECT id, title, category, channel, urgency, status, tier,
    resolution_tier, jurisdiction_code, county_code, township_code, community_code, handling_code,
    reported_at, accepted_at, due_at, resolved_at, closed_at, overdue_at, satisfaction, reworks,
    accepted, resolved, closed, overdue, satisfied, reworked, handling_hours
  FROM bi.events WHERE reported_at >= '$year_from' AND reported_at < '$year_until' ORDER BY id)
  TO STDOUT WITH CSV HEADER" | python3 -c 'import csv, sys; print(sum(1 for _ in csv.reader(sys.stdin)) - 1)' >/dev/null
end=$(date +%s.%N)
seconds=$(echo "$end - $start" | bc -l)
printf 'floor (psql \\copy of the same rows, same parser): %.2f s = %.0f rows/s\n' \
  "$seconds" "$(echo "$expected / $seconds" | bc -l)"
