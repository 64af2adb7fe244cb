//! Layer normalization (Ba et al. 2016): each example normalized over its own features,
//! with a learnable gain γ and bias β per feature. No batch statistics, so it behaves the
//! same at batch 1 as at batch 1000.

use super::batchnorm::BnGrad;
use super::real::Real;
use ndarray::{Array1, Array2, ArrayView2, Axis, Zip};

/// ε added to each example's variance: PyTorch's `nn.LayerNorm` default (Keras uses 1e−3).
pub const LN_EPS: f64 = 1e-5;

/// y = γ ⊙ x̂ + β with x̂ = (x − μ) / √(σ² + ε), μ and σ² over the features of each row.
#[derive(Clone, Debug)]
pub struct LayerNorm<F> {
    pub gamma: Array1<F>,
    pub beta: Array1<F>,
}

/// What the backward pass needs from the forward pass.
#[derive(Clone, Debug)]
pub struct LnCache<F> {
    pub xhat: Array2<F>,
    /// 1 / √(σ² + ε) per example.
    pub inv_std: Array1<F>,
}

/// Gradients of γ and β: the same two vectors as batch norm's.
pub type LnGrad<F> = BnGrad<F>;

impl<F: Real> LayerNorm<F> {
    /// γ = 1, β = 0 for `units` features.
    pub fn new(units: usize) -> Self {
        LayerNorm {
            gamma: Array1::ones(units),
            beta: Array1::zeros(units),
        }
    }

    /// μ and the biased σ² (divided by D) per row; y = γ x̂ + β.
    pub fn forward(&self, x: ArrayView2<F>) -> (Array2<F>, LnCache<F>) {
        let (xhat, inv_std) = normalize_rows(x);
        (self.affine(&xhat), LnCache { xhat, inv_std })
    }

    /// γ ⊙ x̂ + β, the layer's output from its cache.
    pub fn affine(&self, xhat: &Array2<F>) -> Array2<F> {
        let mut y = xhat * &self.gamma;
        y += &self.beta;
        y
    }

    /// ∂L/∂x = (1/D)·(1/√(σ²+ε))·(D·g − Σ_j g − x̂·Σ_j(g x̂)) per row, with g = γ ⊙ ∂L/∂y;
    /// ∂L/∂γ = Σ_batch ∂L/∂y ⊙ x̂, ∂L/∂β = Σ_batch ∂L/∂y.
    pub fn backward(&self, cache: &LnCache<F>, dy: ArrayView2<F>) -> (Array2<F>, LnGrad<F>) {
        let d = F::of(dy.ncols() as f64);
        let dbeta = dy.sum_axis(Axis(0));
        let dgamma = (&dy * &cache.xhat).sum_axis(Axis(0));
        let g = &dy * &self.gamma;
        let g_sum = g.sum_axis(Axis(1));
        let gx_sum = (&g * &cache.xhat).sum_axis(Axis(1));
        let mut dx = g * d;
        Zip::from(dx.rows_mut())
            .and(cache.xhat.rows())
            .and(&g_sum)
            .and(&gx_sum)
            .and(&cache.inv_std)
            .for_each(|mut row, xh, &gs, &gxs, &inv| {
                Zip::from(&mut row)
                    .and(&xh)
                    .for_each(|v, &x| *v = (*v - gs - x * gxs) * inv / d);
            });
        (dx, BnGrad { dgamma, dbeta })
    }
}

/// x̂ = (x − μ) / √(σ² + ε) per row, and 1 / √(σ² + ε).
fn normalize_rows<F: Real>(x: ArrayView2<F>) -> (Array2<F>, Array1<F>) {
    let d = F::of(x.ncols() as f64);
    let mean = x.sum_axis(Axis(1)) / d;
    let mut xhat = &x - &mean.view().insert_axis(Axis(1));
    let var = xhat.mapv(|v| v * v).sum_axis(Axis(1)) / d;
    let inv_std = var.mapv(|v| F::one() / (v + F::of(LN_EPS)).sqrt_p());
    xhat *= &inv_std.view().insert_axis(Axis(1));
    (xhat, inv_std)
}

#[cfg(test)]
mod tests {
    use super::LayerNorm;
    use ndarray::array;

    #[test]
    fn layer_norm_normalizes_each_example() {
        let ln = LayerNorm::<f64>::new(4);
        let x = array![[1.0, 2.0, 4.0, 9.0], [-3.0, 0.0, 3.0, 100.0]];
        let (y, cache) = ln.forward(x.view());
        for row in y.rows() {
            let mean = row.sum() / 4.0;
            let var = row.mapv(|v| (v - mean).powi(2)).sum() / 4.0;
            assert!(mean.abs() < 1e-12);
            assert!((var - 1.0).abs() < 1e-4 && var < 1.0, "variance {var}");
        }
        // Row 1: μ = 4, σ² = (9 + 4 + 0 + 25)/4 = 9.5.
        assert!((cache.inv_std[0] - 1.0 / (9.5f64 + 1e-5).sqrt()).abs() < 1e-15);
        // At batch 1 layer norm still normalizes (batch norm would output β everywhere).
        let (one, _) = ln.forward(x.slice(ndarray::s![0..1, ..]));
        assert_eq!(one.row(0), y.row(0));
    }
}
