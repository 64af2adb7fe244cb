//! The bank as a Markdown handout: each question with its answer, key points, code, the
//! output of its experiment (run now, so every figure is measured) and its quiz, with an
//! answer key at the end.
//!
//! Markdown passes HTML through to the page a viewer renders, so every text from a question
//! file goes through [`text`]: a `<` that would open a tag, a comment or an autolink becomes
//! `&lt;`, an `&` that would start an entity `&amp;`, a link to a `javascript:`, `vbscript:`
//! or `data:` address loses its link, and a code fence's language keeps only the characters a
//! language name has. A `<` before a space or a digit (`x < 0`) and text in code spans stay as
//! written: Markdown shows those literally.

use super::handout::{Answers, Handout, Section};
use super::item;
use super::markup::{self, Line};
use crate::bank::Question;
use crate::math::plain;
use std::fmt::Write;

/// Prose from a file as Markdown that cannot carry HTML (see the module's doc); code spans
/// (`` `…` ``) are kept as written.
pub(crate) fn text(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            // A code span: a run of n backticks up to the next run of exactly n.
            let n = chars[i..].iter().take_while(|&&c| c == '`').count();
            let close = (i + n..chars.len()).find(|&j| {
                chars[j..].iter().take_while(|&&c| c == '`').count() == n
                    && (j == 0 || chars[j - 1] != '`')
            });
            let end = close.map_or(i + n, |j| j + n);
            out.extend(&chars[i..end]);
            i = end;
            continue;
        }
        let next = chars.get(i + 1).copied();
        match c {
            '<' if next
                .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')) =>
            {
                out.push_str("&lt;")
            }
            '&' if next.is_some_and(|n| n.is_ascii_alphanumeric() || n == '#') => {
                out.push_str("&amp;")
            }
            ']' if next == Some('(') && dangerous_link(&chars[i + 2..]) => out.push_str("]\\"),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// Whether a link's destination (the text after `](`) names a scheme that runs code.
fn dangerous_link(rest: &[char]) -> bool {
    let dest: String = rest
        .iter()
        .skip_while(|c| c.is_whitespace() || **c == '<')
        .take(12)
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    ["javascript:", "vbscript:", "data:"]
        .iter()
        .any(|s| dest.starts_with(s))
}

/// A code fence's language as written up to its first character that no language name has
/// (`python"><script>` → `python`).
fn language(lang: &str) -> &str {
    let end = lang
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '.' | '#')))
        .unwrap_or(lang.len());
    &lang[..end]
}

