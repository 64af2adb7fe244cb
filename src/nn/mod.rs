//! The numerical engine: layers, initializers, losses and a multilayer perceptron with an
//! exact backward pass, generic over f32 and f64. Knows nothing of the terminal.

pub mod activation;
pub mod batchnorm;
pub mod dense;
pub mod init;
pub mod loss;
pub mod network;
pub mod optim;
pub mod real;
pub mod rng;

pub use activation::Activation;
pub use init::Init;
pub use network::{Network, Spec};
pub use real::Real;

/// ‖x‖₂ of any tensor, measured in f64 and scaled where needed so that neither tiny nor huge
/// entries underflow or overflow when squared. NaN if any entry is NaN, ∞ if any is infinite.
pub fn norm<'a, F: Real>(values: impl Iterator<Item = &'a F> + Clone) -> f64 {
    // One pass suffices unless the squares left f64's comfortable range (always true for f32).
    let squares: f64 = values.clone().map(|v| v.as_f64().powi(2)).sum();
    if squares.is_nan() {
        return f64::NAN;
    }
    if squares.is_finite() && squares > 1e-280 {
        return squares.sqrt();
    }
    let mut scale = 0.0f64;
    for v in values.clone() {
        let a = v.as_f64().abs();
        if a.is_nan() {
            return f64::NAN;
        }
        scale = scale.max(a);
    }
    if scale == 0.0 || scale.is_infinite() {
        return scale;
    }
    let sum: f64 = values.map(|v| (v.as_f64() / scale).powi(2)).sum();
    scale * sum.sqrt()
}
