//! Reductions over tensors, accumulated in f64: the norm ‖x‖₂, and mean and standard
//! deviation in one pass. Sums run over eight fixed lanes, so they vectorize and still add
//! in the same order on every run and every machine.

use super::real::Real;
use ndarray::{ArrayBase, Data, Dimension};
use std::borrow::Cow;

const LANES: usize = 8;

/// The tensor's entries as one slice (in memory order; a copy only if it is not contiguous).
pub(crate) fn entries<F: Real, S: Data<Elem = F>, D: Dimension>(
    a: &ArrayBase<S, D>,
) -> Cow<'_, [F]> {
    match a.as_slice_memory_order() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(a.iter().copied().collect()),
    }
}

/// N sums Σ f(x)ᵢ over `xs` in one pass, lane by lane, the lanes added in a fixed order.
pub(crate) fn lane_sums<F: Real, const N: usize>(
    xs: &[F],
    f: impl Fn(f64) -> [f64; N],
) -> [f64; N] {
    let mut acc = [[0.0f64; LANES]; N];
    let chunks = xs.chunks_exact(LANES);
    let mut out = [0.0f64; N];
    for x in chunks.remainder() {
        for (o, v) in out.iter_mut().zip(f(x.as_f64())) {
            *o += v;
        }
    }
    for chunk in chunks {
        for (lane, x) in chunk.iter().enumerate() {
            for (a, v) in acc.iter_mut().zip(f(x.as_f64())) {
                a[lane] += v;
            }
        }
    }
    for (o, a) in out.iter_mut().zip(acc) {
        *o += a.iter().sum::<f64>();
    }
    out
}

/// ‖x‖₂ of any tensor, scaled where needed so that neither tiny nor huge entries underflow
/// or overflow when squared. NaN if any entry is NaN, ∞ if any is infinite.
pub fn norm<F: Real, S: Data<Elem = F>, D: Dimension>(a: &ArrayBase<S, D>) -> f64 {
    norm_of(&entries(a))
}

/// [`norm`] of a slice.
pub fn norm_of<F: Real>(xs: &[F]) -> f64 {
    let [squares] = lane_sums(xs, |x| [x * x]);
    norm_from_squares(xs, squares)
}

/// [`norm_of`] of every slice of `xs`, the same bits: slices of one length go through the
/// lane sums four at a time, each with its own accumulators and order, so that four
/// independent chains of additions overlap where one alone waits on each add's latency
/// (the per-layer norms were about 11% of a live step at depth 20 × 128).
pub fn norms_of<F: Real>(xs: &[&[F]]) -> Vec<f64> {
    let mut out = vec![f64::NAN; xs.len()];
    let mut done = vec![false; xs.len()];
    for i in 0..xs.len() {
        if done[i] {
            continue;
        }
        let group: Vec<usize> = (i..xs.len())
            .filter(|&j| !done[j] && xs[j].len() == xs[i].len())
            .take(4)
            .collect();
        match group[..] {
            [a, b, c, d] => {
                let squares = squares4([xs[a], xs[b], xs[c], xs[d]]);
                for (&j, sq) in group.iter().zip(squares) {
                    out[j] = norm_from_squares(xs[j], sq);
                }
            }
            _ => out[i] = norm_of(xs[i]),
        }
        for j in match group.len() {
            4 => group,
            _ => vec![i],
        } {
            done[j] = true;
        }
    }
    out
}

/// Σx² of four slices of one length, each summed exactly as [`lane_sums`] sums it.
fn squares4<F: Real>(xs: [&[F]; 4]) -> [f64; 4] {
    let mut out = [0.0f64; 4];
    for (o, x) in out.iter_mut().zip(xs) {
        for v in x.chunks_exact(LANES).remainder() {
            let v = v.as_f64();
            *o += v * v;
        }
    }
    let mut acc = [[0.0f64; LANES]; 4];
    let [c0, c1, c2, c3] = xs.map(|x| x.chunks_exact(LANES));
    for (((x0, x1), x2), x3) in c0.zip(c1).zip(c2).zip(c3) {
        for (a, x) in acc.iter_mut().zip([x0, x1, x2, x3]) {
            for (a, v) in a.iter_mut().zip(x) {
                let v = v.as_f64();
                *a += v * v;
            }
        }
    }
    for (o, a) in out.iter_mut().zip(acc) {
        *o += a.iter().sum::<f64>();
    }
    out
}

/// ‖x‖₂ given `squares` = Σx² already summed over `xs`: its root while that sum is safely
/// inside f64's range (always for f32), else a second, scaled pass over `xs`.
pub(crate) fn norm_from_squares<F: Real>(xs: &[F], squares: f64) -> f64 {
    if squares.is_nan() {
        return f64::NAN;
    }
    if squares.is_finite() && squares > 1e-280 {
        return squares.sqrt();
    }
    let mut scale = 0.0f64;
    for x in xs {
        let a = x.as_f64().abs();
        if a.is_nan() {
            return f64::NAN;
        }
        scale = scale.max(a);
    }
    if scale == 0.0 || scale.is_infinite() {
        return scale;
    }
    let [sum] = lane_sums(xs, |x| [(x / scale).powi(2)]);
    scale * sum.sqrt()
}

/// Mean and population standard deviation of a tensor's entries, (0, 0) when it is empty.
/// One pass over d = x − K with K the first entry (the shifted-data algorithm):
/// Var = E[d²] − (E[d])², which loses nothing to cancellation as K lies within the data.
pub fn mean_std<F: Real, S: Data<Elem = F>, D: Dimension>(a: &ArrayBase<S, D>) -> (f64, f64) {
    let xs = entries(a);
    let Some(first) = xs.first() else {
        return (0.0, 0.0);
    };
    let k = Some(first.as_f64())
        .filter(|k| k.is_finite())
        .unwrap_or(0.0);
    let [s1, s2] = lane_sums(&xs, |x| {
        let d = x - k;
        [d, d * d]
    });
    let n = xs.len() as f64;
    let shift = s1 / n;
    let var = s2 / n - shift * shift;
    // Rounding can leave a tiny negative variance; NaN (from ∞ − ∞) stays NaN.
    (k + shift, if var < 0.0 { 0.0 } else { var.sqrt() })
}

/// The median, NaN-aware (a NaN anywhere gives NaN: a failed run is not averaged away);
/// NaN for no values.
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() || v.iter().any(|x| x.is_nan()) {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

#[cfg(test)]
mod tests {
    use super::{median, norm_of, norms_of};

    #[test]
    fn norms_four_at_a_time_have_each_norms_bits() {
        let xs: Vec<Vec<f32>> = (0..7)
            .map(|k| {
                let n = if k == 5 { 13 } else { 203 };
                (0..n)
                    .map(|i| ((i * 37 + k * 11) % 101) as f32 * 0.37 - 17.0)
                    .collect()
            })
            .collect();
        let slices: Vec<&[f32]> = xs.iter().map(|x| x.as_slice()).collect();
        let want: Vec<u64> = slices.iter().map(|x| norm_of(x).to_bits()).collect();
        let got: Vec<u64> = norms_of(&slices).iter().map(|v| v.to_bits()).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn median_of_odd_even_empty_and_nan() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(vec![]).is_nan());
        assert!(median(vec![1.0, f64::NAN, 2.0]).is_nan());
        assert_eq!(median(vec![f64::INFINITY, 1.0, 2.0]), 2.0);
    }
}
