#!/usr/bin/env bash
# Fault drills against a release build and a real PostgreSQL and Redis of their own
# (docs/reliability.md):
#   1  PostgreSQL stopped (fast) and started again during a wave of sign-ins
#   2  SIGTERM to the server during a wave of sign-ins
#   3  Redis killed (SIGKILL) and started again during sign-ins, reports and dashboard reads
#   4  two instances started together on an empty database; their jobs run at the same moment
#   5  three instances behind nginx (the shipped site file, HTTPS); one SIGKILLed and started
#      again during sign-ins and reports
# Usage: benches/drills.sh [1 2 3 4 5 …]   (default: all). Prints PASS/FAIL per drill; exits 1 on
# any failure. PostgreSQL (DRILL_PG_PORT, 55532), Redis (DRILL_REDIS_PORT, 56479) and the
# servers (DRILL_PORT.., 18180–18185) and nginx (DRILL_NGINX_PORT, 18190–18191) are the drills' own; data, logs and every request's
# outcome are under .local/drills/ (log/, out/drillN/requests.csv). ZHUQI_BIN tests a binary
# built before instead of building one, DRILL_HARNESS a harness (benches/drills.rs) built before;
# DRILL_KEEP=1 leaves PostgreSQL and Redis running.
set -euo pipefail
cd "$(dirname "$0")/.."
SELF="$PWD/benches/drills.sh"
# shellcheck source=benches/drills-lib.sh
source benches/drills-lib.sh

# The faults, run by the harness in the middle of a wave: `drills.sh fault <name> [pid]`.
if [ "${1:-}" = fault ]; then
  case "$2" in
    pg-restart)
      mark pg_stopping
      pg_stop_fast
      mark pg_down
      sleep "${DRILL_PG_PAUSE:-2}"
      pg_start
      until pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; do sleep 0.02; done
      mark pg_up
      ;;
    sigterm)
      mark sigterm_sending
      kill -TERM "$3"
      mark sigterm
      for _ in $(seq 1200); do ended "$3" && break; sleep 0.05; done
      if ended "$3"; then mark exited; fi
      ;;
    redis-kill)
      redis_kill
      mark redis_killed
      sleep "${DRILL_REDIS_PAUSE:-2}"
      redis_start
      mark redis_up
      ;;
    redis-down) redis_kill; mark redis_killed ;;
    # kill-restart <pid> <log name> <port> <overdue problems>: SIGKILL an instance of drill 5;
    # while it is down, give the escalation job new work (which the survivors' next pass or
    # the restarted instance's first pass takes: once); start it again, detached (its pid in
    # $DRILLS_DIR/drill5-restarted.pid), and wait until it is ready.
    kill-restart)
      mark kill_sending
      kill -KILL "$3"
      until ended "$3"; do sleep 0.01; done
      mark killed
      date +%s%3N >"$DRILLS_DIR/drill5-killed.ms"
      seed_overdue zhuqi_drill5 "$6" b
      mark overdue_added
      sleep "${DRILL5_DOWN:-3}"
      restart() {
        servers=()
        start_server "$4" "$5" zhuqi_drill5 "drill5:" "${D5_INSTANCE_ENV[@]}"
        echo "$server_pid" >"$DRILLS_DIR/drill5-restarted.pid"
      }
      detached restart "$@"
      mark restarting
      wait_ready "$5" "$(cat "$DRILLS_DIR/drill5-restarted.pid")" >&2
      mark restarted_ready
      ;;
    redis-up) redis_start; mark redis_up ;;
    *) echo "unknown fault $2" >&2; exit 2 ;;
  esac
  exit 0
fi

for tool in jq curl openssl psql pg_isready redis-server redis-cli "$PG_BIN/pg_ctl"; do
  command -v "$tool" >/dev/null || { echo "drills: $tool is missing (scripts/services.sh up installs PostgreSQL and Redis; apt-get install jq curl)" >&2; exit 1; }
done
started=$(date +%s)
drills=("$@")
[ "${#drills[@]}" -gt 0 ] || drills=(1 2 3 4 5)
mkdir -p "$LOGS" "$OUT" "$BIN_DIR"
servers=()
cleanup() {
  local pid
  for pid in "${servers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${servers[@]}"; do wait "$pid" 2>/dev/null || true; done
  # Drill 5's daemons: nginx and an instance started again by the fault (not children).
  nginx_stop
  if [ -f "$DRILLS_DIR/drill5-restarted.pid" ]; then
    kill -TERM "$(cat "$DRILLS_DIR/drill5-restarted.pid")" 2>/dev/null || true
    rm -f "$DRILLS_DIR/drill5-restarted.pid"
  fi
  if [ "${DRILL_KEEP:-0}" != 1 ]; then services_down; fi
}
trap cleanup EXIT

