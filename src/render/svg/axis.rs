//! Where an axis's ticks go. A log axis runs between whole decades and labels every k-th
//! decade, k chosen so that the labels fit, and its ends are labelled decades: the labels
//! always span everything drawn. A linear axis labels multiples of a round step.

use crate::format::{power_of_ten, thousands, times_power_of_ten};

/// One tick: its place in axis units (log₁₀ of the value on a log axis) and its label, none
/// for a minor tick.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Tick {
    pub at: f64,
    pub label: Option<String>,
}

/// An axis's extent in axis units and its ticks, lowest first.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Ticks {
    pub lo: f64,
    pub hi: f64,
    pub ticks: Vec<Tick>,
}

/// Decades between two labels, smallest first.
const DECADE_STEPS: [i64; 11] = [1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000];

/// A log axis for positive values from `min` to `max`, with at most `max_labels` labels
/// (taken as at least 3: the ends of a range around 10⁰ are ±k decades, and 10⁰ is between).
///
/// In decades (exponents of ten): lo = ⌊log₁₀ min⌋ and hi = ⌈log₁₀ max⌉ (one further
/// when the value is a whole decade, so that the frame does not hide it), widened to at
/// least half a decade either side of the data's middle, so that data within one decade
/// sits in the middle of two and a flat curve looks flat. Then every k-th decade is
/// labelled, with lo and hi moved out to multiples of k. Minor ticks mark 2…9 × 10ⁿ when
/// the axis spans at most 3 decades, and 2× and 5× are labelled when it spans at most 2
/// and they fit.
/// Values that are not positive and finite have no place on the axis: with none left,
/// the axis runs from 10⁻¹ to 10¹.
pub(super) fn log_ticks(min: f64, max: f64, max_labels: usize) -> Ticks {
    let ok = |v: f64| v > 0.0 && v.is_finite();
    let (a, b) = match (ok(min), ok(max)) {
        (true, true) => (libm::log10(min.min(max)), libm::log10(max.max(min))),
        (true, false) => (libm::log10(min), libm::log10(min)),
        (false, true) => (libm::log10(max), libm::log10(max)),
        (false, false) => (0.0, 0.0),
    };
    let mid = 0.5 * (a + b);
    // A hundredth of a decade of room: a value on a whole decade is not hidden by the frame.
    let lo = (a - 0.01).min(mid - 0.5).floor() as i64;
    let hi = (b + 0.01).max(mid + 0.5).ceil() as i64;
    // Outward to multiples of k, then count the labels: the smallest k whose labels fit.
    let rounded = |k: i64| (lo.div_euclid(k) * k, -((-hi).div_euclid(k) * k));
    let max_labels = max_labels.max(3) as i64;
    let k = DECADE_STEPS
        .into_iter()
        .find(|&k| {
            let (lo, hi) = rounded(k);
            (hi - lo) / k < max_labels
        })
        .unwrap_or(DECADE_STEPS[DECADE_STEPS.len() - 1]);
    let (lo, hi) = rounded(k);
    let span = hi - lo;
    // 2× and 5× labelled too on short axes, if they fit: three labels a decade.
    let between = span <= 2 && 3 * span < max_labels;
    let mut ticks = Vec::new();
    for e in lo..=hi {
        let labelled = (e - lo) % k == 0;
        if labelled || span <= 100 {
            ticks.push(Tick {
                at: e as f64,
                label: labelled.then(|| power_of_ten(e)),
            });
        }
        if span <= 3 && e < hi {
            for m in 2..=9u32 {
                ticks.push(Tick {
                    at: e as f64 + libm::log10(f64::from(m)),
                    label: (between && (m == 2 || m == 5)).then(|| times_power_of_ten(m, e)),
                });
            }
        }
    }
    Ticks {
        lo: lo as f64,
        hi: hi as f64,
        ticks,
    }
}

