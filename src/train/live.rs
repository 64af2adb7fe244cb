//! A training run one step at a time. [`Trainer`] is the one training step: `train`'s loop
//! ([`super::run_one`]) and the live lab's [`LiveRun`] both call it, so a live run and
//! `train` with the same settings produce the same losses, bit for bit, up to the first
//! momentum entry that a live run flushes to 0 ([`OptimizerState::flush`]: `train` keeps
//! subnormals, which made a live step at depth 20 × 128 three times slower). A [`LiveRun`] trains
//! one configuration whose learning rate, optimizer, clipping and precision may change
//! between steps, and reports what it did as frames (the JSON of the lab's event stream).

use super::settings::TrainSettings;
use super::{Divergence, Eval, OptimizerName, TrainConfig, Variant, evaluate_in};
use crate::data::{Dataset, Task};
use crate::nn::batchnorm::BatchNorm;
use crate::nn::dense::Dense;
use crate::nn::layernorm::LayerNorm;
use crate::nn::network::{FinalNorm, Grads, Hidden};
use crate::nn::optim::{self, Optimizer, OptimizerState};
use crate::nn::storage::{Scaler, Storage};
use crate::nn::{Activation, Network, Real, loss, norm};
use crate::probe::{self, Precision};
use anyhow::{Result, anyhow, bail};
use clap::{Args, FromArgMatches};
use ndarray::{Array2, ArrayBase, Axis, Data, Dimension};
use rand::seq::SliceRandom;
use serde::Serialize;
use serde_json::{Map, Value};

/// Minibatches drawn epoch by epoch from the seed's batch stream: the same batches, in the
/// same order, for every configuration.
pub(crate) struct Batches {
    order: Vec<usize>,
    cursor: usize,
    rng: rand_chacha::ChaCha8Rng,
    size: usize,
}

impl Batches {
    pub(crate) fn new(n: usize, size: usize, seed: u64) -> Self {
        Batches {
            order: (0..n).collect(),
            cursor: n, // forces a shuffle before the first batch
            rng: crate::nn::rng::batches(seed),
            size,
        }
    }

    /// The rows of the next minibatch, reshuffling when an epoch runs out.
    fn next(&mut self) -> &[usize] {
        if self.cursor + self.size > self.order.len() {
            self.order.shuffle(&mut self.rng);
            self.cursor = 0;
        }
        self.cursor += self.size;
        &self.order[self.cursor - self.size..self.cursor]
    }
}

/// What a step measures besides its loss and global gradient norm.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Measure {
    /// `train`'s checkpoint: per-layer ‖∂L/∂W‖ and ∂L/∂α before clipping, and ‖ΔW‖/‖W‖
    /// as ‖W_after − W_before‖/‖W_before‖ (a copy of the kernels).
    pub checkpoint: bool,
    /// The live figures: per-layer ‖∂L/∂W‖ before clipping, and ‖ΔW‖/‖W‖ with ‖ΔW‖ from
    /// what the optimizer applied ([`OptimizerState::update_norm`]), no copy.
    pub live: bool,
    /// Histograms of h_l, φ(h_l) and ∂L/∂z_l of every hidden layer.
    pub histograms: bool,
}

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Outcome {
    /// The parameters moved.
    Updated,
    /// Loss scaling found inf/NaN in the scaled gradients and skipped the update.
    Skipped,
    /// A value stopped being finite; the parameters did not move.
    Diverged(Divergence),
}

/// What one step measured.
#[derive(Clone, Debug)]
pub(crate) struct StepResult {
    /// 1-based.
    pub step: usize,
    pub loss: f64,
    /// ‖∂L/∂θ‖ over every parameter, before clipping.
    pub global: f64,
    /// The global norm after clipping, when clipping is on.
    pub clipped: Option<f64>,
    pub outcome: Outcome,
    /// Per dense layer, the output layer last (with [`Measure::checkpoint`] or `live`).
    pub grad_norms: Vec<f64>,
    /// ∂L/∂α of every block with a learned branch scale (checkpoint only).
    pub branch_grads: Vec<f64>,
    pub update_ratios: Vec<f64>,
    pub histograms: Option<Histograms>,
}

/// The state of one configuration's training: network, optimizer, loss scaler, batch stream.
pub(crate) struct Trainer<F: Real> {
    /// The master weights (f32 for f16/bf16 runs).
    pub net: Network<F>,
    /// f16/bf16: each step computes on a copy of `net` stored in 16 bits.
    pub storage: Option<Storage>,
    pub scaler: Option<Scaler>,
    pub opt: OptimizerState<F>,
    batches: Batches,
    /// Steps taken so far.
    pub done: usize,
    pub clip_norm: Option<f64>,
    pub clip_value: Option<f64>,
}

impl<F: Real> Trainer<F> {
    /// Configuration `v` of `cfg` before its first step.
    pub(crate) fn new(cfg: &TrainConfig, v: &Variant, train_examples: usize) -> Result<Self> {
        let pcfg = cfg.probe_config(v);
        Ok(Trainer {
            net: Network::<F>::build(&pcfg.spec, cfg.seed).map_err(anyhow::Error::msg)?,
            storage: cfg.precision.storage(),
            scaler: cfg.loss_scale.map(Scaler::new),
            opt: OptimizerState::new(cfg.optimizer_of(v).with_lr(cfg.lr)),
            batches: Batches::new(train_examples, cfg.batch, cfg.seed),
            done: 0,
            clip_norm: cfg.clip_norm,
            clip_value: cfg.clip_value,
        })
    }

    /// Loss and accuracy on a whole set, computed as the steps compute (16-bit storage too).
    pub(crate) fn evaluate(&self, x: &Array2<F>, y: &[usize]) -> Eval {
        evaluate_in(&self.net, self.storage, x, y)
    }

