//! Gradients back through time: ‖∂L/∂h_t‖ for t = T … 1 in a vanilla RNN whose W_h is
//! orthogonal at gain < 1, = 1 and > 1, beside an LSTM.

use super::describe::init_phrase;
use super::{Experiment, Planned};
use crate::format::{num, pretty};
use crate::nn::recurrent::CellKind;
use crate::nn::{Activation, Init};
use crate::probe::recurrent::DEFAULT_FORGET_BIAS;
use crate::probe::{ProbeConfig, ProbeKind};
use crate::report::{Figure, Report, Run, Table, Term, TheoryLine, Verdict};
use crate::settings::{Knob, Settings};
use anyhow::Result;

/// The RNN's W_h gains when no --init is given: shrinking, norm-preserving, growing.
pub(super) const GAINS: [f64; 3] = [0.5, 1.0, 3.0];

/// The sequence length when none is given.
pub(super) const DEFAULT_SEQ_LEN: usize = 50;

pub(super) const EXPERIMENT: Experiment = Experiment {
    name: "recurrent",
    summary: "‖∂L/∂h_t‖ back through time: RNNs with W_h at gain 0.5, 1, 3 beside an LSTM",
    describe,
    defaults: || Settings {
        seq_len: Some(DEFAULT_SEQ_LEN),
        ..Settings::default()
    },
    fixed: &[
        Knob::Depth,
        Knob::Bn,
        Knob::Residual,
        Knob::ClipNorm,
        Knob::LossScale,
        Knob::BiasStd,
    ],
    fixed_why: "a recurrent run's depth is --seq-len; it has no batch norm, skips, clipping or \
                loss scaling, and its biases start at 0",
    metrics: &[],
    plan,
    conclude,
    extend: None,
    // The table of gradient norms per parameter; the LSTM's first step back, where its
    // verdict states it (`lstm_verdicts`: the one LSTM run, finite, at least 3 steps).
    prints: |run| {
        let finite = orders(run).is_some() && run.nonfinite.is_none();
        match cell(run) == Some(CellKind::Lstm) && finite && first_step(run).is_some() {
            true => &[Figure::GlobalGradNorm, Figure::FirstStepFactor],
            false => &[Figure::GlobalGradNorm],
        }
    },
};

/// The sequence task of the run that is described, and how to read the output.
fn describe(cfg: &ProbeConfig) -> String {
    let ProbeKind::Recurrent(r) = &cfg.kind else {
        return String::new();
    };
    let t = r.seq_len;
    format!(
        "A recurrent network reads T = {t} random inputs x_t ~ N(0, 1) of width {w} (batch \
         {b}, {p}), starting from h_0 = 0; a linear classifier sees only the last state h_T, so \
         the loss's gradient reaches step t only by travelling back through the {t} − t later \
         steps. For the RNN h_t = φ(z_t), z_t = x_t W_x + h_(t−1) W_h + b, here with φ = \
         {phi}, each step back multiplies it by the transposed Jacobian diag(φ′(z_t))·W_hᵀ. \
         For the LSTM it runs back through the gates and W_hᵀ and, beside that, along the \
         cell state c_t = f_t ⊙ c_(t−1) + i_t ⊙ g_t, where each step multiplies it by the \
         forget gate f_t. W_x and the classifier are Xavier-normal, W_h is {init}; without \
         --init the RNN runs at gains {gains}.",
        w = cfg.spec.input,
        b = cfg.batch,
        p = cfg.precision,
        phi = cfg.spec.activation,
        init = init_phrase(cfg.spec.init),
        gains = GAINS.map(|g| g.to_string()).join(", "),
    )
}

/// One run per cell; the RNN at the three gains of [`GAINS`] when no --init is given.
fn plan(s: &Settings) -> Result<Vec<Planned>> {
    let seq_len = s.seq_len.unwrap_or(DEFAULT_SEQ_LEN);
    let cells = s
        .cell
        .map_or(vec![CellKind::Rnn, CellKind::Lstm], |c| c.list());
    let mut runs = Vec::new();
    for cell in cells {
        let cfg = s.recurrent_config(cell, seq_len)?;
        if cell == CellKind::Rnn && s.init.is_none() {
            for g in GAINS {
                let mut cfg = cfg.clone();
                cfg.spec.init = Init::Orthogonal(Some(g));
                runs.push(Planned::main(format!("rnn-{g}"), cfg));
            }
        } else {
            runs.push(Planned::main(cell.to_string(), cfg));
        }
    }
    Ok(runs)
}

/// The first step over the last: log₁₀(‖∂L/∂h_1‖ / ‖∂L/∂h_T‖).
fn orders(run: &Run) -> Option<f64> {
    run.signal_orders()
}

