//! The question-file format: what a `questions/*.toml` file holds, as the types it is read
//! into. The README's "Question files" section documents the same schema for instructors;
//! `load` turns a file's text into these types, checking every rule once.

use crate::report::Figure;
use crate::settings::Settings;
use crate::train::TrainFigure;
use crate::train::settings::TrainSettings;

/// The question-file format this build reads (`format_version = 1`).
pub(crate) const FORMAT_VERSION: u32 = 1;

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
    /// Figures the text states about runs (`[[claim]]`), verified by `gradtutor check`.
    pub claims: Vec<Claim>,
    /// Where the question came from (file path, or `embedded:NAME`).
    pub source: String,
    /// `source:line:column` of the `id` and of the `slug` value, for messages about clashes.
    pub id_at: String,
    pub slug_at: String,
    /// The question as its file writes it, math as `$…$` LaTeX, when it has any math: the
    /// HTML handout typesets it. Every other field holds the math as Unicode
    /// (`crate::math::plain`), so the terminal, Markdown and JSON show it so.
    pub written: Option<Box<Question>>,
}

impl Question {
    /// The question as its file writes it, math as `$…$` (itself when it has no math).
    pub fn written(&self) -> &Question {
        self.written.as_deref().unwrap_or(self)
    }

    /// The question with its texts' math as Unicode, keeping the written one in `written`.
    pub(crate) fn typeset(self) -> Question {
        let mut plain = self.clone();
        plain.texts(|t| *t = crate::math::plain(t));
        if plain == self {
            return self;
        }
        plain.written = Some(Box::new(self));
        plain
    }

    /// Applies `f` to every text a student reads: the title, question, answer, key points,
    /// code captions, takeaways, quiz prompts, choices and explanations, and claims' text.
    fn texts(&mut self, mut f: impl FnMut(&mut String)) {
        f(&mut self.title);
        f(&mut self.question);
        f(&mut self.answer);
        self.key_points.iter_mut().for_each(&mut f);
        self.code.iter_mut().for_each(|c| f(&mut c.caption));
        f(&mut self.experiment.takeaway);
        if let Some(t) = &mut self.train {
            f(&mut t.takeaway);
        }
        for item in &mut self.quiz {
            f(&mut item.prompt);
            match &mut item.kind {
                ItemKind::Choice {
                    choices,
                    explanations,
                    ..
                } => {
                    choices.iter_mut().for_each(&mut f);
                    explanations.iter_mut().for_each(&mut f);
                }
                ItemKind::Numeric { explanation, .. } => f(explanation),
            }
        }
        self.claims.iter_mut().for_each(|c| f(&mut c.text));
    }
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
    /// The line and column of the file where the item's prompt stands, for messages.
    pub line: usize,
    pub column: usize,
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
        /// Settings laid over the question's experiment preset for this item (boxed: the
        /// settings are far larger than the choice variant).
        settings: Option<Box<Settings>>,
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

/// A figure the question's text states about a run, with the range it must fall in:
/// `gradtutor check` runs the experiment and fails if the figure leaves the range.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    pub figure: Claimed,
    /// The run's label; the first run if none.
    pub run: Option<String>,
    pub min: f64,
    pub max: f64,
    /// Settings laid over the question's experiment preset for this claim.
    pub settings: Option<Settings>,
    /// The sentence the claim backs, as it stands in the text.
    pub text: String,
    /// Where the claim stands: line and column.
    pub at: (usize, usize),
}

/// What a claim bounds: a figure of the experiment's run (`grad-orders-drop`), or of a
/// configuration of the `[train]` comparison (`update-ratio-first`). The two sets of names
/// do not overlap, so the name alone says which.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Claimed {
    Run(Figure),
    Training(TrainFigure),
}

impl std::str::FromStr for Claimed {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        use clap::ValueEnum;
        if let Ok(f) = Figure::from_str(s, false) {
            return Ok(Claimed::Run(f));
        }
        if let Ok(f) = TrainFigure::from_str(s, false) {
            return Ok(Claimed::Training(f));
        }
        let names = |v: &[String]| v.join(", ");
        let run: Vec<String> = Figure::value_variants()
            .iter()
            .map(|f| f.to_string())
            .collect();
        let train: Vec<String> = TrainFigure::value_variants()
            .iter()
            .map(|f| f.to_string())
            .collect();
        Err(format!(
            "unknown figure '{}'; figures of the experiment's run: {}; of the [train] \
             comparison: {}",
            crate::format::escape(s, 40),
            names(&run),
            names(&train)
        ))
    }
}

impl<'de> serde::Deserialize<'de> for Claimed {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for Claimed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Claimed::Run(x) => x.fmt(f),
            Claimed::Training(x) => x.fmt(f),
        }
    }
}

impl Claim {
    /// Whether the claim bounds a figure of the `[train]` comparison.
    pub fn is_training(&self) -> bool {
        matches!(self.figure, Claimed::Training(_))
    }