    /// One update on the next minibatch of `data`: forward, loss (scaled), backward,
    /// unscale, divergence check, clipping, optimizer step.
    ///
    /// The step runs on a thread of rayon's pool, so the joins inside it (a layer's ∂L/∂W
    /// beside its ∂L/∂x, the norms) hand work to the other thread directly instead of each
    /// waking the pool from outside and parking the caller: at depth 20 × 128 that was
    /// about 30 cold hand-overs per step. The same code computes every value either way.
    pub(crate) fn step(&mut self, data: &Dataset<F>, m: Measure) -> StepResult {
        rayon::scope(|_| self.step_in_pool(data, m))
    }

    /// [`Trainer::step`]'s work, wherever it runs.
    fn step_in_pool(&mut self, data: &Dataset<F>, m: Measure) -> StepResult {
        self.done += 1;
        let step = self.done;
        let rows = self.batches.next();
        let mut x = data.x_train.select(Axis(0), rows);
        let labels: Vec<usize> = rows.iter().map(|&r| data.y_train[r]).collect();

        let stored = self.storage.map(|s| self.net.clone().stored_in(Some(s)));
        let compute = stored.as_ref().unwrap_or(&self.net);
        if let Some(s) = self.storage {
            s.round_all(&mut x);
        }
        // ‖W_l‖ before the update (the live ratio's denominator) on the other thread while
        // the forward pass, one product after another, keeps this one.
        let live_ratios = m.live && !m.checkpoint;
        let net = &self.net;
        let (tape, sizes) = rayon::join(
            || compute.forward(x),
            || match live_ratios {
                true => {
                    let ws: Vec<&[F]> = kernels(net)
                        .filter_map(|w| w.as_slice_memory_order())
                        .collect();
                    match ws.len() == net.depth() + 1 {
                        true => crate::nn::stats::norms_of(&ws),
                        false => kernels(net).map(norm).collect::<Vec<f64>>(),
                    }
                }
                false => Vec::new(),
            },
        );
        let (l, mut dlogits) = loss::softmax_cross_entropy(tape.logits.view(), &labels);
        if let Some(s) = &self.scaler {
            dlogits.mapv_inplace(|v| v * F::of(s.scale));
        }
        let mut signals = m.histograms.then(Vec::new);
        let mut back = compute.backward_keeping(&tape, dlogits, false, signals.as_mut());
        if let Some(s) = &self.scaler {
            // Unscaled in the master weights' precision, as GradScaler.unscale_ does.
            let scale = F::of(s.scale);
            for mut t in back.grads.tensors_mut() {
                t.mapv_inplace(|v| v / scale);
            }
        }
        let parts = optim::tensor_norms(&back.grads);
        let global = crate::nn::stats::norm_of(&parts);
        let l = l.as_f64();
        let mut r = StepResult {
            step,
            loss: l,
            global,
            clipped: None,
            outcome: Outcome::Updated,
            grad_norms: Vec::new(),
            branch_grads: Vec::new(),
            update_ratios: Vec::new(),
            histograms: None,
        };
        if let Some(s) = self.scaler.as_mut()
            && !s.update(l.is_finite() && global.is_finite())
        {
            r.outcome = Outcome::Skipped;
            return r;
        }
        if !l.is_finite() || !global.is_finite() {
            let figures = probe::figures(compute, &tape, &back, l, global);
            r.outcome = Outcome::Diverged(Divergence {
                step,
                loss: l,
                first: figures.nonfinite,
            });
            return r;
        }
        let kernels_at = kernel_indices(&back.grads);
        if m.checkpoint || m.live {
            r.grad_norms = kernels_at.iter().map(|&i| parts[i]).collect();
        }
        if m.checkpoint {
            r.branch_grads = back
                .grads
                .hidden
                .iter()
                .filter_map(|g| Some(g.dalpha.as_ref()?[0].as_f64()))
                .collect();
        }
        if let Some(signals) = signals {
            r.histograms = Some(Histograms::of(compute, &tape, &signals, step));
        }
        drop(stored);
        if let Some(max) = self.clip_norm {
            optim::clip_grad_norm(&mut back.grads, max);
        }
        if let Some(limit) = self.clip_value {
            optim::clip_grad_value(&mut back.grads, limit);
        }
        if self.clip_norm.is_some() || self.clip_value.is_some() {
            r.clipped = Some(optim::global_norm(&back.grads));
        }
        let before: Option<Vec<Array2<F>>> =
            m.checkpoint.then(|| kernels(&self.net).cloned().collect());
        // Parameters and gradients list their tensors in the same order.
        let measure: &[usize] = if live_ratios { &kernels_at } else { &[] };
        let deltas = self.opt.step_measuring(&mut self.net, &back.grads, measure);
        if let Some(before) = before {
            r.update_ratios = kernels(&self.net)
                .zip(&before)
                .map(|(after, before)| norm(&(after - before)) / norm(before))
                .collect();
        } else if m.live {
            r.update_ratios = deltas.iter().zip(&sizes).map(|(d, w)| d / w).collect();
        }
        r
    }

    /// The same run in another float type: weights converted, a fresh optimizer state (its
    /// moments were of the old type), the batch stream and loss scale carried over.
    fn convert<G: Real>(self, storage: Option<Storage>) -> Trainer<G> {
        Trainer {
            net: cast_net(&self.net),
            storage,
            scaler: self.scaler,
            opt: {
                let mut opt = OptimizerState::new(self.opt.kind);
                opt.flush = self.opt.flush;
                opt
            },
            batches: self.batches,
            done: self.done,
            clip_norm: self.clip_norm,
            clip_value: self.clip_value,
        }
    }
}

