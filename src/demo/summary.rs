//! The demo's 日总结: the city's last working days summed up and frozen, as the reminders job
//! would have done at each day's figures time.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;

use super::app_error;
use crate::db::models::calendar::CalendarYear;
use crate::db::models::notification_settings::SettingsByRegion;
use crate::db::models::region::Region;
use crate::domain::deadline::previous_working_day;
use crate::stats::daily;

/// Working days before today that get a frozen summary.
const DAYS: usize = 5;

pub fn seed(conn: &mut PgConnection, today: NaiveDate, now: DateTime<Utc>) -> anyhow::Result<()> {
    let calendar = CalendarYear::load(conn)?;
    let settings = SettingsByRegion::load(conn)?;
    let mut days = Vec::with_capacity(DAYS);
    let mut day = today;
    for _ in 0..DAYS {
        day = previous_working_day(&calendar, day);
        days.push(day);
    }
    // Oldest first: each day compares with the one frozen before it.
    days.reverse();
    for (_, region) in Region::with_hubs(conn)? {
        for &day in &days {
            let cx = daily::Context {
                settings: settings.of(&region.code),
                calendar: &calendar,
            };
            // Frozen as the job would have, at the day's figures time.
            let at = daily::freeze_instant(cx.settings, day);
            if at < now {
                daily::freeze(conn, &region, day, at, cx).map_err(app_error)?;
            }
        }
    }
    Ok(())
}
