//! Gradient clipping by global norm on an exploding network.

use super::describe::network;
use super::{Experiment, Planned};
use crate::format::pretty;
use crate::nn::{Activation, Init};
use crate::probe::{Mlp, ProbeConfig, ProbeKind};
use crate::report::{Figure, Metric, Report, Term, Verdict};
use crate::settings::Settings;
use anyhow::Result;

pub(super) const EXPERIMENT: Experiment = Experiment {
    name: "clipping",
    summary: "clip_grad_norm_ on an exploding network: same direction, bounded size",
    describe,
    defaults: || Settings {
        clip_norm: Some(1.0),
        ..super::exploding::network()
    },
    fixed: &[],
    fixed_why: "",
    metrics: &[Metric::GradNorm],
    plan,
    conclude,
    extend: None,
    // The verdict's global norm, the unclipped run's.
    prints: |run| match run.config.mlp().and_then(|m| m.clip_norm) {
        None => &[Figure::GlobalGradNorm],
        Some(_) => &[],
    },
};

/// The network that runs, and PyTorch's clipping rule with this run's threshold.
fn describe(cfg: &ProbeConfig) -> String {
    let which =
        if cfg.spec.activation == Activation::Tanh && cfg.spec.init == Init::Normal(Some(1.0)) {
            " (demo exploding's network)"
        } else {
            ""
        };
    let c = crate::format::echo(cfg.mlp().and_then(|m| m.clip_norm).unwrap_or(1.0));
    format!(
        "{}{which}. It is measured twice: raw, and after clipping by global norm with PyTorch's \
         rule: when the norm of all gradients together exceeds --clip-norm, here {c}, every \
         gradient is multiplied by {c} / (norm + 1e−6).",
        network(cfg).trim_end_matches('.'),
    )
}

fn plan(s: &Settings) -> Result<Vec<Planned>> {
    let clipped = s.probe_config()?;
    let raw = ProbeConfig {
        kind: ProbeKind::Mlp(Mlp {
            clip_norm: None,
            ..clipped.mlp().cloned().unwrap_or_default()
        }),
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
    // Owned, so the report can take lines while they are read.
    let (raw, clipped) = (&raw.clone(), &clipped.clone());
    let max = clipped
        .config
        .mlp()
        .and_then(|m| m.clip_norm)
        .unwrap_or(1.0);
    let total = raw.global_grad_norm;
    if !total.is_finite() {
        report.verdict(format!(
            "The global gradient norm is {}: clipping cannot rescue a gradient that is already \
             inf or NaN; clip before values overflow, or fix the initialization.",
            pretty(total)
        ));
        return;
    }
    let factors: Vec<f64> = raw
        .layers()
        .iter()
        .zip(clipped.layers())
        .filter(|(r, _)| r.figures.grad_norm > 0.0)
        .map(|(r, c)| c.figures.grad_norm / r.figures.grad_norm)
        .collect();
    let lo = factors.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = factors.iter().copied().fold(0.0, f64::max);
    let raw_total = || Term::of(Figure::GlobalGradNorm, raw);
    if total <= max {
        report.verdict(Verdict::new(
            format!(
                "The global norm {} is within --clip-norm {}: clipping leaves the gradient as it is.",
                pretty(total),
                crate::format::echo(max)
            ),
            vec![raw_total().at_most(max)],
        ));
    } else {
        // Every layer's factor is the rule's c / (norm + 1e−6), read at both ends.
        let factor = Term::Const(max).over(raw_total().minus(-1e-6));
        let mut premises = vec![raw_total().gt(max)];
        for f in [Figure::GradFirst, Figure::GradLast] {
            if f.of(raw).is_some_and(|g| g > 0.0) {
                let measured = Term::of(f, clipped).over(Term::of(f, raw));
                premises.push(measured.within_factor(factor.clone(), 1.001));
            }
        }
        let v = Verdict::new(
            format!(
                "Global norm {} clipped to {max}: every layer was scaled by the same factor \
                 (measured {}), so the gradient keeps its direction and only its length changes.",
                pretty(total),
                crate::format::range(lo, hi)
            ),
            premises,
        );
        report.verdict(v);
        let note = cause(raw);
        report.note(note);
    }
}

/// What clipping leaves as it was: the layers' imbalance, if the raw run has one.
fn cause(raw: &crate::report::Run) -> Verdict {
    let grad = Term::of(Figure::GradOrders, raw);
    let (imbalance, premise) = match raw.grad_orders() {
        Some(o) if o > 1.0 => (
            format!(
                " the first layer still gets {} times the gradient of the last.",
                pretty(libm::pow(10.0, o))
            ),
            grad.gt(1.0),
        ),
        Some(o) if o < -1.0 => (
            format!(
                " the first layer still gets {} of the gradient of the last.",
                pretty(libm::pow(10.0, o))
            ),
            grad.lt(-1.0),
        ),
        Some(_) => (
            " the layers keep their relative sizes.".into(),
            grad.within(0.0, 1.0),
        ),
        None => (
            " the layers keep their relative sizes.".into(),
            grad.undefined(),
        ),
    };
    let uneven = raw.grad_orders().is_some_and(|o| o.abs() > 1.0);
    let fix = match raw.config.spec.init {
        _ if !uneven => String::new(),
        Init::XavierNormal => String::new(),
        _ if raw.config.spec.activation == Activation::Tanh => {
            " The fix for that is the initialization: try --init xavier-normal.".into()
        }
        _ => " The fix for that is the initialization.".into(),
    };
    Verdict::new(
        format!("Clipping bounds the step, not the cause:{imbalance}{fix}"),
        vec![premise],
    )
}
