//! Weights drawn with σ = 1 (plain randn): the backprop signal grows toward the input.

use super::{Experiment, flow_verdict, single_run};
use crate::nn::{Activation, Init};
use crate::report::{Metric, Report};
use crate::settings::Settings;

/// Tanh with weights ~ N(0, 1) at depth 20; `clipping` measures the same network.
pub fn network() -> Settings {
    Settings {
        depth: Some(20),
        activation: Some(Activation::Tanh),
        init: Some(Init::Normal(Some(1.0))),
        ..Settings::default()
    }
}

pub const EXPERIMENT: Experiment = Experiment {
    name: "exploding",
    summary: "gradients grow toward the input until f32 overflows (tanh, weights ~ N(0, 1))",
    description: "A tanh network whose weights are drawn from N(0, 1), the unscaled randn a \
                  first attempt often uses. With 128 inputs per unit, σ_w² = 128: tanh \
                  saturates, yet each layer still multiplies the backprop signal by about \
                  √χ ≈ 2.5. At --depth 100 in f32 the gradient overflows to inf, then NaN.",
    defaults: network,
    fixed: &[],
    metrics: &[Metric::GradNorm],
    plan: single_run,
    conclude,
};

fn conclude(_: &Settings, report: &mut Report) {
    for run in &report.runs {
        report.verdicts.push(flow_verdict(run));
        let worst = run
            .layers
            .iter()
            .filter(|l| l.figures.weight_norm > 0.0)
            .map(|l| l.figures.grad_norm / l.figures.weight_norm)
            .fold(0.0, f64::max);
        if worst.is_finite() && worst > 0.0 {
            report.verdicts.push(format!(
                "The largest ‖∂L/∂W‖ / ‖W‖ is {}: one SGD step with learning rate 0.01 would \
                 change that layer's weights by {}× their own size.",
                crate::format::pretty(worst),
                crate::format::pretty(0.01 * worst)
            ));
        }
        let fixes = "Fixes to try: --init xavier-normal (σ_w² = 1, the edge between vanishing and \
                     exploding for tanh), or demo clipping to cap the update's size.";
        report.notes.push(fixes.to_string());
        // The depth at which this growth rate reaches f32's largest value, 3.4e38.
        let top = run
            .layers
            .iter()
            .map(|l| l.figures.grad_norm)
            .fold(0.0, f64::max);
        if let (None, Some(o), crate::probe::Precision::F32) =
            (run.nonfinite, run.grad_orders(), run.config.precision)
            && o > 0.0
            && top > 0.0
        {
            let per_layer = o / run.config.depth() as f64;
            let more = ((38.5 - top.log10()) / per_layer).ceil().max(1.0) as usize;
            let depth = (run.config.depth() + more).div_ceil(10) * 10 + 10;
            report.notes.push(format!(
                "At this rate ({per_layer:.2} orders per layer) f32 overflows within about {more} \
                 more layers: try --depth {depth} to watch the gradient become inf, then NaN."
            ));
        }
    }
}
