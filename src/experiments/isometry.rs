//! The singular values of the input–output Jacobian J = ∂a_L/∂a_0: Gaussian against
//! orthogonal weights, for tanh at criticality, ReLU with He's scale and linear units
//! (Saxe et al. 2014; Pennington, Schoenholz & Ganguli 2017).

use super::describe::layers;
use super::{Experiment, Planned};
use crate::format::{num, pretty, sci};
use crate::nn::{Activation, Init};
use crate::probe::{Precision, ProbeConfig, ProbeKind};
use crate::report::{Figure, Report, Run, Table, Term, TheoryLine, Verdict};
use crate::settings::{Knob, Settings};
use crate::theory::critical_sigma_w;
use anyhow::{Result, bail};

/// Inputs (the probe batch's first rows) at which J is taken, at most the batch.
pub(super) const INPUTS: usize = 4;
/// σ_b when none is given: with none, tanh's χ = 1 point is σ_w = 1, where the pre-activations
/// shrink toward tanh's linear middle.
pub(super) const DEFAULT_BIAS_STD: f64 = 0.0;

pub(super) const EXPERIMENT: Experiment = Experiment {
    name: "isometry",
    summary: "singular values of the input–output Jacobian: Gaussian vs orthogonal weights, \
              tanh on the χ = 1 line vs ReLU (He) vs linear",
    describe,
    defaults: || Settings {
        depth: Some(32),
        precision: Some(Precision::F64),
        bias_std: Some(DEFAULT_BIAS_STD),
        ..Settings::default()
    },
    fixed: &[
        Knob::Activation,
        Knob::Init,
        Knob::Std,
        Knob::Bn,
        Knob::Residual,
        Knob::ClipNorm,
        Knob::Norm,
        Knob::BranchScale,
        Knob::LossScale,
    ],
    fixed_why: "it compares plain networks' activations and initializers, each at the scale mean-field \
                theory puts at χ = 1",
    metrics: &[],
    plan,
    conclude,
    extend: None,
    // The singular-value table; σ95/σ5 in the depth sweep, whose row at the run's own
    // depth is the same tanh network.
    // orth-tanh's verdict also compares its factor with mean-field theory's.
    prints: |run| match run.config.spec.activation {
        Activation::Tanh if run.label == "orth-tanh" => &[
            Figure::ConditionNumber,
            Figure::SpectrumMedian,
            Figure::SpectrumSpread,
            Figure::NullPercent,
            Figure::PredictedFactor,
            Figure::MeasuredFactor,
        ],
        Activation::Tanh => &[
            Figure::ConditionNumber,
            Figure::SpectrumMedian,
            Figure::SpectrumSpread,
            Figure::NullPercent,
        ],
        _ => &[
            Figure::ConditionNumber,
            Figure::SpectrumMedian,
            Figure::NullPercent,
        ],
    },
};

/// σ_w on tanh's χ = 1 line for the run's σ_b.
/// Rounded to 4 decimals, so the initializer reads `orthogonal:1` rather than a bisection's
/// last digits.
fn tanh_sigma_w(cfg: &ProbeConfig) -> Option<f64> {
    critical_sigma_w(Activation::Tanh, bias_std(cfg)).map(|s| (s * 1e4).round() / 1e4)
}

/// σ_b of the hidden biases.
fn bias_std(cfg: &ProbeConfig) -> f64 {
    cfg.mlp().map_or(0.0, |m| m.bias_std)
}

