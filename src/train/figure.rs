//! Figures of a training comparison that a question's `[train]` takeaway may quote and its
//! `[[claim]]`s may bound: each read from a [`History`] exactly as the text view prints it.

use super::{History, TrainReport};
use crate::format::escape;
use anyhow::{Result, anyhow};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A figure of one configuration's training run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum TrainFigure {
    /// Layer 1's median ‖ΔW‖/‖W‖ per step over the checkpoints (the `update` column).
    UpdateRatioFirst,
    /// The output layer's median ‖ΔW‖/‖W‖ per step over the checkpoints.
    UpdateRatioLast,
    /// ‖∂L/∂W_1‖ at the first checkpoint (step 1).
    GradFirstStart,
    /// ‖∂L/∂W_1‖ at the last checkpoint.
    GradFirstEnd,
    /// The loss on the whole training set before the first step.
    InitialLoss,
    /// The loss on the whole training set after the last step.
    FinalLoss,
    /// Training-set accuracy after the last step, percent.
    TrainAccuracy,
    /// Test-set accuracy after the last step, percent.
    TestAccuracy,
    /// The step at which a value overflowed or became NaN and training stopped; 0 if none did.
    DivergedStep,
}

impl TrainFigure {
    /// The figure's value in `run`, if it has one (a diverged run has no finite ratios).
    pub fn of(self, run: &History) -> Option<f64> {
        let first_grad =
            |c: Option<&super::Checkpoint>| c.and_then(|c| c.grad_norms.first().copied());
        let (_, train, test) = run.last();
        let v = match self {
            TrainFigure::UpdateRatioFirst => run.median_update_ratios().first().copied(),
            TrainFigure::UpdateRatioLast => run.median_update_ratios().last().copied(),
            TrainFigure::GradFirstStart => first_grad(run.checkpoints.first()),
            TrainFigure::GradFirstEnd => first_grad(run.checkpoints.last()),
            TrainFigure::InitialLoss => Some(run.initial.train.loss),
            // A diverged run has no final state: its last checkpoint predates the overflow.
            TrainFigure::FinalLoss => run.diverged.is_none().then_some(train.loss),
            TrainFigure::TrainAccuracy => run.diverged.is_none().then_some(100.0 * train.accuracy),
            TrainFigure::TestAccuracy => run.diverged.is_none().then_some(100.0 * test.accuracy),
            TrainFigure::DivergedStep => Some(run.diverged.as_ref().map_or(0, |d| d.step) as f64),
        };
        v.filter(|v| v.is_finite())
    }
}

impl fmt::Display for TrainFigure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.to_possible_value().expect("no skipped variants");
        f.write_str(v.get_name())
    }
}

/// `figure` of the configuration labelled `run` in `report` (the first if none).
pub(crate) fn read(report: &TrainReport, figure: TrainFigure, run: Option<&str>) -> Result<f64> {
    let labels = || report.runs.iter().map(|h| h.label.as_str());
    let chosen = match run {
        Some(label) => report
            .runs
            .iter()
            .find(|h| h.label == label)
            .ok_or_else(|| {
                anyhow!(
                    "the training comparison has no configuration '{}'; its configurations are {}",
                    escape(label, 60),
                    labels().collect::<Vec<_>>().join(", ")
                )
            })?,
        None => report
            .runs
            .first()
            .ok_or_else(|| anyhow!("the training comparison trained nothing"))?,
    };
    figure.of(chosen).ok_or_else(|| {
        anyhow!(
            "the figure {figure} is not finite for configuration '{}': it diverged or never \
             reached a checkpoint",
            chosen.label
        )
    })
}

#[cfg(test)]
mod tests {
    use super::TrainFigure;
    use crate::report::Figure;
    use clap::ValueEnum;

    /// A claim's or placeholder's figure is looked up among the run's figures first, so a
    /// run figure named like a training figure would take over every `[train]` claim of that
    /// name (question 19's `update-ratio-first`).
    #[test]
    fn no_training_figure_shares_a_run_figures_name() {
        let name = |v: Option<clap::builder::PossibleValue>| {
            v.map(|p| p.get_name().to_string()).unwrap_or_default()
        };
        let runs: Vec<String> = Figure::value_variants()
            .iter()
            .map(|f| name(f.to_possible_value()))
            .collect();
        for t in TrainFigure::value_variants() {
            let t = name(t.to_possible_value());
            assert!(
                !runs.contains(&t),
                "{t} names a run figure and a training figure"
            );
        }
    }
}
