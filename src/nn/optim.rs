//! Parameter updates and gradient clipping.

use super::network::{Grads, Network};
use super::real::Real;
use ndarray::{ArrayBase, ArrayD, ArrayViewD, ArrayViewMutD, Data, Dimension, Zip};
use rayon::prelude::*;

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
    /// The same rule with η multiplied by `s` (a per-tensor learning rate, µP's table).
    pub fn scaled(self, s: f64) -> Self {
        match self {
            Optimizer::Sgd { lr } => Optimizer::Sgd { lr: lr * s },
            Optimizer::Momentum { lr, momentum } => Optimizer::Momentum {
                lr: lr * s,
                momentum,
            },
            Optimizer::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => Optimizer::Adam {
                lr: lr * s,
                beta1,
                beta2,
                eps,
            },
        }
    }

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
    /// Set momentum (and Adam's moment) entries to 0 once the step they would make is
    /// subnormal: |v| < N · max(1, 1/η), N the smallest normal number. A unit that stops
    /// receiving gradient decays v ← 0.9 v into the subnormals, where every multiply takes a
    /// microcode assist: at depth 20 × width 128 (ReLU) that tripled a step's time (4.5 ms →
    /// 1.5 ms flushed, f32). Off by default (`train`); the live lab turns it on, as XLA's
    /// flush-to-zero does for JAX. Such a step could move a weight only if |w| < 2⁻¹⁰² or so.
    pub flush: bool,
    /// A factor on η per parameter tensor, in the order of [`Network::params_mut`] (µP's
    /// per-layer learning rates); empty, or a tensor past its end: 1.
    pub lr_scale: Vec<f64>,
}

impl<F: Real> OptimizerState<F> {
    pub fn new(kind: Optimizer) -> Self {
        OptimizerState {
            kind,
            step: 0,
            m: Vec::new(),
            v: Vec::new(),
            flush: false,
            lr_scale: Vec::new(),
        }
    }

    /// The rule tensor `i` is updated with: [`OptimizerState::kind`] with its η scaled.
    fn kind_of(&self, i: usize) -> Optimizer {
        match self.lr_scale.get(i) {
            Some(&s) => self.kind.scaled(s),
            None => self.kind,
        }
    }

    /// ‖Δp‖ of the last update of parameter tensor `i` (in the order of
    /// [`Network::params_mut`]), from what the update used: η‖g‖ for SGD (`grads` being that
    /// step's), η‖v‖ for momentum, η‖m̂/(√v̂ + ε)‖ for Adam. NaN before any update.
    pub fn update_norm(&self, grads: &Grads<F>, i: usize) -> f64 {
        let kind = self.kind_of(i);
        match (grads.tensors().get(i), self.m.get(i), self.v.get(i)) {
            (Some(g), Some(m), Some(v)) => update_norm_of(kind, self.step, g, m, v),
            (Some(g), ..) if matches!(self.kind, Optimizer::Sgd { .. }) => {
                update_norm_of(kind, self.step, g, g, g)
            }
            _ => f64::NAN,
        }
    }

    /// Applies one update to every parameter of `net`.
    pub fn step(&mut self, net: &mut Network<F>, grads: &Grads<F>) {
        self.step_measuring(net, grads, &[]);
    }

