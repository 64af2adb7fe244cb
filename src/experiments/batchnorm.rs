//! Batch norm on and off on identical weights, and a sweep of the initialization scale.

use super::describe::network;
use super::{Experiment, Planned, flow_verdict};
use crate::nn::{Activation, Init};
use crate::probe::ProbeConfig;
use crate::report::{Figure, Metric, Report, Run, Table, Term, Verdict};
use crate::settings::{Knob, Settings};
use anyhow::Result;

pub(super) const EXPERIMENT: Experiment = Experiment {
    name: "batchnorm",
    summary: "with vs without batch norm, and how little the init scale matters with it",
    describe,
    defaults: || Settings {
        depth: Some(20),
        activation: Some(Activation::Sigmoid),
        init: Some(Init::XavierNormal),
        ..Settings::default()
    },
    fixed: &[Knob::Bn, Knob::Norm],
    fixed_why: "it runs every network with and without batch norm",
    metrics: &[Metric::GradNorm, Metric::ActStd],
    plan,
    conclude,
    extend: None,
    prints: super::flow_prints,
};

const SCALES: [f64; 3] = [0.01, 0.1, 1.0];

/// The network that runs, what batch norm does, and the sweep's initializers.
fn describe(cfg: &ProbeConfig) -> String {
    let sweep: Vec<String> = SCALES
        .iter()
        .map(|&s| Init::Normal(Some(s)).to_string())
        .collect();
    let (last, rest) = sweep.split_last().expect("three scales");
    format!(
        "{} It runs twice on identical weights: without and with batch norm before each \
         activation (batch statistics, γ = 1, β = 0, ε = {:e}, PyTorch's default). Then the \
         same pair for weights drawn from {} and {last}, that is N(0, σ²) with σ = {}: batch \
         norm divides each unit's pre-activation by its batch standard deviation, so scaling W \
         by a constant leaves every normalized layer's output unchanged (the output layer is \
         not normalized, so the logits still scale).",
        network(cfg),
        crate::nn::batchnorm::BN_EPS,
        rest.join(", "),
        SCALES
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    )
}

fn plan(s: &Settings) -> Result<Vec<Planned>> {
    let plain = s.probe_config()?;
    let mut with = plain.clone();
    with.spec.batch_norm = true;
    let mut out = vec![
        Planned::main("plain", plain.clone()),
        Planned::main("bn", with),
    ];
    for sigma in SCALES {
        let init = Init::Normal(Some(sigma));
        for bn in [false, true] {
            let mut cfg = plain.clone().with_init(init);
            cfg.spec.batch_norm = bn;
            out.push(Planned::side(
                format!("σ={sigma}{}", if bn { " bn" } else { "" }),
                cfg,
            ));
        }
    }
    Ok(out)
}

fn orders(run: &Run) -> String {
    match run.grad_orders() {
        Some(o) => format!("{o:+.1}"),
        None if run.nonfinite.is_some() => "overflow".into(),
        None => "underflow".into(),
    }
}

fn conclude(_: &Settings, report: &mut Report) {
    let flows: Vec<Verdict> = report.runs.iter().map(flow_verdict).collect();
    for v in flows {
        report.verdict(v);
    }
    let rows: Vec<Vec<String>> = report
        .side_runs
        .chunks(2)
        .map(|pair| {
            let sigma = match pair[0].config.spec.init {
                Init::Normal(Some(s)) => s,
                _ => f64::NAN,
            };
            vec![format!("{sigma}"), orders(&pair[0]), orders(&pair[1])]
        })
        .collect();
    report.tables.push(Table::new(
        "Init scale sweep: orders of magnitude, ‖∂L/∂W_1‖ vs ‖∂L/∂W_last‖",
        &["σ of W", "without batch norm", "with batch norm"],
        rows,
    ));
    let range = |bn: bool| -> Option<f64> {
        let o: Vec<f64> = report
            .side_runs
            .iter()
            .filter(|r| r.config.spec.batch_norm == bn)
            .map(|r| r.grad_orders())
            .collect::<Option<_>>()?;
        let lo = o.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = o.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some(hi - lo)
    };
    // The first run without batch norm whose first/last ratio is not defined, if any.
    let lost = report
        .side_runs
        .iter()
        .find(|r| !r.config.spec.batch_norm && r.grad_orders().is_none())
        .map(|r| Term::of(Figure::GradOrders, r));
    if let Some(with) = range(true) {
        let v = match (range(false), lost) {
            (Some(without), _) => Verdict::plain(format!(
                "Across σ = 0.01 … 1 the first/last ratio moves by {without:.1} orders without \
                 batch norm and by {with:.1} with it."
            )),
            (None, lost) => Verdict::new(
                format!(
                    "Across σ = 0.01 … 1 a gradient leaves the representable range without batch \
                     norm (it underflows or overflows); with it the first/last ratio moves by \
                     {with:.1} orders."
                ),
                lost.map(Term::undefined).into_iter().collect(),
            ),
        };
        report.verdict(v);
    }
    if let [_, bn] = report.runs.as_slice()
        && let Some(o) = bn.grad_orders()
        && o > 0.5
    {
        let v = Verdict::new(
            format!(
                "With batch norm the gradient grows toward the input ({o:+.1} orders over {} \
                 layers): batch norm in a deep plain network causes gradient explosion of its own \
                 (Yang et al. 2019); residual connections are what tame it in practice.",
                bn.config.depth()
            ),
            vec![Term::of(Figure::GradOrders, bn).gt(0.5)],
        );
        report.verdict(v);
    }
}
