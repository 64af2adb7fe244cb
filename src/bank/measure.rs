//! Running a question's experiment, and a numeric quiz item's expected answer: its figure, read from a run of the question's
//! experiment with the item's settings.

use super::format::{
    Claim, Claimed, ItemKind, Preset, Question, QuizItem, TrainPreset, placeholders,
    placeholders_of,
};
use crate::experiments;
use crate::format::escape;
use crate::report::Figure;
use crate::report::Report;
use crate::settings::Settings;
use crate::train::{TrainFigure, TrainReport};
use anyhow::{Result, anyhow, bail};

impl Question {
    /// Whether the answer, a key point or the takeaway quotes a figure of the run.
    pub fn quotes_figures(&self) -> bool {
        std::iter::once(&self.answer)
            .chain(&self.key_points)
            .chain([&self.experiment.takeaway])
            .any(|t| !placeholders(t).is_empty())
    }
}

impl Question {
    /// The runs of the question estimated from their sizes to take more than `budget`
    /// seconds each (its preset, each numeric item's and claim's settings, its `[train]`
    /// comparison), as messages that say where each stands and its estimate. Runs that
    /// cannot be planned are left to the messages that refuse them.
    pub fn over_budget(&self, budget: f64, max_bytes: u64) -> Vec<String> {
        let Ok(exp) = experiments::find(&self.experiment.demo) else {
            return Vec::new();
        };
        // The preset runs whole (`ask`, `export`); items and claims read figures only.
        let over = |settings: &Settings, full: bool| {
            let plan = exp.plan(settings, max_bytes).ok()?;
            match full {
                true => plan.check_time(budget).err(),
                false => plan.check_figures_time(budget).err(),
            }
        };
        let mut found = Vec::new();
        if let Some(e) = over(&self.experiment.settings, true) {
            found.push(format!("{}: [experiment]: {e}", self.source));
        }
        for item in self
            .quiz
            .iter()
            .filter(|i| !i.is_choice() && !i.uses_preset())
        {
            if let Some(e) = over(&item.settings(&self.experiment), false) {
                found.push(format!(
                    "{}:{}:{}: numeric quiz item: {e}",
                    self.source, item.line, item.column
                ));
            }
        }
        for claim in self.claims.iter().filter(|c| c.settings.is_some()) {
            if let Some(e) = over(&claim.settings(&self.experiment), false) {
                let (line, col) = claim.at;
                found.push(format!("{}:{line}:{col}: claim: {e}", self.source));
            }
        }
        if let Some(t) = &self.train
            && let Ok(cfg) = t.settings.config()
            && let Err(e) = cfg.check_time(budget)
        {
            found.push(format!("{}: [train]: {e}", self.source));
        }
        found
    }
}

impl Preset {
    /// Runs the question's experiment with `settings` (the preset's own, or an overlay).
    pub fn run(&self, settings: &Settings, max_bytes: u64) -> Result<Report> {
        experiments::find(&self.demo)?.run(settings, max_bytes)
    }

    /// The same run as far as its main runs' figures go (what claims and quiz items read).
    pub fn figures(&self, settings: &Settings, max_bytes: u64) -> Result<Report> {
        experiments::find(&self.demo)?.figures(settings, max_bytes)
    }
}

impl QuizItem {
    /// Runs the experiment and reads the item's figure. `preset_run` is a report of the
    /// preset itself, if one was already run; it serves an item without settings of its own.
    pub fn measure(
        &self,
        preset: &Preset,
        preset_run: Option<&Report>,
        max_bytes: u64,
    ) -> Result<f64> {
        match preset_run.filter(|_| self.uses_preset()) {
            Some(report) => self.read(report),
            None => self.read(&preset.figures(&self.settings(preset), max_bytes)?),
        }
    }

    /// The item's figure in `report`, a run of its experiment with the item's settings.
    pub fn read(&self, report: &Report) -> Result<f64> {
        let ItemKind::Numeric { figure, run, .. } = &self.kind else {
            bail!("a multiple-choice item has no measured figure");
        };
        read_figure(report, *figure, run.as_deref())
    }
}

