#!/usr/bin/env bash
# Dashboards and ledgers on a city the size of the largest deployment: generates it
# (benches/city.sh), then measures the overview cold from PostgreSQL and cached in Redis (wrk,
# 64 connections) and a full problem-ledger export's time and the server's peak memory.
# Usage: benches/stats.sh [enterprises=30000] [officers=24000] [days=90] [problems=100000]
# Numbers go to docs/performance.md by hand; this prints them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
db=zhuqi_bench_city port=18081 prefix="benchcity:"
pg="postgres://zhuqi@127.0.0.1:${PG_PORT:-55432}" redis_port=${REDIS_PORT:-56379}
scripts/services.sh up >/dev/null
cargo build --release --bin zhuqi
psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
DATABASE_URL="$pg/$db" target/release/zhuqi migrate
benches/city.sh "$pg/$db" "$@"
DATABASE_URL="$pg/$db" target/release/zhuqi create-admin --username bench.admin \
  --password bench-password --region-code 439900 >/dev/null
psql -q "$pg/$db" -c "UPDATE users SET roles = '{admin,dispatcher}' WHERE username = 'bench.admin'"

export JWT_SECRET=bench-secret-bench-secret-bench-secret!!
DATABASE_URL="$pg/$db" REDIS_URL="redis://127.0.0.1:$redis_port/0" REDIS_KEY_PREFIX="$prefix" \
  DATABASE_POOL_SIZE=8 BIND_ADDR="127.0.0.1:$port" WECHAT_APPID=bench WECHAT_SECRET=bench \
  LOG_FORMAT=json RUST_LOG=warn target/release/zhuqi serve &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port/api/v1"
token=$(curl -fs "$base/auth/login" -H 'content-type: application/json' \
  -d '{"username":"bench.admin","password":"bench-password"}' | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
forget() { redis-cli -p "$redis_port" --scan --pattern "${prefix}stats:fig:*" | xargs -r redis-cli -p "$redis_port" del >/dev/null; }

echo "== overview cold (computed from PostgreSQL, cache emptied before each call), seconds"
for _ in 1 2 3 4 5; do
  forget
  curl -fs -o /dev/null -w '%{time_total}\n' -H "authorization: Bearer $token" "$base/stats/overview"
done
echo "== overview cached: wrk, 2 threads, 64 connections, 20 s"
curl -fs -o /dev/null -H "authorization: Bearer $token" "$base/stats/overview"
wrk -t2 -c64 -d20s --latency -H "authorization: Bearer $token" "$base/stats/overview" | sed -n '/Latency Distribution/,/Requests\/sec/p'

echo "== full problem ledger (问题台账), all $(psql -tA "$pg/$db" -c 'SELECT count(*) FROM problems') problems"
before=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
curl -fs -o /tmp/zhuqi-ledger.xlsx -w 'time %{time_total} s, size %{size_download} bytes\n' \
  -H "authorization: Bearer $token" "$base/exports/problems.xlsx"
echo "server RSS before ${before} kB, peak (VmHWM) $(awk '/VmHWM/ {print $2}' "/proc/$server/status") kB"
