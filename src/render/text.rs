//! The report for a terminal or a projector: per-layer tables with log-scale bars, a
//! layer × run matrix for side-by-side runs, and the verdict lines.

use crate::format::{num, percent, sci};
use crate::report::{Body, Figure, LayerRow, Metric, Report, ReportBody, Run, TheoryLine};
use crate::ui::{Style, Ui};
use std::fmt::Write;

/// Renders `report` within `width` columns.
pub fn render(report: &Report, ui: &Ui) -> String {
    let (style, width) = (&ui.style, ui.width);
    let mut out = String::new();
    let rule = "─".repeat(width.min(80));
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!("demo {}", report.experiment))
    );
    for line in crate::ui::wrap(&report.description, width) {
        let _ = writeln!(out, "{}", style.dim(&line));
    }
    // A phase map stands for the runs it summarizes; otherwise the runs' kind decides.
    match &report.body {
        ReportBody::Phase { map } => super::maps::phase(&mut out, map, style),
        ReportBody::Runs => runs(&mut out, report, style, width),
        ReportBody::Histograms { runs: hists } => {
            runs(&mut out, report, style, width);
            super::hist::text(&mut out, hists, style);
        }
    }
    for table in &report.tables {
        let _ = writeln!(out, "\n{}", style.bold(&table.title));
        render_table(&mut out, &table.headers, &table.rows, width);
        if let Some(legend) = &table.legend {
            for line in crate::ui::wrap(legend, width.saturating_sub(2)) {
                let _ = writeln!(out, "  {}", style.dim(&line));
            }
        }
    }
    if !report.verdicts.is_empty() {
        let _ = writeln!(out, "{rule}");
        for v in &report.verdicts {
            for (i, line) in crate::ui::wrap(v, width - 2).iter().enumerate() {
                let mark = if i == 0 { "▶ " } else { "  " };
                let _ = writeln!(out, "{mark}{}", style.bold(line));
            }
        }
    }
    for n in &report.notes {
        for line in crate::ui::wrap(n, width) {
            let _ = writeln!(out, "{}", style.dim(&line));
        }
    }
    out
}

/// The runs, each shown by its own kind: per step, with the Jacobian's spectrum, or per
/// layer (one run's table, or the layer × run matrix).
fn runs(out: &mut String, report: &Report, style: &Style, width: usize) {
    match report.runs.first().map(|r| &r.body) {
        Some(Body::Steps(_)) => super::steps::body(out, report, style, width),
        Some(Body::Attention(_)) => attention(out, report, style, width),
        Some(Body::Sweep(_)) => super::sweep::body(out, report, style, width),
        Some(Body::Spectra { .. }) => super::maps::spectra(out, report, style, width),
        Some(Body::Layers(_)) | None => match report.runs.as_slice() {
            [run] => {
                let _ = writeln!(out);
                let parts = run.parts();
                let filled: Vec<&str> = parts
                    .iter()
                    .map(|p| p.1.as_str())
                    .filter(|v| !v.is_empty())
                    .collect();
                for line in crate::ui::join_within(&filled, width, "  ") {
                    let _ = writeln!(out, "{}", style.bold(&line));
                }
                single(out, run, &BarScale::new(&report.runs), style, width);
                summary(out, run, style, width, false);
            }
            _ => side_by_side(out, report, style, width),
        },
    }
}

