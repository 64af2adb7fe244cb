//! Renderers: reports, lessons and quiz items as terminal text, JSON, SVG charts and a
//! Markdown or HTML handout; progress records and class rosters. They read the plain data
//! that `report`, `train`, `bank` and `roster` hold and compute nothing of their own.

pub(crate) mod handout;
pub(crate) mod hist;
pub(crate) mod html;
pub(crate) mod item;
pub(crate) mod json;
pub(crate) mod lesson;
pub(crate) mod maps;
pub(crate) mod markdown;
pub(crate) mod markup;
pub(crate) mod progress;
pub(crate) mod roster;
pub(crate) mod steps;
pub(crate) mod svg;
pub(crate) mod sweep;
pub(crate) mod text;
pub(crate) mod training;

/// `text` safe in an HTML or XML element or quoted attribute; control characters XML 1.0
/// does not allow become U+FFFD. Kept apart from `format::escape` (the terminal's): a page
/// must escape markup and keeps newlines and tabs, and `\u{1b}` printed into it helps no one.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}
