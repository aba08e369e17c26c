#!/usr/bin/env bash
# Notifications under load (numbers in docs/performance.md, "Notifications"):
#  1. one instance's delivery rate, the fake WeChat answering each send in 20 ms, without a
#     rate limit and at the default NOTIFY_MAX_PER_MINUTE;
#  2. the officers' morning and evening peaks alone, then with a drain at the default limit
#     running beside them (another instance's worker on the same PostgreSQL and CPUs);
#  3. the 10:00 reminder run for 24,000 officers: its time and statements.
# Usage: benches/notify.sh [messages] [officers] [peak officers]   (defaults 20000, 24000, 3000)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/server.sh
messages=${1:-20000}
officers=${2:-24000}
peak=${3:-3000}
port=18082
cargo bench --bench notify --no-run 2>/dev/null

fresh() {
  psql -q "postgres://zhuqi@127.0.0.1:${PG_PORT:-55432}/postgres" \
    -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
}
# drain <messages> <pushes a minute, 0 for no limit>
drain() {
  fresh zhuqi_bench_notify
  BENCH_MODE=drain BENCH_DATABASE_URL="postgres://zhuqi@127.0.0.1:${PG_PORT:-55432}/zhuqi_bench_notify" \
    BENCH_MESSAGES=$1 NOTIFY_MAX_PER_MINUTE=$2 REDIS_URL="redis://127.0.0.1:${REDIS_PORT:-56379}/0" \
    cargo bench --bench notify 2>/dev/null
}
peak() {
  BENCH_URL="http://127.0.0.1:$port" BENCH_DATABASE_URL="$server_url/zhuqi_bench" BENCH_OFFICERS=$peak \
    BENCH_CONNECTIONS=64 BENCH_IDEMPOTENCY_KEYS=1 cargo bench --bench officer_peak 2>/dev/null
}

echo "== 1. drain: one instance, fake WeChat at 20 ms a send; without a limit, then the default limit"
drain "$messages" 0
drain 5000 6000

echo "== 2a. officers' peaks alone ($peak officers, 64 connections)"
start_server zhuqi_bench "$port" officer_peak
peak
kill "$server"; wait "$server" 2>/dev/null || true

echo "== 2b. the same peaks with a drain at the default limit beside them"
start_server zhuqi_bench "$port" officer_peak
drain 5000 6000 > .local/bench-drain.txt &
drainer=$!
peak
wait "$drainer"
sed 's/^/    beside: /' .local/bench-drain.txt
kill "$server"; wait "$server" 2>/dev/null || true

echo "== 3. the 10:00 reminder run for $officers officers"
fresh zhuqi_bench_remind
BENCH_MODE=reminders BENCH_DATABASE_URL="postgres://zhuqi@127.0.0.1:${PG_PORT:-55432}/zhuqi_bench_remind" \
  BENCH_OFFICERS=$officers cargo bench --bench notify 2>/dev/null
