//! 惠企政策: a policy of the library — who issued it, when it is in force, whom it applies to
//! (industries, enterprise sizes, regions), what kind of benefit it brings — and the words it is
//! found by. Pure: `db::models::policy` stores and searches.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::classifier::JIEBA;
use super::day;
use super::field_error::{checked_text, FieldCode, FieldError};
use super::region_code::RegionCode;
use super::vocabulary::vocabulary;

vocabulary! {
    /// Who issued it: 国家, 省, 市, 县 (区).
    pub enum PolicyLevel {
        National = "national",
        Provincial = "provincial",
        City = "city",
        County = "county",
    }
}

vocabulary! {
    /// What it brings an enterprise.
    pub enum PolicyBenefit {
        /// 奖补资金
        Subsidy = "subsidy",
        /// 税收减免
        Tax = "tax",
        /// 降费 (social insurance, utilities' fees)
        Fee = "fee",
        /// 金融支持 (loans, guarantees, interest subsidies)
        Finance = "finance",
        /// 人才用工
        Talent = "talent",
        /// 用地
        Land = "land",
        /// 用能 (electricity, gas)
        Energy = "energy",
        /// 市场开拓
        Market = "market",
        Other = "other",
    }
}

pub use super::enterprise_size::EnterpriseSize;

const MAX_TITLE: usize = 200;
const MAX_SHORT: usize = 100;
const MAX_SUMMARY: usize = 2_000;
const MAX_TEXT: usize = 100_000;
const MAX_LIST: usize = 50;

/// A policy as sent or imported.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    pub title: String,
    pub issuer: String,
    #[serde(default)]
    pub doc_number: Option<String>,
    pub level: PolicyLevel,
    pub effective_from: NaiveDate,
    #[serde(default)]
    pub effective_to: Option<NaiveDate>,
    /// Industries it applies to, as the roster names them; empty: all.
    #[serde(default)]
    pub industries: Vec<String>,
    /// Enterprise sizes it is meant for; empty: all.
    #[serde(default)]
    pub sizes: Vec<EnterpriseSize>,
    /// Regions (with the regions below) it applies to; empty: the policy's own region.
    #[serde(default)]
    pub regions: Vec<String>,
    pub benefit_kind: PolicyBenefit,
    pub summary: String,
    #[serde(default)]
    pub full_text: Option<String>,
}

