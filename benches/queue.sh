#!/usr/bin/env bash
# The hub's queue under load: N open problems, C dispatchers claiming concurrently until it is
# empty, against a release build. Usage: benches/queue.sh [problems] [claimers] [items per claim]
# (defaults 50000, 8, 1).
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/server.sh
port=18081
db=zhuqi_bench_queue
start_server "$db" "$port" queue_claim

BENCH_URL="http://127.0.0.1:$port" BENCH_DATABASE_URL="$server_url/$db" BENCH_PROBLEMS="${1:-50000}" \
  BENCH_CLAIMERS="${2:-8}" BENCH_CLAIM_LIMIT="${3:-1}" cargo bench -q --bench queue_claim