# --- the binaries: copied, so that a rebuild during the drills changes nothing under them
export PATH="$HOME/.cargo/bin:$PATH"
if [ -n "${ZHUQI_BIN:-}" ]; then
  cp "$ZHUQI_BIN" "$BIN_DIR/zhuqi"
  commit="${ZHUQI_COMMIT:-unknown}"
else
  cargo build --release --bin zhuqi
  cp target/release/zhuqi "$BIN_DIR/zhuqi"
  commit="$(git rev-parse --short HEAD)"
  if [ -n "$(git status --porcelain -- src migrations)" ]; then commit="$commit+uncommitted"; fi
fi
if [ -n "${DRILL_HARNESS:-}" ]; then
  cp "$DRILL_HARNESS" "$BIN_DIR/drills"
else
  harness="$(cargo bench --bench drills --no-run --message-format=json-render-diagnostics \
    | jq -r 'select(.reason == "compiler-artifact" and .target.name == "drills") | .executable // empty' | tail -n1)"
  cp "$harness" "$BIN_DIR/drills"
fi
echo "== zhuqi $commit, $(nproc) cores; PostgreSQL on $PG_PORT, Redis on $REDIS_PORT, logs in $LOGS"
rm -f "$LOGS"/drill*.log
pg_up
redis_up
# The drills' own Redis: start each run empty (its append-only file would otherwise grow).
redis-cli -p "$REDIS_PORT" flushall >/dev/null

results=()
result() { results+=("drill $1 $2 $3"); echo "DRILL $1 $2 $3"; }

# run_harness <n> <drill> <port> <database> [VAR=value …]: the load generator and referee.
run_harness() {
  local n=$1 name=$2 port=$3 db=$4
  shift 4
  mkdir -p "$OUT/drill$n"
  env DRILL_NAME="$name" DRILL_URL="http://127.0.0.1:$port" DRILL_DATABASE_URL="$pg_url/$db" \
    DRILL_REDIS_URL="$redis_url" DRILL_REDIS_PREFIX="drill$n:" \
    DRILL_OUT="$OUT/drill$n" "$@" timeout 300 "$BIN_DIR/drills" | tee "$OUT/drill$n/harness.out"
}

# What a server logged at WARN and ERROR, by message, most frequent first.
log_summary() {
  echo "  server log $(basename "$1"): $(wc -l <"$1") lines; warnings and errors:"
  jq -rR 'fromjson? | select(.level == "WARN" or .level == "ERROR")
          | "\(.level) \(.message | gsub("\\s+"; " "))\(if .code then " code=" + .code else "" end)\(if .error then " error=" + (.error | tostring | .[0:90]) else "" end)"' "$1" \
    | sed -E 's/[0-9a-f]{8}-[0-9a-f-]{27}/<id>/g' | sort | uniq -c | sort -rn | head -n 8 | sed 's/^/   /'
}

# --- 1: PostgreSQL restarted during a wave of sign-ins: (a) a plain restart, (b) down for
# longer than the server waits for a connection (5 s), so that requests are answered 503.
drill1_wave() {
  local part=$1 pause=$2 db=zhuqi_drill1$1 port=$BASE_PORT pid ok=0
  echo "-- 1$part: PostgreSQL fast shutdown, $pause s down, start; during a sign-in wave"
  fresh_db "$db"
  start_server "drill1$part-server" "$port" "$db" "drill1$part:"
  pid=$server_pid
  wait_ready "$port" "$pid" || return 1
  run_harness "1$part" pg-restart "$port" "$db" DRILL_FAULT_CMD="bash '$SELF' fault pg-restart" DRILL_PG_PAUSE="$pause" \
    DRILL_OFFICERS="${DRILL_OFFICERS:-4000}" DRILL_RATE="${DRILL_RATE:-250}" || ok=1
  stop_server "$pid"
  echo "  server exit status after the drill: $stopped"
  log_summary "$LOGS/drill1$part-server.log"
  return $ok
}

drill1() {
  local ok=0
  echo "== drill 1: PostgreSQL restarted during a sign-in wave"
  drill1_wave a "${DRILL_PG_PAUSE_A:-0}" || ok=1
  drill1_wave b "${DRILL_PG_PAUSE_B:-16}" || ok=1
  return $ok
}

