//! The bank as one self-contained HTML page: the Markdown handout's content (the same
//! measured handout), each experiment's chart and each training comparison's charts drawn
//! inline as SVG, and every quiz item's answer folded under it. No script, no external file:
//! the style sheet is inline, and it lays the page out for a phone, a desk and paper.
//!
//! Every text from a question file is escaped; the answer's light markup (paragraphs,
//! bullets, formula lines) and inline `code`, *emphasis* and **strong** become elements.
//!
//! Written with `write!`, not a templating crate such as `maud`: about 140 of these lines
//! are templates; the rest turns the answers' light markup into elements, splices the
//! charts' SVG into the page and holds the style sheet, which no template does. maud writes
//! no line breaks between elements (this page has one after each, so every one would become
//! a literal), and escapes `'` as itself where [`escape`] writes `&#39;` (410 times in the
//! bank's page), so the same page would need every text passed through `escape` and in as
//! pre-escaped, giving up the escaping by construction it is for. It is also a proc macro
//! (maud, maud_macros, proc-macro2-diagnostics, version_check).

use super::handout::{Answers, Handout, Section};
use super::markup::{self, Line};
use super::{escape, item, svg, training};
use crate::bank::format::letter;
use crate::bank::{ItemKind, Question, QuizItem};
use crate::report::ReportBody;
use crate::ui::Ui;
use anyhow::{Result, bail};
use std::fmt::Write;

const TITLE: &str = "gradtutor: gradient dynamics in deep networks";

/// A measured handout as an HTML page.
pub(crate) fn render(handout: &Handout) -> Result<String> {
    let bank = handout.bank;
    let mut h = String::new();
    let version = env!("CARGO_PKG_VERSION");
    let made = match handout.runs {
        true => format!(
            "Every experiment output, chart and measured answer below was produced by \
             <code>gradtutor {version}</code> when this handout was made; rerun the command \
             shown to see it live."
        ),
        false => "No experiment was run for this handout: run the command shown with each \
                  question to see its output and measure its figures (the blanks, ___)."
            .to_string(),
    };
    // The paper size, when asked for, and the print margins that go with it.
    let paper = handout.paper.map_or(String::new(), |p| {
        format!("@page {{ size: {}; margin: 12mm 14mm; }}\n", p.css())
    });
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"gradtutor {version}\">\n\
         <title>{TITLE}</title>\n<style>{STYLE}{paper}</style>\n</head>\n<body>\n<main>\n\
         <header>\n<h1>{TITLE}</h1>\n<p>{n} questions ({origin}). {made}</p>\n</header>\n",
        n = handout.sections.len(),
        origin = escape(&bank.origin),
    );
    let _ = writeln!(
        h,
        "<nav aria-labelledby=\"contents\">\n<h2 id=\"contents\">Contents</h2>\n<ol>"
    );
    for s in &handout.sections {
        let _ = writeln!(
            h,
            "<li value=\"{}\"><a href=\"#{}\">{}</a></li>",
            s.question.id,
            anchor(s),
            inline(&s.question.written().title)
        );
    }
    let _ = writeln!(h, "</ol>\n</nav>");
    for s in &handout.sections {
        question(&mut h, s, handout.answers.unwrap_or(Answers::Inline))?;
    }
    if handout.answers == Some(Answers::End) {
        answer_key(&mut h, handout);
    }
    let _ = writeln!(h, "</main>\n</body>\n</html>");
    Ok(h)
}

/// A section's id: the slug (lowercase letters, digits and hyphens), kept apart from the
/// page's own ids.
fn anchor(s: &Section) -> String {
    format!("q-{}", escape(&s.question.slug))
}

