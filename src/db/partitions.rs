//! The tables partitioned by month (migration 000028): their next months' partitions are made
//! ahead of time, and an old month is detached whole to be archived (docs/scaling.md,
//! "Partitions"). A month's partition of each table is `<table>_pYYYY_MM`, bounded by China-local
//! months; rows of a month without a partition wait in `<table>_default`.

use chrono::NaiveDate;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Date, Text};

use crate::domain::metrics::Month;

/// Every table partitioned by month, in the order a month is detached: a month's revisions
/// before its reports (their key to the report would otherwise refuse the detach).
pub const TABLES: [&str; 6] = [
    "daily_report_revisions",
    "daily_reports",
    "sign_ins",
    "problem_events",
    "audit_log",
    "idempotency_records",
];

/// How many months past the current one always have their partitions.
pub const MONTHS_AHEAD: u32 = 3;

/// Creating or detaching a partition takes an ACCESS EXCLUSIVE lock on its table, and waiting
/// for it queues every later query of the table behind the wait: past this the attempt gives
/// up (and is made again on the next pass) rather than stall a morning behind a long export.
const LOCK_TIMEOUT: &str = "2s";

/// Instances starting together take turns ("zhuqi partitions" in ASCII, cut to 8 bytes).
const ENSURE_LOCK: i64 = 0x7a68_7571_6970_6172;

/// What became of one month's partition of one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Exists,
    /// Rows of the month are already in the default partition: left for an operator.
    Crowded,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ensured {
    pub table: &'static str,
    pub month: Month,
    pub outcome: Outcome,
}

diesel::define_sql_function! {
    /// See src/db/sql/create_month_partition.sql.
    fn create_month_partition(table: Text, month: Date) -> Text;
}

/// Makes sure every table has its partitions from the month of `today` through
/// [`MONTHS_AHEAD`] months after it, in one transaction; returns what it found or did for
/// each month and table.
pub fn ensure(conn: &mut PgConnection, today: NaiveDate) -> QueryResult<Vec<Ensured>> {
    conn.transaction(|conn| {
        conn.batch_execute(&format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))?;
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(ENSURE_LOCK)
            .execute(conn)?;
        let mut done = Vec::new();
        let mut month = Month::containing(today);
        for _ in 0..=MONTHS_AHEAD {
            for table in TABLES {
                let word: String =
                    diesel::select(create_month_partition(table, month.first_day())).get_result(conn)?;
                let outcome = match word.as_str() {
                    "created" => Outcome::Created,
                    "exists" => Outcome::Exists,
                    "crowded" => Outcome::Crowded,
                    other => {
                        return Err(diesel::result::Error::DeserializationError(
                            format!("create_month_partition answered {other:?}").into(),
                        ))
                    }
                };
                done.push(Ensured {
                    table,
                    month,
                    outcome,
                });
            }
            month = month.next();
        }
        Ok(done)
    })
}

/// Logs what [`ensure`] did: the partitions it created, and (as a warning, since someone must
/// act) the months it could not create because their rows already sit in a default partition.
pub fn log(ensured: &[Ensured]) {
    for e in ensured {
        match e.outcome {
            Outcome::Created => {
                tracing::info!(partition = %partition_name(e.table, e.month), "created a month's partition")
            }
            Outcome::Crowded => tracing::warn!(
                table = e.table,
                month = %e.month,
                "rows of this month are in the default partition, so its partition cannot be created; see docs/scaling.md, Partitions"
            ),
            Outcome::Exists => {}
        }
    }
}