impl PolicyInput {
    /// Checks every field (every fault listed) and trims the texts.
    pub fn validate(&self) -> Result<PolicyInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = checked_text(&mut errors, "title", Some(&self.title), MAX_TITLE, true);
        let issuer = checked_text(&mut errors, "issuer", Some(&self.issuer), MAX_SHORT, true);
        let doc_number = self
            .doc_number
            .as_deref()
            .and_then(|n| checked_text(&mut errors, "doc_number", Some(n), MAX_SHORT, false));
        for (field, day) in [
            ("effective_from", Some(self.effective_from)),
            ("effective_to", self.effective_to),
        ] {
            if day.is_some_and(|d| !day::known(d)) {
                errors.push(FieldError::new(
                    field,
                    FieldCode::OutOfRange,
                    "日期应在2020至2099年之间",
                ));
            }
        }
        if self.effective_to.is_some_and(|to| to < self.effective_from) {
            errors.push(FieldError::new(
                "effective_to",
                FieldCode::OutOfRange,
                "失效日期不能早于生效日期",
            ));
        }
        let mut industries = Vec::new();
        for (i, industry) in self.industries.iter().enumerate() {
            if let Some(t) = checked_text(
                &mut errors,
                &format!("industries[{i}]"),
                Some(industry),
                MAX_SHORT,
                true,
            ) {
                industries.push(t);
            }
        }
        if self.industries.len() > MAX_LIST || self.regions.len() > MAX_LIST {
            let field = if self.industries.len() > MAX_LIST {
                "industries"
            } else {
                "regions"
            };
            errors.push(FieldError::new(field, FieldCode::TooMany, "最多50项"));
        }
        for (i, code) in self.regions.iter().enumerate() {
            if RegionCode::parse(code).is_none() {
                errors.push(FieldError::new(
                    &format!("regions[{i}]"),
                    FieldCode::Invalid,
                    "应为6位行政区划代码",
                ));
            }
        }
        let summary = checked_text(&mut errors, "summary", Some(&self.summary), MAX_SUMMARY, true);
        let full_text = self
            .full_text
            .as_deref()
            .and_then(|t| checked_text(&mut errors, "full_text", Some(t), MAX_TEXT, false));
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut sizes = self.sizes.clone();
        sizes.sort_by_key(|s| s.as_str());
        sizes.dedup();
        industries.dedup();
        Ok(PolicyInput {
            title: title.unwrap_or_default(),
            issuer: issuer.unwrap_or_default(),
            doc_number,
            industries,
            sizes,
            summary: summary.unwrap_or_default(),
            full_text,
            ..self.clone()
        })
    }

    /// The words it is found by: jieba's words (search mode) and every CJK character and pair
    /// of characters of its title, issuer, number, summary and text, each once.
    pub fn search_terms(&self) -> String {
        let texts = [
            Some(self.title.as_str()),
            Some(self.issuer.as_str()),
            self.doc_number.as_deref(),
            Some(self.summary.as_str()),
            self.full_text.as_deref(),
        ];
        let mut terms = BTreeSet::new();
        for text in texts.into_iter().flatten() {
            let text = text.to_lowercase();
            for word in JIEBA.cut_for_search(&text, true) {
                if let Some(term) = term(word.word) {
                    terms.insert(term);
                }
            }
            let mut previous: Option<char> = None;
            for c in text.chars() {
                if is_cjk(c) {
                    terms.insert(c.to_string());
                    if let Some(p) = previous {
                        terms.insert(format!("{p}{c}"));
                    }
                    previous = Some(c);
                } else {
                    previous = None;
                }
            }
        }
        terms.into_iter().collect::<Vec<_>>().join(" ")
    }
}

/// The columns of a policy import file, in order; the required ones first.
pub const IMPORT_COLUMNS: [&str; 12] = [
    "title",
    "issuer",
    "level",
    "effective_from",
    "benefit_kind",
    "summary",
    "doc_number",
    "effective_to",
    "industries",
    "sizes",
    "regions",
    "full_text",
];
pub const IMPORT_REQUIRED: [&str; 6] = [
    "title",
    "issuer",
    "level",
    "effective_from",
    "benefit_kind",
    "summary",
];