fn question(h: &mut String, s: &Section, answers: Answers) -> Result<()> {
    // The question as its file writes it: its math is typeset here.
    let q = s.question.written();
    let _ = write!(
        h,
        "<section class=\"question\" id=\"{}\">\n<h2>{}</h2>\n",
        anchor(s),
        inline(&format!("{}. {}", q.id, q.title)),
    );
    question_text(h, q, &s.answer, &s.key_points);
    match (&s.output, &s.report) {
        (Some(output), Some(report)) => {
            let _ = writeln!(
                h,
                "<h3>Experiment</h3>\n<p>{}</p>\n<pre class=\"output\">{}</pre>",
                inline(s.takeaway.trim()),
                escape(output)
            );
            let name = format!("{}-demo", anchor(s));
            match &report.body {
                ReportBody::Runs => chart(h, &svg::demo_charts(report), &name)?,
                ReportBody::Phase { map } => {
                    let label = "the measured per-layer factor over σ_w and σ_b";
                    figure(h, &svg::phase_svg(map, &map.network), label, &name)?;
                }
                ReportBody::Histograms { runs } => {
                    let label = "each hidden layer's distributions, coloured by depth";
                    figure(h, &svg::hist_svg(runs), label, &name)?;
                }
            }
        }
        _ => {
            let _ = writeln!(
                h,
                "<h3>Experiment</h3>\n<p>{} Run it with <code>{}</code>.</p>",
                inline(s.takeaway.trim()),
                escape(&q.experiment.command())
            );
        }
    }
    if let (Some(t), Some(takeaway)) = (&q.train, &s.train_takeaway) {
        let _ = writeln!(
            h,
            "<h3>Training</h3>\n<p>{} Run it with <code>{}</code>.</p>",
            inline(takeaway.trim()),
            escape(&t.command())
        );
        if let Some(report) = &s.training {
            chart(
                h,
                &svg::train_charts(report),
                &format!("{}-train", anchor(s)),
            )?;
            let _ = writeln!(
                h,
                "<details class=\"run\">\n<summary>The training run's output</summary>\n\
                 <pre class=\"output\">{}</pre>\n</details>",
                escape(training::render(report, &Ui::plain(80)).trim_end())
            );
        }
    }
    if !q.quiz.is_empty() {
        let _ = writeln!(h, "<h3>Check yourself</h3>\n<ol class=\"quiz\">");
        for (it, figure) in q.quiz.iter().zip(&s.figures) {
            quiz_item(h, it, *figure, s, answers == Answers::Inline);
        }
        let _ = writeln!(h, "</ol>");
    }
    let _ = writeln!(h, "</section>");
    Ok(())
}

/// A question's text as the handout shows it (the question asked, the answer, its key
/// points and code listings), with `answer` and `key_points` already filled from its run:
/// the handout's section and the live lab's lesson both show it so. `q` is the question as
/// written (`Question::written`), so that its `$…$` math is typeset.
pub(crate) fn question_text(h: &mut String, q: &Question, answer: &str, key_points: &[String]) {
    let _ = writeln!(h, "<p class=\"asked\">{}</p>", inline(q.question.trim()));
    answer_text(h, answer);
    let _ = writeln!(h, "<h3>Key points</h3>\n<ul class=\"key-points\">");
    for k in key_points {
        let _ = writeln!(h, "<li>{}</li>", inline(k.trim()));
    }
    let _ = writeln!(h, "</ul>");
    for c in &q.code {
        let _ = writeln!(
            h,
            "<figure class=\"code\">\n<figcaption>{} <span class=\"language\">{}</span>\
             </figcaption>\n<pre><code>{}</code></pre>\n</figure>",
            inline(c.caption.trim()),
            escape(c.language.trim()),
            escape(c.source.trim_end())
        );
    }
}

/// A quiz item, its answer folded under it when `answer` is set.
fn quiz_item(h: &mut String, it: &QuizItem, figure: Option<f64>, s: &Section, answer: bool) {
    let _ = writeln!(h, "<li>\n<p>{}</p>", inline(it.prompt.trim()));
    match &it.kind {
        ItemKind::Choice { choices, .. } => {
            let _ = writeln!(h, "<ul class=\"choices\">");
            for (j, c) in choices.iter().enumerate() {
                let _ = writeln!(h, "<li>({}) {}</li>", letter(j), inline(c.trim()));
            }
            let _ = writeln!(h, "</ul>");
        }
        ItemKind::Numeric { tolerance, .. } => {
            let _ = writeln!(
                h,
                "<p>Run <code>{}</code> and answer with a number (±{}).</p>",
                escape(&it.command(&s.question.experiment)),
                escape(&crate::format::echo(*tolerance))
            );
        }
    }
    if answer {
        let _ = writeln!(
            h,
            "<details class=\"answer\">\n<summary>Answer</summary>\n<p>{}</p>\n</details>",
            inline(&key(it, figure, s))
        );
    }
    let _ = writeln!(h, "</li>");
}

