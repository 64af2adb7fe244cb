//! The light markup of a question's answer, parsed once for every renderer: blank lines end
//! paragraphs, lines indented by two spaces are formulas kept as written, lines starting
//! with `- ` are bullets.

/// One line of an answer, by what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Line<'a> {
    /// Prose, as written; consecutive prose lines form one paragraph.
    Text(&'a str),
    /// A formula line (indented by two spaces), as written.
    Formula(&'a str),
    /// A bullet's text, without its `- `.
    Bullet(&'a str),
    /// A blank line: the end of a paragraph.
    Break,
}

/// The lines of `text` (trimmed as a whole), classified.
pub(crate) fn parse(text: &str) -> Vec<Line<'_>> {
    text.trim()
        .lines()
        .map(|line| {
            if line.trim().is_empty() {
                Line::Break
            } else if line.starts_with("  ") {
                Line::Formula(line)
            } else if let Some(item) = line.strip_prefix("- ") {
                Line::Bullet(item)
            } else {
                Line::Text(line)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_classified() {
        let text = "\nOne\ntwo\n\n  x = 1\n- point\n";
        assert_eq!(
            parse(text),
            vec![
                Line::Text("One"),
                Line::Text("two"),
                Line::Break,
                Line::Formula("  x = 1"),
                Line::Bullet("point"),
            ]
        );
    }
}
