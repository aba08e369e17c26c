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

# seed_overdue <database> <count> <tag>: <count> problems overdue by every window (each then
# escalates to level 3: three escalations, four outbox messages), in region 439800, whose units,
# enterprise and officer are created when missing; <tag> keeps the batches' texts apart.
seed_overdue() {
  psql -q -v ON_ERROR_STOP=1 "$pg_url/$1" <<SQL
INSERT INTO regions (code, name, path) VALUES ('439800', '演练区', '439800/') ON CONFLICT DO NOTHING;
INSERT INTO units (code, name, kind, region_code) VALUES
  ('D4-HUB', '演练驻企办', 'hub', '439800'),
  ('D4-DEPT', '演练人社局', 'department', '439800'),
  ('D4-DISP', '演练派出单位', 'dispatching', '439800')
  ON CONFLICT DO NOTHING;
INSERT INTO enterprises (credit_code, name, region_code, lat, lng)
  VALUES ('91439800D400000001', '演练逾期企业', '439800', 27.8, 113.1) ON CONFLICT DO NOTHING;
INSERT INTO users (username, name, roles, unit_id, region_code)
  VALUES ('d4.officer', '演练联络员', ARRAY['officer'], (SELECT id FROM units WHERE code = 'D4-DISP'), '439800')
  ON CONFLICT DO NOTHING;
INSERT INTO assignments (officer_id, enterprise_id, start_day)
  SELECT u.id, e.id, DATE '2020-01-01' FROM users u, enterprises e
   WHERE u.username = 'd4.officer' AND e.credit_code = '91439800D400000001'
  ON CONFLICT DO NOTHING;
INSERT INTO problems (enterprise_id, region_code, reporter_id, reporter_role, description_hash, title, description,
                      status, created_at, updated_at, triaged_at, department_id, assigned_at, due_working_days,
                      contact_due_at, due_at, deadline_round, escalation_level)
  SELECT e.id, '439800', u.id, 'officer', md5('$3-' || i), '演练逾期问题$3-' || i, '演练逾期问题$3-' || i || '：招工难',
         'assigned', now() - interval '40 days', now() - interval '40 days', now() - interval '39 days', d.id,
         now() - interval '38 days', 10, now() - interval '35 days', now() - interval '30 days', 1, 0
    FROM generate_series(1, $2) AS i, enterprises e, users u, units d
   WHERE e.credit_code = '91439800D400000001' AND u.username = 'd4.officer' AND d.code = 'D4-DEPT';
SQL
}

# --- drill 5's balancer: nginx with the shipped site file (deploy/nginx/zhuqi.conf), everything
# under .local/drills/nginx/. Never the system's nginx service or /etc/nginx.
NGINX_DIR="$DRILLS_DIR/nginx"
NGINX_PORT="${DRILL_NGINX_PORT:-18190}"
NGINX_HTTP_PORT="${DRILL_NGINX_HTTP_PORT:-18191}"
# The name the site file answers to: the client resolves it to 127.0.0.1 itself.
NGINX_HOST=zhuqi.example.gov.cn
# The phones' address as nginx sees it, and a second one for a client that forges
# X-Forwarded-For: both differ from nginx's own (127.0.0.1), the only trusted proxy.
CLIENT_ADDR=127.0.0.2
FORGER_ADDR=127.0.0.3

# Debian's nginx, installed only when missing (as the Makefile's browser target does chromium).
nginx_install() {
  command -v nginx >/dev/null && return 0
  say "installing nginx-light (drill 5's balancer)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
  # The package starts the system's service; the drill runs its own, so leave that one alone.
  command -v nginx >/dev/null
}

# A throwaway CA and a certificate for NGINX_HOST signed by it (the client trusts the CA, as a
# phone trusts a public one); a CA certificate cannot serve as the site's own in rustls.
nginx_certs() {
  local d="$NGINX_DIR/tls"
  [ -f "$d/fullchain.pem" ] && [ -f "$d/ca.pem" ] && return 0
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=zhuqi drill CA" -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=$NGINX_HOST" -keyout "$d/privkey.pem" -out "$d/site.csr" 2>/dev/null
  openssl x509 -req -in "$d/site.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 3650 \
    -out "$d/site.pem" -extfile <(printf '%s\n' "subjectAltName=DNS:$NGINX_HOST,IP:127.0.0.1" \
      "basicConstraints=CA:FALSE" "keyUsage=digitalSignature" "extendedKeyUsage=serverAuth") 2>/dev/null
  cat "$d/site.pem" "$d/ca.pem" >"$d/fullchain.pem"
}

