//! 共性问题: how alike two problem descriptions are, so the hub sees that five enterprises in
//! one park report the same power cuts. Character bigrams need no dictionary and work well on
//! short Chinese text, where a word segmenter's mistakes would cost more than they add.

/// Descriptions at least this alike are shown as similar.
pub const THRESHOLD: f64 = 0.3;

/// The bigram "fingerprint" of a text: pairs of adjacent letters, digits or CJK characters,
/// with punctuation and spaces as breaks. Kept as a sorted list of distinct pairs (each packed
/// into one number), so comparing two is a merge of two short sorted lists: the queue compares
/// each of its 100 items with 1,000 open problems per page, and hashing made that 100 ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(Vec<u64>);

impl Fingerprint {
    pub fn of(text: &str) -> Fingerprint {
        let mut grams = Vec::new();
        let mut previous: Option<char> = None;
        for c in text.chars().flat_map(char::to_lowercase) {
            if c.is_alphanumeric() {
                if let Some(p) = previous {
                    grams.push(((p as u64) << 32) | c as u64);
                }
                previous = Some(c);
            } else {
                previous = None;
            }
        }
        grams.sort_unstable();
        grams.dedup();
        Fingerprint(grams)
    }

    /// Dice's coefficient: shared bigrams over the average count, 0 (nothing shared) to 1.
    pub fn similarity(&self, other: &Fingerprint) -> f64 {
        let total = self.0.len() + other.0.len();
        if total == 0 {
            return 0.0;
        }
        let (mut a, mut b) = (self.0.iter().peekable(), other.0.iter().peekable());
        let mut shared = 0usize;
        while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
            match x.cmp(y) {
                std::cmp::Ordering::Less => {
                    a.next();
                }
                std::cmp::Ordering::Greater => {
                    b.next();
                }
                std::cmp::Ordering::Equal => {
                    shared += 1;
                    a.next();
                    b.next();
                }
            }
        }
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

/// Many fingerprints indexed by bigram, to find those most like a text without comparing it
/// with each: only the ones sharing a bigram with it are counted, each shared bigram once. The
/// index is one sorted list of (bigram, member) pairs, searched by halving: no hashing, which
/// was most of the queue page's time.
pub struct Pool {
    postings: Vec<(u64, u32)>,
    sizes: Vec<usize>,
}

impl Pool {
    pub fn new<'a>(fingerprints: impl IntoIterator<Item = &'a Fingerprint>) -> Pool {
        let mut postings = Vec::new();
        let mut sizes = Vec::new();
        for (member, fingerprint) in fingerprints.into_iter().enumerate() {
            postings.extend(fingerprint.0.iter().map(|gram| (*gram, member as u32)));
            sizes.push(fingerprint.0.len());
        }
        postings.sort_unstable();
        Pool { postings, sizes }
    }

    /// The up to `n` members (by position) most like `target` above the threshold, best first,
    /// among those `eligible` accepts; the same answer as `most_similar` over all of them.
    pub fn most_similar(
        &self,
        target: &Fingerprint,
        n: usize,
        eligible: impl Fn(usize) -> bool,
    ) -> Vec<(usize, f64)> {
        let mut shared = vec![0u32; self.sizes.len()];
        for gram in &target.0 {
            let start = self.postings.partition_point(|(g, _)| g < gram);
            for (_, member) in self.postings[start..].iter().take_while(|(g, _)| g == gram) {
                shared[*member as usize] += 1;
            }
        }
        let mut scored: Vec<(usize, f64)> = shared
            .iter()
            .enumerate()
            .filter(|(member, count)| **count > 0 && eligible(*member))
            .map(|(member, count)| {
                let total = target.0.len() + self.sizes[member];
                (member, 2.0 * f64::from(*count) / total as f64)
            })
            .filter(|(_, score)| *score >= THRESHOLD)
            .collect();
        // A stable sort: ties keep the pool's order, as in `most_similar`.
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored.truncate(n);
        scored
    }
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
    fn a_repeated_pair_counts_once_and_the_order_of_comparison_does_not_matter() {
        let twice = Fingerprint::of("停电停电");
        let once = Fingerprint::of("停电");
        // {停电, 电停} against {停电}: one shared of three.
        assert!((twice.similarity(&once) - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(twice.similarity(&once), once.similarity(&twice));
        assert_eq!(
            Fingerprint::of("A1-b2").similarity(&Fingerprint::of("a1 B2")),
            1.0
        );
    }

    #[test]
    fn the_pool_finds_what_comparing_with_each_finds() {
        let texts = [
            "园区近一周频繁停电，生产线多次中断",
            "园区频繁停电，影响生产线正常运行",
            "企业流动资金紧张，银行贷款迟迟未放款",
            "园区停电频繁",
            "招工难，缺少技术工人",
            "园区近一周频繁停电，生产线多次中断",
        ];
        let prints: Vec<Fingerprint> = texts.iter().map(|t| Fingerprint::of(t)).collect();
        let pool = Pool::new(&prints);
        for (i, target) in prints.iter().enumerate() {
            let each = most_similar(target, prints.iter().enumerate().filter(|(j, _)| *j != i), 3);
            assert_eq!(pool.most_similar(target, 3, |j| j != i), each, "{}", texts[i]);
        }
        assert!(pool
            .most_similar(&Fingerprint::of("，。"), 3, |_| true)
            .is_empty());
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