/// A linear axis from `lo` to `hi` (in that order after sorting; widened to one unit when
/// they are equal) with at most `max_labels` labels a round step apart, 1, 2 or 5 × 10ⁿ
/// and at least `min_step`. Labels sit at the multiples of the step, plus `lo` itself when
/// it is not one (layer 1 of a layer axis), or, when that would crowd the first multiple,
/// at `lo` and every step from it (1, 3, 5, …). The axis keeps exactly the range given.
pub(super) fn linear_ticks(lo: f64, hi: f64, max_labels: usize, min_step: f64) -> Ticks {
    let (mut lo, mut hi) = match (lo.is_finite(), hi.is_finite()) {
        (true, true) => (lo.min(hi), lo.max(hi)),
        _ => (0.0, 1.0),
    };
    if hi - lo < f64::EPSILON * lo.abs().max(1.0) {
        (lo, hi) = (lo - 0.5, hi + 0.5);
    }
    let max_labels = max_labels.max(2) as f64;
    let rough = ((hi - lo) / (max_labels - 1.0)).max(min_step);
    let base = libm::pow(10.0, libm::log10(rough).floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * base)
        .find(|&s| s >= min_step && ((hi - lo) / s).floor() + 1.0 <= max_labels)
        .unwrap_or(10.0 * base);
    let decimals = (-libm::log10(step).floor()).max(0.0) as usize;
    let label = |v: f64| {
        if decimals == 0 && v.abs() < 1e15 {
            let whole = v.round();
            let digits = thousands(whole.abs() as usize);
            if whole < 0.0 {
                format!("−{digits}")
            } else {
                digits
            }
        } else {
            format!("{v:.decimals$}").replace('-', "−")
        }
    };
    let multiple = (lo / step).ceil() * step;
    let gap = multiple - lo;
    let mut ticks = Vec::new();
    let start = if gap > 0.0 && gap < 0.6 * step {
        lo
    } else {
        if gap > 0.0 {
            ticks.push(Tick {
                at: lo,
                label: Some(label(lo)),
            });
        }
        multiple
    };
    let mut i = 0.0;
    while start + i * step <= hi + 1e-9 * step && i <= max_labels {
        let at = start + i * step;
        ticks.push(Tick {
            at,
            label: Some(label(at)),
        });
        i += 1.0;
    }
    Ticks { lo, hi, ticks }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(t: &Ticks) -> Vec<&str> {
        t.ticks.iter().filter_map(|t| t.label.as_deref()).collect()
    }

    #[test]
    fn a_deep_vanishing_run_is_labelled_from_bottom_to_top() {
        // ‖∂L/∂W‖ from 3.8e−43 to 1.6: 45 decades; 11 labels fit at every 5th decade...
        let t = log_ticks(3.8e-43, 1.6, 11);
        assert_eq!((t.lo, t.hi), (-45.0, 5.0));
        let want: Vec<String> = (-9..=1).map(|i| power_of_ten(5 * i)).collect();
        assert_eq!(labels(&t), want);
        // ...10 only at every 10th.
        let t = log_ticks(3.8e-43, 1.6, 10);
        assert_eq!((t.lo, t.hi), (-50.0, 10.0));
        assert_eq!(labels(&t).len(), 7);
        // Every decade still has its (unlabelled) tick.
        assert_eq!(t.ticks.len(), 61);
    }

    #[test]
    fn labels_fit_the_height_whatever_the_range() {
        for (min, max) in [(1e-300, 1e300), (5e-324, f64::MAX), (1e-3, 1e3), (0.5, 0.6)] {
            for n in [3, 5, 8, 12] {
                let t = log_ticks(min, max, n);
                let count = labels(&t).len();
                assert!(count <= n, "{min}..{max}, at most {n}: {count} labels");
                assert!(count >= 2, "{min}..{max}: both ends labelled");
                // The labelled range covers the data: the first and last ticks are labels
                // at the axis's ends.
                let ends: Vec<&Tick> = t.ticks.iter().filter(|t| t.label.is_some()).collect();
                assert_eq!(ends[0].at, t.lo);
                assert_eq!(ends[ends.len() - 1].at, t.hi);
                assert!(
                    t.lo <= libm::log10(min) && t.hi >= libm::log10(max),
                    "{t:?}"
                );
            }
        }
    }

    #[test]
    fn a_flat_run_gets_a_decade_either_side() {
        // All values 1.0: the curve sits in the middle of 10⁻¹…10¹.
        let t = log_ticks(1.0, 1.0, 10);
        assert_eq!((t.lo, t.hi), (-1.0, 1.0));
        // Within one decade, 2× and 5× are labelled too, and 2…9 × 10ⁿ ticked.
        let t = log_ticks(0.9, 1.1, 10);
        assert_eq!((t.lo, t.hi), (-1.0, 1.0));
        assert_eq!(
            labels(&t),
            ["10⁻¹", "2×10⁻¹", "5×10⁻¹", "10⁰", "2×10⁰", "5×10⁰", "10¹"]
        );
        assert_eq!(t.ticks.len(), 3 + 2 * 8);
        // Data in the top of a decade is still half a decade from the edge.
        let t = log_ticks(8.0, 9.0, 10);
        assert!(
            t.hi - libm::log10(9.0) >= 0.5 && libm::log10(8.0) - t.lo >= 0.5,
            "{t:?}"
        );
    }

    #[test]
    fn minor_ticks_only_on_short_axes() {
        let t = log_ticks(2e-3, 0.5, 10);
        assert_eq!((t.lo, t.hi), (-3.0, 0.0));
        assert_eq!(labels(&t), ["10⁻³", "10⁻²", "10⁻¹", "10⁰"]);
        assert_eq!(t.ticks.len(), 4 + 3 * 8, "2…9 × 10ⁿ in each decade");
        let t = log_ticks(2e-6, 0.5, 10);
        assert_eq!(t.ticks.len(), 7, "decades only");
        // A value on a decade is a decade inside the axis, not on its edge.
        let t = log_ticks(0.1, 0.5, 10);
        assert_eq!((t.lo, t.hi), (-2.0, 0.0));
    }

    #[test]
    fn nothing_plottable_gives_a_default_axis() {
        for (a, b) in [(0.0, 0.0), (f64::NAN, f64::INFINITY), (-1.0, -2.0)] {
            let t = log_ticks(a, b, 10);
            assert_eq!((t.lo, t.hi), (-1.0, 1.0));
        }
        // One usable end is enough.
        let t = log_ticks(0.0, 1e-5, 10);
        assert_eq!((t.lo, t.hi), (-6.0, -4.0));
    }

    #[test]
    fn a_layer_axis_labels_layer_1_and_round_numbers() {
        let t = linear_ticks(1.0, 101.0, 8, 1.0);
        assert_eq!((t.lo, t.hi), (1.0, 101.0));
        assert_eq!(labels(&t), ["1", "20", "40", "60", "80", "100"]);
        // Never between two layers.
        let t = linear_ticks(1.0, 3.0, 8, 1.0);
        assert_eq!(labels(&t), ["1", "2", "3"]);
        let t = linear_ticks(1.0, 21.0, 8, 1.0);
        assert_eq!(labels(&t), ["1", "5", "10", "15", "20"]);
        // Layer 1 and 2 would crowd: every other layer from 1.
        let t = linear_ticks(1.0, 21.0, 11, 1.0);
        assert_eq!(
            labels(&t),
            ["1", "3", "5", "7", "9", "11", "13", "15", "17", "19", "21"]
        );
        let t = linear_ticks(0.0, 1000.0, 8, 0.0);
        assert_eq!(labels(&t), ["0", "200", "400", "600", "800", "1,000"]);
    }

    #[test]
    fn linear_axes_survive_odd_input() {
        for (a, b) in [
            (5.0, 5.0),
            (f64::NAN, 1.0),
            (3.0, -3.0),
            (0.0, 1e-300),
            (0.0, 1e300),
        ] {
            let t = linear_ticks(a, b, 6, 0.0);
            assert!(t.lo < t.hi, "{a}..{b}: {t:?}");
            assert!(t.ticks.len() <= 7, "{a}..{b}: {t:?}");
            assert!(t.ticks.iter().all(|t| t.at.is_finite()));
        }
        assert_eq!(
            labels(&linear_ticks(-2.0, 2.0, 6, 0.0)),
            ["−2", "−1", "0", "1", "2"]
        );
        let tenths = linear_ticks(0.0, 0.5, 6, 0.0);
        assert_eq!(labels(&tenths), ["0.0", "0.1", "0.2", "0.3", "0.4", "0.5"]);
    }
}
