//! A multilayer perceptron: hidden layers `h_l = a_(l−1) W_l + b_l`, optional batch norm on
//! `h_l`, `a_l = φ(h_l)` (or `a_(l−1) + φ(h_l)` with residual connections, on every hidden
//! layer that keeps the width), then a linear output layer producing logits. A [`Block`]
//! swaps in layer norm, moves the norm around the skip (Post-/Pre-norm) and scales the
//! residual branch.

use super::activation::Activation;
use super::batchnorm::{BatchNorm, BnCache, BnGrad};
use super::dense::{Dense, DenseGrad};
use super::init::Init;
use super::layernorm::{LayerNorm, LnCache};
use super::norm;
use super::real::Real;
use super::rng;
use super::storage::Storage;
use ndarray::{Array, Array1, Array2, ArrayViewD, ArrayViewMutD, Dimension};
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
    /// Layer norm, norm placement and branch scaling (all off by default).
    pub block: Block,
}

/// Where a residual block puts its normalization (batch or layer norm), N.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    /// In the branch, before φ: a_l = a_(l−1) + φ(N(h_l)).
    #[default]
    Inside,
    /// Post-norm (the original Transformer): a_l = N(a_(l−1) + φ(a_(l−1) W_l + b_l)).
    Post,
    /// Pre-norm (Xiong et al. 2020): a_l = a_(l−1) + φ(N(a_(l−1)) W_l + b_l).
    Pre,
}

/// What a block adds to the plain recipe: layer norm, the norm's placement around the skip,
/// and a factor α on every residual branch, a_l = a_(l−1) + α·φ(…).
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Block {
    /// Layer norm where batch norm would sit (one or the other, never both).
    pub layer_norm: bool,
    /// Where the norm sits in a residual block; only `Inside` without skips.
    pub placement: Placement,
    /// α on each residual branch: a fixed factor, or with 0 a learnable scalar per block
    /// that starts at 0 (SkipInit, ReZero). `None`: no factor at all.
    pub branch_scale: Option<f64>,
}

impl Block {
    /// Whether the block is the plain recipe's (for `skip_serializing_if`).
    pub fn is_plain(&self) -> bool {
        *self == Block::default()
    }

    /// Whether α is a trainable parameter (a scale of 0: SkipInit / ReZero).
    pub fn learns_scale(&self) -> bool {
        self.branch_scale == Some(0.0)
    }
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
        let bn: usize = if self.batch_norm || self.block.layer_norm {
            self.hidden.iter().map(|w| 2 * w).sum()
        } else {
            0
        };
        let alphas = if self.block.learns_scale() {
            self.skipping_layers()
        } else {
            0
        };
        let final_norm = if self.residual && self.block.placement == Placement::Pre {
            2 * self.hidden.last().copied().unwrap_or(self.input)
        } else {
            0
        };
        dense + bn + alphas + final_norm
    }

    /// How many hidden layers have a skip connection (those that keep the width).
    pub fn skipping_layers(&self) -> usize {
        if !self.residual {
            return 0;
        }
        let ins = std::iter::once(&self.input).chain(&self.hidden);
        ins.zip(&self.hidden).filter(|(i, o)| i == o).count()
    }

    /// Checks that the spec describes a network that can exist.
    pub fn validate(&self) -> Result<(), String> {
        if self.input == 0 || self.outputs == 0 || self.hidden.contains(&0) {
            return Err("every layer needs at least one unit".into());
        }
        let b = &self.block;
        if self.batch_norm && b.layer_norm {
            return Err("a layer has batch norm or layer norm, not both".into());
        }
        if b.placement != Placement::Inside && !(self.residual && (self.batch_norm || b.layer_norm))
        {
            return Err(
                "pre- and post-norm place a norm around a skip: they need residual \
                        connections and batch or layer norm"
                    .into(),
            );
        }
        if let Some(s) = b.branch_scale {
            if !self.residual {
                return Err(
                    "a branch scale multiplies residual branches: it needs residual \
                            connections"
                        .into(),
                );
            }
            if !s.is_finite() {
                return Err(format!(
                    "the branch scale must be a finite number (got {})",
                    crate::format::echo(s)
                ));
            }
        }
        Ok(())
    }
}