/// Where each dense kernel's gradient sits in [`Grads::tensors`] (and its weights in
/// [`Network::params_mut`]), the output layer's last.
fn kernel_indices<F>(grads: &Grads<F>) -> Vec<usize> {
    let mut at = 0;
    let mut out = Vec::with_capacity(grads.hidden.len() + 1);
    for g in &grads.hidden {
        out.push(at);
        at += 2 + 2 * usize::from(g.bn.is_some()) + usize::from(g.dalpha.is_some());
    }
    out.push(at);
    out
}

/// Every dense kernel W_l, the output layer's last.
pub(crate) fn kernels<F: Real>(net: &Network<F>) -> impl Iterator<Item = &Array2<F>> {
    net.hidden.iter().map(|l| &l.dense.w).chain([&net.output.w])
}

fn cast<G: Real, F: Real, D: Dimension>(a: &ndarray::Array<F, D>) -> ndarray::Array<G, D> {
    a.mapv(|v| G::of(v.as_f64()))
}

fn cast_dense<F: Real, G: Real>(d: &Dense<F>) -> Dense<G> {
    Dense {
        w: cast(&d.w),
        b: cast(&d.b),
    }
}

fn cast_bn<F: Real, G: Real>(b: &BatchNorm<F>) -> BatchNorm<G> {
    BatchNorm {
        gamma: cast(&b.gamma),
        beta: cast(&b.beta),
    }
}

fn cast_ln<F: Real, G: Real>(b: &LayerNorm<F>) -> LayerNorm<G> {
    LayerNorm {
        gamma: cast(&b.gamma),
        beta: cast(&b.beta),
    }
}

/// `net` with every parameter rounded (or widened) to `G`.
fn cast_net<F: Real, G: Real>(net: &Network<F>) -> Network<G> {
    Network {
        hidden: net
            .hidden
            .iter()
            .map(|h| Hidden {
                dense: cast_dense(&h.dense),
                bn: h.bn.as_ref().map(cast_bn),
                ln: h.ln.as_ref().map(cast_ln),
                scale: h.scale.as_ref().map(cast::<G, F, _>),
            })
            .collect(),
        output: cast_dense(&net.output),
        activation: net.activation,
        residual: net.residual,
        placement: net.placement,
        learn_scale: net.learn_scale,
        final_norm: net.final_norm.as_ref().map(|f| FinalNorm {
            bn: f.bn.as_ref().map(cast_bn),
            ln: f.ln.as_ref().map(cast_ln),
        }),
        storage: net.storage,
        head_mult: net.head_mult,
    }
}

/// Bins per histogram.
pub(crate) const BINS: usize = 40;

/// A histogram of a tensor's entries: [`BINS`] equal bins from the smallest to the largest
/// finite entry (−∞ counts in the first bin, +∞ in the last, NaN in none).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Histogram {
    pub lo: f64,
    pub hi: f64,
    pub counts: Vec<u64>,
    /// Share of the entries counted as saturated (see [`Histograms`]).
    pub saturated: f64,
}

impl Histogram {
    fn of<F: Real, S: Data<Elem = F>, D: Dimension>(
        a: &ArrayBase<S, D>,
        saturated: impl Fn(F) -> bool,
    ) -> Histogram {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut sat = 0usize;
        for &v in a.iter() {
            let x = v.as_f64();
            if x.is_finite() {
                lo = lo.min(x);
                hi = hi.max(x);
            }
            sat += usize::from(saturated(v));
        }
        if lo > hi {
            (lo, hi) = (0.0, 0.0);
        }
        let mut counts = vec![0u64; BINS];
        let width = (hi - lo) / BINS as f64;
        for &v in a.iter() {
            let x = v.as_f64();
            if x.is_nan() {
                continue;
            }
            let bin = match width > 0.0 {
                true => ((x - lo) / width).floor().clamp(0.0, (BINS - 1) as f64) as usize,
                false => 0,
            };
            counts[bin] += 1;
        }
        Histogram {
            lo,
            hi,
            counts,
            saturated: sat as f64 / a.len().max(1) as f64,
        }
    }
}

/// Histograms of every hidden layer in one step (layer 1 first), makemore-style:
/// - `pre`: h_l, what φ received ([`Network::pre_activation`]);
/// - `act`: φ(h_l), the branch's output before any skip is added;
/// - `grad`: ∂L/∂z_l, the backprop signal at the dense layer's output (before a norm).
///
/// Saturated, for `pre` and `act` alike: tanh |φ(h)| > 0.97; sigmoid φ(h) outside
/// [0.03, 0.97]; ReLU φ(h) = 0 exactly (an inactive unit); any other activation
/// φ′(h) < 0.1 · sup φ′ ([`Activation::is_saturated`]). For `grad`: entries exactly 0.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Histograms {
    /// The step they describe.
    pub step: usize,
    pub pre: Vec<Histogram>,
    pub act: Vec<Histogram>,
    pub grad: Vec<Histogram>,
}

/// Whether a unit whose pre-activation is `h` counts as saturated (see [`Histograms`]).
pub(crate) fn saturated(act: Activation, h: f64) -> bool {
    match act {
        Activation::Tanh => act.f(h).abs() > 0.97,
        Activation::Sigmoid => {
            let a = act.f(h);
            !(0.03..=0.97).contains(&a)
        }
        Activation::Relu => act.f(h) == 0.0,
        _ => act.is_saturated(act.df(h)),
    }
}

