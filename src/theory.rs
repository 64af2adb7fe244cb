//! Mean-field predictions (Poole et al. 2016; Schoenholz et al. 2017) to set beside the probe.
//!
//! With σ_w² = fan_in · Var(W), the pre-activation variance follows
//! q_l = σ_w² · E[φ(h)²], h ~ N(0, q_(l−1)), and the backprop signal's squared norm is
//! multiplied per layer by χ_l = σ_w² · E[φ′(h)²].

use crate::probe::ProbeConfig;
use serde::Serialize;

/// What mean-field theory predicts for a probe configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    /// q_l, the predicted variance of h_l, for each hidden layer.
    pub q: Vec<f64>,
    /// χ_l for the step from layer l+1 back to layer l, l = 1 … depth.
    pub chi: Vec<f64>,
    /// Predicted log₁₀(‖∂L/∂h_1‖ / ‖∂L/∂logits‖) = Σ_l ½ log₁₀ χ_l.
    pub orders: f64,
    /// Geometric mean of √χ_l: the predicted per-layer factor of the signal norm.
    pub factor: f64,
}

/// The prediction, or why the theory does not apply to this configuration.
pub fn predict(cfg: &ProbeConfig) -> Result<Prediction, String> {
    if cfg.spec.batch_norm {
        return Err("batch norm rescales every layer by batch statistics".into());
    }
    if cfg.spec.residual {
        return Err("skip connections add an identity path the i.i.d. theory leaves out".into());
    }
    if cfg.spec.init.is_constant() || cfg.spec.output_init.is_constant() {
        return Err("a constant kernel is not random: every unit computes the same thing".into());
    }
    let fans = cfg.spec.fans();
    let var = |l: usize, init: crate::nn::Init| -> f64 {
        let (i, o) = fans[l];
        i as f64 * init.variance(i, o).unwrap_or(0.0)
    };
    let depth = cfg.depth();
    let sigma2 = |l: usize| {
        if l < depth {
            var(l, cfg.spec.init)
        } else {
            var(l, cfg.spec.output_init)
        }
    };
    let phi = cfg.spec.activation;
    let mut q = Vec::with_capacity(depth);
    // X has unit-variance entries, so E[x²] = 1 for the first layer.
    let mut q_l = sigma2(0);
    let mut chi = Vec::with_capacity(depth);
    for l in 0..depth {
        q.push(q_l);
        let next = sigma2(l + 1);
        chi.push(next * gaussian_mean(q_l, |h| phi.df(h).powi(2)));
        q_l = next * gaussian_mean(q_l, |h| phi.f(h).powi(2));
    }
    let orders: f64 = chi.iter().map(|c| 0.5 * c.log10()).sum();
    Ok(Prediction {
        q,
        chi,
        orders,
        factor: 10f64.powf(orders / depth as f64),
    })
}

/// E[f(h)] for h ~ N(0, q), by composite Simpson on each half-line z ∈ [0, 12] (h = ±√q z),
/// with the value at z = 0 taken as the one-sided limit: a derivative that jumps at 0 (ReLU′)
/// is then integrated as exactly as a smooth one.
pub fn gaussian_mean(q: f64, f: impl Fn(f64) -> f64) -> f64 {
    if q <= 0.0 {
        return f(0.0);
    }
    const N: usize = 1200;
    const Z: f64 = 12.0;
    let step = Z / N as f64;
    let s = q.sqrt();
    let density = |z: f64| (-0.5 * z * z).exp() * 0.398_942_280_401_432_7;
    let half = |sign: f64| {
        let g = |z: f64| f(sign * s * z) * density(z);
        let mut sum = f(sign * f64::MIN_POSITIVE) * density(0.0) + g(Z);
        for k in 1..N {
            let w = if k % 2 == 1 { 4.0 } else { 2.0 };
            sum += w * g(k as f64 * step);
        }
        sum * step / 3.0
    };
    half(1.0) + half(-1.0)
}
