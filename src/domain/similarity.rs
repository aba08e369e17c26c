//! 共性问题: how alike two problem descriptions are, so the hub sees that five enterprises in
//! one park report the same power cuts. Character bigrams need no dictionary and work well on
//! short Chinese text, where a word segmenter's mistakes would cost more than they add.

use std::collections::HashSet;

/// Descriptions at least this alike are shown as similar.
pub const THRESHOLD: f64 = 0.3;

/// The bigram "fingerprint" of a text: pairs of adjacent letters, digits or CJK characters,
/// with punctuation and spaces as breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(HashSet<(char, char)>);

impl Fingerprint {
    pub fn of(text: &str) -> Fingerprint {
        let mut grams = HashSet::new();
        let mut previous: Option<char> = None;
        for c in text.chars().flat_map(char::to_lowercase) {
            if c.is_alphanumeric() {
                if let Some(p) = previous {
                    grams.insert((p, c));
                }
                previous = Some(c);
            } else {
                previous = None;
            }
        }
        Fingerprint(grams)
    }

    /// Dice's coefficient: shared bigrams over the average count, 0 (nothing shared) to 1.
    pub fn similarity(&self, other: &Fingerprint) -> f64 {
        let total = self.0.len() + other.0.len();
        if total == 0 {
            return 0.0;
        }
        let shared = self.0.intersection(&other.0).count();
        2.0 * shared as f64 / total as f64
    }
}

/// The up to `n` candidates most like `target` above the threshold, best first.
pub fn most_similar<'a, K: Copy>(
    target: &Fingerprint,
    candidates: impl IntoIterator<Item = (K, &'a Fingerprint)>,
    n: usize,
) -> Vec<(K, f64)> {
    let mut scored: Vec<(K, f64)> = candidates
        .into_iter()
        .map(|(key, fingerprint)| (key, target.similarity(fingerprint)))
        .filter(|(_, score)| *score >= THRESHOLD)
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored.truncate(n);
    scored
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_complaint_in_other_words_is_similar_and_a_different_one_is_not() {
        let power = Fingerprint::of("园区近一周频繁停电，生产线多次中断");
        let power_again = Fingerprint::of("园区频繁停电，影响生产线正常运行");
        let loan = Fingerprint::of("企业流动资金紧张，银行贷款迟迟未放款");
        assert!(power.similarity(&power_again) >= THRESHOLD);
        assert!(power.similarity(&loan) < THRESHOLD);
        assert_eq!(power.similarity(&power), 1.0);
        assert_eq!(Fingerprint::of("，。").similarity(&power), 0.0);
    }

    #[test]
    fn most_similar_keeps_the_best_few_above_the_threshold() {
        let target = Fingerprint::of("园区频繁停电影响生产");
        let a = Fingerprint::of("园区频繁停电影响生产");
        let b = Fingerprint::of("园区停电频繁");
        let c = Fingerprint::of("招工难，缺少技术工人");
        let found = most_similar(&target, [(1, &a), (2, &b), (3, &c)], 3);
        assert_eq!(found.iter().map(|(k, _)| *k).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(most_similar(&target, [(1, &a), (2, &b)], 1).len(), 1);
    }
}