fn conclude(s: &Settings, report: &mut Report) {
    let mut rows = Vec::new();
    let lines: Vec<Verdict> = report.runs.iter().map(step_verdict).collect();
    for v in lines {
        report.verdict(v);
    }
    for run in &report.runs {
        if let Some(f) = run.steps() {
            let norm = |prefix: &str| {
                let sq: f64 = f
                    .params
                    .iter()
                    .filter(|p| p.name == prefix || p.name.starts_with(&format!("{prefix}[")))
                    .map(|p| p.grad_norm * p.grad_norm)
                    .sum();
                pretty(sq.sqrt())
            };
            rows.push(vec![
                run.label.clone(),
                norm("W_x"),
                norm("W_h"),
                norm("b"),
                norm("W_out"),
                pretty(run.global_grad_norm),
            ]);
        }
    }
    report.tables.push(
        Table::new(
            "gradient norm per parameter",
            &[
                "run",
                "‖∂L/∂W_x‖",
                "‖∂L/∂W_h‖",
                "‖∂L/∂b‖",
                "‖∂L/∂W_out‖",
                "global",
            ],
            rows,
        )
        .with_legend(
            "An LSTM's columns take its four gates together; --json lists each gate's \
             W_x, W_h and b apart.",
        ),
    );
    compare(report);
    if s.activation.is_some_and(|a| a != Activation::Tanh)
        && report.runs.iter().any(|r| cell(r) == Some(CellKind::Lstm))
    {
        report.notes.push(format!(
            "The RNN's φ = {} does not change the LSTM, which keeps its σ gates and tanh.",
            s.activation.unwrap_or(Activation::Tanh)
        ));
    }
}

/// How far the signal got from t = T back to t = 1, with the per-step factor.
fn step_verdict(run: &Run) -> Verdict {
    let steps = run.steps().map_or(0, |f| f.steps.len());
    if let Some(n) = run.nonfinite {
        let what = if n.nan {
            "became NaN"
        } else {
            "overflowed to inf"
        };
        return Verdict::plain(format!(
            "{}: a value {what} at step {} in the {} pass; every gradient computed from it is \
             garbage.",
            run.label, n.layer, n.pass
        ));
    }
    let zeros = run.zero_layers();
    if let Some(&last_zero) = zeros.iter().max() {
        return Verdict::plain(format!(
            "{}: ‖∂L/∂h_t‖ is exactly 0 ({} underflow) from t = {last_zero} back to t = 1: \
             nothing from the loss reaches those steps.",
            run.label, run.config.precision
        ));
    }
    let Some(o) = orders(run) else {
        return Verdict::new(
            format!("{}: the signal norms are not finite.", run.label),
            vec![Term::of(Figure::SignalOrdersDrop, run).undefined()],
        );
    };
    let per_step = match steps {
        0 | 1 => String::new(),
        n => format!(", ×{} per step", num(libm::pow(10.0, o / (n - 1) as f64))),
    };
    let ratio = pretty(libm::pow(10.0, o));
    let signal = -Term::of(Figure::SignalOrdersDrop, run);
    if o < -1.0 {
        let text = format!(
            "{}: ‖∂L/∂h_1‖ is {ratio} of ‖∂L/∂h_{steps}‖: {:.1} orders of magnitude lost \
             over {} steps{per_step}.",
            run.label,
            -o,
            steps.saturating_sub(1)
        );
        Verdict::new(text, vec![signal.lt(-1.0)])
    } else if o > 1.0 {
        let text = format!(
            "{}: ‖∂L/∂h_1‖ is {ratio}× ‖∂L/∂h_{steps}‖: {o:.1} orders of magnitude gained \
             over {} steps{per_step}; Pascanu et al. (2013) clip the gradient's norm to \
             bound the update such a gradient would make.",
            run.label,
            steps.saturating_sub(1)
        );
        Verdict::new(text, vec![signal.gt(1.0)])
    } else {
        let text = format!(
            "{}: ‖∂L/∂h_1‖ is {:.2}× ‖∂L/∂h_{steps}‖: within one order of magnitude \
             over {} steps{per_step}.",
            run.label,
            libm::pow(10.0, o),
            steps.saturating_sub(1)
        );
        Verdict::new(text, vec![signal.within(0.0, 1.0)])
    }
}

