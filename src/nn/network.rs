//! A multilayer perceptron: hidden layers `h_l = a_(l−1) W_l + b_l`, optional batch norm on
//! `h_l`, `a_l = φ(h_l)` (or `a_(l−1) + φ(h_l)` with residual connections, on every hidden
//! layer that keeps the width), then a linear output layer producing logits.

use super::activation::Activation;
use super::batchnorm::{BatchNorm, BnCache, BnGrad};
use super::dense::{Dense, DenseGrad};
use super::init::Init;
use super::norm;
use super::real::Real;
use super::rng;
use super::storage::Storage;
use ndarray::{Array, Array2, ArrayViewD, ArrayViewMutD, Dimension};
use std::borrow::Cow;

/// The shape and ingredients of a network.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// Width of the input.
    pub input: usize,
    /// Width of each hidden layer, first to last.
    pub hidden: Vec<usize>,
    /// Number of output units (classes).
    pub outputs: usize,
    pub activation: Activation,
    /// Initializer of the hidden kernels.
    pub init: Init,
    /// Initializer of the output kernel (often the same as `init`).
    pub output_init: Init,
    pub batch_norm: bool,
    pub residual: bool,
}

impl Spec {
    /// `(fan_in, fan_out)` of every dense layer, the output layer last.
    pub fn fans(&self) -> Vec<(usize, usize)> {
        let mut ins = vec![self.input];
        ins.extend(&self.hidden);
        let mut outs = self.hidden.clone();
        outs.push(self.outputs);
        ins.into_iter().zip(outs).collect()
    }

    /// Number of trainable parameters (kernels, biases, and γ, β of batch norm).
    pub fn parameters(&self) -> usize {
        let dense: usize = self.fans().iter().map(|(i, o)| i * o + o).sum();
        let bn: usize = if self.batch_norm {
            self.hidden.iter().map(|w| 2 * w).sum()
        } else {
            0
        };
        dense + bn
    }

    /// Checks that the spec describes a network that can exist.
    pub fn validate(&self) -> Result<(), String> {
        if self.input == 0 || self.outputs == 0 || self.hidden.contains(&0) {
            return Err("every layer needs at least one unit".into());
        }
        Ok(())
    }
}

/// One hidden layer: dense, then optionally batch norm.
#[derive(Clone, Debug)]
pub struct Hidden<F> {
    pub dense: Dense<F>,
    pub bn: Option<BatchNorm<F>>,
}

/// The network's parameters and structure.
#[derive(Clone, Debug)]
pub struct Network<F> {
    pub hidden: Vec<Hidden<F>>,
    pub output: Dense<F>,
    pub activation: Activation,
    pub residual: bool,
    /// Reduced-precision storage: every tensor a layer hands on is rounded to it.
    pub storage: Option<Storage>,
}

/// What the forward pass keeps for the backward pass, per hidden layer.
#[derive(Clone, Debug)]
pub struct HiddenTape<F> {
    /// a_(l−1), the layer's input.
    pub input: Array2<F>,
    /// φ′(h_l) at the pre-activation that φ received (after batch norm, when there is one);
    /// `None` when the backward pass takes it from a_l ([`Network::dphi`]).
    pub dphi: Option<Array2<F>>,
    pub bn: Option<BnCache<F>>,
}

/// The forward pass's record.
#[derive(Clone, Debug)]
pub struct Tape<F> {
    pub hidden: Vec<HiddenTape<F>>,
    /// a_depth, the output layer's input.
    pub last: Array2<F>,
    pub logits: Array2<F>,
}

impl<F> Tape<F> {
    /// a_l for l = 1 … depth (the output of hidden layer l).
    pub fn activation(&self, l: usize) -> &Array2<F> {
        if l < self.hidden.len() {
            &self.hidden[l].input
        } else {
            &self.last
        }
    }
}

/// Gradients of one hidden layer.
#[derive(Clone, Debug)]
pub struct HiddenGrad<F> {
    pub dense: DenseGrad<F>,
    pub bn: Option<BnGrad<F>>,
}

