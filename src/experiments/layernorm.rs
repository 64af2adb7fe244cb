//! Post-LN vs Pre-LN residual stacks, and batch norm vs layer norm at a tiny batch.

use super::describe::network;
use super::{Experiment, Planned, flow_verdict};
use crate::format::figure;
use crate::nn::{Activation, Block, Init, Network, Placement, norm};
use crate::probe::{ProbeConfig, gaussian_batch};
use crate::report::{Figure, Metric, Report, Run, Table, Term, Verdict};
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

/// Post-LN's and Pre-LN's first/last ratios (log₁₀ `po`, `pr`) compared, worded from which
/// lies further from 1; Post-LN's per-block factor 10^(po/depth) is called compounding only
/// when it adds up to half an order or more.
fn compare_ends(post: &str, pre: &str, po: f64, pr: f64, depth: usize) -> Verdict {
    let (far_post, far_pre) = (
        Term::Of(Figure::GradOrders, post.into()).abs(),
        Term::Of(Figure::GradOrders, pre.into()).abs(),
    );
    let d = po.abs() - pr.abs();
    let (which, order) = match d {
        _ if d.abs() < 0.05 => (
            "about as far from 1 for both".to_string(),
            far_post.within(far_pre, 0.05),
        ),
        _ if d > 0.0 => (
            format!("{d:.1} orders further for Post-LN"),
            far_post.gt(far_pre),
        ),
        _ => (
            format!("{:.1} orders further for Pre-LN", -d),
            far_post.lt(far_pre),
        ),
    };
    let per_block = figure(libm::pow(10.0, po / depth as f64));
    let grad = Term::Of(Figure::GradOrders, post.into());
    let (growth, compounds) = if po.abs() >= 0.5 {
        let (toward, side) = if po > 0.0 {
            (
                "toward the input (layer 1 receives the most)",
                grad.clone().gt(0.0),
            )
        } else {
            (
                "toward the output (the top layers receive the most)",
                grad.clone().lt(0.0),
            )
        };
        (
            format!(
                "Post-LN's gradient grows {toward}, by a factor of {per_block} per block on \
                 average over {depth} blocks: a factor compounded at every norm on the skip path."
            ),
            vec![grad.abs().at_least(0.5), side],
        )
    } else {
        (
            format!(
                "Post-LN's per-block factor is {per_block} on average over {depth} blocks: too \
                 close to 1 to compound into much here."
            ),
            vec![grad.abs().lt(0.5)],
        )
    };
    let mut premises = vec![order];
    premises.extend(compounds);
    Verdict::new(
        format!(
            "Post-LN's first/last ratio lies {:.1} orders from 1, Pre-LN's {:.1}: {which}. {growth}",
            po.abs(),
            pr.abs(),
        ),
        premises,
    )
}

/// The hidden layers' drift (layer 1's ‖∂L/∂W‖ over the last hidden layer's: `ph` Post-LN,
/// `rh` Pre-LN) compared in orders of magnitude, worded from which drifts more.
fn compare_hidden(post: &str, pre: &str, ph: f64, rh: f64, depth: usize) -> Verdict {
    let (po, pr) = (libm::log10(ph).abs(), libm::log10(rh).abs());
    let (drift_post, drift_pre) = (
        Term::Of(Figure::GradOrdersHidden, post.into()).abs(),
        Term::Of(Figure::GradOrdersHidden, pre.into()).abs(),
    );
    let head = format!(
        "Among the hidden layers alone, layer 1's ‖∂L/∂W‖ is {}× layer {depth}'s for Pre-LN and \
         {}× for Post-LN",
        figure(rh),
        figure(ph),
    );
    let (tail, premise) = match po - pr {
        d if d.abs() < 0.1 => (
            "the two profiles drift about equally".to_string(),
            drift_post.within(drift_pre, 0.1),
        ),
        d if d > 0.0 => (
            format!(
                "Pre-LN's identity path does not make the profile flat (each block's branch adds \
                 to the gradient on its way down), but it drifts less, {pr:.1} orders against \
                 {po:.1}"
            ),
            drift_pre.lt(drift_post),
        ),
        _ => (
            format!(
                "here Pre-LN's profile drifts more, {pr:.1} orders against {po:.1}: its identity \
                 path does not flatten it"
            ),
            drift_pre.gt(drift_post),
        ),
    };
    Verdict::new(
        format!(
            "{head}: {tail}. A small first/last ratio compares layer 1 with the output layer, not \
             with the hidden layers."
        ),
        vec![premise],
    )
}

fn conclude(_: &Settings, report: &mut Report) {
    let mut lines: Vec<Verdict> = report.runs.iter().map(flow_verdict).collect();
    if let [post, pre] = report.runs.as_slice()
        && let (Some(po), Some(pr)) = (post.grad_orders(), pre.grad_orders())
    {
        let depth = post.config.depth();
        lines.push(compare_ends(&post.label, &pre.label, po, pr, depth));
        if let (Some(ph), Some(rh)) = (hidden_ratio(post), hidden_ratio(pre)) {
            lines.push(compare_hidden(&post.label, &pre.label, ph, rh, depth));
        }
    }
    for v in lines {
        report.verdict(v);
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
        report.verdict(format!(
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

#[cfg(test)]
mod tests {
    use super::{compare_ends, compare_hidden};

    /// Each comparison says what its figures show: which run lies further from 1 or
    /// drifts more, and compounding only for a Post-LN factor worth half an order or more.
    #[test]
    fn comparisons_follow_their_figures() {
        let v = compare_ends("post-LN", "pre-LN", 1.7, 0.2, 48).text;
        assert!(v.contains("1.5 orders further for Post-LN"), "{v}");
        assert!(v.contains("compounded"), "{v}");
        let v = compare_ends("post-LN", "pre-LN", 0.1, 0.4, 48).text;
        assert!(v.contains("0.3 orders further for Pre-LN"), "{v}");
        assert!(!v.contains("compounded"), "{v}");
        let v = compare_ends("post-LN", "pre-LN", 0.02, -0.06, 6).text;
        assert!(v.contains("about as far from 1 for both"), "{v}");
        assert!(!v.contains("-0.0"), "{v}");
        let v = compare_hidden("post-LN", "pre-LN", 63.2, 8.68, 48).text;
        assert!(v.contains("drifts less, 0.9 orders against 1.8"), "{v}");
        let v = compare_hidden("post-LN", "pre-LN", 2.42, 4.23, 48).text;
        assert!(
            v.contains("Pre-LN's profile drifts more, 0.6 orders against 0.4"),
            "{v}"
        );
        assert!(!v.contains("drifts less"), "{v}");
        let v = compare_hidden("post-LN", "pre-LN", 2.0, 0.5, 48).text;
        assert!(v.contains("drift about equally"), "{v}");
    }
}