/// The figures of `run`, one of `report.runs`, that [`render`] prints: in its layer table
/// (or the layer × run matrix), its summary and theory line, or the recurrent step view's
/// summary. The figures an experiment's own tables print are its `Experiment::prints`.
pub(crate) fn prints(report: &Report, run: &Run) -> Vec<Figure> {
    let mut shown = Vec::new();
    // The same choice of view as `render`'s.
    let (ReportBody::Runs | ReportBody::Histograms { .. }) = &report.body else {
        // The phase map: the experiment's tables carry the figures.
        return shown;
    };
    match report.runs.first().map(|r| &r.body) {
        // Spectra: the experiment's tables carry the figures.
        Some(Body::Spectra { .. }) => return shown,
        // Attention: the experiment's table, and the loss line.
        Some(Body::Attention(_)) => return vec![Figure::Loss],
        // The sweep's tables: the experiment's `prints`.
        Some(Body::Sweep(_)) => return shown,
        Some(Body::Steps(_)) => {
            // steps::summary: the change over the steps, the loss, the theory line.
            shown.extend([Figure::SignalOrdersDrop, Figure::Loss]);
            if let TheoryLine::Compared {
                measured_factor, ..
            } = run.theory
            {
                shown.push(Figure::PredictedFactor);
                shown.extend(measured_factor.map(|_| Figure::MeasuredFactor));
            }
            return shown;
        }
        Some(Body::Layers(_)) | None => {}
    }
    let metrics = match report.runs.len() {
        1 => &[Metric::GradNorm, Metric::ActStd][..],
        _ => &report.metrics[..],
    };
    for metric in metrics {
        match metric {
            Metric::GradNorm => shown.extend([Figure::GradFirst, Figure::GradLast]),
            Metric::ActStd => shown.extend([Figure::ActStdFirst, Figure::ActStdLast]),
            Metric::SignalNorm | Metric::Saturated | Metric::UnitSpread => {}
        }
    }
    // summary: the loss, layer 1 against the last, the theory line, an overflow.
    shown.extend([Figure::Loss, Figure::GradOrders, Figure::GradOrdersDrop]);
    if let TheoryLine::Compared {
        measured_orders, ..
    } = run.theory
    {
        shown.push(Figure::PredictedFactor);
        if measured_orders.is_some() {
            shown.extend([Figure::MeasuredFactor, Figure::SignalOrdersDrop]);
        }
    }
    if run.nonfinite.is_some() {
        shown.push(Figure::FirstNonfiniteLayer);
    }
    shown
}

/// What every run of `all` (each run's [`Run::parts`]) shares, bold, wrapped at `width` and
/// joined by ` · `, after a blank line: the header of the step and attention views.
pub(crate) fn shared_header(
    out: &mut String,
    all: &[Vec<(&str, String)>],
    style: &Style,
    width: usize,
) {
    let same = |k: usize| all.iter().all(|p| p.get(k) == all[0].get(k));
    let shared: Vec<&str> = (0..all[0].len())
        .filter(|&k| same(k) && !all[0][k].1.is_empty())
        .map(|k| all[0][k].1.as_str())
        .collect();
    let _ = writeln!(out);
    for line in crate::ui::wrap(&shared.join(" · "), width) {
        let _ = writeln!(out, "{}", style.bold(&line));
    }
}

/// An attention report's body: what its runs share (its table follows) and each run's loss.
fn attention(out: &mut String, report: &Report, style: &Style, width: usize) {
    let all: Vec<Vec<(&str, String)>> = report.runs.iter().map(Run::parts).collect();
    shared_header(out, &all, style, width);
    let losses: Vec<String> = report
        .runs
        .iter()
        .map(|r| format!("{} {}", r.label, num(r.loss)))
        .collect();
    for line in crate::ui::wrap(&format!("loss: {}", losses.join(", ")), width) {
        let _ = writeln!(out, "{}", style.dim(&line));
    }
    for run in report.runs.iter().filter(|r| r.nonfinite.is_some()) {
        if let Some(n) = run.nonfinite {
            let what = if n.nan { "NaN" } else { "inf" };
            let _ = writeln!(
                out,
                "{}",
                style.red(&format!(
                    "{}: a value became {what} in the {} pass",
                    run.label, n.pass
                ))
            );
        }
    }
}

fn cell(metric: Metric, v: Option<f64>) -> String {
    match (metric, v) {
        (_, None) => "·".into(),
        (Metric::Saturated, Some(v)) => percent(v),
        (Metric::ActStd, Some(v)) => num(v),
        (_, Some(v)) => sci(v),
    }
}

