//! Suggests a category for an officer's short Chinese description of an enterprise's difficulty
//! ("企业流动资金紧张，申请的技改贷款银行迟迟未放款" → financing), so the hub can pre-fill triage.
//!
//! Multinomial naive Bayes over jieba words plus CJK character unigrams and bigrams. Naive Bayes
//! because the corpus is small (about a thousand hand-written lines): it needs no tuning loop,
//! trains in one pass and can take one more confirmed example in O(tokens), which is what lets
//! the hub's confirmed triages improve it online. See docs/classifier.md for the measurements.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::LazyLock;

use jieba_rs::Jieba;

/// The category codes the corpus uses, with the names the hub shows.
pub const CATEGORIES: &[(&str, &str)] = &[
    ("financing", "融资贷款"),
    ("labor", "用工人才"),
    ("cost_reduction", "降本减负"),
    ("policy", "政策落实"),
    ("approval", "审批办证"),
    ("utilities", "水电气暖"),
    ("logistics", "物流交通"),
    ("supply_chain", "原料供应"),
    ("market", "市场销售"),
    ("epidemic", "疫情防控"),
    ("safety", "安全生产"),
    ("dispute", "矛盾纠纷"),
    ("other", "其他"),
];

/// Lidstone smoothing. Chosen by 5-fold cross-validation on train.tsv (0.2–1.0 were within one
/// point of each other); below 0.5 one rare shared character starts to dominate short texts.
const ALPHA: f64 = 0.5;

/// Weight of the summed log-likelihoods against the prior. A word, its characters and its
/// bigrams all count the same evidence about three times over, so the untempered posterior says
/// 0.99 even when it is wrong. 0.3 minimised cross-validated log loss (0.86 → 0.42) while leaving
/// top-1 accuracy unchanged, so the confidence means roughly what it says.
const EVIDENCE_WEIGHT: f64 = 0.3;

/// Words that occur in every category of report ("企业反映…希望…") and so only add noise.
#[rustfmt::skip]
const STOPWORDS: &[&str] = &[
    "企业", "公司", "希望", "反映", "的", "了", "和", "是", "在", "有", "不", "要", "等", "对", "与", "因", "为",
    "及", "或", "也", "都", "就", "还", "把", "被", "让", "给", "向", "从", "到", "由", "以", "其", "该", "这",
    "那", "我", "我们", "他们", "一个", "一些", "目前", "今年", "去年", "需要", "问题", "情况", "表示", "了解",
    "走访", "联络员", "本", "上", "下", "中", "里", "后", "前", "很", "太", "能", "会", "没有", "没", "一直",
    "已", "已经", "但", "但是", "而", "又", "并", "如何", "怎么", "什么", "哪些",
];

/// Loading jieba's dictionary takes ~100 ms and the segmenter is read-only afterwards, so the
/// whole process shares one.
pub(crate) static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// Trained once per process; `shipped()` hands out clones so each owner can `learn` on its own.
static SHIPPED: LazyLock<Classifier> =
    LazyLock::new(|| Classifier::train(parse_corpus(include_str!("../../data/classifier/train.tsv"))));

#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub category: String,
    pub confidence: f64,
}

#[derive(Clone, Default)]
pub struct Classifier {
    /// Category codes in order of first appearance; the index is the class id everywhere below.
    classes: Vec<String>,
    /// Examples learned per class (the prior), so confirmed triages also shift the base rates.
    examples: Vec<u32>,
    /// Feature occurrences per class, the denominator of each class's feature distribution.
    totals: Vec<u64>,
    /// Per-feature counts by class id. A row may be shorter than `classes` when the feature was
    /// last seen before a class was added; missing entries are zero.
    counts: HashMap<String, Vec<u32>>,
}

impl fmt::Debug for Classifier {
    // The counts table has thousands of entries; a summary is what a log line needs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Classifier")
            .field("classes", &self.classes)
            .field("examples", &self.examples)
            .field("features", &self.counts.len())
            .finish_non_exhaustive()
    }
}

impl Classifier {
    /// The model trained on the shipped corpus only (`data/classifier/train.tsv` via `include_str!`).
    pub fn shipped() -> Classifier {
        SHIPPED.clone()
    }