/// Gradients of every parameter, in the network's layout.
#[derive(Clone, Debug)]
pub struct Grads<F> {
    pub hidden: Vec<HiddenGrad<F>>,
    pub output: DenseGrad<F>,
}

/// What [`Network::backward_each`] returns besides the gradients it hands out.
#[derive(Clone, Debug)]
pub struct Backprop<F> {
    /// ‖∂L/∂h_l‖_F for every dense layer's output h_l (before batch norm), the logits last.
    pub signal_norms: Vec<f64>,
    /// ∂L/∂x, when asked for.
    pub input_grad: Option<Array2<F>>,
}

/// The backward pass's results.
#[derive(Clone, Debug)]
pub struct Backward<F> {
    pub grads: Grads<F>,
    /// ‖∂L/∂h_l‖_F for every dense layer's output h_l (before batch norm), the logits last.
    pub signal_norms: Vec<f64>,
    /// ∂L/∂x, when asked for.
    pub input_grad: Option<Array2<F>>,
}

impl<F: Real> Network<F> {
    /// Draws a network for `spec`; layer l's kernel comes from its own random stream of
    /// `seed`, so switching on batch norm or changing one layer leaves the others' weights
    /// as they were.
    pub fn build(spec: &Spec, seed: u64) -> Result<Self, String> {
        spec.validate()?;
        let depth = spec.hidden.len();
        let mut kernels = draw_kernels(spec, seed).into_iter();
        let hidden = spec.hidden[..depth]
            .iter()
            .zip(kernels.by_ref())
            .map(|(&o, w)| Hidden {
                dense: Dense::new(w),
                bn: spec.batch_norm.then(|| BatchNorm::new(o)),
            })
            .collect();
        let output = Dense::new(kernels.next().expect("one kernel per dense layer"));
        Ok(Network {
            hidden,
            output,
            activation: spec.activation,
            residual: spec.residual,
            storage: None,
        })
    }

    pub fn depth(&self) -> usize {
        self.hidden.len()
    }

    /// The network with its parameters rounded to `storage`, rounding every activation,
    /// signal and gradient it computes from then on (`None`: unchanged, full precision).
    pub fn stored_in(mut self, storage: Option<Storage>) -> Self {
        self.storage = storage;
        if let Some(s) = storage {
            for mut p in self.params_mut() {
                p.mapv_inplace(|v| s.round(v));
            }
        }
        self
    }

    /// Rounds `a` to the storage format, if there is one.
    fn store<D: Dimension>(&self, a: &mut Array<F, D>) {
        if let Some(s) = self.storage {
            s.round_all(a);
        }
    }

    /// Rounds one layer's gradients to the storage format, if there is one.
    fn store_grads(&self, dense: &mut DenseGrad<F>, bn: Option<&mut BnGrad<F>>) {
        self.store(&mut dense.dw);
        self.store(&mut dense.db);
        if let Some(g) = bn {
            self.store(&mut g.dgamma);
            self.store(&mut g.dbeta);
        }
    }

