//! `gradtutor check DIR`: every rule of every file, then every numeric quiz item measured by
//! running its experiment, so a wrong run label or figure shows here, not in class.

use super::{Bank, read_dir};
use crate::format::count;
use anyhow::Result;
use std::path::Path;

/// What `check` found: how much it read, and every problem.
pub struct Findings {
    pub questions: usize,
    pub quiz_items: usize,
    pub problems: Vec<String>,
}

/// Reads and checks every file in `dir`, and measures every numeric quiz item.
pub fn check(dir: &Path, max_bytes: u64) -> Result<Findings> {
    let (questions, mut problems) = Bank::parse(read_dir(dir)?, max_bytes);
    for q in &questions {
        for item in q.quiz.iter().filter(|i| !i.is_choice()) {
            if let Err(e) = item.measure(&q.experiment, None, max_bytes) {
                problems.push(format!("{}: numeric quiz item: {e:#}", q.source));
            }
        }
    }
    Ok(Findings {
        questions: questions.len(),
        quiz_items: questions.iter().map(|q| q.quiz.len()).sum(),
        problems,
    })
}

impl Findings {
    /// `12 questions, 35 quiz items`.
    pub fn summary(&self) -> String {
        format!(
            "{}, {}",
            count(self.questions, "question", "questions"),
            count(self.quiz_items, "quiz item", "quiz items")
        )
    }
}