    /// [`OptimizerState::step`], returning ‖Δp_i‖ ([`OptimizerState::update_norm`]) of every
    /// tensor i in `measure` (ascending), each measured as soon as its tensor is updated.
    /// Tensors are updated in parallel: each by the same code, so the bits do not change.
    pub fn step_measuring(
        &mut self,
        net: &mut Network<F>,
        grads: &Grads<F>,
        measure: &[usize],
    ) -> Vec<f64> {
        self.step += 1;
        let t = self.step;
        let kinds: Vec<Optimizer> = (0..grads.tensors().len())
            .map(|i| self.kind_of(i))
            .collect();
        let flush = self.flush;
        let params = net.params_mut();
        while self.m.len() < params.len() {
            let dim = params[self.m.len()].raw_dim();
            self.m.push(ArrayD::zeros(dim.clone()));
            self.v.push(ArrayD::zeros(dim));
        }
        let items: Vec<_> = params
            .into_iter()
            .zip(grads.tensors())
            .zip(self.m.iter_mut().zip(self.v.iter_mut()))
            .enumerate()
            .collect();
        let norms: Vec<Option<f64>> = items
            .into_par_iter()
            .with_max_len(1)
            .map(|(i, ((p, g), (mi, vi)))| {
                let kind = kinds[i];
                update_tensor(kind, t, flush, p, g.view(), mi, vi);
                measure
                    .contains(&i)
                    .then(|| update_norm_of(kind, t, &g, mi, vi))
            })
            .collect();
        norms.into_iter().flatten().collect()
    }
}

/// ‖Δp‖ of one tensor's update at step `t` from its gradient `g` and moments `m`, `v` (see
/// [`OptimizerState::update_norm`]).
fn update_norm_of<F: Real, S, T, U, D>(
    kind: Optimizer,
    t: i32,
    g: &ArrayBase<S, D>,
    m: &ArrayBase<T, D>,
    v: &ArrayBase<U, D>,
) -> f64
where
    S: Data<Elem = F>,
    T: Data<Elem = F>,
    U: Data<Elem = F>,
    D: Dimension,
{
    match kind {
        Optimizer::Sgd { lr } => lr * super::norm(g),
        Optimizer::Momentum { lr, .. } => lr * super::norm(m),
        Optimizer::Adam {
            lr,
            beta1,
            beta2,
            eps,
        } => {
            let c1 = 1.0 - beta1.powi(t);
            let c2 = 1.0 - beta2.powi(t);
            let d: Vec<f64> = m
                .iter()
                .zip(v)
                .map(|(m, v)| (m.as_f64() / c1) / ((v.as_f64() / c2).sqrt() + eps))
                .collect();
            lr * super::stats::norm_of(&d)
        }
    }
}

/// One tensor's update: as slices when `p`, `g` and the moments share one contiguous layout
/// (all of them, as the layers make them), else entry by entry.
fn update_tensor<F: Real>(
    kind: Optimizer,
    t: i32,
    flush: bool,
    mut p: ArrayViewMutD<'_, F>,
    g: ArrayViewD<'_, F>,
    mi: &mut ArrayD<F>,
    vi: &mut ArrayD<F>,
) {
    // Zip over dynamic-dimension views ran 4× slower than the matrix products of the whole
    // step. Same arithmetic per entry either way.
    let layout = p.strides();
    let slices = g.strides() == layout && mi.strides() == layout && vi.strides() == layout;
    if slices
        && let (Some(p), Some(g), Some(mi), Some(vi)) = (
            p.as_slice_memory_order_mut(),
            g.as_slice_memory_order(),
            mi.as_slice_memory_order_mut(),
            vi.as_slice_memory_order_mut(),
        )
    {
        match flush {
            true => update::<F, true>(kind, t, p, g, mi, vi),
            false => update::<F, false>(kind, t, p, g, mi, vi),
        }
        return;
    }
    update_zip(kind, t, p, g, mi, vi);
    if flush {
        let tiny = tiny::<F>(kind);
        for a in mi.iter_mut().chain(vi.iter_mut()) {
            if a.abs() < tiny {
                *a = F::zero();
            }
        }
    }
}

/// The flush threshold of [`OptimizerState::flush`]: N · max(1, 1/η).
fn tiny<F: Real>(kind: Optimizer) -> F {
    let lr = match kind {
        Optimizer::Sgd { lr } | Optimizer::Momentum { lr, .. } | Optimizer::Adam { lr, .. } => lr,
    };
    F::min_positive_value() * F::of((1.0 / lr).max(1.0))
}

