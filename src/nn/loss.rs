//! Losses: each returns the value and its gradient with respect to the network output.

use super::real::Real;
use ndarray::{Array2, ArrayView2, Zip};

/// L = (1/B) Σ_i [(m_i − z_(i,y_i)) + ln Σ_k e^(z_ik − m_i)] with m_i = max_k z_ik;
/// ∂L/∂z = (softmax(z) − onehot(y)) / B, softmax(z)_k = e^(z_k − m) / Σ_j e^(z_j − m).
/// The shift m is never added back to ln Σ: with huge logits (ten equal ones near 3.5e15)
/// m + ln 10 rounds to m in f32, which would print a loss of 0 and probabilities of 1.
pub fn softmax_cross_entropy<F: Real>(z: ArrayView2<F>, labels: &[usize]) -> (F, Array2<F>) {
    let b = F::of(z.nrows() as f64);
    let mut dz = z.to_owned();
    let mut total = F::zero();
    for (mut row, &y) in dz.rows_mut().into_iter().zip(labels) {
        let m = row.fold(F::neg_infinity(), |m, &v| m.max(v));
        let sum = row.fold(F::zero(), |s, &v| s + (v - m).exp_p());
        total = total + (m - row[y]) + sum.ln_p();
        row.mapv_inplace(|v| (v - m).exp_p() / sum / b);
        row[y] -= F::one() / b;
    }
    (total / b, dz)
}

/// L = mean over all entries of (ŷ − y)²; ∂L/∂ŷ = 2(ŷ − y)/n.
pub fn mean_squared_error<F: Real>(pred: ArrayView2<F>, target: ArrayView2<F>) -> (F, Array2<F>) {
    let n = F::of(pred.len() as f64);
    let mut grad = Array2::zeros(pred.raw_dim());
    let mut total = F::zero();
    Zip::from(&mut grad)
        .and(&pred)
        .and(&target)
        .for_each(|g, &p, &t| {
            let d = p - t;
            total += d * d;
            *g = F::of(2.0) * d / n;
        });
    (total / n, grad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Ten equal logits of 3.5e15: the loss is ln 10 and every probability 1/10, in both
    /// precisions (the old m + ln Σ form gave 0 and 1 in f32).
    #[test]
    fn huge_equal_logits_keep_ln_k() {
        let z64 = Array2::from_elem((2, 10), 3.5e15_f64);
        let (l, dz) = softmax_cross_entropy(z64.view(), &[3, 7]);
        assert_eq!(l, libm::log(10.0));
        assert!((dz[[0, 0]] - 0.1 / 2.0).abs() < 1e-17);
        assert!((dz[[0, 3]] - (0.1 - 1.0) / 2.0).abs() < 1e-16);
        let z32 = Array2::from_elem((2, 10), 3.5e15_f32);
        let (l, dz) = softmax_cross_entropy(z32.view(), &[3, 7]);
        assert!((l - libm::logf(10.0)).abs() < 1e-6, "f32 loss {l}");
        assert!((dz[[1, 0]] - 0.05).abs() < 1e-8, "f32 p/B {}", dz[[1, 0]]);
        assert!((dz[[1, 7]] + 0.45).abs() < 1e-7);
    }

    /// Huge unequal logits: the largest wins outright. Right label: loss 0, gradient 0;
    /// wrong label: loss = the gap z_max − z_y, gradient +1/B on the winner, −1/B on y.
    #[test]
    fn huge_unequal_logits_give_the_gap() {
        let z = array![[1e15_f32, 0.0, -1e15], [1e15, 0.0, -1e15]];
        let (l, dz) = softmax_cross_entropy(z.view(), &[0, 1]);
        assert_eq!(l, 0.5e15);
        assert_eq!(dz, array![[0.0, 0.0, 0.0], [0.5, -0.5, 0.0]]);
        let z = array![[1e15_f64, 0.0, -1e15], [1e15, 0.0, -1e15]];
        let (l, dz) = softmax_cross_entropy(z.view(), &[2, 0]);
        assert_eq!(l, 1e15);
        assert_eq!(dz, array![[0.5, 0.0, -0.5], [0.0, 0.0, 0.0]]);
    }

    /// Small logits against the textbook formula −ln softmax(z)_y, computed directly.
    #[test]
    fn small_logits_match_the_definition() {
        let z = array![[0.5_f64, -1.0, 2.0]];
        let (l, dz) = softmax_cross_entropy(z.view(), &[1]);
        let e: Vec<f64> = z.iter().map(|&v| libm::exp(v)).collect();
        let s: f64 = e.iter().sum();
        assert!((l + libm::log(e[1] / s)).abs() < 1e-15);
        for k in 0..3 {
            let want = e[k] / s - f64::from(k == 1);
            assert!((dz[[0, k]] - want).abs() < 1e-15);
        }
    }
}
