//! The same deep network with and without skip connections.

use super::describe::network;
use super::{Experiment, Planned, flow_verdict};
use crate::nn::{Activation, Init};
use crate::probe::ProbeConfig;
use crate::report::{Figure, Metric, Report, Run, Term, Verdict};
use crate::settings::{Knob, Settings};
use anyhow::Result;

pub(super) const EXPERIMENT: Experiment = Experiment {
    name: "residual",
    summary: "a 50-layer sigmoid network with and without skip connections",
    describe,
    defaults: || Settings {
        depth: Some(50),
        activation: Some(Activation::Sigmoid),
        init: Some(Init::XavierNormal),
        ..Settings::default()
    },
    fixed: &[Knob::Residual, Knob::BranchScale],
    fixed_why: "it runs the network with and without skips",
    metrics: &[Metric::GradNorm],
    plan,
    conclude,
    extend: None,
    prints: super::flow_prints,
};

/// The network that runs, and what the identity term does and does not guarantee.
fn describe(cfg: &ProbeConfig) -> String {
    format!(
        "{} It runs twice on identical weights: plain, and with residual connections a_l = \
         a_(l−1) + φ(h_l). A skip adds the identity to the layer's Jacobian, so backprop \
         multiplies factors I + J_l instead of J_l, and the product over all layers contains \
         the identity itself: a route that carries the gradient from the top of the stack to \
         layer 1 unchanged, through no J_l at all. That is a path, not a floor: the other terms can partly \
         cancel it, so a layer can receive less than the one above it, but the gradient no \
         longer has to shrink by a factor per layer.",
        network(cfg)
    )
}

fn plan(s: &Settings) -> Result<Vec<Planned>> {
    let plain = s.probe_config()?;
    let mut residual = plain.clone();
    residual.spec.residual = true;
    Ok(vec![
        Planned::main("plain", plain),
        Planned::main("residual", residual),
    ])
}

fn conclude(_: &Settings, report: &mut Report) {
    let mut lines: Vec<Verdict> = report.runs.iter().map(flow_verdict).collect();
    lines.extend(
        report
            .runs
            .iter()
            .filter(|r| r.config.spec.residual)
            .filter_map(large_loss),
    );
    for v in lines {
        report.verdict(v);
    }
}

/// A residual run whose loss is over twice a uniform guess's ln K, and whose stream grew
/// from layer 1 to the last hidden layer: that growth, up to the logits, explains it.
fn large_loss(run: &Run) -> Option<Verdict> {
    let k = run.config.spec.outputs as f64;
    let chance = libm::log(k);
    let layers = run.layers();
    let (first, logits) = (layers.first()?, layers.last()?);
    let last = layers.len().checked_sub(2).map(|l| &layers[l])?;
    let grew = last.figures.act_std > first.figures.act_std;
    (run.loss.is_finite() && run.loss > 2.0 * chance && grew).then(|| {
        Verdict::new(
            format!(
                "{}: the loss at initialization is {:.1}, against ln {k} = {chance:.2} for a \
                 uniform guess. Every block adds its branch's output to the stream, so the \
                 stream grows with depth (std {} at layer 1, {} at layer {}; where φ's outputs \
                 are all positive, as sigmoid's and ReLU's are, its mean grows too) and the \
                 logits with it (std {}): the softmax starts confidently wrong. A norm in each \
                 block or a small branch scale (demo skipinit) keeps the sum in check.",
                run.label,
                run.loss,
                crate::format::figure(first.figures.act_std),
                crate::format::figure(last.figures.act_std),
                layers.len() - 1,
                crate::format::figure(logits.figures.act_std),
            ),
            vec![
                Term::of(Figure::Loss, run).gt(2.0 * chance),
                Term::of(Figure::ActStdLast, run).gt(Term::of(Figure::ActStdFirst, run)),
            ],
        )
    })
}
