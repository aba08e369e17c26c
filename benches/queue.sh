#!/usr/bin/env bash
# The hub's queue under load: N open problems, C dispatchers claiming concurrently until it is
# empty, against a release build. Usage: benches/queue.sh [problems] [claimers] [items per claim]
# (defaults 50000, 8, 1).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
pg_port=${PG_PORT:-55432}
port=18081
server_url="postgres://zhuqi@127.0.0.1:$pg_port"
db=zhuqi_bench_queue

scripts/services.sh up >/dev/null
cargo build --release --bin zhuqi
cargo bench --bench queue_claim --no-run 2>/dev/null

psql -q "$server_url/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"

export JWT_SECRET=bench-secret-bench-secret-bench-secret!!
DATABASE_URL="$server_url/$db" REDIS_URL="redis://127.0.0.1:${REDIS_PORT:-56379}/0" REDIS_KEY_PREFIX="bench:" \
  DATABASE_POOL_SIZE="${POOL:-4}" BIND_ADDR="127.0.0.1:$port" WECHAT_APPID=bench WECHAT_SECRET=bench LOG_FORMAT=json RUST_LOG=warn \
  target/release/zhuqi serve &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.1
done

BENCH_URL="http://127.0.0.1:$port" BENCH_DATABASE_URL="$server_url/$db" BENCH_PROBLEMS="${1:-50000}" \
  BENCH_CLAIMERS="${2:-8}" BENCH_CLAIM_LIMIT="${3:-1}" cargo bench -q --bench queue_claim
