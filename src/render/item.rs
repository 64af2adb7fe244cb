//! A quiz item for the reader, in every form it is shown: the prompt with its choices (or the
//! command whose output holds the figure), the answer key, and the feedback on an answer.

use crate::bank::format::{ItemKind, Preset, QuizItem, letter};
use crate::format::figure;
use crate::quiz::Outcome;
use crate::ui::Ui;
use std::fmt::Write;

/// The prompt and its choices, or the command to run and how to answer, for a terminal.
pub(crate) fn prompt(item: &QuizItem, preset: &Preset, ui: &Ui) -> String {
    let mut out = String::new();
    for line in crate::ui::wrap(item.prompt.trim(), ui.width) {
        let _ = writeln!(out, "{line}");
    }
    match &item.kind {
        ItemKind::Choice { choices, .. } => {
            for (i, c) in choices.iter().enumerate() {
                let opts = crate::ui::opts(ui.width)
                    .initial_indent("")
                    .subsequent_indent("     ");
                let text = format!("  {}) {}", letter(i), c.trim());
                for line in crate::ui::wrap_with(&text, opts) {
                    let _ = writeln!(out, "{line}");
                }
            }
        }
        ItemKind::Numeric { tolerance, .. } => {
            out.push_str(&crate::ui::command(&item.command(preset), ui.width));
            let hint = format!(
                "Answer with a number: anything within ±{} of the measured value counts.",
                crate::format::echo(*tolerance)
            );
            let _ = writeln!(out, "{}", ui.style.dim(&hint));
        }
    }
    out
}

/// The answer without asking (a tour printed to a pipe): the right choice and why, or the
/// measured figure and what it means.
pub(crate) fn reveal(item: &QuizItem, measured: Option<f64>, ui: &Ui) -> String {
    let text = match (&item.kind, measured) {
        (
            ItemKind::Choice {
                correct,
                explanations,
                ..
            },
            _,
        ) => format!("Answer: ({}) {}", letter(*correct), explanations[*correct]),
        (ItemKind::Numeric { explanation, .. }, m) => format!(
            "Answer: the run measures {}. {explanation}",
            m.map_or("nothing".into(), figure)
        ),
    };
    let mut out = String::new();
    for line in crate::ui::wrap(&text, ui.width) {
        let _ = writeln!(out, "{}", ui.style.dim(&line));
    }
    out
}

/// Right or wrong, and why: the verdict line coloured, the explanation plain.
pub(crate) fn feedback(outcome: &Outcome, ui: &Ui) -> String {
    let mut out = String::new();
    for (n, para) in outcome.feedback.lines().enumerate() {
        for line in crate::ui::wrap(para, ui.width) {
            let painted = if n == 0 && outcome.correct {
                ui.style.cyan(&line)
            } else if n == 0 {
                ui.style.yellow(&line)
            } else {
                line.to_string()
            };
            let _ = writeln!(out, "{painted}");
        }
    }
    out
}

/// Item `n` of a handout's "Check yourself" list.
pub(crate) fn markdown_prompt(n: usize, item: &QuizItem, preset: &Preset) -> String {
    let text = super::markdown::text;
    let mut md = format!("{n}. {}\n", text(item.prompt.trim()));
    match &item.kind {
        ItemKind::Choice { choices, .. } => {
            for (j, c) in choices.iter().enumerate() {
                let _ = writeln!(md, "   - ({}) {}", letter(j), text(c.trim()));
            }
        }
        ItemKind::Numeric { tolerance, .. } => {
            let _ = writeln!(
                md,
                "   Run `{}` and answer with a number (±{}).",
                item.command(preset),
                crate::format::echo(*tolerance)
            );
        }
    }
    md
}

/// An item's answer in a handout made without runs: the right choice and why, or the command
/// that measures the figure and what it means.
pub(crate) fn key_unrun(item: &QuizItem, preset: &Preset) -> String {
    match &item.kind {
        ItemKind::Choice { .. } => key(item, None),
        ItemKind::Numeric { explanation, .. } => format!(
            "Measured by `{}` (not run for this handout). {}",
            item.command(preset),
            explanation.trim()
        ),
    }
}

/// An item's answer as a handout prints it: the right choice and why, or the figure measured
/// when the handout was made and what it means.
pub(crate) fn key(item: &QuizItem, measured: Option<f64>) -> String {
    match &item.kind {
        ItemKind::Choice {
            correct,
            explanations,
            ..
        } => format!("({}) {}", letter(*correct), explanations[*correct].trim()),
        ItemKind::Numeric { explanation, .. } => format!(
            "{} (measured when this handout was made). {}",
            measured.map_or("nothing".into(), figure),
            explanation.trim()
        ),
    }
}
