//! The roster records an admin imports or edits, validated field by field. Import files and
//! the admin API both arrive here as column → text maps, so one set of rules serves both.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::credit_code::CreditCode;
use super::phone::Phone;
use super::region_code::RegionCode;
use super::role::{parse_roles, Role};
use super::unit_kind::UnitKind;

/// A record as text: column name → value (empty values are absent).
pub type Fields = HashMap<String, String>;

use super::enterprise_size::EnterpriseSize;
pub use super::field_error::{FieldCode, FieldError};

/// The columns of each import file, in order (API.md "Import formats").
pub const REGION_COLUMNS: &[&str] = &["code", "name", "parent_code"];
pub const UNIT_COLUMNS: &[&str] = &["code", "name", "kind", "region_code"];
pub const ENTERPRISE_COLUMNS: &[&str] = &[
    "credit_code",
    "name",
    "region_code",
    "industry",
    "address",
    "lat",
    "lng",
    "geofence_m",
    "size",
];
pub const USER_COLUMNS: &[&str] = &[
    "username",
    "name",
    "phone",
    "roles",
    "unit_code",
    "region_code",
    "enterprise_credit_code",
];
pub const ASSIGNMENT_COLUMNS: &[&str] = &[
    "officer_username",
    "enterprise_credit_code",
    "start_day",
    "end_day",
];

pub const DEFAULT_GEOFENCE_M: i32 = 500;
const MAX_NAME: usize = 200;
const MAX_TEXT: usize = 500;

/// Collects every field error of one record instead of stopping at the first.
struct Reader<'a> {
    fields: &'a Fields,
    errors: Vec<FieldError>,
}

impl<'a> Reader<'a> {
    fn new(fields: &'a Fields) -> Self {
        Self {
            fields,
            errors: Vec::new(),
        }
    }

    fn optional(&self, column: &str) -> Option<&'a str> {
        self.fields
            .get(column)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn fail(&mut self, column: &str, code: FieldCode, message: impl Into<String>) {
        self.errors.push(FieldError::new(column, code, message));
    }

    fn text(&mut self, column: &str, max: usize, required: bool) -> String {
        match self.optional(column) {
            None if required => {
                self.fail(column, FieldCode::Required, "必填");
                String::new()
            }
            None => String::new(),
            Some(v) if v.chars().count() > max => {
                self.fail(column, FieldCode::TooLong, format!("不能超过{max}个字符"));
                String::new()
            }
            Some(v) => v.to_owned(),
        }
    }

    fn parsed<T>(
        &mut self,
        column: &str,
        required: bool,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        match self.optional(column) {
            None => {
                if required {
                    self.fail(column, FieldCode::Required, "必填");
                }
                None
            }
            Some(v) => match parse(v) {
                Ok(value) => Some(value),
                Err(message) => {
                    self.fail(column, FieldCode::Invalid, message);
                    None
                }
            },
        }
    }

    fn region_code(&mut self, column: &str, required: bool) -> Option<RegionCode> {
        self.parsed(column, required, |v| {
            RegionCode::parse(v).ok_or_else(|| format!("“{v}”不是6位行政区划代码"))
        })
    }

    fn credit_code(&mut self, column: &str, required: bool) -> Option<CreditCode> {
        self.parsed(column, required, |v| {
            CreditCode::parse(v).map_err(|e| e.to_string())
        })
    }