impl Histograms {
    fn of<F: Real>(
        net: &Network<F>,
        tape: &crate::nn::network::Tape<F>,
        signals: &[Array2<F>],
        step: usize,
    ) -> Histograms {
        let act = net.activation;
        let mut out = Histograms {
            step,
            pre: Vec::new(),
            act: Vec::new(),
            grad: Vec::new(),
        };
        for l in 0..net.depth() {
            let h = net.pre_activation(tape, l);
            let sat = |v: F| saturated(act, v.as_f64());
            out.pre.push(Histogram::of(&h, sat));
            let a = h.mapv(|v| act.f(v));
            let sat_a = |v: F| match act {
                Activation::Tanh => v.as_f64().abs() > 0.97,
                Activation::Sigmoid => !(0.03..=0.97).contains(&v.as_f64()),
                Activation::Relu => v.as_f64() == 0.0,
                _ => false,
            };
            let mut ha = Histogram::of(&a, sat_a);
            // For other activations the share comes from h (φ′ is a function of h).
            ha.saturated = match act {
                Activation::Tanh | Activation::Sigmoid | Activation::Relu => ha.saturated,
                _ => out.pre[l].saturated,
            };
            out.act.push(ha);
            if let Some(g) = signals.get(l) {
                out.grad.push(Histogram::of(g, |v: F| v.as_f64() == 0.0));
            }
        }
        out
    }
}

/// The state of a live run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Running,
    Paused,
    Finished,
    Diverged,
    Stopped,
}

/// A change of settings and the first step that used it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    pub step: usize,
    pub set: Map<String, Value>,
    /// What else the change did (`optimizer state reset`), if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An evaluation on the whole training and test sets after `step` steps.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct EvalAt {
    pub step: usize,
    pub train: Eval,
    pub test: Eval,
}

/// The decision boundary of a 2-D task: the predicted class and its probability on a grid
/// over the data's range padded by 10% on each side, and the training points.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Boundary {
    pub x: [f64; 2],
    pub y: [f64; 2],
    pub n: usize,
    pub classes: usize,
    /// Predicted class per cell, row-major, the top row at the largest y.
    pub cells: Vec<usize>,
    /// max softmax probability per cell.
    pub confidence: Vec<f64>,
    /// `[x, y, label]` of every training example.
    pub points: Vec<(f64, f64, usize)>,
    /// The step it shows.
    pub step: usize,
}

/// Cells per side of the boundary grid.
pub(crate) const GRID: usize = 40;

/// The settings that may change while a run goes.
pub(crate) const LIVE: [&str; 4] = ["lr", "optimizer", "clip-norm", "precision"];

/// The settings a live run uses now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LiveSettings {
    pub lr: f64,
    pub optimizer: OptimizerName,
    #[serde(rename = "clip-norm")]
    pub clip_norm: Option<f64>,
    pub precision: Precision,
}

/// Where a run diverged, worded as `train` words it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diverged {
    pub step: usize,
    pub loss: f64,
    #[serde(rename = "where")]
    pub place: String,
}

/// One frame of a live run (LAB-API.md's FRAME).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Frame {
    pub id: String,
    pub state: State,
    pub step: usize,
    pub steps: usize,
    /// `[step, minibatch loss]` of every step since the previous frame.
    pub losses: Vec<(usize, f64)>,
    /// A new evaluation, if this frame made one.
    pub eval: Option<EvalAt>,
    pub grad_norms: Vec<f64>,
    pub update_ratios: Vec<f64>,
    /// The healthy update ratio ‖ΔW‖/‖W‖ ≈ 10⁻³.
    pub guide: f64,
    pub hist: Option<Histograms>,
    /// The latest boundary (null for a task that is not 2-D).
    pub boundary: Option<Boundary>,
    /// Every change so far.
    pub changes: Vec<Change>,
    pub settings: LiveSettings,
    pub diverged: Option<Diverged>,
}

/// The float type a live run computes in.
enum Engine {
    F32(Trainer<f32>),
    F64(Trainer<f64>),
    /// Only while switching.
    None,
}

/// One configuration training step by step, with settings that change between steps.
pub struct LiveRun {
    /// The run's id, as the frames carry it.
    pub id: String,
    cfg: TrainConfig,
    variant: Variant,
    engine: Engine,
    data32: Option<Dataset<f32>>,
    data64: Option<Dataset<f64>>,
    pub state: State,
    losses: Vec<(usize, f64)>,
    changes: Vec<Change>,
    grad_norms: Vec<f64>,
    update_ratios: Vec<f64>,
    hist: Option<Histograms>,
    /// The next step records histograms (set after each frame).
    hist_due: bool,
    last_eval: Option<EvalAt>,
    boundary: Option<Boundary>,
    diverged: Option<Diverged>,
}

/// Runs `$body` with `$t` the trainer and `$d` its dataset, whatever their float type.
macro_rules! with_engine {
    ($run:expr, $t:ident, $d:ident => $body:expr) => {
        match (&mut $run.engine, &$run.data32, &$run.data64) {
            (Engine::F32($t), Some($d), _) => $body,
            (Engine::F64($t), _, Some($d)) => $body,
            _ => unreachable!("a live run's engine has its dataset"),
        }
    };
}

/// TrainSettings from `--flag value` pairs, through clap: every message is the CLI's.
pub(crate) fn settings_from_args(args: &[String]) -> Result<TrainSettings> {
    let cmd = TrainSettings::augment_args(clap::Command::new("train").no_binary_name(true));
    let matches = cmd
        .try_get_matches_from(args)
        .map_err(|e| anyhow!("{}", crate::format::clap_message(&e)))?;
    TrainSettings::from_arg_matches(&matches)
        .map_err(|e| anyhow!("{}", crate::format::clap_message(&e)))
}

/// A JSON object of settings (`{"depth": 20, "activation": "relu"}`, keys as the flags
/// without `--`) as flags: numbers and strings as written, `true`/`false` for switches,
/// `null` leaves a setting unset.
pub(crate) fn args_from_json(map: &Map<String, Value>) -> Result<Vec<String>> {
    let mut args = Vec::new();
    for (k, v) in map {
        let value = match v {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => bail!(
                "--{} takes a number or a word, not {v}",
                crate::format::escape(k, 40)
            ),
        };
        args.push(format!("--{k}"));
        args.push(value);
    }
    Ok(args)
}

