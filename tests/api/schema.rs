//! `src/schema.rs` is what `diesel print-schema` makes of the migrations; this keeps the two
//! from drifting apart without needing the diesel CLI in CI.

use diesel::prelude::*;
use diesel_migrations::MigrationHarness;

use crate::helpers::spawn_app;

#[derive(QueryableByName, Debug, PartialEq)]
struct Column {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    udt_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    is_nullable: String,
}

/// (table, column, postgres type, nullable) as declared in `src/schema.rs`, in order.
fn declared() -> Vec<(String, String, String, bool)> {
    let source = include_str!("../../src/schema.rs");
    let mut columns = Vec::new();
    let mut table = None;
    for line in source.lines().map(str::trim) {
        if let Some(rest) = line.strip_suffix('{').map(str::trim) {
            if let Some((name, _)) = rest.split_once(" (") {
                table = Some(name.trim().to_owned());
            }
            continue;
        }
        if line == "}" || line.starts_with("diesel::") {
            continue;
        }
        let (Some(t), Some((name, ty))) = (&table, line.trim_end_matches(',').split_once(" -> ")) else {
            continue;
        };
        let (nullable, ty) = match ty.strip_prefix("Nullable<").and_then(|t| t.strip_suffix('>')) {
            Some(inner) => (true, inner),
            None => (false, ty),
        };
        let pg = match ty {
            "Uuid" => "uuid",
            "Text" => "text",
            "Timestamptz" => "timestamptz",
            "Date" => "date",
            "Time" => "time",
            "Float8" => "float8",
            "Int2" => "int2",
            "Int4" => "int4",
            "Int8" => "int8",
            "Bool" => "bool",
            "Jsonb" => "jsonb",
            "Bytea" => "bytea",
            "Array<Text>" => "_text",
            "Array<Uuid>" => "_uuid",
            "Tsvector" => "tsvector",
            other => panic!("schema.rs uses a type this test does not know: {other}"),
        };
        columns.push((t.clone(), name.trim().to_owned(), pg.to_owned(), nullable));
    }
    columns
}

#[tokio::test]
async fn schema_rs_matches_the_migrated_database() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let actual: Vec<(String, String, String, bool)> = diesel::sql_query(
        "SELECT table_name::text, column_name::text, udt_name::text, is_nullable::text
           FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'
            AND table_name::text NOT IN (SELECT relname::text FROM pg_class WHERE relispartition)
          ORDER BY table_name, ordinal_position",
    )
    .load::<Column>(&mut conn)
    .unwrap()
    .into_iter()
    .map(|c| (c.table_name, c.column_name, c.udt_name, c.is_nullable == "YES"))
    .collect();
    let mut declared = declared();
    declared.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(declared, actual);
}

#[tokio::test]
async fn every_migration_reverts_and_applies_again() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    conn.revert_all_migrations(zhuqi::db::MIGRATIONS).unwrap();
    assert_eq!(app.count("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'users'"), 0);
    conn.run_pending_migrations(zhuqi::db::MIGRATIONS).unwrap();
    assert_eq!(app.count("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'users'"), 1);
}

#[tokio::test]
async fn the_audit_log_is_append_only() {
    let app = spawn_app().await;
    app.seed_demo();
    assert!(app.count("SELECT count(*) AS n FROM audit_log") > 0);
    let mut conn = app.pool.get().unwrap();
    let update = diesel::sql_query("UPDATE audit_log SET action = 'rewritten'").execute(&mut conn);
    let delete = diesel::sql_query("DELETE FROM audit_log").execute(&mut conn);
    assert!(update.is_err() && delete.is_err());
}