    /// φ′(h_l) of hidden layer `l` (0-based) in the pass recorded by `tape`: kept, or
    /// computed from a_l.
    pub fn dphi<'t>(&self, tape: &'t Tape<F>, l: usize) -> Cow<'t, Array2<F>> {
        match &tape.hidden[l].dphi {
            Some(d) => Cow::Borrowed(d),
            None => Cow::Owned(
                tape.activation(l + 1)
                    .mapv(|a| self.activation.df_of_output(a)),
            ),
        }
    }

    /// Whether `layer` has a skip connection: residual networks skip around every hidden
    /// layer that keeps the width (one that changes it has nothing to add the input to).
    pub fn skips(&self, layer: &Hidden<F>) -> bool {
        self.residual && layer.dense.fan_in() == layer.dense.fan_out()
    }

    /// Runs `x` (`batch × input`) through the network, keeping what backprop needs.
    pub fn forward(&self, x: Array2<F>) -> Tape<F> {
        let mut a = x;
        let mut hidden = Vec::with_capacity(self.hidden.len());
        for layer in &self.hidden {
            let mut z = layer.dense.forward(a.view());
            self.store(&mut z);
            let (mut next, bn) = match &layer.bn {
                Some(bn) => {
                    let (y, cache) = bn.forward(z.view());
                    (y, Some(cache))
                }
                None => (z, None),
            };
            // h_l becomes a_l in place; φ′(h_l) is kept only where a_l cannot give it.
            let dphi = if self.activation.df_from_output() && !self.skips(layer) {
                self.activation.apply(&mut next);
                None
            } else {
                Some(self.activation.forward(&mut next))
            };
            if self.skips(layer) {
                next += &a;
            }
            self.store(&mut next);
            hidden.push(HiddenTape { input: a, dphi, bn });
            a = next;
        }
        let mut logits = self.output.forward(a.view());
        self.store(&mut logits);
        Tape {
            hidden,
            last: a,
            logits,
        }
    }

    /// Backpropagates ∂L/∂logits through the tape, keeping every layer's gradients.
    pub fn backward(
        &self,
        tape: &Tape<F>,
        dlogits: Array2<F>,
        want_input_grad: bool,
    ) -> Backward<F> {
        let depth = self.depth();
        let mut output = None;
        let mut hidden = Vec::with_capacity(depth);
        let pass = self.backward_each(tape, dlogits, want_input_grad, |l, dense, bn| {
            if l == depth {
                output = Some(dense);
            } else {
                hidden.push(HiddenGrad { dense, bn });
            }
        });
        hidden.reverse();
        Backward {
            grads: Grads {
                hidden,
                output: output.expect("the output layer comes first"),
            },
            signal_norms: pass.signal_norms,
            input_grad: pass.input_grad,
        }
    }

    /// Backpropagates ∂L/∂logits through the tape, handing each layer's gradients to `visit`
    /// as soon as they exist: `(l, ∂L/∂(W, b), batch norm's)`, the output layer (l = depth)
    /// first, then the hidden layers downwards. A caller that only measures them never holds
    /// more than one layer's gradients.
    pub fn backward_each(
        &self,
        tape: &Tape<F>,
        dlogits: Array2<F>,
        want_input_grad: bool,
        mut visit: impl FnMut(usize, DenseGrad<F>, Option<BnGrad<F>>),
    ) -> Backprop<F> {
        let depth = self.depth();
        let mut signal_norms = vec![0.0; depth + 1];
        let mut dlogits = dlogits;
        self.store(&mut dlogits);
        signal_norms[depth] = norm(&dlogits);
        let want = depth > 0 || want_input_grad;
        let (mut output, mut da) = self.output.backward(tape.last.view(), dlogits.view(), want);
        self.store_grads(&mut output, None);
        if let Some(d) = da.as_mut() {
            self.store(d);
        }
        visit(depth, output, None);
        for l in (0..depth).rev() {
            let (layer, rec) = (&self.hidden[l], &tape.hidden[l]);
            let upstream = da.take().expect("gradient flows to every hidden layer");
            // With a skip connection ∂L/∂a_(l−1) also receives ∂L/∂a_l unchanged.
            let (dh, skip) = match &rec.dphi {
                Some(dphi) if self.skips(layer) => (&upstream * dphi, Some(upstream)),
                Some(dphi) => {
                    let mut dh = upstream;
                    Activation::backward(dphi, &mut dh);
                    (dh, None)
                }
                None => {
                    let mut dh = upstream;
                    self.activation
                        .backward_from_output(tape.activation(l + 1), &mut dh);
                    (dh, None)
                }
            };
            let (mut dz, mut bn) = match (&layer.bn, &rec.bn) {
                (Some(bn), Some(cache)) => {
                    let (dz, g) = bn.backward(cache, dh.view());
                    (dz, Some(g))
                }
                _ => (dh, None),
            };
            self.store(&mut dz);
            signal_norms[l] = norm(&dz);
            let (mut dense, dx) =
                layer
                    .dense
                    .backward(rec.input.view(), dz.view(), l > 0 || want_input_grad);
            da = match (dx, skip) {
                (Some(mut dx), Some(skip)) => {
                    dx += &skip;
                    Some(dx)
                }
                (dx, _) => dx,
            };
            if let Some(d) = da.as_mut() {
                self.store(d);
            }
            self.store_grads(&mut dense, bn.as_mut());
            visit(l, dense, bn);
        }
        Backprop {
            signal_norms,
            input_grad: da,
        }
    }

    /// Every parameter tensor, in a fixed order: per hidden layer W, b (then γ, β with batch
    /// norm), the output layer's W, b last. [`Grads::tensors`] uses the same order.
    pub fn params_mut(&mut self) -> Vec<ArrayViewMutD<'_, F>> {
        let mut out = Vec::new();
        for layer in &mut self.hidden {
            out.push(layer.dense.w.view_mut().into_dyn());
            out.push(layer.dense.b.view_mut().into_dyn());
            if let Some(bn) = &mut layer.bn {
                out.push(bn.gamma.view_mut().into_dyn());
                out.push(bn.beta.view_mut().into_dyn());
            }
        }
        out.push(self.output.w.view_mut().into_dyn());
        out.push(self.output.b.view_mut().into_dyn());
        out
    }
}

