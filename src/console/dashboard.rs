//! 数据看板 for leaders and dispatchers: the day's overview, and over a period the problems by
//! category and by week, the departments' on-time rates (slowest first) and the officers'
//! sign-in and report rates (lowest first). Every chart is server-rendered SVG with its numbers
//! beside the bars, and each bar that has a list behind it links to that list. The figures are
//! the API's cached dashboard answers (`stats::answer`), for a region and dates picked on the
//! page.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Duration, NaiveDate};
use futures_util::future::try_join_all;
use serde::Deserialize;

use super::session::Console;
use super::{filters, html, ConsoleError, Frame};
use crate::auth::scope::{self, RegionScope};
use crate::db;
use crate::db::models::category::Category;
use crate::db::models::region::Region;
use crate::state::AppState;
use crate::stats::figures::{DepartmentStats, OfficerStats, Overview, ProblemStats};
use crate::stats::{self, StatsQuery};

/// Width in pixels of a full bar.
const FULL: f64 = 320.0;
/// The longest period a page covers, as the API's statistics.
const MAX_PERIOD_DAYS: i64 = 366;
/// Bars in a ranking (slowest departments, officers with the lowest rates).
const RANKED: usize = 10;
/// Weeks drawn at most.
const WEEKS: i64 = 12;
/// Regions offered in the picker.
const REGIONS: i64 = 300;

/// One bar of a chart: its label, its length, the figure beside it, and the list behind it.
pub struct Bar {
    pub label: String,
    pub width: u32,
    pub shown: String,
    pub href: Option<String>,
}

impl Bar {
    /// A rate, with the counts it is made of when there are some.
    fn rate(label: impl Into<String>, rate: Option<f64>, counts: Option<(i64, i64)>) -> Self {
        Self {
            label: label.into(),
            width: (rate.unwrap_or(0.0).clamp(0.0, 1.0) * FULL).round() as u32,
            shown: match (rate, counts) {
                (Some(r), Some((part, whole))) => format!("{:.1}%（{part}/{whole}）", r * 100.0),
                (Some(r), None) => format!("{:.1}%", r * 100.0),
                (None, _) => "—".to_owned(),
            },
            href: None,
        }
    }

    /// A count, its bar as long as its share of the largest.
    fn count(label: impl Into<String>, count: i64, largest: i64) -> Self {
        Self {
            label: label.into(),
            width: if largest > 0 {
                (count as f64 / largest as f64 * FULL).round() as u32
            } else {
                0
            },
            shown: count.to_string(),
            href: None,
        }
    }

    fn linked(mut self, href: String) -> Self {
        self.href = Some(href);
        self
    }
}

/// A chart: a heading, an accessible name, and its bars.
pub struct Chart {
    pub id: &'static str,
    pub title: String,
    pub bars: Vec<Bar>,
}