    /// Trains on (text, category code) pairs; usable for tests.
    pub fn train<'a>(examples: impl IntoIterator<Item = (&'a str, &'a str)>) -> Classifier {
        let mut model = Classifier::default();
        for (text, category) in examples {
            model.learn(text, category);
        }
        model
    }

    /// Learns one more confirmed example (a dispatcher confirmed this category at triage).
    ///
    /// A text without usable tokens, or a blank category, is ignored: it carries no evidence and
    /// counting it would only skew the prior. The category is not checked against
    /// [`CATEGORIES`]; a new code becomes a new class, so callers validate codes first.
    pub fn learn(&mut self, text: &str, category: &str) {
        let category = category.trim();
        let features = features(text);
        if features.is_empty() || category.is_empty() {
            return;
        }
        let class = match self.classes.iter().position(|c| c == category) {
            Some(class) => class,
            None => {
                self.classes.push(category.to_owned());
                self.examples.push(0);
                self.totals.push(0);
                self.classes.len() - 1
            }
        };
        self.examples[class] = self.examples[class].saturating_add(1);
        self.totals[class] = self.totals[class].saturating_add(features.len() as u64);
        for feature in features {
            let row = self.counts.entry(feature).or_default();
            if row.len() <= class {
                row.resize(class + 1, 0);
            }
            row[class] = row[class].saturating_add(1);
        }
    }

    /// Best category and its confidence in [0,1] (posterior probability of the top class); None
    /// for text with no usable tokens (empty/whitespace/punctuation only).
    pub fn classify(&self, text: &str) -> Option<Suggestion> {
        self.ranked(text)?.into_iter().next()
    }

    /// Every category with its posterior probability, best first; the probabilities sum to 1.
    /// None when `classify` is None. Lets the hub offer runner-up categories when the top one
    /// is unsure.
    pub fn ranked(&self, text: &str) -> Option<Vec<Suggestion>> {
        let features = features(text);
        if features.is_empty() || self.classes.is_empty() {
            return None;
        }
        let scores = self.log_scores(&features);
        // Shift by the maximum before exponentiating: raw log-scores of long texts underflow.
        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let weights: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
        let sum: f64 = weights.iter().sum();
        let mut ranked: Vec<Suggestion> = self
            .classes
            .iter()
            .zip(&weights)
            .map(|(category, w)| Suggestion {
                category: category.clone(),
                confidence: (w / sum).clamp(0.0, 1.0),
            })
            .collect();
        // Stable sort: equal scores keep corpus order, so the answer is deterministic.
        ranked.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        Some(ranked)
    }

    fn log_scores(&self, features: &BTreeSet<String>) -> Vec<f64> {
        let all_examples: f64 = self.examples.iter().map(|&n| f64::from(n)).sum();
        let vocabulary = self.counts.len() as f64;
        let mut scores: Vec<f64> = self
            .examples
            .iter()
            .map(|&n| (f64::from(n) / all_examples).ln())
            .collect();
        for feature in features {
            // A feature never seen in training says nothing about any class; scoring it would
            // only favour the classes with the fewest total features.
            let Some(row) = self.counts.get(feature) else {
                continue;
            };
            for (class, score) in scores.iter_mut().enumerate() {
                let count = f64::from(row.get(class).copied().unwrap_or(0));
                let total = self.totals[class] as f64;
                *score += EVIDENCE_WEIGHT * ((count + ALPHA) / (total + ALPHA * vocabulary)).ln();
            }
        }
        scores
    }
}

