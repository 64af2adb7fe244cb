//! Parameter updates and gradient clipping.

use super::network::{Grads, Network};
use super::real::Real;
use ndarray::{ArrayD, Zip};

/// How parameters move given their gradients.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Optimizer {
    /// p ← p − η g.
    Sgd { lr: f64 },
    /// v ← μ v + g, p ← p − η v (PyTorch's form).
    Momentum { lr: f64, momentum: f64 },
    /// Adam with bias correction (Kingma & Ba 2015).
    Adam {
        lr: f64,
        beta1: f64,
        beta2: f64,
        eps: f64,
    },
}

impl Optimizer {
    /// Adam with the usual β₁ = 0.9, β₂ = 0.999, ε = 1e−8.
    pub fn adam(lr: f64) -> Self {
        Optimizer::Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// An optimizer with its per-parameter state.
#[derive(Clone, Debug)]
pub struct OptimizerState<F> {
    pub kind: Optimizer,
    step: i32,
    m: Vec<ArrayD<F>>,
    v: Vec<ArrayD<F>>,
}

impl<F: Real> OptimizerState<F> {
    pub fn new(kind: Optimizer) -> Self {
        OptimizerState {
            kind,
            step: 0,
            m: Vec::new(),
            v: Vec::new(),
        }
    }

    /// ‖Δp‖ of the last update of parameter tensor `i` (in the order of
    /// [`Network::params_mut`]), from what the update used: η‖g‖ for SGD (`grads` being that
    /// step's), η‖v‖ for momentum, η‖m̂/(√v̂ + ε)‖ for Adam. NaN before any update.
    pub fn update_norm(&self, grads: &Grads<F>, i: usize) -> f64 {
        match self.kind {
            Optimizer::Sgd { lr } => grads
                .tensors()
                .get(i)
                .map_or(f64::NAN, |g| lr * super::norm(g)),
            Optimizer::Momentum { lr, .. } => {
                self.m.get(i).map_or(f64::NAN, |v| lr * super::norm(v))
            }
            Optimizer::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => {
                let (Some(m), Some(v)) = (self.m.get(i), self.v.get(i)) else {
                    return f64::NAN;
                };
                let c1 = 1.0 - beta1.powi(self.step);
                let c2 = 1.0 - beta2.powi(self.step);
                let d: Vec<f64> = m
                    .iter()
                    .zip(v)
                    .map(|(m, v)| (m.as_f64() / c1) / ((v.as_f64() / c2).sqrt() + eps))
                    .collect();
                lr * super::stats::norm_of(&d)
            }
        }
    }

    /// Applies one update to every parameter of `net`.
    pub fn step(&mut self, net: &mut Network<F>, grads: &Grads<F>) {
        self.step += 1;
        let t = self.step;
        let kind = self.kind;
        let (m, v) = (&mut self.m, &mut self.v);
        for (i, (mut p, g)) in net
            .params_mut()
            .into_iter()
            .zip(grads.tensors())
            .enumerate()
        {
            if m.len() <= i {
                m.push(ArrayD::zeros(p.raw_dim()));
                v.push(ArrayD::zeros(p.raw_dim()));
            }
            match kind {
                Optimizer::Sgd { lr } => {
                    let lr = F::of(lr);
                    Zip::from(&mut p).and(&g).for_each(|p, &g| *p -= lr * g);
                }
                Optimizer::Momentum { lr, momentum } => {
                    let (lr, mu) = (F::of(lr), F::of(momentum));
                    Zip::from(&mut p)
                        .and(&g)
                        .and(&mut m[i])
                        .for_each(|p, &g, v| {
                            *v = mu * *v + g;
                            *p -= lr * *v;
                        });
                }
                Optimizer::Adam {
                    lr,
                    beta1,
                    beta2,
                    eps,
                } => {
                    let c1 = F::of(1.0 - beta1.powi(t));
                    let c2 = F::of(1.0 - beta2.powi(t));
                    let (lr, b1, b2, eps) = (F::of(lr), F::of(beta1), F::of(beta2), F::of(eps));
                    let one = F::one();
                    Zip::from(&mut p)
                        .and(&g)
                        .and(&mut m[i])
                        .and(&mut v[i])
                        .for_each(|p, &g, m, v| {
                            *m = b1 * *m + (one - b1) * g;
                            *v = b2 * *v + (one - b2) * g * g;
                            let mhat = *m / c1;
                            let vhat = *v / c2;
                            *p -= lr * mhat / (vhat.sqrt_p() + eps);
                        });
                }
            }
        }
    }
}

/// The global L2 norm over every gradient tensor, √(Σ‖g‖²), measured in f64.
pub fn global_norm<F: Real>(grads: &Grads<F>) -> f64 {
    super::stats::norm_of(&tensor_norms(grads))
}

/// ‖g‖ of every gradient tensor, in the order of [`Grads::tensors`]; [`global_norm`] is their
/// norm.
pub fn tensor_norms<F: Real>(grads: &Grads<F>) -> Vec<f64> {
    let tensors = grads.tensors();
    super::parallel::map(tensors.len(), |i| super::norm(&tensors[i]))
}

/// Clips by global norm with PyTorch's rule: coef = max_norm / (total + 1e−6), applied only
/// when coef < 1. Returns the norm before clipping.
pub fn clip_grad_norm<F: Real>(grads: &mut Grads<F>, max_norm: f64) -> f64 {
    let total = global_norm(grads);
    let coef = max_norm / (total + 1e-6);
    if coef < 1.0 {
        let c = F::of(coef);
        for mut t in grads.tensors_mut() {
            t.mapv_inplace(|g| g * c);
        }
    }
    total
}

/// Clamps every gradient entry to [−limit, limit].
pub fn clip_grad_value<F: Real>(grads: &mut Grads<F>, limit: f64) {
    let (lo, hi) = (F::of(-limit), F::of(limit));
    for mut t in grads.tensors_mut() {
        t.mapv_inplace(|g| g.max(lo).min(hi));
    }
}
