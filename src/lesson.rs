//! A question laid out for reading: wrapped answer, key points, code listings.

use crate::bank::Question;
use crate::style::Style;
use std::fmt::Write;

/// The question, its answer wrapped to `width`, its key points and code blocks.
pub fn render(q: &Question, style: &Style, width: usize) -> String {
    let mut out = String::new();
    let head = format!("Question {} · {}", q.id, q.title);
    let _ = writeln!(out, "{}", style.bold(&head));
    let _ = writeln!(out, "{}", "─".repeat(head.chars().count().min(width)));
    for line in textwrap::wrap(q.question.trim(), width) {
        let _ = writeln!(out, "{}", style.bold(&line));
    }
    let _ = writeln!(out);
    prose(&mut out, &q.answer, width);
    let _ = writeln!(out, "\n{}", style.bold("Key points"));
    for p in &q.key_points {
        let opts = textwrap::Options::new(width)
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

/// Paragraphs separated by blank lines are wrapped; lines starting with two spaces (formulas)
/// are kept as they are; lines starting with `- ` become wrapped bullets.
fn prose(out: &mut String, text: &str, width: usize) {
    for (i, para) in text.trim().split("\n\n").enumerate() {
        if i > 0 {
            let _ = writeln!(out);
        }
        let mut buffer = String::new();
        let flush = |buffer: &mut String, out: &mut String| {
            if !buffer.trim().is_empty() {
                for line in textwrap::wrap(buffer.trim(), width) {
                    let _ = writeln!(out, "{line}");
                }
            }
            buffer.clear();
        };
        for line in para.lines() {
            if line.starts_with("  ") {
                flush(&mut buffer, out);
                let _ = writeln!(out, "{}", line.trim_end());
            } else if let Some(item) = line.strip_prefix("- ") {
                flush(&mut buffer, out);
                buffer.push_str(item);
                let opts = textwrap::Options::new(width)
                    .initial_indent("  • ")
                    .subsequent_indent("    ");
                for l in textwrap::wrap(buffer.trim(), opts) {
                    let _ = writeln!(out, "{l}");
                }
                buffer.clear();
            } else {
                buffer.push(' ');
                buffer.push_str(line.trim());
            }
        }
        flush(&mut buffer, out);
    }
}
