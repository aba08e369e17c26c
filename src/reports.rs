//! Filing the daily report (日报告): the first filing of an officer's report for an enterprise
//! and day, or a revision of it, with the problems its `problems[]` raise entering the hub's
//! queue. Handlers in `routes::daily_reports` parse and validate; this runs inside the
//! request's transaction.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::sql_types::{Bytea, Date, Integer, Jsonb, Nullable, SmallInt, Text, Timestamptz};
use diesel::{PgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::models::daily_report::DailyReport;
use crate::db::models::enterprise::Enterprise;
use crate::db::models::problem::{Filing, Problem};
use crate::domain::classifier::Suggestion;
use crate::domain::daily_report::{self, ReportInput, ValidReport};
use crate::domain::problem::ValidProblem;
use crate::domain::role::Role;
use crate::error::{AppError, ErrorCode};
use crate::idempotency::{KeyRef, Stored};

/// A report as the officer sends it, validated.
pub struct ReportFiling {
    pub officer_id: Uuid,
    pub enterprise_id: Uuid,
    pub day: NaiveDate,
    /// The body as sent, kept with each revision.
    pub input: ReportInput,
    pub content: ValidReport,
    /// The valid entries of `problems[]`, each with the classifier's suggestion.
    pub problems: Vec<(Option<Suggestion>, ValidProblem)>,
    pub now: DateTime<Utc>,
}

/// What filing did.
pub struct Filed {
    pub report: DailyReport,
    /// Every problem the report raised, across its revisions, oldest first.
    pub problem_ids: Vec<Uuid>,
    /// A first filing (201), not a revision (200).
    pub created: bool,
    /// Problems this filing added to the queue.
    pub new_problems: i64,
    /// The enterprise's region path, for the counters after the commit.
    pub region_path: String,
}

/// Files or revises the report. Refused when the day is closed (`report.closed`), the
/// enterprise unknown (404) or not the officer's that day (`report.not_assigned`). A resend
/// that changes no field and raises no new problem is no revision.
pub fn file(conn: &mut PgConnection, filing: ReportFiling) -> Result<Filed, AppError> {
    let ReportFiling {
        officer_id,
        enterprise_id,
        day,
        input,
        content,
        problems,
        now,
    } = filing;
    // Checked here, inside the idempotent transaction, so that a retry of a report accepted
    // before 10:00 still replays afterwards.
    if !daily_report::is_open(now, day) {
        return Err(AppError::with_details(
            ErrorCode::ReportClosed,
            "只能填报当天的日报，前一天的日报可在次日10:00前补报或修改",
            serde_json::json!({ "day": day }),
        ));
    }
    let (enterprise, region_path, assigned) =
        Enterprise::for_filing(conn, enterprise_id, officer_id, day)?.ok_or(AppError::NotFound)?;
    if !assigned {
        return Err(AppError::new(
            ErrorCode::ReportNotAssigned,
            "您在该日未包联该企业，不能填报日报",
        ));
    }
    let body = serde_json::to_value(&input).unwrap_or_default();
    // The first filing is the common case: try it first, and read the report for revision
    // only when it is already there (a concurrent first filing has committed by then: the
    // insert waits for it).
    let inserted = DailyReport::insert(
        conn,
        officer_id,
        enterprise_id,
        &enterprise.region_code,
        day,
        &content,
        now,
    )?;
    let (report, created) = match inserted {
        Some(report) => {
            DailyReport::record_revision(conn, &report, officer_id, body.clone(), Vec::new())?;
            (report, true)
        }
        None => {
            let old = DailyReport::find_for_update(conn, officer_id, enterprise_id, day)?
                .ok_or_else(|| AppError::new(ErrorCode::ReportInProgress, "该日报正在提交，请稍后刷新"))?;
            (old, false)
        }
    };
    let problem_filing = Filing {
        enterprise_id,
        region_code: &enterprise.region_code,
        reporter_id: officer_id,
        reporter_role: Role::Officer,
        source_report_id: Some(report.id),
        at: now,
    };
    // One prepared statement per problem: a report raises none or one or two, and a batch
    // INSERT of varying length would be parsed and rewritten afresh each time.
    let mut filed = Vec::with_capacity(problems.len());
    for (suggestion, problem) in &problems {
        filed.extend(Problem::file(
            conn,
            &problem_filing,
            problem,
            suggestion.as_ref(),
        )?);
    }
    let new_problems = filed.len() as i64;
    let changed = if created {
        Vec::new()
    } else {
        content.changed_fields(&report.content())
    };
    let report = if created || (changed.is_empty() && new_problems == 0) {
        report
    } else {
        let revised = DailyReport::revise(conn, report.id, &content, now)?;
        DailyReport::record_revision(conn, &revised, officer_id, body, changed)?;
        revised
    };
    // A first filing raised exactly the problems it just filed, all at `now`: oldest first
    // is by id, as `ids_from_report` orders them.
    let problem_ids = if created {
        let mut ids: Vec<Uuid> = filed.iter().map(|p| p.id).collect();
        ids.sort();
        ids
    } else {
        Problem::ids_from_report(conn, report.id)?
    };
    Ok(Filed {
        problem_ids,
        report,
        created,
        new_problems,
        region_path,
    })
}

diesel::define_sql_function! {
    /// `report_first_filing` (src/db/sql/report_first_filing.sql): `filed <region path>`, or
    /// why it wrote nothing. A function call with a fixed shape, so the connection prepares it
    /// once and each filing is one round trip.
    #[allow(clippy::too_many_arguments)]
    fn report_first_filing(
        id: diesel::sql_types::Uuid,
        officer: diesel::sql_types::Uuid,
        enterprise: diesel::sql_types::Uuid,
        day: Date,
        at: Timestamptz,
        work_done: Text,
        status: Text,
        capacity: SmallInt,
        on_duty: Integer,
        total: Integer,
        shortage: Integer,
        difficulties: Nullable<Text>,
        body: Jsonb,
        problems: Jsonb,
        key: Nullable<Text>,
        hash: Nullable<Text>,
        response: Bytea,
    ) -> Text;
}

/// What the one-statement first filing wrote.
pub struct FiledAtOnce {
    /// The 201 as `answer` made it, stored with the key.
    pub answer: Stored,
    /// The enterprise's region path, for the counters after the commit.
    pub region_path: String,
    /// Problems it added to the queue.
    pub new_problems: i64,
}

/// The evening's common case in one statement (`report_first_filing`, src/db/sql): the first
/// filing of the day's report, while it may be filed, with its problems and the key's record.
/// `answer` makes the 201 from the new report's id and its problems' ids (oldest first, as
/// `file` gives them). `None` when nothing was written and [`file`] must answer: a revision,
/// a refusal, a replay or a key in use.
pub fn first_filing(
    conn: &mut PgConnection,
    filing: &ReportFiling,
    key: Option<KeyRef<'_>>,
    answer: impl FnOnce(Uuid, &[Uuid]) -> Result<Stored, AppError>,
) -> Result<Option<FiledAtOnce>, AppError> {
    if !daily_report::is_open(filing.now, filing.day) {
        return Ok(None);
    }
    // The same problem twice in one report is filed once, as the unique index has it for `file`.
    let mut seen = HashSet::new();
    let problems: Vec<(Uuid, Option<&Suggestion>, &ValidProblem)> = filing
        .problems
        .iter()
        .filter(|(_, p)| seen.insert(p.description_hash.as_str()))
        .map(|(suggestion, p)| (Uuid::new_v4(), suggestion.as_ref(), p))
        .collect();
    let mut problem_ids: Vec<Uuid> = problems.iter().map(|(id, _, _)| *id).collect();
    problem_ids.sort();
    let report_id = Uuid::new_v4();
    let answer = answer(report_id, &problem_ids)?;
    let problems_json: Vec<serde_json::Value> = problems
        .iter()
        .map(|(id, suggestion, p)| {
            serde_json::json!({
                "id": id,
                "title": p.title,
                "description": p.description,
                "description_hash": p.description_hash,
                "category": p.category,
                "urgency": p.urgency,
                "departments_requested": p.departments_requested,
                "suggested_category": suggestion.map(|s| s.category.as_str()),
                "confidence": suggestion.map(|s| s.confidence),
            })
        })
        .collect();
    let content = &filing.content;
    let outcome: String = diesel::select(report_first_filing(
        report_id,
        filing.officer_id,
        filing.enterprise_id,
        filing.day,
        filing.now,
        &content.work_done,
        content.production_status,
        content.capacity_pct,
        content.staff_on_duty,
        content.staff_total,
        content.staff_shortage,
        content.difficulties.as_deref(),
        serde_json::to_value(&filing.input).unwrap_or_default(),
        serde_json::Value::Array(problems_json),
        key.as_ref().map(|k| k.key),
        key.as_ref().map(|k| k.fingerprint),
        answer.body.as_slice(),
    ))
    .get_result(conn)?;
    Ok(outcome.strip_prefix("filed ").map(|region_path| FiledAtOnce {
        answer,
        region_path: region_path.to_owned(),
        new_problems: problem_ids.len() as i64,
    }))
}
