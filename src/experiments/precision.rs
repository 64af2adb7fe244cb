//! The same network in f32, bf16 and f16, then f16 with static and dynamic loss scaling:
//! which layers' gradients underflow to exactly 0, and whether scaling brings them back.

use super::describe::network;
use super::{Experiment, Planned};
use crate::format::{figure, pretty, span_of};
use crate::nn::storage::{DYNAMIC_START, LossScale, Storage};
use crate::nn::{Activation, Init};
use crate::probe::{Mlp, Precision, ProbeConfig, ProbeKind};
use crate::report::{Figure, Metric, Own, Report, Run, Table, Term, Verdict};
use crate::settings::{Knob, Settings};
use anyhow::{Result, bail};

pub(super) const EXPERIMENT: Experiment = Experiment {
    name: "precision",
    summary: "f32 vs bf16 vs f16: gradients that underflow to 0, and loss scaling restoring them",
    describe,
    defaults: || Settings {
        depth: Some(30),
        activation: Some(Activation::Sigmoid),
        init: Some(Init::Normal(Some(0.25))),
        loss_scale: Some(LossScale::Static(DEFAULT_STATIC)),
        ..Settings::default()
    },
    fixed: &[Knob::Precision],
    fixed_why: "it runs the network in f32, bf16 and f16",
    metrics: &[Metric::GradNorm],
    plan,
    conclude,
    extend: None,
    // The verdict's "(N layers of M)", given when a run stayed finite and N > 0.
    prints: |run| match run.nonfinite.is_none() && !run.zero_layers().is_empty() {
        true => &[Figure::ZeroLayers],
        false => &[],
    },
};

/// The static scale of the fourth run unless `--loss-scale` gives another.
const DEFAULT_STATIC: f64 = 1024.0;

fn describe(cfg: &ProbeConfig) -> String {
    let s = match cfg.mlp().and_then(|m| m.loss_scale) {
        Some(LossScale::Static(s)) => s,
        _ => DEFAULT_STATIC,
    };
    let tiny = |f: f64| pretty(f);
    format!(
        "{} It runs five times on identical weights and data: in f32; in bf16 and in f16, \
         where every activation, weight, backprop signal and weight gradient is rounded to 16 \
         bits after each layer while the arithmetic stays in f32, as mixed-precision kernels \
         do; then in f16 with a static loss scale S = {} and with dynamic loss scaling, \
         started at S = 2¹⁶ = {} as GradScaler does: when a gradient is inf or NaN this probe \
         halves S and redoes the same pass, where GradScaler in training skips the step and \
         halves S for the next batch (and doubles it after 2000 finite steps). f16 has 5 \
         exponent bits: nothing at or below {}, half its smallest subnormal {}, survives \
         rounding, and everything from {} up rounds to ∞ (the largest finite value is {}). \
         bf16 keeps f32's 8 exponent bits \
         (smallest {}, largest {}) and pays with 7 mantissa bits instead of 10. Loss scaling \
         multiplies ∂L/∂z by S before backprop and divides each weight gradient by S in f32 \
         afterwards, so every 16-bit signal and gradient on the way down is S times larger.",
        network(cfg),
        figure(s),
        figure(DYNAMIC_START),
        tiny(Storage::F16.smallest() / 2.0),
        tiny(Storage::F16.smallest()),
        figure(Storage::F16.overflow_threshold()),
        figure(Storage::F16.max_finite()),
        tiny(Storage::Bf16.smallest()),
        pretty(Storage::Bf16.max_finite()),
    )
}

fn plan(s: &Settings) -> Result<Vec<Planned>> {
    let base = s.probe_config()?;
    let scale = match base.mlp().and_then(|m| m.loss_scale) {
        Some(LossScale::Static(x)) => x,
        _ => bail!(
            "demo precision takes a number for --loss-scale (the static run's scale); its \
             last run always uses dynamic scaling"
        ),
    };
    let run = |precision: Precision, loss_scale: Option<LossScale>| ProbeConfig {
        precision,
        kind: ProbeKind::Mlp(Mlp {
            loss_scale,
            ..base.mlp().cloned().unwrap_or_default()
        }),
        ..base.clone()
    };
    Ok(vec![
        Planned::main("f32", run(Precision::F32, None)),
        Planned::main("bf16", run(Precision::Bf16, None)),
        Planned::main("f16", run(Precision::F16, None)),
        Planned::main(
            "f16+scale",
            run(Precision::F16, Some(LossScale::Static(scale))),
        ),
        Planned::main(
            "f16+dyn",
            run(
                Precision::F16,
                Some(LossScale::Dynamic {
                    interval: crate::nn::storage::DEFAULT_GROWTH_INTERVAL,
                }),
            ),
        ),
    ])
}

