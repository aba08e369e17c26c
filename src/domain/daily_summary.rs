//! 日总结's judgement: a working day's headline figures next to the previous working day's,
//! and which of the changes a leader should read first. Pure: `stats::daily` gathers the
//! figures, this decides what is notable and says it in words.

use serde::{Deserialize, Serialize};

use super::vocabulary::vocabulary;

vocabulary! {
    /// A headline figure of the day, as compared with the previous working day.
    pub enum SummaryFigure {
        SignInRate = "sign_in_rate",
        ReportRate = "report_rate",
        ProblemsNew = "problems_new",
        ProblemsUrgentNew = "problems_urgent_new",
        ProblemsClosed = "problems_closed",
        ProblemsOpen = "problems_open",
        ProblemsOverdue = "problems_overdue",
    }
}

impl SummaryFigure {
    /// Its name in the summary's sentences and in the workbook.
    pub fn label(self) -> &'static str {
        match self {
            SummaryFigure::SignInRate => "签到率",
            SummaryFigure::ReportRate => "日报率",
            SummaryFigure::ProblemsNew => "新增问题",
            SummaryFigure::ProblemsUrgentNew => "新增紧急问题",
            SummaryFigure::ProblemsClosed => "办结问题",
            SummaryFigure::ProblemsOpen => "在办问题",
            SummaryFigure::ProblemsOverdue => "逾期问题",
        }
    }
}

/// A rate moving by this much (five percentage points) is notable.
const NOTABLE_RATE_MOVE: f64 = 0.05;
/// A count moving by at least this many and by half of what it was is notable.
const NOTABLE_COUNT_MOVE: i64 = 3;

/// The headline figures two days are compared by (a rate is `None` when nobody was expected).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Headline {
    pub sign_in_rate: Option<f64>,
    pub report_rate: Option<f64>,
    pub problems_new: i64,
    pub problems_urgent_new: i64,
    pub problems_closed: i64,
    pub problems_open: i64,
    pub problems_overdue: i64,
}

/// One figure today against the previous working day. Rates are 0–1 and their change is in
/// the same unit (0.05 = five percentage points); counts are whole numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub figure: SummaryFigure,
    pub today: Option<f64>,
    pub previous: Option<f64>,
    /// `today − previous`; `null` when either is unknown.
    pub change: Option<f64>,
    /// Worth a leader's attention: a rate moving by five points or more, a count moving by at
    /// least three and by half of what it was, any growth in overdue problems.
    pub notable: bool,
    /// The change in one sentence, e.g. `签到率 85.0%，比上一工作日低 7.5 个百分点`.
    pub text: String,
}

/// Every headline figure of `today` next to `previous`'s, notable ones first (in figure order
/// within each group).
pub fn changes(today: &Headline, previous: &Headline) -> Vec<Change> {
    use SummaryFigure::*;
    let mut all: Vec<Change> = SummaryFigure::ALL
        .iter()
        .map(|&figure| {
            let count = |of: fn(&Headline) -> i64| count_change(figure, of(today), of(previous));
            match figure {
                SignInRate => rate_change(figure, today.sign_in_rate, previous.sign_in_rate),
                ReportRate => rate_change(figure, today.report_rate, previous.report_rate),
                ProblemsNew => count(|h| h.problems_new),
                ProblemsUrgentNew => count(|h| h.problems_urgent_new),
                ProblemsClosed => count(|h| h.problems_closed),
                ProblemsOpen => count(|h| h.problems_open),
                ProblemsOverdue => count(|h| h.problems_overdue),
            }
        })
        .collect();
    // A stable sort keeps figure order within the notable and the other changes.
    all.sort_by_key(|c| !c.notable);
    all
}

fn rate_change(figure: SummaryFigure, today: Option<f64>, previous: Option<f64>) -> Change {
    let label = figure.label();
    let delta = today.zip(previous).map(|(t, p)| round4(t - p));
    // Rates are rounded to four decimals: a move of 0.0500 is five points, not 4.99999.
    let notable = delta.is_some_and(|d| d.abs() >= NOTABLE_RATE_MOVE - 1e-9);
    let text = match (today, delta) {
        (None, _) => format!("{label}：无应到人员"),
        (Some(t), None) => format!("{label} {}", percent(t)),
        (Some(t), Some(d)) => format!("{label} {}，{}", percent(t), rate_move(d)),
    };
    Change {
        figure,
        today,
        previous,
        change: delta,
        notable,
        text,
    }
}

