//! Quiz items of the question files: multiple choice with an explanation for every option,
//! and numeric items whose answer is a figure measured by running the paired experiment.

use crate::bank::Question;
use crate::experiments;
use crate::report::{Report, Run, TheoryLine};
use crate::settings::Settings;
use anyhow::{Result, anyhow, bail};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One `[[quiz]]` entry as written. Either `choices` (with `answer` and one explanation per
/// choice) or `figure` (with `tolerance` and `explanation`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QuizItem {
    pub prompt: String,
    #[serde(default)]
    pub choices: Vec<String>,
    /// The correct choice's letter.
    pub answer: Option<String>,
    /// Why each choice is right or wrong, in the order of `choices`.
    #[serde(default)]
    pub explanations: Vec<String>,
    /// The measured figure a numeric item asks for.
    pub figure: Option<Figure>,
    /// Which run of the experiment the figure comes from (its label); the first by default.
    pub run: Option<String>,
    /// How far an answer may be from the measured figure and still count.
    pub tolerance: Option<f64>,
    pub explanation: Option<String>,
    /// Settings laid over the question's experiment preset for this item.
    pub settings: Option<Settings>,
}

/// What an item is, once checked.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind<'a> {
    Choice {
        choices: &'a [String],
        correct: usize,
        explanations: &'a [String],
    },
    Numeric {
        figure: Figure,
        run: Option<&'a str>,
        tolerance: f64,
        explanation: &'a str,
    },
}

/// Figures a numeric item can ask for, each read from one run of the experiment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Figure {
    /// log₁₀(‖∂L/∂W_last‖ / ‖∂L/∂W_1‖): orders of magnitude the gradient loses from the output
    /// layer down to layer 1 (negative when it grows).
    GradOrdersDrop,
    /// The same for the backprop signal ‖∂L/∂h‖.
    SignalOrdersDrop,
    /// The measured per-layer factor of ‖∂L/∂h‖ (geometric mean).
    MeasuredFactor,
    /// Mean-field theory's predicted per-layer factor √χ.
    PredictedFactor,
    /// The layer where a value first overflowed or became NaN.
    FirstNonfiniteLayer,
    /// Trainable parameters of the network.
    Parameters,
    /// Saturated units, percent, averaged over the hidden layers.
    SaturatedPercent,
    /// Units with φ′ = 0 for every example, percent, averaged over the hidden layers.
    DeadPercent,
    /// The loss of the probe batch.
    Loss,
}

impl Figure {
    /// The figure's value in `run`, if the run has one.
    pub fn of(self, run: &Run) -> Option<f64> {
        let hidden = &run.layers[..run.layers.len().saturating_sub(1)];
        let mean_percent = |f: &dyn Fn(&crate::report::LayerRow) -> Option<f64>| {
            let v: Vec<f64> = hidden.iter().filter_map(f).collect();
            (!v.is_empty()).then(|| 100.0 * v.iter().sum::<f64>() / v.len() as f64)
        };
        match self {
            Figure::GradOrdersDrop => run.grad_orders().map(|o| -o),
            Figure::SignalOrdersDrop => run.signal_orders().map(|o| -o),
            Figure::MeasuredFactor => match run.theory {
                TheoryLine::Compared {
                    measured_factor, ..
                } => measured_factor,
                TheoryLine::NotApplicable { .. } => None,
            },
            Figure::PredictedFactor => match run.theory {
                TheoryLine::Compared {
                    predicted_factor, ..
                } => Some(predicted_factor),
                TheoryLine::NotApplicable { .. } => None,
            },
            Figure::FirstNonfiniteLayer => run.first_nonfinite_layer.map(|l| l as f64),
            Figure::Parameters => Some(run.config.spec().parameters() as f64),
            Figure::SaturatedPercent => mean_percent(&|l| l.figures.saturated),
            Figure::DeadPercent => mean_percent(&|l| l.figures.dead),
            Figure::Loss => run.loss.is_finite().then_some(run.loss),
        }
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.to_possible_value().expect("no skipped variants");
        f.write_str(v.get_name())
    }
}

