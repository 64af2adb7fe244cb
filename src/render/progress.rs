//! A student's progress for the terminal: what was studied, quiz scores per question, what
//! to do next.

use crate::bank::Bank;
use crate::format::truncate;
use crate::progress::Progress;
use crate::ui::Ui;
use std::fmt::Write;

/// The record under `title`: a row per question of `bank`, then the next step.
pub fn render(p: &Progress, bank: &Bank, title: &str, ui: &Ui) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", ui.style.bold(title));
    let studied = bank
        .questions
        .iter()
        .filter(|q| p.studied.contains_key(&q.slug))
        .count();
    let _ = writeln!(
        out,
        "Studied {studied} of {} questions; {} quiz{} taken.\n",
        bank.questions.len(),
        p.quizzes.len(),
        if p.quizzes.len() == 1 { "" } else { "zes" }
    );
    let scores = p.scores();
    let _ = writeln!(
        out,
        "{:>3}  {:<44} {:>7}  {:>10}",
        "id", "question", "studied", "quiz"
    );
    for q in &bank.questions {
        let title = truncate(&q.title, 44);
        let times = p
            .studied
            .get(&q.slug)
            .map_or("—".to_string(), |s| format!("{}×", s.times));
        let quiz = scores
            .get(q.slug.as_str())
            .map_or("—".to_string(), |(r, n)| format!("{r}/{n} right"));
        let _ = writeln!(out, "{:>3}  {title:<44} {times:>7}  {quiz:>10}", q.id);
    }
    let next = bank
        .questions
        .iter()
        .find(|q| !p.studied.contains_key(&q.slug));
    if let Some(next) = next {
        let _ = writeln!(out, "\nNext: gradtutor ask {} ({})", next.id, next.title);
    }
    let weak: Vec<String> = bank
        .questions
        .iter()
        .filter(|q| scores.get(q.slug.as_str()).is_some_and(|(r, n)| 2 * r < *n))
        .map(|q| q.id.to_string())
        .collect();
    if !weak.is_empty() {
        let _ = writeln!(
            out,
            "Under half right so far: question{} {}. To try again:",
            if weak.len() == 1 { "" } else { "s" },
            weak.join(", ")
        );
        for id in &weak {
            let _ = writeln!(out, "  gradtutor quiz --question {id}");
        }
    }
    out
}
