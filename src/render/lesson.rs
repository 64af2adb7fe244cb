//! A question laid out for reading: wrapped answer, key points, code listings.

use super::markup::{self, Line};
use crate::bank::{Question, fill};
use crate::report::Report;
use crate::ui::Ui;
use std::fmt::Write;

/// The question, its answer wrapped to the width of `ui`, its key points and code blocks;
/// placeholders are filled from `run`, the report of the experiment shown beside it.
pub(crate) fn render(q: &Question, run: &Report, ui: &Ui) -> String {
    let (style, width) = (&ui.style, ui.width);
    let mut out = String::new();
    let head = format!("Question {} · {}", q.id, q.title);
    let _ = writeln!(out, "{}", style.bold(&head));
    let _ = writeln!(out, "{}", "─".repeat(head.chars().count().min(width)));
    for line in crate::ui::wrap(q.question.trim(), width) {
        let _ = writeln!(out, "{}", style.bold(&line));
    }
    let _ = writeln!(out);
    prose(&mut out, &fill(&q.answer, run), width);
    let _ = writeln!(out, "\n{}", style.bold("Key points"));
    for p in q.key_points.iter().map(|k| fill(k, run)) {
        let opts = crate::ui::opts(width)
            .initial_indent("  • ")
            .subsequent_indent("    ");
        for line in textwrap::wrap(p.trim(), opts) {
            let _ = writeln!(out, "{line}");
        }
    }
    for c in &q.code {
        let _ = writeln!(
            out,
            "\n{}",
            style.bold(&format!("{} ({})", c.caption, c.language))
        );
        for line in c.source.trim_end().lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
    out
}

/// The answer's markup laid out: paragraphs wrapped, formulas as written, bullets wrapped
/// with a hanging indent, a blank line between paragraphs.
fn prose(out: &mut String, text: &str, width: usize) {
    let mut buffer = String::new();
    let flush = |buffer: &mut String, out: &mut String| {
        if !buffer.trim().is_empty() {
            for line in crate::ui::wrap(buffer.trim(), width) {
                let _ = writeln!(out, "{line}");
            }
        }
        buffer.clear();
    };
    for line in markup::parse(text) {
        match line {
            Line::Text(t) => {
                buffer.push(' ');
                buffer.push_str(t.trim());
            }
            Line::Formula(f) => {
                flush(&mut buffer, out);
                let _ = writeln!(out, "{}", f.trim_end());
            }
            Line::Bullet(b) => {
                flush(&mut buffer, out);
                let opts = crate::ui::opts(width)
                    .initial_indent("  • ")
                    .subsequent_indent("    ");
                for l in textwrap::wrap(b.trim(), opts) {
                    let _ = writeln!(out, "{l}");
                }
            }
            Line::Break => {
                flush(&mut buffer, out);
                let _ = writeln!(out);
            }
        }
    }
    flush(&mut buffer, out);
}
