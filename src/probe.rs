//! The canonical gradient probe: one forward and backward pass of a freshly initialized
//! network on a Gaussian batch, measured layer by layer. Every per-layer figure that
//! gradtutor prints comes from here.

use crate::format::human_bytes;
use crate::nn::network::{Backward, Tape, layer_tensors};
use crate::nn::storage::{LossScale, Scaler, Storage};
use crate::nn::{self, Activation, Init, Network, Placement, Real, Spec, loss, mean_std, optim};
use anyhow::{Result, bail};
use clap::ValueEnum;
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use std::fmt::{self, Write as _};

pub use crate::nn::rng::gaussian_batch;

pub(crate) mod attention;
pub mod hist;
pub(crate) mod recurrent;

/// Floating-point precision of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit: what frameworks train in; tiny gradients underflow to 0, huge ones to inf.
    #[default]
    F32,
    /// 64-bit: to look past under- and overflow.
    F64,
    /// f32 arithmetic, every tensor stored as IEEE half (5 exponent bits, 10 mantissa bits):
    /// below ≈ 6e−8 a value is 0, above 65504 it is inf.
    F16,
    /// f32 arithmetic, every tensor stored as bfloat16 (f32's 8 exponent bits, 7 mantissa
    /// bits): f32's range, coarser steps.
    Bf16,
}

impl Precision {
    /// The 16-bit storage format, for f16 and bf16.
    pub fn storage(self) -> Option<Storage> {
        match self {
            Precision::F16 => Some(Storage::F16),
            Precision::Bf16 => Some(Storage::Bf16),
            Precision::F32 | Precision::F64 => None,
        }
    }

    /// The largest finite value a stored number can have.
    pub fn max_finite(self) -> f64 {
        match self {
            Precision::F64 => f64::MAX,
            Precision::F32 => f32::MAX as f64,
            p => p.storage().map_or(f64::MAX, Storage::max_finite),
        }
    }
}

impl Precision {
    /// The positive normal numbers of the arithmetic a run computes in: f64's, or f32's for
    /// f32, f16 and bf16 (16-bit runs store in 16 bits and compute in f32). A scale, rate or
    /// bound outside is 0 or ∞ there, or its reciprocal is.
    pub fn normal_range(self) -> (f64, f64) {
        match self {
            Precision::F64 => (f64::MIN_POSITIVE, f64::MAX),
            _ => (f64::from(f32::MIN_POSITIVE), f64::from(f32::MAX)),
        }
    }

    /// Refuses a positive setting `v` of `flag` outside [`Precision::normal_range`], with
    /// that range.
    pub fn check_positive(self, flag: &str, v: f64) -> Result<()> {
        let (lo, hi) = self.normal_range();
        if (lo..=hi).contains(&v) {
            return Ok(());
        }
        let arithmetic = match self {
            Precision::F64 => "f64".to_string(),
            Precision::F32 => "f32".to_string(),
            Precision::F16 => "f32 (an f16 run computes in f32)".to_string(),
            Precision::Bf16 => "f32 (a bf16 run computes in f32)".to_string(),
        };
        bail!(
            "{flag} {} is {} in {arithmetic}; give a value from {} to {}",
            crate::format::echo(v),
            if v > hi { "∞" } else { "0 or subnormal" },
            crate::format::pretty(lo),
            crate::format::pretty(hi)
        )
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
            Precision::F16 => "f16",
            Precision::Bf16 => "bf16",
        })
    }
}

/// Everything that determines a probe's result: the network, how it is measured, and which
/// probe measures it. `spec` is the network both kinds build: the MLP all of it, the recurrent
/// probe its width (`spec.input`), classes, φ and initializers (`spec.init` for W_h).
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeConfig {
    /// The network measured.
    pub spec: Spec,
    pub batch: usize,
    pub precision: Precision,
    pub seed: u64,
    pub kind: ProbeKind,
}

/// The probe's multiply-adds a second ([`ProbeConfig::work`]) on one thread, in the dev
/// profile, on the machine the README's figures come from: a rough rate for the time
/// budget's estimate, which came within 0.4–2.1× of the measured time of every experiment
/// at its defaults and of a few larger runs (`serve::demo`'s `calibrate`, run by hand).
pub(crate) const WORK_PER_SECOND: f64 = 4.0e9;

/// Which probe runs: the canonical MLP probe (this file) or the recurrent one
/// (`probe/recurrent.rs`).
#[derive(Clone, Debug, PartialEq)]
pub enum ProbeKind {
    Mlp(Mlp),
    Recurrent(recurrent::Recurrent),
    /// One self-attention head (`probe/attention.rs`).
    Attention(attention::Attention),
}

/// What only the MLP probe has: gradient clipping, loss scaling, random biases, the Jacobian.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Mlp {
    /// Clip the gradients to this global norm (PyTorch's rule) before measuring them.
    pub clip_norm: Option<f64>,
    /// Multiply ∂L/∂z by a scale before backprop, divide the gradients by it after.
    pub loss_scale: Option<LossScale>,
    /// σ_b: hidden biases start i.i.d. N(0, σ_b²) instead of 0 (0: today's zero biases).
    pub bias_std: f64,
    /// Also take the singular values of J = ∂a_L/∂a_0 at the batch's first this many inputs.
    pub jacobian_inputs: usize,
}