/// Maps log₁₀ of a gradient norm to a bar, one scale for the whole report.
pub(super) struct BarScale {
    lo: f64,
    hi: f64,
}

impl BarScale {
    fn new(runs: &[Run]) -> Self {
        Self::of(
            runs.iter()
                .flat_map(|r| r.layers())
                .map(|l| l.figures.grad_norm),
        )
    }

    /// The scale that spans `values` (those positive and finite).
    pub(super) fn of(values: impl Iterator<Item = f64>) -> Self {
        let logs: Vec<f64> = values
            .filter(|v| *v > 0.0 && v.is_finite())
            .map(libm::log10)
            .collect();
        let lo = logs.iter().copied().fold(f64::INFINITY, f64::min).floor();
        let hi = logs
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
            .ceil();
        BarScale { lo, hi }
    }

    /// Where the bars start, 10^(lo − 1), as a sentence for a legend: the scale is this
    /// command's, so the same norm can get a different bar in another command.
    pub(super) fn floor_note(&self) -> String {
        match self.lo.is_finite() {
            true => format!(
                " Bars start at {}, below this command's smallest norm: they compare \
                 rows within this output only.",
                crate::format::sci(libm::pow(10.0, self.lo - 1.0))
            ),
            false => String::new(),
        }
    }

    /// Orders of magnitude per character.
    pub(super) fn per_char(&self, width: usize) -> f64 {
        ((self.hi - self.lo) / width as f64).max(1.0).ceil()
    }

    pub(super) fn bar(&self, v: f64, width: usize, style: &Style) -> String {
        if v.is_nan() {
            return style.red("NaN");
        }
        if v.is_infinite() {
            return style.red("▲ overflow to inf");
        }
        if v == 0.0 {
            return style.yellow("· exactly 0 (underflow)");
        }
        let len = (libm::log10(v) - self.lo + 1.0) / self.per_char(width);
        let full = len.floor() as usize;
        let eighths = ((len - full as f64) * 8.0).round() as usize;
        let mut s = "█".repeat(full.min(width));
        if eighths > 0 && full < width {
            s.push(['▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'][eighths - 1]);
        }
        style.cyan(&s)
    }
}

fn single(out: &mut String, run: &Run, scale: &BarScale, style: &Style, width: usize) {
    let many = run.seeds.len() > 1;
    // The columns before the bar: layer, the three figures, sat (and range×), two spaces.
    let fixed = if many { 49 } else { 41 };
    let bar_width = width.saturating_sub(fixed).max(10);
    let per = scale.per_char(bar_width);
    let unit = if per == 1.0 {
        "one █ per order of magnitude".to_string()
    } else {
        format!("one █ per {per} orders of magnitude")
    };
    let range = if many { "  range×" } else { "" };
    let _ = writeln!(
        out,
        "{}",
        style.dim(&format!(
            "layer   ‖∂L/∂W‖   ‖∂L/∂h‖  std(a)   sat{range}  {unit}"
        ))
    );
    for row in run.layers() {
        let f = &row.figures;
        let sat = f.saturated.map(percent).unwrap_or_else(|| "·".into());
        let range = if many { spread(row) } else { String::new() };
        let _ = writeln!(
            out,
            "{:>5} {:>9} {:>9} {:>7} {:>5}{range}  {}",
            f.layer,
            sci(f.grad_norm),
            sci(f.signal_norm),
            num(f.act_std),
            sat,
            match (f.grad_norm, f.branch_scale) {
                (0.0, Some(0.0)) => style.yellow("· exactly 0 (branch α = 0)"),
                _ => scale.bar(f.grad_norm, bar_width, style),
            }
        );
    }
    let mut legend = "‖∂L/∂W‖: norm of the layer's weight gradient; ‖∂L/∂h‖: norm of the \
                      backprop signal at its pre-activations; std(a): spread of its outputs (the \
                      logits for the last layer); sat: share of units with |φ′(h)| < 0.1·max φ′ \
                      (for ReLU, switched off); · : none (the output layer has no activation)."
        .to_string();
    if many {
        legend.push_str(" range×: largest over smallest ‖∂L/∂W‖ across the seeds.");
    }
    legend.push_str(&scale.floor_note());
    for line in crate::ui::wrap(&legend, width) {
        let _ = writeln!(out, "{}", style.dim(&line));
    }
}

