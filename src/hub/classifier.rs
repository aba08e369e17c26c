//! The classifier as the running service holds it: the shipped model, plus every category a
//! dispatcher confirmed at triage (learned live, and again from the database at start-up, so
//! each instance knows the hub's decisions).

use std::sync::{OnceLock, RwLock};

use diesel::prelude::*;

use crate::domain::classifier::{Classifier, Suggestion};
use crate::schema::problems;

/// How many past triages to learn from at start-up (the newest); enough to carry the hub's
/// vocabulary without making start-up slow.
const HISTORY: i64 = 50_000;

/// The model trained on the shipped corpus, trained once per process.
pub fn shipped() -> &'static Classifier {
    static SHIPPED: OnceLock<Classifier> = OnceLock::new();
    SHIPPED.get_or_init(Classifier::shipped)
}

pub struct SharedClassifier(RwLock<Classifier>);

impl Default for SharedClassifier {
    fn default() -> Self {
        Self(RwLock::new(shipped().clone()))
    }
}

impl SharedClassifier {
    /// The suggestion for a description (confidence rounded to what a person reads).
    pub fn suggest(&self, text: &str) -> Option<Suggestion> {
        let model = self.0.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        model.classify(text).map(|s| Suggestion {
            confidence: (s.confidence * 1000.0).round() / 1000.0,
            ..s
        })
    }

    /// A dispatcher confirmed `category` for this text.
    pub fn learn(&self, text: &str, category: &str) {
        let mut model = self.0.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        model.learn(text, category);
    }

    /// Learns the categories confirmed at triage so far; returns how many.
    pub fn learn_from_history(&self, conn: &mut PgConnection) -> QueryResult<usize> {
        let confirmed: Vec<(String, String)> = problems::table
            .filter(problems::triaged_at.is_not_null())
            .filter(problems::category.is_not_null())
            .order(problems::triaged_at.desc())
            .limit(HISTORY)
            .select((problems::description, problems::category.assume_not_null()))
            .load(conn)?;
        let mut model = self.0.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (text, category) in &confirmed {
            model.learn(text, category);
        }
        Ok(confirmed.len())
    }
}