/// An item's answer: as measured, or (nothing run) the command that measures it.
fn key(it: &QuizItem, figure: Option<f64>, s: &Section) -> String {
    match s.report {
        Some(_) => item::key(it, figure),
        None => item::key_unrun(it, &s.question.experiment),
    }
}

/// The answer key after the last question (`--answers end`): each question's items, numbered
/// as in its "Check yourself" list.
fn answer_key(h: &mut String, handout: &Handout) {
    let sections: Vec<&Section> = handout
        .sections
        .iter()
        .filter(|s| !s.question.quiz.is_empty())
        .collect();
    if sections.is_empty() {
        return;
    }
    let _ = writeln!(
        h,
        "<section class=\"answer-key\" id=\"answer-key\">\n<h2>Answer key</h2>"
    );
    for s in sections {
        let q = s.question.written();
        let _ = writeln!(
            h,
            "<h3>{}</h3>\n<ol class=\"key\">",
            inline(&format!("{}. {}", q.id, q.title))
        );
        for (it, figure) in q.quiz.iter().zip(&s.figures) {
            let _ = writeln!(h, "<li>{}</li>", inline(&key(it, *figure, s)));
        }
        let _ = writeln!(h, "</ol>");
    }
    let _ = writeln!(h, "</section>");
}

/// The answer's markup as elements: prose lines joined into paragraphs, bullets into a list,
/// formula lines into a preformatted block kept as written.
fn answer_text(h: &mut String, answer: &str) {
    #[derive(PartialEq)]
    enum Block {
        None,
        Para,
        List,
        Formula,
    }
    let close = |h: &mut String, b: &Block| {
        h.push_str(match b {
            Block::None => "",
            Block::Para => "</p>\n",
            Block::List => "</ul>\n",
            Block::Formula => "</pre>\n",
        })
    };
    h.push_str("<div class=\"answer-text\">\n");
    let mut open = Block::None;
    for line in markup::parse(answer) {
        let (block, tag, body) = match line {
            Line::Text(t) => (Block::Para, "<p>", inline(t.trim())),
            Line::Bullet(b) => (Block::List, "<ul>\n", inline(b.trim())),
            Line::Formula(f) => (Block::Formula, "<pre class=\"formula\">", formula(f.trim())),
            Line::Break => {
                close(h, &open);
                open = Block::None;
                continue;
            }
        };
        if block == open {
            // A paragraph's lines are joined by a space, a formula's kept on their own lines.
            match block {
                Block::Para => h.push(' '),
                Block::Formula => h.push('\n'),
                _ => {}
            }
        } else {
            close(h, &open);
            h.push_str(tag);
        }
        match block {
            Block::List => {
                let _ = writeln!(h, "<li>{body}</li>");
            }
            _ => h.push_str(&body),
        }
        open = block;
    }
    close(h, &open);
    h.push_str("</div>\n");
}

