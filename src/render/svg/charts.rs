//! What the charts of a `demo` and of a `train` comparison show, read from their reports.

use super::{Chart, Guide, Kind, Series, XAxis};
use crate::format::{num, power_of_ten};
use crate::report::{Body, Report, Run};
use crate::train::{Checkpoint, History, RULE_OF_THUMB_UPDATE_RATIO, TrainReport};

/// The x axis of per-layer charts: every layer, 1 to `layers`.
fn layer_axis(layers: usize) -> XAxis {
    XAxis {
        label: "layer (1 = next to the input; the last is the output layer)".into(),
        from: 1.0,
        to: layers.max(1) as f64,
        whole: true,
    }
}

/// The settings every run shares, in the order the text view prints them; with several
/// seeds, how many and that the lines are medians.
fn shared_settings(runs: &[Run]) -> String {
    let all: Vec<Vec<(&str, String)>> = runs.iter().map(|r| r.config.parts()).collect();
    let Some(first) = all.first() else {
        return String::new();
    };
    let seeds = &runs[0].seeds;
    let many = seeds.len() > 1;
    let mut parts: Vec<String> = first
        .iter()
        .enumerate()
        .filter(|(k, (key, value))| {
            // With several seeds, the seed of the first is not the runs' seed.
            let seed = many && *key == "seed";
            !value.is_empty()
                && !seed
                && all.iter().all(|p| p.get(*k).is_some_and(|o| o.1 == *value))
        })
        .map(|(_, (_, value))| value.clone())
        .collect();
    if let (true, Some(lo), Some(hi)) = (many, seeds.iter().min(), seeds.iter().max()) {
        parts.push(format!("median of {} seeds ({lo}–{hi})", seeds.len()));
    }
    parts.join(" · ")
}

/// ‖∂L/∂W‖ of each run, with the seeds' min–max as a band when there are several seeds.
fn grad_series(runs: &[Run]) -> Vec<Series> {
    runs.iter()
        .enumerate()
        .map(|(i, run)| Series {
            label: run.label.clone(),
            color: i,
            kind: Kind::Measured,
            points: run
                .layers()
                .iter()
                .map(|l| (l.figures.layer as f64, l.figures.grad_norm))
                .collect(),
            band: run
                .layers()
                .iter()
                .filter_map(|l| Some((l.figures.layer as f64, l.grad_norm_min?, l.grad_norm_max?)))
                .collect(),
            floor: 0.0,
        })
        .collect()
}

/// What a band across seeds means, if the runs have several seeds.
fn seed_band(runs: &[Run]) -> Option<String> {
    let seeds = runs.first()?.seeds.len();
    (seeds > 1).then(|| format!("min–max over the {seeds} seeds"))
}

/// A demo's charts: per-layer ‖∂L/∂W‖ of its runs (with the seeds' range), per-layer
/// ‖∂L/∂h‖ beside mean-field theory's prediction, and a sweep's runs when it has one.
pub fn demo_charts(report: &Report) -> Vec<Chart> {
    match report.runs.first().map(|r| &r.body) {
        Some(Body::Steps(_)) => vec![step_chart(report)],
        Some(Body::Spectra { .. }) => vec![spectrum_chart(report)],
        Some(Body::Attention(_)) => attention_charts(report),
        Some(Body::Sweep(_)) => sweep_charts(report),
        Some(Body::Layers(_)) | None => layer_charts(report),
    }
}

