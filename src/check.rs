//! `gradtutor check DIR`: every rule of every file (loading checks those), then what only a
//! run can tell: every numeric quiz item is measured and its figure must be one that the
//! command it tells the student to run prints (compared as values: the figures of the runs
//! the renderer and the experiment's tables say they print), and every claim's figure must
//! fall in its stated range.

use crate::bank::{Bank, Question, merge, read_folder};
use crate::format::count;
use crate::render::text;
use crate::report::{Figure, Report};
use crate::settings::Settings;
use crate::train::TrainReport;
use anyhow::Result;
use rayon::prelude::*;
use std::path::Path;

/// What `check` found: how much it read, how `--questions` would use the folder, and every
/// problem.
pub struct Findings {
    pub questions: usize,
    pub quiz_items: usize,
    pub claims: usize,
    /// The folder's settings say `replace = true`.
    pub replaces: bool,
    /// Extending: the built-in ids its questions replace.
    pub overrides: Vec<u32>,
    pub problems: Vec<String>,
}

/// Reads and checks every file in `dir`, runs every numeric quiz item and every claim. A
/// folder that extends the built-in bank is also checked against it (a slug already taken
/// by a built-in question of another id is a problem), so that it passes exactly when
/// `--questions DIR` would load. A question with a run estimated over `budget` seconds is
/// a problem, with the estimate, and none of its runs is made.
pub fn check(dir: &Path, max_bytes: u64, budget: f64) -> Result<Findings> {
    let folder = read_folder(dir)?;
    let (questions, mut problems) = Bank::parse(folder.files, max_bytes);
    problems.splice(0..0, folder.problems);
    let overrides = match folder.replace {
        true => Vec::new(),
        false => {
            let builtin = Bank::embedded(max_bytes)?.questions;
            let (_, overrides, clashes) = merge(builtin, questions.clone());
            problems.extend(clashes);
            overrides
        }
    };
    // Runs over the time budget are refused before any run is made.
    let slow: Vec<bool> = questions
        .iter()
        .map(|q| {
            let over = q.over_budget(budget, max_bytes);
            problems.extend(over.iter().cloned());
            !over.is_empty()
        })
        .collect();
    // Every distinct run the bank needs (two questions may share one), measured on every
    // core; then each question is checked in bank order against its runs.
    let needs: Vec<Vec<Settings>> = questions
        .iter()
        .zip(&slow)
        .map(|(q, &slow)| if slow { Vec::new() } else { settings_needed(q) })
        .collect();
    let mut wanted: Vec<(&str, &Settings, usize)> = Vec::new();
    for (i, q) in questions.iter().enumerate() {
        for s in &needs[i] {
            if !wanted
                .iter()
                .any(|(d, w, _)| *d == q.experiment.demo && *w == s)
            {
                wanted.push((&q.experiment.demo, s, i));
            }
        }
    }
    // And every training comparison a claim quotes, on the same cores.
    let trained: Vec<usize> = (0..questions.len())
        .filter(|&i| !slow[i] && questions[i].claims.iter().any(|c| c.is_training()))
        .collect();
    // Both lists on one pool; this thread starts on the trainings, the longest items.
    let (trainings, reports): (Vec<Result<TrainReport>>, Vec<Result<Report>>) = rayon::join(
        || {
            trained
                .par_iter()
                .with_max_len(1)
                .map(|&i| {
                    let train = questions[i].train.as_ref();
                    train
                        .expect("a training claim loads with [train]")
                        .run(max_bytes)
                })
                .collect()
        },
        || {
            wanted
                .par_iter()
                .with_max_len(1)
                .map(|&(_, settings, i)| questions[i].experiment.figures(settings, max_bytes))
                .collect()
        },
    );
    for (i, (q, needs)) in questions.iter().zip(&needs).enumerate() {
        if slow[i] {
            continue;
        }
        let runs = Runs {
            done: needs
                .iter()
                .map(|s| {
                    let k = wanted
                        .iter()
                        .position(|(d, w, _)| *d == q.experiment.demo && *w == s)
                        .expect("every run needed is wanted");
                    (s.clone(), &reports[k])
                })
                .collect(),
        };
        let training = trained.iter().position(|&t| t == i).map(|t| &trainings[t]);
        run_question(q, &runs, training, &mut problems);
    }
    Ok(Findings {
        questions: questions.len(),
        quiz_items: questions.iter().map(|q| q.quiz.len()).sum(),
        claims: questions.iter().map(|q| q.claims.len()).sum(),
        replaces: folder.replace,
        overrides,
        problems,
    })
}

