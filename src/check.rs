//! `gradtutor check DIR`: every rule of every file (loading checks those), then what only a
//! run can tell: every numeric quiz item is measured and its figure must be one that the
//! command it tells the student to run prints (compared as values: the figures of the runs
//! the renderer and the experiment's tables say they print), and every claim's figure must
//! fall in its stated range.

use crate::bank::format::Claimed;
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
/// a problem, with the estimate, and none of its runs is made. A file with a problem still
/// has what of it did read checked (its numeric items run, its slug compared), so one run
/// lists every problem. With a `cache`, each run's answers are kept under its settings and
/// read back instead of running it again.
pub(crate) fn check_with(
    dir: &Path,
    max_bytes: u64,
    budget: f64,
    cache: Option<&crate::cache::Cache>,
) -> Result<Findings> {
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
    // A question whose experiment is unknown (said where it is named) runs nothing.
    let slow: Vec<bool> = questions
        .iter()
        .map(|q| {
            if crate::experiments::find(&q.experiment.demo).is_err() {
                return true;
            }
            let over = q.over_budget(budget, max_bytes);
            problems.extend(over.iter().cloned());
            !over.is_empty()
        })
        .collect();
    // Every distinct run the bank needs (two questions may share one), with every figure
    // asked of it; then each question is checked in bank order against the answers.
    let mut wanted: Vec<Wanted> = Vec::new();
    for (q, _) in questions.iter().zip(&slow).filter(|(_, slow)| !**slow) {
        for (settings, ask) in asked(q) {
            let key = run_key(&q.experiment.demo, &settings, max_bytes);
            match wanted.iter_mut().find(|w| w.key == key) {
                Some(w) => w.add(ask),
                None => wanted.push(Wanted {
                    key,
                    demo: q.experiment.demo.clone(),
                    settings,
                    queries: vec![ask],
                }),
            }
        }
    }
    let trained: Vec<usize> = (0..questions.len())
        .filter(|&i| {
            let q = &questions[i];
            !slow[i] && q.train.is_some() && q.claims.iter().any(|c| c.is_training())
        })
        .collect();
    let train_wanted: Vec<TrainWanted> = trained
        .iter()
        .filter_map(|&i| {
            let q = &questions[i];
            let train = q.train.as_ref()?;
            let mut queries: Vec<(String, Option<String>)> = Vec::new();
            for c in q.claims.iter().filter(|c| c.is_training()) {
                let query = (c.figure.to_string(), c.run.clone());
                if !queries.contains(&query) {
                    queries.push(query);
                }
            }
            Some(TrainWanted {
                key: train_key(train, max_bytes),
                question: i,
                queries,
            })
        })
        .collect();
    // What the cache holds whole is not run again.
    let cached = |key: &str, queries: &[(String, Option<String>)]| -> Option<Facts> {
        let facts: Facts = cache?.get(key)?;
        facts.answers_all(queries).then_some(facts)
    };
    let run_facts: Vec<Option<Facts>> = wanted
        .iter()
        .map(|w| cached(&w.key, &w.queries()))
        .collect();
    let train_facts: Vec<Option<Facts>> = train_wanted
        .iter()
        .map(|w| cached(&w.key, &w.queries))
        .collect();
    // Both lists on one pool; this thread starts on the trainings, the longest items.
    let (trainings, reports): (Vec<Facts>, Vec<Facts>) = rayon::join(
        || {
            train_wanted
                .par_iter()
                .zip(&train_facts)
                .with_max_len(1)
                .map(|(w, known)| match known {
                    Some(f) => f.clone(),
                    None => {
                        let run = match questions[w.question].train.as_ref() {
                            Some(train) => train.run(max_bytes),
                            None => Err(anyhow::anyhow!("the [train] comparison was not run")),
                        };
                        let facts = Facts::of_training(run, &w.queries);
                        // A failed run is not kept: its cause (a limit, the machine) may pass.
                        if let Some(c) = cache.filter(|_| facts.run.is_ok()) {
                            c.put(&w.key, &facts);
                        }
                        facts
                    }
                })
                .collect()
        },
        || {
            wanted
                .par_iter()
                .zip(&run_facts)
                .with_max_len(1)
                .map(|(w, known)| match known {
                    Some(f) => f.clone(),
                    None => {
                        let report = crate::experiments::find(&w.demo)
                            .and_then(|e| e.figures(&w.settings, max_bytes));
                        let facts = Facts::of_run(report, &w.queries);
                        // A failed run is not kept: its cause (a limit, the machine) may pass.
                        if let Some(c) = cache.filter(|_| facts.run.is_ok()) {
                            c.put(&w.key, &facts);
                        }
                        facts
                    }
                })
                .collect()
        },
    );
    if let Some(c) = cache {
        c.prune();
    }
    for (i, q) in questions.iter().enumerate() {
        if slow[i] {
            continue;
        }
        let runs = Runs {
            demo: &q.experiment.demo,
            max_bytes,
            wanted: &wanted,
            facts: &reports,
        };
        let training = train_wanted
            .iter()
            .position(|w| w.question == i)
            .map(|t| &trainings[t]);
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

/// A figure asked of a run: its name, the run's label (the first run if none), and whether
/// the student's command must print it (a numeric item's figure).
#[derive(Clone, Debug, PartialEq)]
struct Ask {
    figure: Figure,
    run: Option<String>,
    printed: bool,
}

/// One run the bank needs, under its cache key, with every figure asked of it.
struct Wanted {
    key: String,
    demo: String,
    settings: Settings,
    queries: Vec<Ask>,
}

impl Wanted {
    fn add(&mut self, ask: Ask) {
        match self
            .queries
            .iter_mut()
            .find(|a| a.figure == ask.figure && a.run == ask.run)
        {
            Some(a) => a.printed |= ask.printed,
            None => self.queries.push(ask),
        }
    }

    fn queries(&self) -> Vec<(String, Option<String>)> {
        self.queries
            .iter()
            .map(|a| (a.figure.to_string(), a.run.clone()))
            .collect()
    }
}

/// A question's `[train]` comparison, under its cache key, with the figures its claims ask.
struct TrainWanted {
    key: String,
    question: usize,
    queries: Vec<(String, Option<String>)>,
}

/// The cache key of a run: the experiment, its settings (all of them, as JSON: a setting
/// added to `Settings` is part of the key without a change here) and the memory limit.
fn run_key(demo: &str, settings: &Settings, max_bytes: u64) -> String {
    let settings = serde_json::to_string(settings).unwrap_or_else(|_| format!("{settings:?}"));
    format!("run\n{demo}\n{settings}\n{max_bytes}")
}

/// The cache key of a `[train]` comparison.
fn train_key(train: &crate::bank::format::TrainPreset, max_bytes: u64) -> String {
    let s = &train.settings;
    let settings = serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"));
    format!("train\n{settings}\n{max_bytes}")
}

/// What a run (or a training comparison) answered: the run's error, or each figure asked
/// of it with its value (as f64 bits: a value may be infinite or NaN) or why it has none,
/// and whether the command prints it. Plain data for the cache: every experiment's runs
/// are read through the same figures, so a new experiment needs nothing here.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Facts {
    run: Result<Vec<Answer>, String>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Answer {
    figure: String,
    run: Option<String>,
    value: Result<u64, String>,
    printed: bool,
}

impl Facts {
    /// Whether every one of `queries` is answered (a failed run answers all).
    fn answers_all(&self, queries: &[(String, Option<String>)]) -> bool {
        match &self.run {
            Err(_) => true,
            Ok(answers) => queries
                .iter()
                .all(|(f, r)| answers.iter().any(|a| a.figure == *f && a.run == *r)),
        }
    }

    fn of_run(report: Result<Report>, queries: &[Ask]) -> Facts {
        let run = report.map_err(|e| format!("{e:#}")).map(|report| {
            queries
                .iter()
                .map(|q| {
                    let value = crate::bank::read_figure(&report, q.figure, q.run.as_deref());
                    let label = q
                        .run
                        .as_deref()
                        .or(report.runs.first().map(|r| r.label.as_str()))
                        .unwrap_or("");
                    Answer {
                        figure: q.figure.to_string(),
                        run: q.run.clone(),
                        printed: q.printed && prints(&report, label, q.figure),
                        value: value.map(f64::to_bits).map_err(|e| format!("{e:#}")),
                    }
                })
                .collect()
        });
        Facts { run }
    }

    fn of_training(report: Result<TrainReport>, queries: &[(String, Option<String>)]) -> Facts {
        use clap::ValueEnum;
        let run = report.map_err(|e| format!("{e:#}")).map(|t| {
            queries
                .iter()
                .map(|(figure, run)| {
                    let value = crate::train::TrainFigure::from_str(figure, false)
                        .map_err(|e| anyhow::anyhow!("{e}"))
                        .and_then(|f| crate::train::figure::read(&t, f, run.as_deref()));
                    Answer {
                        figure: figure.clone(),
                        run: run.clone(),
                        printed: false,
                        value: value.map(f64::to_bits).map_err(|e| format!("{e:#}")),
                    }
                })
                .collect()
        });
        Facts { run }
    }

    /// `figure` of `run`: its value and whether the command prints it.
    fn get(&self, figure: &str, run: Option<&str>) -> Result<(f64, bool)> {
        let answers = self.run.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
        let a = answers
            .iter()
            .find(|a| a.figure == figure && a.run.as_deref() == run)
            .ok_or_else(|| anyhow::anyhow!("no run was made with these settings"))?;
        match &a.value {
            Ok(bits) => Ok((f64::from_bits(*bits), a.printed)),
            Err(e) => Err(anyhow::anyhow!("{e}")),
        }
    }
}

/// The figures a question asks of its experiment's runs, by settings: its numeric items'
/// (printed) and its claims'.
fn asked(q: &Question) -> Vec<(Settings, Ask)> {
    let items = q.quiz.iter().filter_map(|item| match &item.kind {
        crate::bank::ItemKind::Numeric { figure, run, .. } => Some((
            item.settings(&q.experiment),
            Ask {
                figure: *figure,
                run: run.clone(),
                printed: true,
            },
        )),
        crate::bank::ItemKind::Choice { .. } => None,
    });
    let claims = q.claims.iter().filter_map(|c| match c.figure {
        Claimed::Run(figure) => Some((
            c.settings(&q.experiment),
            Ask {
                figure,
                run: c.run.clone(),
                printed: false,
            },
        )),
        Claimed::Training(_) => None,
    });
    items.chain(claims).collect()
}

/// [`check_with`] without a cache: every run is made (the benchmark's measure).
pub fn check(dir: &Path, max_bytes: u64, budget: f64) -> Result<Findings> {
    check_with(dir, max_bytes, budget, None)
}

/// Runs one question's numeric items and claims, each experiment configuration once.
fn run_question(q: &Question, runs: &Runs, training: Option<&Facts>, problems: &mut Vec<String>) {
    for item in &q.quiz {
        let crate::bank::ItemKind::Numeric {
            figure,
            tolerance,
            run,
            ..
        } = &item.kind
        else {
            continue;
        };
        let place = format!("{}:{}:{}", q.source, item.line, item.column);
        let measured = runs
            .get(&item.settings(&q.experiment))
            .and_then(|f| f.get(&figure.to_string(), run.as_deref()));
        match measured {
            Err(e) => problems.push(format!("{place}: numeric quiz item: {e:#}")),
            Ok((value, printed)) => {
                if let Some(why) = tolerance_problem(value, *tolerance) {
                    problems.push(format!("{place}: numeric quiz item: {why}"));
                }
                // The runs were made for their figures only (`Experiment::figures`): the
                // student's command shows the same main runs with the same figures. A value
                // that is not finite is shown as a bound or a mark (κ ≥1e12), not a number
                // a student can type.
                if !value.is_finite() || !printed {
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
        let name = claim.figure.to_string();
        let value = match claim.is_training() {
            false => runs
                .get(&claim.settings(&q.experiment))
                .and_then(|f| f.get(&name, claim.run.as_deref()))
                .map(|v| v.0),
            true => match training {
                Some(Facts { run: Err(e) }) => {
                    Err(anyhow::anyhow!("the [train] comparison failed: {e}"))
                }
                Some(t) => t.get(&name, claim.run.as_deref()).map(|v| v.0),
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

/// What is wrong with grading `measured` within ±`tolerance`, if anything: a tolerance of 0
/// on a figure that is not a whole number (only the exact f64 is right), one over ten times
/// the figure's size and over 10 (almost any answer is right: `1e308`), or one finer than
/// the figure's printed precision (gradtutor prints three significant digits,
/// [`crate::format::figure`]): under half a step of the last digit printed, some value that
/// prints the same is marked wrong, and where the measured value is one of them a student who
/// types what the run printed is. A whole-number figure (a parameter count, a layer) prints
/// exactly and may take 0; a figure near 0 may take a tolerance larger than itself.
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
    let step = printed_step(&shown);
    if off > 0.0 && tolerance < step.half_value() {
        let wrong = match off > tolerance {
            true => format!(
                "a student who types {shown} is off by {} and marked wrong",
                figure(off)
            ),
            false => format!(
                "a student who reads it knows the figure only to ±{}, and a tolerance below \
                 that grades the rounding rather than the reading",
                step.half
            ),
        };
        return Some(format!(
            "tolerance {} is finer than the figure's printed precision: the output prints it \
             as {shown}, to {}, so {wrong}; give a tolerance of at least {}",
            echo(tolerance),
            step.step,
            step.half
        ));
    }
    None
}

/// The last printed digit's step of a figure as printed (`12.3` → 0.1, `5.30e-13` →
/// 1e-15), and half of it, both as text to quote.
struct Step {
    step: String,
    half: String,
}

impl Step {
    fn half_value(&self) -> f64 {
        self.half.parse().unwrap_or(0.0)
    }
}

fn printed_step(shown: &str) -> Step {
    let (mantissa, exp) = match shown.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (shown, 0),
    };
    let decimals = mantissa.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    let power = exp - decimals;
    match power {
        p if p < 0 && exp == 0 => {
            let d = (-p) as usize;
            Step {
                step: format!("{:.d$}", libm::pow(10.0, f64::from(p))),
                half: format!("{:.*}", d + 1, 0.5 * libm::pow(10.0, f64::from(p))),
            }
        }
        0 => Step {
            step: "1".into(),
            half: "0.5".into(),
        },
        p => Step {
            step: format!("1e{p}"),
            half: format!("5e{}", p - 1),
        },
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

/// A question's runs, made (or read from the cache) beforehand, by their settings.
struct Runs<'a> {
    demo: &'a str,
    max_bytes: u64,
    wanted: &'a [Wanted],
    facts: &'a [Facts],
}

impl Runs<'_> {
    fn get(&self, settings: &Settings) -> Result<&Facts> {
        let key = run_key(self.demo, settings, self.max_bytes);
        self.wanted
            .iter()
            .position(|w| w.key == key)
            .map(|i| &self.facts[i])
            .ok_or_else(|| anyhow::anyhow!("no run was made with these settings"))
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
