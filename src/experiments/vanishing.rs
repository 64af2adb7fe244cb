//! Sigmoid with Xavier init: the gradient shrinks layer by layer toward the input.

use super::describe::{mechanism, network, try_flags};
use super::{Experiment, flow_verdict, single_run};
use crate::nn::{Activation, Init};
use crate::probe::ProbeConfig;
use crate::report::{Figure, Metric, Own, Report, Term, TheoryLine, Verdict};
use crate::settings::Settings;

pub(super) const EXPERIMENT: Experiment = Experiment {
    name: "vanishing",
    summary: "per-layer gradients collapse toward the input (sigmoid, Xavier init)",
    describe,
    defaults: || Settings {
        depth: Some(20),
        activation: Some(Activation::Sigmoid),
        init: Some(Init::XavierNormal),
        ..Settings::default()
    },
    fixed: &[],
    fixed_why: "",
    metrics: &[Metric::GradNorm],
    plan: single_run,
    conclude,
    extend: None,
    prints: super::flow_prints,
};

/// The network that runs, why its gradient changes from layer to layer, and what to try.
fn describe(cfg: &ProbeConfig) -> String {
    let mut s = format!("{} {}", network(cfg), mechanism(cfg));
    if let Some(c) = cfg.mlp().and_then(|m| m.clip_norm) {
        s.push_str(&format!(
            " The gradients are clipped to global norm {} before they are measured.",
            crate::format::echo(c)
        ));
    }
    let next = try_flags(cfg, Some(Activation::Relu), Some(Init::HeNormal))
        .map(|t| format!("{t}, for which mean-field theory gives χ = 1"))
        .or_else(|| {
            try_flags(cfg, Some(Activation::Sigmoid), Some(Init::XavierNormal))
                .map(|t| format!("{t}, this demo's default"))
        });
    if let Some(next) = next {
        s.push_str(&format!(" Every flag can be changed: {next}."));
    }
    s
}

fn conclude(_: &Settings, report: &mut Report) {
    let mut lines = Vec::new();
    for run in &report.runs {
        lines.push(flow_verdict(run));
        if let TheoryLine::Compared {
            predicted_orders,
            measured_orders: Some(m),
            ..
        } = run.theory
        {
            let gap = (m - predicted_orders).abs();
            // The measured orders are the signal's; the gap is worded from one order.
            let measured = -Term::of(Figure::SignalOrdersDrop, run);
            let predicted = Term::own(Own::PredictedOrders, run);
            let (apart, premise) = if gap <= 1.0 {
                (
                    format!("{gap:.2} orders apart, within one order of magnitude"),
                    measured.within(predicted, 1.0),
                )
            } else {
                (
                    format!("{gap:.1} orders apart (small width or batch make single runs noisy)"),
                    measured.outside(predicted, 1.0),
                )
            };
            lines.push(Verdict::new(
                format!(
                    "Mean-field theory predicted {predicted_orders:+.2} orders for the backprop \
                     signal over {} layers and the network measured {m:+.2}: {apart}.",
                    run.config.depth(),
                ),
                vec![premise],
            ));
        }
    }
    for v in lines {
        report.verdict(v);
    }
}
