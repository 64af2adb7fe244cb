//! Renderers: reports, lessons and quiz items as terminal text, JSON, SVG charts and a
//! Markdown or HTML handout; progress records and class rosters. They read the plain data
//! that `report`, `train`, `bank` and `roster` hold and compute nothing of their own.

pub mod handout;
pub mod html;
pub mod item;
pub mod json;
pub mod lesson;
pub mod maps;
pub mod markdown;
pub mod markup;
pub mod progress;
pub mod roster;
pub mod steps;
pub mod svg;
pub mod text;
pub mod training;

/// `text` safe in an HTML or XML element or quoted attribute; control characters XML 1.0
/// does not allow become U+FFFD. Kept apart from `format::escape` (the terminal's): a page
/// must escape markup and keeps newlines and tabs, and `\u{1b}` printed into it helps no one.
pub fn escape(text: &str) -> String {
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
