//! What the terminal allows, resolved once per command: colour (only on a terminal, never
//! with NO_COLOR) and the width text is laid out in. Renderers take a [`Ui`].

use clap::ValueEnum;
use std::io::IsTerminal;

/// When to use colour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    #[default]
    Auto,
    Always,
    Never,
}

/// Paints text with ANSI escapes, or leaves it plain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    /// Decides from the user's choice, NO_COLOR, and whether stdout is a terminal.
    pub fn detect(choice: ColorChoice) -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !no_color && std::io::stdout().is_terminal(),
        };
        Style { color }
    }

    pub fn plain() -> Style {
        Style { color: false }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    pub fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
    pub fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    pub fn yellow(&self, t: &str) -> String {
        self.paint("33", t)
    }
    pub fn cyan(&self, t: &str) -> String {
        self.paint("36", t)
    }
}

/// How output is laid out: colour or not, and the width in columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ui {
    pub style: Style,
    pub width: usize,
}

/// The widest the text gets, even on a wide terminal.
pub(crate) const MAX_WIDTH: usize = 100;

impl Ui {
    /// Colour from the user's choice and the terminal; width from the terminal (or
    /// COLUMNS), within 60–[`MAX_WIDTH`].
    pub fn detect(choice: ColorChoice) -> Ui {
        Ui {
            style: Style::detect(choice),
            width: text_width(MAX_WIDTH),
        }
    }

    /// No colour, `width` columns: for files and tests.
    pub fn plain(width: usize) -> Ui {
        Ui {
            style: Style::plain(),
            width,
        }
    }
}

/// Columns to lay text out in: the terminal's width (or COLUMNS), else 80, within 60–`max`.
pub(crate) fn text_width(max: usize) -> usize {
    let detected = terminal_size::terminal_size()
        .map(|(w, _)| w.0 as usize)
        .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
        .unwrap_or(80);
    detected.clamp(60, max)
}

/// Layout for `width` columns that breaks lines only at spaces: a flag, a name or a number
/// stays whole, even at a hyphen (`xavier-normal`, `--clip-norm`).
pub(crate) fn opts(width: usize) -> textwrap::Options<'static> {
    textwrap::Options::new(width)
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .break_words(false)
}

/// `text` wrapped to `width` columns with [`opts`], never inside a short expression
/// ([`wrap_with`]).
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    wrap_with(text, opts(width))
}

/// Stands for a space that must not break a line while the text is wrapped: a private-use
/// character, one column wide as a space is, that no question's text contains. A text may
/// carry it already (a formula's spaces, `render::lesson`); [`wrap_with`] prints a space.
pub(crate) const GLUE: char = '\u{E000}';

/// Operators that bind the words either side of them: a line never starts or ends at one,
/// so `p − y` or `S = 2¹⁶` stays on one line.
const OPERATORS: &[&str] = &[
    "=", "≈", "≠", "−", "-", "+", "×", "/", "÷", "<", ">", "≤", "≥", "→", "←", "≪", "≫", "~", "∝",
    "±",
];

/// The longest expression kept whole, in columns: a longer chain of operators may break
/// (after an operator's right-hand word) rather than overflow a narrow line.
const MAX_GLUED: usize = 30;

/// `text` with the spaces around a lone operator glued ([`GLUE`]), up to [`MAX_GLUED`]
/// columns an expression.
fn glue(text: &str) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let mut out = String::with_capacity(text.len());
    let mut run = 0; // columns of the expression glued so far
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            let op = |s: &str| OPERATORS.contains(&s);
            let joined = (op(w) || op(words[i - 1]))
                && !w.is_empty()
                && !words[i - 1].is_empty()
                && run + 1 + w.chars().count() <= MAX_GLUED;
            if joined {
                out.push(GLUE);
                run += 1;
            } else {
                out.push(' ');
                run = 0;
            }
        }
        run += w.chars().count();
        out.push_str(w);
    }
    out
}

/// `text` wrapped with `opts` (whose separator must split at ASCII spaces only), never
/// between a lone operator and its neighbours ([`glue`]).
pub(crate) fn wrap_with(text: &str, opts: textwrap::Options<'_>) -> Vec<String> {
    let glued = glue(text);
    textwrap::wrap(&glued, opts)
        .into_iter()
        .map(|l| l.replace(GLUE, " "))
        .collect()
}

/// `parts` joined by ` · ` in lines of at most `width` columns, broken only between parts
/// (a part wider than the line gets a line of its own); continuation lines start with
/// `indent`.
pub(crate) fn join_within(parts: &[&str], width: usize, indent: &str) -> Vec<String> {
    let cols = |s: &str| textwrap::core::display_width(s);
    let mut lines: Vec<String> = Vec::new();
    for part in parts {
        match lines.last_mut() {
            Some(line) if cols(line) + 3 + cols(part) <= width => {
                line.push_str(" · ");
                line.push_str(part);
            }
            Some(_) => lines.push(format!("{indent}{part}")),
            None => lines.push(part.to_string()),
        }
    }
    lines
}

/// An error message for standard error: at a terminal, each line longer than the terminal's
/// width is wrapped at spaces, continuing two columns in; piped or redirected (a log, a
/// script's grep) every message stays on its own lines as written.
pub fn error_lines(text: &str) -> String {
    if !std::io::stderr().is_terminal() {
        return text.to_string();
    }
    wrap_lines(text, text_width(MAX_WIDTH))
}

