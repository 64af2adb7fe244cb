//! The input–output Jacobian of a network, J = ∂a_L/∂a_0 for one input, and its singular
//! values: how every direction of a small change at the input is stretched or squashed on
//! its way to the last hidden layer (Saxe et al. 2014; Pennington, Schoenholz & Ganguli 2017).

use super::network::Network;
use super::real::Real;
use ndarray::{Array2, ArrayView1, Axis};

/// J = ∂a_L/∂a_0 (`width_L × width_0`, J_ij = ∂a_L,i/∂a_0,j) of the hidden layers at the
/// input `x`. Forward h_l = a_(l−1) W_l + b_l, a_l = φ(h_l) (+ a_(l−1) with a skip); the chain
/// rule gives J = D_L W_Lᵀ ⋯ D_1 W_1ᵀ with D_l = diag φ′(h_l) (I + D_l W_lᵀ with a skip),
/// built from the input up as Jᵀ ← Jᵀ W_l D_l. `None` with batch norm, whose statistics
/// couple the examples of a batch, so one input has no Jacobian of its own, and with layer
/// norm or a branch scale, which this product leaves out.
pub fn input_jacobian<F: Real>(net: &Network<F>, x: ArrayView1<F>) -> Option<Array2<F>> {
    let plain =
        |h: &super::network::Hidden<F>| h.bn.is_none() && h.ln.is_none() && h.scale.is_none();
    if !net.hidden.iter().all(plain) || net.final_norm.is_some() {
        return None;
    }
    let mut a = x.insert_axis(Axis(0)).to_owned();
    // jt = (∂a_l/∂a_0)ᵀ, `width_0 × width_l`.
    let mut jt = Array2::<F>::eye(x.len());
    for layer in &net.hidden {
        let mut h = layer.dense.forward(a.view());
        let dphi = net.activation.forward(&mut h);
        let mut next = jt.dot(&layer.dense.w);
        next *= &dphi;
        if net.skips(layer) {
            next += &jt;
            h += &a;
        }
        jt = next;
        a = h;
    }
    Some(jt.reversed_axes())
}

/// The singular values of `m`, largest first, from nalgebra's SVD in f64.
pub fn singular_values<F: Real>(m: &Array2<F>) -> Vec<f64> {
    let (r, c) = m.dim();
    let mat = nalgebra::DMatrix::<f64>::from_fn(r, c, |i, j| m[(i, j)].as_f64());
    let mut s: Vec<f64> = mat.singular_values().iter().copied().collect();
    s.sort_by(|a, b| b.total_cmp(a));
    s
}

/// Bytes [`input_jacobian`] and [`singular_values`] hold at once beyond the network, for a
/// `width_0`-wide input and hidden layers at most `widest` wide: two `width_0 × widest`
/// products in the run's precision (`size` bytes), and the f64 copy with the SVD's work
/// space (about three such matrices).
pub fn jacobian_bytes(width_0: usize, widest: usize, size: u128) -> Option<u128> {
    let m = (width_0 as u128).checked_mul(widest as u128)?;
    m.checked_mul(2)?
        .checked_mul(size)?
        .checked_add(m.checked_mul(3 * 8)?)
}