/// JSON keeps the flat shape it always had: the network's fields beside the probe's own.
impl Serialize for ProbeConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.kind {
            ProbeKind::Mlp(m) => mlp_flat(self, m, s),
            ProbeKind::Recurrent(r) => recurrent::Flat::of(self, r).serialize(s),
            ProbeKind::Attention(a) => attention::Flat::of(self, a).serialize(s),
        }
    }
}

/// The MLP probe's config as JSON: the network's fields beside the probe's own.
fn mlp_flat<S: serde::Serializer>(cfg: &ProbeConfig, m: &Mlp, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Flat<'a> {
        input: usize,
        hidden: &'a [usize],
        classes: usize,
        batch: usize,
        activation: Activation,
        init: Init,
        output_init: Init,
        batch_norm: bool,
        residual: bool,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        layer_norm: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        norm_placement: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        branch_scale: Option<f64>,
        precision: Precision,
        seed: u64,
        clip_norm: Option<f64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        loss_scale: Option<LossScale>,
        #[serde(skip_serializing_if = "is_zero")]
        bias_std: f64,
        #[serde(skip_serializing_if = "is_zero_usize")]
        jacobian_inputs: usize,
    }
    fn is_zero(v: &f64) -> bool {
        *v == 0.0
    }
    fn is_zero_usize(v: &usize) -> bool {
        *v == 0
    }
    let n = &cfg.spec;
    Flat {
        input: n.input,
        hidden: &n.hidden,
        classes: n.outputs,
        batch: cfg.batch,
        activation: n.activation,
        init: n.init,
        output_init: n.output_init,
        batch_norm: n.batch_norm,
        residual: n.residual,
        layer_norm: n.block.layer_norm,
        norm_placement: match n.block.placement {
            Placement::Inside => None,
            Placement::Post => Some("post"),
            Placement::Pre => Some("pre"),
        },
        branch_scale: n.block.branch_scale,
        precision: cfg.precision,
        seed: cfg.seed,
        clip_norm: m.clip_norm,
        loss_scale: m.loss_scale,
        bias_std: m.bias_std,
        jacobian_inputs: m.jacobian_inputs,
    }
    .serialize(s)
}

impl ProbeConfig {
    /// The canonical probe network: `depth` hidden sigmoid layers of `width` units on a
    /// `batch × width` input, every kernel Xavier-normal, f32, seed 42.
    pub fn canonical(depth: usize, width: usize, batch: usize, classes: usize) -> Self {
        ProbeConfig {
            spec: Spec {
                input: width,
                hidden: vec![width; depth],
                outputs: classes,
                activation: Activation::Sigmoid,
                init: Init::XavierNormal,
                output_init: Init::XavierNormal,
                batch_norm: false,
                residual: false,
                block: Default::default(),
            },
            batch,
            precision: Precision::F32,
            seed: 42,
            kind: ProbeKind::Mlp(Mlp::default()),
        }
    }

    /// Trainable parameters: the network's, or the recurrent cell's and its classifier's.
    pub fn parameters(&self) -> usize {
        match &self.kind {
            ProbeKind::Mlp(_) => self.spec.parameters(),
            ProbeKind::Recurrent(r) => recurrent::parameters(self, r),
            ProbeKind::Attention(a) => attention::parameters(self, a),
        }
    }

    /// Roughly the multiply-adds of one probe pass, forward and backward, for the time
    /// budget: 3 × batch × parameters (× T for the recurrent probe, whose weights apply at
    /// every step), plus 3 × width³ per layer for the Jacobian's singular values where they are
    /// measured. An order of magnitude, not a count: it is estimated before anything runs.
    pub fn work(&self) -> f64 {
        let pass = 3.0 * self.batch as f64 * self.parameters() as f64;
        match &self.kind {
            ProbeKind::Mlp(m) if m.jacobian_inputs > 0 => {
                let w = self.spec.input as f64;
                pass + 3.0 * self.depth() as f64 * (m.jacobian_inputs as f64 * w * w + w * w * w)
            }
            ProbeKind::Mlp(_) => pass,
            ProbeKind::Recurrent(r) => pass * r.seq_len as f64,
            ProbeKind::Attention(a) => attention::work(self, a),
        }
    }

    /// The MLP probe's own settings; `None` for a recurrent probe.
    pub fn mlp(&self) -> Option<&Mlp> {
        match &self.kind {
            ProbeKind::Mlp(m) => Some(m),
            ProbeKind::Recurrent(_) | ProbeKind::Attention(_) => None,
        }
    }

    pub fn depth(&self) -> usize {
        self.spec.hidden.len()
    }

    /// Sets one initializer for every kernel, the output layer's too.
    pub fn with_init(mut self, init: Init) -> Self {
        self.spec.init = init;
        self.spec.output_init = init;
        self
    }

