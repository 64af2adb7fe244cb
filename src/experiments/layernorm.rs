//! Post-LN vs Pre-LN residual stacks, and batch norm vs layer norm at a tiny batch.

use super::describe::network;
use super::{Experiment, Planned, flow_verdict};
use crate::format::figure;
use crate::nn::{Activation, Block, Init, Network, Placement, norm};
use crate::probe::{ProbeConfig, gaussian_batch};
use crate::report::{Metric, Report, Run, Table};
use crate::settings::{Knob, Settings};
use anyhow::Result;
use ndarray::s;

pub(super) const EXPERIMENT: Experiment = Experiment {
    name: "layernorm",
    summary: "Post-LN vs Pre-LN residual stacks, and batch norm vs layer norm at batch 2",
    describe,
    defaults: || Settings {
        depth: Some(48),
        activation: Some(Activation::Relu),
        init: Some(Init::HeNormal),
        ..Settings::default()
    },
    fixed: &[Knob::Bn, Knob::Residual, Knob::Norm, Knob::BranchScale],
    fixed_why: "it places layer norm after and before each residual branch, and swaps in \
                batch norm",
    metrics: &[Metric::GradNorm],
    plan,
    conclude,
    extend: None,
    prints: super::flow_prints,
};

/// The batch sizes of the batch norm vs layer norm table.
const BATCHES: [usize; 2] = [2, 64];

/// The two placements, what the final norm is, and the side comparison.
fn describe(cfg: &ProbeConfig) -> String {
    format!(
        "{} Every hidden layer is a residual block with layer norm N, run twice on identical \
         weights: Post-LN a_l = N(a_(l−1) + φ(a_(l−1) W_l + b_l)), the original Transformer's \
         order, and Pre-LN a_l = a_(l−1) + φ(N(a_(l−1)) W_l + b_l) (analysed by Xiong et al. 2020), with \
         a final N before the output layer as Pre-LN Transformers have. Post-LN puts the norm \
         on the skip path itself, so backprop crosses every norm's Jacobian on its way down; \
         Pre-LN leaves the skip path an identity from the output to layer 1. Then the Pre-LN \
         block with batch norm instead of layer norm, at batch {} and {}: how much one \
         example's logits change when the rest of its batch is redrawn.",
        network(cfg),
        BATCHES[0],
        BATCHES[1]
    )
}

fn with_norm(base: &ProbeConfig, layer_norm: bool, placement: Placement) -> ProbeConfig {
    let mut cfg = base.clone();
    cfg.spec.residual = true;
    cfg.spec.batch_norm = !layer_norm;
    cfg.spec.block = Block {
        layer_norm,
        placement,
        branch_scale: None,
    };
    cfg
}

fn plan(s: &Settings) -> Result<Vec<Planned>> {
    let base = s.probe_config()?;
    let mut out = vec![
        Planned::main("post-LN", with_norm(&base, true, Placement::Post)),
        Planned::main("pre-LN", with_norm(&base, true, Placement::Pre)),
    ];
    for batch in BATCHES {
        for layer_norm in [false, true] {
            let mut cfg = with_norm(&base, layer_norm, Placement::Pre);
            cfg.batch = batch;
            let name = if layer_norm { "LN" } else { "BN" };
            out.push(Planned::side(format!("{name} batch {batch}"), cfg));
        }
    }
    Ok(out)
}

/// ‖z₁(X′) − z₁(X)‖ / ‖z₁(X)‖: how much example 1's logits move when every other example
/// of its batch is redrawn (X′ keeps row 1 of X, the rest from another seed), in f64.
/// Exactly 0 for a network that treats examples independently.
pub(super) fn batch_dependence(cfg: &ProbeConfig) -> f64 {
    let net = Network::<f64>::build(&cfg.spec, cfg.seed).expect("checked by the plan");
    let (x, _) = gaussian_batch::<f64>(cfg.batch, cfg.spec.input, cfg.spec.outputs, cfg.seed);
    let (other, _) =
        gaussian_batch::<f64>(cfg.batch, cfg.spec.input, cfg.spec.outputs, cfg.seed ^ 1);
    let mut mixed = other;
    mixed.row_mut(0).assign(&x.row(0));
    let z = net.logits(x);
    let z2 = net.logits(mixed);
    let z1 = z.slice(s![0..1, ..]).to_owned();
    norm(&(&z2.slice(s![0..1, ..]) - &z1)) / norm(&z1)
}