fn spread(row: &LayerRow) -> String {
    match (row.grad_norm_min, row.grad_norm_max) {
        (Some(lo), Some(hi)) if lo > 0.0 && hi.is_finite() => {
            format!("{:>8}", format!("×{:.2}", hi / lo))
        }
        _ => format!("{:>8}", "·"),
    }
}

fn side_by_side(out: &mut String, report: &Report, style: &Style, width: usize) {
    let all: Vec<Vec<(&str, String)>> = report.runs.iter().map(Run::parts).collect();
    let same = |k: usize| all.iter().all(|p| p[k].1 == all[0][k].1);
    let shared: Vec<&str> = (0..all[0].len())
        .filter(|&k| same(k) && !all[0][k].1.is_empty())
        .map(|k| all[0][k].1.as_str())
        .collect();
    let _ = writeln!(out);
    for line in crate::ui::join_within(&shared, width, "  ") {
        let _ = writeln!(out, "{}", style.bold(&line));
    }
    for (i, run) in report.runs.iter().enumerate() {
        let own = crate::report::own_parts(&all, i);
        let own: Vec<&str> = own.iter().map(|s| s.as_ref()).collect();
        let head = format!("  [{}] {:<10} ", i + 1, run.label);
        let indent = " ".repeat(textwrap::core::display_width(&head));
        let lines = crate::ui::join_within(&own, width.saturating_sub(head.len()), "");
        for (j, l) in lines.iter().enumerate() {
            let line = match j {
                0 => format!("{head}{l}"),
                _ => format!("{indent}{l}"),
            };
            let _ = writeln!(out, "{}", line.trim_end());
        }
        if lines.is_empty() {
            let _ = writeln!(out, "{}", head.trim_end());
        }
    }
    let col = 10;
    let per_block = ((width.saturating_sub(6)) / col).max(1);
    for &metric in &report.metrics {
        for runs in report.runs.chunks(per_block) {
            let _ = writeln!(out, "\n{}", style.bold(metric.title()));
            let mut head = format!("{:>5} ", "layer");
            for run in runs {
                let label: String = run.label.chars().take(col - 1).collect();
                let _ = write!(head, "{label:>col$}");
            }
            let _ = writeln!(out, "{}", style.dim(&head));
            let rows = runs.iter().map(|r| r.layers().len()).max().unwrap_or(0);
            for l in 0..rows {
                let mut line = format!("{:>5} ", l + 1);
                for run in runs {
                    let v = run.layers().get(l).and_then(|r| metric.value(&r.figures));
                    let text = cell(metric, v);
                    let painted = match v {
                        Some(x) if x.is_nan() || x.is_infinite() => style.red(&text),
                        Some(x) if x == 0.0 && metric == Metric::GradNorm => style.yellow(&text),
                        _ => text.clone(),
                    };
                    let pad = col.saturating_sub(text.chars().count());
                    let _ = write!(line, "{}{painted}", " ".repeat(pad));
                }
                let _ = writeln!(out, "{line}");
            }
        }
    }
    let blank = report.metrics.iter().any(|&m| {
        report
            .runs
            .iter()
            .flat_map(|r| r.layers())
            .any(|l| m.value(&l.figures).is_none())
    });
    if blank {
        let _ = writeln!(
            out,
            "{}",
            style.dim("· : none (the output layer has no activation)")
        );
    }
    let _ = writeln!(
        out,
        "\n{}",
        style.bold("layer 1 vs last: ‖∂L/∂W‖ ratio, loss, theory for the signal ‖∂L/∂h‖")
    );
    for run in &report.runs {
        summary(out, run, style, width, true);
    }
}