#[expect(clippy::cast_precision_loss, reason = "counts are far below 2^52")]
fn count_change(figure: SummaryFigure, today: i64, previous: i64) -> Change {
    let delta = today - previous;
    let grew_overdue = figure == SummaryFigure::ProblemsOverdue && delta > 0;
    let big = delta.abs() >= NOTABLE_COUNT_MOVE && delta.abs() * 2 >= previous;
    Change {
        figure,
        today: Some(today as f64),
        previous: Some(previous as f64),
        change: Some(delta as f64),
        notable: grew_overdue || big,
        text: format!("{} {today} 件，{}", figure.label(), count_move(delta)),
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

fn rate_move(delta: f64) -> String {
    let points = (delta * 1000.0).round() / 10.0;
    if points > 0.0 {
        format!("比上一工作日高 {points:.1} 个百分点")
    } else if points < 0.0 {
        format!("比上一工作日低 {:.1} 个百分点", -points)
    } else {
        "与上一工作日持平".to_owned()
    }
}

fn count_move(delta: i64) -> String {
    match delta {
        0 => "与上一工作日持平".to_owned(),
        d if d > 0 => format!("比上一工作日多 {d} 件"),
        d => format!("比上一工作日少 {} 件", -d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(sign_in: f64, new: i64, overdue: i64) -> Headline {
        Headline {
            sign_in_rate: Some(sign_in),
            report_rate: Some(0.9),
            problems_new: new,
            problems_urgent_new: 0,
            problems_closed: 4,
            problems_open: 40,
            problems_overdue: overdue,
        }
    }

    fn find(changes: &[Change], figure: SummaryFigure) -> &Change {
        changes
            .iter()
            .find(|c| c.figure == figure)
            .expect("every figure is compared")
    }

    #[test]
    fn every_figure_is_compared_once_with_the_notable_ones_first() {
        let all = changes(&day(0.85, 12, 5), &day(0.925, 5, 5));
        assert_eq!(all.len(), SummaryFigure::ALL.len());
        let notable: Vec<SummaryFigure> = all.iter().filter(|c| c.notable).map(|c| c.figure).collect();
        assert_eq!(notable, [SummaryFigure::SignInRate, SummaryFigure::ProblemsNew]);
        assert!(all[..2].iter().all(|c| c.notable));
    }

    #[test]
    fn a_rate_is_notable_from_five_points_and_says_how_far_it_moved() {
        let all = changes(&day(0.85, 5, 5), &day(0.925, 5, 5));
        let sign_in = find(&all, SummaryFigure::SignInRate);
        assert!(sign_in.notable);
        assert_eq!(sign_in.change, Some(-0.075));
        assert_eq!(sign_in.text, "签到率 85.0%，比上一工作日低 7.5 个百分点");
        let exactly_five = changes(&day(0.95, 5, 5), &day(0.90, 5, 5));
        assert!(find(&exactly_five, SummaryFigure::SignInRate).notable);
        let four = changes(&day(0.94, 5, 5), &day(0.90, 5, 5));
        let small = find(&four, SummaryFigure::SignInRate);
        assert!(!small.notable);
        assert_eq!(small.text, "签到率 94.0%，比上一工作日高 4.0 个百分点");
    }

    #[test]
    fn a_count_is_notable_when_it_moves_by_three_and_by_half() {
        let cases = [
            (12, 5, true),   // +7, more than half of 5
            (8, 5, true),    // +3, more than half of 5
            (7, 5, false),   // +2: too few
            (43, 40, false), // +3 but far less than half of 40
            (0, 3, true),    // −3: all of it
            (3, 0, true),    // from nothing
        ];
        for (today, previous, notable) in cases {
            let all = changes(&day(0.9, today, 0), &day(0.9, previous, 0));
            assert_eq!(
                find(&all, SummaryFigure::ProblemsNew).notable,
                notable,
                "{today} after {previous}"
            );
        }
        let fewer = changes(&day(0.9, 2, 0), &day(0.9, 6, 0));
        assert_eq!(
            find(&fewer, SummaryFigure::ProblemsNew).text,
            "新增问题 2 件，比上一工作日少 4 件"
        );
    }

    #[test]
    fn any_growth_in_overdue_problems_is_notable() {
        let one_more = changes(&day(0.9, 5, 41), &day(0.9, 5, 40));
        let overdue = find(&one_more, SummaryFigure::ProblemsOverdue);
        assert!(overdue.notable);
        assert_eq!(overdue.text, "逾期问题 41 件，比上一工作日多 1 件");
        let one_fewer = changes(&day(0.9, 5, 39), &day(0.9, 5, 40));
        assert!(!find(&one_fewer, SummaryFigure::ProblemsOverdue).notable);
    }

    #[test]
    fn a_rate_without_anyone_expected_is_never_notable() {
        let mut empty = day(0.9, 0, 0);
        empty.sign_in_rate = None;
        let all = changes(&empty, &day(0.9, 0, 0));
        let sign_in = find(&all, SummaryFigure::SignInRate);
        assert!(!sign_in.notable);
        assert_eq!(sign_in.change, None);
        assert_eq!(sign_in.text, "签到率：无应到人员");
        let unchanged = changes(&day(0.9, 0, 0), &day(0.9, 0, 0));
        assert_eq!(
            find(&unchanged, SummaryFigure::ReportRate).text,
            "日报率 90.0%，与上一工作日持平"
        );
    }
}