impl LiveRun {
    /// Roughly the multiply-adds of one training step, forward and backward on a minibatch,
    /// counted as the experiments' time budget counts a probe pass (`ProbeConfig::work`).
    pub fn step_work(&self) -> f64 {
        self.cfg.probe_config(&self.variant).work()
    }

    /// A run of the one configuration `settings` describe, checked as `train` checks it
    /// against `max_bytes`.
    pub fn new(settings: &TrainSettings, max_bytes: u64) -> Result<LiveRun> {
        let cfg = settings.config()?;
        // The settings' own problems first, as `train` words them; then the one-network rule.
        cfg.check(max_bytes)?;
        if cfg.variants.len() != 1 {
            let labels: Vec<String> = cfg.variants.iter().map(|v| v.to_string()).collect();
            bail!(
                "a live run trains one configuration, and these settings compare {} ({}); \
                 name one with --activation (and --init, --bn, --residual), or give --compare \
                 a single entry",
                cfg.variants.len(),
                labels.join(", ")
            );
        }
        let cfg = cfg.check(max_bytes)?.config().clone();
        let variant = cfg.variants[0];
        let mut run = LiveRun {
            id: String::new(),
            variant,
            engine: Engine::None,
            data32: None,
            data64: None,
            state: State::Paused,
            losses: Vec::new(),
            changes: Vec::new(),
            grad_norms: Vec::new(),
            update_ratios: Vec::new(),
            hist: None,
            hist_due: true,
            last_eval: None,
            boundary: None,
            diverged: None,
            cfg,
        };
        match run.cfg.precision {
            Precision::F64 => {
                let data = Dataset::<f64>::generate(run.cfg.data.clone())?;
                let mut t = Trainer::new(&run.cfg, &variant, data.y_train.len())?;
                t.opt.flush = true;
                run.engine = Engine::F64(t);
                run.data64 = Some(data);
            }
            _ => {
                let data = Dataset::<f32>::generate(run.cfg.data.clone())?;
                let mut t = Trainer::new(&run.cfg, &variant, data.y_train.len())?;
                t.opt.flush = true;
                run.engine = Engine::F32(t);
                run.data32 = Some(data);
            }
        }
        Ok(run)
    }

    /// The run's configuration (its live settings as they are now).
    pub fn config(&self) -> &TrainConfig {
        &self.cfg
    }

    /// Steps taken.
    pub fn step_count(&self) -> usize {
        match &self.engine {
            Engine::F32(t) => t.done,
            Engine::F64(t) => t.done,
            Engine::None => 0,
        }
    }

    /// Whether the run can take another step (not finished, diverged or stopped).
    pub fn can_step(&self) -> bool {
        !matches!(
            self.state,
            State::Finished | State::Diverged | State::Stopped
        ) && self.step_count() < self.cfg.steps
    }

    /// One step, with per-layer ‖∂L/∂W‖ and ‖ΔW‖/‖W‖; histograms on the first step after a
    /// frame. Does nothing once the run cannot step; the last step finishes it.
    pub fn step(&mut self) {
        if !self.can_step() {
            return;
        }
        let m = Measure {
            checkpoint: false,
            live: true,
            histograms: self.hist_due,
        };
        let r = with_engine!(self, t, d => t.step(d, m));
        self.losses.push((r.step, r.loss));
        match r.outcome {
            Outcome::Updated => {
                self.grad_norms = r.grad_norms;
                self.update_ratios = r.update_ratios;
                if r.histograms.is_some() {
                    self.hist = r.histograms;
                    self.hist_due = false;
                }
            }
            Outcome::Skipped => {}
            Outcome::Diverged(d) => {
                self.diverged = Some(Diverged {
                    step: d.step,
                    loss: d.loss,
                    place: super::verdict::divergence(&self.cfg, d),
                });
                self.state = State::Diverged;
                return;
            }
        }
        if self.step_count() >= self.cfg.steps {
            self.state = State::Finished;
        }
    }

    /// The settings that may change now.
    pub fn settings(&self) -> LiveSettings {
        LiveSettings {
            lr: self.cfg.lr,
            optimizer: self.cfg.optimizer_of(&self.variant),
            clip_norm: self.cfg.clip_norm,
            precision: self.cfg.precision,
        }
    }

