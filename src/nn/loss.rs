//! Losses: each returns the value and its gradient with respect to the network output.

use super::real::Real;
use ndarray::{Array2, ArrayView2, Zip};

/// L = (1/B) Σ_i [log Σ_k e^(z_ik) − z_(i,y_i)], computed through log-sum-exp;
/// ∂L/∂z = (softmax(z) − onehot(y)) / B.
pub fn softmax_cross_entropy<F: Real>(z: ArrayView2<F>, labels: &[usize]) -> (F, Array2<F>) {
    let b = F::of(z.nrows() as f64);
    let mut dz = z.to_owned();
    let mut total = F::zero();
    for (mut row, &y) in dz.rows_mut().into_iter().zip(labels) {
        let m = row.fold(F::neg_infinity(), |m, &v| m.max(v));
        let sum = row.fold(F::zero(), |s, &v| s + (v - m).exp_p());
        let lse = m + sum.ln_p();
        total = total + lse - row[y];
        row.mapv_inplace(|v| (v - lse).exp_p() / b);
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
