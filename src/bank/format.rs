//! The question-file format: what a `questions/*.toml` file holds, as the types it is read
//! into. The README's "Question files" section documents the same schema for instructors;
//! `load` turns a file's text into these types, checking every rule once.

use crate::report::Figure;
use crate::settings::Settings;
use crate::train::settings::TrainSettings;

/// The question-file format this build reads (`format_version = 1`).
pub const FORMAT_VERSION: u32 = 1;

/// One question of the bank.
#[derive(Clone, Debug, PartialEq)]
pub struct Question {
    pub id: u32,
    /// Lowercase letters, digits and hyphens: `ask SLUG` finds the question by it.
    pub slug: String,
    pub title: String,
    pub question: String,
    /// The explanation. Blank lines separate paragraphs; lines indented by two spaces are
    /// formulas kept as written; lines starting with `- ` are bullets.
    pub answer: String,
    pub key_points: Vec<String>,
    /// Code listings shown under the answer (`[[code]]`).
    pub code: Vec<CodeBlock>,
    /// The paired experiment (`[experiment]`).
    pub experiment: Preset,
    /// An optional training comparison (`[train]`), run by `ask` after the experiment.
    pub train: Option<TrainPreset>,
    /// Self-test items (`[[quiz]]`), asked by `quiz` and `tour`.
    pub quiz: Vec<QuizItem>,
    /// Where the question came from (file path, or `embedded:NAME`).
    pub source: String,
}

/// A code listing shown under the answer.
#[derive(Clone, Debug, PartialEq)]
pub struct CodeBlock {
    /// What the listing is (`Keras`, `PyTorch`, `gradtutor (Rust)`).
    pub caption: String,
    pub language: String,
    pub source: String,
}

/// The experiment a question pairs with: `demo`, `takeaway`, and any `demo` flag as a key
/// (`depth = 20`, `activation = "relu"`).
#[derive(Clone, Debug, PartialEq)]
pub struct Preset {
    /// The experiment's name, as in `gradtutor demo NAME`.
    pub demo: String,
    /// One line: what to look for in the output.
    pub takeaway: String,
    pub settings: Settings,
}

impl Preset {
    /// `gradtutor demo NAME --flag value …`.
    pub fn command(&self) -> String {
        self.command_with(&self.settings)
    }

    /// The command for this experiment with other settings.
    pub fn command_with(&self, settings: &Settings) -> String {
        let mut parts = vec!["gradtutor".to_string(), "demo".into(), self.demo.clone()];
        parts.extend(settings.to_args());
        parts.join(" ")
    }
}

/// The training comparison a question pairs with: `takeaway`, and any `train` flag as a key
/// (`compare = "…"`, `steps = 600`).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainPreset {
    /// One line: what to look for in the output.
    pub takeaway: String,
    pub settings: TrainSettings,
}

impl TrainPreset {
    /// `gradtutor train --flag value …`, quoting values with spaces.
    pub fn command(&self) -> String {
        let mut parts = vec!["gradtutor".to_string(), "train".into()];
        parts.extend(self.settings.to_args().into_iter().map(|a| {
            if a.contains(char::is_whitespace) {
                format!("\"{a}\"")
            } else {
                a
            }
        }));
        parts.join(" ")
    }
}

/// One `[[quiz]]` entry: a prompt, and either choices or a measured figure.
#[derive(Clone, Debug, PartialEq)]
pub struct QuizItem {
    pub prompt: String,
    /// The line of the file where the item's prompt stands, for messages.
    pub line: usize,
    pub kind: ItemKind,
}

/// What a quiz item asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    /// `choices` (2–6), `answer` (a letter) and one explanation per choice.
    Choice {
        choices: Vec<String>,
        /// The index of the right choice.
        correct: usize,
        explanations: Vec<String>,
    },
    /// `figure`, `tolerance` and `explanation`; the answer is measured by running the
    /// question's experiment.
    Numeric {
        figure: Figure,
        /// Which run of the experiment the figure comes from (its label); the first if none.
        run: Option<String>,
        /// How far an answer may be from the measured figure and still count.
        tolerance: f64,
        explanation: String,
        /// Settings laid over the question's experiment preset for this item.
        settings: Option<Settings>,
    },
}

impl QuizItem {
    /// The experiment settings the item's figure is measured with: the question's preset,
    /// then the item's own settings.
    pub fn settings(&self, preset: &Preset) -> Settings {
        match &self.kind {
            ItemKind::Numeric {
                settings: Some(s), ..
            } => preset.settings.overlay(s),
            _ => preset.settings.clone(),
        }
    }

    /// Whether it is a multiple-choice item (else numeric).
    pub fn is_choice(&self) -> bool {
        matches!(self.kind, ItemKind::Choice { .. })
    }

    /// Whether the item runs the preset exactly as it is (so a run of the preset serves it).
    pub fn uses_preset(&self) -> bool {
        !matches!(
            self.kind,
            ItemKind::Numeric {
                settings: Some(_),
                ..
            }
        )
    }

    /// The command that produces the item's figure, for the student to run.
    pub fn command(&self, preset: &Preset) -> String {
        preset.command_with(&self.settings(preset))
    }
}

/// The letter of choice `i`: a, b, c, …
pub fn letter(i: usize) -> char {
    (b'a' + i as u8) as char
}

/// Parses a choice answer, `b` or `2`, into an index below `n`.
pub fn parse_choice(text: &str, n: usize) -> Result<usize, String> {
    let t = text.trim().to_ascii_lowercase();
    let last = letter(n - 1);
    let idx = match t.as_str() {
        s if s.len() == 1 && s.as_bytes()[0].is_ascii_lowercase() => {
            (s.as_bytes()[0] - b'a') as usize
        }
        s => match s.parse::<usize>() {
            Ok(k) if k >= 1 => k - 1,
            _ => usize::MAX,
        },
    };
    if idx < n {
        Ok(idx)
    } else {
        Err(format!(
            "'{}' is not one of a–{last} (or 1–{n})",
            text.trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_as_letters_or_numbers() {
        assert_eq!(parse_choice("b", 3), Ok(1));
        assert_eq!(parse_choice(" C ", 3), Ok(2));
        assert_eq!(parse_choice("1", 3), Ok(0));
        assert!(parse_choice("d", 3).unwrap_err().contains("a–c (or 1–3)"));
        assert!(parse_choice("0", 3).is_err());
        assert!(parse_choice("ab", 3).is_err());
        assert_eq!(letter(0), 'a');
        assert_eq!(letter(5), 'f');
    }
}