    /// Bytes the probe holds at its peak (see [`peak_bytes`]).
    pub fn memory_estimate(&self) -> u128 {
        match &self.kind {
            ProbeKind::Mlp(m) => mlp_bytes(self, m, m.clip_norm.is_some()),
            ProbeKind::Recurrent(r) => recurrent::bytes(self, r).unwrap_or(u128::MAX),
            ProbeKind::Attention(a) => attention::bytes(self, a).unwrap_or(u128::MAX),
        }
    }

    /// Bytes a training step on this network and batch holds: every gradient at once.
    pub fn training_memory(&self) -> u128 {
        match &self.kind {
            ProbeKind::Mlp(m) => mlp_bytes(self, m, true),
            ProbeKind::Recurrent(r) => recurrent::bytes(self, r).unwrap_or(u128::MAX),
            ProbeKind::Attention(a) => attention::bytes(self, a).unwrap_or(u128::MAX),
        }
    }

    /// Rejects shapes that cannot run, and runs larger than `max_bytes`; what passes can run.
    pub fn check(&self, max_bytes: u64) -> Result<CheckedProbe> {
        match &self.kind {
            ProbeKind::Mlp(m) => mlp_check(self, m, max_bytes)?,
            ProbeKind::Recurrent(r) => recurrent::check(self, r, max_bytes)?,
            ProbeKind::Attention(a) => attention::check(self, a, max_bytes)?,
        }
        Ok(CheckedProbe(self.clone()))
    }
}

/// Bytes the MLP probe holds at its peak, with every gradient at once or one layer's.
fn mlp_bytes(cfg: &ProbeConfig, m: &Mlp, keeps_grads: bool) -> u128 {
    let n = &cfg.spec;
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &w in &n.hidden {
        match runs.last_mut() {
            Some((last, count)) if *last == w => *count += 1,
            _ => runs.push((w, 1)),
        }
    }
    let shape = Shape {
        input: n.input,
        hidden: &runs,
        classes: n.outputs,
        batch: cfg.batch,
        batch_norm: n.batch_norm || n.block.layer_norm,
        keeps_dphi: n.residual || !n.activation.df_from_output(),
        branch_tape: n.block.learns_scale(),
        keeps_grads,
    };
    let jacobian = match m.jacobian_inputs {
        0 => Some(0),
        k => {
            let widest = n.hidden.iter().copied().max().unwrap_or(0);
            let size = if cfg.precision == Precision::F64 {
                8
            } else {
                4
            };
            nn::spectrum::jacobian_bytes(n.input, widest, size)
                .and_then(|b| b.checked_add(k as u128 * widest as u128 * 8))
        }
    };
    peak_bytes(&shape, cfg.precision)
        .zip(jacobian)
        .and_then(|(a, b)| a.checked_add(b))
        .unwrap_or(u128::MAX)
}

/// Refuses MLP shapes that cannot run, and runs larger than `max_bytes`.
fn mlp_check(cfg: &ProbeConfig, m: &Mlp, max_bytes: u64) -> Result<()> {
    let n = &cfg.spec;
    if n.hidden.is_empty() {
        bail!("depth must be at least 1 (got 0)");
    }
    if n.input == 0 || n.hidden.contains(&0) {
        bail!("width must be at least 1 (got 0)");
    }
    if n.outputs < 2 {
        bail!("classes must be at least 2 (got {})", n.outputs);
    }
    if cfg.batch == 0 {
        bail!("batch must be at least 1 (got 0)");
    }
    if n.batch_norm && cfg.batch < 2 {
        bail!(
            "batch norm needs a batch of at least 2: with one example every unit equals its \
                 batch mean and normalizes to 0 (got --batch {})",
            cfg.batch
        );
    }
    if !(m.bias_std >= 0.0 && m.bias_std.is_finite()) {
        bail!(
            "--bias-std must be 0 or a positive number (got {})",
            m.bias_std
        );
    }
    if m.jacobian_inputs > cfg.batch {
        bail!(
            "the Jacobian is taken at {} inputs but the batch has only {}",
            m.jacobian_inputs,
            cfg.batch
        );
    }
    if m.jacobian_inputs > 0 && n.batch_norm {
        bail!(
            "batch norm couples the examples of a batch, so one input has no Jacobian of \
                 its own: drop --bn"
        );
    }
    if m.jacobian_inputs > 0 && !n.block.is_plain() {
        bail!(
            "the Jacobian is taken of plain and residual networks: drop --norm and \
                 --branch-scale"
        );
    }
    if m.jacobian_inputs > 0 && matches!(cfg.precision, Precision::F16 | Precision::Bf16) {
        bail!(
            "the Jacobian is taken in f32 or f64 (got --precision {}): its product of \
                 layers keeps no 16-bit rounding",
            cfg.precision
        );
    }
    if let Some(LossScale::Static(scale)) = m.loss_scale {
        cfg.precision.check_positive("--loss-scale", scale)?;
    }
    if let Some(c) = m.clip_norm
        && c > 0.0
    {
        cfg.precision.check_positive("--clip-norm", c)?;
    }
    n.validate().map_err(anyhow::Error::msg)?;
    check_memory(cfg.memory_estimate(), max_bytes)
}

