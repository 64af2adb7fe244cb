//! A recurrent report in the terminal: ‖∂L/∂h_t‖ for t = T … 1 as a step × run matrix of
//! values with log-scale bars, then each run's first-vs-last change and the linearized
//! RNN's predicted per-step factor beside the measured one.

use super::text::BarScale;
use crate::format::{num, sci};
use crate::report::{Report, Run, TheoryLine};
use crate::ui::Style;
use std::fmt::Write;

/// Rows shown when T is larger: T, then every k-th step down to 1.
const MAX_ROWS: usize = 26;

/// The body of a recurrent report, between the description and the tables.
pub(crate) fn body(out: &mut String, report: &Report, style: &Style, width: usize) {
    let runs = &report.runs;
    let all: Vec<Vec<(&str, String)>> = runs.iter().map(Run::parts).collect();
    super::text::shared_header(out, &all, style, width);
    for (i, run) in runs.iter().enumerate() {
        let own = crate::report::own_parts(&all, i).join(" · ");
        let line = format!("  [{}] {:<10} {own}", i + 1, run.label);
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let steps = |r: &Run| r.steps().map_or(0, |f| f.steps.len());
    let t_max = runs.iter().map(steps).max().unwrap_or(0);
    let scale = BarScale::of(
        runs.iter()
            .filter_map(|r| r.steps())
            .flat_map(|f| f.steps.iter().map(|s| s.signal_norm)),
    );
    // Each run: a value (8 wide), a space, a bar; as many runs per block as fit.
    let per_block = (width.saturating_sub(6) / 16).max(1);
    let every = t_max.div_ceil(MAX_ROWS - 1).max(1);
    let shown: Vec<usize> = (1..=t_max)
        .rev()
        .filter(|&t| t == t_max || t == 1 || (t_max - t) % every == 0)
        .collect();
    let bar = (width.saturating_sub(6) / runs.len().min(per_block))
        .saturating_sub(10)
        .clamp(3, 24);
    for block in runs.chunks(per_block) {
        let _ = writeln!(
            out,
            "\n{}",
            style.bold("‖∂L/∂h_t‖ per time step, from the loss (t = T) back to t = 1")
        );
        let mut head = format!("{:>5} ", "t");
        for (i, run) in block.iter().enumerate() {
            let n = runs.iter().position(|r| std::ptr::eq(r, run)).unwrap_or(i) + 1;
            let label: String = format!("[{n}] {}", run.label)
                .chars()
                .take(bar + 9)
                .collect();
            let _ = write!(head, " {label:<w$}", w = bar + 9);
        }
        let _ = writeln!(out, "{}", style.dim(head.trim_end()));
        for &t in &shown {
            let mut line = format!("{t:>5} ");
            for run in block {
                let v = run
                    .steps()
                    .and_then(|f| f.steps.get(t - 1))
                    .map(|s| s.signal_norm);
                let (text, drawn) = match v {
                    None => ("·".to_string(), String::new()),
                    Some(v) if v > 0.0 && v.is_finite() => (sci(v), scale.bar(v, bar, style)),
                    Some(v) => (sci(v), String::new()),
                };
                let visible = match v {
                    Some(v) if v > 0.0 && v.is_finite() => {
                        scale.bar(v, bar, &Style::plain()).chars().count()
                    }
                    _ => 0,
                };
                let painted = match v {
                    Some(x) if !x.is_finite() => style.red(&text),
                    Some(0.0) => style.yellow(&text),
                    _ => text.clone(),
                };
                let pad = 8usize.saturating_sub(text.chars().count());
                let _ = write!(
                    line,
                    " {}{painted} {drawn}{}",
                    " ".repeat(pad),
                    " ".repeat(bar - visible.min(bar))
                );
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    let per = scale.per_char(bar);
    let mut legend = format!(
        "‖∂L/∂h_t‖: norm over the batch of the loss's gradient with respect to the state h_t \
         (after φ); one █ per {per} order{} of magnitude.",
        if per == 1.0 { "" } else { "s" }
    );
    legend.push_str(&scale.floor_note());
    if every > 1 {
        legend.push_str(&format!(
            " Shown: t = {t_max}, {}, … (every {every} steps) and t = 1; --json has all {t_max}.",
            t_max - every
        ));
    }
    for line in crate::ui::wrap(&legend, width) {
        let _ = writeln!(out, "{}", style.dim(&line));
    }
    let _ = writeln!(
        out,
        "\n{}",
        style.bold("t = 1 vs t = T: ‖∂L/∂h‖ change, per-step factor, loss")
    );
    for run in runs {
        summary(out, run, style, width);
    }
}

/// One run's change from t = T to t = 1, its theory line and any overflow.
fn summary(out: &mut String, run: &Run, style: &Style, width: usize) {
    let change = match run.signal_orders() {
        Some(o) => format!("{o:+.1} orders"),
        None if !run.zero_layers().is_empty() => "underflow: some steps get exactly 0".into(),
        None => "not finite".into(),
    };
    let label: String = run.label.chars().take(12).collect();
    let _ = writeln!(out, "  {label:<12} {change:<18}  loss {}", num(run.loss));
    let theory = match &run.theory {
        TheoryLine::Compared {
            predicted_factor,
            measured_factor,
            ..
        } => {
            let spectrum = run.steps().and_then(|f| f.spectrum.as_ref());
            let measured = measured_factor.map_or("measured: not finite or zero".into(), |m| {
                format!("measured ×{} per step", num(m))
            });
            match spectrum {
                Some(sp) => format!(
                    "linearized: ρ(diag(φ′)·W_hᵀ) ×{} per step (σ_max ×{}; W_h alone: ρ {}, \
                     σ_max {}); {measured}",
                    num(*predicted_factor),
                    num(sp.top_singular_value),
                    num(sp.wh_spectral_radius),
                    num(sp.wh_top_singular_value),
                ),
                None => measured,
            }
        }
        TheoryLine::NotApplicable { not_applicable } => {
            let measured = run
                .steps()
                .filter(|f| f.steps.len() > 1)
                .and_then(|f| Some((f.signal_orders()?, f.steps.len() - 1)))
                .map(|(o, n)| {
                    format!(
                        "measured ×{} per step; ",
                        num(libm::pow(10.0, o / n as f64))
                    )
                })
                .unwrap_or_default();
            format!("{measured}no linearized prediction: {not_applicable}")
        }
    };
    for line in crate::ui::wrap(&theory, width.saturating_sub(15)) {
        let _ = writeln!(out, "{}{}", " ".repeat(15), style.dim(&line));
    }
    if let Some(n) = run.nonfinite {
        let what = if n.nan { "NaN" } else { "inf" };
        let _ = writeln!(
            out,
            "{}{}",
            " ".repeat(15),
            style.red(&format!(
                "first non-finite value ({what}) at step {} in the {} pass",
                n.layer, n.pass
            ))
        );
    }
}
