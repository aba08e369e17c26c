//! What the load generators share: settings from the environment, counting rows, the bench
//! city and its sessions.

// Each harness includes this module and uses a part of it.
#![allow(dead_code)]

use diesel::prelude::*;
use diesel::sql_types::BigInt;

pub fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The `n` column of a one-row query.
pub fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
}

/// The names of a bench city, so harnesses sharing a database server keep apart.
pub struct City {
    /// GB/T 2260 code of its one region.
    pub region: &'static str,
    pub region_name: &'static str,
    /// Code and name of its one dispatching unit.
    pub unit: &'static str,
    pub unit_name: &'static str,
    /// Officer `i` is `<officer>i`, named `<officer_name>i`, phone `<phone>` + 8 digits.
    pub officer: &'static str,
    pub officer_name: &'static str,
    pub phone: &'static str,
    /// Enterprise `i` is `<enterprise_name>i`, its credit code's body `<credit>` + 7 digits.
    pub enterprise_name: &'static str,
    pub credit: char,
}

/// Creates the city: the region, the unit, `n` enterprises and `n` officers, officer `i`
/// assigned to enterprise `i`; returns (officer, enterprise, lat, lng) in index order.
pub fn build_city(conn: &mut PgConnection, city: &City, n: usize) -> Vec<(uuid::Uuid, uuid::Uuid, f64, f64)> {
    use diesel::sql_types::Text;
    use zhuqi::domain::credit_code::CreditCode;
    diesel::sql_query(
        "INSERT INTO regions (code, name, path) VALUES ($1, $2, $1 || '/') ON CONFLICT DO NOTHING",
    )
    .bind::<Text, _>(city.region)
    .bind::<Text, _>(city.region_name)
    .execute(conn)
    .unwrap();
    diesel::sql_query(
        "INSERT INTO units (code, name, kind, region_code) VALUES ($1, $2, 'dispatching', $3) ON CONFLICT DO NOTHING",
    )
    .bind::<Text, _>(city.unit)
    .bind::<Text, _>(city.unit_name)
    .bind::<Text, _>(city.region)
    .execute(conn)
    .unwrap();
    let region = city.region;
    for chunk_start in (0..n).step_by(1000) {
        let values: Vec<String> = (chunk_start..(chunk_start + 1000).min(n))
            .map(|i| {
                let code = CreditCode::from_parts("91", region, &format!("{}{i:07}", city.credit)).unwrap();
                let (lat, lng) = (27.0 + (i as f64) * 0.0001, 113.0 + (i as f64) * 0.0001);
                format!(
                    "('{code}', '{}{i}', '{region}', {lat}, {lng})",
                    city.enterprise_name
                )
            })
            .collect();
        diesel::sql_query(format!(
            "INSERT INTO enterprises (credit_code, name, region_code, lat, lng) VALUES {} ON CONFLICT DO NOTHING",
            values.join(",")
        ))
        .execute(conn)
        .unwrap();
    }
    diesel::sql_query(format!(
        "INSERT INTO users (username, name, phone, roles, unit_id, region_code)
         SELECT '{officer}' || i, '{officer_name}' || i, '{phone}' || lpad(i::text, 8, '0'), ARRAY['officer'],
                (SELECT id FROM units WHERE code = '{unit}'), '{region}'
           FROM generate_series(0, {last}) AS i
         ON CONFLICT DO NOTHING",
        officer = city.officer,
        officer_name = city.officer_name,
        phone = city.phone,
        unit = city.unit,
        last = n - 1
    ))
    .execute(conn)
    .unwrap();
    diesel::sql_query(format!(
        "INSERT INTO assignments (officer_id, enterprise_id, start_day)
         SELECT u.id, e.id, DATE '2020-01-01'
           FROM generate_series(0, {last}) AS i
           JOIN users u ON u.username = '{officer}' || i
           JOIN enterprises e ON e.name = '{enterprise}' || i
         ON CONFLICT DO NOTHING",
        officer = city.officer,
        enterprise = city.enterprise_name,
        last = n - 1
    ))
    .execute(conn)
    .unwrap();

    #[derive(QueryableByName)]
    struct Pair {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        officer_id: uuid::Uuid,
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        enterprise_id: uuid::Uuid,
        #[diesel(sql_type = diesel::sql_types::Double)]
        lat: f64,
        #[diesel(sql_type = diesel::sql_types::Double)]
        lng: f64,
    }
    let pairs: Vec<Pair> = diesel::sql_query(
        "SELECT a.officer_id, a.enterprise_id, e.lat, e.lng
           FROM assignments a JOIN enterprises e ON e.id = a.enterprise_id JOIN users u ON u.id = a.officer_id
          WHERE e.region_code = $1 AND u.username LIKE $2 || '%'
          ORDER BY length(u.username), u.username",
    )
    .bind::<Text, _>(city.region)
    .bind::<Text, _>(city.officer)
    .load(conn)
    .unwrap();
    pairs
        .into_iter()
        .map(|p| (p.officer_id, p.enterprise_id, p.lat, p.lng))
        .collect()
}

/// Puts each user's session generation (0, as `build_city` leaves it) into Redis, as a login
/// does: the harnesses mint their tokens instead of logging in, and without this every first
/// request would read the users row.
pub async fn publish_sessions(redis_url: &str, prefix: &str, users: impl IntoIterator<Item = uuid::Uuid>) {
    use std::time::Duration;
    let cache = zhuqi::cache::Cache::new(redis_url, Duration::from_secs(2), prefix);
    cache.connect_in_background();
    for _ in 0..50 {
        if cache.ping().await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let users: Vec<uuid::Uuid> = users.into_iter().collect();
    for chunk in users.chunks(256) {
        futures_util::future::join_all(
            chunk
                .iter()
                .map(|id| zhuqi::auth::sessions::publish(&cache, *id, 0)),
        )
        .await;
    }
}