/// Runs one question's numeric items and claims, each experiment configuration once.
fn run_question(
    q: &Question,
    runs: &Runs,
    training: Option<&Result<TrainReport>>,
    problems: &mut Vec<String>,
) {
    for item in q.quiz.iter().filter(|i| !i.is_choice()) {
        let place = format!("{}:{}", q.source, item.line);
        let measured = runs
            .get(&item.settings(&q.experiment))
            .and_then(|r| Ok((item.read(r)?, r)));
        match measured {
            Err(e) => problems.push(format!("{place}: numeric quiz item: {e:#}")),
            Ok((value, report)) => {
                let crate::bank::ItemKind::Numeric {
                    figure, tolerance, ..
                } = item.kind
                else {
                    continue;
                };
                if let Some(why) = tolerance_problem(value, tolerance) {
                    problems.push(format!("{place}: numeric quiz item: {why}"));
                }
                let run = item_run(item).unwrap_or_else(|| report.runs[0].label.as_str());
                // The runs were made for their figures only (`Experiment::figures`): the
                // student's command shows the same main runs with the same figures. A value
                // that is not finite is shown as a bound or a mark (κ ≥1e12), not a number
                // a student can type.
                if !value.is_finite() || !prints(report, run, figure) {
                    problems.push(format!(
                        "{place}: numeric quiz item: its figure {figure} ({}) does not appear \
                         in the output of `{}`, so a student who reads it cannot answer",
                        crate::format::figure(value),
                        item.command(&q.experiment)
                    ));
                }
            }
        }
    }
    for claim in &q.claims {
        let (line, col) = claim.at;
        let place = format!("{}:{line}:{col}", q.source);
        let value = match claim.is_training() {
            false => runs
                .get(&claim.settings(&q.experiment))
                .and_then(|r| claim.read(r)),
            true => match training {
                Some(Ok(t)) => claim.read_training(t),
                Some(Err(e)) => Err(anyhow::anyhow!("the [train] comparison failed: {e:#}")),
                None => Err(anyhow::anyhow!("the [train] comparison was not run")),
            },
        };
        match value {
            Err(e) => problems.push(format!("{place}: claim: {e:#}")),
            Ok(v) if refutes(claim, v) => problems.push(format!(
                "{place}: false claim: {} of {} is {}, outside {}–{}: \"{}\"",
                claim.figure,
                claim
                    .run
                    .as_deref()
                    .map_or("the first run".into(), |r| format!("run '{r}'")),
                crate::format::figure(v),
                crate::format::figure(claim.min),
                crate::format::figure(claim.max),
                claim.text.trim()
            )),
            Ok(_) => {}
        }
    }
}

/// Whether the measured `v` makes `claim` false: below its `min`, above its `max`, or not a
/// number; both bounds belong to the range.
fn refutes(claim: &crate::bank::format::Claim, v: f64) -> bool {
    !(claim.min..=claim.max).contains(&v)
}

/// The run a numeric item names, if it names one.
/// What is wrong with grading `measured` within ±`tolerance`, if anything: a tolerance of 0
/// on a figure that is not a whole number (only the exact f64 is right), one over ten times
/// the figure's size and over 10 (almost any answer is right: `1e308`), or one finer than the
/// figure as gradtutor prints it (three significant digits, [`crate::format::figure`]), so
/// that a student who types the printed value is marked wrong. A whole-number figure (a
/// parameter count, a layer) prints exactly and may take 0; a figure near 0 may take a
/// tolerance larger than itself.
fn tolerance_problem(measured: f64, tolerance: f64) -> Option<String> {
    use crate::format::{echo, figure};
    let shown = figure(measured);
    let printed = shown.parse::<f64>().unwrap_or(measured);
    let off = (printed - measured).abs();
    if tolerance == 0.0 && off > 0.0 {
        return Some(format!(
            "tolerance = 0 marks right only the exact value measured, never the printed {shown}; \
             give the margin a reader of the output needs"
        ));
    }
    if tolerance > 10.0 * measured.abs().max(1.0) {
        return Some(format!(
            "tolerance {} is over ten times the figure ({shown}), so almost any answer is marked \
             right; give a margin a wrong answer falls outside",
            echo(tolerance)
        ));
    }
    if off > tolerance {
        return Some(format!(
            "tolerance {} is finer than the figure as printed: a student who types {shown} is \
             off by {} and marked wrong",
            echo(tolerance),
            echo(off)
        ));
    }
    None
}