impl Chart {
    pub fn height(&self) -> usize {
        self.bars.len() * 32 + 8
    }
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage {
    frame: Frame,
    day: String,
    from: String,
    to: String,
    region: String,
    region_name: String,
    regions: Vec<(String, String)>,
    overview: Overview,
    problems: ProblemStats,
    charts: Vec<Chart>,
}

#[derive(Deserialize)]
pub struct DashboardQuery {
    #[serde(default, deserialize_with = "crate::routes::params::text")]
    region: Option<String>,
    #[serde(default, deserialize_with = "crate::routes::params::known_day_opt")]
    day: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::routes::params::known_day_opt")]
    from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::routes::params::known_day_opt")]
    to: Option<NaiveDate>,
}

/// The weeks of a period, each ending seven days after the last, the latest ending on `to`.
fn weeks(from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let mut weeks = Vec::new();
    let mut end = to;
    while end >= from && (weeks.len() as i64) < WEEKS {
        let start = (end - Duration::days(6)).max(from);
        weeks.push((start, end));
        end = start - Duration::days(1);
    }
    weeks.reverse();
    weeks
}

/// The list of problems behind a bar, in the chart's region.
fn problems_href(region: &str, filter: &str) -> String {
    format!("/console/problems?region_code={region}&{filter}")
}

pub async fn console_dashboard(
    state: web::Data<AppState>,
    console: Console,
    req: HttpRequest,
) -> Result<HttpResponse, ConsoleError> {
    let DashboardQuery {
        region,
        day,
        from,
        to,
    } = filters(&req)?;
    let today = state.clock.today();
    let day = day.unwrap_or(today);
    let to = to.unwrap_or(today);
    let from = from.unwrap_or(to - Duration::days(27));
    let (from, to) = crate::routes::period(Some(from), Some(to), today, MAX_PERIOD_DAYS, "统计区间")?;
    let caller = console.caller.clone();
    let (scope, regions, region_name, categories) = db::run(&state.pool, move |conn| {
        let scope = scope::stats_scope(conn, &caller, region.as_deref())?;
        let own = RegionScope::of(conn, &caller)?;
        let regions: Vec<(String, String)> =
            Region::list_in_subtree(conn, &own.root_path, None, None, REGIONS)?
                .into_iter()
                .map(|r| (r.code, r.name))
                .collect();
        let name = regions
            .iter()
            .find(|(code, _)| *code == scope.region_code)
            .map(|(_, name)| name.clone())
            .unwrap_or_default();
        let categories: HashMap<String, String> = Category::all(conn)?
            .into_iter()
            .map(|c| (c.code, c.name))
            .collect();
        Ok((scope, regions, name, categories))
    })
    .await?;
    let region = scope.region_code.clone();
    // The five answers are independent (each cached on its own): asked at once, so a cold page
    // waits for the slowest, not for their sum.
    let weeks = try_join_all(weeks(from, to).into_iter().map(|(from, to)| {
        stats::answer::<ProblemStats>(
            &state,
            StatsQuery::Problems {
                scope: scope.clone(),
                from,
                to,
            },
        )
    }));
    let (overview, problems, weekly, departments, mut officers) = futures_util::try_join!(
        stats::answer::<Overview>(
            &state,
            StatsQuery::Overview {
                scope: scope.clone(),
                day,
            },
        ),
        stats::answer::<ProblemStats>(
            &state,
            StatsQuery::Problems {
                scope: scope.clone(),
                from,
                to,
            },
        ),
        weeks,
        stats::answer::<Vec<DepartmentStats>>(
            &state,
            StatsQuery::Departments {
                scope: scope.clone(),
                from,
                to,
            },
        ),
        stats::answer::<Vec<OfficerStats>>(&state, StatsQuery::Officers { scope, from, to }),
    )?;
    let charts = vec![
        rates(&overview, &region),
        by_category(&problems, &categories, &region),
        by_week(&weekly),
        slowest_departments(&departments, &region),
        lowest_officers(&mut officers),
    ];
    html(&DashboardPage {
        frame: Frame::of(&console, "数据看板"),
        day: day.to_string(),
        from: from.to_string(),
        to: to.to_string(),
        region,
        region_name,
        regions,
        overview,
        problems,
        charts,
    })
}

fn rates(overview: &Overview, region: &str) -> Chart {
    Chart {
        id: "rates",
        title: "当日各项比率".to_owned(),
        bars: vec![
            Bar::rate(
                "签到率",
                overview.sign_in_rate,
                Some((overview.officers_signed_in, overview.officers_total)),
            ),
            Bar::rate(
                "日报率",
                overview.report_rate,
                Some((overview.officers_reported, overview.officers_total)),
            ),
            Bar::rate("化解率", overview.resolution_rate, None),
            Bar::rate("按时办结率", overview.on_time_rate, None)
                .linked(problems_href(region, "overdue=true")),
        ],
    }
}

fn by_category(problems: &ProblemStats, names: &HashMap<String, String>, region: &str) -> Chart {
    let largest = problems.by_category.iter().map(|c| c.total).max().unwrap_or(0);
    let mut counts: Vec<_> = problems.by_category.iter().collect();
    counts.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.category.cmp(&b.category)));
    Chart {
        id: "categories",
        title: format!("问题类别（共 {} 件）", problems.total),
        bars: counts
            .into_iter()
            .map(|c| match &c.category {
                Some(code) => Bar::count(
                    names.get(code).cloned().unwrap_or_else(|| code.clone()),
                    c.total,
                    largest,
                )
                .linked(problems_href(region, &format!("category={code}"))),
                None => {
                    Bar::count("待分类", c.total, largest).linked(problems_href(region, "status=submitted"))
                }
            })
            .collect(),
    }
}

fn by_week(weekly: &[ProblemStats]) -> Chart {
    let largest = weekly.iter().map(|w| w.total).max().unwrap_or(0);
    Chart {
        id: "weeks",
        title: "每周新增问题".to_owned(),
        bars: weekly
            .iter()
            .map(|w| {
                Bar::count(
                    format!("{}–{}", w.from.format("%m-%d"), w.to.format("%m-%d")),
                    w.total,
                    largest,
                )
            })
            .collect(),
    }
}

fn slowest_departments(departments: &[DepartmentStats], region: &str) -> Chart {
    Chart {
        id: "departments",
        title: "部门按时办结率（最慢的在前）".to_owned(),
        bars: departments
            .iter()
            .take(RANKED)
            .map(|d| {
                Bar::rate(
                    d.department_name.clone(),
                    d.on_time_rate,
                    Some((d.responded_on_time, d.responded)),
                )
                .linked(problems_href(
                    region,
                    &format!("department_id={}", d.department_id),
                ))
            })
            .collect(),
    }
}

fn lowest_officers(officers: &mut [OfficerStats]) -> Chart {
    // Officers with no working day in the period have no rate: after everyone who has one.
    let rate = |r: Option<f64>| r.unwrap_or(f64::INFINITY);
    officers.sort_by(|a, b| {
        rate(a.report_rate)
            .total_cmp(&rate(b.report_rate))
            .then_with(|| a.name.cmp(&b.name))
    });
    Chart {
        id: "officers",
        title: "联络员日报率（最低的在前，括号内为报送天数/应报天数）".to_owned(),
        bars: officers
            .iter()
            .take(RANKED)
            .map(|o| {
                let mut bar = Bar::rate(
                    o.name.clone(),
                    o.report_rate,
                    Some((o.reported_days, o.working_days)),
                );
                bar.shown = format!(
                    "{}，签到率 {}",
                    bar.shown,
                    o.sign_in_rate
                        .map(|r| format!("{:.1}%", r * 100.0))
                        .unwrap_or_else(|| "—".to_owned())
                );
                bar
            })
            .collect(),
    }
}
