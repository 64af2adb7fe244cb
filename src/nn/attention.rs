//! One self-attention head and its exact backward pass: O = softmax(Q Kᵀ / c) V with
//! Q = X W_Q, K = X W_K, V = X W_V, over each sequence of T tokens (rows of X) on its own.
//!
//! Forward beside backward (micrograd's habit). With Z = S/c the logits the softmax sees and
//! A = softmax(Z) row by row, the backward rules are dV = Aᵀ dO, dA = dO Vᵀ, the softmax
//! Jacobian dZ_tu = A_tu·(dA_tu − Σ_v A_tv dA_tv), dS = dZ / c, dQ = dS K, dK = dSᵀ Q, then
//! dW = Xᵀ dQ (and K, V), dX = dQ W_Qᵀ + dK W_Kᵀ + dV W_Vᵀ. Checked against central finite
//! differences in f64 below, for every parameter and the input.

use super::real::Real;
use ndarray::{Array2, ArrayView2, Axis, s};

/// The head's weights: W_Q and W_K are `d_model × d_k`, W_V `d_model × d_v`; logits are
/// divided by `scale` (c) before the softmax.
#[derive(Clone, Debug)]
pub struct Head<F> {
    pub wq: Array2<F>,
    pub wk: Array2<F>,
    pub wv: Array2<F>,
    pub scale: F,
}

/// What the forward pass keeps for the backward one, for B sequences stacked row-wise.
#[derive(Clone, Debug)]
pub struct HeadTape<F> {
    pub q: Array2<F>,
    pub k: Array2<F>,
    pub v: Array2<F>,
    /// Z = Q Kᵀ / c of each sequence, stacked: `B·T × T`.
    pub logits: Array2<F>,
    /// A = softmax(Z) row by row, stacked like `logits`.
    pub probs: Array2<F>,
    /// O = A V, `B·T × d_v`.
    pub out: Array2<F>,
}

/// ∂L/∂ of the weights, and of the input where asked for.
#[derive(Clone, Debug)]
pub struct HeadGrads<F> {
    pub dwq: Array2<F>,
    pub dwk: Array2<F>,
    pub dwv: Array2<F>,
    pub dx: Option<Array2<F>>,
    /// ∂L/∂Q, one row per query: what reaches W_Q through each token's query.
    pub dq: Array2<F>,
}

impl<F: Real> Head<F> {
    /// The forward pass over `x` (`B·T × d_model`, sequence after sequence of `seq_len` rows).
    pub fn forward(&self, x: ArrayView2<F>, seq_len: usize) -> HeadTape<F> {
        let (q, k, v) = (x.dot(&self.wq), x.dot(&self.wk), x.dot(&self.wv));
        let rows = x.nrows();
        let mut logits = Array2::zeros((rows, seq_len));
        let mut out = Array2::zeros((rows, self.wv.ncols()));
        for start in (0..rows).step_by(seq_len.max(1)) {
            let r = s![start..start + seq_len, ..];
            let mut z = q.slice(r).dot(&k.slice(r).t());
            z.mapv_inplace(|v| v / self.scale);
            logits.slice_mut(r).assign(&z);
        }
        let mut probs = logits.clone();
        softmax_rows(&mut probs);
        for start in (0..rows).step_by(seq_len.max(1)) {
            let r = s![start..start + seq_len, ..];
            out.slice_mut(r).assign(&probs.slice(r).dot(&v.slice(r)));
        }
        HeadTape {
            q,
            k,
            v,
            logits,
            probs,
            out,
        }
    }

    /// The backward pass from `dout` = ∂L/∂O; `want_dx` also gives ∂L/∂X.
    pub fn backward(
        &self,
        x: ArrayView2<F>,
        tape: &HeadTape<F>,
        dout: ArrayView2<F>,
        seq_len: usize,
        want_dx: bool,
    ) -> HeadGrads<F> {
        let rows = x.nrows();
        let mut dq = Array2::zeros(tape.q.raw_dim());
        let mut dk = Array2::zeros(tape.k.raw_dim());
        let mut dv = Array2::zeros(tape.v.raw_dim());
        for start in (0..rows).step_by(seq_len.max(1)) {
            let r = s![start..start + seq_len, ..];
            let a = tape.probs.slice(r);
            let d_o = dout.slice(r);
            dv.slice_mut(r).assign(&a.t().dot(&d_o));
            let da = d_o.dot(&tape.v.slice(r).t());
            // The softmax's Jacobian, row by row, then the 1/c of Z = S/c.
            let mut ds = Array2::zeros(da.raw_dim());
            for ((mut out, a_row), da_row) in ds
                .axis_iter_mut(Axis(0))
                .zip(a.axis_iter(Axis(0)))
                .zip(da.axis_iter(Axis(0)))
            {
                let dot = a_row
                    .iter()
                    .zip(da_row.iter())
                    .fold(F::zero(), |acc, (&p, &g)| acc + p * g);
                for ((o, &p), &g) in out.iter_mut().zip(a_row.iter()).zip(da_row.iter()) {
                    *o = p * (g - dot) / self.scale;
                }
            }
            dq.slice_mut(r).assign(&ds.dot(&tape.k.slice(r)));
            dk.slice_mut(r).assign(&ds.t().dot(&tape.q.slice(r)));
        }
        let xt = x.t();
        let dx =
            want_dx.then(|| dq.dot(&self.wq.t()) + dk.dot(&self.wk.t()) + dv.dot(&self.wv.t()));
        HeadGrads {
            dwq: xt.dot(&dq),
            dwk: xt.dot(&dk),
            dwv: xt.dot(&dv),
            dx,
            dq,
        }
    }
}

