#!/usr/bin/env bash
# Fills a migrated database with a city the size of the largest deployment (benches/city.sql):
# 演示大市 (439900), its roster, `days` days of sign-ins and reports up to yesterday, and
# `problems` problems at every stage of the hub's lifecycle as of now.
# Usage: benches/city.sh <database-url> [enterprises=30000] [officers=24000] [days=90] [problems=100000]
#        benches/city.sh <database-url> province
# `province` is a province's year (Hunan's numbers): 31,000 enterprises, 24,000 officers, 365
# days (about 250 working days: ~6 M sign-ins, ~6 M reports) and 300,000 problems, generated as
# one region tree (docs/scaling.md).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -lt 1 ]]; then
  sed -n 's/^# Usage: //p' "$0" >&2
  exit 2
fi
if [[ "${2:-}" == province ]]; then
  set -- "$1" 31000 24000 365 300000
fi
url=$1 enterprises=${2:-30000} officers=${3:-24000} days=${4:-90} problems=${5:-100000}
for n in "$enterprises" "$officers" "$days" "$problems"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "city.sh: sizes must be positive integers, got '$n'" >&2; exit 2; }
done

start=$(date +%s)
psql "$url" -X -q -v ON_ERROR_STOP=1 -v enterprises="$enterprises" -v officers="$officers" \
  -v days="$days" -v problems="$problems" -f benches/city.sql
elapsed=$(($(date +%s) - start))

# Exact counts of every table the script writes (whole tables, not only the city).
psql "$url" -X -q -v ON_ERROR_STOP=1 -P footer=off <<'SQL'
SET max_parallel_workers_per_gather = 0;  -- keeps the UNION ALL in table order
SELECT 'regions' AS "table", count(*) AS rows FROM regions UNION ALL SELECT 'units', count(*) FROM units
UNION ALL SELECT 'enterprises', count(*) FROM enterprises UNION ALL SELECT 'users', count(*) FROM users
UNION ALL SELECT 'assignments', count(*) FROM assignments UNION ALL SELECT 'sign_ins', count(*) FROM sign_ins
UNION ALL SELECT 'officer_devices', count(*) FROM officer_devices UNION ALL SELECT 'daily_reports', count(*) FROM daily_reports
UNION ALL SELECT 'daily_report_revisions', count(*) FROM daily_report_revisions UNION ALL SELECT 'problems', count(*) FROM problems
UNION ALL SELECT 'problem_events', count(*) FROM problem_events UNION ALL SELECT 'problem_escalations', count(*) FROM problem_escalations;
SELECT status, count(*) AS problems FROM problems GROUP BY status ORDER BY count(*) DESC;
SQL
echo "city.sh: generated in ${elapsed}s ($enterprises enterprises, $officers officers, $days days, $problems problems)"