impl ProbeConfig {
    /// `sigmoid · xavier-normal · depth 20 × width 128 → 10 · batch 64 · f32 · seed 42`.
    pub fn describe(&self) -> String {
        self.parts()
            .into_iter()
            .map(|(_, v)| v)
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// The pieces of [`describe`], keyed so that runs can be compared piece by piece.
    pub fn parts(&self) -> Vec<(&'static str, String)> {
        match &self.kind {
            ProbeKind::Mlp(m) => self.mlp_parts(m),
            ProbeKind::Recurrent(r) => recurrent::parts(self, r),
            ProbeKind::Attention(a) => attention::parts(self, a),
        }
    }

    /// `sigmoid · xavier-normal · depth 20 × width 128 → 10 · …`, keyed as [`parts`].
    fn mlp_parts(&self, m: &Mlp) -> Vec<(&'static str, String)> {
        let cfg = self;
        vec![
            ("activation", cfg.spec.activation.to_string()),
            ("init", cfg.init_label()),
            ("shape", cfg.shape()),
            ("batch", format!("batch {}", cfg.batch)),
            (
                "bn",
                if cfg.spec.batch_norm {
                    "batch norm".into()
                } else if cfg.spec.block.layer_norm {
                    "layer norm".into()
                } else {
                    String::new()
                },
            ),
            (
                "residual",
                match (cfg.spec.residual, cfg.spec.block.placement) {
                    (false, _) => String::new(),
                    (true, Placement::Inside) => "residual".into(),
                    (true, Placement::Post) => "post-norm residual".into(),
                    (true, Placement::Pre) => "pre-norm residual".into(),
                },
            ),
            (
                "branch",
                match cfg.spec.block.branch_scale {
                    None => String::new(),
                    Some(0.0) => "branch α learned from 0".into(),
                    Some(x) => format!("branch × {}", crate::format::figure(x)),
                },
            ),
            (
                "clip",
                m.clip_norm
                    .map(|c| format!("clip-norm {}", crate::format::echo(c)))
                    .unwrap_or_default(),
            ),
            (
                "bias",
                if m.bias_std > 0.0 {
                    format!("σ_b {}", crate::format::echo(m.bias_std))
                } else {
                    String::new()
                },
            ),
            ("precision", cfg.precision.to_string()),
            (
                "loss-scale",
                m.loss_scale
                    .map(|l| format!("loss scale {l}"))
                    .unwrap_or_default(),
            ),
            ("seed", format!("seed {}", cfg.seed)),
        ]
    }

    fn init_label(&self) -> String {
        let cfg = self;
        if cfg.spec.init == cfg.spec.output_init {
            cfg.spec.init.to_string()
        } else {
            format!("{} (output {})", cfg.spec.init, cfg.spec.output_init)
        }
    }

    fn shape(&self) -> String {
        let cfg = self;
        let w = cfg.spec.hidden[0];
        if cfg.spec.hidden.iter().all(|&h| h == w) && cfg.spec.input == w {
            format!("depth {} × width {w} → {}", cfg.depth(), cfg.spec.outputs)
        } else {
            let mut s = cfg.spec.input.to_string();
            for h in cfg.spec.hidden.iter().chain([&cfg.spec.outputs]) {
                let _ = write!(s, " → {h}");
            }
            s
        }
    }
}

/// The memory limit when none is given.
pub(crate) const DEFAULT_MAX_MEMORY: u64 = 4 << 30;

/// A network's size in numbers alone: hidden widths as (width, how many layers in a row).
pub(crate) struct Shape<'a> {
    pub input: usize,
    pub hidden: &'a [(usize, usize)],
    pub classes: usize,
    pub batch: usize,
    pub batch_norm: bool,
    /// The tape keeps φ′(h_l) beside a_l (see [`Activation::df_from_output`]).
    pub keeps_dphi: bool,
    /// The tape keeps each residual branch's output (for a learned branch scale's gradient).
    pub branch_tape: bool,
    /// Every layer's gradients are held at once (training, clipping); otherwise one layer's.
    pub keeps_grads: bool,
}

