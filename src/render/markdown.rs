//! The bank as a Markdown handout: each question with its answer, key points, code, the
//! output of its experiment (run now, so every figure is measured) and its quiz, with an
//! answer key at the end.

use super::handout::{Handout, Section};
use super::item;
use super::markup::{self, Line};
use crate::bank::Question;
use std::fmt::Write;

/// A measured handout as Markdown.
pub(crate) fn render(handout: &Handout) -> String {
    let bank = handout.bank;
    let mut md = String::new();
    let _ = writeln!(md, "# gradtutor: gradient dynamics in deep networks\n");
    let _ = writeln!(
        md,
        "{} questions ({}). Every experiment output below was produced by \
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
    for s in &handout.sections {
        question(&mut md, s);
    }
    answer_key(&mut md, handout);
    md
}

/// The heading's anchor, as GitHub and most renderers build it.
fn anchor(q: &Question) -> String {
    format!("{}. {}", q.id, q.title)
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Writes one question's section.
fn question(md: &mut String, s: &Section) {
    let q = s.question;
    let _ = writeln!(md, "## {}\n", s.heading());
    let _ = writeln!(md, "> {}\n", q.question.trim());
    answer_text(md, &s.answer);
    let _ = writeln!(md, "**Key points**\n");
    for k in &s.key_points {
        let _ = writeln!(md, "- {}", k.trim());
    }
    let _ = writeln!(md);
    for c in &q.code {
        let _ = writeln!(md, "*{}*\n", c.caption.trim());
        fenced(md, &c.language, c.source.trim_end());
    }
    let _ = writeln!(md, "**Experiment** — {}\n", s.takeaway.trim());
    fenced(md, "text", &s.output);
    if let (Some(t), Some(takeaway)) = (&q.train, &s.train_takeaway) {
        let _ = writeln!(
            md,
            "**Training** — {} Run it with `{}`.\n",
            takeaway.trim(),
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

fn answer_key(md: &mut String, handout: &Handout) {
    if handout.sections.iter().all(|s| s.question.quiz.is_empty()) {
        return;
    }
    let _ = writeln!(md, "## Answer key\n");
    for s in &handout.sections {
        if s.question.quiz.is_empty() {
            continue;
        }
        let _ = writeln!(md, "**{}**\n", s.heading());
        for (i, (it, figure)) in s.question.quiz.iter().zip(&s.figures).enumerate() {
            md.push_str(&item::markdown_key(i + 1, it, *figure));
        }
        let _ = writeln!(md);
    }
}
