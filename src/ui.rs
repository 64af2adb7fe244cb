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

/// `text` wrapped to `width` columns with [`opts`].
pub(crate) fn wrap(text: &str, width: usize) -> Vec<std::borrow::Cow<'_, str>> {
    textwrap::wrap(text, opts(width))
}

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
    let mut lines = vec![first.to_string()];
    for unit in units {
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
