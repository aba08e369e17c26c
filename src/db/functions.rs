//! The database's functions whose bodies change with the code (`src/db/sql/*.sql`), installed
//! by [`super::migrate`] after the migrations with `CREATE OR REPLACE`: each function's living
//! definition is one file, not the last of the migrations that touched it.

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::PgConnection;

/// (function name, its `CREATE OR REPLACE FUNCTION` file).
pub const FUNCTIONS: &[(&str, &str)] = &[
    ("idempotency_claim", include_str!("sql/idempotency_claim.sql")),
    ("sign_ins_at_once", include_str!("sql/sign_ins_at_once.sql")),
    ("report_first_filing", include_str!("sql/report_first_filing.sql")),
    (
        "officer_days_between",
        include_str!("sql/officer_days_between.sql"),
    ),
    ("roll_officer_days", include_str!("sql/roll_officer_days.sql")),
    ("roll_officer_months", include_str!("sql/roll_officer_months.sql")),
    (
        "create_month_partition",
        include_str!("sql/create_month_partition.sql"),
    ),
];

/// Installs every function of [`FUNCTIONS`].
pub fn install(conn: &mut PgConnection) -> anyhow::Result<()> {
    for (name, definition) in FUNCTIONS {
        conn.batch_execute(definition)
            .with_context(|| format!("installing the function {name} (src/db/sql/{name}.sql)"))?;
    }
    Ok(())
}

/// The body of a definition: the text between `AS $$` and the closing `$$`, as PostgreSQL
/// keeps it (`pg_proc.prosrc`).
pub fn body(definition: &str) -> Option<&str> {
    let start = definition.find("AS $$")? + "AS $$".len();
    let end = definition[start..].rfind("$$")? + start;
    Some(&definition[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_defines_its_function_and_has_a_body() {
        for (name, definition) in FUNCTIONS {
            assert!(
                definition.contains(&format!("CREATE OR REPLACE FUNCTION {name}(")),
                "{name}"
            );
            assert!(body(definition).is_some_and(|b| b.contains("BEGIN")), "{name}");
        }
    }
}
