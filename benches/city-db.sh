# Shared by benches/stats.sh and benches/console.sh: the city database (benches/city.sh) with an
# admin who also dispatches, `bench.admin` / `bench-password`, at the city (439900).
# Usage (sourced): city_database <postgres-url> <database> <zhuqi binary> [city.sh sizes…]
# With REUSE=1 the city of a previous run is kept (only new migrations are applied).
city_database() {
  local pg=$1 db=$2 zhuqi=$3
  shift 3
  if [[ "${REUSE:-0}" == 1 ]]; then
    DATABASE_URL="$pg/$db" "$zhuqi" migrate >/dev/null
    return
  fi
  psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  DATABASE_URL="$pg/$db" "$zhuqi" migrate
  benches/city.sh "$pg/$db" "$@"
  DATABASE_URL="$pg/$db" ZHUQI_ADMIN_PASSWORD=bench-password "$zhuqi" create-admin \
    --username bench.admin --region-code 439900 >/dev/null
  psql -q "$pg/$db" -c "UPDATE users SET roles = '{admin,dispatcher}' WHERE username = 'bench.admin'"
}
