//! Batch normalization in training mode: batch statistics, learnable γ and β.

use super::real::Real;
use ndarray::{Array1, Array2, ArrayView2, Axis, Zip};

/// ε added to the batch variance: PyTorch's default (Keras's BatchNormalization uses 1e−3).
pub const BN_EPS: f64 = 1e-5;

/// y = γ x̂ + β with x̂ = (x − μ_B) / √(σ²_B + ε), per unit over the batch.
#[derive(Clone, Debug)]
pub struct BatchNorm<F> {
    pub gamma: Array1<F>,
    pub beta: Array1<F>,
}

/// What the backward pass needs from the forward pass.
#[derive(Clone, Debug)]
pub struct BnCache<F> {
    pub xhat: Array2<F>,
    pub inv_std: Array1<F>,
}

/// Gradients of γ and β.
#[derive(Clone, Debug)]
pub struct BnGrad<F> {
    pub dgamma: Array1<F>,
    pub dbeta: Array1<F>,
}

impl<F: Real> BatchNorm<F> {
    /// γ = 1, β = 0 for `units` units.
    pub fn new(units: usize) -> Self {
        BatchNorm {
            gamma: Array1::ones(units),
            beta: Array1::zeros(units),
        }
    }

    /// μ_B and the biased σ²_B (divided by N) per column; y = γ x̂ + β.
    pub fn forward(&self, x: ArrayView2<F>) -> (Array2<F>, BnCache<F>) {
        let n = F::of(x.nrows() as f64);
        let mean = x.sum_axis(Axis(0)) / n;
        let mut xhat = &x - &mean;
        let var = xhat.mapv(|d| d * d).sum_axis(Axis(0)) / n;
        let inv_std = var.mapv(|v| F::one() / (v + F::of(BN_EPS)).sqrt_p());
        xhat *= &inv_std;
        let mut y = &xhat * &self.gamma;
        y += &self.beta;
        (y, BnCache { xhat, inv_std })
    }

    /// ∂L/∂x = (1/N)·(1/√(σ²+ε))·(N·g − Σg − x̂·Σ(g x̂)) with g = γ ⊙ ∂L/∂y;
    /// ∂L/∂γ = Σ ∂L/∂y ⊙ x̂, ∂L/∂β = Σ ∂L/∂y.
    pub fn backward(&self, cache: &BnCache<F>, dy: ArrayView2<F>) -> (Array2<F>, BnGrad<F>) {
        let n = F::of(dy.nrows() as f64);
        let dbeta = dy.sum_axis(Axis(0));
        let dgamma = (&dy * &cache.xhat).sum_axis(Axis(0));
        let g_sum = &dbeta * &self.gamma;
        let gx_sum = &dgamma * &self.gamma;
        let mut dx = &dy * &(&self.gamma * n);
        dx -= &g_sum;
        Zip::from(&mut dx)
            .and(&cache.xhat)
            .and_broadcast(&gx_sum)
            .for_each(|d, &xh, &gxs| *d -= xh * gxs);
        dx *= &(&cache.inv_std / n);
        (dx, BnGrad { dgamma, dbeta })
    }
}

#[cfg(test)]
mod tests {
    use super::BatchNorm;
    use ndarray::array;

    #[test]
    fn batch_norm_output_is_normalized() {
        let bn = BatchNorm::<f64>::new(3);
        let x = array![[1.0, 10.0, -3.0], [2.0, 20.0, -1.0], [4.0, 60.0, 2.0]];
        let (y, _) = bn.forward(x.view());
        for col in y.columns() {
            let mean = col.sum() / 3.0;
            let var = col.mapv(|v| (v - mean).powi(2)).sum() / 3.0;
            assert!(mean.abs() < 1e-12);
            // σ²/(σ² + ε): just under 1.
            assert!((var - 1.0).abs() < 1e-4 && var < 1.0, "variance {var}");
        }
    }
}
