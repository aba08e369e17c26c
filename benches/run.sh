#!/usr/bin/env bash
# Morning and evening peak of the officer's day against a release build, next to the
# PostgreSQL ceiling (pgbench, single-row durable INSERT, 32 clients) measured in the same run.
# Usage: benches/run.sh [officers] [connections]    (defaults 3000 and 64)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/server.sh
officers=${1:-3000}
connections=${2:-64}
port=18080
db=zhuqi_bench
start_server "$db" "$port" officer_peak

echo "== PostgreSQL ceiling: pgbench, single-row INSERT, 32 clients, 15 s"
psql -q "$server_url/$db" -c "CREATE TABLE IF NOT EXISTS bench_ceiling (id bigserial PRIMARY KEY, officer_id int NOT NULL, at timestamptz NOT NULL)"
ceiling=$(mktemp)
printf '\\set id random(1, 1000000)\nINSERT INTO bench_ceiling (officer_id, at) VALUES (:id, now());\n' > "$ceiling"
pgbench -n -c 32 -j 2 -T 15 -f "$ceiling" "$server_url/$db" 2>/dev/null | grep -E "^(tps|latency average)"

echo "== officer's day: $officers officers, $connections connections"
BENCH_URL="http://127.0.0.1:$port" BENCH_DATABASE_URL="$server_url/$db" BENCH_OFFICERS=$officers \
  BENCH_CONNECTIONS=$connections BENCH_IDEMPOTENCY_KEYS="${KEYS:-1}" cargo bench --bench officer_peak 2>/dev/null