/// `charts` as one inline SVG on a white card, scaled to the column's width; `name` makes
/// its ids unique on the page.
fn chart(h: &mut String, charts: &[svg::Chart], name: &str) -> Result<()> {
    let label = charts
        .iter()
        .map(|c| c.title.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    figure(h, &svg::svg_string(charts), &label, name)
}

/// An SVG document inline on a white card, labelled `label`, its ids prefixed by `name`.
fn figure(h: &mut String, doc: &str, label: &str, name: &str) -> Result<()> {
    let _ = writeln!(
        h,
        "<figure class=\"chart\">\n{}\n</figure>",
        prefix_ids(&inline_svg(doc, label)?, &format!("{name}-"))
    );
    Ok(())
}

/// An SVG document as an element for an HTML page: anything before the `<svg>` tag (an XML
/// declaration, a doctype) dropped, a `viewBox` kept or made from its size, and a style that
/// lets it shrink to the width it is given.
fn inline_svg(doc: &str, label: &str) -> Result<String> {
    let Some(start) = doc.find("<svg") else {
        bail!("the chart is not an SVG document");
    };
    let doc = &doc[start..];
    let Some(end) = doc.find('>') else {
        bail!("the chart's <svg> tag is not closed");
    };
    let (tag, rest) = doc.split_at(end);
    let tag = tag.trim_end_matches('/');
    let attrs = attributes(&tag["<svg".len()..]);
    let value = |name: &str| {
        attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let mut out = String::from("<svg");
    for (name, v) in &attrs {
        if !matches!(name.as_str(), "style" | "role" | "aria-label") {
            // Values are written as the document quoted them: keep a `"` inside quoted.
            let q = if v.contains('"') { '\'' } else { '"' };
            let _ = write!(out, " {name}={q}{v}{q}");
        }
    }
    if value("viewBox").is_none() {
        let number = |name| value(name).and_then(|v| v.trim_end_matches("px").parse::<f64>().ok());
        match (number("width"), number("height")) {
            (Some(w), Some(h)) => {
                let _ = write!(out, " viewBox=\"0 0 {w} {h}\"");
            }
            _ => bail!("the chart has neither a viewBox nor a width and height"),
        }
    }
    let _ = write!(
        out,
        " role=\"img\" aria-label=\"{}\" style=\"max-width:100%;height:auto\"",
        escape(label)
    );
    // `rest` starts at the tag's `>` (or `/>` for an empty chart, whose `/` was trimmed).
    if doc[..end].ends_with('/') {
        out.push('/');
    }
    out.push_str(rest.trim_end());
    Ok(out)
}

/// `svg` with every id, and every reference to one (`url(#…)`, `href="#…"`), prefixed:
/// charts drawn one at a time may each use the same ids (a clip path per panel), and on one
/// page an id must be unique, or a reference finds another chart's element.
fn prefix_ids(svg: &str, prefix: &str) -> String {
    const MARKS: [&str; 3] = [" id=\"", "url(#", "href=\"#"];
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg;
    while let Some((at, len)) = MARKS
        .iter()
        .filter_map(|m| rest.find(m).map(|i| (i, m.len())))
        .min()
    {
        out.push_str(&rest[..at + len]);
        out.push_str(prefix);
        rest = &rest[at + len..];
    }
    out.push_str(rest);
    out
}

/// The `name="value"` pairs of a tag, values as written (already escaped).
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = tag.trim_start();
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq].trim().to_string();
        let after = rest[eq + 1..].trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            break;
        };
        let Some(close) = after[1..].find(quote) else {
            break;
        };
        out.push((name, after[1..1 + close].to_string()));
        rest = after[close + 2..].trim_start();
    }
    out
}

/// A line of prose with its inline markup as elements, everything else escaped:
/// `$math$` as MathML, `` `code` `` (any run of backticks, closed by a run as long),
/// `*emphasis*` and `**strong**`. A marker that opens nothing stays as written.
pub(crate) fn inline(text: &str) -> String {
    with_math(text, prose)
}

/// A formula line: its `$…$` math as MathML, the rest (labels, notes) escaped.
fn formula(text: &str) -> String {
    with_math(text, escape)
}

/// `text` with each `$…$` as MathML and the text between laid out by `rest`; text whose math
/// does not parse (which loading refuses) is laid out whole by `rest`.
fn with_math(text: &str, rest: fn(&str) -> String) -> String {
    let Ok(pieces) = crate::math::pieces(text) else {
        return rest(text);
    };
    let mut out = String::new();
    for piece in pieces {
        match piece {
            crate::math::Piece::Text(t) => out.push_str(&rest(t)),
            crate::math::Piece::Dollar => out.push('$'),
            crate::math::Piece::Math { src, .. } => match crate::math::mathml(src) {
                Some(m) => out.push_str(&m),
                None => out.push_str(&escape(src)),
            },
        }
    }
    out
}

/// Prose without math: code spans, emphasis, the rest escaped.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('`') {
        let run = rest[i..].len() - rest[i..].trim_start_matches('`').len();
        let after = &rest[i + run..];
        match closing_ticks(after, run) {
            Some(j) => {
                out.push_str(&emphasis(&rest[..i]));
                let code = &after[..j];
                // One space each side lets code start or end with a backtick.
                let code = match code.strip_prefix(' ').and_then(|c| c.strip_suffix(' ')) {
                    Some(c) if !c.trim().is_empty() => c,
                    _ => code,
                };
                let _ = write!(out, "<code>{}</code>", escape(code));
                rest = &after[j + run..];
            }
            None => {
                out.push_str(&emphasis(&rest[..i + run]));
                rest = after;
            }
        }
    }
    out.push_str(&emphasis(rest));
    out
}

