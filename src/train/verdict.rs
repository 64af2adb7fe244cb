//! What a training run concluded, in words computed from its history: one verdict per
//! configuration and a few lines comparing them.

use super::{Divergence, History, TrainConfig, TrainReport};
use crate::format::{num, pretty};

/// One line on what happened to a configuration, computed from its run.
pub fn verdict(cfg: &TrainConfig, h: &History) -> String {
    if let Some(d) = h.diverged {
        return divergence(cfg, d);
    }
    let (step, train, test) = h.last();
    let mut parts = vec![format!(
        "loss {} → {} in {step} steps, test accuracy {:.0}%",
        num(h.initial.train.loss),
        num(train.loss),
        100.0 * test.accuracy
    )];
    parts.push(match h.steps_to_target {
        Some(s) => format!("loss ≤ {} by step {s}", cfg.target_loss),
        None => format!("loss never reached {}", cfg.target_loss),
    });
    parts.extend(update_ratios(h));
    parts.join("; ")
}

/// What went non-finite, where, and what to try.
fn divergence(cfg: &TrainConfig, d: Divergence) -> String {
    let what = if d.loss.is_nan() {
        "the loss became NaN".to_string()
    } else if d.loss.is_infinite() {
        "the loss became infinite".to_string()
    } else {
        "the gradients overflowed".to_string()
    };
    let place = match d.first {
        Some(f) => format!(
            "; the first non-finite value ({}) appeared in layer {} during the {} pass",
            if f.nan { "NaN" } else { "±∞" },
            f.layer,
            f.pass
        ),
        None => String::new(),
    };
    let fix = if cfg.clip_norm.is_none() {
        " Try --clip-norm 1, a smaller --lr, or a variance-preserving init."
    } else {
        " Clipping did not prevent it: lower --lr or change the init."
    };
    format!("diverged at step {}: {what}{place}.{fix}", d.step)
}

/// How far the least- and most-moving layers' weights moved per step (median ‖ΔW‖/‖W‖).
fn update_ratios(h: &History) -> Option<String> {
    let ratios = h.median_update_ratios();
    let finite: Vec<(usize, f64)> = ratios
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, r)| r.is_finite())
        .collect();
    let low = finite.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1));
    let high = finite.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1));
    let ((lo, r_lo), (hi, r_hi)) = (low?, high?);
    Some(if r_lo < 1e-6 {
        format!(
            "layer {} moved {} of its weights per step: effectively frozen",
            lo + 1,
            pretty(r_lo)
        )
    } else if r_hi > 100.0 * r_lo {
        format!(
            "layer {} moved {} of its weights per step, {} times less than layer {}",
            lo + 1,
            pretty(r_lo),
            pretty(r_hi / r_lo),
            hi + 1
        )
    } else {
        format!(
            "every layer moved {}–{} of its weights per step",
            pretty(r_lo),
            pretty(r_hi)
        )
    })
}

/// Lines comparing the configurations of a report (none for a single run).
pub fn comparison(report: &TrainReport) -> Vec<String> {
    if report.runs.len() < 2 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let reached: Vec<(&History, usize)> = report
        .runs
        .iter()
        .filter_map(|h| h.steps_to_target.map(|s| (h, s)))
        .collect();
    let target = report.config.target_loss;
    match reached.iter().min_by_key(|(_, s)| *s) {
        Some((h, s)) => out.push(format!(
            "First to loss ≤ {target}: {} at step {s}; {} of {} configurations got there.",
            h.label,
            reached.len(),
            report.runs.len()
        )),
        None => out.push(format!(
            "No configuration reached loss ≤ {target} in {} steps.",
            report.config.steps
        )),
    }
    let finals: Vec<(&History, f64)> = report
        .runs
        .iter()
        .filter(|h| h.diverged.is_none())
        .map(|h| (h, h.last().1.loss))
        .collect();
    let best = finals.iter().min_by(|a, b| a.1.total_cmp(&b.1));
    let worst = finals.iter().max_by(|a, b| a.1.total_cmp(&b.1));
    if let (Some(best), Some(worst)) = (best, worst)
        && best.0.label != worst.0.label
    {
        out.push(format!(
            "Final training loss: lowest {} ({}), highest {} ({}).",
            best.0.label,
            num(best.1),
            worst.0.label,
            num(worst.1)
        ));
    }
    let diverged: Vec<&str> = report
        .runs
        .iter()
        .filter(|h| h.diverged.is_some())
        .map(|h| h.label.as_str())
        .collect();
    if !diverged.is_empty() {
        out.push(format!("Diverged: {}.", diverged.join(", ")));
    }
    out
}
