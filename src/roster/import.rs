//! Imports a roster file: every row validated and saved in one transaction, all or nothing,
//! with a per-row error report; a dry run validates and rolls back.

use chrono::{DateTime, FixedOffset, Utc};
use diesel::{Connection, PgConnection};
use serde::Serialize;
use uuid::Uuid;

use super::reader::Row;
use super::save::{SaveError, Saved, Writer};
use crate::clock::wire_time;
use crate::db::models::enterprise::Enterprise;
use crate::db::models::region::Region;
use crate::db::models::unit::Unit;
use crate::db::models::user::User;
use crate::domain::roster::{
    AssignmentRecord, EnterpriseRecord, FieldCode, FieldError, RegionRecord, UnitRecord, UserRecord,
    ASSIGNMENT_COLUMNS, ENTERPRISE_COLUMNS, REGION_COLUMNS, UNIT_COLUMNS, USER_COLUMNS,
};
use crate::error::{AppError, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Regions,
    Units,
    Enterprises,
    Users,
    Assignments,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Regions,
        Kind::Units,
        Kind::Enterprises,
        Kind::Users,
        Kind::Assignments,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Regions => "regions",
            Kind::Units => "units",
            Kind::Enterprises => "enterprises",
            Kind::Users => "users",
            Kind::Assignments => "assignments",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::Regions => REGION_COLUMNS,
            Kind::Units => UNIT_COLUMNS,
            Kind::Enterprises => ENTERPRISE_COLUMNS,
            Kind::Users => USER_COLUMNS,
            Kind::Assignments => ASSIGNMENT_COLUMNS,
        }
    }

    /// Columns a file must have; the others may be left out.
    pub fn required_columns(self) -> &'static [&'static str] {
        match self {
            Kind::Regions => &["code", "name"],
            Kind::Units => UNIT_COLUMNS,
            Kind::Enterprises => &["credit_code", "name", "region_code", "lat", "lng"],
            Kind::Users => &["username", "name", "roles", "region_code"],
            Kind::Assignments => &["officer_username", "enterprise_credit_code", "start_day"],
        }
    }
}

#[derive(Debug, Serialize)]
pub struct InviteCode {
    pub username: String,
    pub invite_code: String,
    pub expires_at: DateTime<FixedOffset>,
}

#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub kind: Kind,
    pub dry_run: bool,
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// One-time invite codes of the users this import created; shown once, stored hashed.
    pub invite_codes: Vec<InviteCode>,
    /// The session generations of the users it changed, for `sessions::publish`.
    #[serde(skip)]
    pub sessions: Vec<(Uuid, i64)>,
}

/// A broken rule of one row: the row's line number and the field error (`{row, field, code,
/// message}` in `details.errors`).
#[derive(Debug, Serialize)]
pub struct RowError {
    pub row: usize,
    #[serde(flatten)]
    pub error: FieldError,
}

/// Why the transaction ends without committing.
enum Abort {
    Invalid(Vec<RowError>),
    DryRun(ImportReport),
    Failed(AppError),
}

impl From<diesel::result::Error> for Abort {
    fn from(e: diesel::result::Error) -> Self {
        Abort::Failed(e.into())
    }
}

/// The column a database-level refusal is about and the kind of rule, so it can be reported on
/// its row.
fn field_of(code: ErrorCode) -> (&'static str, FieldCode) {
    match code {
        ErrorCode::UserUsernameTaken => ("username", FieldCode::Duplicate),
        ErrorCode::UserPhoneTaken => ("phone", FieldCode::Duplicate),
        ErrorCode::UnitCodeTaken => ("code", FieldCode::Duplicate),
        ErrorCode::EnterpriseCreditCodeTaken => ("credit_code", FieldCode::Duplicate),
        ErrorCode::RegionCodeTaken => ("code", FieldCode::Duplicate),
        ErrorCode::UserUnitRequired => ("unit_code", FieldCode::Required),
        ErrorCode::UserEnterpriseRequired => ("enterprise_credit_code", FieldCode::Required),
        _ => ("", FieldCode::Invalid),
    }
}

/// Regions are saved parents first, whatever order the file has them in.
fn region_level(row: &Row) -> u8 {
    match row.fields.get("code") {
        Some(c) if c.ends_with("0000") => 0,
        Some(c) if c.ends_with("00") => 1,
        _ => 2,
    }
}