/// One hidden layer: dense, then optionally batch norm.
#[derive(Clone, Debug)]
pub struct Hidden<F> {
    pub dense: Dense<F>,
    pub bn: Option<BatchNorm<F>>,
    /// Layer norm instead of batch norm.
    pub ln: Option<LayerNorm<F>>,
    /// α, the residual branch's factor (one entry), on layers with a skip.
    pub scale: Option<Array1<F>>,
}

/// A norm's record: batch norm's or layer norm's.
enum NormCache<F> {
    Batch(BnCache<F>),
    Layer(LnCache<F>),
}

/// N(x): batch norm, layer norm, or x itself, with the record backprop needs.
fn normalize<F: Real>(
    bn: &Option<BatchNorm<F>>,
    ln: &Option<LayerNorm<F>>,
    x: Array2<F>,
) -> (Array2<F>, Option<NormCache<F>>) {
    match (bn, ln) {
        (Some(bn), _) => {
            let (y, c) = bn.forward(x.view());
            (y, Some(NormCache::Batch(c)))
        }
        (None, Some(ln)) => {
            let (y, c) = ln.forward(x.view());
            (y, Some(NormCache::Layer(c)))
        }
        (None, None) => (x, None),
    }
}

/// Backward rule of [`normalize`]: ∂L/∂x and ∂L/∂(γ, β) from ∂L/∂N(x).
fn normalize_backward<F: Real>(
    (bn, ln): (&Option<BatchNorm<F>>, &Option<LayerNorm<F>>),
    (bn_cache, ln_cache): (&Option<BnCache<F>>, &Option<LnCache<F>>),
    dy: Array2<F>,
) -> (Array2<F>, Option<BnGrad<F>>) {
    match (bn, bn_cache, ln, ln_cache) {
        (Some(bn), Some(cache), _, _) => {
            let (dx, g) = bn.backward(cache, dy.view());
            (dx, Some(g))
        }
        (_, _, Some(ln), Some(cache)) => {
            let (dx, g) = ln.backward(cache, dy.view());
            (dx, Some(g))
        }
        _ => (dy, None),
    }
}

/// The records of [`normalize`], split by kind.
fn split<F>(c: Option<NormCache<F>>) -> (Option<BnCache<F>>, Option<LnCache<F>>) {
    match c {
        Some(NormCache::Batch(c)) => (Some(c), None),
        Some(NormCache::Layer(c)) => (None, Some(c)),
        None => (None, None),
    }
}

impl<F: Real> Hidden<F> {
    /// A dense layer with no norm and no branch factor.
    pub fn plain(dense: Dense<F>) -> Self {
        Hidden {
            dense,
            bn: None,
            ln: None,
            scale: None,
        }
    }

    fn normalize(&self, x: Array2<F>) -> (Array2<F>, Option<NormCache<F>>) {
        normalize(&self.bn, &self.ln, x)
    }

    fn normalize_backward(
        &self,
        rec: &HiddenTape<F>,
        dy: Array2<F>,
    ) -> (Array2<F>, Option<BnGrad<F>>) {
        normalize_backward((&self.bn, &self.ln), (&rec.bn, &rec.ln), dy)
    }

    /// N(x) again from the record (γ x̂ + β), for the dense layer of a pre-norm block.
    fn normalized(&self, rec: &HiddenTape<F>) -> Array2<F> {
        match (&self.bn, &rec.bn, &self.ln, &rec.ln) {
            (Some(bn), Some(c), _, _) => &c.xhat * &bn.gamma + &bn.beta,
            (_, _, Some(ln), Some(c)) => ln.affine(&c.xhat),
            _ => rec.input.clone(),
        }
    }
}