/// The LSTM against the RNN whose W_h has the same initializer, where both are there and
/// finite; and the LSTM's first step back, which goes through its gates, apart from the rest.
fn lstm_verdicts(report: &mut Report) {
    let finite = |r: &&Run| orders(r).is_some() && r.nonfinite.is_none();
    let lstm = report
        .runs
        .iter()
        .filter(|r| cell(r) == Some(CellKind::Lstm))
        .find(finite);
    let Some(lstm) = lstm else { return };
    let mut lines: Vec<Verdict> = first_step(lstm).into_iter().map(Verdict::plain).collect();
    let rnn = report
        .runs
        .iter()
        .filter(|r| cell(r) == Some(CellKind::Rnn))
        .filter(finite)
        .find(|r| same_init(r.config.spec.init, lstm.config.spec.init));
    if let Some(rnn) = rnn {
        let (a, b) = (orders(lstm).unwrap_or(0.0), orders(rnn).unwrap_or(0.0));
        if a > b {
            let forget_bias = match &lstm.config.kind {
                ProbeKind::Recurrent(r) => r.forget_bias,
                ProbeKind::Mlp(_) | ProbeKind::Attention(_) => DEFAULT_FORGET_BIAS,
            };
            let forget = crate::format::echo(forget_bias);
            let kept = |r: &Run| -Term::of(Figure::SignalOrdersDrop, r);
            let premise = kept(lstm).gt(kept(rnn));
            let text = format!(
                "At t = 1 the LSTM keeps {:.1} orders of magnitude more of the signal than {}, \
                 whose W_h has the same initializer ({}): its cell state is updated by \
                 addition, c_t = f_t ⊙ c_(t−1) + i_t ⊙ g_t, so the gradient along it is scaled \
                 by the forget gate f_t each step (forget bias {forget}: f starts near σ({forget}) \
                 = {}) rather than by diag(φ′)·W_hᵀ.",
                a - b,
                rnn.label,
                lstm.config.spec.init,
                num(1.0 / (1.0 + libm::exp(-forget_bias)))
            );
            lines.push(Verdict::new(text, vec![premise]));
        }
    }
    for v in lines {
        report.verdict(v);
    }
}

/// The run's recurrent cell.
fn cell(run: &Run) -> Option<CellKind> {
    match &run.config.kind {
        ProbeKind::Recurrent(r) => Some(r.cell),
        ProbeKind::Mlp(_) | ProbeKind::Attention(_) => None,
    }
}

/// Whether two W_h initializers are the same: `orthogonal` is `orthogonal:1`.
fn same_init(a: Init, b: Init) -> bool {
    let gain_one = |i: Init| match i {
        Init::Orthogonal(None) => Init::Orthogonal(Some(1.0)),
        other => other,
    };
    gain_one(a) == gain_one(b)
}

/// The LSTM's first step back, t = T to T − 1, goes through the output gate, tanh′(c_T) and
/// the gates' W_hᵀ; every later one also along the cell path. Said apart when it differs.
fn first_step(lstm: &Run) -> Option<String> {
    let figures = lstm.steps()?;
    let steps = &figures.steps;
    let n = steps.len();
    if n < 3 {
        return None;
    }
    let step = figures.first_step_factor()?;
    let (before, first) = (steps[n - 2].signal_norm, steps[0].signal_norm);
    if !(first > 0.0 && first.is_finite()) {
        return None;
    }
    let rest = libm::pow(first / before, 1.0 / (n - 2) as f64);
    Some(format!(
        "{}: the first step back, t = {n} to {}, multiplies ‖∂L/∂h‖ by ×{} (through the \
         output gate, tanh′(c_{n}), the gates' σ′ and W_hᵀ, not along the cell state); from \
         there to t = 1 the factor is ×{} per step.",
        lstm.label,
        n - 1,
        num(step),
        num(rest)
    ))
}

/// The LSTM's verdicts, then the linearized RNN's predictions beside the measurements.
fn compare(report: &mut Report) {
    lstm_verdicts(report);
    let theory: Vec<String> = report
        .runs
        .iter()
        .filter_map(|r| match (&r.theory, r.steps()) {
            (
                TheoryLine::Compared {
                    predicted_factor,
                    measured_factor: Some(m),
                    ..
                },
                Some(f),
            ) => f.spectrum.as_ref().map(|sp| {
                format!(
                    "{} predicted ×{} (σ_max ×{}), measured ×{}",
                    r.label,
                    num(*predicted_factor),
                    num(sp.top_singular_value),
                    num(*m)
                )
            }),
            _ => None,
        })
        .collect();
    if !theory.is_empty() {
        report.notes.push(format!(
            "Per-step factor of ‖∂L/∂h‖, predicted by the spectral radius ρ of the linearized \
             step diag(m)·W_hᵀ (m: RMS of φ′ per unit over the run): {}.",
            theory.join("; ")
        ));
    }
}