/// The six networks: (label, activation, initializer) at the settings' shape.
fn configs(base: &ProbeConfig) -> Result<Vec<(String, ProbeConfig)>> {
    let Some(sw) = tanh_sigma_w(base) else {
        bail!(
            "tanh has no χ = 1 point with --bias-std {}: choose a σ_b below 2",
            crate::format::echo(bias_std(base))
        );
    };
    let width = base.spec.input as f64;
    let nets = [
        (
            "gauss-tanh",
            Activation::Tanh,
            Init::Normal(Some(sw / width.sqrt())),
        ),
        ("orth-tanh", Activation::Tanh, Init::Orthogonal(Some(sw))),
        ("gauss-relu", Activation::Relu, Init::HeNormal),
        (
            "orth-relu",
            Activation::Relu,
            Init::Orthogonal(Some(2f64.sqrt())),
        ),
        ("gauss-lin", Activation::Linear, Init::LecunNormal),
        ("orth-lin", Activation::Linear, Init::Orthogonal(Some(1.0))),
    ];
    Ok(nets
        .into_iter()
        .map(|(label, act, init)| {
            let mut cfg = base.clone().with_init(init);
            cfg.spec.activation = act;
            if let ProbeKind::Mlp(m) = &mut cfg.kind {
                m.jacobian_inputs = INPUTS.min(base.batch);
            }
            (label.to_string(), cfg)
        })
        .collect())
}

/// The depths of the sweep: L/8, L/4, L/2, L and 2L (those ≥ 1, each once).
pub(super) fn sweep_depths(depth: usize) -> Vec<usize> {
    let mut d: Vec<usize> = [depth / 8, depth / 4, depth / 2, depth, 2 * depth]
        .into_iter()
        .filter(|&d| d >= 1)
        .collect();
    d.dedup();
    d
}

fn plan(s: &Settings) -> Result<Vec<Planned>> {
    let base = s.probe_config()?;
    let nets = configs(&base)?;
    let mut runs: Vec<Planned> = nets
        .iter()
        .map(|(label, cfg)| Planned::main(label.clone(), cfg.clone()))
        .collect();
    // The depth sweep: the two tanh networks, which differ only in their weights' spectrum.
    for d in sweep_depths(base.depth()) {
        for (label, cfg) in nets.iter().take(2) {
            let mut cfg = cfg.clone();
            cfg.spec.hidden = vec![base.spec.input; d];
            runs.push(Planned::sweep(format!("{label}@{d}"), cfg));
        }
    }
    Ok(runs)
}

fn describe(cfg: &ProbeConfig) -> String {
    let sw = tanh_sigma_w(cfg).map_or("(none)".into(), num);
    let runs = configs(cfg).map_or(String::new(), |nets| {
        let list: Vec<String> = nets
            .iter()
            .map(|(l, c)| format!("{l} {} {}", c.spec.activation, c.spec.init.prose()))
            .collect();
        format!(
            " Runs (label, activation, initializer): {}.",
            list.join("; ")
        )
    });
    let depths: Vec<String> = sweep_depths(cfg.depth())
        .iter()
        .map(|d| d.to_string())
        .collect();
    format!(
        "The input–output Jacobian J = ∂a_L/∂a_0 of six networks of {}, {}, {}, taken at {} \
         inputs of the probe batch: how much each direction of a small change at the input is \
         stretched on its way up (and, transposed, how the backprop signal is). Gaussian \
         weights against orthogonal ones of the same scale, for tanh with σ_w = {sw}, where \
         mean-field theory puts χ = 1 at the fixed point the pre-activations settle to for \
         this σ_b; ReLU with σ_w = √2 (He, χ = 1); linear units with σ_w = 1. ReLU and linear \
         have χ = 1 at every layer. tanh's χ_l only approaches 1 as its pre-activations \
         shrink toward that fixed point, layer by layer, from the unit-variance input, so its \
         χ_l stays below 1 and its J is scaled down as well as spread.{runs} The depth sweep measures the two tanh networks at \
         depths {}.",
        layers(cfg),
        cfg.precision,
        match bias_std(cfg) {
            0.0 => "zero biases".to_string(),
            b => format!("hidden biases ~ N(0, {b}²)"),
        },
        INPUTS.min(cfg.batch),
        depths.join(", "),
    )
}

/// κ as the tables show it: `≥1e12` where f64 cannot resolve the smallest singular value.
pub(super) fn kappa_text(k: f64) -> String {
    if k.is_finite() {
        sci(k)
    } else {
        "≥1e12".into()
    }
}

/// A run's spectrum cells: min, 5 %, median, 95 %, max, condition number, share erased.
fn spectrum_row(run: &Run) -> Vec<String> {
    let Some(s) = &run.spectrum() else {
        return vec![run.label.clone()];
    };
    vec![
        run.label.clone(),
        sci(s.min),
        sci(s.p5),
        sci(s.median),
        sci(s.p95),
        sci(s.max),
        kappa_text(s.condition_number),
        format!("{:.0}%", s.null_percent),
    ]
}