/// The update of one tensor given as slices of one layout; `FLUSH`: see
/// [`OptimizerState::flush`].
fn update<F: Real, const FLUSH: bool>(
    kind: Optimizer,
    t: i32,
    p: &mut [F],
    g: &[F],
    m: &mut [F],
    v: &mut [F],
) {
    let tiny = tiny::<F>(kind);
    match kind {
        Optimizer::Sgd { lr } => {
            let lr = F::of(lr);
            for (p, &g) in p.iter_mut().zip(g) {
                *p -= lr * g;
            }
        }
        Optimizer::Momentum { lr, momentum } => {
            let (lr, mu) = (F::of(lr), F::of(momentum));
            for ((p, &g), v) in p.iter_mut().zip(g).zip(m) {
                *v = mu * *v + g;
                if FLUSH && v.abs() < tiny {
                    *v = F::zero();
                }
                *p -= lr * *v;
            }
        }
        Optimizer::Adam {
            lr,
            beta1,
            beta2,
            eps,
        } => {
            let (c1, c2, lr, b1, b2, eps) = adam_constants::<F>(t, lr, beta1, beta2, eps);
            let one = F::one();
            for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m).zip(v) {
                *m = b1 * *m + (one - b1) * g;
                *v = b2 * *v + (one - b2) * g * g;
                if FLUSH {
                    for a in [&mut *m, &mut *v] {
                        if a.abs() < tiny {
                            *a = F::zero();
                        }
                    }
                }
                let mhat = *m / c1;
                let vhat = *v / c2;
                *p -= lr * mhat / (vhat.sqrt_p() + eps);
            }
        }
    }
}

/// Adam's bias corrections 1 − β₁ᵗ, 1 − β₂ᵗ and its constants, in `F`.
fn adam_constants<F: Real>(
    t: i32,
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
) -> (F, F, F, F, F, F) {
    (
        F::of(1.0 - beta1.powi(t)),
        F::of(1.0 - beta2.powi(t)),
        F::of(lr),
        F::of(beta1),
        F::of(beta2),
        F::of(eps),
    )
}

/// [`update`] for tensors of mixed layouts, entry by entry.
fn update_zip<F: Real>(
    kind: Optimizer,
    t: i32,
    mut p: ArrayViewMutD<'_, F>,
    g: ArrayViewD<'_, F>,
    m: &mut ArrayD<F>,
    v: &mut ArrayD<F>,
) {
    match kind {
        Optimizer::Sgd { lr } => {
            let lr = F::of(lr);
            Zip::from(&mut p).and(&g).for_each(|p, &g| *p -= lr * g);
        }
        Optimizer::Momentum { lr, momentum } => {
            let (lr, mu) = (F::of(lr), F::of(momentum));
            Zip::from(&mut p).and(&g).and(m).for_each(|p, &g, v| {
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
            let (c1, c2, lr, b1, b2, eps) = adam_constants::<F>(t, lr, beta1, beta2, eps);
            let one = F::one();
            Zip::from(&mut p)
                .and(&g)
                .and(m)
                .and(v)
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

/// The global L2 norm over every gradient tensor, √(Σ‖g‖²), measured in f64.
pub fn global_norm<F: Real>(grads: &Grads<F>) -> f64 {
    super::stats::norm_of(&tensor_norms(grads))
}

/// ‖g‖ of every gradient tensor, in the order of [`Grads::tensors`]; [`global_norm`] is their
/// norm.
pub fn tensor_norms<F: Real>(grads: &Grads<F>) -> Vec<f64> {
    let tensors = grads.tensors();
    let entries: Vec<_> = tensors.iter().map(super::stats::entries).collect();
    let slices: Vec<&[F]> = entries.iter().map(|e| &e[..]).collect();
    // Two halves on two threads, each four tensors at a time (the same bits as one by one).
    let (a, b) = rayon::join(
        || super::stats::norms_of(&slices[..slices.len() / 2]),
        || super::stats::norms_of(&slices[slices.len() / 2..]),
    );
    [a, b].concat()
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
