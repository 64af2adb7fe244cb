//! Gradient clipping by global norm on an exploding network.

use super::{Experiment, Planned};
use crate::format::pretty;
use crate::report::{Metric, Report};
use crate::settings::Settings;
use anyhow::Result;

pub const EXPERIMENT: Experiment = Experiment {
    name: "clipping",
    summary: "clip_grad_norm_ on an exploding network: same direction, bounded size",
    description: "The exploding network (tanh, weights ~ N(0, 1)) measured twice: raw, and \
                  after clipping by global norm with PyTorch's rule — when the norm of all \
                  gradients together exceeds --clip-norm (default 1), every gradient is \
                  multiplied by clip-norm / (norm + 1e−6).",
    defaults: || Settings {
        clip_norm: Some(1.0),
        ..super::exploding::network()
    },
    fixed: &[],
    metrics: &[Metric::GradNorm],
    plan,
    conclude,
};

fn plan(s: &Settings) -> Result<Vec<Planned>> {
    let clipped = s.probe_config()?;
    let raw = crate::probe::ProbeConfig {
        clip_norm: None,
        ..clipped.clone()
    };
    Ok(vec![
        Planned::main("raw", raw),
        Planned::main("clipped", clipped),
    ])
}

fn conclude(_: &Settings, report: &mut Report) {
    let [raw, clipped] = report.runs.as_slice() else {
        return;
    };
    let max = clipped.config.clip_norm.unwrap_or(1.0);
    let total = raw.global_grad_norm;
    if !total.is_finite() {
        report.verdicts.push(format!(
            "The global gradient norm is {}: clipping cannot rescue a gradient that is already \
             inf or NaN; clip before values overflow, or fix the initialization.",
            pretty(total)
        ));
        return;
    }
    let factors: Vec<f64> = raw
        .layers
        .iter()
        .zip(&clipped.layers)
        .filter(|(r, _)| r.figures.grad_norm > 0.0)
        .map(|(r, c)| c.figures.grad_norm / r.figures.grad_norm)
        .collect();
    let lo = factors.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = factors.iter().copied().fold(0.0, f64::max);
    if total <= max {
        report.verdicts.push(format!(
            "The global norm {} is within --clip-norm {max}: clipping leaves the gradient as it is.",
            pretty(total)
        ));
    } else {
        report.verdicts.push(format!(
            "Global norm {} clipped to {max}: every layer was scaled by the same factor \
             (measured {}–{}), so the gradient keeps its direction and only its length changes.",
            pretty(total),
            pretty(lo),
            pretty(hi)
        ));
        report.notes.push(
            "Clipping bounds the step, not the cause: the first layer still gets far more \
             gradient than the last. The fix for that is the initialization (--init xavier-normal)."
                .into(),
        );
    }
}