/// Bytes a probe holds at its peak: parameters and their gradients (all, or the largest
/// layer's), the forward tape (inputs, φ′ where kept, batch-norm caches) and a few
/// layer-sized temporaries. Computed
/// from the numbers alone, in checked arithmetic, so a size can be refused before anything
/// of that size is allocated; `None` when it does not even fit in 128 bits.
pub(crate) fn peak_bytes(shape: &Shape, precision: Precision) -> Option<u128> {
    // f16 and bf16 runs compute in f32 and hold f32 arrays.
    let size: u128 = match precision {
        Precision::F64 => 8,
        _ => 4,
    };
    let u = |v: usize| v as u128;
    let per_layer = 1
        + u128::from(shape.keeps_dphi)
        + u128::from(shape.batch_norm)
        + u128::from(shape.branch_tape);
    let (mut params, mut tape) = (0u128, u(shape.input) + u(shape.classes));
    let mut largest = 0u128;
    let mut widest = shape.input.max(shape.classes);
    let mut prev = u(shape.input);
    for &(w, n) in shape.hidden.iter().filter(|(_, n)| *n > 0) {
        let (w, n128) = (u(w), u(n));
        // The run's first layer reads the previous width; the other n − 1 read w.
        let first = prev.checked_mul(w)?.checked_add(w)?;
        let rest = w.checked_mul(w)?.checked_add(w)?.checked_mul(n128 - 1)?;
        let bn = if shape.batch_norm {
            w.checked_mul(2)?.checked_mul(n128)?
        } else {
            0
        } + u128::from(shape.branch_tape) * n128;
        params = params
            .checked_add(first)?
            .checked_add(rest)?
            .checked_add(bn)?;
        largest = largest.max(first).max(w.checked_mul(w)?.checked_add(w)?);
        tape = tape.checked_add(w.checked_mul(per_layer)?.checked_mul(n128)?)?;
        widest = widest.max(w as usize);
        prev = w;
    }
    let output = prev
        .checked_mul(u(shape.classes))?
        .checked_add(u(shape.classes))?;
    params = params.checked_add(output)?;
    let grads = if shape.keeps_grads {
        params
    } else {
        largest.max(output)
    };
    let per_example = tape.checked_add(u(widest).checked_mul(4)?)?;
    let total = params
        .checked_add(grads)?
        .checked_add(u(shape.batch).checked_mul(per_example)?)?;
    total.checked_mul(size)
}

/// Refuses `need` bytes over `max_bytes`, saying what to reduce.
pub(crate) fn check_memory(need: u128, max_bytes: u64) -> Result<()> {
    if need > max_bytes as u128 {
        bail!(
            "this run needs about {} but the memory limit is {}; reduce --width (memory \
             grows with its square), --depth or --batch, or raise the limit with \
             --max-memory",
            human_bytes(need),
            human_bytes(max_bytes as u128)
        );
    }
    Ok(())
}

/// A probe configuration that passed [`ProbeConfig::check`]: it runs without checking again.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedProbe(ProbeConfig);

impl CheckedProbe {
    pub fn config(&self) -> &ProbeConfig {
        &self.0
    }

    /// The same probe with another seed (the seed changes no size, so it stays checked).
    pub fn with_seed(&self, seed: u64) -> CheckedProbe {
        CheckedProbe(ProbeConfig {
            seed,
            ..self.0.clone()
        })
    }

    /// One forward and backward pass, measured.
    pub fn run(&self) -> ProbeResult {
        let cfg = &self.0;
        match (&cfg.kind, cfg.precision) {
            (ProbeKind::Mlp(m), Precision::F64) => run::<f64>(cfg, m),
            (ProbeKind::Mlp(m), Precision::F32 | Precision::F16 | Precision::Bf16) => {
                run::<f32>(cfg, m)
            }
            (ProbeKind::Recurrent(r), Precision::F64) => recurrent::run::<f64>(cfg, r),
            // check() refuses the 16-bit formats for a recurrent run.
            (ProbeKind::Recurrent(r), _) => recurrent::run::<f32>(cfg, r),
            (ProbeKind::Attention(a), Precision::F64) => attention::run::<f64>(cfg, a),
            // check() refuses the 16-bit formats for an attention run too.
            (ProbeKind::Attention(a), _) => attention::run::<f32>(cfg, a),
        }
    }
}

/// Which pass a non-finite value appeared in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Pass {
    Forward,
    Backward,
}

impl fmt::Display for Pass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Pass::Forward => "forward",
            Pass::Backward => "backward",
        })
    }
}

/// Where a value first overflowed to ±∞ or became NaN.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct NonFinite {
    /// 1-based layer, the output layer being depth + 1.
    pub layer: usize,
    pub pass: Pass,
    /// True for NaN, false for ±∞.
    pub nan: bool,
}

/// The probe's figures for one dense layer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerFigures {
    /// 1-based; the output layer is depth + 1.
    pub layer: usize,
    pub fan_in: usize,
    pub fan_out: usize,
    /// ‖∂L/∂W_l‖_F.
    pub grad_norm: f64,
    /// ‖∂L/∂h_l‖_F, the backprop signal at the layer's output (before batch norm).
    pub signal_norm: f64,
    /// ‖W_l‖_F.
    pub weight_norm: f64,
    /// Sample standard deviation of the kernel's entries.
    pub weight_std: f64,
    /// Mean of a_l (the logits, for the output layer).
    pub act_mean: f64,
    /// Standard deviation of a_l (the logits, for the output layer).
    pub act_std: f64,
    /// Fraction of entries of h_l with |φ′(h)| < 0.1·sup φ′; none for the output layer.
    pub saturated: Option<f64>,
    /// ReLU only: fraction of units inactive for every example of the batch.
    pub dead: Option<f64>,
    /// Hidden layers: how far the units' gradient columns differ, max_j ‖g_j − ḡ‖ / ‖∂L/∂W‖
    /// (0 when every unit receives the same gradient).
    pub unit_spread: Option<f64>,
    /// α, the factor on the layer's residual branch, where it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_scale: Option<f64>,
    /// ∂L/∂α, where α is learned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_grad: Option<f64>,
}