/// Each line of `text` wrapped within `width` columns ([`wrap_with`]), continuing two columns
/// in; a trailing newline is kept.
pub fn wrap_lines(text: &str, width: usize) -> String {
    let body = text.strip_suffix('\n');
    let mut out: Vec<String> = Vec::new();
    for line in body.unwrap_or(text).split('\n') {
        let lead = &line[..line.len() - line.trim_start().len()];
        let cont = format!("{lead}  ");
        let opts = opts(width).initial_indent(lead).subsequent_indent(&cont);
        match textwrap::core::display_width(line) <= width {
            true => out.push(line.to_string()),
            false => out.extend(wrap_with(line.trim_start(), opts)),
        }
    }
    let mut joined = out.join("\n");
    if body.is_some() {
        joined.push('\n');
    }
    joined
}

/// Marks a unit of [`command`] that ends inside a quoted list, so the line breaks after it
/// without a ` \`.
const QUOTED: &str = "\u{E001}";

/// A shell command as `  $ gradtutor …` lines within `width`: long ones continue on
/// indented lines ending in ` \`, breaking only between a flag with its value and the next,
/// never inside a name or a number.
pub(crate) fn command(cmd: &str, width: usize) -> String {
    let mut units: Vec<String> = Vec::new();
    let mut quoted = false;
    for token in cmd.split(' ') {
        let joins_value = units
            .last()
            .is_some_and(|u| u.starts_with("--") && !u.contains(' ') && !token.starts_with("--"));
        if quoted || joins_value {
            let last = units.last_mut().expect("a unit to join");
            last.push(' ');
            last.push_str(token);
        } else {
            units.push(token.to_string());
        }
        quoted ^= token.matches('"').count() % 2 == 1;
    }
    let (first, next) = ("  $ ", "      ");
    // A flag whose comma-separated value (`--compare a,b,c`) cannot fit on a line of its own
    // is quoted across lines, one entry a line: the entries are trimmed, so the line breaks
    // inside the quotes are not part of them.
    let mut units: Vec<String> = units
        .into_iter()
        .flat_map(|unit| {
            let too_wide = next.len() + unit.chars().count() + 2 > width;
            match unit.split_once(' ') {
                Some((flag, value))
                    if too_wide
                        && flag.starts_with("--")
                        && value.contains(',')
                        && !value.contains(['"', ' ', '\'', '\\']) =>
                {
                    let entries: Vec<&str> = value.split(',').collect();
                    let last = entries.len() - 1;
                    entries
                        .iter()
                        .enumerate()
                        .map(|(i, e)| match i {
                            0 => format!("{flag} \"{e},{QUOTED}"),
                            i if i == last => format!("{e}\""),
                            _ => format!("{e},{QUOTED}"),
                        })
                        .collect::<Vec<_>>()
                }
                _ => vec![unit],
            }
        })
        .collect();
    let mut lines = vec![first.to_string()];
    let mut open = false;
    for unit in units.drain(..) {
        let line = lines.last_mut().expect("a line");
        if open {
            // Inside a quoted list: the next entry on a line of its own, no backslash.
            open = unit.ends_with(QUOTED);
            lines.push(format!("{next}  {}", unit.trim_end_matches(QUOTED)));
            continue;
        }
        if unit.ends_with(QUOTED) {
            let fresh = line == first || line == next;
            if !fresh {
                line.push_str(" \\");
                lines.push(next.to_string());
            }
            lines
                .last_mut()
                .expect("a line")
                .push_str(unit.trim_end_matches(QUOTED));
            open = true;
            continue;
        }
        let line = lines.last_mut().expect("a line");
        let fresh = line == first || line == next;
        if !fresh && line.chars().count() + 1 + unit.chars().count() + 2 > width {
            line.push_str(" \\");
            lines.push(format!("{next}{unit}"));
            continue;
        }
        if !fresh {
            line.push(' ');
        }
        line.push_str(&unit);
    }
    lines.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::command;

    #[test]
    fn prose_wraps_at_spaces_never_at_hyphens() {
        let text = "train with sigmoid/xavier-normal and --clip-norm 1";
        for width in 20..40 {
            let lines = super::wrap(text, width);
            let joined: Vec<&str> = lines.iter().flat_map(|l| l.split(' ')).collect();
            assert!(joined.contains(&"sigmoid/xavier-normal"), "{lines:?}");
            assert!(joined.contains(&"--clip-norm"), "{lines:?}");
        }
    }

    #[test]
    fn commands_wrap_between_flags_never_inside_them() {
        let short = "gradtutor demo vanishing --depth 20";
        assert_eq!(command(short, 80), format!("  $ {short}\n"));
        let long =
            "gradtutor demo vanishing --depth 30 --activation tanh --init lecun-normal --seeds 3";
        let text = command(long, 60);
        assert_eq!(
            text,
            "  $ gradtutor demo vanishing --depth 30 --activation tanh \\\n      --init lecun-normal --seeds 3\n"
        );
        assert!(text.lines().all(|l| l.chars().count() <= 60));
        let quoted = "gradtutor train --compare \"relu, tanh\" --steps 50";
        assert!(command(quoted, 30).contains("--compare \"relu, tanh\""));
    }
}
