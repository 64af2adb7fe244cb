//! Sigmoid with Xavier init: the gradient shrinks layer by layer toward the input.

use super::{Experiment, flow_verdict, single_run};
use crate::nn::{Activation, Init};
use crate::report::{Metric, Report, TheoryLine};
use crate::settings::Settings;

pub const EXPERIMENT: Experiment = Experiment {
    name: "vanishing",
    summary: "per-layer gradients collapse toward the input (sigmoid, Xavier init)",
    description: "A deep sigmoid network with Xavier-normal init. σ′ is at most ¼, so each \
                  layer passes back only a fraction of the gradient it receives; over many \
                  layers the fractions multiply. Every flag can be changed: try --activation \
                  relu --init he-normal.",
    defaults: || Settings {
        depth: Some(20),
        activation: Some(Activation::Sigmoid),
        init: Some(Init::XavierNormal),
        ..Settings::default()
    },
    fixed: &[],
    metrics: &[Metric::GradNorm],
    plan: single_run,
    conclude,
};

fn conclude(_: &Settings, report: &mut Report) {
    for run in &report.runs {
        report.verdicts.push(flow_verdict(run));
        if let TheoryLine::Compared {
            predicted_orders,
            measured_orders: Some(m),
            ..
        } = run.theory
        {
            let gap = (m - predicted_orders).abs();
            report.verdicts.push(format!(
                "Mean-field theory predicted {predicted_orders:+.1} orders for the backprop \
                 signal over {} layers and the network measured {m:+.1}: {}.",
                run.config.depth(),
                if gap <= 1.0 {
                    format!("{gap:.2} orders apart, within one order of magnitude")
                } else {
                    format!("{gap:.1} orders apart (small width or batch make single runs noisy)")
                }
            ));
        }
    }
}
