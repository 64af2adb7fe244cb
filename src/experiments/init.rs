//! One activation, several initializers: forward activations and gradients side by side.

use super::describe::{shape, sigma_w2};
use super::{Experiment, Planned};
use crate::format::{figure, num, orders, pretty, sci};
use crate::nn::{Activation, Init};
use crate::probe::ProbeConfig;
use crate::report::{Figure, Metric, Own, Report, Run, Table, Term, Verdict};
use crate::settings::{Knob, Settings};
use anyhow::Result;

pub(super) const EXPERIMENT: Experiment = Experiment {
    name: "init",
    summary: "constant, too small, too large, Xavier and He initialization side by side",
    describe,
    defaults: || Settings {
        depth: Some(20),
        activation: Some(Activation::Tanh),
        ..Settings::default()
    },
    fixed: &[Knob::Init, Knob::Std],
    fixed_why: "it compares initializers",
    metrics: &[Metric::GradNorm, Metric::ActStd],
    plan,
    conclude,
    extend: None,
    // The per-run table: std(a) first → last, saturation, the signal's orders.
    prints: |_| {
        &[
            Figure::ActStdFirst,
            Figure::ActStdLast,
            Figure::SaturatedPercent,
            Figure::SignalOrdersDrop,
        ]
    },
};

const INITS: [(&str, Init); 5] = [
    ("constant", Init::Constant(Some(0.05))),
    ("small", Init::Normal(Some(0.01))),
    ("large", Init::Normal(Some(1.0))),
    ("xavier", Init::XavierNormal),
    ("he", Init::HeNormal),
];

/// The activation and shape that run, and each initializer with the σ_w² it gives here.
fn describe(cfg: &ProbeConfig) -> String {
    let inits: Vec<String> = INITS
        .iter()
        .map(|&(_, init)| {
            let what = match init {
                Init::Constant(Some(c)) => format!("every weight {c}"),
                Init::Normal(Some(1.0)) => "N(0, 1)".into(),
                Init::Normal(Some(s)) => format!("N(0, {s}²)"),
                _ => String::new(),
            };
            let gain =
                sigma_w2(&cfg.clone().with_init(init)).map(|s2| format!("σ_w² = {}", figure(s2)));
            let inside: Vec<String> = [Some(what), gain]
                .into_iter()
                .flatten()
                .filter(|p| !p.is_empty())
                .collect();
            format!("{init} ({})", inside.join(", "))
        })
        .collect();
    let (last, rest) = inits.split_last().expect("five initializers");
    format!(
        "One {} network, {}, under five initializers, with the σ_w² = n_in·Var(W) each gives \
         here: {} and {last}. Watch the spread of the activations as well as the gradients: a \
         good initializer keeps both steady from layer to layer.",
        cfg.spec.activation,
        shape(cfg),
        rest.join(", "),
    )
}

fn plan(s: &Settings) -> Result<Vec<Planned>> {
    INITS
        .iter()
        .map(|&(label, init)| Ok(Planned::main(label, s.probe_config()?.with_init(init))))
        .collect()
}

fn conclude(_: &Settings, report: &mut Report) {
    let rows = report.runs.iter().map(row).collect();
    report.tables.push(
        Table::new(
            "Per initializer",
            &[
                "run",
                "std(a) 1 → last",
                "saturated",
                "unit spread",
                "‖∂L/∂W‖",
                "‖∂L/∂h‖",
            ],
            rows,
        )
        .with_legend(
            "std(a): first and last hidden layer; saturated: mean over the hidden layers; unit \
         spread: how far the units' gradients differ, max_j ‖g_j − ḡ‖ / ‖∂L/∂W‖ in the hidden \
         layer where it is largest (0: every unit gets the same gradient); ‖∂L/∂W‖, ‖∂L/∂h‖: \
         orders of magnitude from the output layer to layer 1, + where layer 1's is larger; · : not \
         defined (a norm is 0 or not finite).",
        ),
    );
    let mut lines: Vec<Verdict> = report.runs.iter().filter_map(symmetry).collect();
    lines.push(steady(&report.runs));
    for v in lines {
        report.verdict(v);
    }
}