/// The letter of choice `i`: a, b, c, …
pub fn letter(i: usize) -> char {
    (b'a' + i as u8) as char
}

impl QuizItem {
    /// Checks the item's shape: a choice item or a numeric item, complete.
    pub fn kind(&self) -> Result<Kind<'_>, String> {
        if self.prompt.trim().is_empty() {
            return Err("a quiz item has an empty prompt".into());
        }
        match (&self.figure, self.choices.is_empty()) {
            (None, true) => Err(format!(
                "quiz item \"{}\" needs either choices (multiple choice) or a figure (numeric)",
                short(&self.prompt)
            )),
            (Some(_), false) => Err(format!(
                "quiz item \"{}\" has both choices and a figure; it must be one kind",
                short(&self.prompt)
            )),
            (None, false) => {
                let n = self.choices.len();
                if !(2..=6).contains(&n) {
                    return Err(format!(
                        "quiz item \"{}\" has {n} choices; give 2 to 6",
                        short(&self.prompt)
                    ));
                }
                if self.explanations.len() != n {
                    return Err(format!(
                        "quiz item \"{}\" has {n} choices but {} explanations; explain every \
                         choice",
                        short(&self.prompt),
                        self.explanations.len()
                    ));
                }
                let answer = self.answer.as_deref().unwrap_or("").trim();
                let correct = parse_choice(answer, n).map_err(|e| {
                    format!("quiz item \"{}\": its answer {e}", short(&self.prompt))
                })?;
                if self.tolerance.is_some() || self.explanation.is_some() || self.run.is_some() {
                    return Err(format!(
                        "quiz item \"{}\" is multiple choice: tolerance, explanation and run \
                         belong to numeric items (use explanations = [...])",
                        short(&self.prompt)
                    ));
                }
                Ok(Kind::Choice {
                    choices: &self.choices,
                    correct,
                    explanations: &self.explanations,
                })
            }
            (Some(figure), true) => {
                let tolerance = self.tolerance.ok_or_else(|| {
                    format!(
                        "numeric quiz item \"{}\" needs a tolerance",
                        short(&self.prompt)
                    )
                })?;
                if !(tolerance >= 0.0 && tolerance.is_finite()) {
                    return Err(format!(
                        "quiz item \"{}\": tolerance must be a number ≥ 0",
                        short(&self.prompt)
                    ));
                }
                let explanation = self.explanation.as_deref().unwrap_or("").trim();
                if explanation.is_empty() {
                    return Err(format!(
                        "numeric quiz item \"{}\" needs an explanation",
                        short(&self.prompt)
                    ));
                }
                if self.answer.is_some() || !self.explanations.is_empty() {
                    return Err(format!(
                        "quiz item \"{}\" is numeric: its answer is measured, so it takes no \
                         answer or explanations",
                        short(&self.prompt)
                    ));
                }
                Ok(Kind::Numeric {
                    figure: *figure,
                    run: self.run.as_deref(),
                    tolerance,
                    explanation,
                })
            }
        }
    }

    /// The experiment settings a numeric item runs with: the question's preset, then the
    /// item's own settings.
    pub fn settings(&self, q: &Question) -> Settings {
        match &self.settings {
            Some(s) => q.experiment.settings.overlay(s),
            None => q.experiment.settings.clone(),
        }
    }

    /// Runs the question's experiment and reads the item's figure: the expected answer.
    /// `preset` is a report of the question's own preset, if one was already run; it serves
    /// an item that has no settings of its own, so the experiment does not run twice.
    pub fn measure(&self, q: &Question, preset: Option<&Report>, max_bytes: u64) -> Result<f64> {
        match preset.filter(|_| self.settings.is_none()) {
            Some(report) => self.read(report),
            None => {
                let exp = experiments::find(&q.experiment.demo)?;
                self.read(&exp.run(&self.settings(q), max_bytes)?)
            }
        }
    }

    /// The item's figure in `report`, a run of its experiment with the item's settings.
    pub fn read(&self, report: &Report) -> Result<f64> {
        let Kind::Numeric { figure, run, .. } = self.kind().map_err(anyhow::Error::msg)? else {
            bail!("a multiple-choice item has no measured figure");
        };
        let name = &report.experiment;
        let chosen = match run {
            Some(label) => report
                .runs
                .iter()
                .find(|r| r.label == label)
                .ok_or_else(|| {
                    anyhow!(
                        "the {name} experiment has no run '{label}'; its runs are {}",
                        report
                            .runs
                            .iter()
                            .map(|r| r.label.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?,
            None => report
                .runs
                .first()
                .ok_or_else(|| anyhow!("the run produced nothing"))?,
        };
        figure.of(chosen).ok_or_else(|| {
            anyhow!(
                "the figure {figure} is not defined for run '{}' of the {name} experiment",
                chosen.label
            )
        })
    }

    /// The command that produces the item's figure, for the student to run.
    pub fn command(&self, q: &Question) -> String {
        crate::bank::Preset {
            settings: self.settings(q),
            ..q.experiment.clone()
        }
        .command()
    }
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

/// Parses a numeric answer; accepts `−` for the minus sign and `×10^`-free forms like 1e-3.
pub fn parse_number(text: &str) -> Result<f64, String> {
    let t = text.trim().replace('−', "-").replace(',', "");
    t.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("'{}' is not a number", text.trim()))
}

/// The first words of a prompt, for messages.
fn short(prompt: &str) -> String {
    let words: Vec<&str> = prompt.split_whitespace().take(8).collect();
    let mut s = words.join(" ");
    if prompt.split_whitespace().count() > 8 {
        s.push('…');
    }
    s
}

/// One item of a quiz, with where it comes from.
#[derive(Clone, Debug)]
pub struct Asked<'a> {
    pub question: &'a Question,
    /// The item's index among the question's items (as progress records it).
    pub index: usize,
    pub item: &'a QuizItem,
}

/// How an answer went.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub correct: bool,
    /// What to tell the student: right or wrong, and why.
    pub feedback: String,
}

/// Grades `answer` for `item`; `measured` is the item's figure for numeric items.
pub fn grade(item: &QuizItem, answer: &str, measured: Option<f64>) -> Result<Outcome, String> {
    match item.kind()? {
        Kind::Choice {
            choices,
            correct,
            explanations,
        } => {
            let picked = parse_choice(answer, choices.len())?;
            let feedback = if picked == correct {
                format!("Right. {}", explanations[picked])
            } else {
                format!(
                    "Not quite. ({}) {}\nThe answer is ({}). {}",
                    letter(picked),
                    explanations[picked],
                    letter(correct),
                    explanations[correct]
                )
            };
            Ok(Outcome {
                correct: picked == correct,
                feedback,
            })
        }
        Kind::Numeric {
            tolerance,
            explanation,
            ..
        } => {
            let value = parse_number(answer)?;
            let m = measured.ok_or("the figure was not measured")?;
            let ok = (value - m).abs() <= tolerance;
            let head = if ok { "Right" } else { "Not quite" };
            Ok(Outcome {
                correct: ok,
                feedback: format!(
                    "{head}: the run measured {} (answers within ±{tolerance} count). \
                     {explanation}",
                    format_figure(m)
                ),
            })
        }
    }
}

/// A measured figure as shown to students: three significant digits, whole numbers plain.
pub fn format_figure(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() >= 0.01 && v.abs() < 1e5 {
        let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
        format!("{v:.digits$}")
    } else {
        format!("{v:.2e}")
    }
}
