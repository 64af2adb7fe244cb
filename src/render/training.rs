//! The `train` report for a terminal: a summary table, then per configuration a loss strip
//! and a layer × time strip of ‖∂L/∂W‖, both on log scales shared by every configuration,
//! and the verdicts the run concluded (`History::verdict`, `TrainReport::comparison`).

use super::text::render_table;
use crate::format::{num, sci};
use crate::train::{self, History, TrainConfig, TrainReport};
use crate::ui::Ui;
use std::fmt::Write;

/// Eight heights, low to high.
const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Maps positive values onto [`LEVELS`] by log10 between a shared low and high.
struct LogScale {
    lo: f64,
    hi: f64,
}

impl LogScale {
    fn over(values: impl Iterator<Item = f64>) -> Option<LogScale> {
        let logs: Vec<f64> = values
            .filter(|v| v.is_finite() && *v > 0.0)
            .map(libm::log10)
            .collect();
        let lo = logs.iter().copied().reduce(f64::min)?;
        let hi = logs.iter().copied().reduce(f64::max)?;
        Some(LogScale { lo, hi })
    }

    /// The block for `v`: a space for 0, `×` for NaN or ±∞.
    fn glyph(&self, v: f64) -> char {
        if !v.is_finite() {
            return '×';
        }
        if v <= 0.0 {
            return ' ';
        }
        let t = if self.hi > self.lo {
            (libm::log10(v) - self.lo) / (self.hi - self.lo)
        } else {
            1.0
        };
        LEVELS[((t.max(0.0) * LEVELS.len() as f64) as usize).min(LEVELS.len() - 1)]
    }
}

/// `n` indices spread evenly over `0..len` (all of them when `len ≤ n`).
fn columns(len: usize, n: usize) -> Vec<usize> {
    if len <= n {
        return (0..len).collect();
    }
    (0..n).map(|i| i * (len - 1) / (n - 1).max(1)).collect()
}

/// Renders a training comparison within the width of `ui`.
pub fn render(report: &TrainReport, ui: &Ui) -> String {
    let (style, width) = (&ui.style, ui.width);
    let mut out = String::new();
    header(&mut out, report, ui);
    summary_table(&mut out, report, ui);
    let strip = width.saturating_sub(42).clamp(10, train::CHECKPOINTS);
    let (loss_scale, grad_scale) = scales(report);
    legend(
        &mut out,
        &report.config,
        (loss_scale.as_ref(), grad_scale.as_ref()),
        ui,
    );
    for h in &report.runs {
        let scales = (loss_scale.as_ref(), grad_scale.as_ref());
        block(&mut out, report, h, scales, strip, ui);
    }
    if !report.comparison.is_empty() {
        let _ = writeln!(out, "{}", "─".repeat(width.min(80)));
        for l in &report.comparison {
            for line in crate::ui::wrap(l, width) {
                let _ = writeln!(out, "{}", style.bold(&line));
            }
        }
    }
    out
}

/// What was trained on what: the data, the network, the optimizer.
fn header(out: &mut String, report: &TrainReport, ui: &Ui) {
    let cfg = &report.config;
    let d = &cfg.data;
    let _ = writeln!(out, "{}", ui.style.bold("train"));
    let examples = format!(
        "{} train / {} test examples",
        report.train_examples, report.test_examples
    );
    let data = match d.class_names() {
        None => format!(
            "Data: {}, {} classes, {} inputs, noise {} · {examples}",
            d.kind,
            d.classes(),
            d.inputs(),
            crate::format::echo(d.noise),
        ),
        Some(names) => format!(
            "Data: {}, {} classes ({}), {} inputs{} · {examples}",
            crate::format::Foreign::new(d.name()).short(60),
            d.classes(),
            class_list(&names),
            d.inputs(),
            match &d.file {
                Some(t) if t.standardized => ", standardized",
                _ => "",
            },
        ),
    };
    for line in crate::ui::wrap(&data, ui.width) {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "Network: {} · {} · seed {}",
        cfg.shape_text(),
        cfg.precision,
        cfg.seed
    );
    let mut how = format!(
        "Training: {} steps of {} (η {}) · batch {}",
        cfg.steps,
        cfg.optimizers_text(),
        crate::format::echo(cfg.lr),
        cfg.batch
    );
    if let Some(c) = cfg.clip_norm {
        let _ = write!(how, " · clip-norm {}", crate::format::echo(c));
    }
    if let Some(c) = cfg.clip_value {
        let _ = write!(how, " · clip-value {}", crate::format::echo(c));
    }
    if let Some(l) = cfg.loss_scale {
        let _ = write!(how, " · loss scale {l}");
    }
    for line in crate::ui::wrap(&how, ui.width) {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out);
}

