//! The order-to-chaos phase diagram of tanh networks (Poole et al. 2016; Schoenholz et al.
//! 2017): the measured per-layer change of the backprop signal over a grid of weight scales
//! σ_w and bias scales σ_b, beside mean-field theory's χ = 1 line.

use super::describe::layers;
use super::{Experiment, Planned};
use crate::format::num;
use crate::nn::{Activation, Init};
use crate::probe::{ProbeConfig, ProbeKind};
use crate::report::{
    MapFigure, PhaseCell, PhaseMap, Report, ReportBody, Term, TheoryLine, Verdict,
};
use crate::settings::{Knob, Settings};
use crate::theory::{chi_at_fixed_point, critical_sigma_w, depth_scale};
use anyhow::Result;

/// σ_w = 0.5, 0.75, …, 4: the columns.
pub(super) fn sigma_ws() -> Vec<f64> {
    (0..15).map(|i| 0.5 + 0.25 * i as f64).collect()
}

/// σ_b = 0, 0.05, …, 0.5: the rows.
pub(super) fn sigma_bs() -> Vec<f64> {
    (0..11).map(|i| 0.05 * i as f64).collect()
}

pub(super) const EXPERIMENT: Experiment = Experiment {
    name: "phase",
    summary: "tanh's order-to-chaos phase diagram: measured gradient change per layer over \
              σ_w × σ_b, with the χ = 1 line",
    describe,
    defaults: || Settings {
        depth: Some(20),
        batch: Some(32),
        ..Settings::default()
    },
    fixed: &[
        Knob::Activation,
        Knob::Init,
        Knob::Std,
        Knob::BiasStd,
        Knob::Bn,
        Knob::Residual,
        Knob::ClipNorm,
        Knob::Norm,
        Knob::BranchScale,
    ],
    fixed_why: "it sweeps the weight and bias scales of a plain tanh network",
    metrics: &[],
    plan,
    conclude,
    extend: None,
    prints: |_| &[],
};

fn describe(cfg: &ProbeConfig) -> String {
    let (w, b) = (sigma_ws(), sigma_bs());
    format!(
        "{} tanh networks of {}, {}, one per cell of a grid: weights ~ N(0, σ_w²/n_in) with \
         σ_w from {} to {}, hidden biases ~ N(0, σ_b²) with σ_b from {} to {}. Each cell is the \
         measured log₁₀ of the backprop signal's per-layer factor, (‖∂L/∂h_1‖/‖∂L/∂z‖)^(1/{}) \
         with z the logits: negative is the ordered phase (gradients vanish), \
         positive the chaotic one (they explode). The │ stands just past where mean-field \
         theory puts χ = 1 in each row: χ at the fixed point q* that the pre-activations of \
         deep layers settle to. With {} layers fed unit-variance input the pre-activations \
         have not reached q* when σ_b is small, so a cell on or near the line, just left of │, \
         can still vanish slightly. The cell σ_w = 1, σ_b = 0 \
         ({} init) is kept as the run in --json.",
        w.len() * b.len(),
        layers(cfg),
        cfg.precision,
        num(w[0]),
        num(w[w.len() - 1]),
        num(b[0]),
        num(b[b.len() - 1]),
        cfg.depth(),
        cfg.depth(),
        Init::Normal(Some(1.0 / (cfg.spec.input as f64).sqrt())).prose(),
    )
}

fn plan(s: &Settings) -> Result<Vec<Planned>> {
    let base = s.probe_config()?;
    let n = base.spec.input as f64;
    let mut runs = Vec::new();
    for &sb in &sigma_bs() {
        for &sw in &sigma_ws() {
            let mut cfg = base.clone().with_init(Init::Normal(Some(sw / n.sqrt())));
            cfg.spec.activation = Activation::Tanh;
            if let ProbeKind::Mlp(m) = &mut cfg.kind {
                m.bias_std = sb;
            }
            runs.push(Planned::side(format!("σ_w {sw} σ_b {sb}"), cfg));
        }
    }
    Ok(runs)
}