fn orders(run: &Run) -> String {
    match run.grad_orders() {
        Some(o) => format!("{o:+.1}"),
        None if run.nonfinite.is_some() => "overflow".into(),
        None => "underflow".into(),
    }
}

/// ‖∂L/∂W_1‖ / ‖∂L/∂W_L‖ with L the last hidden layer, when both are positive and finite.
fn hidden_ratio(run: &Run) -> Option<f64> {
    let last = run.layers().len().checked_sub(2)?;
    let (a, b) = (
        run.layers()[0].figures.grad_norm,
        run.layers()[last].figures.grad_norm,
    );
    (a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite()).then(|| a / b)
}

fn conclude(_: &Settings, report: &mut Report) {
    for run in &report.runs {
        report.verdicts.push(flow_verdict(run));
    }
    if let [post, pre] = report.runs.as_slice()
        && let (Some(po), Some(pr)) = (post.grad_orders(), pre.grad_orders())
    {
        let depth = post.config.depth();
        let toward = if po > 0.0 {
            "toward the input (layer 1 receives the most)"
        } else {
            "toward the output (the top layers receive the most)"
        };
        report.verdicts.push(format!(
            "Post-LN's first/last ratio lies {:.1} orders from 1, Pre-LN's {:.1}: {:.1} orders \
             further for Post-LN. Its gradient grows {toward}, by a factor of {} per block on \
             average over {depth} blocks: a factor compounded at every norm on the skip path.",
            po.abs(),
            pr.abs(),
            po.abs() - pr.abs(),
            figure(libm::pow(10.0, po / depth as f64)),
        ));
        if let (Some(ph), Some(rh)) = (hidden_ratio(post), hidden_ratio(pre)) {
            report.verdicts.push(format!(
                "Among the hidden layers alone, layer 1's ‖∂L/∂W‖ is {}× layer {depth}'s for \
                 Pre-LN and {}× for Post-LN: Pre-LN's identity path does not make the profile \
                 flat (each block's branch adds to the gradient on its way down), but it drifts \
                 far less; its small first/last ratio comes from comparing with the output \
                 layer.",
                figure(rh),
                figure(ph),
            ));
        }
    }
    let mut rows = Vec::new();
    let mut dependence = Vec::new();
    for run in &report.side_runs {
        let d = batch_dependence(&run.config);
        dependence.push((run.config.spec.batch_norm, run.config.batch, d));
        rows.push(vec![
            run.label.clone(),
            orders(run),
            format!("{:.3}", run.loss),
            format!("{}%", figure(100.0 * d)),
        ]);
    }
    report.tables.push(
        Table::new(
            "Pre-norm blocks with batch norm (BN) or layer norm (LN)",
            &["network", "orders 1 vs last", "loss", "logit change"],
            rows,
        )
        .with_legend(
            "orders: log₁₀ of ‖∂L/∂W_1‖ / ‖∂L/∂W_last‖; logit change: ‖Δz₁‖ / ‖z₁‖, how far \
             example 1's logits move when the other examples of its batch are redrawn (f64).",
        ),
    );
    let find = |bn: bool, batch: usize| {
        dependence
            .iter()
            .find(|(b, n, _)| *b == bn && *n == batch)
            .map(|t| t.2)
    };
    if let (Some(small), Some(large), Some(ln)) = (
        find(true, BATCHES[0]),
        find(true, BATCHES[1]),
        find(false, BATCHES[0]),
    ) {
        report.verdicts.push(format!(
            "With batch norm, redrawing the rest of the batch moves example 1's logits by {}% \
             at batch {} and by {}% at batch {}; with layer norm by {}% at any batch: it \
             normalizes each example over its own features and never looks at the others.",
            figure(100.0 * small),
            BATCHES[0],
            figure(100.0 * large),
            BATCHES[1],
            figure(100.0 * ln)
        ));
    }
}