impl TrainPreset {
    /// Whether the takeaway quotes a figure of the training runs.
    pub fn quotes_figures(&self) -> bool {
        !placeholders_of::<TrainFigure>(&self.takeaway).is_empty()
    }

    /// Trains the comparison, without a progress bar.
    pub fn run(&self, max_bytes: u64) -> Result<TrainReport> {
        self.settings.config()?.check(max_bytes)?.run(&|_| {})
    }
}

impl Claim {
    /// The claim's figure in `report`, a run of its experiment with the claim's settings.
    pub fn read(&self, report: &Report) -> Result<f64> {
        match self.figure {
            Claimed::Run(f) => read_figure(report, f, self.run.as_deref()),
            Claimed::Training(f) => bail!("{f} is a figure of the [train] comparison"),
        }
    }

    /// The claim's figure in `training`, the question's `[train]` comparison.
    pub fn read_training(&self, training: &TrainReport) -> Result<f64> {
        match self.figure {
            Claimed::Training(f) => crate::train::figure::read(training, f, self.run.as_deref()),
            Claimed::Run(f) => bail!("{f} is a figure of the experiment's run"),
        }
    }
}

/// `figure` in the run labelled `run` of `report` (the first run if none).
pub(crate) fn read_figure(report: &Report, figure: Figure, run: Option<&str>) -> Result<f64> {
    let name = &report.experiment;
    let chosen = match run {
        Some(label) => report
            .runs
            .iter()
            .find(|r| r.label == label)
            .ok_or_else(|| {
                let labels = report.runs.iter().map(|r| r.label.as_str());
                let hint = crate::format::did_you_mean(label, labels.clone())
                    .map(|l| format!(" Did you mean '{l}'?"))
                    .unwrap_or_default();
                anyhow!(
                    "the {name} experiment has no run '{}'.{hint} Its runs are {}",
                    escape(label, 40),
                    labels.collect::<Vec<_>>().join(", ")
                )
            })?,
        None => report
            .runs
            .first()
            .ok_or_else(|| anyhow!("the run produced nothing"))?,
    };
    figure.of(chosen).ok_or_else(|| {
        anyhow!(
            "the figure {figure} is not defined for run '{}' of the {name} experiment: it \
             needs {}; run '{0}' is {}",
            chosen.label,
            figure.needs(),
            chosen.config.describe()
        )
    })
}

/// `text` with each placeholder replaced by its figure in `report`, as students see
/// figures; `n/a` where the run shown has no such figure.
pub(crate) fn fill(text: &str, report: &Report) -> String {
    fill_with(text, |f: Figure, run| {
        Some(f.show(read_figure(report, f, run).ok()?))
    })
}

/// `text` (a `[train]` takeaway) with each placeholder replaced by its figure in `report`,
/// as the training table prints it; `n/a` where the configuration has no such figure.
pub(crate) fn fill_training(text: &str, report: &TrainReport) -> String {
    fill_with(text, |f: TrainFigure, run| {
        crate::train::figure::read(report, f, run)
            .ok()
            .map(crate::format::figure)
    })
}

/// `text` with each placeholder left blank (`___`): a handout made without runs asks the
/// reader to run the command and fill it in.
pub(crate) fn blank(text: &str) -> String {
    fill_with(text, |_: Figure, _| Some(BLANK.into()))
}

/// As [`blank`], for a `[train]` takeaway.
pub(crate) fn blank_training(text: &str) -> String {
    fill_with(text, |_: TrainFigure, _| Some(BLANK.into()))
}

/// A figure left for the reader to measure.
const BLANK: &str = "___";

/// `text` with each placeholder of kind `F` replaced by `read(figure, run)`, the figure as
/// students see it; `n/a` where it has none.
fn fill_with<F: clap::ValueEnum>(
    text: &str,
    read: impl Fn(F, Option<&str>) -> Option<String>,
) -> String {
    let mut out = String::new();
    let mut last = 0;
    for (range, p) in placeholders_of::<F>(text) {
        out.push_str(&text[last..range.start]);
        let value = p.ok().and_then(|p| read(p.figure, p.run.as_deref()));
        out.push_str(&value.unwrap_or_else(|| "n/a".into()));
        last = range.end;
    }
    out.push_str(&text[last..]);
    out
}