# --- 2: SIGTERM during a wave of sign-ins
drill2() {
  local db=zhuqi_drill2 port=$((BASE_PORT + 1)) pid ok=0 rc
  echo "== drill 2: SIGTERM to the server during a sign-in wave"
  fresh_db "$db"
  start_server drill2-server "$port" "$db" "drill2:"
  pid=$server_pid
  wait_ready "$port" "$pid" || return 1
  run_harness 2 sigterm "$port" "$db" DRILL_FAULT_CMD="bash '$SELF' fault sigterm $pid" DRILL_SERVER_LOG="$LOGS/drill2-server.log" \
    DRILL_OFFICERS="${DRILL2_OFFICERS:-12000}" DRILL_RATE="${DRILL2_RATE:-4000}" DRILL_FAULT_AT="${DRILL2_FAULT_AT:-1.5}" || ok=1
  stop_server "$pid"
  rc=$stopped
  echo "  server exit status: $rc"
  log_lines "$LOGS/drill2-server.log" "stopped accepting; writing the sign-ins still queued and ending the jobs" \
    | jq -r '"  log: \(.timestamp) \(.message)"'
  log_lines "$LOGS/drill2-server.log" "shut down" | jq -r '"  log: \(.timestamp) \(.message)"'
  if [ "$rc" != 0 ]; then echo "  FAIL  the server exits with status 0 after SIGTERM"; ok=1; fi
  if [ "$(log_count "$LOGS/drill2-server.log" "shut down")" != 1 ]; then
    echo "  FAIL  the server logs \"shut down\" once"
    ok=1
  fi
  log_summary "$LOGS/drill2-server.log"
  return $ok
}

# --- 3: Redis killed and restarted during sign-ins, reports and dashboard reads
drill3() {
  local db=zhuqi_drill3 pa=$((BASE_PORT + 2)) pb=$((BASE_PORT + 5)) a b ok=0
  echo "== drill 3: Redis SIGKILL + restart (down ${DRILL_REDIS_PAUSE:-2} s) during sign-ins, reports and dashboard reads"
  fresh_db "$db"
  redis-cli -p "$REDIS_PORT" --scan --pattern 'drill3:*' | xargs -r redis-cli -p "$REDIS_PORT" del >/dev/null
  start_server drill3-server "$pa" "$db" "drill3:"
  a=$server_pid
  # The referee's second opinion: the same database, Redis unreachable.
  start_server drill3-server-noredis "$pb" "$db" "drill3:" REDIS_URL="redis://127.0.0.1:1/0"
  b=$server_pid
  wait_ready "$pa" "$a" || return 1
  wait_ready "$pb" "$b" || return 1
  run_harness 3 redis-kill "$pa" "$db" DRILL_COMPARE_URL="http://127.0.0.1:$pb" \
    DRILL_FAULT_CMD="bash '$SELF' fault redis-kill" \
    DRILL_REDIS_KILL_CMD="bash '$SELF' fault redis-down" DRILL_REDIS_START_CMD="bash '$SELF' fault redis-up" \
    DRILL_OFFICERS="${DRILL3_OFFICERS:-2400}" DRILL_RATE="${DRILL3_RATE:-150}" || ok=1
  stop_server "$a"
  echo "  exit status of the server with Redis: $stopped"
  stop_server "$b"
  echo "  exit status of the server without Redis: $stopped"
  log_summary "$LOGS/drill3-server.log"
  return $ok
}

# --- 4: two instances on one empty database
q() { psql -qtAX "$pg_url/zhuqi_drill4" -c "$1"; }

# check <what> <got> <want>
check() {
  if [ "$2" = "$3" ]; then echo "  ok    $1: $2"; else echo "  FAIL  $1: $2 (want $3)"; d4_ok=1; fi
}

# Both instances at the same moment; then until both are ready and have each logged the
# outcome of their first reconciliation pass (which, like the escalation pass, runs at start).
d4_start_both() {
  local round=$1 i
  start_server "drill4-a-$round" "$d4_pa" zhuqi_drill4 "drill4:"
  d4_a=$server_pid
  start_server "drill4-b-$round" "$d4_pb" zhuqi_drill4 "drill4:"
  d4_b=$server_pid
  wait_ready "$d4_pa" "$d4_a" || { echo "  FAIL  instance A came up"; d4_ok=1; return 1; }
  wait_ready "$d4_pb" "$d4_b" || { echo "  FAIL  instance B came up"; d4_ok=1; return 1; }
  echo "  both instances ready"
  for i in $(seq 150); do
    [ "$(reconcile_lines "$LOGS/drill4-a-$round.log" | wc -l)" -ge 1 ] \
      && [ "$(reconcile_lines "$LOGS/drill4-b-$round.log" | wc -l)" -ge 1 ] && break
    sleep 0.2
  done
  sleep 2 # the escalation passes started with the reconciliation; let both finish
}