fn conclude(_: &Settings, report: &mut Report) {
    let (ws, bs) = (sigma_ws(), sigma_bs());
    // The grid's runs become the map's cells; the per-layer data of 165 runs stays out but
    // for the one cell kept below.
    let runs = std::mem::take(&mut report.side_runs);
    let cells: Vec<PhaseCell> = runs
        .iter()
        .enumerate()
        .map(|(i, run)| {
            let (sw, sb) = (ws[i % ws.len()], bs[i / ws.len()]);
            let measured = match run.theory {
                TheoryLine::Compared {
                    measured_factor, ..
                } => measured_factor.map(libm::log10),
                TheoryLine::NotApplicable { .. } => None,
            };
            let chi = chi_at_fixed_point(Activation::Tanh, sw, sb);
            PhaseCell {
                sigma_w: sw,
                sigma_b: sb,
                log10_per_layer: measured,
                chi,
                depth_scale: depth_scale(chi),
            }
        })
        .collect();
    let critical = bs
        .iter()
        .map(|&sb| critical_sigma_w(Activation::Tanh, sb))
        .collect();
    let network = runs.first().map_or(String::new(), |r| {
        let parts = r.config.parts().into_iter();
        let shared = parts.filter(|(k, v)| !matches!(*k, "init" | "bias") && !v.is_empty());
        shared.map(|(_, v)| v).collect::<Vec<_>>().join(" · ")
    });
    let map = PhaseMap {
        network,
        sigma_w: ws,
        sigma_b: bs,
        critical_sigma_w: critical,
        cells,
    };
    // Agreement: cells on the measured side of 0 that theory puts on the same side of χ = 1.
    let judged: Vec<bool> = map
        .cells
        .iter()
        .filter_map(|c| {
            let m = c.log10_per_layer?;
            (m.abs() > 0.02 && (c.chi - 1.0).abs() > 0.05).then_some((m > 0.0) == (c.chi > 1.0))
        })
        .collect();
    let agree = judged.iter().filter(|&&a| a).count();
    report.verdicts.push(format!(
        "In {agree} of {} cells with a clear measured and predicted sign (|measured| > 0.02 \
         orders per layer, |χ − 1| > 0.05), the measured sign agrees with mean-field \
         theory's phase.",
        judged.len()
    ));
    let mut lines = Vec::new();
    if let (Some(Some(lo)), Some(Some(hi))) =
        (map.critical_sigma_w.first(), map.critical_sigma_w.last())
    {
        // Larger biases, larger weights: the line moves right as σ_b grows.
        let last = map.critical_sigma_w.len() - 1;
        let premise =
            Term::Map(MapFigure::CriticalSigmaW(last)).gt(Term::Map(MapFigure::CriticalSigmaW(0)));
        let text = format!(
            "The χ = 1 line moves from σ_w = {} at σ_b = {} to σ_w = {} at σ_b = {}: larger \
             biases push the pre-activations into tanh's flat tails, so the weights must be \
             larger to keep χ = σ_w²·E[tanh′(h)²] at 1.",
            num(*lo),
            num(map.sigma_b[0]),
            num(*hi),
            num(map.sigma_b[map.sigma_b.len() - 1]),
        );
        lines.push(Verdict::new(text, vec![premise]));
    }
    // The σ_b = 0, σ_w = 1 cell, on theory's χ = 1 line, stays as the report's run in full.
    if let Some(cell) = map.cells.get(2)
        && let Some(m) = cell.log10_per_layer
        && (cell.chi - 1.0).abs() < 0.05
        && m < -0.005
    {
        let premises = vec![
            Term::Map(MapFigure::CellChi(2)).within(1.0, 0.05),
            Term::Map(MapFigure::CellLog10(2)).lt(0.0),
        ];
        let text = format!(
            "The cell σ_w = {}, σ_b = {} lies on the χ = 1 line (χ at q* = {}), yet measures \
             {m:+.2} orders per layer: the line is χ at the fixed point q* of deep layers, and {} \
             layers fed unit-variance input are still above q*, where tanh′ is smaller, so \
             cells on the line still vanish slightly.",
            num(cell.sigma_w),
            num(cell.sigma_b),
            num(cell.chi),
            runs.get(2).map_or(0, |r| r.config.depth()),
        );
        lines.push(Verdict::new(text, premises));
    }
    report.body = ReportBody::Phase { map };
    for v in lines {
        report.verdict(v);
    }
    if let Some(edge) = runs.into_iter().nth(2) {
        report.runs = vec![edge];
    }
}
