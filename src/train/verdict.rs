//! What a training run concluded, in words computed from its history: one verdict per
//! configuration and a few lines comparing them.

use super::{Chance, Divergence, History, TrainConfig, TrainReport};
use crate::format::{num, pretty};

/// A layer whose median update moves less than this share of its weights is frozen.
const FROZEN: f64 = 1e-6;
/// Accuracy within this share of the way from chance to 100% still counts as chance level.
const NEAR_CHANCE: f64 = 0.1;
/// Train and test accuracy this far apart (in points of accuracy) are called overfitting.
const OVERFIT_GAP: f64 = 0.1;

/// An accuracy as the summary table prints it: `99.6%`.
fn pct(v: f64) -> String {
    format!("{:.1}%", 100.0 * v)
}

/// An accuracy in percent, rounded as [`pct`] prints it, so that differences agree with
/// the table.
fn rounded(v: f64) -> f64 {
    (1000.0 * v).round() / 10.0
}

/// One line on what happened to a configuration, computed from its run: the loss, both
/// accuracies against chance, the target, and how far each layer moved.
pub(super) fn verdict(report: &TrainReport, h: &History) -> String {
    let cfg = &report.config;
    if let Some(d) = h.diverged {
        return divergence(cfg, d);
    }
    let (step, train, test) = h.last();
    let mut parts = vec![format!(
        "loss {} → {} in {step} steps; accuracy {} on the training set, {} on the test set",
        num(h.initial.train.loss),
        num(train.loss),
        pct(train.accuracy),
        pct(test.accuracy)
    )];
    parts.push(match h.steps_to_target {
        Some(s) => format!(
            "loss ≤ {} by step {s}",
            crate::format::echo(cfg.target_loss)
        ),
        None => format!(
            "loss never reached {}",
            crate::format::echo(cfg.target_loss)
        ),
    });
    if let Some(ls) = &h.loss_scale {
        let first = ls.scales.first().map_or(ls.final_scale, |c| c.scale);
        parts.push(format!(
            "loss scaling skipped {} (inf or NaN in the scaled gradients), scale {} → {}",
            crate::format::count(ls.skipped_steps, "step", "steps"),
            crate::format::figure(first),
            crate::format::figure(ls.final_scale)
        ));
    }
    let chance = report.chance;
    let near = |acc: f64, base: f64| acc < base + NEAR_CHANCE * (1.0 - base);
    // The training set is what the network fits: at chance there, it has learned nothing,
    // whatever a small test set says by luck.
    let learned_nothing = near(train.accuracy, chance.train_accuracy);
    let ratios = update_ratios(h);
    if learned_nothing {
        parts.push(chance_level(train.loss, chance, cfg.data.classes()));
        if let Some(r) = &ratios
            && !r.frozen
        {
            // Adam rescales each parameter's step to about η whatever its gradient: its
            // moving layers say nothing about the gradient. Only Adam runs are told so.
            let adam = match cfg.optimizer_of(&h.variant) {
                super::OptimizerName::Adam => {
                    " (Adam rescales every step to about η, so its layers move even where the \
                     gradient is tiny)"
                }
                super::OptimizerName::Sgd | super::OptimizerName::Momentum => "",
            };
            parts.push(format!(
                "{}, so updates that reach every layer are not the same as learning: every \
                 layer moves{adam}, but the updates have not found a better answer than a guess",
                r.text
            ));
            return parts.join("; ") + ".";
        }
    } else if rounded(train.accuracy) - rounded(test.accuracy) >= 100.0 * OVERFIT_GAP {
        let carried = if near(test.accuracy, chance.test_accuracy) {
            format!(
                ", and {} on the test set is close to the {} of always answering the most \
                 common class",
                pct(test.accuracy),
                pct(chance.test_accuracy)
            )
        } else {
            String::new()
        };
        parts.push(format!(
            "train and test accuracy are {:.1} points apart: the network has fitted its \
             training examples rather than the rule behind them (overfitting){carried}",
            rounded(train.accuracy) - rounded(test.accuracy)
        ));
    }
    parts.extend(ratios.map(|r| r.text));
    parts.join("; ") + "."
}

/// What accuracy at chance level means, with the loss a constant guess has.
fn chance_level(loss: f64, chance: Chance, classes: usize) -> String {
    let mut s = format!(
        "that is at or near chance level: always answering the most common class scores {} on the \
         training set ({} on the test set)",
        pct(chance.train_accuracy),
        pct(chance.test_accuracy)
    );
    if (loss - chance.loss).abs() <= 0.05 * chance.loss {
        let k = classes as f64;
        let reference = if (chance.loss - libm::log(k)).abs() < 0.005 {
            format!("ln {classes} = {}", num(libm::log(k)))
        } else {
            num(chance.loss)
        };
        s.push_str(&format!(
            ", and the loss, {}, is close to {reference}, the cross-entropy of predicting the \
             class frequencies whatever the input",
            num(loss)
        ));
    }
    s
}

/// What went non-finite, where, and what to try.
pub(super) fn divergence(cfg: &TrainConfig, d: Divergence) -> String {
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

/// How far the layers' weights moved per step (median ‖ΔW‖/‖W‖), in words.
struct Ratios {
    text: String,
    /// Some layer moved less than [`FROZEN`] of its weights per step.
    frozen: bool,
}

/// How far the least- and most-moving layers' weights moved per step (median ‖ΔW‖/‖W‖).
fn update_ratios(h: &History) -> Option<Ratios> {
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
    let frozen = r_lo < FROZEN;
    let text = if frozen {
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
            "every layer moved {} of its weights per step",
            crate::format::range(r_lo, r_hi)
        )
    };
    Some(Ratios { text, frozen })
}

/// Lines comparing the configurations of a report (none for a single run).
pub(super) fn comparison(report: &TrainReport) -> Vec<String> {
    if report.runs.len() < 2 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let reached: Vec<(&History, usize)> = report
        .runs
        .iter()
        .filter_map(|h| h.steps_to_target.map(|s| (h, s)))
        .collect();
    let target = crate::format::echo(report.config.target_loss);
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
