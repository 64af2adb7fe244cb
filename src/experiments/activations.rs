//! The same network and weights under each activation, side by side.

use super::{Experiment, Planned};
use crate::format::{num, orders};
use crate::nn::{Activation, Init};
use crate::report::{Figure, Metric, Report, Run, Table};
use crate::settings::{Knob, Settings};
use anyhow::Result;

pub const EXPERIMENT: Experiment = Experiment {
    name: "activations",
    summary: "sigmoid, tanh, ReLU, leaky ReLU, ELU, GELU, SELU on the same weights",
    description: "One network, one set of Xavier-normal weights, seven activations. The \
                  largest derivative an activation can have bounds how much gradient each \
                  layer can pass back: ¼ for sigmoid, 1 for tanh and ReLU. The saturated \
                  fraction counts units whose φ′(h) is under a tenth of that maximum (for \
                  ReLU: units switched off).",
    defaults: || Settings {
        depth: Some(20),
        init: Some(Init::XavierNormal),
        ..Settings::default()
    },
    fixed: &[Knob::Activation],
    metrics: &[Metric::GradNorm, Metric::Saturated],
    plan,
    conclude,
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

fn conclude(_: &Settings, report: &mut Report) {
    report.tables.push(per_activation(&report.runs));
    report.notes.push(
        "dead: units with φ′ = 0 for every example, averaged over the hidden layers (in \
         brackets, the worst layer); ReLU only, the others never have φ′ = 0 everywhere."
            .into(),
    );
    report.verdicts.extend(verdicts(&report.runs));
    report.notes.push(
        "Xavier init suits tanh; ReLU-family activations keep more gradient with --init he-normal."
            .into(),
    );
}

/// Max φ′, saturation, dead units (mean over hidden layers, and the worst layer) and the
/// first/last ratios, one row per activation.
fn per_activation(runs: &[Run]) -> Table {
    let mut rows = Vec::new();
    for run in runs {
        let a = run.config.spec.activation;
        let hidden = &run.layers[..run.layers.len() - 1];
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
            "‖∂L/∂W‖ 1 vs last",
            "‖∂L/∂h‖",
        ],
        rows,
    )
}

/// The spread of the signal's change across activations, and ReLU's uniform smallness.
fn verdicts(runs: &[Run]) -> Vec<String> {
    let mut out = Vec::new();
    let mut sorted: Vec<_> = runs
        .iter()
        .filter_map(|r| Some((r.signal_orders()?, &r.label)))
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    if let (Some(worst), Some(best)) = (sorted.first(), sorted.last()) {
        out.push(format!(
            "On identical weights, the backprop signal ‖∂L/∂h‖ from the output to layer 1 \
             changes by {1:+.1} orders under {0} (the lowest) up to {3:+.1} under {2} (the \
             highest).",
            worst.1, worst.0, best.1, best.0
        ));
    }
    if let Some(relu) = runs
        .iter()
        .find(|r| r.config.spec.activation == Activation::Relu)
        && let (Some(w), Some(h)) = (relu.grad_orders(), relu.signal_orders())
        && w - h > 1.0
    {
        out.push(format!(
            "relu: ‖∂L/∂W‖ changes by only {w:+.1} orders while the signal changes by {h:+.1}: \
             ∂L/∂W_l = a_(l−1)ᵀ ∂L/∂h_l, and the activations shrink going forward as fast as \
             the signal shrinks going back, so every layer's gradient is uniformly small."
        ));
    }
    out
}