/// The norm a pre-norm network applies to a_depth before the output layer (as Pre-LN
/// Transformers do): without it the residual stream reaches the output at full size.
#[derive(Clone, Debug)]
pub struct FinalNorm<F> {
    pub bn: Option<BatchNorm<F>>,
    pub ln: Option<LayerNorm<F>>,
}

/// The final norm's record: its output, the output layer's input.
#[derive(Clone, Debug)]
pub struct FinalTape<F> {
    pub output: Array2<F>,
    pub bn: Option<BnCache<F>>,
    pub ln: Option<LnCache<F>>,
}

/// The network's parameters and structure.
#[derive(Clone, Debug)]
pub struct Network<F> {
    pub hidden: Vec<Hidden<F>>,
    pub output: Dense<F>,
    pub activation: Activation,
    pub residual: bool,
    /// Where the norm sits in blocks with a skip.
    pub placement: Placement,
    /// Whether each block's α is a parameter (listed by [`Network::params_mut`]).
    pub learn_scale: bool,
    /// Pre-norm's norm of a_depth before the output layer.
    pub final_norm: Option<FinalNorm<F>>,
    /// Reduced-precision storage: every tensor a layer hands on is rounded to it.
    pub storage: Option<Storage>,
    /// µP's output multiplier c: the output layer reads c·a_depth, z = (c·a) W_out + b_out
    /// (mup's `MuReadout`); `None`: no multiplier (c = 1), the standard network.
    pub head_mult: Option<f64>,
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
    /// Layer norm's record.
    pub ln: Option<LnCache<F>>,
    /// φ(…) of the residual branch before α, kept when α is learned (∂L/∂α needs it).
    pub branch: Option<Array2<F>>,
}

/// The forward pass's record.
#[derive(Clone, Debug)]
pub struct Tape<F> {
    pub hidden: Vec<HiddenTape<F>>,
    /// a_depth, the output layer's input (or the final norm's).
    pub last: Array2<F>,
    /// N(a_depth), where a final norm sits before the output layer.
    pub final_norm: Option<FinalTape<F>>,
    /// c·a_depth (or c·N(a_depth)), where the network has an output multiplier c.
    pub head: Option<Array2<F>>,
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
    /// ∂L/∂(γ, β) of the layer's norm, batch or layer norm.
    pub bn: Option<BnGrad<F>>,
    /// ∂L/∂α, when the branch factor is learned.
    pub dalpha: Option<Array1<F>>,
}

impl<F> Tape<F> {
    /// The output layer's input: N(a_depth) with a final norm, a_depth without, times the
    /// output multiplier where there is one.
    pub fn head_input(&self) -> &Array2<F> {
        if let Some(h) = &self.head {
            return h;
        }
        self.final_norm.as_ref().map_or(&self.last, |f| &f.output)
    }
}

/// Gradients of every parameter, in the network's layout.
#[derive(Clone, Debug)]
pub struct Grads<F> {
    pub hidden: Vec<HiddenGrad<F>>,
    pub output: DenseGrad<F>,
    /// ∂L/∂(γ, β) of the final norm (pre-norm networks).
    pub final_norm: Option<BnGrad<F>>,
}