/// Class names for a header: all of them up to 12, else the first 10 and how many more; each
/// cut to 16 characters.
fn class_list(names: &[String]) -> String {
    let shown: Vec<String> = names
        .iter()
        .take(if names.len() > 12 { 10 } else { 12 })
        .map(|n| {
            crate::format::Foreign::new(n.as_str())
                .short(16)
                .to_string()
        })
        .collect();
    match names.len() - shown.len() {
        0 => shown.join(", "),
        more => format!("{}, … {more} more", shown.join(", ")),
    }
}

/// One row per configuration: loss before → after, accuracies, when the target was reached.
fn summary_table(out: &mut String, report: &TrainReport, ui: &Ui) {
    let target = format!("loss ≤ {}", crate::format::echo(report.config.target_loss));
    let headers: Vec<String> = ["configuration", "loss", "train", "test", &target]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let rows: Vec<Vec<String>> = report
        .runs
        .iter()
        .map(|h| {
            let (_, train, test) = h.last();
            vec![
                h.label.clone(),
                format!("{} → {}", num(h.initial.train.loss), num(train.loss)),
                format!("{:.1}%", 100.0 * train.accuracy),
                format!("{:.1}%", 100.0 * test.accuracy),
                match (h.steps_to_target, h.diverged) {
                    (Some(s), _) => format!("step {s}"),
                    (None, Some(d)) => format!("diverged at {}", d.step),
                    (None, None) => "not reached".into(),
                },
            ]
        })
        .collect();
    render_table(out, &headers, &rows, ui.width);
    let mut note = format!(
        "loss: on the whole training set, before → after; train, test: accuracy on each set \
         after the last step; {target}: the first checkpoint at which the training loss was \
         that low."
    );
    if report.runs.iter().any(|h| h.diverged.is_some()) {
        note.push_str(
            " A run that diverged shows its last finite checkpoint as \"after\" (the step is in \
             its verdict).",
        );
    }
    for line in crate::ui::wrap(&note, ui.width.saturating_sub(2)) {
        let _ = writeln!(out, "  {}", ui.style.dim(&line));
    }
}

/// The log scales every configuration's strips share: the loss's and ‖∂L/∂W‖'s.
fn scales(report: &TrainReport) -> (Option<LogScale>, Option<LogScale>) {
    // A diverging run's loss would flatten every other strip: the loss scale tops out at the
    // highest starting loss of the runs that did not diverge (higher values show as full).
    let loss_scale = LogScale::over(
        report
            .runs
            .iter()
            .flat_map(|h| h.checkpoints.iter().map(|c| c.train.loss)),
    )
    .map(|mut scale| {
        let top = report
            .runs
            .iter()
            .filter(|h| h.diverged.is_none())
            .map(|h| libm::log10(h.initial.train.loss))
            .filter(|v| v.is_finite())
            .reduce(f64::max);
        if let Some(top) = top {
            scale.hi = scale.hi.min(top.max(scale.lo));
        }
        scale
    });
    let grad_scale = LogScale::over(
        report
            .runs
            .iter()
            .flat_map(|h| h.checkpoints.iter().flat_map(|c| c.grad_norms.clone())),
    );
    (loss_scale, grad_scale)
}