fn item_run(item: &crate::bank::QuizItem) -> Option<&str> {
    match &item.kind {
        crate::bank::ItemKind::Numeric { run, .. } => run.as_deref(),
        _ => None,
    }
}

/// Whether the output of `report` prints `figure` of the run `label`: the terminal view
/// shows that figure of the run (`text::prints`), or the experiment's tables or verdicts do
/// (`Experiment::prints`). Both are read from the report's data, not from its text.
fn prints(report: &Report, label: &str, figure: Figure) -> bool {
    let Ok(exp) = crate::experiments::find(&report.experiment) else {
        return false;
    };
    report
        .runs
        .iter()
        .filter(|r| r.label == label)
        .any(|r| text::prints(report, r).contains(&figure) || (exp.prints)(r).contains(&figure))
}

/// The distinct settings a question's numeric items and claims run its experiment with.
fn settings_needed(q: &Question) -> Vec<Settings> {
    let mut needed: Vec<Settings> = Vec::new();
    let items = q.quiz.iter().filter(|i| !i.is_choice());
    for s in items.map(|item| item.settings(&q.experiment)).chain(
        q.claims
            .iter()
            .filter(|c| !c.is_training())
            .map(|c| c.settings(&q.experiment)),
    ) {
        if !needed.contains(&s) {
            needed.push(s);
        }
    }
    needed
}

/// A question's experiment runs, made beforehand, by their settings.
struct Runs<'a> {
    done: Vec<(Settings, &'a Result<Report>)>,
}

impl Runs<'_> {
    fn get(&self, settings: &Settings) -> Result<&Report> {
        match self.done.iter().find(|(s, _)| s == settings) {
            Some((_, Ok(report))) => Ok(report),
            Some((_, Err(e))) => Err(anyhow::anyhow!("{e:#}")),
            None => Err(anyhow::anyhow!("no run was made with these settings")),
        }
    }
}

impl Findings {
    /// `12 questions, 35 quiz items, 20 claims`.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{}, {}",
            count(self.questions, "question", "questions"),
            count(self.quiz_items, "quiz item", "quiz items")
        );
        if self.claims > 0 {
            s.push_str(&format!(", {}", count(self.claims, "claim", "claims")));
        }
        s
    }

    /// How `--questions` would use the folder: instead of the built-in bank, or added to it
    /// (and which built-in questions it replaces).
    pub fn usage(&self, dir: &str) -> String {
        if self.replaces {
            return format!(
                "Its {} says replace = true: `--questions {dir}` uses these questions instead \
                 of the built-in bank.",
                crate::bank::SETTINGS_FILE
            );
        }
        let new = self.questions - self.overrides.len();
        let mut parts = Vec::new();
        if new > 0 {
            parts.push(count(new, "new question", "new questions"));
        }
        if !self.overrides.is_empty() {
            let ids: Vec<usize> = self.overrides.iter().map(|&i| i as usize).collect();
            parts.push(format!(
                "{} that replace{} built-in {}",
                count(ids.len(), "question", "questions"),
                if ids.len() == 1 { "s" } else { "" },
                crate::format::span_of(&ids)
            ));
        }
        let mut s = format!(
            "`--questions {dir}` extends the built-in bank: {}.",
            parts.join(" and ")
        );
        s.push_str(&format!(
            " `--questions-only {dir}` (or replace = true in its {}) uses them alone.",
            crate::bank::SETTINGS_FILE
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::refutes;
    use crate::bank::format::{Claim, Claimed};
    use crate::report::Figure;

    // Catches: a range test that looks at one bound only (a figure above `max` passing), or
    // that leaves a bound out (a figure exactly at `min` or `max` failing).
    #[test]
    fn a_claim_is_false_below_min_and_above_max_and_true_at_both_bounds() {
        let claim = Claim {
            figure: Claimed::Run(Figure::GradOrders),
            run: None,
            min: -13.0,
            max: -12.0,
            settings: None,
            text: "about 12.5 orders".into(),
            at: (1, 1),
        };
        for (v, false_claim) in [
            (-13.5, true),
            (-11.5, true),
            (-13.0, false),
            (-12.0, false),
            (-12.5, false),
            (f64::NAN, true),
            (f64::INFINITY, true),
            (f64::NEG_INFINITY, true),
        ] {
            assert_eq!(refutes(&claim, v), false_claim, "{v}");
        }
    }
}