    /// The settings the claim is measured with: the preset's, then the claim's own.
    pub fn settings(&self, preset: &Preset) -> Settings {
        match &self.settings {
            Some(s) => preset.settings.overlay(s),
            None => preset.settings.clone(),
        }
    }
}

/// `{figure}` or `{figure@run}` in an answer, a key point or a takeaway: the figure of the
/// run printed beside the text, filled in when the text is shown. In a `[train]` takeaway the
/// figure is a [`TrainFigure`] and the run a configuration's label.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Placeholder<F = Figure> {
    pub figure: F,
    pub run: Option<String>,
}

/// A placeholder found in a text: its byte range, and the placeholder or `Err(inner)` (what
/// stands between the braces) where it names no figure of its kind.
pub(crate) type Found<F> = (std::ops::Range<usize>, Result<Placeholder<F>, String>);

/// Every `{…}` of `text` outside `$…$` math, with its byte range: a placeholder `{name}` or
/// `{name@run}` where `name` is a figure's name exactly and `run` is not blank, else
/// `Err(inner)`. Every brace pair is one: a text that is filled has no other use for braces
/// (a mistyped `{grad_last}` would reach students raw), while math may hold `{…}` (`$x_{l+1}$`).
pub(crate) fn placeholders(text: &str) -> Vec<Found<Figure>> {
    placeholders_of(text)
}

/// As [`placeholders`], for figures of kind `F` (a [`TrainFigure`] in a `[train]` takeaway).
pub(crate) fn placeholders_of<F: clap::ValueEnum>(text: &str) -> Vec<Found<F>> {
    let mut out = Vec::new();
    // Braces inside `$…$` are math's grouping (`h_{in}`), never a placeholder.
    let math: Vec<std::ops::Range<usize>> = crate::math::pieces(text)
        .map(|pieces| {
            pieces
                .into_iter()
                .filter_map(|p| match p {
                    crate::math::Piece::Math { src, at } => Some(at..at + src.len()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let mut from = 0;
    while let Some(open) = text[from..].find('{').map(|i| from + i) {
        if let Some(m) = math.iter().find(|m| m.contains(&open)) {
            from = m.end;
            continue;
        }
        let Some(close) = text[open..].find('}').map(|i| open + i) else {
            break;
        };
        let inner = &text[open + 1..close];
        let (name, run) = match inner.split_once('@') {
            Some((n, r)) => (n, Some(r)),
            None => (inner, None),
        };
        let run_ok = run.is_none_or(|r| !r.trim().is_empty() && !r.contains('{'));
        let parsed = F::from_str(name, false)
            .ok()
            .filter(|_| run_ok)
            .map(|figure| Placeholder {
                figure,
                run: run.map(str::to_string),
            })
            .ok_or_else(|| inner.to_string());
        out.push((open..close + 1, parsed));
        from = close + 1;
    }
    out
}

/// The letter of choice `i`: a, b, c, …
pub(crate) fn letter(i: usize) -> char {
    (b'a' + i as u8) as char
}

/// Parses a choice answer, `b` or `2`, into an index below `n`.
pub(crate) fn parse_choice(text: &str, n: usize) -> Result<usize, String> {
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
            crate::format::escape(text.trim(), crate::format::ECHO)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_figure_names_in_braces() {
        let found = placeholders("lost {grad-orders-drop} orders, {loss@relu}; {x: 1} {nope}");
        assert_eq!(found.len(), 4);
        assert_eq!(found[0].0, 5..23);
        assert_eq!(
            found[0].1,
            Ok(Placeholder {
                figure: Figure::GradOrdersDrop,
                run: None
            })
        );
        assert_eq!(
            found[1].1,
            Ok(Placeholder {
                figure: Figure::Loss,
                run: Some("relu".into())
            })
        );
        assert_eq!(found[2].1, Err("x: 1".into()));
        assert_eq!(found[3].1, Err("nope".into()));
    }

    // Catches: a brace pair let through because it does not look like a figure's name (on
    // main `{grad_last}`, `{Grad-Last}`, `{ grad-last }` and `{loss@}` were not found, so
    // `check` passed them and students saw them raw), and braces inside math taken for one.
    #[test]
    fn every_brace_pair_outside_math_is_a_placeholder_or_a_mistake() {
        for bad in [
            "{grad_last}",
            "{Grad-Last}",
            "{ grad-last }",
            "{loss@}",
            "{loss@ }",
            "{}",
        ] {
            let found = placeholders(&format!("the gradient {bad} here"));
            assert_eq!(found.len(), 1, "{bad}");
            assert!(found[0].1.is_err(), "{bad}");
        }
        let math = placeholders(r"$W_{l+1}$ and {loss} and $\frac{1}{2}$, a \$5 {grad-last}");
        assert_eq!(math.len(), 2, "{math:?}");
        assert!(math.iter().all(|f| f.1.is_ok()));
    }

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
