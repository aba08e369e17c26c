#!/usr/bin/env bash
# Morning and evening peak of the officer's day against a release build, next to the
# PostgreSQL ceiling (pgbench, single-row durable INSERT, 32 clients) measured in the same run.
# Usage: benches/run.sh [officers] [connections]    (defaults 3000 and 64)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
officers=${1:-3000}
connections=${2:-64}
pg_port=${PG_PORT:-55432}
port=18080
server_url="postgres://zhuqi@127.0.0.1:$pg_port"
db=zhuqi_bench

scripts/services.sh up >/dev/null
cargo build --release --bin zhuqi
cargo bench --bench officer_peak --no-run 2>/dev/null

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

echo "== PostgreSQL ceiling: pgbench, single-row INSERT, 32 clients, 15 s"
psql -q "$server_url/$db" -c "CREATE TABLE IF NOT EXISTS bench_ceiling (id bigserial PRIMARY KEY, officer_id int NOT NULL, at timestamptz NOT NULL)"
ceiling=$(mktemp)
printf '\\set id random(1, 1000000)\nINSERT INTO bench_ceiling (officer_id, at) VALUES (:id, now());\n' > "$ceiling"
pgbench -n -c 32 -j 2 -T 15 -f "$ceiling" "$server_url/$db" 2>/dev/null | grep -E "^(tps|latency average)"

echo "== officer's day: $officers officers, $connections connections"
BENCH_URL="http://127.0.0.1:$port" BENCH_DATABASE_URL="$server_url/$db" BENCH_OFFICERS=$officers \
  BENCH_CONNECTIONS=$connections BENCH_IDEMPOTENCY_KEYS="${KEYS:-1}" cargo bench --bench officer_peak 2>/dev/null