/// A measured handout as Markdown.
pub(crate) fn render(handout: &Handout) -> String {
    let bank = handout.bank;
    let mut md = String::new();
    let _ = writeln!(md, "# gradtutor: gradient dynamics in deep networks\n");
    let made = match handout.runs {
        true => format!(
            "Every experiment output below was produced by `gradtutor {}` when this handout \
             was made; rerun the command shown to see it live.",
            env!("CARGO_PKG_VERSION")
        ),
        false => "No experiment was run for this handout: run the command shown with each \
                  question to see its output and measure its figures (the blanks, ___)."
            .to_string(),
    };
    let _ = writeln!(
        md,
        "{} questions ({}). {made}\n",
        handout.sections.len(),
        text(&bank.origin),
    );
    let _ = writeln!(md, "## Contents\n");
    for q in handout.sections.iter().map(|s| s.question) {
        let _ = writeln!(md, "{}. [{}](#{})", q.id, text(&q.title), anchor(q));
    }
    let _ = writeln!(md);
    let answers = handout.answers.unwrap_or(Answers::End);
    for s in &handout.sections {
        question(&mut md, s, answers);
    }
    if answers == Answers::End {
        answer_key(&mut md, handout);
    }
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
fn question(md: &mut String, s: &Section, answers: Answers) {
    let q = s.question;
    let _ = writeln!(md, "## {}\n", text(&s.heading()));
    let _ = writeln!(md, "> {}\n", text(q.question.trim()));
    answer_text(md, &plain(&s.answer));
    let _ = writeln!(md, "**Key points**\n");
    for k in &s.key_points {
        let _ = writeln!(md, "- {}", text(plain(k).trim()));
    }
    let _ = writeln!(md);
    for c in &q.code {
        let _ = writeln!(md, "*{}*\n", text(c.caption.trim()));
        fenced(md, language(c.language.trim()), c.source.trim_end());
    }
    match &s.output {
        Some(output) => {
            let _ = writeln!(md, "**Experiment** — {}\n", text(plain(&s.takeaway).trim()));
            fenced(md, "text", output);
        }
        None => {
            let _ = writeln!(
                md,
                "**Experiment** — {} Run it with `{}`.\n",
                text(plain(&s.takeaway).trim()),
                q.experiment.command()
            );
        }
    }
    if let (Some(t), Some(takeaway)) = (&q.train, &s.train_takeaway) {
        let _ = writeln!(
            md,
            "**Training** — {} Run it with `{}`.\n",
            text(plain(takeaway).trim()),
            t.command()
        );
    }
    if !q.quiz.is_empty() {
        let _ = match answers {
            Answers::End => writeln!(md, "**Check yourself** (answers at the end)\n"),
            Answers::Inline | Answers::None => writeln!(md, "**Check yourself**\n"),
        };
        for (i, (it, figure)) in q.quiz.iter().zip(&s.figures).enumerate() {
            md.push_str(&item::markdown_prompt(i + 1, it, &q.experiment));
            if answers == Answers::Inline {
                let _ = writeln!(md, "\n   *Answer:* {}\n", text(&key(it, *figure, s)));
            }
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
            Line::Text(t) => writeln!(md, "{}", text(t)),
            Line::Bullet(b) => writeln!(md, "- {}", text(b)),
            Line::Break => writeln!(md),
        };
    }
    if in_formula {
        let _ = writeln!(md, "```");
    }
    let _ = writeln!(md);
}

/// An item's answer: as measured, or (nothing run) the command that measures it.
fn key(it: &crate::bank::QuizItem, figure: Option<f64>, s: &Section) -> String {
    match s.report {
        Some(_) => item::key(it, figure),
        None => item::key_unrun(it, &s.question.experiment),
    }
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
        let _ = writeln!(md, "**{}**\n", text(&s.heading()));
        for (i, (it, figure)) in s.question.quiz.iter().zip(&s.figures).enumerate() {
            let _ = writeln!(md, "{}. {}", i + 1, text(&key(it, *figure, s)));
        }
        let _ = writeln!(md);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Catches: HTML, entities or a script link passing through, or prose and code spans
    /// that Markdown already shows literally being mangled.
    #[test]
    fn prose_carries_no_html() {
        assert_eq!(text("<script>x</script>"), "&lt;script>x&lt;/script>");
        assert_eq!(text("<!-- c --> <?php"), "&lt;!-- c --> &lt;?php");
        assert_eq!(text("&lt; &#60; & x"), "&amp;lt; &amp;#60; & x");
        assert_eq!(text("x < 0, a <= b, 2<3"), "x < 0, a <= b, 2<3");
        assert_eq!(text("`<b>` and ``a ` <i>``"), "`<b>` and ``a ` <i>``");
        assert_eq!(text("`unclosed <b>"), "`unclosed &lt;b>");
        assert_eq!(
            text("[a](javascript:alert(1))"),
            "[a]\\(javascript:alert(1))"
        );
        assert_eq!(text("[a]( JavaScript:x)"), "[a]\\( JavaScript:x)");
        assert_eq!(
            text("[a](<data:text/html,x>)"),
            "[a]\\(&lt;data:text/html,x>)"
        );
        assert_eq!(text("[a](https://example.org)"), "[a](https://example.org)");
        assert_eq!(language("python\"><script>"), "python");
        assert_eq!(language("c++"), "c++");
        assert_eq!(language("<x>"), "");
    }
}
