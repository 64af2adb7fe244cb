//! The same network and weights under each activation, side by side.

use super::describe::{init_phrase, shape, sigma_w2};
use super::{Experiment, Planned};
use crate::format::{figure, num, orders};
use crate::nn::{Activation, Init};
use crate::probe::ProbeConfig;
use crate::report::{Figure, Metric, Report, Run, Table, Term, Verdict};
use crate::settings::{Knob, Settings};
use anyhow::Result;

pub(super) const EXPERIMENT: Experiment = Experiment {
    name: "activations",
    summary: "sigmoid, tanh, ReLU, leaky ReLU, ELU, GELU, SELU on the same weights",
    describe,
    defaults: || Settings {
        depth: Some(20),
        init: Some(Init::XavierNormal),
        ..Settings::default()
    },
    fixed: &[Knob::Activation],
    fixed_why: "it compares activations",
    metrics: &[Metric::GradNorm, Metric::Saturated],
    plan,
    conclude,
    extend: None,
    // The per-activation table.
    prints: |_| &[Figure::SaturatedPercent, Figure::DeadPercent],
};

const ALL: [Activation; 7] = [
    Activation::Sigmoid,
    Activation::Tanh,
    Activation::Relu,
    Activation::LeakyRelu(0.01),
    Activation::Elu(1.0),
    Activation::Gelu,
    Activation::Selu,
];

fn label(a: Activation) -> String {
    match a {
        Activation::LeakyRelu(_) => "leaky".into(),
        Activation::Elu(_) => "elu".into(),
        other => other.to_string(),
    }
}

fn plan(s: &Settings) -> Result<Vec<Planned>> {
    ALL.iter()
        .map(|&a| {
            let mut cfg = s.probe_config()?;
            cfg.spec.activation = a;
            Ok(Planned::main(label(a), cfg))
        })
        .collect()
}

/// The shared network and weights, the seven activations, and what decides a layer's factor.
fn describe(cfg: &ProbeConfig) -> String {
    let names: Vec<String> = ALL.iter().map(|a| a.to_string()).collect();
    let (last, rest) = names.split_last().expect("seven activations");
    let sigma = sigma_w2(cfg)
        .map(|s2| format!(" Here σ_w² = n_in·Var(W) = {}.", figure(s2)))
        .unwrap_or_default();
    format!(
        "The same {} weights ({}) under {} activations: {} and {last}. An activation's largest derivative (max φ′ below) only caps what a unit can \
         pass back: ¼ for sigmoid, 1 for tanh and ReLU. What a layer does to the backprop \
         signal on average is √χ, χ = σ_w²·E[φ′(h)²], taken over the pre-activations at the \
         scale they actually have: GELU′(0) is only ½, so where the pre-activations are small \
         GELU passes back about half.{sigma} The saturated fraction counts units whose |φ′(h)| \
         is under a tenth of the activation's maximum (for ReLU: units switched off).",
        init_phrase(cfg.spec.init),
        shape(cfg),
        ["no", "one", "two", "three", "four", "five", "six", "seven"][ALL.len()],
        rest.join(", "),
    )
}

fn conclude(_: &Settings, report: &mut Report) {
    report.tables.push(per_activation(&report.runs));
    for v in verdicts(&report.runs) {
        report.verdict(v);
    }
    let init = report.runs.first().map(|r| r.config.spec.init);
    if init != Some(Init::HeNormal) {
        report.notes.push(
            "For the ReLU family, try --init he-normal: σ_w² = 2 makes up for the units ReLU \
             switches off."
                .into(),
        );
    }
    if init != Some(Init::XavierNormal) {
        report.notes.push(
            "For tanh, try --init xavier-normal: σ_w² = 1, and since tanh′ ≤ 1 with tanh′(0) = 1, \
             χ stays below 1, close to it once the pre-activations are small."
                .into(),
        );
    }
}

/// Max φ′, saturation, dead units (mean over hidden layers, and the worst layer) and the
/// first/last ratios, one row per activation.
fn per_activation(runs: &[Run]) -> Table {
    let mut rows = Vec::new();
    for run in runs {
        let a = run.config.spec.activation;
        let hidden = &run.layers()[..run.layers().len() - 1];
        let sat = Figure::SaturatedPercent.of(run).unwrap_or(f64::NAN);
        let worst = hidden
            .iter()
            .filter_map(|l| l.figures.dead)
            .fold(0.0, f64::max);
        let mean = Figure::DeadPercent.of(run);
        rows.push(vec![
            a.to_string(),
            num(a.max_derivative()),
            format!("{sat:.0}%"),
            match mean {
                Some(mean) => format!("{mean:.0}% ({:.0}%)", 100.0 * worst),
                None => "never".into(),
            },
            orders(run.grad_orders()),
            orders(run.signal_orders()),
        ]);
    }
    Table::new(
        "Per activation",
        &[
            "activation",
            "max φ′",
            "saturated",
            "dead (max)",
            "‖∂L/∂W‖",
            "‖∂L/∂h‖",
        ],
        rows,
    )
    .with_legend(
        "max φ′: the activation's largest slope; saturated: mean over the hidden layers; dead: \
         units switched off for every example of the batch, mean over the hidden layers (in \
         brackets, the hidden layer with the most; never: the slope is not 0 over any range \
         of inputs); ‖∂L/∂W‖, ‖∂L/∂h‖: \
         orders of magnitude from the output layer to layer 1, + where layer 1's is larger; · : not \
         defined (a norm is 0 or not finite).",
    )
}

/// The spread of the signal's change across activations, and ReLU's uniform smallness.
fn verdicts(runs: &[Run]) -> Vec<Verdict> {
    let mut out = Vec::new();
    let mut sorted: Vec<_> = runs
        .iter()
        .filter_map(|r| Some((r.signal_orders()?, r)))
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    if let (Some(worst), Some(best)) = (sorted.first(), sorted.last()) {
        let signal = |r: &Run| -Term::of(Figure::SignalOrdersDrop, r);
        // The lowest and the highest of every run with a signal figure.
        let premises = sorted
            .iter()
            .flat_map(|(_, r)| {
                [
                    signal(worst.1).at_most(signal(r)),
                    signal(best.1).at_least(signal(r)),
                ]
            })
            .collect();
        out.push(Verdict::new(
            format!(
                "On identical weights, the backprop signal ‖∂L/∂h‖ from the output to layer 1 \
                 changes by {1:+.1} orders under {0} (the lowest) up to {3:+.1} under {2} (the \
                 highest).",
                worst.1.label, worst.0, best.1.label, best.0
            ),
            premises,
        ));
    }
    if let Some(relu) = runs
        .iter()
        .find(|r| r.config.spec.activation == Activation::Relu)
        && let (Some(w), Some(h)) = (relu.grad_orders(), relu.signal_orders())
        && w - h > 1.0
    {
        let grad = Term::of(Figure::GradOrders, relu);
        let signal = -Term::of(Figure::SignalOrdersDrop, relu);
        out.push(Verdict::new(
            format!(
                "relu: ‖∂L/∂W‖ changes by only {w:+.1} orders while the signal changes by \
                 {h:+.1}: ∂L/∂W_l = a_(l−1)ᵀ ∂L/∂h_l, and the activations shrink going forward \
                 as fast as the signal shrinks going back, so every layer's gradient is \
                 uniformly small."
            ),
            vec![
                grad.minus(signal.clone()).gt(1.0),
                signal.lt(0.0),
                Term::of(Figure::ActStdLast, relu).lt(Term::of(Figure::ActStdFirst, relu)),
            ],
        ));
    }
    out
}