/// `demo attention`: per d_k (on a log₂ axis), the logits' variance beside its theory, and
/// the gradient norms reaching W_Q and W_K.
fn attention_charts(report: &Report) -> Vec<Chart> {
    let runs = &report.runs;
    let d_k = |r: &Run| match &r.config.kind {
        crate::probe::ProbeKind::Attention(a) => a.d_k as f64,
        _ => 1.0,
    };
    let x = |r: &Run| libm::log2(d_k(r));
    let (lo, hi) = runs
        .iter()
        .map(x)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let axis = || XAxis {
        label: "log₂ d_k (4 = 16, 6 = 64, 8 = 256, 10 = 1024)".into(),
        from: if lo.is_finite() { lo } else { 0.0 },
        to: if hi.is_finite() && hi > lo {
            hi
        } else {
            lo + 1.0
        },
        whole: false,
    };
    let series =
        |label: &str, color: usize, kind: Kind, pick: &dyn Fn(&Run) -> Option<f64>| Series {
            label: label.into(),
            color,
            kind,
            points: runs.iter().filter_map(|r| Some((x(r), pick(r)?))).collect(),
            band: Vec::new(),
            floor: 0.0,
        };
    let settings = shared_settings(runs);
    vec![
        Chart {
            title: "demo attention: variance of the logits z = q·k / c".into(),
            subtitle: format!("{settings}. Dashed: theory, d_k·σ⁴·(1 + 2/(d_model·T)) / c²."),
            x: axis(),
            y_label: "Var(z) (log scale)".into(),
            series: vec![
                series("measured", 0, Kind::Measured, &|r| {
                    r.attention().map(|a| a.figures.logit_var)
                }),
                series("theory", 0, Kind::Theory, &|r| {
                    r.attention().and_then(|a| a.logit_var_theory)
                }),
            ],
            guides: Vec::new(),
            band_label: seed_band(runs),
        },
        Chart {
            title: "demo attention: gradient reaching the projections".into(),
            subtitle: settings,
            x: axis(),
            y_label: "‖∂L/∂W‖ (Frobenius norm, log scale)".into(),
            series: vec![
                series("W_Q", 0, Kind::Measured, &|r| {
                    r.attention().map(|a| a.figures.grad_wq)
                }),
                series("W_K", 1, Kind::Measured, &|r| {
                    r.attention().map(|a| a.figures.grad_wk)
                }),
            ],
            guides: Vec::new(),
            band_label: None,
        },
    ]
}

/// A width sweep's charts, one per parameterization: the training loss after the steps
/// against log₂ η, a line per width (a diverged run is a ✕ on the top edge).
fn sweep_charts(report: &Report) -> Vec<Chart> {
    use crate::nn::mup::Parameterization;
    let mut charts = Vec::new();
    for p in [Parameterization::Standard, Parameterization::Mup] {
        let sweeps: Vec<&crate::report::Sweep> = report
            .runs
            .iter()
            .filter_map(Run::sweep)
            .filter(|s| s.param == p)
            .collect();
        let Some(first) = sweeps.first() else {
            continue;
        };
        let log2 = |lr: f64| libm::log2(lr);
        let (from, to) = (
            first.lrs.first().map_or(0.0, |&l| log2(l)),
            first.lrs.last().map_or(1.0, |&l| log2(l)),
        );
        let series = sweeps
            .iter()
            .enumerate()
            .map(|(i, s)| Series {
                label: format!("width {}", s.width),
                color: i,
                kind: Kind::Measured,
                points: s
                    .lrs
                    .iter()
                    .zip(&s.final_losses)
                    .map(|(&lr, l)| (log2(lr), l.unwrap_or(f64::NAN)))
                    .collect(),
                band: Vec::new(),
                floor: 0.0,
            })
            .collect();
        let subtitle = match report.runs.first() {
            Some(run) => format!(
                "{} · {} · depth {} · {} SGD steps of batch {} · {}{}",
                run.config.spec.activation,
                run.config.spec.init,
                run.config.depth(),
                first.steps,
                run.config.batch,
                run.config.precision,
                match p {
                    Parameterization::Mup => format!(" · base width {}", first.base_width),
                    Parameterization::Standard => String::new(),
                }
            ),
            None => String::new(),
        };
        charts.push(Chart {
            title: format!(
                "demo {}, {}: loss against learning rate η",
                report.experiment,
                p.short()
            ),
            subtitle,
            x: XAxis {
                label: "log₂ η (learning rate)".into(),
                from,
                to,
                whole: true,
            },
            y_label: "training loss after the steps (log scale)".into(),
            series,
            guides: Vec::new(),
            band_label: None,
        });
    }
    charts
}

