//! Writes one validated roster record, inside the admin's region subtree, with its audit entry.
//!
//! Each `save_*` takes the row the record replaces (`None` to create) and reports whether it
//! created, updated or left the row unchanged, so imports can upsert and re-imports are
//! harmless.

use chrono::{DateTime, Duration, Utc};
use diesel::PgConnection;
use uuid::Uuid;

use crate::auth::scope::RegionScope;
use crate::auth::secrets;
use crate::db::models::assignment::{Assignment, NewAssignment};
use crate::db::models::audit;
use crate::db::models::enterprise::{Enterprise, EnterpriseFields};
use crate::db::models::refresh_token::RefreshToken;
use crate::db::models::region::{NewRegion, Region};
use crate::db::models::unit::{Unit, UnitFields};
use crate::db::models::user::{User, UserFields};
use crate::domain::region_code::child_path;
use crate::domain::role::Role;
use crate::domain::roster::{
    AssignmentRecord, EnterpriseRecord, FieldCode, FieldError, RegionRecord, UnitRecord, UserRecord,
};
use crate::error::AppError;

/// How long a fresh invite code stays usable.
pub const INVITE_TTL: Duration = Duration::days(14);

#[derive(Debug)]
pub enum Saved<T> {
    Created(T),
    Updated(T),
    Unchanged(T),
}

impl<T> Saved<T> {
    pub fn into_inner(self) -> T {
        match self {
            Saved::Created(t) | Saved::Updated(t) | Saved::Unchanged(t) => t,
        }
    }
}

/// Why a record could not be saved: its fields (reported per row), or anything else.
#[derive(Debug)]
pub enum SaveError {
    Fields(Vec<FieldError>),
    App(AppError),
}

impl From<diesel::result::Error> for SaveError {
    fn from(e: diesel::result::Error) -> Self {
        SaveError::App(e.into())
    }
}

impl From<AppError> for SaveError {
    fn from(e: AppError) -> Self {
        SaveError::App(e)
    }
}

impl From<SaveError> for AppError {
    /// Outside imports, field errors are a 422 listing every field.
    fn from(e: SaveError) -> Self {
        match e {
            SaveError::App(e) => e,
            SaveError::Fields(errors) => AppError::invalid(errors),
        }
    }
}

fn field(column: &str, code: FieldCode, message: impl Into<String>) -> SaveError {
    SaveError::Fields(vec![FieldError::new(column, code, message)])
}

const OUT_OF_SCOPE: &str = "不存在或不在您的管辖范围内";

/// Who is writing and where they may write.
pub struct Writer<'a> {
    pub actor: Uuid,
    pub scope: &'a RegionScope,
}

