#!/usr/bin/env bash
# How long a month's partitions take to create and to detach (and attach again) on a generated
# database (benches/city.sh), and how big each partitioned table is.
# Usage: benches/partitions.sh <database-url> [month-to-detach=the oldest full month, YYYY-MM]
# The month is detached with `zhuqi partitions detach` and attached again, so the database is
# left as it was. ZHUQI_BIN picks the binary (default target/release/zhuqi).
set -euo pipefail
cd "$(dirname "$0")/.."
url=${1:?usage: benches/partitions.sh <database-url> [YYYY-MM]}
zhuqi=${ZHUQI_BIN:-target/release/zhuqi}
tables=(daily_report_revisions daily_reports sign_ins problem_events audit_log idempotency_records)
month=${2:-$(psql -XAtq "$url" -c "SELECT to_char(min(day) + interval '1 month', 'YYYY-MM') FROM sign_ins")}
ms() { date +%s%3N; }

echo "== sizes (tables with their partitions and indexes)"
psql -Xq "$url" -P footer=off <<'SQL'
SELECT t AS "table", count(*) - 1 AS partitions,
       pg_size_pretty(sum(pg_total_relation_size(p.relid))) AS size
  FROM unnest(ARRAY['sign_ins', 'daily_reports', 'daily_report_revisions', 'problem_events', 'audit_log',
                    'idempotency_records']) AS t,
       pg_partition_tree(t::regclass) AS p
 WHERE p.isleaf OR p.level = 0
 GROUP BY t ORDER BY sum(pg_total_relation_size(p.relid)) DESC;
SELECT pg_size_pretty(pg_database_size(current_database())) AS database;
SQL

echo "== creating next year's partitions of one month (six tables)"
future=$(date -d "$(date +%Y-%m-01) +13 month" +%Y-%m-01)
t0=$(ms)
psql -XAtq "$url" -c "SELECT string_agg(create_month_partition(t, DATE '$future'), ' ') FROM unnest(ARRAY['$(IFS=,; echo "${tables[*]}" | sed "s/,/','/g")']) t"
echo "created in $(( $(ms) - t0 )) ms"
psql -Xq "$url" -c "$(for t in "${tables[@]}"; do printf 'ALTER TABLE %s DETACH PARTITION %s_p%s; DROP TABLE %s_p%s;' "$t" "$t" "${future:0:4}_${future:5:2}" "$t" "${future:0:4}_${future:5:2}"; done)"

echo "== $month: rows, then detach (zhuqi partitions detach) and attach again"
suffix=${month/-/_}
for t in sign_ins daily_reports daily_report_revisions problem_events; do
  echo "  ${t}_p$suffix: $(psql -XAtq "$url" -c "SELECT count(*) FROM ${t}_p$suffix") rows"
done
t0=$(ms)
DATABASE_URL="$url" RUST_LOG=warn "$zhuqi" partitions detach "$month"
echo "detached in $(( $(ms) - t0 )) ms (the whole command: connecting, its migration check, the detach)"
psql -XAtq "$url" -c "SELECT 1" >/dev/null
t0=$(ms)
psql -XAtq "$url" -c "SELECT 1" >/dev/null
echo "(a psql round trip alone: $(( $(ms) - t0 )) ms)"
from="$month-01"
to=$(date -d "$from +1 month" +%F)
t0=$(ms)
# Reports before their revisions (whose key into them is checked as they attach).
for ((i = ${#tables[@]} - 1; i >= 0; i--)); do
  t=${tables[i]}
  exists=$(psql -XAtq "$url" -c "SELECT to_regclass('${t}_p$suffix') IS NOT NULL")
  [[ $exists == t ]] || continue
  case $t in
    problem_events|audit_log|idempotency_records)
      bounds="FROM ('$from 00:00+08') TO ('$to 00:00+08')" ;;
    *) bounds="FROM ('$from') TO ('$to')" ;;
  esac
  psql -Xq "$url" -c "ALTER TABLE $t ATTACH PARTITION ${t}_p$suffix FOR VALUES $bounds"
done
echo "attached again in $(( $(ms) - t0 )) ms (each partition's rows, and the revisions' key to their reports, are checked)"
