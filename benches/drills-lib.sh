# Helpers of benches/drills.sh (sourced): a PostgreSQL, a Redis and `zhuqi serve` instances of
# the drills' own, on ports of their own, with every file under .local/drills/. The services of
# scripts/services.sh (55432, 56379) are never touched.

DRILLS_DIR="$PWD/.local/drills"
PGDATA="$DRILLS_DIR/pg"
PG_RUN="$DRILLS_DIR/run"
LOGS="$DRILLS_DIR/log"
REDIS_DIR="$DRILLS_DIR/redis"
OUT="$DRILLS_DIR/out"
BIN_DIR="$DRILLS_DIR/bin"
PG_PORT="${DRILL_PG_PORT:-55532}"
REDIS_PORT="${DRILL_REDIS_PORT:-56479}"
BASE_PORT="${DRILL_PORT:-18180}"
# Unix socket paths are limited to ~107 bytes; fall back to /tmp in deep checkouts.
if [ "${#PG_RUN}" -gt 80 ]; then PG_RUN="/tmp/zhuqi-drills-pg-$PG_PORT"; fi
PG_BIN="$(find /usr/lib/postgresql -maxdepth 1 -mindepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n1)"
PG_BIN="/usr/lib/postgresql/$PG_BIN/bin"
[ -f "$PGDATA/PG_VERSION" ] && PG_BIN="/usr/lib/postgresql/$(cat "$PGDATA/PG_VERSION")/bin"
pg_url="postgres://zhuqi@127.0.0.1:$PG_PORT"
redis_url="redis://127.0.0.1:$REDIS_PORT/0"
export JWT_SECRET=drill-secret-drill-secret-drill-secret!!

# A mark the harness reads from a fault command's output: the event and its epoch milliseconds.
mark() { echo "MARK $1 $(date +%s%3N)"; }
say() { echo "$(date +%T) $*" >&2; }

# PostgreSQL refuses to run as root: its tools run as the postgres user (from /, so an
# unreadable working directory does not bother them).
as_pg() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# The postgres user must be able to traverse every parent of its files (e.g. a checkout under
# /root); grant o+x only where it is missing.
fix_traversal() {
  [ "$(id -u)" = 0 ] || return 0
  local d="$LOGS"
  while [ "$d" != / ]; do
    runuser -u postgres -- test -x "$d" || chmod o+x "$d"
    d="$(dirname "$d")"
  done
}

pg_running() { [ -f "$PGDATA/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }

# Runs a command that leaves a daemon behind with no descriptor but 0–2 of this shell's (a
# daemon holding the pipe of a `> >(tee …)` would keep that tee, and whoever waits for it, alive).
detached() {
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
    done
    "$@"
  )
}

pg_start() {
  detached as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$LOGS/postgres.log" -w -t 60 start -o \
    "-p $PG_PORT -k '$PG_RUN' -c listen_addresses=127.0.0.1 -c max_connections=100" >/dev/null
}

pg_stop_fast() { as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null; }

pg_up() {
  mkdir -p "$PGDATA" "$PG_RUN" "$LOGS"
  touch "$LOGS/postgres.log"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$PGDATA" "$PG_RUN" "$LOGS/postgres.log"; fi
  chmod 700 "$PGDATA"
  fix_traversal
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    say "initdb $PGDATA"
    as_pg "$PG_BIN/initdb" -D "$PGDATA" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$LOGS/initdb.log" 2>&1
  fi
  if [ -f "$PGDATA/postmaster.pid" ]; then
    local pid
    pid="$(head -n1 "$PGDATA/postmaster.pid")"
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != postgres ]; then
      rm -f "$PGDATA/postmaster.pid" "$PG_RUN/.s.PGSQL.$PG_PORT.lock"
    fi
  fi
  pg_running || pg_start
  local i
  for i in $(seq 60); do
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break
    [ "$i" = 60 ] && { say "postgres not answering on $PG_PORT; see $LOGS/postgres.log"; return 1; }
    sleep 1
  done
  psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT 'CREATE ROLE zhuqi LOGIN SUPERUSER' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'zhuqi') \gexec
SQL
}

redis_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

# Like a production Redis that keeps its data across a restart: an append-only file, fsync
# every second (a SIGKILL loses nothing the kernel already has).
redis_start() {
  mkdir -p "$REDIS_DIR" "$LOGS"
  detached redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes \
    --dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" --logfile "$LOGS/redis.log" \
    --save "" --appendonly yes --appendfsync everysec >/dev/null
  local i
  for i in $(seq 100); do
    redis_ping && return 0
    sleep 0.05
  done
  say "redis not answering on $REDIS_PORT; see $LOGS/redis.log"
  return 1
}

redis_up() { redis_ping || redis_start; }

redis_kill() {
  local pid
  pid="$(cat "$REDIS_DIR/redis.pid")"
  kill -KILL "$pid"
  until ended "$pid"; do sleep 0.01; done
  rm -f "$REDIS_DIR/redis.pid"
}

services_down() {
  if pg_running; then pg_stop_fast; fi
  if redis_ping; then redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; fi
}

fresh_db() {
  psql -q "$pg_url/postgres" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
}

# start_server <log name> <port> <database> <redis key prefix> [VAR=value …]: `zhuqi serve` in
# the background (a child of this shell, so its exit status can be waited for); sets
# $server_pid. Logs (JSON) go to $LOGS/<log name>.log.
start_server() {
  local name=$1 port=$2 db=$3 prefix=$4
  shift 4
  env DATABASE_URL="$pg_url/$db" REDIS_URL="$redis_url" REDIS_KEY_PREFIX="$prefix" \
    BIND_ADDR="127.0.0.1:$port" WECHAT_APPID=drill WECHAT_SECRET=drill \
    LOG_FORMAT=json RUST_LOG="${DRILL_RUST_LOG:-info}" "$@" \
    "$BIN_DIR/zhuqi" serve >"$LOGS/$name.log" 2>&1 &
  server_pid=$!
  servers+=("$server_pid")
}

# wait_ready <port> <pid>: until /readyz answers 200 (at most 60 s, or the process ends).
wait_ready() {
  local i
  for i in $(seq 600); do
    curl -fs -m 2 "http://127.0.0.1:$1/readyz" >/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { say "server $2 on port $1 exited"; return 1; }
    sleep 0.1
  done
  say "server on port $1 not ready after 60 s"
  return 1
}

# stop_server <pid>: SIGTERM, then wait (SIGKILL after 40 s); sets $stopped to the exit status.
# Not in a subshell: only this shell can wait for its child.
stop_server() {
  local pid=$1 i
  stopped=0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 400); do
    ended "$pid" && break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || stopped=$?
}

# Has process $1 ended (gone, or a zombie waiting for this shell)?
ended() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 0
  [ -z "$state" ] || [ "$state" = Z ]
}

# The log's JSON lines whose message is $2 (jq, one object per line).
log_lines() { jq -cR --arg m "$2" 'fromjson? | select(.message? == $m)' "$1" 2>/dev/null || true; }
log_count() { log_lines "$1" "$2" | wc -l; }