/// The features of a text, each counted once: in a one-line report, repeating a word is
/// emphasis rather than more evidence, and set-of-words measured no worse than counts.
///
/// Words come from jieba; character unigrams and bigrams back them up where jieba splits an
/// officer's abbreviation oddly (用电报装慢 → 用/电报/装慢) or the word is new to the
/// training set but its characters are not (缺芯 shares 芯 with 芯片).
fn features(text: &str) -> BTreeSet<String> {
    let text: String = text
        .chars()
        .map(half_width)
        .flat_map(char::to_lowercase)
        .collect();
    let mut features = BTreeSet::new();
    for token in JIEBA.cut(&text, true) {
        let word = token.word.trim();
        // Numbers (amounts, dates, head counts) vary from report to report and mark no topic;
        // ASCII words stay because some do (PLC, 5G, ESG, A2).
        let meaningful = word.chars().any(|c| is_cjk(c) || c.is_ascii_alphabetic());
        if meaningful && !STOPWORDS.contains(&word) {
            features.insert(format!("w:{word}"));
        }
    }
    // Bigrams stop at punctuation and non-CJK text so that clause boundaries create no
    // spurious pairs.
    let mut previous: Option<char> = None;
    for c in text.chars() {
        if is_cjk(c) {
            features.insert(format!("c:{c}"));
            if let Some(p) = previous {
                features.insert(format!("b:{p}{c}"));
            }
            previous = Some(c);
        } else {
            previous = None;
        }
    }
    features
}

/// Phones often type full-width letters and digits (ＰＬＣ, ５Ｇ); folding them makes them the
/// same features as their ASCII forms.
fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}')
}