    /// Changes settings from the next step on: `{"lr": 0.003, "optimizer": "adam",
    /// "clip-norm": 1.0 | null | false, "precision": "bf16"}`. Checked as the CLI checks
    /// them, all before any applies. A new optimizer starts from a fresh state; a switch
    /// between f64 and the f32 family converts the weights and resets the optimizer state.
    pub fn set(&mut self, set: &Map<String, Value>) -> Result<()> {
        let mut flags = Map::new();
        let mut clip_off = false;
        for (k, v) in set {
            if !LIVE.contains(&k.as_str()) {
                bail!(
                    "'{}' cannot change while a run goes; these can: {}",
                    crate::format::escape(k, 40),
                    LIVE.join(", ")
                );
            }
            match (k.as_str(), v) {
                ("clip-norm", Value::Null | Value::Bool(false)) => clip_off = true,
                _ => {
                    flags.insert(k.clone(), v.clone());
                }
            }
        }
        let new = settings_from_args(&args_from_json(&flags)?)?;
        let mut cfg = self.cfg.clone();
        if let Some(lr) = new.lr {
            cfg.lr = lr;
        }
        if let Some(o) = new.optimizer {
            cfg.optimizer = o;
            cfg.variants[0].optimizer = None;
        }
        if clip_off {
            cfg.clip_norm = None;
        }
        if new.clip_norm.is_some() {
            cfg.clip_norm = new.clip_norm;
        }
        if let Some(p) = new.precision {
            cfg.precision = p;
        }
        cfg.check(u64::MAX)?;
        let mut out = Map::new();
        let mut notes = Vec::new();
        let before = self.settings();
        let old = std::mem::replace(&mut self.cfg, cfg);
        let now = self.settings();
        if now.lr != before.lr {
            out.insert("lr".into(), Value::from(now.lr));
        }
        if now.clip_norm != before.clip_norm {
            out.insert(
                "clip-norm".into(),
                now.clip_norm.map_or(Value::Null, Value::from),
            );
        }
        let switch_optimizer = now.optimizer != before.optimizer;
        if switch_optimizer {
            out.insert("optimizer".into(), Value::from(now.optimizer.to_string()));
            notes.push("optimizer state reset".to_string());
        }
        if now.precision != before.precision {
            out.insert("precision".into(), Value::from(now.precision.to_string()));
            let wide = |p: Precision| p == Precision::F64;
            if wide(now.precision) != wide(before.precision) && !switch_optimizer {
                notes.push(format!(
                    "weights converted to {}; optimizer state reset",
                    if wide(now.precision) { "f64" } else { "f32" }
                ));
            }
        }
        self.switch_precision(old.precision, now.precision)?;
        let kind = now.optimizer.with_lr(now.lr);
        let clip = now.clip_norm;
        macro_rules! apply {
            ($t:expr) => {{
                $t.clip_norm = clip;
                if switch_optimizer {
                    $t.opt = OptimizerState::new(kind);
                    $t.opt.flush = true;
                } else {
                    $t.opt.kind = with_lr($t.opt.kind, now.lr);
                }
            }};
        }
        match &mut self.engine {
            Engine::F32(t) => apply!(t),
            Engine::F64(t) => apply!(t),
            Engine::None => {}
        }
        if !out.is_empty() {
            self.changes.push(Change {
                step: self.step_count() + 1,
                set: out,
                note: (!notes.is_empty()).then(|| notes.join("; ")),
            });
        }
        Ok(())
    }

    /// Moves the run to `to`'s float type and storage.
    fn switch_precision(&mut self, from: Precision, to: Precision) -> Result<()> {
        if from == to {
            return Ok(());
        }
        let storage = to.storage();
        let engine = std::mem::replace(&mut self.engine, Engine::None);
        self.engine = match (engine, to) {
            (Engine::F32(t), Precision::F64) => {
                if self.data64.is_none() {
                    self.data64 = Some(Dataset::generate(self.cfg.data.clone())?);
                }
                Engine::F64(t.convert(None))
            }
            (Engine::F64(t), p) if p != Precision::F64 => {
                if self.data32.is_none() {
                    self.data32 = Some(Dataset::generate(self.cfg.data.clone())?);
                }
                Engine::F32(t.convert(storage))
            }
            (Engine::F32(mut t), _) => {
                t.storage = storage;
                Engine::F32(t)
            }
            (e, _) => e,
        };
        Ok(())
    }

    /// The frame of the run as it is: the losses since the previous frame, the latest
    /// step's per-layer figures and histograms, and, with `evaluate`, a new evaluation on
    /// the whole training and test sets (and a new boundary) unless one exists at this step.
    pub fn frame(&mut self, evaluate: bool) -> Frame {
        let step = self.step_count();
        let mut eval = None;
        if evaluate && self.last_eval.is_none_or(|e| e.step != step) {
            let (train, test) = with_engine!(self, t, d => (
                t.evaluate(&d.x_train, &d.y_train),
                t.evaluate(&d.x_test, &d.y_test),
            ));
            let e = EvalAt { step, train, test };
            self.last_eval = Some(e);
            eval = Some(e);
            self.boundary = with_engine!(self, t, d => boundary(t, d, step));
        }
        if self.boundary.is_none() {
            self.boundary = with_engine!(self, t, d => boundary(t, d, step));
        }
        self.hist_due = true;
        Frame {
            id: self.id.clone(),
            state: self.state,
            step,
            steps: self.cfg.steps,
            losses: std::mem::take(&mut self.losses),
            eval,
            grad_norms: self.grad_norms.clone(),
            update_ratios: self.update_ratios.clone(),
            guide: super::RULE_OF_THUMB_UPDATE_RATIO,
            hist: self.hist.clone(),
            boundary: self.boundary.clone(),
            changes: self.changes.clone(),
            settings: self.settings(),
            diverged: self.diverged.clone(),
        }
    }
}

/// `kind` with learning rate `lr`.
fn with_lr(kind: Optimizer, lr: f64) -> Optimizer {
    match kind {
        Optimizer::Sgd { .. } => Optimizer::Sgd { lr },
        Optimizer::Momentum { momentum, .. } => Optimizer::Momentum { lr, momentum },
        Optimizer::Adam {
            beta1, beta2, eps, ..
        } => Optimizer::Adam {
            lr,
            beta1,
            beta2,
            eps,
        },
    }
}

/// The decision boundary of `t`'s network on a [`GRID`]² grid (2-D tasks only): cell
/// centres x_i = x_min + (i + ½)Δx, y_r = y_max − (r + ½)Δy, the range being the data's
/// (train and test) padded by 10% of its span on each side.
fn boundary<F: Real>(t: &Trainer<F>, d: &Dataset<F>, step: usize) -> Option<Boundary> {
    if d.spec.kind == Task::Teacher || d.x_train.ncols() != 2 {
        return None;
    }
    let range = |c: usize| {
        let (lo, hi) = d
            .x_train
            .column(c)
            .iter()
            .chain(d.x_test.column(c).iter())
            .map(|v| v.as_f64())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        let pad = 0.1 * (hi - lo).max(1e-9);
        [lo - pad, hi + pad]
    };
    let (x, y) = (range(0), range(1));
    let (dx, dy) = ((x[1] - x[0]) / GRID as f64, (y[1] - y[0]) / GRID as f64);
    let grid = Array2::from_shape_fn((GRID * GRID, 2), |(i, c)| {
        let (r, col) = (i / GRID, i % GRID);
        F::of(match c {
            0 => x[0] + (col as f64 + 0.5) * dx,
            _ => y[1] - (r as f64 + 0.5) * dy,
        })
    });
    let (cells, confidence) = predict(&t.net, t.storage, grid);
    Some(Boundary {
        x,
        y,
        n: GRID,
        classes: d.spec.classes(),
        cells,
        confidence,
        points: d
            .x_train
            .rows()
            .into_iter()
            .zip(&d.y_train)
            .map(|(p, &label)| (p[0].as_f64(), p[1].as_f64(), label))
            .collect(),
        step,
    })
}