/// Where a run of exactly `run` backticks starts in `text`.
fn closing_ticks(text: &str, run: usize) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find('`') {
        let at = from + i;
        let len = text[at..].len() - text[at..].trim_start_matches('`').len();
        if len == run {
            return Some(at);
        }
        from = at + len;
    }
    None
}

/// `*emphasis*` and `**strong**` in text without code, escaped. A marker opens only before a
/// non-space and not inside a word, and closes only after a non-space and not before a word,
/// so `2 * 3 * 4` and `a*b*c` stay as written.
fn emphasis(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    // Marker lengths with no closing marker left: the text after a later opener of the
    // same length holds none either, so it is not searched again.
    let mut unclosed = [false; 3];
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '*'
            && let Some((len, close)) = span(&chars, i, &mut unclosed)
        {
            let inner: String = chars[i + len..close].iter().collect();
            let tag = if len == 2 { "strong" } else { "em" };
            let _ = write!(out, "<{tag}>{}</{tag}>", emphasis(&inner));
            i = close + len;
            continue;
        }
        out.push_str(&escape(&chars[i].to_string()));
        i += 1;
    }
    out
}

/// The emphasis opened at `chars[at]`: its marker's length and where its closing marker
/// starts. `unclosed[len]` is set when no closing marker of that length is left.
fn span(chars: &[char], at: usize, unclosed: &mut [bool; 3]) -> Option<(usize, usize)> {
    let run = |i: usize| chars[i..].iter().take_while(|c| **c == '*').count();
    let len = run(at);
    let before = at.checked_sub(1).map(|i| chars[i]);
    let first = chars.get(at + len)?;
    if len > 2 || before.is_some_and(|c| c.is_alphanumeric() || c == '*') || first.is_whitespace() {
        return None;
    }
    if unclosed[len] {
        return None;
    }
    let mut i = at + len + 1;
    while i < chars.len() {
        if chars[i] == '*' {
            let n = run(i);
            let after = chars.get(i + n);
            if n == len
                && !chars[i - 1].is_whitespace()
                && !after.is_some_and(|c| c.is_alphanumeric())
            {
                return Some((len, i));
            }
            i += n;
        } else {
            i += 1;
        }
    }
    unclosed[len] = true;
    None
}