/// What one probe measured.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbeResult {
    pub loss: f64,
    /// √(Σ‖g‖²) over every parameter's gradient, before any clipping.
    pub global_grad_norm: f64,
    pub nonfinite: Option<NonFinite>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The loss scale of the measured pass (dynamic: after halving until the gradients were
    /// finite); every figure is unscaled.
    pub loss_scale: Option<f64>,
    pub body: ProbeBody,
}

/// A probe's own figures, one variant per [`ProbeKind`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeBody {
    /// The MLP's figures per layer, the output layer last; with `jacobian_inputs`, the
    /// singular values of J = ∂a_L/∂a_0, one list per input, largest first (else none).
    Layers {
        layers: Vec<LayerFigures>,
        singular_values: Vec<Vec<f64>>,
    },
    /// The recurrent probe's figures per step.
    Steps(recurrent::RecurrentFigures),
    /// The attention probe's figures.
    Attention(attention::AttentionFigures),
}

impl ProbeResult {
    /// An MLP probe's figures per layer; a recurrent probe has none.
    pub fn layers(&self) -> &[LayerFigures] {
        match &self.body {
            ProbeBody::Layers { layers, .. } => layers,
            ProbeBody::Steps(_) | ProbeBody::Attention(_) => &[],
        }
    }

    /// An MLP probe's singular values of J, one list per input (none unless it took them).
    pub fn singular_values(&self) -> &[Vec<f64>] {
        match &self.body {
            ProbeBody::Layers {
                singular_values, ..
            } => singular_values,
            ProbeBody::Steps(_) | ProbeBody::Attention(_) => &[],
        }
    }

    /// A recurrent probe's figures per step.
    pub fn steps(&self) -> Option<&recurrent::RecurrentFigures> {
        match &self.body {
            ProbeBody::Steps(f) => Some(f),
            ProbeBody::Layers { .. } | ProbeBody::Attention(_) => None,
        }
    }

    /// An attention probe's figures.
    pub fn attention(&self) -> Option<&attention::AttentionFigures> {
        match &self.body {
            ProbeBody::Attention(f) => Some(f),
            ProbeBody::Layers { .. } | ProbeBody::Steps(_) => None,
        }
    }
}

/// Checks `cfg` against `max_bytes`, then runs it.
pub fn probe(cfg: &ProbeConfig, max_bytes: u64) -> Result<ProbeResult> {
    Ok(cfg.check(max_bytes)?.run())
}

/// The MLP probe's network and batch for `cfg` (checked): weights from the initializer and
/// `seed`, biases N(0, σ_b²), x ~ N(0, 1) and uniform labels, all stored in the run's format.
pub(crate) fn setup<F: Real>(cfg: &ProbeConfig, m: &Mlp) -> (Network<F>, Array2<F>, Vec<usize>) {
    let storage = cfg.precision.storage();
    let mut net = Network::<F>::build(&cfg.spec, cfg.seed).expect("checked by ProbeConfig::check");
    nn::init::gaussian_biases(&mut net, m.bias_std, cfg.seed);
    let net = net.stored_in(storage);
    let (mut x, labels) =
        gaussian_batch::<F>(cfg.batch, cfg.spec.input, cfg.spec.outputs, cfg.seed);
    if let Some(s) = storage {
        s.round_all(&mut x);
    }
    (net, x, labels)
}

fn run<F: Real>(cfg: &ProbeConfig, m: &Mlp) -> ProbeResult {
    let (net, x, labels) = setup::<F>(cfg, m);
    let one = |i: usize| {
        let j = nn::spectrum::input_jacobian(&net, x.row(i)).expect("checked: no batch norm");
        nn::spectrum::singular_values(&j)
    };
    let spectrum: Vec<Vec<f64>> = (0..m.jacobian_inputs).map(one).collect();
    let mut measured = match m.loss_scale {
        None => measure(&net, x, &labels, m.clip_norm),
        Some(rule) => measure_dynamic(&net, x, &labels, m.clip_norm, rule),
    };
    // measure always returns layers, with no singular values yet.
    if let ProbeBody::Layers {
        singular_values, ..
    } = &mut measured.body
    {
        *singular_values = spectrum;
    }
    measured
}

/// The probe with loss scaling. Dynamic: GradScaler's rule for one step, retried: halve until
/// the gradients are finite (at most MAX_HALVINGS times; an overflow in the forward pass no
/// scale can mend).
fn measure_dynamic<F: Real>(
    net: &Network<F>,
    x: Array2<F>,
    labels: &[usize],
    clip_norm: Option<f64>,
    rule: LossScale,
) -> ProbeResult {
    let mut scaler = Scaler::new(rule);
    let mut halvings = 0;
    loop {
        let r = measure_scaled(net, x.clone(), labels, clip_norm, scaler.scale);
        let forward = r.nonfinite.is_some_and(|n| n.pass == Pass::Forward);
        let finite = r.global_grad_norm.is_finite();
        if scaler.update(finite) || forward || halvings == MAX_HALVINGS {
            return r;
        }
        halvings += 1;
    }
}

/// How often a single probe halves a dynamic loss scale: 2¹⁶ down to 2⁻⁴⁸.
pub(crate) const MAX_HALVINGS: usize = 64;