/// `layers 1–11`, or `none`.
fn zeros_text(run: &Run) -> String {
    match run.zero_layers().as_slice() {
        [] => "none".into(),
        z => span_of(z),
    }
}

fn conclude(_: &Settings, report: &mut Report) {
    let [f32_run, ..] = report.runs.as_slice() else {
        return;
    };
    let reference = f32_run
        .layers()
        .first()
        .map_or(f64::NAN, |l| l.figures.grad_norm);
    let rows = report
        .runs
        .iter()
        .map(|r| {
            let first = r.layers().first().map_or(f64::NAN, |l| l.figures.grad_norm);
            vec![
                r.label.clone(),
                zeros_text(r),
                r.loss_scale_used.map_or("·".into(), figure),
                pretty(first),
                if reference > 0.0 && first.is_finite() {
                    format!("{:.3}", first / reference)
                } else {
                    "·".into()
                },
            ]
        })
        .collect();
    report.tables.push(
        Table::new(
            "Layers whose ‖∂L/∂W‖ is exactly 0, and layer 1's gradient against f32's",
            &["run", "exactly 0", "scale", "‖∂L/∂W_1‖", "÷ f32"],
            rows,
        )
        .with_legend(
            "scale: the loss scale the pass used (dynamic: after its halvings); ÷ f32: layer \
             1's ‖∂L/∂W‖ over the f32 run's (1.000: the same).",
        ),
    );
    let mut verdicts: Vec<String> = report.runs.iter().map(verdict).collect();
    report.verdicts.append(&mut verdicts);
    let mut notes = Vec::new();
    // A restored gradient can still be coarse: scaled, its entries may sit among the
    // subnormals, where f16 has few bits left.
    for run in report.runs.iter().filter(|r| r.loss_scale_used.is_some()) {
        let first = run
            .layers()
            .first()
            .map_or(f64::NAN, |l| l.figures.grad_norm);
        let ratio = first / reference;
        let scale = run.loss_scale_used.unwrap_or(f64::NAN);
        // ‖∂L/∂W_1‖·S bounds every scaled entry: below the smallest normal, all are subnormal.
        let subnormal = first * scale < half::f16::MIN_POSITIVE.to_f64();
        if first > 0.0 && reference > 0.0 && (ratio - 1.0).abs() > 0.1 && subnormal {
            let grad = Term::of(Figure::GradFirst, run);
            let premises = vec![
                grad.clone()
                    .over(Term::of(Figure::GradFirst, f32_run))
                    .outside(1.0, 0.1),
                grad.times(Term::own(Own::LossScaleUsed, run))
                    .lt(half::f16::MIN_POSITIVE.to_f64()),
            ];
            let text = format!(
                "{}: layer 1's gradient is back, but at {:.2}× f32's: scaled by {}, its \
                 entries still sit below f16's smallest normal number {}, where the spacing \
                 between values is fixed at {} and few significant bits are left; a larger \
                 scale keeps more of them.",
                run.label,
                ratio,
                figure(scale),
                pretty(half::f16::MIN_POSITIVE.to_f64()),
                pretty(Storage::F16.smallest()),
            );
            notes.push(Verdict::new(text, premises));
        }
    }
    for v in notes {
        report.note(v);
    }
}

/// One run's line: which layers got exactly 0, at which scale.
fn verdict(run: &Run) -> String {
    let scale = match (
        run.config.mlp().and_then(|m| m.loss_scale),
        run.loss_scale_used,
    ) {
        (Some(LossScale::Dynamic { .. }), Some(s)) => {
            format!(" with dynamic loss scaling (scale used: {})", figure(s))
        }
        (Some(_), Some(s)) => format!(" with a static loss scale of {}", figure(s)),
        _ => String::new(),
    };
    if let Some(n) = run.nonfinite {
        let what = if n.nan {
            "became NaN"
        } else {
            "overflowed to inf"
        };
        return format!(
            "{}{scale}: a value {what} at layer {} in the {} pass.",
            run.config.precision, n.layer, n.pass
        );
    }
    match run.zero_layers().as_slice() {
        [] => format!(
            "{}{scale}: no layer's gradient is exactly 0; layer 1 gets {}.",
            run.config.precision,
            pretty(run.layers()[0].figures.grad_norm)
        ),
        z => format!(
            "{}{scale}: layers {} receive a gradient of exactly 0 ({} layers of {}).",
            run.config.precision,
            span_of(z),
            z.len(),
            run.layers().len()
        ),
    }
}