reconcile_lines() {
  jq -cR 'fromjson? | select(.message? // "" | test("^stats reconcil|^another instance reconciles"))' "$1" 2>/dev/null || true
}

# Summed over both instances' logs of a round (or one log): escalations, and counters repaired.
escalations_in() {
  cat "$@" | jq -R 'fromjson? | select(.message? == "escalated overdue problems") | .escalations' \
    | awk '{s += $1} END {print s + 0}'
}
escalations_logged() { escalations_in "$LOGS/drill4-a-$1.log" "$LOGS/drill4-b-$1.log"; }
repairs_logged() {
  cat "$LOGS/drill4-a-$1.log" "$LOGS/drill4-b-$1.log" \
    | jq -rR 'fromjson? | select(.message? // "" | startswith("stats reconciled")) | .outcome' \
    | sed -nE 's/.*counters_repaired: ([0-9]+).*/\1/p' | awk '{s += $1} END {print s + 0}'
}

d4_stop_both() {
  local ra rb
  stop_server "$d4_a"
  ra=$stopped
  stop_server "$d4_b"
  rb=$stopped
  check "exit statuses after SIGTERM (A B)" "$ra $rb" "0 0"
}

# Counters of settled days that PostgreSQL says are 0, set to something else in Redis (under
# the key prefix $1, drill4 unless told).
d4_drift() {
  local days=2 day prefix=${1:-drill4}
  for days in 2 3 4; do
    day=$(TZ=Asia/Shanghai date -d "-$days day" +%F)
    redis-cli -p "$REDIS_PORT" set "$prefix:{stats}:439800:$day:sign_ins" 42 >/dev/null
    redis-cli -p "$REDIS_PORT" set "$prefix:{stats}:439800:$day:problems" 7 >/dev/null
  done
  d4_drifted=6
}