pub fn run(
    conn: &mut PgConnection,
    writer: &Writer,
    kind: Kind,
    mut rows: Vec<Row>,
    dry_run: bool,
    now: DateTime<Utc>,
) -> Result<ImportReport, AppError> {
    if kind == Kind::Regions {
        rows.sort_by_key(region_level);
    }
    let outcome = conn.transaction::<ImportReport, Abort, _>(|conn| {
        let mut report = ImportReport {
            kind,
            dry_run,
            rows: rows.len(),
            created: 0,
            updated: 0,
            unchanged: 0,
            invite_codes: Vec::new(),
            sessions: Vec::new(),
        };
        let mut errors = Vec::new();
        for row in &rows {
            // A savepoint per row: a refused row must not poison the rows after it.
            let saved = conn.transaction::<_, SaveError, _>(|conn| save_row(conn, writer, kind, row));
            match saved {
                Ok(Saved::Created(created)) => {
                    report.created += 1;
                    if let (Created::User(user), false) = (created, dry_run) {
                        let (code, expires_at) =
                            writer.issue_invite(conn, &user, now).map_err(|e| match e {
                                SaveError::App(e) => Abort::Failed(e),
                                SaveError::Fields(_) => {
                                    Abort::Failed(AppError::Internal(anyhow::anyhow!("invite")))
                                }
                            })?;
                        report.invite_codes.push(InviteCode {
                            username: user.username.clone(),
                            invite_code: code,
                            expires_at: wire_time(expires_at),
                        });
                    }
                }
                Ok(Saved::Updated(updated)) => {
                    report.updated += 1;
                    if let Created::User(user) = updated {
                        report.sessions.push((user.id, user.session_generation));
                    }
                }
                Ok(Saved::Unchanged(_)) => report.unchanged += 1,
                Err(SaveError::Fields(fields)) => {
                    errors.extend(fields.into_iter().map(|error| RowError { row: row.line, error }))
                }
                Err(SaveError::App(e @ AppError::Refused { .. }))
                    if matches!(e.code().status().as_u16(), 409 | 422) =>
                {
                    let (field, code) = field_of(e.code());
                    errors.push(RowError {
                        row: row.line,
                        error: FieldError::new(field, code, e.to_string()),
                    })
                }
                Err(SaveError::App(e)) => return Err(Abort::Failed(e)),
            }
        }
        if !errors.is_empty() {
            return Err(Abort::Invalid(errors));
        }
        if dry_run {
            return Err(Abort::DryRun(report));
        }
        Ok(report)
    });
    match outcome {
        Ok(report) | Err(Abort::DryRun(report)) => Ok(report),
        Err(Abort::Invalid(errors)) => Err(AppError::with_details(
            ErrorCode::ImportInvalidRows,
            format!("{} 处错误，未导入任何数据", errors.len()),
            serde_json::json!({ "errors": errors }),
        )),
        Err(Abort::Failed(e)) => Err(e),
    }
}

/// What a row created; only new users need a follow-up (their invite code).
enum Created {
    User(Box<User>),
    Other,
}

fn other<T>(saved: Saved<T>) -> Saved<Created> {
    match saved {
        Saved::Created(_) => Saved::Created(Created::Other),
        Saved::Updated(_) => Saved::Updated(Created::Other),
        Saved::Unchanged(_) => Saved::Unchanged(Created::Other),
    }
}

fn field_errors(errors: Vec<FieldError>) -> SaveError {
    SaveError::Fields(errors)
}

fn save_row(
    conn: &mut PgConnection,
    writer: &Writer,
    kind: Kind,
    row: &Row,
) -> Result<Saved<Created>, SaveError> {
    match kind {
        Kind::Regions => {
            let rec = RegionRecord::parse(&row.fields).map_err(field_errors)?;
            let existing = Region::find(conn, rec.code.as_str())?;
            if let Some(old) = &existing {
                if !old.path.starts_with(&writer.scope.root_path) {
                    return Err(SaveError::Fields(vec![FieldError::new(
                        "code",
                        FieldCode::Unknown,
                        "该区划不在您的管辖范围内",
                    )]));
                }
            }
            writer.save_region(conn, existing, &rec).map(other)
        }
        Kind::Units => {
            let rec = UnitRecord::parse(&row.fields).map_err(field_errors)?;
            let existing = Unit::find_by_code(conn, &rec.code)?;
            if let Some(old) = &existing {
                if !writer.scope.contains(conn, &old.region_code)? {
                    return Err(SaveError::Fields(vec![FieldError::new(
                        "code",
                        FieldCode::Duplicate,
                        "该编码已被其他地区的单位使用",
                    )]));
                }
            }
            writer.save_unit(conn, existing, &rec).map(other)
        }
        Kind::Enterprises => {
            let rec = EnterpriseRecord::parse(&row.fields).map_err(field_errors)?;
            let existing = Enterprise::find_by_credit_code(conn, rec.credit_code.as_str())?;
            if let Some(old) = &existing {
                if !writer.scope.contains(conn, &old.region_code)? {
                    return Err(SaveError::Fields(vec![FieldError::new(
                        "credit_code",
                        FieldCode::Duplicate,
                        "该企业已登记在其他地区",
                    )]));
                }
            }
            writer.save_enterprise(conn, existing, &rec).map(other)
        }
        Kind::Users => {
            let rec = UserRecord::parse(&row.fields).map_err(field_errors)?;
            let existing = User::find_by_username(conn, &rec.username)?;
            if let Some(old) = &existing {
                if !writer.scope.contains(conn, &old.region_code)? {
                    return Err(SaveError::Fields(vec![FieldError::new(
                        "username",
                        FieldCode::Duplicate,
                        "该用户名已被其他地区使用",
                    )]));
                }
            }
            Ok(match writer.save_user(conn, existing, &rec)? {
                Saved::Created(user) => Saved::Created(Created::User(Box::new(user))),
                Saved::Updated(user) => Saved::Updated(Created::User(Box::new(user))),
                Saved::Unchanged(_) => Saved::Unchanged(Created::Other),
            })
        }
        Kind::Assignments => {
            let rec = AssignmentRecord::parse(&row.fields).map_err(field_errors)?;
            writer.save_assignment(conn, &rec).map(other)
        }
    }
}
