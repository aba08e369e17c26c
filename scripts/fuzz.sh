#!/usr/bin/env bash
# `make fuzz`: schemathesis against a freshly seeded server, as each role, plus the problem lifecycle
# driven by the spec's links (scripts/fuzz/driver.py says what each run does). Exits non-zero on any
# failure. Needs the services (`make services`) and the virtualenv the Makefile installs.
#
# Environment: FUZZ_SECONDS, FUZZ_MAX_EXAMPLES, FUZZ_RUNS, FUZZ_SEED, FUZZ_WORKERS (driver.py);
# FUZZ_PORT (18380), FUZZ_WECHAT_PORT (18381), FUZZ_DB (zhuqi_fuzz), FUZZ_VENV (.local/venv-fuzz),
# FUZZ_BUILD_TRIES (5: a failing build is retried a minute later, e.g. while src/ is mid-edit),
# FUZZ_NO_BUILD=1 (use the binary as it is), FUZZ_PROFILE (release; `debug` fuzzes the binary
# `cargo test` already built, as CI does, to share one build).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

PG_PORT="${PG_PORT:-55432}"
REDIS_PORT="${REDIS_PORT:-56379}"
PORT="${FUZZ_PORT:-18380}"
WECHAT_PORT="${FUZZ_WECHAT_PORT:-18381}"
DB="${FUZZ_DB:-zhuqi_fuzz}"
VENV="${FUZZ_VENV:-.local/venv-fuzz}"
OUT="${FUZZ_OUT:-.local/fuzz}"
PROFILE="${FUZZ_PROFILE:-release}"
case "$PROFILE" in
  release) BUILD_FLAGS=(--release); BIN=target/release/zhuqi ;;
  debug) BUILD_FLAGS=(); BIN=target/debug/zhuqi ;;
  *) echo "fuzz: FUZZ_PROFILE is release or debug" >&2; exit 2 ;;
esac
PREFIX="fuzz:"
PG="postgres://zhuqi@127.0.0.1:$PG_PORT"
export FUZZ_OUT="$OUT" FUZZ_BASE_URL="http://127.0.0.1:$PORT"

started=$(date +%s)
mkdir -p "$OUT"
say() { echo "fuzz: $*"; }

if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
  tries="${FUZZ_BUILD_TRIES:-5}"
  for attempt in $(seq 1 "$tries"); do
    if cargo build "${BUILD_FLAGS[@]}" --bin zhuqi; then break; fi
    if [ "$attempt" = "$tries" ]; then say "the build failed $tries times"; exit 1; fi
    say "build failed (attempt $attempt of $tries); trying again in 60 s"
    sleep 60
  done
fi
built=$(date +%s)

for port in "$PORT" "$WECHAT_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    say "port $port is already taken (another make fuzz?); set FUZZ_PORT / FUZZ_WECHAT_PORT"
    exit 1
  fi
done

say "fresh database $DB, Redis keys $PREFIX* cleared"
psql -q -v ON_ERROR_STOP=1 "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
# Failed-login budgets and cached answers of earlier runs (the database they described is gone).
# In Redis itself: the keys hold whatever the fuzzer sent (quotes, newlines, ...).
redis-cli -p "$REDIS_PORT" -n 0 --no-raw EVAL "local cursor, n = '0', 0
  repeat
    local page = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
    cursor = page[1]
    for _, key in ipairs(page[2]) do n = n + redis.call('DEL', key) end
  until cursor == '0'
  return n" 0 "$PREFIX*" >/dev/null
DATABASE_URL="$PG/$DB" "$BIN" seed-demo >"$OUT/seed-demo.txt"
say "seeded: $(head -n1 "$OUT/seed-demo.txt")"

pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

"$VENV/bin/python" scripts/fuzz/fake_wechat.py "$WECHAT_PORT" &
pids+=($!)
# TRUSTED_PROXIES: the harness signs in with X-Forwarded-For (scripts/fuzz/driver.py, LOGIN_IP), so
# the failed logins the fuzzer makes from 127.0.0.1 never lock out the harness's own sign-ins.
DATABASE_URL="$PG/$DB" REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" REDIS_KEY_PREFIX="$PREFIX" \
  BIND_ADDR="127.0.0.1:$PORT" JWT_SECRET=fuzz-secret-fuzz-secret-fuzz-secret!! \
  WECHAT_APPID=wx-fuzz WECHAT_SECRET=fuzz-secret WECHAT_API_BASE="http://127.0.0.1:$WECHAT_PORT" \
  TRUSTED_PROXIES=127.0.0.1/32 LOG_FORMAT=json RUST_LOG=warn \
  "$BIN" serve >"$OUT/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 150); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break
  kill -0 "${pids[1]}" 2>/dev/null || { say "the server stopped:"; tail -n 20 "$OUT/server.log"; exit 1; }
  sleep 0.2
done
curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null || { say "the server is not ready"; exit 1; }

status=0
"$VENV/bin/python" scripts/fuzz/driver.py || status=$?

if grep -q 'panicked' "$OUT/server.log"; then
  say "the server panicked (see $OUT/server.log):"
  grep -m 5 'panicked' "$OUT/server.log"
  status=1
fi
finished=$(date +%s)
say "took $((finished - started)) s ($((built - started)) s building); exit $status"
exit "$status"
