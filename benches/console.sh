#!/usr/bin/env bash
# The console's busiest pages on a city the size of the largest deployment (benches/city.sh):
# the dispatcher's queue (100 items with suggestions, leases and similar problems) and problem
# pages (200 problems at every stage, visited in turn), as a signed-in dispatcher, measured by
# wrk with its latency distribution (server time on localhost).
# Usage: benches/console.sh [seconds=20] [connections=8]. REUSE=1 measures on the city of a
# previous benches/stats.sh or console.sh run (same database); numbers go to docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
seconds=${1:-20} connections=${2:-8}
db=zhuqi_bench_city port=18082 prefix="benchconsole:"
pg="postgres://zhuqi@127.0.0.1:${PG_PORT:-55432}" redis_port=${REDIS_PORT:-56379}
scripts/services.sh up >/dev/null
zhuqi=${ZHUQI_BIN:-target/release/zhuqi}
[[ -n "${ZHUQI_BIN:-}" ]] || cargo build --release --bin zhuqi
source benches/city-db.sh
city_database "$pg" "$db" "$zhuqi"

export JWT_SECRET=bench-secret-bench-secret-bench-secret!!
DATABASE_URL="$pg/$db" REDIS_URL="redis://127.0.0.1:$redis_port/0" REDIS_KEY_PREFIX="$prefix" \
  DATABASE_POOL_SIZE=8 BIND_ADDR="127.0.0.1:$port" WECHAT_APPID=bench WECHAT_SECRET=bench \
  LOG_FORMAT=json RUST_LOG=warn "$zhuqi" serve 2>/tmp/zhuqi-bench-console.log &
server=$!
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
base="http://127.0.0.1:$port/console"
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

# Sign in as a browser does: the form's token and its cookie, then the session cookie.
token=$(curl -fs -c "$work/jar" "$base/login" | sed -n 's/.*name="token" value="\([^"]*\)".*/\1/p')
curl -fs -o /dev/null -b "$work/jar" -c "$work/jar" "$base/login" \
  --data-urlencode username=bench.admin --data-urlencode password=bench-password --data-urlencode "token=$token"
session=$(awk '$6 == "zhuqi_console" {print $7}' "$work/jar")
[[ -n "$session" ]] || { echo "console.sh: signing in failed" >&2; exit 1; }
cookie="Cookie: zhuqi_console=$session"

# Problems at every stage, spread over the city, visited in turn by the problem-page run.
psql -tA "$pg/$db" -c "SELECT id FROM problems TABLESAMPLE SYSTEM (2) LIMIT 200" > "$work/ids"
{
  echo 'ids = {}'
  while read -r id; do echo "ids[#ids + 1] = \"$id\""; done < "$work/ids"
  echo 'n = 0'
  echo 'request = function() n = n + 1; return wrk.format("GET", "/console/problems/" .. ids[n % #ids + 1]) end'
} > "$work/problems.lua"

echo "== the queue page: wrk, 2 threads, $connections connections, ${seconds} s"
curl -fs -o /dev/null -w 'first load %{time_total} s, %{size_download} bytes\n' -H "$cookie" "$base/queue"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "$cookie" "$base/queue" \
  | sed -n '/Latency Distribution/,/Requests\/sec/p'
echo "== problem pages ($(wc -l < "$work/ids") problems in turn): wrk, 2 threads, $connections connections, ${seconds} s"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/problems.lua" -H "$cookie" "http://127.0.0.1:$port" \
  | sed -n '/Latency Distribution/,/Requests\/sec/p'
echo "== the problem list (50 newest) and the dashboard (cached figures)"
curl -fs -o /dev/null -w 'list %{time_total} s\n' -H "$cookie" "$base/problems"
curl -fs -o /dev/null -w 'dashboard cold %{time_total} s\n' -H "$cookie" "$base/dashboard"
curl -fs -o /dev/null -w 'dashboard cached %{time_total} s\n' -H "$cookie" "$base/dashboard"
grep -c '"level":"ERROR"' /tmp/zhuqi-bench-console.log | sed 's/^/server errors logged: /' || true
