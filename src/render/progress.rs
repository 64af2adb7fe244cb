//! A student's progress for the terminal: what was studied, quiz scores per question, what
//! to do next.

use crate::bank::Bank;
use crate::format::truncate;
use crate::progress::{Attempt, Progress, REPORT_FORMAT};
use crate::roster::Record;
use crate::ui::Ui;
use serde::Serialize;
use std::fmt::Write;

/// The record under `title`: a row per question of `bank`, then the next step.
pub(crate) fn render(p: &Progress, bank: &Bank, title: &str, ui: &Ui) -> String {
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
        let line = format!("Next: gradtutor ask {} ({})", next.id, next.title);
        let _ = writeln!(
            out,
            "\n{}",
            crate::ui::wrap(&line, ui.width).join("\n      ")
        );
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

/// `progress --json`: the record read against the bank. Field names are stable and listed in
/// the README; version 1.
#[derive(Serialize)]
struct Report<'a> {
    format: &'static str,
    version: u32,
    /// The name `progress --name` stored, or null.
    student: Option<&'a str>,
    /// The progress file.
    file: &'a str,
    /// The bank the record was read against.
    bank: &'a str,
    /// The bank's questions in order, then slugs only the record knows (`id` null).
    questions: Vec<QuestionReport<'a>>,
    /// Every quiz as recorded.
    quizzes: &'a [Attempt],
}

#[derive(Serialize)]
struct QuestionReport<'a> {
    id: Option<u32>,
    slug: &'a str,
    title: Option<&'a str>,
    /// Times studied (`ask`, `tour`) and when last, as recorded (`YYYY-MM-DD HH:MM:SS UTC`).
    studied: u32,
    last_studied: Option<&'a str>,
    right: usize,
    asked: usize,
    items: Vec<ItemReport<'a>>,
}

#[derive(Serialize)]
struct ItemReport<'a> {
    /// The item's index among the question's `[[quiz]]` tables, from 0 (as recorded).
    item: usize,
    prompt: Option<&'a str>,
    right: usize,
    asked: usize,
}

/// The record `p` of `file`, read against `bank` as `record`, as pretty JSON.
pub(crate) fn json(p: &Progress, record: &Record, bank: &Bank, file: &str) -> String {
    let questions = record
        .questions
        .iter()
        .map(|q| QuestionReport {
            id: q.question.map(|b| b.id),
            slug: q.slug,
            title: q.question.map(|b| b.title.as_str()),
            studied: q.studied.map_or(0, |s| s.times),
            last_studied: q.studied.map(|s| s.last.as_str()),
            right: q.right,
            asked: q.asked,
            items: q
                .items
                .iter()
                .map(|i| ItemReport {
                    item: i.index,
                    prompt: q
                        .question
                        .and_then(|b| b.quiz.get(i.index))
                        .map(|it| it.prompt.as_str()),
                    right: i.right,
                    asked: i.asked,
                })
                .collect(),
        })
        .collect();
    let report = Report {
        format: REPORT_FORMAT,
        version: 1,
        student: p.name.as_deref(),
        file,
        bank: &bank.origin,
        questions,
        quizzes: &p.quizzes,
    };
    super::json::render(&report)
}
