//! The bank as a Markdown handout: each question with its answer, key points, code, the
//! output of its experiment (run now, so every figure is measured) and its quiz, with an
//! answer key at the end.

use super::markup::{self, Line};
use super::{item, text};
use crate::bank::{Bank, Question, fill};
use crate::report::Report;
use crate::ui::Ui;
use anyhow::Result;
use std::fmt::Write;

/// The whole bank as Markdown.
pub fn markdown(bank: &Bank, max_bytes: u64) -> Result<String> {
    let mut md = String::new();
    let _ = writeln!(md, "# gradtutor: gradient dynamics in deep networks\n");
    let _ = writeln!(
        md,
        "{} questions from {}. Every experiment output below was produced by \
         `gradtutor {}` when this handout was made; rerun the command shown to see it live.\n",
        bank.questions.len(),
        bank.origin,
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(md, "## Contents\n");
    for q in &bank.questions {
        let _ = writeln!(md, "{}. [{}](#{})", q.id, q.title, anchor(q));
    }
    let _ = writeln!(md);
    // Each experiment runs once; the answer key reads its numeric figures from these reports.
    let reports = bank
        .questions
        .iter()
        .map(|q| question(&mut md, q, max_bytes))
        .collect::<Result<Vec<_>>>()?;
    answer_key(&mut md, bank, &reports, max_bytes)?;
    Ok(md)
}

/// The heading's anchor, as GitHub and most renderers build it.
fn anchor(q: &Question) -> String {
    heading(q)
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn heading(q: &Question) -> String {
    format!("{}. {}", q.id, q.title)
}

/// Writes one question's section; returns its experiment's report.
fn question(md: &mut String, q: &Question, max_bytes: u64) -> Result<Report> {
    let _ = writeln!(md, "## {}\n", heading(q));
    let _ = writeln!(md, "> {}\n", q.question.trim());
    let report = q.experiment.run(&q.experiment.settings, max_bytes)?;
    answer_text(md, &fill(&q.answer, &report));
    let _ = writeln!(md, "**Key points**\n");
    for k in &q.key_points {
        let _ = writeln!(md, "- {}", fill(k, &report).trim());
    }
    let _ = writeln!(md);
    for c in &q.code {
        let _ = writeln!(md, "*{}*\n", c.caption.trim());
        fenced(md, &c.language, c.source.trim_end());
    }
    let takeaway = fill(&q.experiment.takeaway, &report);
    let _ = writeln!(md, "**Experiment** — {}\n", takeaway.trim());
    fenced(
        md,
        "text",
        &format!(
            "$ {}\n\n{}",
            q.experiment.command(),
            text::render(&report, &Ui::plain(80)).trim_end()
        ),
    );
    if let Some(t) = &q.train {
        let _ = writeln!(
            md,
            "**Training** — {} Run it with `{}`.\n",
            t.takeaway.trim(),
            t.command()
        );
    }
    if !q.quiz.is_empty() {
        let _ = writeln!(md, "**Check yourself** (answers at the end)\n");
        for (i, it) in q.quiz.iter().enumerate() {
            md.push_str(&item::markdown_prompt(i + 1, it, &q.experiment));
        }
        let _ = writeln!(md);
    }
    Ok(report)
}

/// The answer's markup: formula lines become `text` code blocks, the rest stays as written.
fn answer_text(md: &mut String, answer: &str) {
    let mut in_formula = false;
    for line in markup::parse(answer) {
        let formula = matches!(line, Line::Formula(_));
        if formula != in_formula {
            let _ = writeln!(md, "{}", if formula { "```text" } else { "```" });
        }
        in_formula = formula;
        let _ = match line {
            Line::Formula(f) => writeln!(md, "{}", f.trim()),
            Line::Text(t) => writeln!(md, "{t}"),
            Line::Bullet(b) => writeln!(md, "- {b}"),
            Line::Break => writeln!(md),
        };
    }
    if in_formula {
        let _ = writeln!(md, "```");
    }
    let _ = writeln!(md);
}

/// A fenced block whose fence is longer than any backtick run inside it.
fn fenced(md: &mut String, lang: &str, body: &str) {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let _ = writeln!(md, "{fence}{lang}\n{body}\n{fence}\n");
}

fn answer_key(md: &mut String, bank: &Bank, reports: &[Report], max_bytes: u64) -> Result<()> {
    if bank.questions.iter().all(|q| q.quiz.is_empty()) {
        return Ok(());
    }
    let _ = writeln!(md, "## Answer key\n");
    for (q, report) in bank.questions.iter().zip(reports) {
        if q.quiz.is_empty() {
            continue;
        }
        let _ = writeln!(md, "**{}**\n", heading(q));
        for (i, it) in q.quiz.iter().enumerate() {
            let measured = if it.is_choice() {
                None
            } else {
                Some(it.measure(&q.experiment, Some(report), max_bytes)?)
            };
            md.push_str(&item::markdown_key(i + 1, it, measured));
        }
        let _ = writeln!(md);
    }
    Ok(())
}