d4_reconciliations() {
  local f
  for f in "$LOGS/drill4-a-$1.log" "$LOGS/drill4-b-$1.log"; do
    echo "  $(basename "$f" .log): $(reconcile_lines "$f" | jq -r '"\(.message) \(.outcome // "")"' | paste -sd';')"
  done
}

d4_jobs_checks() {
  local round=$1 want_logged=$2 k=$d4_problems
  echo "  -- after round $round"
  d4_reconciliations "$round"
  echo "  escalations logged by A / B: $(escalations_in "$LOGS/drill4-a-$round.log") / $(escalations_in "$LOGS/drill4-b-$round.log")"
  check "escalations logged by the two instances together" "$(escalations_logged "$round")" "$want_logged"
  check "counters repaired by the two instances together" "$(repairs_logged "$round")" "$d4_drifted"
  check "drifted counters now reading 0" \
    "$(redis-cli -p "$REDIS_PORT" --scan --pattern 'drill4:{stats}:439800:*' | xargs -r redis-cli -p "$REDIS_PORT" mget | grep -cv '^0$' || true)" 0
  check "problem_escalations rows / distinct (problem, round, level)" \
    "$(q "SELECT count(*) || ' / ' || count(DISTINCT (problem_id, round, level)) FROM problem_escalations")" "$((3 * k)) / $((3 * k))"
  check "'escalated' events / distinct (problem, level)" \
    "$(q "SELECT count(*) || ' / ' || count(DISTINCT (problem_id, details->>'level')) FROM problem_events WHERE event_type = 'escalated'")" \
    "$((3 * k)) / $((3 * k))"
  check "outbox messages / distinct (problem, level, audience, unit)" \
    "$(q "SELECT count(*) || ' / ' || count(DISTINCT (problem_id, payload->>'level', audience, recipient_unit_id)) FROM notification_outbox WHERE kind = 'problem.escalated'")" \
    "$((4 * k)) / $((4 * k))"
  check "problems at level 3" "$(q "SELECT count(*) FROM problems WHERE escalation_level = 3")" "$k"
}

drill4() {
  d4_ok=0 d4_pa=$((BASE_PORT + 3)) d4_pb=$((BASE_PORT + 4)) d4_problems=${DRILL4_PROBLEMS:-300} d4_drifted=0
  local migrations applied_a applied_b
  export DRILL_RUST_LOG="info,zhuqi::jobs=debug"
  echo "== drill 4: two instances started together on an empty database; their jobs at the same moment"
  fresh_db zhuqi_drill4
  redis-cli -p "$REDIS_PORT" --scan --pattern 'drill4:*' | xargs -r redis-cli -p "$REDIS_PORT" del >/dev/null
  echo "  -- round 1: both start on the empty database (both migrate)"
  d4_start_both 1 || { d4_stop_both; return 1; }
  migrations=$(find migrations -mindepth 1 -maxdepth 1 -type d | wc -l)
  applied_a=$(log_lines "$LOGS/drill4-a-1.log" "migrations up to date" | jq -r .applied)
  applied_b=$(log_lines "$LOGS/drill4-b-1.log" "migrations up to date" | jq -r .applied)
  echo "  migrations applied by A / B (versions + calendar years): ${applied_a:-?} / ${applied_b:-?}"
  check "__diesel_schema_migrations rows / distinct versions" \
    "$(q "SELECT count(*) || ' / ' || count(DISTINCT version) FROM __diesel_schema_migrations")" "$migrations / $migrations"
  check "calendar_years rows / distinct years" \
    "$(q "SELECT count(*) || ' / ' || count(DISTINCT year) FROM calendar_years")" \
    "$(q "SELECT count(DISTINCT year) || ' / ' || count(DISTINCT year) FROM calendar_years")"
  check "calendar_days rows / distinct (year, day)" \
    "$(q "SELECT count(*) || ' / ' || count(DISTINCT (year, day)) FROM calendar_days")" \
    "$(q "SELECT count(DISTINCT (year, day)) || ' / ' || count(DISTINCT (year, day)) FROM calendar_days")"
  check "one instance applied everything, the other nothing" \
    "$(printf '%s\n' "${applied_a:-x}" "${applied_b:-x}" | sort -n | paste -sd' ')" \
    "0 $((migrations + $(q "SELECT count(*) FROM calendar_years")))"
  d4_stop_both

  echo "  -- preparing $d4_problems problems overdue by every window, and $((6)) drifted Redis counters"
  seed_overdue zhuqi_drill4 "$d4_problems" d4
  d4_drift

  echo "  -- round 2: both start together; escalation and reconciliation run at once on both"
  d4_start_both 2 || { d4_stop_both; return 1; }
  d4_stop_both
  d4_jobs_checks 2 $((3 * d4_problems))

  echo "  -- round 3: the counters drift again; both start together again (nothing is left to escalate)"
  d4_drift
  d4_start_both 3 || { d4_stop_both; return 1; }
  d4_stop_both
  d4_jobs_checks 3 0
  for f in "$LOGS"/drill4-*.log; do log_summary "$f"; done
  unset DRILL_RUST_LOG
  return $d4_ok
}

# --- 5: three instances behind nginx, one killed (SIGKILL) and started again mid-wave
q5() { psql -qtAX "$pg_url/zhuqi_drill5" -c "$1"; }

check5() {
  if [ "$2" = "$3" ]; then echo "  ok    $1: $2"; else echo "  FAIL  $1: $2 (want $3)"; d5_ok=1; fi
}

# Lines of the instances' logs: "request finished" of the harness's requests (ids drill-…).
d5_finished() {
  jq -cR 'fromjson? | select(.message? == "request finished" and ((.span.request_id? // "") | startswith("drill-")))' "$@" 2>/dev/null || true
}

d5_logs() { printf '%s\n' "$LOGS"/drill5-[abc]-[12].log; }

drill5() {
  d5_ok=0
  local db=zhuqi_drill5 pa=$BASE_PORT pb=$((BASE_PORT + 1)) pc=$((BASE_PORT + 2))
  local k_a=${DRILL5_PROBLEMS:-200} k_b=${DRILL5_PROBLEMS_LATE:-100} a b c restarted i f
  export DRILL_RUST_LOG="info,zhuqi::jobs=debug"
  echo "== drill 5: three instances behind nginx (HTTPS, deploy/nginx/zhuqi.conf); one SIGKILLed and started again during sign-ins and reports"
  nginx_install || { echo "  FAIL  nginx installed"; return 1; }
  nginx_certs
  nginx_config "$pa" "$pb" "$pc" || { echo "  FAIL  the test configuration made from deploy/nginx/zhuqi.conf"; return 1; }
  echo "  $(nginx -v 2>&1); site file $NGINX_DIR/zhuqi.conf: deploy/nginx/zhuqi.conf with these lines changed:"
  diff deploy/nginx/zhuqi.conf "$NGINX_DIR/zhuqi.conf" | sed -n 's/^> */      /p' || true
  fresh_db "$db"
  redis-cli -p "$REDIS_PORT" --scan --pattern 'drill5:*' | xargs -r redis-cli -p "$REDIS_PORT" del >/dev/null
  rm -f "$LOGS"/drill5-*.log "$DRILLS_DIR/drill5-restarted.pid" "$DRILLS_DIR/drill5-killed.ms"
  # Migrated once (drill 4 races the migrations); then work for the jobs before the instances
  # start, so that their first passes run on all three at the same moment.
  env DATABASE_URL="$pg_url/$db" RUST_LOG=warn "$BIN_DIR/zhuqi" migrate >"$LOGS/drill5-migrate.log" 2>&1
  seed_overdue "$db" "$k_a" a
  d4_drift drill5
  echo "  $k_a problems overdue by every window and $d4_drifted drifted Redis counters before the start; $k_b more overdue ones added while an instance is down"
  start_server drill5-a-1 "$pa" "$db" "drill5:" "${D5_INSTANCE_ENV[@]}"
  a=$server_pid
  start_server drill5-b-1 "$pb" "$db" "drill5:" "${D5_INSTANCE_ENV[@]}"
  b=$server_pid
  # B is killed by the fault: no exit status to wait for, and no "Killed" notice from bash.
  disown "$b"
  start_server drill5-c-1 "$pc" "$db" "drill5:" "${D5_INSTANCE_ENV[@]}"
  c=$server_pid
  for i in "$pa:$a" "$pb:$b" "$pc:$c"; do
    wait_ready "${i%:*}" "${i#*:}" || { echo "  FAIL  instance on port ${i%:*} came up"; d5_ok=1; }
  done
  [ "$d5_ok" = 0 ] || { stop_server "$a"; stop_server "$b"; stop_server "$c"; return 1; }
  # Until each has logged its first reconciliation (its jobs run at start), as in drill 4.
  for i in $(seq 150); do
    [ "$(cat "$LOGS"/drill5-[abc]-1.log | reconcile_lines /dev/stdin | wc -l)" -ge 3 ] && break
    sleep 0.2
  done
  nginx_start || { echo "  FAIL  nginx started with the test configuration"; stop_server "$a"; stop_server "$b"; stop_server "$c"; return 1; }
  for i in $(seq 50); do
    [ "$(nginx_curl -o /dev/null -w '%{http_code}' "https://$NGINX_HOST:$NGINX_PORT/readyz" 2>/dev/null)" = 200 ] && break
    sleep 0.1
  done
  echo "  three instances and nginx ready (instance pids $a $b $c, nginx $(nginx_pid))"

  run_harness 5 balancer "$NGINX_PORT" "$db" DRILL_URL="https://$NGINX_HOST:$NGINX_PORT" \
    DRILL_RESOLVE="$NGINX_HOST=127.0.0.1" DRILL_CA_CERT="$NGINX_DIR/tls/ca.pem" DRILL_LOCAL_ADDR="$CLIENT_ADDR" \
    DRILL_FAULT_CMD="bash '$SELF' fault kill-restart $b drill5-b-2 $pb $k_b" \
    DRILL_OFFICERS="${DRILL5_OFFICERS:-8000}" DRILL_RATE="${DRILL5_RATE:-400}" \
    DRILL_CONNECTIONS="${DRILL5_CONNECTIONS:-32}" DRILL_FAULT_AT="${DRILL5_FAULT_AT:-5}" \
    DRILL_ATTEMPTS="${DRILL5_ATTEMPTS:-5}" DRILL_HELD_BACK="${DRILL5_HELD_BACK:-20}" || d5_ok=1
  restarted=$(cat "$DRILLS_DIR/drill5-restarted.pid" 2>/dev/null || echo "")

  echo "  -- the client's address: X-Forwarded-For from nginx believed, a forged one not"
  # Only CLIENT_ADDR may read /metrics (METRICS_ALLOW): through nginx it is answered 200 by every
  # instance only if each takes the client from nginx's X-Forwarded-For; a client at
  # FORGER_ADDR that writes CLIENT_ADDR into X-Forwarded-For itself must get the 404.
  local ok200=0 forged=0 direct
  for i in $(seq 9); do
    [ "$(nginx_curl --interface "$CLIENT_ADDR" -o /dev/null -w '%{http_code}' "https://$NGINX_HOST:$NGINX_PORT/metrics")" = 200 ] && ok200=$((ok200 + 1))
    [ "$(nginx_curl --interface "$FORGER_ADDR" -H "X-Forwarded-For: $CLIENT_ADDR" -o /dev/null -w '%{http_code}' "https://$NGINX_HOST:$NGINX_PORT/metrics")" = 404 ] && forged=$((forged + 1))
  done
  # Straight to an instance, the forged header is not believed either (the peer is no proxy).
  direct=$(curl -s -m 5 --interface "$FORGER_ADDR" -H "X-Forwarded-For: $CLIENT_ADDR" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pa/metrics")
  check5 "GET /metrics through nginx from $CLIENT_ADDR answered 200" "$ok200 of 9" "9 of 9"
  check5 "… from $FORGER_ADDR with a forged X-Forwarded-For: $CLIENT_ADDR answered 404" "$forged of 9" "9 of 9"
  check5 "… from $FORGER_ADDR with the forged header straight to an instance" "$direct" 404

  echo "  -- the escalation job's work (before the start, and added during the outage) done"
  for i in $(seq 450); do
    [ "$(q5 "SELECT count(*) FROM problems WHERE escalation_level = 3")" -ge $((k_a + k_b)) ] && break
    sleep 0.2
  done
  nginx_stop
  stop_server "$a"
  check5 "instance A's exit status after SIGTERM" "$stopped" 0
  stop_server "$c"
  check5 "instance C's exit status after SIGTERM" "$stopped" 0
  if [ -n "$restarted" ]; then
    kill -TERM "$restarted" 2>/dev/null || true
    for i in $(seq 400); do ended "$restarted" && break; sleep 0.1; done
    rm -f "$DRILLS_DIR/drill5-restarted.pid"
  fi
  check5 "instance B (started again) logged \"shut down\" after SIGTERM" "$(log_count "$LOGS/drill5-b-2.log" "shut down")" 1

  echo "  -- requests spread over the instances; their logs carry the client's X-Request-Id"
  local total mine share
  total=$(d5_finished $(d5_logs) | wc -l)
  for i in a b c; do
    mine=$(d5_finished "$LOGS"/drill5-$i-[12].log | wc -l)
    share=$((total > 0 ? 100 * mine / total : 0))
    echo "  instance ${i^^}: $mine of $total requests ($share %)$([ "$i" = b ] && echo "; after its restart: $(d5_finished "$LOGS/drill5-b-2.log" | wc -l)" || true)"
    # Round robin gives each about a third; B is down for part of the wave.
    if [ "$share" -lt 5 ]; then echo "  FAIL  instance ${i^^} served at least 5 % of the requests"; d5_ok=1; fi
  done
  echo "  nginx's access log: $(wc -l <"$NGINX_DIR/log/access.log") requests; by upstream answer: $(awk '{for (i = 1; i <= NF; i++) if ($i ~ /^ups=/) print $i}' "$NGINX_DIR/log/access.log" | sort | uniq -c | sort -rn | awk '{printf "%s %s, ", $2, $1}' | sed 's/, $//')"
  # When nginx sent B requests again (it skips an instance for fail_timeout after max_fails).
  local back killed_ms
  back=$(d5_finished "$LOGS/drill5-b-2.log" | head -n1 | jq -r '.timestamp // empty')
  killed_ms=$(cat "$DRILLS_DIR/drill5-killed.ms" 2>/dev/null || true)
  if [ -n "$back" ] && [ -n "$killed_ms" ]; then
    echo "  SIGKILL → first request served by B started again: $(awk -v a="$(date -d "$back" +%s%3N)" -v k="$killed_ms" 'BEGIN {printf "%.2f s", (a - k) / 1000}')"
  else
    echo "  SIGKILL → first request served by B started again: none in the wave"
  fi
  # What nginx resent on its own (proxy_next_upstream): by method, and how those ended.
  echo "  nginx passed to a second instance: $(grep -E ' up=[^ ]+, ' "$NGINX_DIR/log/access.log" \
    | awk '{sub(/^"/, "", $2); print $2, $5}' | sort | uniq -c | awk '{printf "%s → %s: %s, ", $2, $3, $1} END {if (NR == 0) printf "none"}' | sed 's/, $//')"
  # Every request the client saw acknowledged is in exactly one instance's log, under its id.
  local acked_ids logged_once
  acked_ids=$(awk -F, 'NR > 1 && ($8 == 200 || $8 == 201) && $1 != "readyz" {print $2}' "$OUT/drill5/requests.csv" | sort)
  logged_once=$(d5_finished $(d5_logs) | jq -r 'select(.status < 300) | .span.request_id' | sort | uniq -c | awk '$1 == 1 {print $2}' \
    | comm -12 - <(echo "$acked_ids") | wc -l)
  check5 "2xx answers found once in the instances' logs under the X-Request-Id the client sent" \
    "$logged_once of $(echo "$acked_ids" | grep -c . || true)" "$(echo "$acked_ids" | grep -c . || true) of $(echo "$acked_ids" | grep -c . || true)"
  # The client's address in the instances' request lines: any field that holds an address.
  local with_client
  with_client=$(d5_finished $(d5_logs) | jq -r '[.. | strings | select(test("^(127\\.0\\.0\\.[0-9]+|::1)$"))] | first // "none"' \
    | sort | uniq -c | sort -rn)
  echo "  addresses in the instances' request lines: $(echo "$with_client" | awk 'NF {printf "%s × %s, ", $2, $1}' | sed 's/, $//')"
  check5 "the instances' request log lines name the client's address ($CLIENT_ADDR, from X-Forwarded-For)" \
    "$(echo "$with_client" | awk -v c="$CLIENT_ADDR" '$2 == c {n += $1} END {print n + 0}') of $total" "$total of $total"

  echo "  -- jobs: each ran once though three instances (and one restarted) ran them"
  local k=$((k_a + k_b)) f
  for f in $(d5_logs); do
    [ -f "$f" ] || continue
    echo "  $(basename "$f" .log): escalations $(escalations_in "$f"); $(reconcile_lines "$f" | jq -r '"\(.message) \(.outcome // "")"' | paste -sd';')"
  done
  check5 "escalations logged by the instances together" "$(escalations_in $(d5_logs))" "$((3 * k))"
  check5 "counters repaired by the instances together" \
    "$(cat $(d5_logs) | jq -rR 'fromjson? | select(.message? // "" | startswith("stats reconciled")) | .outcome' \
      | sed -nE 's/.*counters_repaired: ([0-9]+).*/\1/p' | awk '{s += $1} END {print s + 0}')" "$d4_drifted"
  check5 "drifted counters now reading 0" \
    "$(redis-cli -p "$REDIS_PORT" --scan --pattern 'drill5:{stats}:439800:*' | xargs -r redis-cli -p "$REDIS_PORT" mget | grep -cv '^0$' || true)" 0
  check5 "problem_escalations rows / distinct (problem, round, level)" \
    "$(q5 "SELECT count(*) || ' / ' || count(DISTINCT (problem_id, round, level)) FROM problem_escalations")" "$((3 * k)) / $((3 * k))"
  check5 "'escalated' events / distinct (problem, level)" \
    "$(q5 "SELECT count(*) || ' / ' || count(DISTINCT (problem_id, details->>'level')) FROM problem_events WHERE event_type = 'escalated'")" \
    "$((3 * k)) / $((3 * k))"
  check5 "escalation outbox messages / distinct (problem, level, audience, unit)" \
    "$(q5 "SELECT count(*) || ' / ' || count(DISTINCT (problem_id, payload->>'level', audience, recipient_unit_id)) FROM notification_outbox WHERE kind = 'problem.escalated'")" \
    "$((4 * k)) / $((4 * k))"
  check5 "problems at level 3" "$(q5 "SELECT count(*) FROM problems WHERE escalation_level = 3")" "$k"
  for f in $(d5_logs); do [ -f "$f" ] && log_summary "$f"; done
  unset DRILL_RUST_LOG
  return $d5_ok
}

for n in "${drills[@]}"; do
  t0=$(date +%s)
  if "drill$n" > >(tee "$OUT/drill$n.txt") 2>&1; then verdict=PASS; else verdict=FAIL; fi
  sleep 0.2 # let tee finish
  result "$n" "$verdict" "($(($(date +%s) - t0)) s)"
done

echo "== drills on zhuqi $commit ($(($(date +%s) - started)) s in all)"
for n in "${drills[@]}"; do
  for r in "${results[@]}"; do
    case "$r" in "drill $n "*) echo "  $r" ;; esac
  done
  grep -h '^ *FAIL ' "$OUT/drill$n.txt" | sed 's/^ */      /' || true
done
for r in "${results[@]}"; do
  case "$r" in *FAIL*) exit 1 ;; esac
done