/// The hidden layers' largest unit spread: 0 when every unit gets the same gradient.
fn spread(run: &Run) -> f64 {
    run.layers()[..run.layers().len() - 1]
        .iter()
        .filter_map(|l| l.figures.unit_spread)
        .fold(0.0, f64::max)
}

/// A run's row: activation spread first to last, saturation, unit spread, ratios.
fn row(run: &Run) -> Vec<String> {
    let hidden = &run.layers()[..run.layers().len() - 1];
    let (first, last) = (&hidden[0].figures, &hidden[hidden.len() - 1].figures);
    let sat = Figure::SaturatedPercent.of(run).unwrap_or(f64::NAN);
    vec![
        run.label.clone(),
        format!("{} → {}", num(first.act_std), num(last.act_std)),
        format!("{sat:.0}%"),
        sci(spread(run)),
        orders(run.grad_orders()),
        orders(run.signal_orders()),
    ]
}

/// For a constant kernel whose units all got the same gradient: why they stay copies.
fn symmetry(run: &Run) -> Option<Verdict> {
    let spread = spread(run);
    if !(run.config.spec.init.is_constant() && spread < 1e-6) {
        return None;
    }
    let hidden = &run.layers()[..run.layers().len() - 1];
    let largest = hidden
        .iter()
        .map(|l| l.figures.grad_norm)
        .fold(0.0, f64::max);
    let output = run.layers()[run.layers().len() - 1].figures.grad_norm;
    let mut premises = vec![Term::own(Own::UnitSpreadMax, run).lt(1e-6)];
    // With equal output weights ∂L/∂a = Σ_k (p_k − y_k)·c = 0 exactly; what the hidden layers
    // get is rounding, which only says so while it stays far below the output layer's.
    let rounding = if largest < 1e-3 * output {
        premises.push(
            Term::own(Own::HiddenGradMax, run).lt(Term::of(Figure::GradLast, run).times(1e-3)),
        );
        format!(
            " The hidden layers' largest ‖∂L/∂W‖ is {} against the output layer's {}: with \
             equal output weights, ∂L/∂a = Σ_k (p_k − y_k)·c = 0 up to rounding.",
            pretty(largest),
            pretty(output)
        )
    } else {
        String::new()
    };
    Some(Verdict::new(
        format!(
            "{}: within each hidden layer every unit receives the same gradient (largest \
             spread {}), so after any number of updates the units remain copies of one \
             another: a layer of {} units behaves like a single unit.{rounding}",
            run.label,
            pretty(spread),
            run.config.spec.hidden[0],
        ),
        premises,
    ))
}

/// Which random initializers kept both ratios within one order of magnitude: for each
/// listed, both figures within one order; for each other, one figure outside or undefined.
fn steady(runs: &[Run]) -> Verdict {
    let within = |o: Option<f64>| o.is_some_and(|o| o.abs() <= 1.0);
    let mut premises = Vec::new();
    let mut steady: Vec<&str> = Vec::new();
    for r in runs.iter().filter(|r| !r.config.spec.init.is_constant()) {
        let grad = Term::of(Figure::GradOrders, r);
        let signal = Term::of(Figure::SignalOrdersDrop, r);
        let premise = |t: Term, o: Option<f64>| match o {
            Some(_) => t.outside(0.0, 1.0),
            None => t.undefined(),
        };
        if within(r.grad_orders()) && within(r.signal_orders()) {
            steady.push(r.label.as_str());
            premises.push(grad.within(0.0, 1.0));
            premises.push(signal.within(0.0, 1.0));
        } else if !within(r.grad_orders()) {
            premises.push(premise(grad, r.grad_orders()));
        } else {
            premises.push(premise(signal, r.signal_orders()));
        }
    }
    let text = if steady.is_empty() {
        "No initializer kept both ‖∂L/∂W‖ and the signal ‖∂L/∂h‖ within one order of magnitude \
         from the last layer to the first."
            .into()
    } else {
        format!(
            "Both ‖∂L/∂W‖ and the signal ‖∂L/∂h‖ stay within one order of magnitude from the last \
             layer to the first with: {}.",
            steady.join(", ")
        )
    };
    Verdict::new(text, premises)
}
