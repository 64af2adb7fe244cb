//! Weights drawn with σ = 1 (plain randn): the backprop signal grows toward the input.

use super::describe::{self, mechanism, sigma_w2, try_flags};
use super::{Experiment, flow_verdict, single_run};
use crate::format::{figure, pretty};
use crate::nn::{Activation, Init};
use crate::probe::{Precision, ProbeConfig};
use crate::report::{Figure, Metric, Report, Term, Verdict};
use crate::settings::Settings;

/// Tanh with weights ~ N(0, 1) at depth 20; `clipping` measures the same network.
pub(super) fn network() -> Settings {
    Settings {
        depth: Some(20),
        activation: Some(Activation::Tanh),
        init: Some(Init::Normal(Some(1.0))),
        ..Settings::default()
    }
}

pub(super) const EXPERIMENT: Experiment = Experiment {
    name: "exploding",
    summary: "gradients grow layer by layer toward the input (tanh, weights ~ N(0, 1))",
    describe,
    defaults: network,
    fixed: &[],
    fixed_why: "",
    metrics: &[Metric::GradNorm],
    plan: single_run,
    conclude,
    extend: None,
    prints: super::flow_prints,
};

/// log₁₀ of the largest finite value of a precision: where a growing gradient overflows.
fn largest_log10(p: Precision) -> f64 {
    libm::log10(p.max_finite())
}

/// The network that runs; for tanh with unscaled weights, why it explodes.
pub(super) fn describe(cfg: &ProbeConfig) -> String {
    let mut s = describe::network(cfg);
    let plain = !cfg.spec.batch_norm && !cfg.spec.residual && !cfg.spec.block.layer_norm;
    let unscaled = matches!(cfg.spec.init, Init::Normal(Some(_)));
    match sigma_w2(cfg) {
        Some(s2) if plain && unscaled && cfg.spec.activation == Activation::Tanh && s2 > 1.0 => {
            let randn = if cfg.spec.init == Init::Normal(Some(1.0)) {
                ", the unscaled randn a first attempt often uses"
            } else {
                ""
            };
            let grows = crate::theory::predict(cfg).is_ok_and(|p| p.factor > 1.0);
            s.push_str(&format!(
                " The weights ignore the fan-in{randn}: with {} inputs per unit, σ_w² = \
                 n_in·Var(W) = {}. Most tanh units saturate, so E[tanh′(h)²] is small, but \
                 χ = σ_w²·E[tanh′(h)²] {}",
                cfg.spec.input,
                figure(s2),
                if grows {
                    "stays above 1: the backprop signal grows at every layer on its way to \
                     the input."
                } else {
                    "does not stay above 1 here, so the signal does not grow."
                }
            ));
            if grows {
                s.push_str(&format!(
                    " Deep enough, it passes {}'s largest value, {}, and becomes inf, then NaN.",
                    cfg.precision,
                    pretty(cfg.precision.max_finite())
                ));
            }
        }
        _ => {
            s.push_str(&format!(" {}", mechanism(cfg)));
            let default = try_flags(cfg, Some(Activation::Tanh), Some(Init::Normal(Some(1.0))));
            if let Some(t) = default {
                s.push_str(&format!(" For the network this demo is built around, {t}."));
            }
        }
    }
    if let Some(c) = cfg.mlp().and_then(|m| m.clip_norm) {
        s.push_str(&format!(
            " The gradients are clipped to global norm {} before they are measured.",
            crate::format::echo(c)
        ));
    }
    s
}

