//! 今日概况 for leaders and dispatchers: the overview figures of a day (the API's cached
//! dashboard answer), the rates drawn as server-rendered SVG bars with the numbers beside them,
//! and a link from the overdue count to its ledger.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::session::Console;
use super::{html, ConsoleError, Frame};
use crate::auth::scope;
use crate::state::AppState;
use crate::stats::figures::Overview;
use crate::stats::{self, StatsQuery};

/// Width in pixels of a full (100 %) bar.
const FULL: f64 = 320.0;

pub struct Bar {
    pub label: &'static str,
    pub width: u32,
    pub shown: String,
}

impl Bar {
    /// A rate, with the counts it is made of when the overview has them.
    fn of(label: &'static str, rate: Option<f64>, counts: Option<(i64, i64)>) -> Self {
        Self {
            label,
            width: (rate.unwrap_or(0.0).clamp(0.0, 1.0) * FULL).round() as u32,
            shown: match (rate, counts) {
                (Some(r), Some((part, whole))) => format!("{:.1}%（{part}/{whole}）", r * 100.0),
                (Some(r), None) => format!("{:.1}%", r * 100.0),
                (None, _) => "—".to_owned(),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage {
    frame: Frame,
    day: String,
    region: String,
    overview: Overview,
    bars: Vec<Bar>,
}

#[derive(Deserialize)]
pub struct DayQuery {
    day: Option<NaiveDate>,
}

pub async fn console_dashboard(
    state: web::Data<AppState>,
    console: Console,
    query: web::Query<DayQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let day = query.day.unwrap_or_else(|| state.clock.today());
    let scope = scope::own_stats_scope(&console.caller)?;
    let overview: Overview = stats::answer(&state, StatsQuery::Overview { scope, day }).await?;
    let bars = vec![
        Bar::of(
            "签到率",
            overview.sign_in_rate,
            Some((overview.officers_signed_in, overview.officers_total)),
        ),
        Bar::of(
            "日报率",
            overview.report_rate,
            Some((overview.officers_reported, overview.officers_total)),
        ),
        Bar::of("化解率", overview.resolution_rate, None),
        Bar::of("按时办结率", overview.on_time_rate, None),
    ];
    html(&DashboardPage {
        frame: Frame::of(&console, "今日概况"),
        day: day.to_string(),
        region: overview.region_code.clone(),
        overview,
        bars,
    })
}