/// Softmax of every row in place, shifted by the row's maximum so that no eˣ overflows.
pub fn softmax_rows<F: Real>(z: &mut Array2<F>) {
    for mut row in z.axis_iter_mut(Axis(0)) {
        let m = row.fold(F::neg_infinity(), |m, &v| m.max(v));
        row.mapv_inplace(|v| v - m);
        if let Some(slice) = row.as_slice_mut() {
            F::exp_all(slice);
        } else {
            row.mapv_inplace(F::exp_p);
        }
        let sum = row.fold(F::zero(), |s, &v| s + v);
        row.mapv_inplace(|v| v / sum);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Init;
    use crate::nn::rng::{gaussian_batch, layer};

    /// L = ½ Σ (O − Y)² and its gradient O − Y, for the check.
    fn loss(head: &Head<f64>, x: &Array2<f64>, y: &Array2<f64>, t: usize) -> f64 {
        let o = head.forward(x.view(), t).out;
        0.5 * (&o - y).iter().map(|d| d * d).sum::<f64>()
    }

    /// Every entry of W_Q, W_K, W_V and X against the fourth-order central difference
    /// [−f(x+2h) + 8f(x+h) − 8f(x−h) + f(x−2h)] / 12h, h = 1e−4, on two sequences of 5 tokens,
    /// d_model 4, d_k 3, d_v 2, with a scale that is not 1: the worst relative error (where
    /// the gradient is at least 1e−4, else absolute) is below 1e−8.
    #[test]
    fn the_backward_pass_matches_finite_differences() {
        let (t, n, dk, dv) = (5, 4, 3, 2);
        // A larger weight scale than Xavier's, so the softmax is far from uniform.
        let mut head = Head {
            wq: Init::Normal(Some(0.9)).kernel::<f64, _>(n, dk, &mut layer(7, 0)),
            wk: Init::Normal(Some(0.8)).kernel::<f64, _>(n, dk, &mut layer(7, 1)),
            wv: Init::XavierNormal.kernel::<f64, _>(n, dv, &mut layer(7, 2)),
            scale: 1.3,
        };
        let (mut x, _) = gaussian_batch::<f64>(2 * t, n, 2, 7);
        let (y, _) = gaussian_batch::<f64>(2 * t, dv, 2, 8);
        let tape = head.forward(x.view(), t);
        let dout = &tape.out - &y;
        let g = head.backward(x.view(), &tape, dout.view(), t, true);
        let max_p = tape.probs.iter().copied().fold(0.0, f64::max);
        assert!(
            max_p > 0.6,
            "the check runs away from a uniform softmax: {max_p}"
        );
        let h = 1e-4;
        let mut worst = 0.0f64;
        let mut check = |analytic: f64, f: &mut dyn FnMut(f64) -> f64| {
            let numeric = (-f(2.0 * h) + 8.0 * f(h) - 8.0 * f(-h) + f(-2.0 * h)) / (12.0 * h);
            let err = (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(1e-4);
            worst = worst.max(err);
        };
        for which in 0..3 {
            let grad = [&g.dwq, &g.dwk, &g.dwv][which].clone();
            for ((i, j), &a) in grad.indexed_iter() {
                check(a, &mut |d| {
                    let w = [&mut head.wq, &mut head.wk, &mut head.wv];
                    let w = w.into_iter().nth(which).expect("three weights");
                    let old = w[(i, j)];
                    w[(i, j)] = old + d;
                    let l = loss(&head, &x, &y, t);
                    let w = [&mut head.wq, &mut head.wk, &mut head.wv];
                    w.into_iter().nth(which).expect("three weights")[(i, j)] = old;
                    l
                });
            }
        }
        let dx = g.dx.expect("asked for ∂L/∂X");
        for ((i, j), &a) in dx.indexed_iter() {
            check(a, &mut |d| {
                let old = x[(i, j)];
                x[(i, j)] = old + d;
                let l = loss(&head, &x, &y, t);
                x[(i, j)] = old;
                l
            });
        }
        assert!(worst < 1e-8, "worst relative error {worst:e}");
    }

    /// Each row of the softmax sums to 1, and logits far beyond eˣ's range give a one-hot row
    /// rather than NaN.
    #[test]
    fn softmax_rows_sum_to_one_without_overflow() {
        let mut z = ndarray::arr2(&[[1.0f32, 2.0, 3.0], [1000.0, 0.0, -1000.0]]);
        softmax_rows(&mut z);
        for row in z.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-6);
        }
        assert_eq!(z[(1, 0)], 1.0);
        assert_eq!(z[(1, 2)], 0.0);
        assert!((z[(0, 2)] - 0.665_240_9).abs() < 1e-6);
    }
}
