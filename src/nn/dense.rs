//! The affine layer z = x W + b.

use super::real::Real;
use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, Axis};

/// A dense layer with a `fan_in × fan_out` kernel and a bias per output unit.
#[derive(Clone, Debug)]
pub struct Dense<F> {
    pub w: Array2<F>,
    pub b: Array1<F>,
}

/// Gradients of a dense layer's parameters.
#[derive(Clone, Debug)]
pub struct DenseGrad<F> {
    pub dw: Array2<F>,
    pub db: Array1<F>,
}

impl<F: Real> Dense<F> {
    /// A layer with the given kernel and zero biases.
    pub fn new(w: Array2<F>) -> Self {
        let b = Array1::zeros(w.ncols());
        Dense { w, b }
    }

    pub fn fan_in(&self) -> usize {
        self.w.nrows()
    }

    pub fn fan_out(&self) -> usize {
        self.w.ncols()
    }

    /// z = x W + b, for a `batch × fan_in` input.
    ///
    /// A large batch is cut in two halves of rows, multiplied on two threads into the two
    /// halves of z: each entry of z is the same dot product over the same k either way.
    pub fn forward(&self, x: ArrayView2<F>) -> Array2<F> {
        let rows = x.nrows();
        let work = rows * self.fan_in() * self.fan_out();
        let mut z = match rows >= 2 && work >= 2 * super::parallel::JOIN_WORK {
            true => {
                let mut z = Array2::zeros((rows, self.fan_out()));
                let (xa, xb) = x.split_at(Axis(0), rows / 2);
                let (mut za, mut zb) = z.view_mut().split_at(Axis(0), rows / 2);
                let w = &self.w;
                super::parallel::join(
                    work,
                    || general_mat_mul(F::one(), &xa, w, F::zero(), &mut za),
                    || general_mat_mul(F::one(), &xb, w, F::zero(), &mut zb),
                );
                z
            }
            false => x.dot(&self.w),
        };
        z += &self.b;
        z
    }

    /// ∂L/∂W = xᵀ ∂L/∂z, ∂L/∂b = Σ_batch ∂L/∂z, and (if asked) ∂L/∂x = ∂L/∂z Wᵀ.
    pub fn backward(
        &self,
        x: ArrayView2<F>,
        dz: ArrayView2<F>,
        want_dx: bool,
    ) -> (DenseGrad<F>, Option<Array2<F>>) {
        // ∂L/∂W and ∂L/∂x are independent products: on two threads when large (matrixmultiply
        // keeps a 64 × 128 × 128 product on one thread).
        let work = x.nrows() * self.fan_in() * self.fan_out();
        let (grad, dx) = super::parallel::join(
            if want_dx { work } else { 0 },
            || DenseGrad {
                dw: x.t().dot(&dz),
                db: dz.sum_axis(Axis(0)),
            },
            || want_dx.then(|| dz.dot(&self.w.t())),
        );
        (grad, dx)
    }
}
