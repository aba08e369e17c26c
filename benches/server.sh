# Shared by the benchmark scripts: builds the release binary and the named bench, creates a
# fresh database and starts `zhuqi serve` on it (stopped when the calling script exits).
# Usage (sourced): start_server <database> <port> <bench name>; sets $server_url.
start_server() {
  local db=$1 port=$2 bench=$3
  export PATH="$HOME/.cargo/bin:$PATH"
  server_url="postgres://zhuqi@127.0.0.1:${PG_PORT:-55432}"
  scripts/services.sh up >/dev/null
  cargo build --release --bin zhuqi
  cargo bench --bench "$bench" --no-run 2>/dev/null
  psql -q "$server_url/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  export JWT_SECRET=bench-secret-bench-secret-bench-secret!!
  DATABASE_URL="$server_url/$db" REDIS_URL="redis://127.0.0.1:${REDIS_PORT:-56379}/0" REDIS_KEY_PREFIX="bench:" \
    DATABASE_POOL_SIZE="${POOL:-4}" BIND_ADDR="127.0.0.1:$port" WECHAT_APPID=bench WECHAT_SECRET=bench \
    LOG_FORMAT=json RUST_LOG=warn target/release/zhuqi serve &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
    sleep 0.1
  done
}

# The demo city on a fresh database, served by a release build (or $ZHUQI_BIN), for the scripts
# that play one user's requests (morning.sh, meeting.sh); stopped, and $work removed, on exit.
# Usage (sourced): start_demo_server <database> <port> <redis key prefix>; sets $pg, $zhuqi,
# $server, $work. The server's log is /tmp/zhuqi-bench-<database>.log.
start_demo_server() {
  local db=$1 port=$2 prefix=$3
  pg="postgres://zhuqi@127.0.0.1:${PG_PORT:-55432}"
  local redis_port=${REDIS_PORT:-56379}
  scripts/services.sh up >/dev/null
  zhuqi=${ZHUQI_BIN:-target/release/zhuqi}
  [[ -n "${ZHUQI_BIN:-}" ]] || cargo build --release --bin zhuqi
  psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  export JWT_SECRET=bench-secret-bench-secret-bench-secret!!
  export DATABASE_URL="$pg/$db" REDIS_URL="redis://127.0.0.1:$redis_port/0" REDIS_KEY_PREFIX="$prefix"
  "$zhuqi" migrate >/dev/null
  "$zhuqi" seed-demo >/dev/null
  BIND_ADDR="127.0.0.1:$port" WECHAT_APPID=bench WECHAT_SECRET=bench LOG_FORMAT=json RUST_LOG=warn \
    "$zhuqi" serve 2>"/tmp/zhuqi-bench-$db.log" &
  server=$!
  work=$(mktemp -d)
  trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
}