fn conclude(_: &Settings, report: &mut Report) {
    // Verdicts (true) and notes (false), in the order they are said.
    let mut lines: Vec<(bool, Verdict)> = Vec::new();
    for run in &report.runs {
        lines.push((true, flow_verdict(run)));
        let worst = run
            .layers()
            .iter()
            .filter(|l| l.figures.weight_norm > 0.0)
            .map(|l| l.figures.grad_norm / l.figures.weight_norm)
            .fold(0.0, f64::max);
        if worst.is_finite() && worst > 0.0 {
            lines.push((
                true,
                Verdict::plain(format!(
                    "The largest ‖∂L/∂W‖ / ‖W‖ is {}: one SGD step with learning rate 0.01 would \
                     change that layer's weights by {}× their own size.",
                    crate::format::pretty(worst),
                    crate::format::pretty(0.01 * worst)
                )),
            ));
        }
        let grad = Term::of(Figure::GradOrders, run);
        let signal = -Term::of(Figure::SignalOrdersDrop, run);
        let grows = |o: Option<f64>| o.is_some_and(|o| o > 1.0);
        // The fixes are advised for a run that overflowed or whose gradient or signal grows.
        let advised = if run.nonfinite.is_some() {
            Some(Term::of(Figure::FirstNonfiniteLayer, run).at_least(1.0))
        } else if grows(run.grad_orders()) {
            Some(grad.clone().gt(1.0))
        } else if grows(run.signal_orders()) {
            Some(signal.clone().gt(1.0))
        } else {
            None
        };
        if let Some(p) = advised {
            lines.push((false, Verdict::new(fixes(&run.config), vec![p])));
        }
        // The depth at which this growth rate reaches the precision's largest value, from
        // the norms before clipping (clipping scales every layer by c / global norm).
        let unclip = match run.config.mlp().and_then(|m| m.clip_norm) {
            Some(c) if run.global_grad_norm > c => run.global_grad_norm / c,
            _ => 1.0,
        };
        let top = run
            .layers()
            .iter()
            .map(|l| l.figures.grad_norm * unclip)
            .fold(0.0, f64::max);
        // Only a growing backprop signal overflows: ‖∂L/∂W‖ can rise toward layer 1 while
        // ‖∂L/∂h‖ shrinks (the activations grow forward), and that does not run away.
        let signal_grows = run.signal_orders().is_some_and(|s| s > 0.0);
        if let (None, Some(o)) = (run.nonfinite, run.grad_orders())
            && o > 0.0
            && top > 0.0
            && !signal_grows
            && let Some(s) = run.signal_orders()
        {
            lines.push((
                false,
                Verdict::new(
                    format!(
                        "Layer 1's ‖∂L/∂W‖ is above the output layer's, but the backprop signal \
                         ‖∂L/∂h‖ shrinks on its way down ({:.1} orders over the network): the \
                         gradients do not grow with depth, so no overflow is coming.",
                        -s
                    ),
                    vec![grad.clone().gt(0.0), signal.clone().at_most(0.0)],
                ),
            ));
        }
        if let (None, Some(o)) = (run.nonfinite, run.grad_orders())
            && o > 0.0
            && top > 0.0
            && signal_grows
        {
            let precision = run.config.precision;
            let per_layer = o / run.config.depth() as f64;
            let more = ((largest_log10(precision) - libm::log10(top)) / per_layer)
                .ceil()
                .max(1.0) as usize;
            let depth = (run.config.depth() + more).div_ceil(10) * 10 + 10;
            lines.push((
                false,
                Verdict::new(
                    format!(
                        "At this rate ({per_layer:.2} orders per layer) the largest gradient norm \
                         passes {precision}'s largest value in roughly {more} more layers, and \
                         single entries overflow a few layers later: try --depth {depth} to watch \
                         it happen."
                    ),
                    vec![grad.gt(0.0), signal.gt(0.0)],
                ),
            ));
        }
    }
    for (verdict, v) in lines {
        match verdict {
            true => report.verdict(v),
            false => report.note(v),
        }
    }
}

/// The initializer that suits the activation, unless it is already the one running, and
/// clipping.
fn fixes(cfg: &ProbeConfig) -> String {
    let (init, why) = match cfg.spec.activation {
        Activation::Relu | Activation::LeakyRelu(_) | Activation::Elu(_) | Activation::Gelu => (
            Init::HeNormal,
            " (σ_w² = 2, which makes up for the units ReLU switches off)",
        ),
        Activation::Selu => (Init::LecunNormal, " (σ_w² = 1, what SELU is built for)"),
        Activation::Tanh => (
            Init::XavierNormal,
            " (σ_w² = 1 on equal widths: for tanh with zero biases, the edge between vanishing \
             and exploding)",
        ),
        _ => (Init::XavierNormal, " (σ_w² = 1 on equal widths)"),
    };
    let clipped = cfg.mlp().is_some_and(|m| m.clip_norm.is_some());
    match (cfg.spec.init == init, clipped) {
        (true, false) => "Fix to try: demo clipping, to cap the update's size.".into(),
        (false, false) => {
            format!("Fixes to try: --init {init}{why}, or demo clipping to cap the update's size.")
        }
        // Clipping is already on: it caps the update, not the growth measured here.
        (false, true) => format!(
            "Fix to try: --init {init}{why}. Clipping, on here, caps the update's size but \
             not the growth from layer to layer."
        ),
        (true, true) => "Clipping, on here, caps the update's size but not the growth from \
                         layer to layer."
            .into(),
    }
}