/// `category<TAB>text` lines; comments, blank and malformed lines are skipped so that a stray
/// edit to the corpus cannot stop the service from starting.
fn parse_corpus(corpus: &str) -> impl Iterator<Item = (&str, &str)> {
    corpus
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (category, text) = line.split_once('\t')?;
            let (category, text) = (category.trim(), text.trim());
            (!category.is_empty() && !text.is_empty()).then_some((text, category))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const TRAIN: &str = include_str!("../../data/classifier/train.tsv");
    const TEST: &str = include_str!("../../data/classifier/test.tsv");

    #[test]
    fn the_shipped_model_suggests_the_obvious_categories() {
        let model = Classifier::shipped();
        for (text, expected) in [
            ("企业流动资金紧张，申请的技改贷款银行迟迟未放款", "financing"),
            ("招工难，缺少熟练焊工", "labor"),
            ("新厂房消防验收迟迟通不过", "approval"),
            ("下游客户拖欠货款，多次催收无果", "dispute"),
        ] {
            let suggestion = model.classify(text).unwrap();
            assert_eq!(suggestion.category, expected, "{text}");
        }
    }

    #[test]
    fn learning_changes_a_prediction() {
        let mut model = Classifier::shipped();
        // Server rooms appear nowhere in the corpus; the dispatcher files such outages as other.
        let text = "机房服务器频繁宕机，业务系统无法登录";
        let before = model.classify(text).unwrap();
        assert_ne!(
            before.category, "other",
            "pick a text the shipped model gets wrong"
        );
        for _ in 0..3 {
            model.learn(text, "other");
        }
        let after = model.classify(text).unwrap();
        assert_eq!(after.category, "other");
        // A related but different report benefits too: the counts generalise past the exact text.
        let related = model.classify("服务器宕机，系统登录不上").unwrap();
        assert_eq!(related.category, "other");
        // The shipped model itself is untouched: learning happened on a clone.
        assert_eq!(Classifier::shipped().classify(text).unwrap(), before);
    }

    #[test]
    fn learning_a_new_code_adds_a_class() {
        let mut model = Classifier::train([("银行贷款迟迟不放款", "financing"), ("车间招不到普工", "labor")]);
        model.learn("商标被仿冒，网上卖假货", "dispute");
        assert_eq!(model.classify("假冒商标产品").unwrap().category, "dispute");
        assert_eq!(model.ranked("假冒商标产品").unwrap().len(), 3);
    }

    #[test]
    fn text_without_usable_tokens_gives_none_and_teaches_nothing() {
        let mut model = Classifier::shipped();
        for text in [
            "",
            "   ",
            "\u{3000}\n\t",
            "，。！？……",
            "!!!",
            "2024-05-06 12:00",
            "１２３",
        ] {
            assert_eq!(model.classify(text), None, "{text:?}");
            assert_eq!(model.ranked(text), None, "{text:?}");
        }
        let examples_before = model.examples.clone();
        model.learn("？？？", "other");
        model.learn("贷款难", "  ");
        assert_eq!(model.examples, examples_before);
        assert_eq!(Classifier::train([]).classify("贷款难"), None);
    }

    #[test]
    fn confidences_are_probabilities_that_sum_to_one() {
        let model = Classifier::shipped();
        let texts = [
            "贷款难",
            "企业反映园区道路破损，大货车进不来，原料也涨价了",
            "PLC",
            "今天",
            "ＥＳＧ报告",
        ];
        for text in texts {
            let ranked = model.ranked(text).unwrap();
            assert_eq!(ranked.len(), CATEGORIES.len());
            let sum: f64 = ranked.iter().map(|s| s.confidence).sum();
            assert!((sum - 1.0).abs() < 1e-9, "{text}: {sum}");
            assert!(ranked.iter().all(|s| (0.0..=1.0).contains(&s.confidence)));
            assert!(ranked.windows(2).all(|w| w[0].confidence >= w[1].confidence));
            let top = model.classify(text).unwrap();
            assert_eq!(top, ranked[0]);
            assert!(top.confidence >= 1.0 / CATEGORIES.len() as f64);
        }
    }

    #[test]
    fn the_corpora_use_only_known_codes_and_cover_every_category() {
        let known: HashSet<&str> = CATEGORIES.iter().map(|(code, _)| *code).collect();
        for (corpus, minimum) in [(TRAIN, 50), (TEST, 20)] {
            let mut per_category: HashMap<&str, usize> = HashMap::new();
            for (_, category) in parse_corpus(corpus) {
                assert!(known.contains(category), "unknown code {category}");
                *per_category.entry(category).or_default() += 1;
            }
            for (code, _) in CATEGORIES {
                let n = per_category.get(code).copied().unwrap_or(0);
                assert!(n >= minimum, "{code}: {n} examples");
            }
        }
        // Every non-comment line parses: the skip-malformed rule is for safety, not for use.
        for corpus in [TRAIN, TEST] {
            let lines = corpus
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .count();
            assert_eq!(parse_corpus(corpus).count(), lines);
        }
        assert!(parse_corpus(TEST).count() >= 260);
    }

    #[test]
    fn train_and_test_share_no_text() {
        let normalise = |t: &str| t.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        let train: HashSet<String> = parse_corpus(TRAIN).map(|(text, _)| normalise(text)).collect();
        let shared: Vec<&str> = parse_corpus(TEST)
            .map(|(text, _)| text)
            .filter(|t| train.contains(&normalise(t)))
            .collect();
        assert!(shared.is_empty(), "in both sets: {shared:?}");
    }

    /// The real measurement: train on train.tsv only, score the held-out test.tsv.
    /// `cargo test --lib classifier -- --nocapture` prints the per-category table.
    #[test]
    fn held_out_accuracy_is_at_least_ninety_percent() {
        let model = Classifier::train(parse_corpus(TRAIN));
        let mut per_category: HashMap<&str, (usize, usize)> = HashMap::new();
        let mut confusions: HashMap<(&str, String), usize> = HashMap::new();
        let (mut correct, mut total) = (0, 0);
        for (text, expected) in parse_corpus(TEST) {
            let predicted = model.classify(text).map(|s| s.category).unwrap_or_default();
            let entry = per_category.entry(expected).or_default();
            entry.1 += 1;
            total += 1;
            if predicted == expected {
                entry.0 += 1;
                correct += 1;
            } else {
                *confusions.entry((expected, predicted)).or_default() += 1;
            }
        }
        let accuracy = correct as f64 / total as f64;
        println!("held-out top-1 accuracy: {correct}/{total} = {accuracy:.4}");
        for (code, name) in CATEGORIES {
            let (ok, n) = per_category.get(code).copied().unwrap_or_default();
            println!("  {code:<15}{name}\t{ok}/{n}\t{:.2}", ok as f64 / n.max(1) as f64);
        }
        let mut confusions: Vec<_> = confusions.into_iter().collect();
        confusions.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        for ((expected, predicted), n) in confusions {
            println!("  confused {expected} → {predicted}: {n}");
        }
        assert!(accuracy >= 0.90, "held-out accuracy {accuracy:.4} is below 0.90");
    }
}