    fn day(&mut self, column: &str, required: bool) -> Option<NaiveDate> {
        self.parsed(column, required, |v| {
            let day = NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| format!("“{v}”不是日期（YYYY-MM-DD）"))?;
            if !super::day::known(day) {
                return Err(format!("“{v}”不在 2020 至 2099 年之间"));
            }
            Ok(day)
        })
    }

    fn number(&mut self, column: &str, range: std::ops::RangeInclusive<f64>) -> Option<f64> {
        self.parsed(column, true, |v| match v.parse::<f64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(format!("“{v}”应为 {} 到 {} 之间的数", range.start(), range.end())),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RegionRecord {
    pub code: RegionCode,
    pub name: String,
    pub parent_code: Option<RegionCode>,
}

impl RegionRecord {
    pub fn parse(fields: &Fields) -> Result<Self, Vec<FieldError>> {
        let mut r = Reader::new(fields);
        let code = r.region_code("code", true);
        let name = r.text("name", MAX_NAME, true);
        let parent_code = r.region_code("parent_code", false);
        if let (Some(code), Some(parent)) = (&code, &parent_code) {
            if code == parent {
                r.fail("parent_code", FieldCode::Invalid, "上级区划不能是自身");
            }
        }
        match code {
            Some(code) if r.errors.is_empty() => Ok(Self {
                code,
                name,
                parent_code,
            }),
            _ => Err(r.errors),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct UnitRecord {
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub region_code: RegionCode,
}

impl UnitRecord {
    pub fn parse(fields: &Fields) -> Result<Self, Vec<FieldError>> {
        let mut r = Reader::new(fields);
        let code = r.text("code", 64, true);
        let name = r.text("name", MAX_NAME, true);
        let kind = r.parsed("kind", true, |v| {
            UnitKind::parse(v).ok_or_else(|| format!("“{v}”应为 dispatching、department 或 hub"))
        });
        let region_code = r.region_code("region_code", true);
        match (kind, region_code) {
            (Some(kind), Some(region_code)) if r.errors.is_empty() => Ok(Self {
                code,
                name,
                kind,
                region_code,
            }),
            _ => Err(r.errors),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnterpriseRecord {
    pub credit_code: CreditCode,
    pub name: String,
    pub region_code: RegionCode,
    pub industry: String,
    pub address: String,
    /// GCJ-02 latitude and longitude.
    pub lat: f64,
    pub lng: f64,
    pub geofence_m: i32,
    /// 企业规模, when the roster gives it.
    pub size: Option<EnterpriseSize>,
}

impl EnterpriseRecord {
    pub fn parse(fields: &Fields) -> Result<Self, Vec<FieldError>> {
        let mut r = Reader::new(fields);
        let credit_code = r.credit_code("credit_code", true);
        let name = r.text("name", MAX_NAME, true);
        let region_code = r.region_code("region_code", true);
        let industry = r.text("industry", 100, false);
        let address = r.text("address", MAX_TEXT, false);
        // China lies within these bounds; a swapped lat/lng pair falls outside them.
        let lat = r.number("lat", 3.0..=54.0);
        let lng = r.number("lng", 73.0..=136.0);
        let geofence_m = r
            .parsed("geofence_m", false, |v| match v.parse::<i32>() {
                Ok(n) if (50..=5000).contains(&n) => Ok(n),
                _ => Err(format!("“{v}”应为 50 到 5000 之间的整数（米）")),
            })
            .unwrap_or(DEFAULT_GEOFENCE_M);
        let size = r.parsed("size", false, |v| {
            EnterpriseSize::from_cell(v)
                .ok_or_else(|| format!("“{v}”应为 大型、中型、小型、微型（或 large、medium、small、micro）"))
        });
        match (credit_code, region_code, lat, lng) {
            (Some(credit_code), Some(region_code), Some(lat), Some(lng)) if r.errors.is_empty() => Ok(Self {
                credit_code,
                name,
                region_code,
                industry,
                address,
                lat,
                lng,
                geofence_m,
                size,
            }),
            _ => Err(r.errors),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub username: String,
    pub name: String,
    pub phone: Option<Phone>,
    pub roles: Vec<Role>,
    pub unit_code: Option<String>,
    pub region_code: RegionCode,
    pub enterprise_credit_code: Option<CreditCode>,
}

impl UserRecord {
    pub fn parse(fields: &Fields) -> Result<Self, Vec<FieldError>> {
        let mut r = Reader::new(fields);
        let username = r.parsed("username", true, |v| {
            let ok = (2..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'@' | b'-'));
            if ok {
                Ok(v.to_owned())
            } else {
                Err("用户名应为2-64位字母、数字或 _ . @ -".to_owned())
            }
        });
        let name = r.text("name", 100, true);
        let phone = r.parsed("phone", false, |v| {
            Phone::parse(v).ok_or_else(|| format!("“{v}”不是有效的手机号"))
        });
        let roles = r.parsed("roles", true, parse_roles);
        let unit_code = r.optional("unit_code").map(str::to_owned);
        let region_code = r.region_code("region_code", true);
        let enterprise_credit_code = r.credit_code("enterprise_credit_code", false);
        if let Some(roles) = &roles {
            if unit_code.is_none() && roles.iter().any(|role| role.needs_unit()) {
                r.fail(
                    "unit_code",
                    FieldCode::Required,
                    "联络员、部门经办人和单位管理员必须填写所属单位",
                );
            }
            if enterprise_credit_code.is_none() && roles.contains(&Role::Enterprise) {
                r.fail(
                    "enterprise_credit_code",
                    FieldCode::Required,
                    "企业联系人必须填写企业信用代码",
                );
            }
            if roles.contains(&Role::Officer) && phone.is_none() {
                r.fail(
                    "phone",
                    FieldCode::Required,
                    "联络员必须填写手机号（用于微信绑定）",
                );
            }
        }
        match (username, roles, region_code) {
            (Some(username), Some(roles), Some(region_code)) if r.errors.is_empty() => Ok(Self {
                username,
                name,
                phone,
                roles,
                unit_code,
                region_code,
                enterprise_credit_code,
            }),
            _ => Err(r.errors),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AssignmentRecord {
    pub officer_username: String,
    pub enterprise_credit_code: CreditCode,
    pub start_day: NaiveDate,
    pub end_day: Option<NaiveDate>,
}

impl AssignmentRecord {
    pub fn parse(fields: &Fields) -> Result<Self, Vec<FieldError>> {
        let mut r = Reader::new(fields);
        let officer_username = r.text("officer_username", 64, true);
        let enterprise_credit_code = r.credit_code("enterprise_credit_code", true);
        let start_day = r.day("start_day", true);
        let end_day = r.day("end_day", false);
        if let (Some(start), Some(end)) = (start_day, end_day) {
            if end < start {
                r.fail("end_day", FieldCode::OutOfRange, "结束日期不能早于开始日期");
            }
        }
        match (enterprise_credit_code, start_day) {
            (Some(enterprise_credit_code), Some(start_day)) if r.errors.is_empty() => Ok(Self {
                officer_username,
                enterprise_credit_code,
                start_day,
                end_day,
            }),
            _ => Err(r.errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_complete_enterprise_row_parses_with_the_default_geofence() {
        let rec = EnterpriseRecord::parse(&fields(&[
            ("credit_code", "9144030071526726XG"),
            ("name", "株洲千金药业"),
            ("region_code", "430211"),
            ("lat", "27.8274"),
            ("lng", "113.1340"),
        ]))
        .expect("valid");
        assert_eq!(rec.geofence_m, DEFAULT_GEOFENCE_M);
        assert_eq!(rec.name, "株洲千金药业");
    }

    #[test]
    fn every_bad_enterprise_field_is_reported_at_once() {
        let errors = EnterpriseRecord::parse(&fields(&[
            ("credit_code", "9144030071526726XA"),
            ("name", ""),
            ("region_code", "43021"),
            ("lat", "113.1"),
            ("lng", "27.8"),
            ("geofence_m", "5"),
        ]))
        .expect_err("invalid");
        let columns: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            columns,
            ["credit_code", "name", "region_code", "lat", "lng", "geofence_m"]
        );
    }

    #[test]
    fn officers_need_a_unit_and_a_phone_and_contacts_an_enterprise() {
        let errors = UserRecord::parse(&fields(&[
            ("username", "li.si"),
            ("name", "李四"),
            ("roles", "officer;enterprise"),
            ("region_code", "430200"),
        ]))
        .expect_err("invalid");
        let columns: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(columns, ["unit_code", "enterprise_credit_code", "phone"]);
    }

    #[test]
    fn assignment_days_must_be_ordered() {
        let errors = AssignmentRecord::parse(&fields(&[
            ("officer_username", "li.si"),
            ("enterprise_credit_code", "9144030071526726XG"),
            ("start_day", "2026-03-01"),
            ("end_day", "2026-02-01"),
        ]))
        .expect_err("invalid");
        assert_eq!(
            errors,
            vec![FieldError::new(
                "end_day",
                FieldCode::OutOfRange,
                "结束日期不能早于开始日期"
            )]
        );
    }

    #[test]
    fn a_region_cannot_be_its_own_parent() {
        let errors = RegionRecord::parse(&fields(&[
            ("code", "430200"),
            ("name", "株洲市"),
            ("parent_code", "430200"),
        ]))
        .expect_err("invalid");
        assert_eq!(errors[0].field, "parent_code");
    }
}