/// One forward and backward pass of `net` on `(x, labels)` with softmax cross-entropy,
/// measured per layer; with `clip_norm`, the parameter gradients are clipped first.
pub fn measure<F: Real>(
    net: &Network<F>,
    x: Array2<F>,
    labels: &[usize],
    clip_norm: Option<f64>,
) -> ProbeResult {
    let mut r = measure_scaled(net, x, labels, clip_norm, 1.0);
    r.loss_scale = None;
    r
}

/// [`measure`] with loss scaling: ∂L/∂z is multiplied by `scale` before backprop, and each
/// gradient divided by it (in the engine's precision) before it is measured or clipped.
pub(crate) fn measure_scaled<F: Real>(
    net: &Network<F>,
    x: Array2<F>,
    labels: &[usize],
    clip_norm: Option<f64>,
    scale: f64,
) -> ProbeResult {
    let tape = net.forward(x);
    let (loss, mut dlogits) = loss::softmax_cross_entropy(tape.logits.view(), labels);
    let loss = loss.as_f64();
    let scaled = scale != 1.0;
    if scaled {
        dlogits.mapv_inplace(|v| v * F::of(scale));
    }
    let unscale = |t: &mut ndarray::ArrayViewMutD<F>| {
        if scaled {
            t.mapv_inplace(|v| v / F::of(scale));
        }
    };
    let unscale_norms = |n: &mut Vec<f64>| n.iter_mut().for_each(|v| *v /= scale);
    let Some(max) = clip_norm else {
        // Each layer's gradients are measured and dropped as backprop produces them, so the
        // probe never holds every ∂L/∂W at once.
        let mut grads = vec![GradFigures::default(); net.depth() + 1];
        let mut norms = vec![Vec::new(); net.depth() + 1];
        let mut pass = net.backward_each(&tape, dlogits, false, |l, mut dense, mut bn| {
            let bn_tensors = bn
                .as_mut()
                .map(|b| [b.dgamma.view_mut(), b.dbeta.view_mut()]);
            for mut t in [
                dense.dw.view_mut().into_dyn(),
                dense.db.view_mut().into_dyn(),
            ]
            .into_iter()
            .chain(bn_tensors.into_iter().flatten().map(|t| t.into_dyn()))
            {
                unscale(&mut t);
            }
            grads[l] = GradFigures::of(&dense.dw);
            norms[l] = layer_tensors(&dense, bn.as_ref())
                .iter()
                .map(nn::norm)
                .collect();
        });
        for ((g, n), d) in grads.iter_mut().zip(&mut norms).zip(&pass.dalpha) {
            if let Some(d) = d {
                g.branch = Some(d[0].as_f64());
                n.push(nn::norm(d));
            }
        }
        // The global norm over the same per-tensor norms, in the same order, as
        // optim::global_norm takes over kept gradients.
        let global = nn::stats::norm_of(&norms.concat());
        unscale_norms(&mut pass.signal_norms);
        let mut r = layers_measured(net, &tape, &pass.signal_norms, &grads, loss, global);
        r.loss_scale = Some(scale);
        return r;
    };
    let mut back = net.backward(&tape, dlogits, false);
    back.grads.tensors_mut().iter_mut().for_each(unscale);
    unscale_norms(&mut back.signal_norms);
    let global = optim::clip_grad_norm(&mut back.grads, max);
    let mut r = figures(net, &tape, &back, loss, global);
    r.loss_scale = Some(scale);
    r
}

/// The per-layer figures of one pass whose record is `tape` and `back`.
pub(crate) fn figures<F: Real>(
    net: &Network<F>,
    tape: &Tape<F>,
    back: &Backward<F>,
    loss: f64,
    global_grad_norm: f64,
) -> ProbeResult {
    let g = &back.grads;
    let grads = nn::parallel::map(net.depth() + 1, |l| match g.hidden.get(l) {
        Some(h) => GradFigures {
            branch: h.dalpha.as_ref().map(|d| d[0].as_f64()),
            ..GradFigures::of(&h.dense.dw)
        },
        None => GradFigures::of(&g.output.dw),
    });
    layers_measured(
        net,
        tape,
        &back.signal_norms,
        &grads,
        loss,
        global_grad_norm,
    )
}

/// What the figures need of one layer's gradients: ‖∂L/∂W‖ and the units' spread (see
/// [`kernel_grad_figures`]).
#[derive(Clone, Debug, Default)]
struct GradFigures {
    norm: f64,
    spread: f64,
    /// ∂L/∂α of a learned branch scale.
    branch: Option<f64>,
}

impl GradFigures {
    fn of<F: Real>(dw: &Array2<F>) -> Self {
        let (norm, spread) = kernel_grad_figures(dw);
        GradFigures {
            norm,
            spread,
            branch: None,
        }
    }
}

