#!/usr/bin/env bash
# Fills a migrated database with a city the size of the largest deployment (benches/city.sql):
# 演示大市 (439900), its roster, `days` days of sign-ins and reports up to yesterday, and
# `problems` problems at every stage of the hub's lifecycle as of now.
# Usage: benches/city.sh <database-url> [enterprises=30000] [officers=24000] [days=90] [problems=100000]
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -lt 1 ]]; then
  sed -n 's/^# Usage: //p' "$0" >&2
  exit 2
fi
url=$1 enterprises=${2:-30000} officers=${3:-24000} days=${4:-90} problems=${5:-100000}
for n in "$enterprises" "$officers" "$days" "$problems"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "city.sh: sizes must be positive integers, got '$n'" >&2; exit 2; }
done

start=$(date +%s)
psql "$url" -X -q -v ON_ERROR_STOP=1 -v enterprises="$enterprises" -v officers="$officers" \
  -v days="$days" -v problems="$problems" -f benches/city.sql
elapsed=$(($(date +%s) - start))

# Exact counts of what the city holds (all rows of each table).
psql "$url" -X -q -v ON_ERROR_STOP=1 -P footer=off <<'SQL'
SELECT t AS "table", (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I', t), false, true, '')))[1]::text::bigint AS rows
  FROM unnest(ARRAY['regions', 'units', 'enterprises', 'users', 'assignments', 'sign_ins', 'officer_devices',
                    'daily_reports', 'daily_report_revisions', 'problems', 'problem_events', 'problem_escalations']) t;
SELECT status, count(*) AS problems FROM problems GROUP BY status ORDER BY count(*) DESC;
SQL
echo "city.sh: generated in ${elapsed}s ($enterprises enterprises, $officers officers, $days days, $problems problems)"