/// The words a column's `CHECK` constraint allows, read from the migrated database.
fn allowed_words(app: &crate::helpers::TestApp, constraint: &str) -> Vec<String> {
    let definition = app.text(&format!(
        "SELECT pg_get_constraintdef(oid) AS t FROM pg_constraint WHERE conname = '{constraint}'"
    ));
    definition
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn words<T: std::fmt::Display>(all: &[T]) -> Vec<String> {
    all.iter().map(ToString::to_string).collect()
}

#[tokio::test]
async fn every_closed_vocabulary_is_exactly_what_its_column_allows() {
    use zhuqi::domain::attachment::MediaType;
    use zhuqi::domain::co_handling::CoStatus;
    use zhuqi::domain::daily_report::ProductionStatus;
    use zhuqi::domain::job_opening::JobType;
    use zhuqi::domain::lifecycle::{ActorRole, EventKind, ExtensionStatus, Outcome, Rating, Status};
    use zhuqi::domain::notification::{Audience, Channel, DeliveryStatus, NotificationKind, RobotPlatform};
    use zhuqi::domain::policy::{EnterpriseSize, PolicyBenefit, PolicyLevel};
    use zhuqi::domain::policy_checkoff::CheckoffStatus;
    use zhuqi::domain::problem::Urgency;
    use zhuqi::domain::role::Role;
    use zhuqi::domain::unit_kind::UnitKind;

    let app = spawn_app().await;
    let expected = [
        ("problems_status_known", words(Status::ALL)),
        ("problems_urgency_known", words(Urgency::ALL)),
        ("problems_outcome_known", words(Outcome::ALL)),
        ("problems_rating_known", words(Rating::ALL)),
        ("problem_events_type_known", words(EventKind::ALL)),
        ("problem_events_actor_role_known", words(ActorRole::ALL)),
        ("problem_extensions_status_known", words(ExtensionStatus::ALL)),
        ("problem_co_handlers_status_known", words(CoStatus::ALL)),
        ("daily_reports_status_known", words(ProductionStatus::ALL)),
        ("units_kind_known", words(UnitKind::ALL)),
        ("users_roles_known", words(Role::ALL)),
        (
            "problems_reporter_role_known",
            words(&[Role::Officer, Role::Enterprise]),
        ),
        ("notification_outbox_audience_known", words(Audience::ALL)),
        ("notification_deliveries_channel_known", words(Channel::ALL)),
        ("notification_deliveries_status_known", words(DeliveryStatus::ALL)),
        ("unit_robots_platform_known", words(RobotPlatform::ALL)),
        ("job_openings_job_type_known", words(JobType::ALL)),
        ("policies_level_known", words(PolicyLevel::ALL)),
        ("policies_benefit_kind_known", words(PolicyBenefit::ALL)),
        ("policies_sizes_known", words(EnterpriseSize::ALL)),
        ("policy_checkoffs_status_known", words(CheckoffStatus::ALL)),
        ("policy_checkoff_events_status_known", words(CheckoffStatus::ALL)),
        ("attachments_media_type_known", words(MediaType::ALL)),
        ("attachments_attached_role_known", words(Role::ALL)),
    ];
    for (constraint, words) in expected {
        assert_eq!(allowed_words(&app, constraint), words, "{constraint}");
    }
    // The notification kinds are a table the others refer to.
    let kinds = app.text("SELECT string_agg(kind, ',' ORDER BY kind) AS t FROM notification_kinds");
    let mut expected: Vec<&str> = NotificationKind::ALL.iter().map(|k| k.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(kinds, expected.join(","));
}

#[tokio::test]
async fn the_queue_rank_column_ranks_as_the_domain_does() {
    use zhuqi::domain::problem::Urgency;

    let app = spawn_app().await;
    for &urgency in Urgency::ALL {
        let rank = app.count(&format!(
            "SELECT (CASE '{urgency}' {} END)::int8 AS n",
            app.text(
                "SELECT substring(pg_get_expr(d.adbin, d.adrelid) FROM 'CASE urgency(.*)END') AS t \
                   FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum \
                  WHERE d.adrelid = 'problems'::regclass AND a.attname = 'queue_rank'"
            )
        ));
        assert_eq!(rank, i64::from(urgency.queue_rank()), "{urgency}");
    }
}

#[tokio::test]
async fn the_installed_functions_are_the_files_under_src_db_sql() {
    let app = spawn_app().await;
    for (name, definition) in zhuqi::db::functions::FUNCTIONS {
        let installed = app.text(&format!(
            "SELECT prosrc AS t FROM pg_proc WHERE proname = '{name}'"
        ));
        let file = zhuqi::db::functions::body(definition).expect("a body");
        assert_eq!(installed, file, "{name} differs from src/db/sql/{name}.sql");
    }
}