/// The per-layer figures from the tape, the signal norms and each layer's gradient figures.
fn layers_measured<F: Real>(
    net: &Network<F>,
    tape: &Tape<F>,
    signal_norms: &[f64],
    grads: &[GradFigures],
    loss: f64,
    global_grad_norm: f64,
) -> ProbeResult {
    let depth = net.depth();
    // Layers are measured independently, on every core.
    let measured = nn::parallel::map(depth + 1, |l| {
        layer_figures(net, tape, signal_norms[l], &grads[l], l)
    });
    // The forward pass runs from the input up: the lowest layer with a bad value is first.
    let mut nonfinite = measured.iter().find_map(|(_, bad)| {
        bad.map(|(layer, nan)| NonFinite {
            layer,
            pass: Pass::Forward,
            nan,
        })
    });
    let layers: Vec<LayerFigures> = measured.into_iter().map(|(f, _)| f).collect();
    if nonfinite.is_none() {
        // Backprop runs from the output down: the highest layer with a bad value is first.
        nonfinite = layers.iter().rev().find_map(|f| {
            let bad = [f.grad_norm, f.signal_norm]
                .into_iter()
                .find(|v| !v.is_finite())?;
            Some(NonFinite {
                layer: f.layer,
                pass: Pass::Backward,
                nan: bad.is_nan(),
            })
        });
    }
    ProbeResult {
        loss,
        global_grad_norm,
        nonfinite,
        loss_scale: None,
        body: ProbeBody::Layers {
            layers,
            singular_values: Vec::new(),
        },
    }
}

/// Layer `l`'s figures (0-based, the output layer last), and `(layer, is NaN)` if its output
/// holds a value that is not finite.
fn layer_figures<F: Real>(
    net: &Network<F>,
    tape: &Tape<F>,
    signal_norm: f64,
    grad: &GradFigures,
    l: usize,
) -> (LayerFigures, Option<(usize, bool)>) {
    let depth = net.depth();
    let dense = match net.hidden.get(l) {
        Some(h) => &h.dense,
        None => &net.output,
    };
    let out = if l < depth {
        tape.activation(l + 1)
    } else {
        &tape.logits
    };
    let (act_mean, act_std) = mean_std(out);
    let bad = first_nonfinite(out.iter()).map(|nan| (l + 1, nan));
    let dphi = (l < depth).then(|| net.dphi(tape, l));
    let dphi = dphi.as_deref();
    let saturated = dphi.map(|d| {
        let n = d
            .iter()
            .filter(|&&v| net.activation.is_saturated(v))
            .count();
        n as f64 / d.len().max(1) as f64
    });
    // A ReLU unit is dead when φ′ = 0 for every example of the batch.
    let dead = dphi.filter(|_| net.activation.can_die()).map(|d| {
        let mut alive = vec![false; d.ncols()];
        for row in d.rows() {
            for (a, &v) in alive.iter_mut().zip(row) {
                *a |= v != F::zero();
            }
        }
        alive.iter().filter(|&&a| !a).count() as f64 / d.ncols() as f64
    });
    // ‖W‖² = n·(σ² + μ²), taken through hypot so that it cannot overflow.
    let (weight_mean, weight_std) = mean_std(&dense.w);
    let figures = LayerFigures {
        layer: l + 1,
        fan_in: dense.fan_in(),
        fan_out: dense.fan_out(),
        grad_norm: grad.norm,
        signal_norm,
        weight_norm: (dense.w.len() as f64).sqrt() * libm::hypot(weight_mean, weight_std),
        weight_std,
        act_mean,
        act_std,
        saturated,
        dead,
        unit_spread: (l < depth).then_some(grad.spread),
        branch_scale: net
            .hidden
            .get(l)
            .filter(|h| net.skips(h))
            .and_then(|h| h.scale.as_ref())
            .map(|a| a[0].as_f64()),
        branch_grad: grad.branch,
    };
    (figures, bad)
}

/// `Some(true)` at the first NaN, `Some(false)` at the first ±∞, `None` if all are finite.
pub(crate) fn first_nonfinite<'a, F: Real>(
    mut values: impl Iterator<Item = &'a F>,
) -> Option<bool> {
    values.find(|v| !v.is_finite()).map(|v| v.is_nan())
}

/// ‖∂L/∂W‖ and the units' spread max_j ‖g_j − ḡ‖ / ‖∂L/∂W‖ over the columns g_j of the
/// kernel gradient, in one pass over its rows.
fn kernel_grad_figures<F: Real>(dw: &Array2<F>) -> (f64, f64) {
    // Row by row (the kernel is row-major): Σ_i (g_ij − ḡ_i)² accumulated per column j.
    let cols = dw.ncols() as f64;
    let mut sq = vec![0.0f64; dw.ncols()];
    let mut squares = 0.0;
    for row in dw.rows() {
        let row = nn::stats::entries(&row);
        let [sum, sum_sq] = nn::stats::lane_sums(&row, |v| [v, v * v]);
        squares += sum_sq;
        let mean = sum / cols;
        for (acc, v) in sq.iter_mut().zip(row.iter()) {
            *acc += (v.as_f64() - mean).powi(2);
        }
    }
    let total = nn::stats::norm_from_squares(&nn::stats::entries(dw), squares);
    let spread = match total {
        0.0 => 0.0,
        t if t.is_finite() => sq.into_iter().fold(0.0, f64::max).sqrt() / t,
        _ => f64::NAN,
    };
    (total, spread)
}