fn kappa(run: &Run) -> Option<f64> {
    run.spectrum().map(|s| s.condition_number)
}

fn conclude(_: &Settings, report: &mut Report) {
    let rows = report.runs.iter().map(spectrum_row).collect();
    report.tables.push(
        Table::new(
            "Singular values of J (all inputs together)",
            &["network", "min", "5%", "median", "95%", "max", "κ", "≈0"],
            rows,
        )
        .with_legend(
            "κ = σ_max/σ_min of each J (median over the inputs): how unevenly J treats \
             directions; ≈0: singular values at or below 1e−12·σ_max, directions J erases.",
        ),
    );
    // The sweep: κ and the 95 %/5 % spread of the two tanh networks at each depth.
    let mut rows = Vec::new();
    for pair in report.side_runs.chunks(2) {
        let [g, o] = pair else { continue };
        let spread = |r: &Run| r.spectrum().map(|s| s.p95 / s.p5);
        let k = |v: Option<f64>| v.map_or("·".into(), kappa_text);
        rows.push(vec![
            g.config.depth().to_string(),
            k(kappa(g)),
            k(kappa(o)),
            k(spread(g)),
            k(spread(o)),
        ]);
    }
    // No sweep when only the figures were wanted (`Experiment::figures`): no table, no verdict.
    if !rows.is_empty() {
        report.tables.push(
            Table::new(
                "Depth sweep, tanh at σ_w on the χ = 1 line",
                &["depth", "κ gauss", "κ orth", "σ95/σ5 gauss", "σ95/σ5 orth"],
                rows,
            )
            .with_legend("σ95/σ5: the 95th over the 5th percentile of the singular values."),
        );
    }
    let spread_of = |runs: &[Run], i: usize| -> Vec<(usize, f64, f64, String)> {
        runs.chunks(2)
            .filter_map(|p| {
                let r = p.get(i)?;
                let s = r.spectrum()?;
                Some((
                    r.config.depth(),
                    s.condition_number,
                    s.p95 / s.p5,
                    r.label.clone(),
                ))
            })
            .collect()
    };
    let (g, o) = (
        spread_of(&report.side_runs, 0),
        spread_of(&report.side_runs, 1),
    );
    if let (Some(g0), Some(g1), Some(o0), Some(o1)) = (g.first(), g.last(), o.first(), o.last()) {
        let range = |v: &[(usize, f64, f64, String)], f: fn(&(usize, f64, f64, String)) -> f64| {
            let lo = v.iter().map(f).fold(f64::INFINITY, f64::min);
            let hi = v.iter().map(f).fold(f64::NEG_INFINITY, f64::max);
            (lo, hi)
        };
        let (slo, shi) = range(&o, |x| x.2);
        let beyond = g
            .iter()
            .find(|x| !x.1.is_finite())
            .map_or(String::new(), |x| {
                format!(" (past what f64 resolves from depth {} on)", x.0)
            });
        let (kr, dr) = (o1.1 / o0.1, o1.0 as f64 / o0.0 as f64);
        // κ's growth over the sweep against the depth's: worded from the two ratios.
        let kappa_of = |label: &str| Term::Of(Figure::ConditionNumber, label.into());
        let q = kappa_of(&o1.3).over(kappa_of(&o0.3)).over(dr);
        let (linear, mut premises) = match kr / dr {
            _ if !kr.is_finite() || dr <= 1.0 => ("", Vec::new()),
            x if x < 0.8 => (
                ": more slowly than depth, not exponentially",
                vec![q.lt(0.8)],
            ),
            x if x <= 1.25 => (
                ": about in proportion to depth, not exponentially",
                vec![q.clone().at_least(0.8), q.at_most(1.25)],
            ),
            x if x <= 2.0 => (
                ": somewhat faster than depth, but not exponentially",
                vec![q.clone().gt(1.25), q.at_most(2.0)],
            ),
            _ => ("", Vec::new()),
        };
        if let Some(x) = g.iter().find(|x| !x.1.is_finite()) {
            premises.push(Term::Of(Figure::ConditionNumber, x.3.clone()).gt(1e12));
        }
        let text = format!(
            "Depth sweep: Gaussian tanh's κ goes from {} at depth {} to {} at depth \
             {}{beyond}; orthogonal tanh's from {} to {} (×{:.0} for {}× the depth{linear}), while its σ95/σ5 stays between {} and {} (×{:.1} over the \
             sweep) and the Gaussian one goes from {} to {}.",
            kappa_text(g0.1),
            g0.0,
            kappa_text(g1.1),
            g1.0,
            kappa_text(o0.1),
            kappa_text(o1.1),
            kr,
            o1.0 / o0.0,
            pretty(slo),
            pretty(shi),
            shi / slo,
            kappa_text(g0.2),
            kappa_text(g1.2),
        );
        report.verdict(Verdict::new(text, premises));
    }
    // The sweep lives on in its table and verdict; its per-layer data stays out of the
    // report, kept aside for the verdict's premises.
    report.set_aside = std::mem::take(&mut report.side_runs);
    let find = |l: &str| report.runs.iter().find(|r| r.label == l);
    let mut lines = Vec::new();
    if let Some(r) = find("orth-tanh")
        && let TheoryLine::Compared {
            predicted_factor,
            predicted_orders,
            measured_factor: Some(measured),
            ..
        } = r.theory
        && let Some(s) = &r.spectrum()
    {
        let premises = vec![
            Term::of(Figure::PredictedFactor, r).lt(1.0),
            Term::of(Figure::SpectrumMedian, r).lt(1.0),
        ];
        let text = format!(
            "tanh is not at χ = 1 layer by layer: from the unit-variance input its \
             pre-activations shrink only slowly toward the fixed point where χ = 1, so χ_l < 1 \
             at every layer. Mean-field theory's per-layer factor on the backprop signal is \
             ×{} on average over the {} layers ({predicted_orders:+.2} orders in all; measured ×{}), and \
             orth-tanh's median singular value is {}: its J is scaled down as well as spread.",
            num(predicted_factor),
            r.config.depth(),
            num(measured),
            pretty(s.median),
        );
        lines.push(Verdict::new(text, premises));
    }
    if let Some(r) = find("orth-relu")
        && let Some(s) = r.spectrum()
    {
        let (erased, premise) = if s.null_percent > 0.0 {
            (
                format!(
                    "{:.0}% of its singular values are numerically 0 (J erases those directions)",
                    s.null_percent
                ),
                Term::of(Figure::NullPercent, r).gt(0.0),
            )
        } else {
            (
                format!(
                    "its singular values still span κ = {}",
                    pretty(s.condition_number)
                ),
                Term::of(Figure::NullPercent, r).at_most(0.0),
            )
        };
        let text = format!(
            "ReLU with orthogonal weights: {erased}. Each layer switches off the units with \
             h ≤ 0, about half of them for each input, and multiplies those directions by 0; \
             with i.i.d. or orthogonal weights and zero biases the next layer cannot restore \
             them, so such a ReLU network is not an isometry (mirrored \"looks-linear\" \
             weights, each unit paired with its negative, would be)."
        );
        lines.push(Verdict::new(text, vec![premise]));
    }
    if let (Some(g), Some(o)) = (find("gauss-lin"), find("orth-lin"))
        && let (Some(kg), Some(ko)) = (kappa(g), kappa(o))
    {
        // Gaussian weights spread the spectrum, orthogonal ones keep it.
        let premise = Term::of(Figure::ConditionNumber, g).gt(Term::of(Figure::ConditionNumber, o));
        let text = format!(
            "Linear: χ = 1 at every layer for both, but κ {} with Gaussian weights against {} \
             with orthogonal ones, whose product is itself orthogonal.",
            match kg.is_finite() {
                true => format!("= {}", sci(kg)),
                false => "≥ 1e12".to_string(),
            },
            kappa_text(ko)
        );
        lines.push(Verdict::new(text, vec![premise]));
    }
    for v in lines {
        report.verdict(v);
    }
}
