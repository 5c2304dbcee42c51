#!/usr/bin/env bash
# Makes sure PostgreSQL (127.0.0.1:5432) with PostGIS, Redis (127.0.0.1:6379) and MariaDB
# (127.0.0.1:3306, where the tests put the court and tax departments' databases) answer,
# starting the local servers when they are down and installing PostGIS (Debian's
# postgresql-<major>-postgis-3) when the server lacks it; and Debian's Chromium with CJK fonts
# and nginx, with which the dispatch board is tested (headless, behind the trial stack's
# proxy configuration). Used by CI and usable on any developer
# machine that runs them as Debian packages.
set -euo pipefail

wait_for() {
  local what=$1 check=$2
  for _ in $(seq 1 50); do
    if eval "$check" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "$what did not come up" >&2
  return 1
}

postgres_up='pg_isready -q -h 127.0.0.1 -p 5432'
redis_up='[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]'
mariadb_up='mariadb-admin --host=127.0.0.1 --port=3306 --user=root ping'

if ! eval "$postgres_up" >/dev/null 2>&1; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  wait_for PostgreSQL "$postgres_up"
fi

postgis_available() {
  [ "$(psql -h 127.0.0.1 -U postgres -d postgres -Atc \
    "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'" 2>/dev/null)" = 1 ]
}
if ! postgis_available; then
  major=$(psql -h 127.0.0.1 -U postgres -d postgres -Atc "SHOW server_version_num" | cut -c1-2)
  echo "installing PostGIS for PostgreSQL $major"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "postgresql-$major-postgis-3" >/dev/null ||
    { apt-get update >/dev/null && apt-get install -y --no-install-recommends "postgresql-$major-postgis-3" >/dev/null; }
  postgis_available || { echo "PostGIS is not available to PostgreSQL $major" >&2; exit 1; }
fi

if ! eval "$redis_up" >/dev/null 2>&1; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis "$redis_up"
fi

if ! eval "$mariadb_up" >/dev/null 2>&1; then
  echo "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for MariaDB "$mariadb_up"
fi

if ! command -v chromium >/dev/null 2>&1 || ! command -v nginx >/dev/null 2>&1 ||
  ! fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null; then
  echo "installing Chromium, CJK fonts and nginx for the board's test"
  export DEBIAN_FRONTEND=noninteractive
  packages="chromium fonts-noto-cjk nginx-light"
  # shellcheck disable=SC2086
  apt-get install -y --no-install-recommends $packages >/dev/null ||
    { apt-get update >/dev/null && apt-get install -y --no-install-recommends $packages >/dev/null; }
fi

echo "PostgreSQL (with PostGIS), Redis and MariaDB are up; Chromium and nginx are installed"