/// The loss, the first/last ratio, the theory line and any overflow, for one run.
/// `compact`: one indented block per run, for the side-by-side view.
fn summary(out: &mut String, run: &Run, style: &Style, width: usize, compact: bool) {
    let ratio = match run.grad_orders() {
        Some(o) => format!("{o:+.1} orders"),
        None => {
            let zeros = run.zero_layers();
            if !zeros.is_empty() && run.config.spec.block.learns_scale() {
                "α = 0: the branches' weights get exactly 0".to_string()
            } else if !zeros.is_empty() {
                "underflow: some layers get exactly 0".to_string()
            } else {
                "not finite".to_string()
            }
        }
    };
    let theory = match &run.theory {
        TheoryLine::Compared {
            predicted_factor,
            predicted_orders,
            measured_factor,
            measured_orders,
        } => {
            let measured = match (measured_factor, measured_orders) {
                (Some(f), Some(o)) => format!("measured ×{} per layer, {:+.1} orders", num(*f), o),
                _ => "measured: not finite or zero".into(),
            };
            format!(
                "mean-field ‖∂L/∂h‖ ×{} per layer, {:+.1} orders over {} layers; {measured}",
                num(*predicted_factor),
                predicted_orders,
                run.config.depth()
            )
        }
        TheoryLine::NotApplicable { not_applicable } => {
            format!("mean-field theory does not apply: {not_applicable}")
        }
    };
    let overflow = run.nonfinite.map(|n| {
        let what = if n.nan { "NaN" } else { "inf" };
        style.red(&format!(
            "first non-finite value ({what}) at layer {} in the {} pass",
            n.layer, n.pass
        ))
    });
    if !compact {
        let _ = writeln!(
            out,
            "loss {}   ‖∂L/∂W‖ layer 1 vs last: {ratio}",
            num(run.loss)
        );
        for line in crate::ui::wrap(&format!("theory: {theory}"), width) {
            let _ = writeln!(out, "{}", style.dim(&line));
        }
    } else {
        let label: String = run.label.chars().take(12).collect();
        let _ = writeln!(out, "  {label:<12} {ratio:<18}  loss {}", num(run.loss));
        for line in crate::ui::wrap(&theory, width.saturating_sub(15)) {
            let _ = writeln!(out, "{}{}", " ".repeat(15), style.dim(&line));
        }
    }
    if let Some(o) = overflow {
        let _ = writeln!(
            out,
            "{}{o}",
            if compact {
                " ".repeat(15)
            } else {
                String::new()
            }
        );
    }
}

pub(crate) fn render_table(
    out: &mut String,
    headers: &[String],
    rows: &[Vec<String>],
    width: usize,
) {
    let cols = headers.len();
    let count = |s: &str| textwrap::core::display_width(s);
    let mut widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| count(s)))
                .chain([count(&headers[c])])
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Too wide for `width`: the first column narrows to what is left (down to its header),
    // and a row whose first cell is longer puts that cell on a line of its own above.
    let rest: usize = widths.iter().skip(1).map(|w| w + 2).sum();
    if let Some(first) = widths.first_mut() {
        let room = width.saturating_sub(rest + 2).max(count(&headers[0]));
        *first = (*first).min(room);
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (c, w) in widths.iter().enumerate() {
            let text = cells.get(c).map_or("", |s| s.as_str());
            let pad = w.saturating_sub(count(text));
            if c == 0 {
                let _ = write!(s, "  {text}{}", " ".repeat(pad));
            } else {
                let _ = write!(s, "  {}{text}", " ".repeat(pad));
            }
        }
        s.trim_end().to_string()
    };
    let _ = writeln!(out, "{}", line(headers));
    for r in rows {
        match r.first() {
            Some(head) if count(head) > widths[0] => {
                let _ = writeln!(out, "  {head}");
                let mut rest = r.clone();
                rest[0] = String::new();
                let _ = writeln!(out, "{}", line(&rest));
            }
            _ => {
                let _ = writeln!(out, "{}", line(r));
            }
        }
    }
}
