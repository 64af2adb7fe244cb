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
    let head = crate::ui::wrap_with(&head, crate::ui::opts(width).subsequent_indent("  "));
    for line in &head {
        let _ = writeln!(out, "{}", style.bold(line));
    }
    let widest = head.iter().map(|l| cols(l)).max().unwrap_or(0);
    let _ = writeln!(out, "{}", "─".repeat(widest.min(width)));
    // The texts as written, each formula kept whole on its line.
    let w = q.written();
    for line in crate::ui::wrap(unbroken(&w.question).trim(), width) {
        let _ = writeln!(out, "{}", style.bold(&line));
    }
    let _ = writeln!(out);
    prose(&mut out, &fill(&unbroken(&w.answer), run), width);
    let _ = writeln!(out, "\n{}", style.bold("Key points"));
    for p in w.key_points.iter().map(|k| fill(&unbroken(k), run)) {
        let opts = crate::ui::opts(width)
            .initial_indent("  • ")
            .subsequent_indent("    ");
        for line in crate::ui::wrap_with(p.trim(), opts) {
            let _ = writeln!(out, "{line}");
        }
    }
    for c in &q.code {
        let _ = writeln!(out);
        let caption = format!("{} ({})", c.caption, c.language);
        for line in crate::ui::wrap(&caption, width) {
            let _ = writeln!(out, "{}", style.bold(&line));
        }
        for line in c.source.trim_end().lines() {
            for piece in code_line(line, &c.language, width.saturating_sub(4)) {
                let _ = writeln!(out, "    {piece}");
            }
        }
    }
    out
}

/// A section's head as `ask` and `tour` print it: its title, what to look for, and the
/// command that runs it.
pub(crate) fn look_for(ui: &Ui, title: &str, takeaway: &str, cmd: &str) -> String {
    let mut out = format!("\n{}\n", ui.style.bold(title));
    for line in crate::ui::wrap(&format!("Look for: {takeaway}"), ui.width) {
        let _ = writeln!(out, "{line}");
    }
    out.push_str(&crate::ui::command(cmd, ui.width));
    out
}

/// The longest formula kept on one line, in characters: a longer one may break at its spaces
/// rather than overflow a narrow terminal.
const MAX_FORMULA: usize = 40;

/// `written` (a text as its file has it, math as `$…$`) with its math as Unicode, the spaces
/// of each formula up to [`MAX_FORMULA`] characters glued ([`crate::ui::GLUE`]), so that
/// wrapping never breaks a line inside one.
fn unbroken(written: &str) -> String {
    crate::math::plain_glued(written, crate::ui::GLUE, MAX_FORMULA)
}

/// Display columns of `s` (a wide character counts two).
fn cols(s: &str) -> usize {
    textwrap::core::display_width(s)
}

/// A line of a code listing within `width` columns, still valid code: a trailing comment
/// moves onto its own lines above the code (same indentation); a Python line still too
/// long breaks after a `, ` (inside brackets, as its lines are), a shell line before a
/// ` --flag` with ` \`. A line that offers no such place stays whole.
fn code_line(line: &str, language: &str, width: usize) -> Vec<String> {
    if cols(line) <= width {
        return vec![line.to_string()];
    }
    let indent = &line[..line.len() - line.trim_start().len()];
    let marker = match language {
        "python" | "sh" | "bash" | "shell" | "toml" => "#",
        _ => "//",
    };
    let mut out = Vec::new();
    let mut code = line.to_string();
    if let Some(at) = comment_start(line, marker) {
        let comment = line[at + marker.len()..].trim();
        let before = line[..at].trim_end();
        // A whole-line comment wraps; a trailing one goes above its code.
        let lead = format!("{indent}{marker} ");
        let opts = crate::ui::opts(width)
            .initial_indent(&lead)
            .subsequent_indent(&lead);
        out.extend(crate::ui::wrap_with(comment, opts));
        if before.trim().is_empty() {
            return out;
        }
        code = before.to_string();
    }
    let (sep, cont, tail) = match language {
        "sh" | "bash" | "shell" => (" --", "    ", " \\"),
        _ => (", ", "    ", ""),
    };
    let mut rest = code;
    while cols(&rest) > width {
        let limit = width.saturating_sub(cols(tail));
        // Python also breaks after an opening bracket when no `, ` fits.
        let fits = |i: &usize| cols(&rest[..*i]) <= limit && !rest[..*i].trim().is_empty();
        let cut = rest
            .rmatch_indices(sep)
            .map(|(i, _)| if sep == ", " { i + 1 } else { i })
            .find(fits)
            .or_else(|| {
                let python = sep == ", ";
                rest.rmatch_indices('(')
                    .map(|(i, _)| i + 1)
                    .find(|i| python && fits(i) && *i < rest.len() - 1)
            });
        let Some(cut) = cut else { break };
        out.push(format!("{}{tail}", rest[..cut].trim_end()));
        let next = format!("{indent}{cont}{}", rest[cut..].trim_start());
        rest = next;
    }
    out.push(rest);
    out
}

/// Where a comment starts in a line of code: `marker` outside a string literal, at the
/// line's start or after a space.
fn comment_start(line: &str, marker: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if line[i..].starts_with(marker)
                && (line[..i].trim().is_empty() || line[..i].ends_with(' ')) =>
            {
                return Some(i);
            }
            None => {}
        }
    }
    None
}

/// A formula line within `width` columns: written as a row of cells two or more spaces
/// apart, it breaks between cells, continuing four columns in; a cell still too wide wraps
/// at its spaces, never inside an expression ([`crate::ui::wrap_with`]).
fn formula(line: &str, width: usize) -> Vec<String> {
    let line = line.trim_end();
    if cols(line) <= width {
        return vec![line.to_string()];
    }
    let indent = &line[..line.len() - line.trim_start().len()];
    let cont = format!("{indent}    ");
    let cells: Vec<&str> = line
        .trim_start()
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for cell in cells {
        let sep = if line.trim().is_empty() { "" } else { "  " };
        if !line.trim().is_empty() && cols(&line) + sep.len() + cols(cell) > width {
            out.push(std::mem::take(&mut line));
        }
        if line.is_empty() {
            line = if out.is_empty() {
                indent.to_string()
            } else {
                cont.clone()
            };
            line.push_str(cell);
        } else {
            line.push_str("  ");
            line.push_str(cell);
        }
    }
    out.push(line);
    out.into_iter()
        .flat_map(|l| {
            if cols(&l) <= width {
                return vec![l];
            }
            let lead = &l[..l.len() - l.trim_start().len()];
            let opts = crate::ui::opts(width)
                .initial_indent(lead)
                .subsequent_indent(&cont);
            crate::ui::wrap_with(l.trim_start(), opts)
        })
        .collect()
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
                for l in formula(&f.replace(crate::ui::GLUE, " "), width) {
                    let _ = writeln!(out, "{l}");
                }
            }
            Line::Bullet(b) => {
                flush(&mut buffer, out);
                let opts = crate::ui::opts(width)
                    .initial_indent("  • ")
                    .subsequent_indent("    ");
                for l in crate::ui::wrap_with(b.trim(), opts) {
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