/// Screen, phone and paper: one readable column, outputs that scroll sideways rather than
/// wrap, charts on a white card (they are drawn on white) in light and dark, and on paper
/// the questions one after another with their answers unfolded, headings kept with what follows,
/// long outputs and listings broken across pages, charts at most 4.6 in high and the
/// training run's folded output left out.
const STYLE: &str = r#"
:root {
  color-scheme: light dark;
  --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --panel: #f6f8fa;
  --line: #d1d9e0; --accent: #0b5cad;
}
@media (prefers-color-scheme: dark) {
  :root {
    --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --panel: #161b22;
    --line: #3d444d; --accent: #6cb6ff;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0; color: var(--fg); background: var(--bg);
  font: 400 clamp(1rem, 0.94rem + 0.3vw, 1.125rem)/1.6 system-ui, -apple-system,
    "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
}
main { max-width: 46rem; margin: 0 auto; padding: 1rem 1rem 4rem; }
h1 { font-size: 1.75em; line-height: 1.25; margin: 1rem 0 0.5rem; }
h2 { font-size: 1.4em; line-height: 1.3; margin: 2.5rem 0 0.75rem; padding-bottom: 0.3rem;
  border-bottom: 1px solid var(--line); }
h3 { font-size: 1.1em; margin: 1.75rem 0 0.5rem; }
a { color: var(--accent); }
p, ul, ol { margin: 0 0 0.9rem; }
li { margin: 0.25rem 0; }
code, pre { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo,
  Consolas, "Liberation Mono", monospace; }
code { font-size: 0.88em; background: var(--panel); padding: 0.1em 0.3em;
  border-radius: 4px; overflow-wrap: anywhere; }
pre { font-size: 0.8rem; line-height: 1.35; background: var(--panel);
  border: 1px solid var(--line); border-radius: 6px; padding: 0.75rem;
  overflow-x: auto; white-space: pre; tab-size: 4; }
pre code { background: none; padding: 0; font-size: inherit; overflow-wrap: normal; }
math { font-family: "STIX Two Math", "Latin Modern Math", "DejaVu Math TeX Gyre",
  "Cambria Math", math; font-size: 1.05em; }
pre.formula math { font-size: 1.1rem; }
pre.formula { background: none; border: none; border-left: 3px solid var(--line);
  border-radius: 0; padding: 0.25rem 0.9rem; font-size: 0.9rem; }
.asked { font-size: 1.1em; font-weight: 600; border-left: 4px solid var(--accent);
  padding-left: 0.75rem; }
figure { margin: 0 0 1rem; }
figcaption { font-style: italic; color: var(--muted); margin-bottom: 0.3rem; }
figcaption .language { font-style: normal; font-size: 0.85em; }
figcaption .language::before { content: "("; }
figcaption .language::after { content: ")"; }
.chart { background: #ffffff; border: 1px solid var(--line); border-radius: 6px;
  padding: 0.25rem; }
/* On a wide screen a chart leaves the text column to be drawn at its own size. */
@media (min-width: 50rem) {
  .chart { width: min(61rem, 100vw - 3rem); margin-left: 50%; transform: translateX(-50%); }
}
.chart svg { display: block; width: 100%; max-width: 100%; height: auto; }
ul.choices { list-style: none; padding-left: 1rem; }
details { margin: 0.25rem 0 1rem; }
summary { cursor: pointer; color: var(--accent); }
details.answer > p { margin: 0.4rem 0 0; padding: 0.5rem 0.75rem;
  border-left: 3px solid var(--accent); background: var(--panel); }
nav ol { padding-left: 2rem; }
@media (max-width: 30rem) {
  main { padding: 0.75rem 0.75rem 3rem; }
  pre { font-size: 0.72rem; padding: 0.5rem; }
  ol, ul { padding-left: 1.25rem; }
}
@media print {
  :root { --fg: #000000; --muted: #333333; --bg: #ffffff; --panel: transparent;
    --line: #999999; --accent: #000000; }
  body { font-size: 10pt; line-height: 1.4; }
  main { max-width: none; padding: 0; }
  section.answer-key { break-before: page; }
  h2 { margin-top: 1.5rem; }
  /* A heading stays with what follows it; a long block (an output, a listing, a formula
     table) may break across pages, but a chart, which cannot, is kept to half a page. */
  h1, h2, h3, summary, .asked, figcaption { break-after: avoid; }
  pre, figure.code { break-inside: auto; }
  .chart, .chart svg { break-inside: avoid; }
  p, li { orphans: 3; widows: 3; }
  .chart { border: none; padding: 0; width: auto; margin-left: 0; transform: none; }
  .chart svg { width: auto; max-width: 100%; max-height: 4.6in; margin: 0 auto; }
  details.run { display: none; }
  pre { font-size: 7.5pt; white-space: pre-wrap; overflow: visible; }
  a { text-decoration: none; }
  summary { list-style: none; font-weight: 600; }
  summary::-webkit-details-marker { display: none; }
}
@media print {
  details::details-content { content-visibility: visible; display: block; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_elements_and_attributes() {
        assert_eq!(
            escape(r#"<script>a & "b" 'c'</script>"#),
            "&lt;script&gt;a &amp; &quot;b&quot; &#39;c&#39;&lt;/script&gt;"
        );
        assert_eq!(inline("x < y & z"), "x &lt; y &amp; z");
    }

    #[test]
    fn inline_code_is_an_element_and_its_text_escaped() {
        assert_eq!(
            inline("run `gradtutor demo <x>` now"),
            "run <code>gradtutor demo &lt;x&gt;</code> now"
        );
        assert_eq!(inline("``a ` b``"), "<code>a ` b</code>");
        assert_eq!(inline("`` `x` ``"), "<code>`x`</code>");
        // A backtick that closes nothing stays, and markup inside code is not emphasis.
        assert_eq!(inline("a ` b"), "a ` b");
        assert_eq!(inline("`*x*`"), "<code>*x*</code>");
    }

    #[test]
    fn emphasis_opens_and_closes_only_around_words() {
        assert_eq!(inline("a *word* b"), "a <em>word</em> b");
        assert_eq!(
            inline("**bold** and *it*."),
            "<strong>bold</strong> and <em>it</em>."
        );
        assert_eq!(inline("**a *b* c**"), "<strong>a <em>b</em> c</strong>");
        assert_eq!(inline("2 * 3 * 4"), "2 * 3 * 4");
        assert_eq!(inline("a*b*c"), "a*b*c");
        assert_eq!(inline("*open"), "*open");
        assert_eq!(inline("***"), "***");
        assert_eq!(inline("σ_w² · E[φ′(h)²]"), "σ_w² · E[φ′(h)²]");
        assert_eq!(inline("*<b>*"), "<em>&lt;b&gt;</em>");
        // The first opener takes the first closer after it.
        assert_eq!(inline("*a *b* c"), "<em>a *b</em> c");
    }

    #[test]
    fn many_unclosed_markers_take_linear_time() {
        // Searched again from every opener, this text would take minutes.
        let text = "*a ".repeat(60_000);
        let start = std::time::Instant::now();
        assert_eq!(inline(&text), text);
        assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
    }

    #[test]
    fn the_answer_markup_becomes_paragraphs_lists_and_formulas() {
        let mut h = String::new();
        answer_text(
            &mut h,
            "One\ntwo `x`\n\n  a = b\n  c < d\n- first\n- *second*\nAfter",
        );
        assert_eq!(
            h,
            "<div class=\"answer-text\">\n<p>One two <code>x</code></p>\n\
             <pre class=\"formula\">a = b\nc &lt; d</pre>\n\
             <ul>\n<li>first</li>\n<li><em>second</em></li>\n</ul>\n<p>After</p>\n</div>\n"
        );
    }

    #[test]
    fn an_svg_document_becomes_a_scalable_element() {
        let doc = "<?xml version=\"1.0\"?>\n<svg width=\"960\" height=\"420\" \
                   xmlns=\"http://www.w3.org/2000/svg\">\n<rect/>\n</svg>\n";
        let el = inline_svg(doc, "a \"chart\"").unwrap();
        assert_eq!(
            el,
            "<svg width=\"960\" height=\"420\" xmlns=\"http://www.w3.org/2000/svg\" \
             viewBox=\"0 0 960 420\" role=\"img\" aria-label=\"a &quot;chart&quot;\" \
             style=\"max-width:100%;height:auto\">\n<rect/>\n</svg>"
        );
        // A viewBox already there is kept as it is.
        let kept = inline_svg("<svg viewBox=\"0 0 10 5\"><g/></svg>", "c").unwrap();
        assert!(
            kept.starts_with("<svg viewBox=\"0 0 10 5\" role="),
            "{kept}"
        );
        assert!(inline_svg("<p>no chart</p>", "c").is_err());
        assert!(inline_svg("<svg><g/></svg>", "c").is_err());
    }

    #[test]
    fn ids_and_references_get_the_charts_prefix() {
        let doc = "<svg id=\"s\"><clipPath id=\"plot-0\"><rect/></clipPath>\
                   <g clip-path=\"url(#plot-0)\"><use href=\"#plot-0\" data-id=\"x\"/></g></svg>";
        assert_eq!(
            prefix_ids(doc, "c-"),
            "<svg id=\"c-s\"><clipPath id=\"c-plot-0\"><rect/></clipPath>\
             <g clip-path=\"url(#c-plot-0)\"><use href=\"#c-plot-0\" data-id=\"x\"/></g></svg>"
        );
        assert_eq!(prefix_ids("<svg><g/></svg>", "c-"), "<svg><g/></svg>");
    }

    #[test]
    fn the_real_chart_keeps_its_drawing() {
        let settings = crate::settings::Settings {
            depth: Some(3),
            width: Some(8),
            ..Default::default()
        };
        let report = crate::experiments::find("vanishing")
            .unwrap()
            .run(&settings, 1 << 30)
            .unwrap();
        let charts = svg::demo_charts(&report);
        let doc = svg::svg_string(&charts);
        let el = inline_svg(&doc, "t").unwrap();
        assert!(el.starts_with("<svg") && el.ends_with("</svg>"), "{el}");
        assert!(el.contains("viewBox=") && el.contains("max-width:100%"));
        assert_eq!(el.matches("<svg").count(), 1);
        assert!(el.contains("<polyline") || el.contains("<path"));
    }
}
