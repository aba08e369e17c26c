//! The value kinds of a WeChat subscribe message's template fields (`thing1`, `phrase2`,
//! `time3` …) and the rules WeChat enforces on each: a value that breaks one makes the whole
//! send fail with 47003, so every value is cut to its kind before it is sent.
//!
//! Limits as WeChat documents them for `subscribeMessage.send`: `thing` at most 20 characters
//! of any kind; `phrase` at most 5 Chinese characters; `character_string` at most 32 letters,
//! digits and symbols; `number` at most 32 digits (a sign and a decimal point allowed);
//! `time` a 24-hour time, optionally after a date (`2026年11月28日 15:01`); `date` a date,
//! optionally with a time.

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Asia::Shanghai;

use super::vocabulary::vocabulary;

vocabulary! {
    /// The kind of a template field, as the key's prefix says (`thing1` is a `thing`).
    pub enum FieldKind {
        Thing = "thing",
        Phrase = "phrase",
        CharacterString = "character_string",
        Number = "number",
        Time = "time",
        Date = "date",
    }
}

const THING_MAX: usize = 20;
const PHRASE_MAX: usize = 5;
const CHARACTER_STRING_MAX: usize = 32;
const NUMBER_MAX: usize = 32;

impl FieldKind {
    /// The kind of a template key such as `thing12` or `character_string3`; `None` for a kind
    /// the service does not fill.
    pub fn of_key(key: &str) -> Option<FieldKind> {
        key.trim_end_matches(|c: char| c.is_ascii_digit()).parse().ok()
    }

    /// `text` made acceptable as a value of this kind: cut to the kind's length (a cut `thing`
    /// ends in `…`), characters the kind does not take dropped. `None` when nothing acceptable
    /// is left (the sender then leaves the message in the inbox instead of sending it).
    pub fn fit(self, text: &str) -> Option<String> {
        let text = text.trim();
        let fitted = match self {
            FieldKind::Thing => cut(&single_line(text), THING_MAX),
            // No room for an ellipsis: a phrase is a status word (已交办, 督办), not a sentence.
            FieldKind::Phrase => text.chars().filter(|c| is_chinese(*c)).take(PHRASE_MAX).collect(),
            FieldKind::CharacterString => text
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .take(CHARACTER_STRING_MAX)
                .collect(),
            FieldKind::Number => number(text)?,
            // A time or date is written by `time`/`date` below, not cut from free text.
            FieldKind::Time | FieldKind::Date => text.to_owned(),
        };
        (!fitted.is_empty()).then_some(fitted)
    }
}

/// An instant as a `time` value, in China time: `2026年11月28日 15:01`.
pub fn time(at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&Shanghai);
    format!(
        "{}年{}月{}日 {:02}:{:02}",
        local.year(),
        local.month(),
        local.day(),
        local.hour(),
        local.minute()
    )
}

/// An instant's China-local day as a `date` value: `2026年11月28日`.
pub fn date(at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&Shanghai);
    format!("{}年{}月{}日", local.year(), local.month(), local.day())
}

/// Line breaks and runs of blanks as one space: a `thing` is shown on one line.
fn single_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters; a longer text keeps `max - 1` and ends in `…`.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut kept: String = text.chars().take(max - 1).collect();
    kept.push('…');
    kept
}

/// CJK unified ideographs (the basic block and extension A).
fn is_chinese(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}')
}

/// A number as WeChat takes it: digits with an optional sign and decimal point, at most 32
/// characters; `None` for anything else (a number is never cut: a cut number is a wrong one).
fn number(text: &str) -> Option<String> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let well_formed = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.matches('.').count() <= 1
        && !digits.starts_with('.')
        && !digits.ends_with('.');
    (well_formed && text.chars().count() <= NUMBER_MAX).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn keys_name_their_kind() {
        assert_eq!(FieldKind::of_key("thing1"), Some(FieldKind::Thing));
        assert_eq!(
            FieldKind::of_key("character_string12"),
            Some(FieldKind::CharacterString)
        );
        assert_eq!(FieldKind::of_key("phrase3"), Some(FieldKind::Phrase));
        assert_eq!(FieldKind::of_key("amount4"), None);
        assert_eq!(FieldKind::of_key("thing"), Some(FieldKind::Thing));
    }

    #[test]
    fn a_thing_is_cut_to_twenty_characters_on_one_line() {
        let long = "二车间10kV专线近期多次跳闸，影响连续生产，请供电公司排查";
        let fitted = FieldKind::Thing.fit(long).expect("value");
        assert_eq!(fitted.chars().count(), 20);
        assert!(fitted.ends_with('…'));
        assert!(fitted.starts_with("二车间10kV专线"));
        assert_eq!(
            FieldKind::Thing.fit("  已交办\n国网株洲供电公司  ").as_deref(),
            Some("已交办 国网株洲供电公司")
        );
        let exactly = "一二三四五六七八九十一二三四五六七八九十";
        assert_eq!(FieldKind::Thing.fit(exactly).as_deref(), Some(exactly));
    }

    #[test]
    fn a_phrase_keeps_at_most_five_chinese_characters() {
        assert_eq!(FieldKind::Phrase.fit("已交办").as_deref(), Some("已交办"));
        assert_eq!(FieldKind::Phrase.fit("督办 level 2").as_deref(), Some("督办"));
        assert_eq!(
            FieldKind::Phrase.fit("请尽快联系企业处理").as_deref(),
            Some("请尽快联系")
        );
        assert_eq!(FieldKind::Phrase.fit("OK 2"), None);
    }

    #[test]
    fn a_character_string_keeps_32_ascii_characters() {
        let id = "7f3c2a9e-1b4d-4c8e-9a6f-0d2b7e5c1a93";
        let fitted = FieldKind::CharacterString.fit(id).expect("value");
        assert_eq!(fitted, &id[..32]);
        assert_eq!(
            FieldKind::CharacterString.fit("编号 ZZ-RSJ").as_deref(),
            Some("ZZ-RSJ")
        );
        assert_eq!(FieldKind::CharacterString.fit("中车"), None);
    }

    #[test]
    fn a_number_is_passed_whole_or_not_at_all() {
        assert_eq!(FieldKind::Number.fit("30").as_deref(), Some("30"));
        assert_eq!(FieldKind::Number.fit("-2.5").as_deref(), Some("-2.5"));
        assert_eq!(FieldKind::Number.fit("3.").as_deref(), None);
        assert_eq!(FieldKind::Number.fit("30名"), None);
        assert_eq!(FieldKind::Number.fit(&"9".repeat(33)), None);
    }

    #[test]
    fn times_and_dates_are_written_in_china_time() {
        // 23:30 UTC on the 27th is 07:30 on the 28th in China.
        let at = Utc
            .with_ymd_and_hms(2026, 11, 27, 23, 30, 0)
            .single()
            .expect("time");
        assert_eq!(time(at), "2026年11月28日 07:30");
        assert_eq!(date(at), "2026年11月28日");
        assert_eq!(FieldKind::Time.fit(&time(at)), Some(time(at)));
    }
}
