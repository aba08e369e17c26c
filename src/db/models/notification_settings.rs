//! `notification_settings`: a region's switches and reminder times. A region without a row
//! takes its nearest ancestor's; with none at all, the defaults.

use std::collections::HashMap;

use chrono::{DateTime, NaiveTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::domain::notification::NotificationKind;
use crate::schema::{notification_settings, regions};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = notification_settings, check_for_backend(diesel::pg::Pg))]
pub struct RegionSettings {
    pub region_code: String,
    pub disabled_kinds: Vec<String>,
    pub sign_in_reminder_at: NaiveTime,
    pub report_reminder_at: NaiveTime,
    pub digest_at: NaiveTime,
    pub figures_at: NaiveTime,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<Uuid>,
}

fn at(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
}

impl RegionSettings {
    /// What applies where nothing is set: everything on, 10:00, 19:00, 10:30 and 18:00.
    pub fn defaults(region_code: &str) -> Self {
        Self {
            region_code: region_code.to_owned(),
            disabled_kinds: Vec::new(),
            sign_in_reminder_at: at(10, 0),
            report_reminder_at: at(19, 0),
            digest_at: at(10, 30),
            figures_at: at(18, 0),
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_by: None,
        }
    }

    pub fn enabled(&self, kind: NotificationKind) -> bool {
        !self.disabled_kinds.iter().any(|k| k == kind.as_str())
    }

    pub fn find(conn: &mut PgConnection, region_code: &str) -> QueryResult<Option<RegionSettings>> {
        notification_settings::table
            .find(region_code)
            .select(RegionSettings::as_select())
            .first(conn)
            .optional()
    }

    pub fn upsert(conn: &mut PgConnection, settings: &RegionSettings) -> QueryResult<RegionSettings> {
        diesel::insert_into(notification_settings::table)
            .values(settings)
            .on_conflict(notification_settings::region_code)
            .do_update()
            .set(settings)
            .returning(RegionSettings::as_returning())
            .get_result(conn)
    }
}

/// Every region's effective settings, loaded at once (a province has a few thousand regions and
/// a handful of rows): what the jobs and the expansion look up per event.
pub struct SettingsByRegion {
    codes: Vec<String>,
    effective: HashMap<String, RegionSettings>,
    fallback: RegionSettings,
}

impl SettingsByRegion {
    pub fn load(conn: &mut PgConnection) -> QueryResult<Self> {
        let rows: HashMap<String, RegionSettings> = notification_settings::table
            .select(RegionSettings::as_select())
            .load(conn)?
            .into_iter()
            .map(|s| (s.region_code.clone(), s))
            .collect();
        let paths: Vec<(String, String)> =
            regions::table.select((regions::code, regions::path)).load(conn)?;
        let codes = paths.iter().map(|(code, _)| code.clone()).collect();
        let effective = paths
            .into_iter()
            .filter_map(|(code, path)| {
                // The path lists the codes from the top: the nearest set one is the last.
                let nearest = path
                    .split('/')
                    .filter(|c| !c.is_empty())
                    .filter_map(|c| rows.get(c))
                    .next_back()?;
                Some((code, nearest.clone()))
            })
            .collect();
        Ok(Self {
            codes,
            effective,
            fallback: RegionSettings::defaults(""),
        })
    }

    pub fn of(&self, region_code: &str) -> &RegionSettings {
        self.effective.get(region_code).unwrap_or(&self.fallback)
    }

    /// The regions whose effective settings satisfy `test`.
    pub fn regions_where(&self, test: impl Fn(&RegionSettings) -> bool) -> Vec<String> {
        self.codes.iter().filter(|c| test(self.of(c))).cloned().collect()
    }
}
