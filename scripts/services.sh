#!/usr/bin/env bash
# Local PostgreSQL + Redis for development and tests, all state under .local/.
# Usage: scripts/services.sh up|down|status   (ports: PG_PORT, REDIS_PORT)
set -euo pipefail

PROJECT="$(cd "$(dirname "$0")/.." && pwd)"
LOCAL="$PROJECT/.local"
PGDATA="$LOCAL/pg"
PG_RUN="$LOCAL/run"
LOGS="$LOCAL/log"
REDIS_DIR="$LOCAL/redis"
PG_PORT="${PG_PORT:-55432}"
REDIS_PORT="${REDIS_PORT:-56379}"
# Unix socket paths are limited to ~107 bytes; fall back to /tmp in deep checkouts.
if [ "${#PG_RUN}" -gt 80 ]; then PG_RUN="/tmp/zhuqi-pg-$PG_PORT"; fi

is_root() { [ "$(id -u)" = 0 ]; }
die() { echo "services: $*" >&2; exit 1; }

# PostgreSQL refuses to run as root: run its tools as the postgres user
# (from / so an unreadable cwd does not bother them).
as_pg() {
  if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

pg_bin() {
  local v
  if [ -f "$PGDATA/PG_VERSION" ]; then v="$(cat "$PGDATA/PG_VERSION")"
  else v="$(find /usr/lib/postgresql -maxdepth 1 -mindepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n1)"
  fi
  echo "/usr/lib/postgresql/$v/bin"
}

install_missing() {
  local pkgs=()
  compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || pkgs+=(postgresql)
  command -v psql >/dev/null || pkgs+=(postgresql-client)
  { command -v redis-server && command -v redis-cli; } >/dev/null || pkgs+=(redis-server)
  dpkg -s libpq-dev >/dev/null 2>&1 || pkgs+=(libpq-dev)
  [ "${#pkgs[@]}" -eq 0 ] && return
  is_root || die "missing packages: ${pkgs[*]} (run as root or install them)"
  echo "services: installing ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
}

# The postgres user must be able to traverse every parent of its files in
# .local (e.g. a checkout under /root); grant o+x only where it is missing.
fix_traversal() {
  is_root || return 0
  local d="$LOGS"
  while [ "$d" != / ]; do
    runuser -u postgres -- test -x "$d" || chmod o+x "$d"
    d="$(dirname "$d")"
  done
}

pg_running() { [ -f "$PGDATA/postmaster.pid" ] && as_pg "$(pg_bin)/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }

pg_up() {
  local bin; bin="$(pg_bin)"
  mkdir -p "$PGDATA" "$PG_RUN" "$LOGS"
  touch "$LOGS/postgres.log"
  if is_root; then chown postgres: "$PGDATA" "$PG_RUN" "$LOGS/postgres.log"; fi
  chmod 700 "$PGDATA"
  fix_traversal
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    echo "services: initdb $PGDATA"
    as_pg "$bin/initdb" -D "$PGDATA" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$LOGS/initdb.log" 2>&1 \
      || die "initdb failed; see $LOGS/initdb.log"
    bin="$(pg_bin)"
  fi
  # A postmaster.pid left by a killed server whose PID now belongs to some
  # other process makes postgres refuse to start: drop it if it is not ours.
  local pid
  if [ -f "$PGDATA/postmaster.pid" ]; then
    pid="$(head -n1 "$PGDATA/postmaster.pid")"
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != postgres ]; then
      echo "services: removing stale postmaster.pid (pid $pid)"
      rm -f "$PGDATA/postmaster.pid" "$PG_RUN/.s.PGSQL.$PG_PORT.lock"
    fi
  fi
  if pg_running; then
    echo "services: postgres already running"
  else
    # max_connections=200: the tests open many connection pools at once.
    as_pg "$bin/pg_ctl" -D "$PGDATA" -l "$LOGS/postgres.log" -w -t 60 start -o \
      "-p $PG_PORT -k '$PG_RUN' -c listen_addresses=127.0.0.1 -c max_connections=200" >/dev/null \
      || die "postgres failed to start; see $LOGS/postgres.log"
  fi
  local i
  for i in $(seq 60); do
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break
    [ "$i" = 60 ] && die "postgres not answering on 127.0.0.1:$PG_PORT after 60s; see $LOGS/postgres.log"
    sleep 1
  done
  psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT 'CREATE ROLE zhuqi LOGIN SUPERUSER' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'zhuqi') \gexec
SELECT 'CREATE DATABASE zhuqi OWNER zhuqi' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'zhuqi') \gexec
SQL
}

redis_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

redis_up() {
  mkdir -p "$REDIS_DIR" "$LOGS"
  if redis_ping; then
    echo "services: redis already running"
  else
    # Scratch cache for dev/tests: no persistence.
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes \
      --dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" --logfile "$LOGS/redis.log" \
      --save "" --appendonly no
  fi
  local i
  for i in $(seq 30); do
    redis_ping && return
    sleep 1
  done
  die "redis not answering on 127.0.0.1:$REDIS_PORT after 30s; see $LOGS/redis.log"
}

urls() {
  echo "DATABASE_URL=postgres://zhuqi@127.0.0.1:$PG_PORT/zhuqi"
  echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

case "${1:-}" in
  up)
    install_missing
    pg_up
    redis_up
    echo "services: up"
    urls
    ;;
  down)
    if pg_running; then as_pg "$(pg_bin)/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null; fi
    if command -v redis-cli >/dev/null && redis_ping; then
      redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    fi
    echo "services: down"
    ;;
  status)
    if pg_running && pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; then
      echo "postgres: running on 127.0.0.1:$PG_PORT (data $PGDATA)"
    else echo "postgres: stopped"; fi
    if command -v redis-cli >/dev/null && redis_ping; then
      echo "redis:    running on 127.0.0.1:$REDIS_PORT"
    else echo "redis:    stopped"; fi
    urls
    ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
