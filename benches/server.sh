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
