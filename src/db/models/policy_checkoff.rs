//! `policy_checkoffs` and `policy_checkoff_events` (逐条对照): where each policy stands with each
//! enterprise, every word recorded, the figures and the ledger.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text, Uuid as SqlUuid};
use uuid::Uuid;

use crate::domain::policy_checkoff::{CheckoffInput, CheckoffStatus};
use crate::schema::{enterprises, policies, policy_checkoff_events, policy_checkoffs, regions, users};

/// A check-off: the current one of a pair, or one word of its history.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = policy_checkoffs, check_for_backend(diesel::pg::Pg))]
pub struct Checkoff {
    pub enterprise_id: Uuid,
    pub policy_id: Uuid,
    pub status: CheckoffStatus,
    pub day: NaiveDate,
    pub amount_yuan: Option<i64>,
    pub note: Option<String>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

/// A current check-off with what the ledger shows of its enterprise, policy and officer.
#[derive(Debug, Clone, Queryable)]
pub struct LedgerLine {
    pub checkoff: Checkoff,
    pub enterprise: String,
    pub credit_code: String,
    pub region_code: String,
    pub policy: String,
    pub doc_number: Option<String>,
    pub officer: String,
}

/// How many enterprise–policy pairs reached a status in a period (their latest word of that
/// status in the period), and the amounts of those words, per policy and region.
#[derive(Debug, Clone, QueryableByName)]
pub struct CheckoffCount {
    #[diesel(sql_type = SqlUuid)]
    pub policy_id: Uuid,
    #[diesel(sql_type = Text)]
    pub policy: String,
    #[diesel(sql_type = Text)]
    pub region_code: String,
    #[diesel(sql_type = Text)]
    pub status: CheckoffStatus,
    #[diesel(sql_type = BigInt)]
    pub pairs: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub amount_yuan: Option<i64>,
}

impl Checkoff {
    /// Records the officer's word: the pair's current check-off becomes it, and the history
    /// keeps it.
    pub fn record(
        conn: &mut PgConnection,
        enterprise_id: Uuid,
        policy_id: Uuid,
        region_code: &str,
        input: &CheckoffInput,
        by: Uuid,
        at: DateTime<Utc>,
    ) -> QueryResult<Checkoff> {
        use policy_checkoffs as c;
        let word = (
            c::status.eq(input.status),
            c::day.eq(input.day),
            c::amount_yuan.eq(input.amount_yuan),
            c::note.eq(input.note.as_deref()),
            c::recorded_by.eq(by),
            c::recorded_at.eq(at),
        );
        let current = diesel::insert_into(c::table)
            .values((
                c::enterprise_id.eq(enterprise_id),
                c::policy_id.eq(policy_id),
                c::region_code.eq(region_code),
                word,
            ))
            .on_conflict((c::enterprise_id, c::policy_id))
            .do_update()
            .set(word)
            .returning(Checkoff::as_returning())
            .get_result(conn)?;
        use policy_checkoff_events as e;
        diesel::insert_into(e::table)
            .values((
                e::enterprise_id.eq(enterprise_id),
                e::policy_id.eq(policy_id),
                e::region_code.eq(region_code),
                e::status.eq(input.status),
                e::day.eq(input.day),
                e::amount_yuan.eq(input.amount_yuan),
                e::note.eq(input.note.as_deref()),
                e::recorded_by.eq(by),
                e::recorded_at.eq(at),
            ))
            .execute(conn)?;
        Ok(current)
    }

    /// The enterprise's current check-offs.
    pub fn of_enterprise(conn: &mut PgConnection, enterprise_id: Uuid) -> QueryResult<Vec<Checkoff>> {
        policy_checkoffs::table
            .filter(policy_checkoffs::enterprise_id.eq(enterprise_id))
            .select(Checkoff::as_select())
            .load(conn)
    }

    /// Every word recorded for the pair, newest first.
    pub fn history(
        conn: &mut PgConnection,
        enterprise_id: Uuid,
        policy_id: Uuid,
    ) -> QueryResult<Vec<Checkoff>> {
        use policy_checkoff_events as e;
        e::table
            .filter(e::enterprise_id.eq(enterprise_id))
            .filter(e::policy_id.eq(policy_id))
            .order(e::id.desc())
            .select((
                e::enterprise_id,
                e::policy_id,
                e::status,
                e::day,
                e::amount_yuan,
                e::note,
                e::recorded_by,
                e::recorded_at,
            ))
            .load(conn)
    }

    /// The current check-offs of the region subtree under `path`, by enterprise then policy.
    pub fn ledger(conn: &mut PgConnection, path: &str) -> QueryResult<Vec<LedgerLine>> {
        policy_checkoffs::table
            .inner_join(enterprises::table)
            .inner_join(policies::table)
            .inner_join(users::table.on(users::id.eq(policy_checkoffs::recorded_by)))
            .filter(
                policy_checkoffs::region_code.eq_any(
                    regions::table
                        .filter(regions::path.like(format!("{path}%")))
                        .select(regions::code),
                ),
            )
            .order((enterprises::name, policies::title))
            .select((
                Checkoff::as_select(),
                enterprises::name,
                enterprises::credit_code,
                policy_checkoffs::region_code,
                policies::title,
                policies::doc_number,
                users::name,
            ))
            .load(conn)
    }

    /// Per policy, region and status: the pairs whose history has a word of that status dated
    /// in `from..=to` (counted once however often it was said), and the amounts of each pair's
    /// latest such word.
    pub fn counts(
        conn: &mut PgConnection,
        path: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> QueryResult<Vec<CheckoffCount>> {
        diesel::sql_query(
            "WITH latest AS (
                 SELECT DISTINCT ON (e.enterprise_id, e.policy_id, e.status)
                        e.policy_id, e.region_code, e.status, e.amount_yuan
                   FROM policy_checkoff_events e
                  WHERE e.day BETWEEN $2 AND $3
                    AND e.region_code IN (SELECT code FROM regions WHERE path LIKE $1)
                  ORDER BY e.enterprise_id, e.policy_id, e.status, e.id DESC)
             SELECT l.policy_id, p.title AS policy, l.region_code, l.status,
                    count(*) AS pairs, sum(l.amount_yuan)::int8 AS amount_yuan
               FROM latest l JOIN policies p ON p.id = l.policy_id
              GROUP BY l.policy_id, p.title, l.region_code, l.status
              ORDER BY p.title, l.region_code, l.status",
        )
        .bind::<Text, _>(format!("{path}%"))
        .bind::<Date, _>(from)
        .bind::<Date, _>(to)
        .load(conn)
    }
}