/// Per-layer charts: ‖∂L/∂W‖ and ‖∂L/∂h‖ of the runs, and the sweep's ‖∂L/∂W‖.
fn layer_charts(report: &Report) -> Vec<Chart> {
    let runs = &report.runs;
    let layers = |runs: &[Run]| runs.iter().map(|r| r.layers().len()).max().unwrap_or(1);
    let settings = shared_settings(runs);
    let mut charts = vec![Chart {
        title: format!(
            "demo {}: weight gradient ‖∂L/∂W‖ per layer",
            report.experiment
        ),
        subtitle: settings.clone(),
        x: layer_axis(layers(runs)),
        y_label: "‖∂L/∂W‖ (Frobenius norm, log scale)".into(),
        series: grad_series(runs),
        guides: Vec::new(),
        band_label: seed_band(runs),
    }];
    let mut signal = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        signal.push(Series {
            label: run.label.clone(),
            color: i,
            kind: Kind::Measured,
            points: run
                .layers()
                .iter()
                .map(|l| (l.figures.layer as f64, l.figures.signal_norm))
                .collect(),
            band: Vec::new(),
            floor: 0.0,
        });
        if let Some(predicted) = run.theory_signal_norms() {
            signal.push(Series {
                label: format!("{} (theory)", run.label),
                color: i,
                kind: Kind::Theory,
                points: predicted.into_iter().map(|(l, v)| (l as f64, v)).collect(),
                band: Vec::new(),
                floor: 0.0,
            });
        }
    }
    let theory = signal.iter().any(|s| s.kind == Kind::Theory);
    let mut subtitle = settings;
    if theory {
        subtitle.push_str(
            ". Dashed: mean-field theory, the output layer's measured ‖∂L/∂h‖ times the \
             predicted factor √χ once per layer down.",
        );
    }
    charts.push(Chart {
        title: format!(
            "demo {}: backprop signal ‖∂L/∂h‖ per layer",
            report.experiment
        ),
        subtitle,
        x: layer_axis(layers(runs)),
        y_label: "‖∂L/∂h‖ (Frobenius norm, log scale)".into(),
        series: signal,
        guides: Vec::new(),
        band_label: None,
    });
    let side = &report.side_runs;
    if !side.is_empty() {
        charts.push(Chart {
            title: format!("demo {}: sweep, ‖∂L/∂W‖ per layer", report.experiment),
            subtitle: shared_settings(side),
            x: layer_axis(layers(side)),
            y_label: "‖∂L/∂W‖ (Frobenius norm, log scale)".into(),
            series: grad_series(side),
            guides: Vec::new(),
            band_label: seed_band(side),
        });
    }
    charts
}

/// One per-layer figure of each run over training: the median over the checkpoints, and
/// their min–max as a band.
fn over_training(report: &TrainReport, pick: fn(&Checkpoint) -> &[f64]) -> Vec<Series> {
    report
        .runs
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let spread = h.layer_spread(pick);
            let layer = |l: usize| (l + 1) as f64;
            Series {
                label: h.label.clone(),
                color: i,
                kind: Kind::Measured,
                points: spread
                    .iter()
                    .enumerate()
                    .map(|(l, s)| (layer(l), s.median))
                    .collect(),
                band: spread
                    .iter()
                    .enumerate()
                    .map(|(l, s)| (layer(l), s.min, s.max))
                    .collect(),
                floor: 0.0,
            }
        })
        .collect()
}

