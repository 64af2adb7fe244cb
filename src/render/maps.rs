//! Terminal views that are not per-layer tables: the singular-value histograms of
//! `demo isometry` on one shared log axis, and `demo phase`'s σ_w × σ_b heat map.

use crate::report::{PhaseMap, Report};
use crate::ui::Style;
use std::fmt::Write;

const LABEL: usize = 11;
const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// One histogram line per run with a spectrum, log₁₀ σ binned on an axis shared by all,
/// then the decade labels; singular values at or below 1e−12·σ_max go in the ≈0 column.
pub(crate) fn spectra(out: &mut String, report: &Report, style: &Style, width: usize) {
    let runs: Vec<_> = report
        .runs
        .iter()
        .filter(|r| r.spectrum().is_some())
        .collect();
    let kept = |s: &[f64]| -> Vec<f64> {
        s.iter()
            .copied()
            .filter(|&v| v > 1e-12 * s[0] && v.is_finite())
            .collect()
    };
    let logs: Vec<f64> = runs
        .iter()
        .flat_map(|r| r.spectrum().unwrap().singular_values.iter())
        .flat_map(|s| kept(s))
        .map(libm::log10)
        .collect();
    if logs.is_empty() {
        return;
    }
    let lo = logs.iter().copied().fold(f64::INFINITY, f64::min).floor();
    let hi = logs
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max)
        .ceil();
    let decades = ((hi - lo) as usize).max(1);
    let room = width.min(80).saturating_sub(LABEL + 1 + 6).max(decades);
    let per = (room / decades).max(1);
    let bins = per * decades;
    let _ = writeln!(
        out,
        "\n{}",
        style.bold("Histogram of the singular values of J, log scale (█: the run's fullest bin)")
    );
    for run in &runs {
        let s = run.spectrum().unwrap();
        let mut counts = vec![0usize; bins];
        for v in s.singular_values.iter().flat_map(|s| kept(s)) {
            let b = ((libm::log10(v) - lo) * per as f64).floor().max(0.0) as usize;
            counts[b.min(bins - 1)] += 1;
        }
        let top = counts.iter().copied().max().unwrap_or(0).max(1);
        let bar: String = counts
            .iter()
            .map(|&c| match c {
                0 => ' ',
                c => LEVELS[((8 * c).div_ceil(top)).clamp(1, 8) - 1],
            })
            .collect();
        let label: String = run.label.chars().take(LABEL).collect();
        let null = if s.null_percent > 0.0 {
            format!(" ≈0 {:.0}%", s.null_percent)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{label:<LABEL$} {}{}",
            style.cyan(&bar),
            style.red(&null)
        );
    }
    // Decade ticks under the bins, labelled where they fit.
    let mut ticks = vec![' '; bins + 1];
    let mut labels = vec![' '; bins + 8];
    let mut free = 0;
    for d in 0..=decades {
        let col = d * per;
        ticks[col.min(bins)] = '╵';
        let text = match lo as i64 + d as i64 {
            0 => "1".to_string(),
            e => format!("1e{e}"),
        };
        if col >= free && col + text.len() <= labels.len() {
            for (i, c) in text.chars().enumerate() {
                labels[col + i] = c;
            }
            free = col + text.len() + 1;
        }
    }
    let pad = " ".repeat(LABEL + 1);
    let line = |v: Vec<char>| v.into_iter().collect::<String>().trim_end().to_string();
    let _ = writeln!(out, "{pad}{}", style.dim(&line(ticks)));
    let _ = writeln!(out, "{pad}{}", style.dim(&line(labels)));
}

/// `-.30`, `+.05`, ` .00`, `+1.2`: a cell's log₁₀ per layer in four characters.
fn cell(v: Option<f64>) -> String {
    let Some(v) = v else {
        return "   ·".into();
    };
    let r = (v * 100.0).round() as i64;
    let sign = match r {
        r if r < 0 => '-',
        r if r > 0 => '+',
        _ => ' ',
    };
    if r.abs() < 100 {
        format!("{sign}.{:02}", r.abs())
    } else {
        format!("{sign}{:.1}", v.abs().min(9.9))
    }
}

/// The heat map: a row per σ_b, a column per σ_w, each cell the measured log₁₀ per-layer
/// factor (cyan below 0, red above), `│` before the first column past theory's χ = 1 σ_w.
pub(crate) fn phase(out: &mut String, map: &PhaseMap, style: &Style) {
    let _ = writeln!(
        out,
        "\n{}",
        style.bold("log₁₀ per-layer factor of ‖∂L/∂h‖: rows σ_b, columns σ_w")
    );
    let mut head = "σ_b ".to_string();
    for w in &map.sigma_w {
        let _ = write!(head, "{w:>5.2}");
    }
    let _ = writeln!(out, "{}", style.dim(&head));
    let cols = map.sigma_w.len();
    for (r, &b) in map.sigma_b.iter().enumerate() {
        let crit = map.critical_sigma_w.get(r).copied().flatten();
        // The line sits before column j when σ_w(j−1) < σ_w* ≤ σ_w(j); after the last if above.
        let at = crit.map(|c| map.sigma_w.iter().position(|&w| c <= w).unwrap_or(cols));
        let mut line = format!("{b:.2}");
        for c in 0..cols {
            let v = map.cells[r * cols + c].log10_per_layer;
            let text = cell(v);
            let painted = match v {
                Some(v) if v < 0.0 => style.cyan(&text),
                Some(v) if v > 0.0 => style.red(&text),
                _ => text,
            };
            let sep = if at == Some(c) { '│' } else { ' ' };
            let _ = write!(line, "{sep}{painted}");
        }
        if at == Some(cols) {
            line.push('│');
        }
        let _ = writeln!(out, "{line}");
    }
}