/// What [`Network::backward_each`] returns besides the gradients it hands out.
#[derive(Clone, Debug)]
pub struct Backprop<F> {
    /// ‖∂L/∂h_l‖_F for every dense layer's output h_l (before batch norm), the logits last.
    pub signal_norms: Vec<f64>,
    /// ∂L/∂x, when asked for.
    pub input_grad: Option<Array2<F>>,
    /// ∂L/∂α of every hidden layer (`None` where α is not learned).
    pub dalpha: Vec<Option<Array1<F>>>,
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
                scale: spec
                    .block
                    .branch_scale
                    .filter(|_| spec.residual && w.nrows() == w.ncols())
                    .map(|s| Array1::from_elem(1, F::of(s))),
                dense: Dense::new(w),
                bn: spec.batch_norm.then(|| BatchNorm::new(o)),
                ln: spec.block.layer_norm.then(|| LayerNorm::new(o)),
            })
            .collect();
        let output = Dense::new(kernels.next().expect("one kernel per dense layer"));
        let pre = spec.residual && spec.block.placement == Placement::Pre;
        let width = spec.hidden.last().copied().unwrap_or(spec.input);
        let final_norm = pre.then(|| FinalNorm {
            bn: spec.batch_norm.then(|| BatchNorm::new(width)),
            ln: spec.block.layer_norm.then(|| LayerNorm::new(width)),
        });
        Ok(Network {
            final_norm,
            hidden,
            output,
            activation: spec.activation,
            residual: spec.residual,
            placement: spec.block.placement,
            learn_scale: spec.block.learns_scale(),
            storage: None,
            head_mult: None,
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

    /// h_l, what φ received in hidden layer `l` (0-based) in the pass recorded by `tape`,
    /// recomputed from its input: N(x W + b) inside, x W + b around a skip (post-norm), and
    /// N(x) W + b for pre-norm.
    pub fn pre_activation(&self, tape: &Tape<F>, l: usize) -> Array2<F> {
        let (layer, rec) = (&self.hidden[l], &tape.hidden[l]);
        let place = self.placement_of(layer);
        let mut z = match place {
            Placement::Pre => layer.dense.forward(layer.normalized(rec).view()),
            _ => layer.dense.forward(rec.input.view()),
        };
        self.store(&mut z);
        match place {
            Placement::Inside => layer.normalize(z).0,
            _ => z,
        }
    }

    /// Whether `layer` has a skip connection: residual networks skip around every hidden
    /// layer that keeps the width (one that changes it has nothing to add the input to).
    pub fn skips(&self, layer: &Hidden<F>) -> bool {
        self.residual && layer.dense.fan_in() == layer.dense.fan_out()
    }

    /// Where `layer`'s norm sits: the network's placement on layers with a skip, inside the
    /// branch on the others.
    pub fn placement_of(&self, layer: &Hidden<F>) -> Placement {
        if self.skips(layer) {
            self.placement
        } else {
            Placement::Inside
        }
    }

    /// Runs `x` (`batch × input`) through the network, keeping what backprop needs.
    pub fn forward(&self, x: Array2<F>) -> Tape<F> {
        self.run(x, true)
    }

    /// The logits of `x` alone, the same bits as `forward(x).logits`: each layer's input is
    /// dropped once used, so an evaluation holds two layers' activations, not all of them.
    pub fn logits(&self, x: Array2<F>) -> Array2<F> {
        self.run(x, false).logits
    }

    /// The forward pass; `keep` false leaves the tape's hidden layers empty.
    fn run(&self, x: Array2<F>, keep: bool) -> Tape<F> {
        let mut a = x;
        let mut hidden = Vec::with_capacity(self.hidden.len());
        for layer in &self.hidden {
            let place = self.placement_of(layer);
            // Pre-norm: the dense layer reads N(a_(l−1)); otherwise a_(l−1) itself.
            let (mut z, mut norm) = match place {
                Placement::Pre => {
                    let (n, cache) = layer.normalize(a.clone());
                    (layer.dense.forward(n.view()), cache)
                }
                _ => (layer.dense.forward(a.view()), None),
            };
            self.store(&mut z);
            let mut next = match place {
                Placement::Inside => {
                    let (y, cache) = layer.normalize(z);
                    norm = cache;
                    y
                }
                _ => z,
            };
            // h_l becomes a_l in place; φ′(h_l) is kept only where a_l cannot give it.
            let dphi = if !keep || self.activation.df_from_output() && !self.skips(layer) {
                self.activation.apply(&mut next);
                None
            } else {
                Some(self.activation.forward(&mut next))
            };
            let mut branch = None;
            if self.skips(layer) {
                if let Some(alpha) = &layer.scale {
                    branch = (keep && self.learn_scale).then(|| next.clone());
                    next *= alpha[0];
                }
                next += &a;
                if place == Placement::Post {
                    let (y, cache) = layer.normalize(next);
                    (next, norm) = (y, cache);
                }
            }
            self.store(&mut next);
            if keep {
                let (bn, ln) = split(norm);
                hidden.push(HiddenTape {
                    input: a,
                    dphi,
                    bn,
                    ln,
                    branch,
                });
            }
            a = next;
        }
        let final_norm = self.final_norm.as_ref().map(|f| {
            let (output, cache) = normalize(&f.bn, &f.ln, a.clone());
            let (bn, ln) = split(cache);
            FinalTape { output, bn, ln }
        });
        let mut tape = Tape {
            hidden,
            last: a,
            final_norm,
            head: None,
            logits: Array2::zeros((0, 0)),
        };
        if let Some(c) = self.head_mult {
            let mut head = tape.head_input() * F::of(c);
            self.store(&mut head);
            tape.head = Some(head);
        }
        tape.logits = self.output.forward(tape.head_input().view());
        self.store(&mut tape.logits);
        tape
    }

    /// Backpropagates ∂L/∂logits through the tape, keeping every layer's gradients.
    pub fn backward(
        &self,
        tape: &Tape<F>,
        dlogits: Array2<F>,
        want_input_grad: bool,
    ) -> Backward<F> {
        self.backward_keeping(tape, dlogits, want_input_grad, None)
    }

    /// [`Network::backward`], also copying every hidden layer's ∂L/∂z_l (the dense output's
    /// signal, before batch norm; layer 1 first) into `signals` when given.
    pub fn backward_keeping(
        &self,
        tape: &Tape<F>,
        dlogits: Array2<F>,
        want_input_grad: bool,
        signals: Option<&mut Vec<Array2<F>>>,
    ) -> Backward<F> {
        let depth = self.depth();
        let mut output = None;
        let mut final_norm = None;
        let mut hidden = Vec::with_capacity(depth);
        let pass = self.backward_inner(tape, dlogits, want_input_grad, signals, |l, dense, bn| {
            if l == depth {
                output = Some(dense);
                final_norm = bn;
            } else {
                hidden.push(HiddenGrad {
                    dense,
                    bn,
                    dalpha: None,
                });
            }
        });
        hidden.reverse();
        for (g, d) in hidden.iter_mut().zip(pass.dalpha) {
            g.dalpha = d;
        }
        Backward {
            grads: Grads {
                hidden,
                output: output.expect("the output layer comes first"),
                final_norm,
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
        visit: impl FnMut(usize, DenseGrad<F>, Option<BnGrad<F>>),
    ) -> Backprop<F> {
        self.backward_inner(tape, dlogits, want_input_grad, None, visit)
    }

    /// [`Network::backward_each`], copying ∂L/∂z_l into `signals` (layer 1 first) if given.
    fn backward_inner(
        &self,
        tape: &Tape<F>,
        dlogits: Array2<F>,
        want_input_grad: bool,
        mut signals: Option<&mut Vec<Array2<F>>>,
        mut visit: impl FnMut(usize, DenseGrad<F>, Option<BnGrad<F>>),
    ) -> Backprop<F> {
        if let Some(s) = signals.as_mut() {
            s.clear();
        }
        let depth = self.depth();
        let mut signal_norms = vec![0.0; depth + 1];
        let mut dlogits = dlogits;
        self.store(&mut dlogits);
        signal_norms[depth] = norm(&dlogits);
        let want = depth > 0 || want_input_grad;
        let (mut output, mut da) =
            self.output
                .backward(tape.head_input().view(), dlogits.view(), want);
        self.store_grads(&mut output, None);
        if let Some(d) = da.as_mut() {
            // The output layer read c·a: ∂L/∂a = c·∂L/∂(c·a).
            if let Some(c) = self.head_mult {
                d.mapv_inplace(|v| v * F::of(c));
            }
            self.store(d);
        }
        // The final norm's γ, β travel with the output layer's gradients.
        let mut final_grad = None;
        if let (Some(f), Some(rec)) = (&self.final_norm, &tape.final_norm) {
            let dy = da.take().expect("gradient flows into the final norm");
            let (dx, g) = normalize_backward((&f.bn, &f.ln), (&rec.bn, &rec.ln), dy);
            (da, final_grad) = (Some(dx), g);
        }
        visit(depth, output, final_grad);
        let mut dalpha = vec![None; depth];
        for l in (0..depth).rev() {
            let (layer, rec) = (&self.hidden[l], &tape.hidden[l]);
            let place = self.placement_of(layer);
            let mut upstream = da.take().expect("gradient flows to every hidden layer");
            // Post-norm: a_l = N(u_l), so first ∂L/∂u_l = N's backward rule of ∂L/∂a_l.
            let mut norm_grad = None;
            if place == Placement::Post {
                (upstream, norm_grad) = layer.normalize_backward(rec, upstream);
            }
            // a_l = a_(l−1) + α·φ: ∂L/∂α = Σ ∂L/∂a_l ⊙ φ, and the branch receives α·∂L/∂a_l.
            if let Some(branch) = &rec.branch {
                dalpha[l] = Some(Array1::from_elem(1, (&upstream * branch).sum()));
            }
            let alpha = layer.scale.as_ref().filter(|_| self.skips(layer));
            // With a skip connection ∂L/∂a_(l−1) also receives ∂L/∂a_l unchanged.
            let (dh, skip) = match &rec.dphi {
                Some(dphi) if self.skips(layer) => match alpha {
                    Some(alpha) => (&upstream * dphi * alpha[0], Some(upstream)),
                    None => (&upstream * dphi, Some(upstream)),
                },
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
            let (mut dz, mut bn) = match place {
                Placement::Inside => layer.normalize_backward(rec, dh),
                _ => (dh, norm_grad),
            };
            self.store(&mut dz);
            signal_norms[l] = norm(&dz);
            if let Some(s) = signals.as_mut() {
                s.push(dz.clone());
            }
            let want_dx = l > 0 || want_input_grad;
            let (mut dense, dx) = if place == Placement::Pre {
                // Pre-norm: the dense layer read N(a_(l−1)), so ∂L/∂N goes back through N
                // (always: γ and β need it even where ∂L/∂x is not wanted).
                let (dense, dn) =
                    layer
                        .dense
                        .backward(layer.normalized(rec).view(), dz.view(), true);
                let (dx, g) = layer.normalize_backward(rec, dn.expect("asked for"));
                bn = g;
                (dense, want_dx.then_some(dx))
            } else {
                layer.dense.backward(rec.input.view(), dz.view(), want_dx)
            };
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
        if let Some(s) = signals {
            s.reverse();
        }
        Backprop {
            signal_norms,
            input_grad: da,
            dalpha,
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
            if let Some(ln) = &mut layer.ln {
                out.push(ln.gamma.view_mut().into_dyn());
                out.push(ln.beta.view_mut().into_dyn());
            }
            if let Some(alpha) = layer.scale.as_mut().filter(|_| self.learn_scale) {
                out.push(alpha.view_mut().into_dyn());
            }
        }
        out.push(self.output.w.view_mut().into_dyn());
        out.push(self.output.b.view_mut().into_dyn());
        if let Some(f) = &mut self.final_norm {
            for n in
                f.bn.iter_mut()
                    .map(|b| (&mut b.gamma, &mut b.beta))
                    .chain(f.ln.iter_mut().map(|l| (&mut l.gamma, &mut l.beta)))
            {
                out.push(n.0.view_mut().into_dyn());
                out.push(n.1.view_mut().into_dyn());
            }
        }
        out
    }
}

/// Every dense layer's kernel, the output layer's last. Each layer draws from its own stream,
/// so they are drawn on several threads and still come out bit for bit the same.
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
    super::parallel::map(fans.len(), draw)
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
        let mut out = Vec::new();
        for g in &self.hidden {
            out.extend(layer_tensors(&g.dense, g.bn.as_ref()));
            out.extend(g.dalpha.iter().map(|d| d.view().into_dyn()));
        }
        out.extend(layer_tensors(&self.output, self.final_norm.as_ref()));
        out
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
            if let Some(d) = &mut g.dalpha {
                out.push(d.view_mut().into_dyn());
            }
        }
        out.push(self.output.dw.view_mut().into_dyn());
        out.push(self.output.db.view_mut().into_dyn());
        if let Some(b) = &mut self.final_norm {
            out.push(b.dgamma.view_mut().into_dyn());
            out.push(b.dbeta.view_mut().into_dyn());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Hidden;
    use crate::nn::dense::Dense;
    use crate::nn::loss;
    use crate::nn::rng::gaussian_batch;
    use crate::nn::{Activation, Block, Init, Network, Placement, Spec};
    use ndarray::{Array2, array};

    #[test]
    fn a_gradient_computed_by_hand() {
        // x = [1, 2], W₁ = [0.5, −0.25]ᵀ → h = 0, a = σ(0) = ½; W_out = [1, −1] → z = [½, −½];
        // label 0: p₀ = σ(1), L = ln(1 + e^(−1)), ∂L/∂z = [p₀ − 1, 1 − p₀];
        // ∂L/∂W_out = ½ ∂L/∂z; ∂L/∂a = (p₀ − 1) − (1 − p₀); ∂L/∂h = ¼ ∂L/∂a; ∂L/∂W₁ = xᵀ ∂L/∂h.
        let net: Network<f64> = Network {
            hidden: vec![Hidden {
                dense: Dense::new(array![[0.5], [-0.25]]),
                bn: None,
                ln: None,
                scale: None,
            }],
            output: Dense::new(array![[1.0, -1.0]]),
            activation: Activation::Sigmoid,
            residual: false,
            storage: None,
            placement: Placement::Inside,
            learn_scale: false,
            final_norm: None,
            head_mult: None,
        };
        let tape = net.forward(array![[1.0, 2.0]]);
        let (l, dl) = loss::softmax_cross_entropy(tape.logits.view(), &[0]);
        let back = net.backward(&tape, dl, false);
        let p0 = 0.731_058_578_630_004_9_f64;
        assert!((l - 0.313_261_687_518_222_86).abs() < 1e-15);
        let dz = p0 - 1.0;
        let out = &back.grads.output;
        assert!((out.dw[[0, 0]] - 0.5 * dz).abs() < 1e-15);
        assert!((out.dw[[0, 1]] + 0.5 * dz).abs() < 1e-15);
        assert!((out.db[0] - dz).abs() < 1e-15);
        let dh = 0.25 * 2.0 * dz;
        let first = &back.grads.hidden[0].dense;
        assert!((first.dw[[0, 0]] - dh).abs() < 1e-15, "{}", first.dw);
        assert!((first.dw[[1, 0]] - 2.0 * dh).abs() < 1e-15);
        assert!((back.signal_norms[0] - dh.abs()).abs() < 1e-15);
    }

    /// µP's output multiplier c: z = (c·a) W_out + b_out. Its backward rule (∂L/∂W_out =
    /// (c·a)ᵀ ∂L/∂z, ∂L/∂a = c·∂L/∂z W_outᵀ) against central finite differences in f64, at
    /// every kernel and bias entry of a small tanh network (a missing or doubled c changes
    /// every entry by a factor 4).
    #[test]
    fn the_output_multiplier_passes_finite_differences() {
        let spec = Spec {
            input: 3,
            hidden: vec![4, 4],
            outputs: 3,
            activation: Activation::Tanh,
            init: Init::XavierNormal,
            output_init: Init::XavierNormal,
            batch_norm: false,
            residual: false,
            block: Block::default(),
        };
        let mut net = Network::<f64>::build(&spec, 5).unwrap();
        net.head_mult = Some(0.25);
        let (x, labels) = gaussian_batch::<f64>(5, spec.input, spec.outputs, 5);
        let loss_of = |n: &Network<f64>| {
            let t = n.forward(x.clone());
            loss::softmax_cross_entropy(t.logits.view(), &labels).0
        };
        let tape = net.forward(x.clone());
        let (_, dl) = loss::softmax_cross_entropy(tape.logits.view(), &labels);
        let back = net.backward(&tape, dl, false);
        let grads: Vec<Vec<f64>> = back
            .grads
            .tensors()
            .iter()
            .map(|t| t.iter().copied().collect())
            .collect();
        let h = 1e-6;
        let count = net.params_mut().len();
        for (i, g) in grads.iter().enumerate().take(count) {
            for (j, &analytic) in g.iter().enumerate() {
                let shifted = |d: f64| {
                    let mut n = net.clone();
                    if let Some(v) = n.params_mut()[i].iter_mut().nth(j) {
                        *v += d;
                    }
                    loss_of(&n)
                };
                let numeric = (shifted(h) - shifted(-h)) / (2.0 * h);
                assert!(
                    (numeric - analytic).abs() < 1e-7 * (1.0 + numeric.abs()),
                    "tensor {i} entry {j}: finite difference {numeric}, backward {analytic}"
                );
            }
        }
        // The multiplier is really there: the same network without it has other logits.
        let mut plain = net.clone();
        plain.head_mult = None;
        assert!((loss_of(&plain) - loss_of(&net)).abs() > 1e-6);
    }

    /// Question 4's quiz: one weight at −∞ in a tanh network. It feeds a single unit, whose
    /// pre-activation becomes ±∞ and whose output tanh(±∞) = ±1 stays finite, so the forward pass
    /// and the loss survive; the backward pass meets tanh′(±∞) = 0 times that weight, 0 · ∞ = NaN,
    /// and every gradient below it becomes NaN.
    #[test]
    fn an_infinite_weight_makes_nan_in_the_backward_pass_of_tanh() {
        let spec = Spec {
            input: 4,
            hidden: vec![4, 4, 4],
            outputs: 3,
            activation: Activation::Tanh,
            init: Init::XavierNormal,
            output_init: Init::XavierNormal,
            batch_norm: false,
            residual: false,
            block: Block::default(),
        };
        let mut net = Network::<f32>::build(&spec, 3).unwrap();
        net.hidden[1].dense.w[[2, 1]] = f32::NEG_INFINITY;
        let (x, labels) = gaussian_batch::<f32>(6, spec.input, spec.outputs, 3);
        let tape = net.forward(x);
        assert!(net.dphi(&tape, 1).column(1).iter().all(|&d| d == 0.0));
        let (l, dlogits) = loss::softmax_cross_entropy(tape.logits.view(), &labels);
        assert!(l.is_finite(), "the forward pass stays finite: loss {l}");
        let back = net.backward(&tape, dlogits, false);
        let finite = |g: &Array2<f32>| g.iter().all(|v| v.is_finite());
        // Above the infinite weight every gradient is finite; at and below it, NaN.
        assert!(finite(&back.grads.output.dw) && finite(&back.grads.hidden[2].dense.dw));
        assert!(
            finite(&back.grads.hidden[1].dense.dw),
            "∂L/∂W_ij = a_i · 0 stays finite"
        );
        assert!(back.grads.hidden[0].dense.dw.iter().any(|v| v.is_nan()));
    }
}