/// Each run's training loss: before training, then at every checkpoint; a run that
/// diverged ends with a mark at the step where a value stopped being finite.
fn loss_series(i: usize, h: &History) -> Series {
    let mut points: Vec<(f64, f64)> = std::iter::once((0.0, h.initial.train.loss))
        .chain(h.checkpoints.iter().map(|c| (c.step as f64, c.train.loss)))
        .collect();
    if let Some(d) = h.diverged {
        // The run stopped because a value there was inf or NaN: the minibatch loss, or,
        // when that is still finite, a gradient (the mark only says "not finite").
        let stopped = if d.loss.is_finite() {
            f64::INFINITY
        } else {
            d.loss
        };
        points.push((d.step as f64, stopped));
    }
    Series {
        label: h.label.clone(),
        color: i,
        kind: Kind::Measured,
        points,
        band: Vec::new(),
        floor: 0.0,
    }
}

/// A comparison's charts: the training loss of every run on one axis, then per layer the
/// gradient norms and the update sizes ‖ΔW‖/‖W‖ over training.
pub fn train_charts(report: &TrainReport) -> Vec<Chart> {
    let cfg = &report.config;
    let layers = cfg.depth + 1;
    let checkpoints = report
        .runs
        .iter()
        .map(|h| h.checkpoints.len())
        .max()
        .unwrap_or(0);
    let setup = format!(
        "{} data · {} · {} steps of {} (η {}) · batch {} · {} · seed {}",
        cfg.data.name(),
        cfg.shape_text(),
        cfg.steps,
        cfg.optimizers_text(),
        cfg.lr,
        cfg.batch,
        cfg.precision,
        cfg.seed
    );
    let over = format!(
        "Lines: the median over the {checkpoints} checkpoints (every {} steps); shaded: their \
         min–max.",
        cfg.every()
    );
    let mut guides = vec![Guide {
        y: report.chance.loss,
        label: format!("constant guess, loss {}", num(report.chance.loss)),
    }];
    if cfg.target_loss > 0.0 {
        guides.push(Guide {
            y: cfg.target_loss,
            label: format!("target, loss {}", num(cfg.target_loss)),
        });
    }
    vec![
        Chart {
            title: format!(
                "train: loss on the whole training set ({})",
                cfg.data.name()
            ),
            subtitle: setup,
            x: XAxis {
                label: "training step (0 = before the first update)".into(),
                from: 0.0,
                to: cfg.steps as f64,
                whole: false,
            },
            y_label: "cross-entropy loss (nats, log scale)".into(),
            series: report
                .runs
                .iter()
                .enumerate()
                .map(|(i, h)| loss_series(i, h))
                .collect(),
            guides,
            band_label: None,
        },
        Chart {
            title: "train: weight gradient ‖∂L/∂W‖ per layer during training".into(),
            subtitle: format!("{over} Gradients of one minibatch, before clipping."),
            x: layer_axis(layers),
            y_label: "‖∂L/∂W‖ (Frobenius norm, log scale)".into(),
            series: over_training(report, |c| &c.grad_norms),
            guides: Vec::new(),
            band_label: Some("min–max over the checkpoints".into()),
        },
        Chart {
            title: "train: update size ‖ΔW‖ / ‖W‖ per layer and step".into(),
            subtitle: over,
            x: layer_axis(layers),
            y_label: "‖ΔW‖ / ‖W‖ of one step (log scale)".into(),
            series: over_training(report, |c| &c.update_ratios),
            guides: vec![Guide {
                y: RULE_OF_THUMB_UPDATE_RATIO,
                label: format!(
                    "{}: rule of thumb for a healthy step",
                    power_of_ten(libm::log10(RULE_OF_THUMB_UPDATE_RATIO).round() as i64)
                ),
            }],
            band_label: Some("min–max over the checkpoints".into()),
        },
    ]
}