# nginx_config <instance port>…: the shipped site file with the test's substitutions (the
# instances, the listen ports, the certificate, loopback as the "inside" network of /metrics),
# included from a main file whose pid, logs and temp paths are under NGINX_DIR. Each
# substitution is counted, so that a reshaped site file stops the drill instead of being
# tested half-substituted.
nginx_config() {
  local site="$NGINX_DIR/zhuqi.conf" want got
  mkdir -p "$NGINX_DIR/tmp" "$NGINX_DIR/log"
  # The upstream's lines keep their parameters (max_fails, fail_timeout); only the addresses
  # become the instances', in order.
  awk -v ports="$*" 'BEGIN { n = split(ports, port, " ") }
    /^[ \t]*server 10\.0\.1\.[0-9]+:8080[ ;]/ { i++; sub(/10\.0\.1\.[0-9]+:8080/, "127.0.0.1:" port[i]) } { print }' \
    deploy/nginx/zhuqi.conf \
    | sed -E \
      -e "s|^(\s*)listen 80;|\1listen 127.0.0.1:$NGINX_HTTP_PORT;|" \
      -e "s|^(\s*)listen 443 ssl http2;|\1listen 127.0.0.1:$NGINX_PORT ssl http2;|" \
      -e '/^\s*listen \[::\]:/d' \
      -e "s|/etc/ssl/zhuqi/|$NGINX_DIR/tls/|" \
      -e 's|allow 10\.0\.0\.0/8;|allow 127.0.0.0/8;|' >"$site"
  for want in "127.0.0.1:$NGINX_HTTP_PORT;:1" "127.0.0.1:$NGINX_PORT ssl http2;:1" "$NGINX_DIR/tls/:2" \
    "allow 127.0.0.0/8;:1" "server 127.0.0.1::$#" "10.0.1.:0" "listen [::]:0" "/etc/ssl:0"; do
    got=$(grep -cF -- "${want%:*}" "$site" || true)
    [ "$got" = "${want##*:}" ] || { say "nginx_config: '${want%:*}' found $got times in $site, want ${want##*:} (has deploy/nginx/zhuqi.conf changed shape?)"; return 1; }
  done
  # nginx's workers drop root; they need to reach their temp files (fix_traversal opened the path).
  local user=""
  if [ "$(id -u)" = 0 ]; then user="user nobody nogroup;"; fi
  cat >"$NGINX_DIR/nginx.conf" <<CONF
# Generated by benches/drills.sh (drill 5): the shipped site file behind a main file of the drill's.
$user
worker_processes auto;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/log/error.log warn;
events { worker_connections 1024; }
http {
    default_type application/octet-stream;
    client_body_temp_path $NGINX_DIR/tmp/body;
    proxy_temp_path $NGINX_DIR/tmp/proxy;
    fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
    uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
    scgi_temp_path $NGINX_DIR/tmp/scgi;
    # Which instance took each request, and what it answered.
    log_format drill '\$remote_addr "\$request" \$status rid=\$http_x_request_id up=\$upstream_addr '
                     'ups=\$upstream_status rt=\$request_time';
    access_log $NGINX_DIR/log/access.log drill;
    include $site;
}
CONF
}

nginx_cmd() { nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/log/error.log" "$@"; }

nginx_pid() { cat "$NGINX_DIR/nginx.pid" 2>/dev/null || true; }

# Started as a daemon of its own (a pid file, not a child of this shell).
nginx_start() {
  rm -f "$NGINX_DIR/log/access.log" "$NGINX_DIR/log/error.log"
  nginx_cmd -t -q || return 1
  detached nginx_cmd
}

nginx_stop() {
  local pid
  pid=$(nginx_pid)
  [ -n "$pid" ] || return 0
  kill -QUIT "$pid" 2>/dev/null || true
  for _ in $(seq 100); do ended "$pid" && break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$NGINX_DIR/nginx.pid"
}

# curl through nginx as a phone would: the site's name resolved here, its CA trusted, HTTP/2.
nginx_curl() {
  curl -sS -m 10 --http2 --resolve "$NGINX_HOST:$NGINX_PORT:127.0.0.1" --cacert "$NGINX_DIR/tls/ca.pem" "$@"
}

# The settings every drill-5 instance has on top of start_server's: nginx is the only proxy
# whose X-Forwarded-For is believed, and only the phones' address may read /metrics (so that a
# 200 there says the instance took the client's address from nginx's header).
D5_INSTANCE_ENV=(TRUSTED_PROXIES=127.0.0.1 "METRICS_ALLOW=$CLIENT_ADDR/32")