impl Writer<'_> {
    fn audit<B: serde::Serialize, A: serde::Serialize>(
        &self,
        conn: &mut PgConnection,
        action: &str,
        object_type: &str,
        object_id: &str,
        before: Option<&B>,
        after: Option<&A>,
    ) -> Result<(), SaveError> {
        audit::record(
            conn,
            Some(self.actor),
            action,
            object_type,
            object_id,
            before,
            after,
        )?;
        Ok(())
    }

    fn require_region(&self, conn: &mut PgConnection, column: &str, code: &str) -> Result<(), SaveError> {
        if self.scope.contains(conn, code)? {
            Ok(())
        } else {
            Err(field(
                column,
                FieldCode::Unknown,
                format!("区划 {code} {OUT_OF_SCOPE}"),
            ))
        }
    }

    pub fn save_region(
        &self,
        conn: &mut PgConnection,
        existing: Option<Region>,
        rec: &RegionRecord,
    ) -> Result<Saved<Region>, SaveError> {
        let parent = match &rec.parent_code {
            Some(code) => Some(Region::find(conn, code.as_str())?.ok_or_else(|| {
                field(
                    "parent_code",
                    FieldCode::Unknown,
                    format!("上级区划 {code} 不存在"),
                )
            })?),
            None => None,
        };
        let is_root = rec.code.as_str() == self.scope.root_code;
        let parent_in_scope = parent
            .as_ref()
            .is_some_and(|p| p.path.starts_with(&self.scope.root_path));
        if !is_root && !parent_in_scope {
            return Err(field(
                "parent_code",
                FieldCode::Unknown,
                format!("上级区划{OUT_OF_SCOPE}"),
            ));
        }
        let parent_code = parent.as_ref().map(|p| p.code.as_str());
        let path = child_path(parent.as_ref().map(|p| p.path.as_str()), &rec.code);
        match existing {
            None => {
                let region = Region::insert(
                    conn,
                    &NewRegion {
                        code: rec.code.as_str(),
                        name: &rec.name,
                        parent_code,
                        path: &path,
                    },
                )?;
                self.audit(
                    conn,
                    "region.create",
                    "region",
                    &region.code,
                    None::<&()>,
                    Some(&region),
                )?;
                Ok(Saved::Created(region))
            }
            Some(old) if old.name == rec.name && old.parent_code.as_deref() == parent_code => {
                Ok(Saved::Unchanged(old))
            }
            Some(old) => {
                if is_root && old.parent_code.as_deref() != parent_code {
                    return Err(field("parent_code", FieldCode::Invalid, "不能移动您所辖的根区划"));
                }
                if parent.as_ref().is_some_and(|p| p.path.starts_with(&old.path)) {
                    return Err(field(
                        "parent_code",
                        FieldCode::Invalid,
                        "不能移到自己的下级区划之下",
                    ));
                }
                let region = Region::update(conn, &old.code, &rec.name, parent_code, &path, &old.path)?;
                self.audit(
                    conn,
                    "region.update",
                    "region",
                    &region.code,
                    Some(&old),
                    Some(&region),
                )?;
                Ok(Saved::Updated(region))
            }
        }
    }

    pub fn save_unit(
        &self,
        conn: &mut PgConnection,
        existing: Option<Unit>,
        rec: &UnitRecord,
    ) -> Result<Saved<Unit>, SaveError> {
        self.require_region(conn, "region_code", rec.region_code.as_str())?;
        let fields = UnitFields {
            code: &rec.code,
            name: &rec.name,
            kind: rec.kind,
            region_code: rec.region_code.as_str(),
        };
        match existing {
            None => {
                let unit = Unit::insert(conn, &fields)?;
                self.audit(
                    conn,
                    "unit.create",
                    "unit",
                    &unit.id.to_string(),
                    None::<&()>,
                    Some(&unit),
                )?;
                Ok(Saved::Created(unit))
            }
            Some(old)
                if old.code == fields.code
                    && old.name == fields.name
                    && old.kind == fields.kind
                    && old.region_code == fields.region_code =>
            {
                Ok(Saved::Unchanged(old))
            }
            Some(old) => {
                let unit = Unit::update(conn, old.id, &fields)?;
                self.audit(
                    conn,
                    "unit.update",
                    "unit",
                    &unit.id.to_string(),
                    Some(&old),
                    Some(&unit),
                )?;
                Ok(Saved::Updated(unit))
            }
        }
    }

    pub fn save_enterprise(
        &self,
        conn: &mut PgConnection,
        existing: Option<Enterprise>,
        rec: &EnterpriseRecord,
    ) -> Result<Saved<Enterprise>, SaveError> {
        self.require_region(conn, "region_code", rec.region_code.as_str())?;
        let fields = EnterpriseFields {
            credit_code: rec.credit_code.as_str(),
            name: &rec.name,
            region_code: rec.region_code.as_str(),
            industry: &rec.industry,
            address: &rec.address,
            lat: rec.lat,
            lng: rec.lng,
            geofence_m: rec.geofence_m,
            size: rec.size,
        };
        match existing {
            None => {
                let enterprise = Enterprise::insert(conn, &fields)?;
                let id = enterprise.id.to_string();
                self.audit(
                    conn,
                    "enterprise.create",
                    "enterprise",
                    &id,
                    None::<&()>,
                    Some(&enterprise),
                )?;
                Ok(Saved::Created(enterprise))
            }
            Some(old)
                if old.credit_code == fields.credit_code
                    && old.name == fields.name
                    && old.region_code == fields.region_code
                    && old.industry == fields.industry
                    && old.address == fields.address
                    && old.lat == fields.lat
                    && old.lng == fields.lng
                    && old.geofence_m == fields.geofence_m
                    && old.size == fields.size =>
            {
                Ok(Saved::Unchanged(old))
            }
            Some(old) => {
                let enterprise = Enterprise::update(conn, old.id, &fields)?;
                let id = enterprise.id.to_string();
                self.audit(
                    conn,
                    "enterprise.update",
                    "enterprise",
                    &id,
                    Some(&old),
                    Some(&enterprise),
                )?;
                Ok(Saved::Updated(enterprise))
            }
        }
    }

    pub fn save_user(
        &self,
        conn: &mut PgConnection,
        existing: Option<User>,
        rec: &UserRecord,
    ) -> Result<Saved<User>, SaveError> {
        self.require_region(conn, "region_code", rec.region_code.as_str())?;
        let unit_id = match &rec.unit_code {
            Some(code) => {
                let unit = Unit::find_by_code(conn, code)?
                    .filter(|u| self.scope.contains(conn, &u.region_code).unwrap_or(false))
                    .ok_or_else(|| {
                        field(
                            "unit_code",
                            FieldCode::Unknown,
                            format!("单位 {code} {OUT_OF_SCOPE}"),
                        )
                    })?;
                Some(unit.id)
            }
            None => None,
        };
        let enterprise_id = match &rec.enterprise_credit_code {
            Some(code) => {
                let enterprise = Enterprise::find_by_credit_code(conn, code.as_str())?
                    .filter(|e| self.scope.contains(conn, &e.region_code).unwrap_or(false))
                    .ok_or_else(|| {
                        field(
                            "enterprise_credit_code",
                            FieldCode::Unknown,
                            format!("企业 {code} {OUT_OF_SCOPE}"),
                        )
                    })?;
                Some(enterprise.id)
            }
            None => None,
        };
        if let Some(phone) = &rec.phone {
            let holder = User::find_by_phone(conn, phone.as_str())?;
            if holder.is_some_and(|h| Some(h.id) != existing.as_ref().map(|e| e.id)) {
                return Err(field(
                    "phone",
                    FieldCode::Duplicate,
                    format!("手机号 {phone} 已被其他用户使用"),
                ));
            }
        }
        let fields = UserFields {
            username: &rec.username,
            name: &rec.name,
            phone: rec.phone.as_ref().map(|p| p.as_str()),
            roles: rec.roles.clone(),
            unit_id,
            region_code: rec.region_code.as_str(),
            enterprise_id,
        };
        match existing {
            None => {
                let user = User::insert(conn, &fields)?;
                self.audit(
                    conn,
                    "user.create",
                    "user",
                    &user.id.to_string(),
                    None::<&()>,
                    Some(&user),
                )?;
                Ok(Saved::Created(user))
            }
            Some(old)
                if old.username == fields.username
                    && old.name == fields.name
                    && old.phone.as_deref() == fields.phone
                    && old.roles == fields.roles
                    && old.unit_id == fields.unit_id
                    && old.region_code == fields.region_code
                    && old.enterprise_id == fields.enterprise_id =>
            {
                Ok(Saved::Unchanged(old))
            }
            Some(old) => {
                let user = User::update(conn, old.id, &fields)?;
                self.audit(
                    conn,
                    "user.update",
                    "user",
                    &user.id.to_string(),
                    Some(&old),
                    Some(&user),
                )?;
                Ok(Saved::Updated(user))
            }
        }
    }

    /// Gives the user a new one-time invite code (the previous one stops working) and returns
    /// it with its expiry; only its digest is stored. The user's sessions end: whoever binds
    /// with the new code starts afresh.
    pub fn issue_invite(
        &self,
        conn: &mut PgConnection,
        user: &User,
        now: DateTime<Utc>,
    ) -> Result<(String, DateTime<Utc>), SaveError> {
        let code = secrets::new_invite_code();
        let expires_at = now + INVITE_TTL;
        User::set_invite(conn, user.id, &secrets::invite_digest(&code), expires_at)?;
        RefreshToken::revoke_all_of_user(conn, user.id, now)?;
        self.audit::<(), ()>(
            conn,
            "user.invite_issued",
            "user",
            &user.id.to_string(),
            None,
            None,
        )?;
        Ok((code, expires_at))
    }

    pub fn save_assignment(
        &self,
        conn: &mut PgConnection,
        rec: &AssignmentRecord,
    ) -> Result<Saved<Assignment>, SaveError> {
        let officer = User::find_by_username(conn, &rec.officer_username)?
            .filter(|u| self.scope.contains(conn, &u.region_code).unwrap_or(false))
            .ok_or_else(|| {
                field(
                    "officer_username",
                    FieldCode::Unknown,
                    format!("联络员 {} {OUT_OF_SCOPE}", rec.officer_username),
                )
            })?;
        if !officer.roles.contains(&Role::Officer) {
            return Err(field(
                "officer_username",
                FieldCode::Invalid,
                format!("{} 不是联络员", rec.officer_username),
            ));
        }
        let enterprise = Enterprise::find_by_credit_code(conn, rec.enterprise_credit_code.as_str())?
            .filter(|e| self.scope.contains(conn, &e.region_code).unwrap_or(false))
            .ok_or_else(|| {
                field(
                    "enterprise_credit_code",
                    FieldCode::Unknown,
                    format!("企业 {} {OUT_OF_SCOPE}", rec.enterprise_credit_code),
                )
            })?;
        match Assignment::find_by_natural_key(conn, officer.id, enterprise.id, rec.start_day)? {
            None => {
                let assignment = Assignment::insert(
                    conn,
                    &NewAssignment {
                        officer_id: officer.id,
                        enterprise_id: enterprise.id,
                        start_day: rec.start_day,
                        end_day: rec.end_day,
                    },
                )?;
                let id = assignment.id.to_string();
                self.audit(
                    conn,
                    "assignment.create",
                    "assignment",
                    &id,
                    None::<&()>,
                    Some(&assignment),
                )?;
                Ok(Saved::Created(assignment))
            }
            Some(old) if old.end_day == rec.end_day => Ok(Saved::Unchanged(old)),
            Some(old) => self.set_assignment_end(conn, old, rec.end_day),
        }
    }

    pub fn set_assignment_end(
        &self,
        conn: &mut PgConnection,
        old: Assignment,
        end_day: Option<chrono::NaiveDate>,
    ) -> Result<Saved<Assignment>, SaveError> {
        if end_day.is_some_and(|end| end < old.start_day) {
            return Err(field("end_day", FieldCode::Invalid, "结束日期不能早于开始日期"));
        }
        let assignment = Assignment::set_end_day(conn, old.id, end_day)?;
        let id = assignment.id.to_string();
        self.audit(
            conn,
            "assignment.update",
            "assignment",
            &id,
            Some(&old),
            Some(&assignment),
        )?;
        Ok(Saved::Updated(assignment))
    }
}
