//! `--hist` in a terminal: per run and quantity, one row per hidden layer, a sparkline of
//! its bin counts (█ the row's fullest bin, blank an empty one) beside its range lo…hi
//! and, for the activations, the saturated share. A row is 75 columns at most (up to 9,999
//! layers, all entries finite), whatever the terminal's width.

use crate::format::sci;
use crate::probe::hist::{BINS, Histogram, Quantity};
use crate::report::RunHist;
use crate::ui::Style;
use std::fmt::Write;

/// The eight heights of a sparkline, and blank for an empty bin.
const LEVELS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A row's bins as a sparkline: a non-empty bin is ⌈8·count / fullest⌉ eighths high.
pub(crate) fn sparkline(counts: &[u64]) -> String {
    let max = counts.iter().copied().max().unwrap_or(0);
    counts
        .iter()
        .map(|&c| match (c, max) {
            (0, _) | (_, 0) => LEVELS[0],
            _ => LEVELS[(8 * c).div_ceil(max).min(8) as usize],
        })
        .collect()
}

/// A share as a percent with one decimal: `29.5%`.
fn share(v: f64) -> String {
    format!("{:.1}%", 100.0 * v)
}

/// Every run's histograms, as rows.
pub(crate) fn text(out: &mut String, runs: &[RunHist], style: &Style) {
    for run in runs {
        let _ = writeln!(
            out,
            "\n{}",
            style.bold(&format!("Histograms · {} · seed {}", run.label, run.seed))
        );
        let _ = writeln!(
            out,
            "{}",
            style.dim(&format!(
                "{BINS} bins from each row's smallest to its largest value; █ its fullest bin"
            ))
        );
        for q in Quantity::ALL {
            let head = match q {
                Quantity::Activation => format!("{} · {}", q.title(), run.saturated_rule),
                _ => q.title().to_string(),
            };
            let _ = writeln!(out, "{}", style.bold(&head));
            for l in &run.layers {
                let _ = writeln!(
                    out,
                    "{}",
                    row(
                        l.layer,
                        q.of(l),
                        match q {
                            Quantity::Activation => Some(l.saturated),
                            Quantity::PreActivation | Quantity::Gradient => None,
                        }
                    )
                );
            }
        }
    }
}

/// `   3 ▁▂▅█▅▂▁ -9.9e-1…9.9e-1  sat 29.5%`, with `+N inf/NaN` where entries were not
/// finite.
fn row(layer: usize, h: &Histogram, saturated: Option<f64>) -> String {
    let range = format!("{}…{}", sci(h.min), sci(h.max));
    let mut s = format!("{layer:>4} {} {range:<17}", sparkline(&h.counts));
    if let Some(v) = saturated {
        let _ = write!(s, "  sat {:>6}", share(v));
    }
    if h.nonfinite > 0 {
        let _ = write!(s, "  +{} inf/NaN", h.nonfinite);
    }
    s.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Heights: the fullest bin is █, a bin of 1 in 16 is ▁, empty bins blank.
    #[test]
    fn sparkline_levels() {
        assert_eq!(sparkline(&[0, 1, 2, 8, 16]), " ▁▁▄█");
        assert_eq!(sparkline(&[0, 0]), "  ");
    }

    /// A row of every layer fits 80 columns with all its parts.
    #[test]
    fn row_fits() {
        let h = Histogram {
            edges: vec![0.0; BINS + 1],
            counts: vec![5; BINS],
            nonfinite: 0,
            min: -1.234e-13,
            max: -1.234e-14,
        };
        let r = row(1000, &h, Some(1.0));
        assert_eq!(r.chars().count(), 75, "{r}");
        assert!(r.ends_with("-1.2e-13…-1.2e-14  sat 100.0%"), "{r}");
    }
}