/// A recurrent report's chart: ‖∂L/∂h_t‖ against t for each run, and for an RNN the
/// linearized prediction, the measured ‖∂L/∂h_T‖ times ρ once per step back.
fn step_chart(report: &Report) -> Chart {
    let runs = &report.runs;
    let steps = |r: &Run| r.steps().map_or(0, |f| f.steps.len());
    let mut series = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let Some(f) = run.steps() else { continue };
        let points: Vec<(f64, f64)> = f
            .steps
            .iter()
            .map(|s| (s.t as f64, s.signal_norm))
            .collect();
        series.push(Series {
            label: run.label.clone(),
            color: i,
            kind: Kind::Measured,
            points,
            band: Vec::new(),
            floor: 0.0,
        });
        if let (
            crate::report::TheoryLine::Compared {
                predicted_factor, ..
            },
            Some(last),
        ) = (&run.theory, f.steps.last())
            && last.signal_norm > 0.0
            && last.signal_norm.is_finite()
        {
            let (anchor, rate) = (
                libm::log10(last.signal_norm),
                libm::log10(*predicted_factor),
            );
            let points = f
                .steps
                .iter()
                .map(|s| {
                    let back = (last.t - s.t) as f64;
                    (s.t as f64, libm::pow(10.0, anchor + back * rate))
                })
                .filter(|(_, v)| *v > 0.0 && v.is_finite())
                .collect();
            series.push(Series {
                label: format!("{} (theory)", run.label),
                color: i,
                kind: Kind::Theory,
                points,
                band: Vec::new(),
                floor: 0.0,
            });
        }
    }
    let mut subtitle = shared_settings(runs);
    if series.iter().any(|s| s.kind == Kind::Theory) {
        subtitle.push_str(
            ". Dashed: the linearized RNN, ‖∂L/∂h_T‖ times the spectral radius of \
             diag(φ′)·W_hᵀ once per step back.",
        );
    }
    Chart {
        title: format!("demo {}: ‖∂L/∂h_t‖ per time step", report.experiment),
        subtitle,
        x: XAxis {
            label: "time step t (the classifier reads h_T, at the right)".into(),
            from: 1.0,
            to: runs.iter().map(steps).max().unwrap_or(1).max(1) as f64,
            whole: true,
        },
        y_label: "‖∂L/∂h_t‖ (Frobenius norm over the batch, log scale)".into(),
        series,
        guides: Vec::new(),
        band_label: None,
    }
}

/// The smallest singular value f64 resolves, as a fraction of the largest.
const RESOLVED: f64 = 1e-12;

/// `demo isometry`: each network's singular values of J at its first input, largest first.
fn spectrum_chart(report: &Report) -> Chart {
    let runs = &report.runs;
    let first = |r: &Run| {
        r.spectrum()
            .and_then(|s| s.singular_values.first().cloned())
            .unwrap_or_default()
    };
    let n = runs.iter().map(|r| first(r).len()).max().unwrap_or(1);
    Chart {
        title: format!(
            "demo {}: singular values of J = ∂a_L/∂a_0",
            report.experiment
        ),
        subtitle: format!(
            "{}. One input; a flat line at 1 is an isometry; below 1e−12 of the largest, f64 \
             does not resolve the values: they are marked under the plot, not drawn.",
            shared_settings(runs)
        ),
        x: XAxis {
            label: "rank i (1: the largest)".into(),
            from: 1.0,
            to: n as f64,
            whole: true,
        },
        y_label: "σ_i (log scale)".into(),
        series: runs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let values = first(r);
                // What f64 resolves: 1e−12 of the largest singular value; below it, marked.
                let largest = values
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .fold(0.0, f64::max);
                Series {
                    label: r.label.clone(),
                    color: i,
                    kind: Kind::Measured,
                    points: values
                        .into_iter()
                        .enumerate()
                        .map(|(k, v)| ((k + 1) as f64, v))
                        .collect(),
                    band: Vec::new(),
                    floor: RESOLVED * largest,
                }
            })
            .collect(),
        guides: Vec::new(),
        band_label: None,
    }
}