/// Every dense layer's kernel, the output layer's last. Each layer draws from its own stream,
/// so large networks are drawn on several threads and still come out bit for bit the same.
fn draw_kernels<F: Real>(spec: &Spec, seed: u64) -> Vec<Array2<F>> {
    let fans = spec.fans();
    let depth = spec.hidden.len();
    let draw = |l: usize| {
        let (i, o) = fans[l];
        let init = if l < depth {
            spec.init
        } else {
            spec.output_init
        };
        init.kernel(i, o, &mut rng::layer(seed, l))
    };
    let weights: usize = fans.iter().map(|(i, o)| i * o).sum();
    super::parallel::map(fans.len(), weights, draw)
}

/// One layer's gradient tensors in the order of [`Grads::tensors`]: ∂L/∂W, ∂L/∂b, then
/// ∂L/∂γ, ∂L/∂β with batch norm.
pub fn layer_tensors<'a, F>(
    dense: &'a DenseGrad<F>,
    bn: Option<&'a BnGrad<F>>,
) -> Vec<ArrayViewD<'a, F>> {
    let mut out = vec![dense.dw.view().into_dyn(), dense.db.view().into_dyn()];
    if let Some(b) = bn {
        out.extend([b.dgamma.view().into_dyn(), b.dbeta.view().into_dyn()]);
    }
    out
}

impl<F: Real> Grads<F> {
    /// Every gradient tensor, in the order of [`Network::params_mut`].
    pub fn tensors(&self) -> Vec<ArrayViewD<'_, F>> {
        let hidden = self.hidden.iter().map(|g| (&g.dense, g.bn.as_ref()));
        hidden
            .chain([(&self.output, None)])
            .flat_map(|(dense, bn)| layer_tensors(dense, bn))
            .collect()
    }

    /// Every gradient tensor, mutable, in the order of [`Network::params_mut`].
    pub fn tensors_mut(&mut self) -> Vec<ArrayViewMutD<'_, F>> {
        let mut out = Vec::new();
        for g in &mut self.hidden {
            out.push(g.dense.dw.view_mut().into_dyn());
            out.push(g.dense.db.view_mut().into_dyn());
            if let Some(b) = &mut g.bn {
                out.push(b.dgamma.view_mut().into_dyn());
                out.push(b.dbeta.view_mut().into_dyn());
            }
        }
        out.push(self.output.dw.view_mut().into_dyn());
        out.push(self.output.db.view_mut().into_dyn());
        out
    }
}