impl PolicyInput {
    /// A row of an import file (lists `;`-separated), checked whole: the faults of parsing and
    /// of [`PolicyInput::validate`] together.
    pub fn from_row(row: &std::collections::HashMap<String, String>) -> Result<PolicyInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        let cell = |name: &str| row.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let mut word = |name: &str, parse: &dyn Fn(&str) -> bool| -> Option<String> {
            let value = cell(name)?;
            if parse(value) {
                Some(value.to_owned())
            } else {
                errors.push(FieldError::new(
                    name,
                    FieldCode::Invalid,
                    format!("无法识别：{value}"),
                ));
                None
            }
        };
        let level = word("level", &|v| v.parse::<PolicyLevel>().is_ok());
        let benefit = word("benefit_kind", &|v| v.parse::<PolicyBenefit>().is_ok());
        let from = word("effective_from", &|v| v.parse::<NaiveDate>().is_ok());
        let to = word("effective_to", &|v| v.parse::<NaiveDate>().is_ok());
        let list = |name: &str| -> Vec<String> {
            cell(name)
                .map(|v| {
                    v.split(';')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut sizes = Vec::new();
        for size in list("sizes") {
            match size.parse::<EnterpriseSize>() {
                Ok(s) => sizes.push(s),
                Err(_) => errors.push(FieldError::new(
                    "sizes",
                    FieldCode::Invalid,
                    format!("无法识别：{size}"),
                )),
            }
        }
        for required in ["level", "effective_from", "benefit_kind"] {
            if cell(required).is_none() {
                errors.push(FieldError::new(required, FieldCode::Required, "必填"));
            }
        }
        let input = PolicyInput {
            title: cell("title").unwrap_or_default().to_owned(),
            issuer: cell("issuer").unwrap_or_default().to_owned(),
            doc_number: cell("doc_number").map(str::to_owned),
            level: level.and_then(|v| v.parse().ok()).unwrap_or(PolicyLevel::City),
            effective_from: from.and_then(|v| v.parse().ok()).unwrap_or_default(),
            effective_to: to.and_then(|v| v.parse().ok()),
            industries: list("industries"),
            sizes,
            regions: list("regions"),
            benefit_kind: benefit
                .and_then(|v| v.parse().ok())
                .unwrap_or(PolicyBenefit::Other),
            summary: cell("summary").unwrap_or_default().to_owned(),
            full_text: cell("full_text").map(str::to_owned),
        };
        match input.validate() {
            Ok(valid) if errors.is_empty() => Ok(valid),
            Ok(_) => Err(errors),
            Err(more) => {
                // A cell that did not parse was replaced by a placeholder: its own fault is
                // the one to report.
                let faulty: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
                errors.extend(more.into_iter().filter(|e| !faulty.contains(&e.field)));
                Err(errors)
            }
        }
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}')
}

/// A word kept as a search term: CJK and ASCII letters and digits only (no tsquery syntax can
/// slip through), lower-case.
fn term(word: &str) -> Option<String> {
    let word = word.trim();
    let ok = !word.is_empty() && word.chars().all(|c| is_cjk(c) || c.is_ascii_alphanumeric());
    ok.then(|| word.to_lowercase())
}

/// The terms a query must all match: jieba's words of it (a one- or two-character word is
/// always among a policy's terms when its text holds it).
pub fn query_terms(query: &str) -> Vec<String> {
    let query = query.to_lowercase();
    let mut terms: Vec<String> = JIEBA
        .cut(&query, true)
        .into_iter()
        .filter_map(|t| term(t.word))
        .collect();
    terms.sort();
    terms.dedup();
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> PolicyInput {
        PolicyInput {
            title: " 关于进一步实施小微企业增值税留抵退税政策的公告 ".to_owned(),
            issuer: "财政部 税务总局".to_owned(),
            doc_number: Some("财政部 税务总局公告2022年第14号".to_owned()),
            level: PolicyLevel::National,
            effective_from: NaiveDate::from_ymd_opt(2022, 4, 1).expect("date"),
            effective_to: None,
            industries: vec!["制造业".to_owned()],
            sizes: vec![
                EnterpriseSize::Small,
                EnterpriseSize::Micro,
                EnterpriseSize::Small,
            ],
            regions: Vec::new(),
            benefit_kind: PolicyBenefit::Tax,
            summary: "符合条件的小微企业可以申请退还增量留抵税额".to_owned(),
            full_text: None,
        }
    }

    #[test]
    fn a_valid_policy_is_trimmed_and_its_sizes_are_kept_once() {
        let valid = policy().validate().expect("valid");
        assert_eq!(valid.title, "关于进一步实施小微企业增值税留抵退税政策的公告");
        assert_eq!(valid.sizes, [EnterpriseSize::Micro, EnterpriseSize::Small]);
    }

    #[test]
    fn every_fault_is_listed() {
        let mut bad = policy();
        bad.title = " ".to_owned();
        bad.effective_to = NaiveDate::from_ymd_opt(2021, 1, 1);
        bad.regions = vec!["4302".to_owned()];
        bad.summary = String::new();
        let fields: Vec<String> = bad
            .validate()
            .expect_err("invalid")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["title", "effective_to", "regions[0]", "summary"]);
    }

    #[test]
    fn short_queries_find_their_characters_and_words() {
        let terms = policy().validate().expect("valid").search_terms();
        let terms: Vec<&str> = terms.split(' ').collect();
        for query in ["退税", "留抵退税", "小微企业", "税", "增值税"] {
            for t in query_terms(query) {
                assert!(terms.contains(&t.as_str()), "{query}: {t} not among the terms");
            }
        }
        assert!(query_terms("退税 & !贷款")
            .iter()
            .all(|t| !t.contains('&') && !t.contains('!')));
    }
}