/// How to read the strips: what a column is, and the value of the lowest and highest block.
fn legend(
    out: &mut String,
    cfg: &TrainConfig,
    (loss_scale, grad_scale): (Option<&LogScale>, Option<&LogScale>),
    ui: &Ui,
) {
    let (low, high) = (LEVELS[0], LEVELS[LEVELS.len() - 1]);
    let mut legend = format!(
        "Strips run from step 1 to the last step, one column per checkpoint (every {} \
         steps); block heights are on log scales shared by all configurations.",
        cfg.every()
    );
    // The two ends of a scale, or its one value when every point is the same.
    let ends = |s: &LogScale, show: fn(f64) -> String, more: &str| {
        if s.hi > s.lo {
            format!(
                "{low} = {}, {high} = {}{more}",
                show(libm::pow(10.0, s.lo)),
                show(libm::pow(10.0, s.hi))
            )
        } else {
            format!("{high} = {}", show(libm::pow(10.0, s.hi)))
        }
    };
    if let Some(l) = loss_scale {
        let _ = write!(
            legend,
            " loss (whole training set): {}.",
            ends(l, num, " or more")
        );
    }
    if let Some(g) = grad_scale {
        let _ = write!(
            legend,
            " ‖∂L/∂W‖ (that step's minibatch, before clipping): {}; blank = exactly 0, × = NaN \
             or ∞. first → last: ‖∂L/∂W‖ at the first and last checkpoint. update: median \
             ‖ΔW‖/‖W‖ per step over the checkpoints.",
            ends(g, sci, "")
        );
    }
    let _ = writeln!(out);
    for line in crate::ui::wrap(&legend, ui.width) {
        let _ = writeln!(out, "{}", ui.style.dim(&line));
    }
}

/// One configuration: its loss strip, its layer × time strip and its verdict.
fn block(
    out: &mut String,
    report: &TrainReport,
    h: &History,
    (loss_scale, grad_scale): (Option<&LogScale>, Option<&LogScale>),
    strip: usize,
    ui: &Ui,
) {
    let (style, width) = (&ui.style, ui.width);
    let cfg = &report.config;
    let _ = writeln!(out, "\n{}", style.bold(&h.label));
    let cols = columns(h.checkpoints.len(), strip);
    if let Some(scale) = loss_scale {
        let s: String = cols
            .iter()
            .map(|&i| scale.glyph(h.checkpoints[i].train.loss))
            .collect();
        let _ = writeln!(out, "  {:<10}{s}", "loss");
    }
    if let Some(scale) = grad_scale {
        let _ = writeln!(
            out,
            "  {:<10}{:<strip$}  {:<19}  update",
            "layer", "‖∂L/∂W‖ over training", "first → last",
        );
        let ratios = h.median_update_ratios();
        let layers = cfg.depth + 1;
        for l in (0..layers).rev() {
            let s: String = cols
                .iter()
                .map(|&i| scale.glyph(h.checkpoints[i].grad_norms[l]))
                .collect();
            let first = h.checkpoints.first().map_or(f64::NAN, |c| c.grad_norms[l]);
            let last = h.checkpoints.last().map_or(f64::NAN, |c| c.grad_norms[l]);
            let name = if l == cfg.depth {
                format!("{} out", l + 1)
            } else {
                (l + 1).to_string()
            };
            let _ = writeln!(
                out,
                "  {name:>6}    {s:<strip$}  {:>8} → {:<8}  {}",
                sci(first),
                sci(last),
                sci(ratios.get(l).copied().unwrap_or(f64::NAN))
            );
        }
    }
    for (i, line) in crate::ui::wrap(&h.verdict, width - 2).iter().enumerate() {
        let mark = if i == 0 { "▶ " } else { "  " };
        let painted = if h.diverged.is_some() {
            style.red(line)
        } else {
            line.to_string()
        };
        let _ = writeln!(out, "{mark}{painted}");
    }
}