/// The predicted class and its softmax probability for every row of `x`, computed as an
/// evaluation computes (in `storage` when given).
fn predict<F: Real>(
    net: &Network<F>,
    storage: Option<Storage>,
    mut x: Array2<F>,
) -> (Vec<usize>, Vec<f64>) {
    let logits = match storage {
        Some(s) => {
            s.round_all(&mut x);
            net.clone().stored_in(Some(s)).logits(x)
        }
        None => net.logits(x),
    };
    let mut classes = Vec::with_capacity(logits.nrows());
    let mut probs = Vec::with_capacity(logits.nrows());
    for row in logits.rows() {
        let row: Vec<f64> = row.iter().map(|v| v.as_f64()).collect();
        let c = crate::data::argmax(row.iter().copied());
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = row.iter().map(|v| (v - max).exp_p()).sum();
        classes.push(c);
        probs.push(1.0 / sum);
    }
    (classes, probs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(args: &[&str]) -> TrainSettings {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        settings_from_args(&args).expect("valid flags")
    }

    fn live(args: &[&str]) -> LiveRun {
        LiveRun::new(&settings(args), u64::MAX).expect("one configuration")
    }

    /// The f64 network of a run.
    fn net64(run: &LiveRun) -> &Network<f64> {
        match &run.engine {
            Engine::F64(t) => &t.net,
            _ => panic!("an f64 run"),
        }
    }

    #[test]
    fn a_live_run_has_trains_losses_bit_for_bit() {
        for args in [
            &[
                "--activation",
                "tanh",
                "--depth",
                "3",
                "--width",
                "8",
                "--steps",
                "25",
            ][..],
            &[
                "--activation",
                "relu",
                "--depth",
                "2",
                "--width",
                "8",
                "--steps",
                "30",
                "--precision",
                "bf16",
                "--loss-scale",
                "dynamic:3",
                "--batch",
                "16",
            ],
            &[
                "--compare",
                "tanh+bn",
                "--depth",
                "3",
                "--width",
                "6",
                "--steps",
                "20",
                "--precision",
                "f64",
                "--clip-norm",
                "0.3",
                "--optimizer",
                "adam",
                "--dataset",
                "blobs",
            ],
            &[
                "--activation",
                "relu",
                "--depth",
                "4",
                "--width",
                "8",
                "--steps",
                "30",
                "--lr",
                "1e4",
                "--optimizer",
                "sgd",
            ],
        ] {
            let s = settings(args);
            let report = super::super::train(&s.config().unwrap(), u64::MAX, &|_| {}).unwrap();
            let want = &report.runs[0];
            let mut run = LiveRun::new(&s, u64::MAX).unwrap();
            let mut got = Vec::new();
            for k in 0..want.losses.len() + 5 {
                run.step();
                if k % 7 == 3 {
                    got.extend(run.frame(k % 2 == 0).losses);
                }
            }
            let frame = run.frame(true);
            got.extend(frame.losses.iter().copied());
            let steps: Vec<usize> = got.iter().map(|p| p.0).collect();
            assert_eq!(
                steps,
                (1..=want.losses.len()).collect::<Vec<_>>(),
                "{args:?}"
            );
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            let losses: Vec<f64> = got.iter().map(|p| p.1).collect();
            assert_eq!(bits(&losses), bits(&want.losses), "{args:?}");
            match want.diverged {
                Some(d) => {
                    assert_eq!(frame.state, State::Diverged);
                    let got = frame.diverged.expect("diverged");
                    assert_eq!(got.step, d.step);
                    assert_eq!(got.place, want.verdict, "worded as train words it");
                }
                None => assert_eq!(frame.state, State::Finished),
            }
        }
    }

    #[test]
    fn a_new_learning_rate_applies_from_the_next_step() {
        // SGD in f64: W₆ = W₅ − η g₆, and g₆ depends on W₅ and batch 6 only, so the step
        // after the change is 5× the step of a run that kept η = 0.01.
        let args = [
            "--activation",
            "tanh",
            "--depth",
            "2",
            "--width",
            "6",
            "--steps",
            "20",
            "--precision",
            "f64",
            "--optimizer",
            "sgd",
            "--lr",
            "0.01",
        ];
        let (mut a, mut b) = (live(&args), live(&args));
        for _ in 0..5 {
            a.step();
            b.step();
        }
        let w5 = net64(&a).output.w.clone();
        let mut set = Map::new();
        set.insert("lr".into(), Value::from(0.05));
        a.set(&set).unwrap();
        a.step();
        b.step();
        let (fa, fb) = (a.frame(false), b.frame(false));
        assert_eq!(fa.losses.last(), fb.losses.last(), "step 6's loss is W₅'s");
        let (da, db) = (&w5 - &net64(&a).output.w, &w5 - &net64(&b).output.w);
        // Each difference carries the rounding of W (|W| < 2: ≤ 2⁻⁵² each), 5× for db.
        let tol = 6.0 * 2f64.powi(-52) * w5.iter().fold(1.0f64, |m, w| m.max(w.abs()));
        for (x, y) in da.iter().zip(&db) {
            assert!((x - 5.0 * y).abs() <= tol, "{x} vs 5 × {y}");
            assert!(
                y.abs() > 1e3 * tol,
                "the step is far above the rounding: {y}"
            );
        }
        assert_eq!(fa.changes.len(), 1);
        assert_eq!(fa.changes[0].step, 6);
        assert_eq!(fa.changes[0].set.get("lr"), Some(&Value::from(0.05)));
        assert_eq!(fa.settings.lr, 0.05);
    }

    #[test]
    fn settings_change_with_the_clis_messages() {
        let mut run = live(&["--activation", "relu", "--depth", "2", "--width", "8"]);
        run.step();
        let set = |json: &str| -> Map<String, Value> { serde_json::from_str(json).unwrap() };
        let err = run.set(&set(r#"{"lr": -1}"#)).unwrap_err().to_string();
        assert_eq!(err, "--lr must be a positive number (got -1)");
        let err = run
            .set(&set(r#"{"optimizer": "rmsprop"}"#))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid value 'rmsprop' for '--optimizer <NAME>'"),
            "{err}"
        );
        let err = run.set(&set(r#"{"depth": 3}"#)).unwrap_err().to_string();
        assert!(err.contains("cannot change while a run goes"), "{err}");
        assert!(
            run.frame(false).changes.is_empty(),
            "a refused change changes nothing"
        );
        run.set(&set(r#"{"precision": "f64", "clip-norm": 1}"#))
            .unwrap();
        run.step();
        assert!(matches!(run.engine, Engine::F64(_)));
        run.set(&set(
            r#"{"precision": "bf16", "clip-norm": null, "optimizer": "adam"}"#,
        ))
        .unwrap();
        run.step();
        let f = run.frame(true);
        assert!(matches!(run.engine, Engine::F32(ref t) if t.storage == Some(Storage::Bf16)));
        assert_eq!(f.changes.len(), 2);
        assert_eq!(f.changes[0].step, 2);
        assert_eq!(
            f.changes[0].note.as_deref(),
            Some("weights converted to f64; optimizer state reset")
        );
        assert_eq!(f.changes[1].set.get("clip-norm"), Some(&Value::Null));
        assert_eq!(f.settings.optimizer, OptimizerName::Adam);
        assert_eq!(f.settings.clip_norm, None);
        assert!(f.losses.iter().all(|p| p.1.is_finite()));
    }

    #[test]
    fn a_comparison_is_refused() {
        let err = LiveRun::new(&TrainSettings::default(), u64::MAX)
            .err()
            .expect("the default compares four")
            .to_string();
        assert!(
            err.starts_with("a live run trains one configuration"),
            "{err}"
        );
    }

    #[test]
    fn histograms_count_every_entry() {
        let mut run = live(&[
            "--activation",
            "tanh",
            "--depth",
            "3",
            "--width",
            "8",
            "--batch",
            "16",
        ]);
        run.step();
        let f = run.frame(false);
        let h = f.hist.expect("the first step records histograms");
        assert_eq!(h.step, 1);
        for set in [&h.pre, &h.act, &h.grad] {
            assert_eq!(set.len(), 3);
            for hist in set {
                assert_eq!(hist.counts.len(), BINS);
                assert_eq!(hist.counts.iter().sum::<u64>(), 16 * 8);
                assert!(hist.lo <= hist.hi && (0.0..=1.0).contains(&hist.saturated));
            }
        }
        assert_eq!(f.grad_norms.len(), 4);
        assert_eq!(f.update_ratios.len(), 4);
        // The next step after a frame records them again; the one after that does not.
        run.step();
        run.step();
        assert_eq!(run.frame(false).hist.map(|h| h.step), Some(2));
    }

    #[test]
    fn saturation_per_activation() {
        assert!(saturated(Activation::Tanh, 2.2) && !saturated(Activation::Tanh, 2.0));
        assert!(saturated(Activation::Sigmoid, -3.6) && !saturated(Activation::Sigmoid, 3.4));
        assert!(saturated(Activation::Relu, 0.0) && !saturated(Activation::Relu, 1e-9));
        // GELU: φ′(h) < 0.1 · sup φ′ ≈ 0.113 below h ≈ −1.4.
        assert!(saturated(Activation::Gelu, -3.0) && !saturated(Activation::Gelu, 0.0));
    }

    #[test]
    fn the_boundary_is_the_net_at_each_cell_centre() {
        let mut run = live(&[
            "--activation",
            "tanh",
            "--depth",
            "1",
            "--width",
            "3",
            "--dataset",
            "xor",
            "--precision",
            "f64",
        ]);
        for _ in 0..3 {
            run.step();
        }
        let b = run.frame(true).boundary.expect("xor is 2-D");
        assert_eq!((b.n, b.classes, b.cells.len()), (GRID, 2, GRID * GRID));
        assert_eq!(b.points.len(), 750);
        let net = net64(&run);
        for cell in [0, 41, 777, GRID * GRID - 1] {
            let (r, c) = (cell / GRID, cell % GRID);
            let x = b.x[0] + (c as f64 + 0.5) * (b.x[1] - b.x[0]) / GRID as f64;
            let y = b.y[1] - (r as f64 + 0.5) * (b.y[1] - b.y[0]) / GRID as f64;
            let z = net.logits(ndarray::array![[x, y]]);
            let (z0, z1) = (z[[0, 0]], z[[0, 1]]);
            let class = usize::from(z1 > z0);
            let p = 1.0 / (1.0 + (-(z0 - z1).abs()).exp_p());
            assert_eq!(b.cells[cell], class, "cell {cell}");
            assert!((b.confidence[cell] - p).abs() < 1e-12, "cell {cell}");
        }
        let xs: Vec<f64> = b.points.iter().map(|p| p.0).collect();
        let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
        assert!(b.x[0] < lo, "padded below the smallest x");
    }
}