/// Detaches the month's partition of every table (see [`TABLES`] for the order), in one
/// transaction: afterwards they are ordinary tables, named as before, that no query of the
/// service reads; docs/scaling.md says how to archive and drop them. Returns the tables
/// detached (a table without a partition for the month is skipped).
pub fn detach(conn: &mut PgConnection, month: Month) -> QueryResult<Vec<String>> {
    conn.transaction(|conn| {
        conn.batch_execute(&format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))?;
        let mut detached = Vec::new();
        for table in TABLES {
            let partition = partition_name(table, month);
            if !is_partition_of(conn, &partition, table)? {
                continue;
            }
            conn.batch_execute(&format!("ALTER TABLE {table} DETACH PARTITION {partition}"))?;
            drop_keys_into_partitioned_tables(conn, &partition)?;
            detached.push(partition);
        }
        Ok(detached)
    })
}

/// Drops the idempotency records' partitions of the months before last: every key in them is
/// long past its retention (`jobs::prune_idempotency`, 48 h), and each partition, even empty, is
/// one more index every key's lookup probes. Returns the partitions dropped.
pub fn drop_spent_idempotency(conn: &mut PgConnection, today: NaiveDate) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Partition {
        #[diesel(sql_type = Text)]
        relname: String,
    }
    let keep_from = partition_name("idempotency_records", Month::containing(today).previous());
    conn.transaction(|conn| {
        conn.batch_execute(&format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))?;
        let spent: Vec<Partition> = diesel::sql_query(
            "SELECT c.relname::text AS relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = 'idempotency_records'::regclass
                AND c.relname LIKE 'idempotency\\_records\\_p%' AND c.relname < $1
              ORDER BY c.relname",
        )
        .bind::<Text, _>(&keep_from)
        .load(conn)?;
        for Partition { relname } in &spent {
            conn.batch_execute(&format!(
                "ALTER TABLE idempotency_records DETACH PARTITION {relname}; DROP TABLE {relname}"
            ))?;
        }
        Ok(spent.into_iter().map(|p| p.relname).collect())
    })
}

/// A detached partition keeps the foreign keys it inherited: the revisions' key to the reports
/// would then hold the month's reports in place. An archive needs no key into the live tables.
fn drop_keys_into_partitioned_tables(conn: &mut PgConnection, partition: &str) -> QueryResult<()> {
    #[derive(QueryableByName)]
    struct Key {
        #[diesel(sql_type = Text)]
        conname: String,
    }
    let keys: Vec<Key> = diesel::sql_query(
        "SELECT k.conname::text AS conname FROM pg_constraint k
           JOIN pg_partitioned_table p ON p.partrelid = k.confrelid
          WHERE k.contype = 'f' AND k.conrelid = to_regclass(quote_ident($1))",
    )
    .bind::<Text, _>(partition)
    .load(conn)?;
    for Key { conname } in keys {
        conn.batch_execute(&format!(
            "ALTER TABLE {partition} DROP CONSTRAINT \"{}\"",
            conname.replace('"', "\"\"")
        ))?;
    }
    Ok(())
}

/// `<table>_pYYYY_MM`, as create_month_partition names it.
pub fn partition_name(table: &str, month: Month) -> String {
    format!("{table}_p{}", month.first_day().format("%Y_%m"))
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    found: bool,
}

fn is_partition_of(conn: &mut PgConnection, partition: &str, table: &str) -> QueryResult<bool> {
    let Found { found } = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM pg_inherits
                         WHERE inhrelid = to_regclass(quote_ident($1)) AND inhparent = to_regclass(quote_ident($2))) AS found",
    )
    .bind::<Text, _>(partition)
    .bind::<Text, _>(table)
    .get_result(conn)?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_named_by_the_month() {
        let month: Month = "2027-03"
            .parse()
            .unwrap_or_else(|()| Month::containing(NaiveDate::MIN));
        assert_eq!(partition_name("sign_ins", month), "sign_ins_p2027_03");
    }

    #[test]
    fn revisions_are_detached_before_their_reports() {
        let at = |t: &str| TABLES.iter().position(|x| *x == t);
        assert!(at("daily_report_revisions") < at("daily_reports"));
        assert_eq!(TABLES.len(), 6);
    }
}
