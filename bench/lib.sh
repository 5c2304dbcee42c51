# Shared by the bench scripts (sourced, after `set -euo pipefail` and `cd` to the
# checkout): the seeded database, an ADMIN bearer token, servers stopped on exit.

# seed_and_sign GATEWAY DATABASE_URL: seeds the database when empty (`small`) and exports
# TOKEN, an ADMIN token for the whole city signed with GATEWAY_JWT_SECRET.
seed_and_sign() {
  DATABASE_URL="$2" "$1" seed --if-empty
  export GATEWAY_JWT_SECRET="${GATEWAY_JWT_SECRET:-bench-secret-of-at-least-thirty-two-bytes}"
  TOKEN=$("$1" token --role ADMIN --jurisdiction 220400 --ttl 2h | tail -n1)
  export TOKEN
}

# Servers started by the script (append their pids); stopped, with their children, on exit:
# asked to stop, then, 10 s later, killed (Hive Gateway's `--fork 2` has been seen to
# outlive the first TERM, which left the script waiting for ever).
pids=()
any_alive() {
  local pid
  for pid in "$@"; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}
stop_servers() {
  local pid
  for pid in "${pids[@]}"; do
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
  done
  for _ in $(seq 1 100); do
    any_alive "${pids[@]}" || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap stop_servers EXIT

# ready PORT: waits until the gateway on PORT says it is ready.
ready() {
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$1/readyz" >/dev/null && return; sleep 0.1; done
  echo "nothing answers on port $1" >&2; exit 1
}

# ticks PIDS...: CPU time (clock ticks) of the processes given, their live children, and
# the children they have reaped (PostgreSQL's postmaster counts the backends that ended).
ticks() {
  local total=0 pid fields
  for pid in "$@" $(for p in "$@"; do pgrep -P "$p" || true; done); do
    [ -r "/proc/$pid/stat" ] || continue
    read -r -a fields < <(sed 's/^.*) //' "/proc/$pid/stat")
    total=$((total + fields[11] + fields[12] + fields[13] + fields[14]))
  done
  echo "$total"
}
hz=$(getconf CLK_TCK)
