//! The attention probe: one self-attention head (`nn/attention.rs`) on B sequences of T
//! unit-variance tokens, W_Q, W_K, W_V Xavier-normal, and a mean-squared-error loss against
//! a fixed random target, measured once forward and backward (README, "The attention probe").

use super::{NonFinite, Pass, ProbeBody, ProbeConfig, ProbeKind, ProbeResult, gaussian_batch};
use crate::format::human_bytes;
use crate::nn::attention::Head;
use crate::nn::stats::median;
use crate::nn::{self, Init, Real};
use anyhow::{Result, bail};
use ndarray::Array2;
use rand::RngExt;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What makes a probe an attention head: d_k, the sequence length T, d_v and the logits'
/// divisor. d_model is the [`ProbeConfig`]'s `spec.input`, the B sequences its `batch`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Attention {
    pub d_k: usize,
    pub seq_len: usize,
    pub d_v: usize,
    pub scale: AttnScale,
}

/// d_v when none is given: a fixed head output (GPT-2's and BERT-base's head size), so that
/// changing d_k changes the logits alone.
pub(crate) const DEFAULT_D_V: usize = 64;

/// Largest d_k, d_model and T the probe takes: the memory limit decides below that.
pub(crate) const MAX_DIM: usize = 1 << 16;

/// What the logits Q Kᵀ are divided by before the softmax (`--scale`).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum AttnScale {
    /// √d_k (Vaswani et al. 2017).
    #[default]
    Sqrt,
    /// 1: the raw dot products.
    None,
    /// A fixed number c.
    By(f64),
}

impl AttnScale {
    /// The divisor c for a head of width `d_k`.
    pub fn divisor(self, d_k: usize) -> f64 {
        match self {
            AttnScale::Sqrt => (d_k as f64).sqrt(),
            AttnScale::None => 1.0,
            AttnScale::By(c) => c,
        }
    }
}

impl fmt::Display for AttnScale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttnScale::Sqrt => f.write_str("sqrt"),
            AttnScale::None => f.write_str("none"),
            AttnScale::By(c) => f.write_str(&crate::format::echo(*c)),
        }
    }
}

impl std::str::FromStr for AttnScale {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sqrt" => Ok(AttnScale::Sqrt),
            "none" => Ok(AttnScale::None),
            t => match t.parse::<f64>() {
                Ok(c) if c > 0.0 && c.is_finite() => Ok(AttnScale::By(c)),
                _ => Err(format!(
                    "'{}' is not a scale; use sqrt (divide by √d_k), none, or a positive number",
                    crate::format::escape(s, 20)
                )),
            },
        }
    }
}

impl Serialize for AttnScale {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            AttnScale::By(c) => s.serialize_f64(*c),
            other => s.serialize_str(&other.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for AttnScale {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(c) => c.to_string().parse().map_err(serde::de::Error::custom),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// A query whose largest attention weight exceeds this is saturated: the softmax's
/// Jacobian A ⊙ (∂L/∂A − Σ A·∂L/∂A) is then below 1 − p of ∂L/∂A.
pub(crate) const SATURATED: f64 = 0.99;

/// What an attention probe measured beyond a [`ProbeResult`]'s loss and global norm.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AttentionFigures {
    /// Mean of z² over every logit z = qᵀk / c the softmax sees (E z = 0, so its variance).
    pub logit_var: f64,
    /// The softmax's largest probability, mean over the queries.
    pub max_prob: f64,
    /// The softmax's entropy −Σ p ln p in nats, mean over the queries (ln T when uniform).
    pub entropy: f64,
    /// Share of the queries whose largest probability exceeds [`SATURATED`].
    pub saturated: f64,
    /// ‖∂L/∂q_t‖ of the median query: what a typical token's query passes on to W_Q.
    pub query_grad_median: f64,
    /// ‖∂L/∂W_Q‖_F, ‖∂L/∂W_K‖_F, ‖∂L/∂W_V‖_F.
    pub grad_wq: f64,
    pub grad_wk: f64,
    pub grad_wv: f64,
}

impl AttentionFigures {
    /// The median over several seeds' figures of one config, entry by entry.
    pub fn median<'a>(all: impl Iterator<Item = &'a AttentionFigures>) -> AttentionFigures {
        let all: Vec<&AttentionFigures> = all.collect();
        let med = |f: &dyn Fn(&AttentionFigures) -> f64| median(all.iter().map(|r| f(r)).collect());
        AttentionFigures {
            logit_var: med(&|r| r.logit_var),
            max_prob: med(&|r| r.max_prob),
            entropy: med(&|r| r.entropy),
            saturated: med(&|r| r.saturated),
            query_grad_median: med(&|r| r.query_grad_median),
            grad_wq: med(&|r| r.grad_wq),
            grad_wk: med(&|r| r.grad_wk),
            grad_wv: med(&|r| r.grad_wv),
        }
    }
}

impl ProbeConfig {
    /// The attention probe: d_k, T tokens of width `d_model`, `batch` sequences, d_v
    /// [`DEFAULT_D_V`], W_Q, W_K, W_V Xavier-normal, f32, seed 42.
    pub fn attention(d_k: usize, seq_len: usize, d_model: usize, batch: usize) -> Self {
        let mut cfg = ProbeConfig::canonical(1, d_model, batch, 2);
        cfg.kind = ProbeKind::Attention(Attention {
            d_k,
            seq_len,
            d_v: DEFAULT_D_V,
            scale: AttnScale::Sqrt,
        });
        cfg
    }
}

/// Refuses attention shapes that cannot run or that need more than `max_bytes`.
pub(super) fn check(cfg: &ProbeConfig, a: &Attention, max_bytes: u64) -> Result<()> {
    let n = cfg.spec.input;
    if a.d_k == 0 || a.d_k > MAX_DIM {
        bail!("--d-k takes widths from 1 to {MAX_DIM} (got {})", a.d_k);
    }
    if a.seq_len < 2 || a.seq_len > MAX_DIM {
        bail!(
            "--seq-len must be from 2 to {MAX_DIM} for demo attention: with one token the \
             softmax is 1 whatever the logits (got {})",
            a.seq_len
        );
    }
    if n == 0 || n > MAX_DIM {
        bail!("--width (d_model) must be from 1 to {MAX_DIM} (got {n})");
    }
    if a.d_v == 0 {
        bail!("d_v must be at least 1 (got 0)");
    }
    if cfg.batch == 0 {
        bail!("--batch (sequences) must be at least 1 (got 0)");
    }
    if let AttnScale::By(c) = a.scale
        && !(c > 0.0 && c.is_finite())
    {
        bail!(
            "--scale must be sqrt, none or a positive number (got {})",
            crate::format::echo(c)
        );
    }
    if matches!(
        cfg.precision,
        super::Precision::F16 | super::Precision::Bf16
    ) {
        bail!(
            "demo attention runs in f32 or f64 (got --precision {}); 16-bit storage is \
             modelled for the MLP probe: see `gradtutor demo precision`",
            cfg.precision
        );
    }
    let need = bytes(cfg, a).unwrap_or(u128::MAX);
    if need > max_bytes as u128 {
        bail!(
            "this run needs about {} but the memory limit is {}; reduce --d-k, --width \
             (d_model), --seq-len or --batch, or raise the limit with --max-memory",
            human_bytes(need),
            human_bytes(max_bytes as u128)
        );
    }
    Ok(())
}

/// Bytes the attention probe holds at its peak, from the numbers alone (checked arithmetic):
/// the weights and their gradients, X and ∂L/∂X, Q, K, V, their gradients, O, the target and
/// ∂L/∂O, and the logits, probabilities and one sequence's ∂L/∂A and ∂L/∂S.
pub(super) fn bytes(cfg: &ProbeConfig, a: &Attention) -> Option<u128> {
    let size: u128 = match cfg.precision {
        super::Precision::F64 => 8,
        _ => 4,
    };
    let u = |v: usize| v as u128;
    let (n, dk, dv, t, b) = (
        u(cfg.spec.input),
        u(a.d_k),
        u(a.d_v),
        u(a.seq_len),
        u(cfg.batch),
    );
    let rows = b.checked_mul(t)?;
    let params = n.checked_mul(dk.checked_mul(2)?.checked_add(dv)?)?;
    let per_row = n
        .checked_mul(2)?
        .checked_add(dk.checked_mul(4)?)?
        .checked_add(dv.checked_mul(5)?)?
        .checked_add(t.checked_mul(2)?)?;
    let sequence = t.checked_mul(t)?.checked_mul(2)?;
    params
        .checked_mul(2)?
        .checked_add(rows.checked_mul(per_row)?)?
        .checked_add(sequence)?
        .checked_mul(size)
}

/// Multiply-adds of one pass, forward and backward: the projections (three times: forward,
/// the weights' gradients, ∂L/∂X) and the T × T products of each sequence (four times).
pub(super) fn work(cfg: &ProbeConfig, a: &Attention) -> f64 {
    let (n, dk, dv, t, b) = (
        cfg.spec.input as f64,
        a.d_k as f64,
        a.d_v as f64,
        a.seq_len as f64,
        cfg.batch as f64,
    );
    3.0 * b * t * n * (2.0 * dk + dv) + 4.0 * b * t * t * (dk + dv)
}

/// n·(2·d_k + d_v): W_Q, W_K and W_V.
pub(super) fn parameters(cfg: &ProbeConfig, a: &Attention) -> usize {
    cfg.spec.input * (2 * a.d_k + a.d_v)
}

/// Runs a checked attention probe in `F`. Draw order: the B·T × d_model tokens from the
/// data stream, W_Q, W_K, W_V from layer streams 0, 1, 2, the target from layer stream 3.
pub(super) fn run<F: Real>(cfg: &ProbeConfig, a: &Attention) -> ProbeResult {
    let (n, t) = (cfg.spec.input, a.seq_len);
    let rows = cfg.batch * t;
    let (x, _) = gaussian_batch::<F>(rows, n, 2, cfg.seed);
    let kernel = |out: usize, stream: usize| {
        cfg.spec
            .init
            .kernel::<F, _>(n, out, &mut nn::rng::layer(cfg.seed, stream))
    };
    let head = Head {
        wq: kernel(a.d_k, 0),
        wk: kernel(a.d_k, 1),
        wv: kernel(a.d_v, 2),
        scale: F::of(a.scale.divisor(a.d_k)),
    };
    let mut rng = nn::rng::layer(cfg.seed, 3);
    let target = Array2::from_shape_simple_fn((rows, a.d_v), || {
        F::of(rng.sample::<f64, _>(StandardNormal))
    });
    let tape = head.forward(x.view(), t);
    let (loss, dout) = nn::loss::mean_squared_error(tape.out.view(), target.view());
    let grads = head.backward(x.view(), &tape, dout.view(), t, false);
    let logit_var = tape
        .logits
        .iter()
        .map(|z| z.as_f64() * z.as_f64())
        .sum::<f64>()
        / tape.logits.len() as f64;
    let (mut max_prob, mut entropy, mut saturated) = (0.0, 0.0, 0usize);
    for row in tape.probs.rows() {
        let top = row.iter().fold(0.0f64, |m, p| m.max(p.as_f64()));
        max_prob += top;
        saturated += usize::from(top > SATURATED);
        entropy -= row
            .iter()
            .map(|p| p.as_f64())
            .filter(|&p| p > 0.0)
            .map(|p| p * libm::log(p))
            .sum::<f64>();
    }
    let queries = tape.probs.nrows().max(1) as f64;
    let per_query: Vec<f64> = grads.dq.rows().into_iter().map(|r| nn::norm(&r)).collect();
    let figures = AttentionFigures {
        logit_var,
        max_prob: max_prob / queries,
        entropy: entropy / queries,
        saturated: saturated as f64 / queries,
        query_grad_median: median(per_query),
        grad_wq: nn::norm(&grads.dwq),
        grad_wk: nn::norm(&grads.dwk),
        grad_wv: nn::norm(&grads.dwv),
    };
    let global = nn::stats::norm_of(&[
        F::of(figures.grad_wq),
        F::of(figures.grad_wk),
        F::of(figures.grad_wv),
    ]);
    // Forward: the logits, then the output; backward: the gradients.
    let forward = super::first_nonfinite(tape.logits.iter())
        .map(|nan| (1, nan))
        .or_else(|| super::first_nonfinite(tape.out.iter()).map(|nan| (2, nan)));
    let nonfinite = match forward {
        Some((layer, nan)) => Some(NonFinite {
            layer,
            pass: Pass::Forward,
            nan,
        }),
        None => [figures.grad_wv, figures.grad_wq]
            .into_iter()
            .position(|g| !g.is_finite())
            .map(|k| NonFinite {
                layer: 2 - k,
                pass: Pass::Backward,
                nan: [figures.grad_wv, figures.grad_wq][k].is_nan(),
            }),
    };
    ProbeResult {
        loss: loss.as_f64(),
        global_grad_norm: global,
        nonfinite,
        loss_scale: None,
        body: ProbeBody::Attention(figures),
    }
}

/// How an attention probe's config reads in JSON: the fields that determine it.
#[derive(Serialize)]
pub(super) struct Flat {
    d_k: usize,
    d_model: usize,
    d_v: usize,
    seq_len: usize,
    batch: usize,
    scale: AttnScale,
    /// The divisor c that `scale` gives at this d_k.
    divisor: f64,
    init: Init,
    precision: super::Precision,
    seed: u64,
}

impl Flat {
    pub(super) fn of(cfg: &ProbeConfig, a: &Attention) -> Flat {
        Flat {
            d_k: a.d_k,
            d_model: cfg.spec.input,
            d_v: a.d_v,
            seq_len: a.seq_len,
            batch: cfg.batch,
            scale: a.scale,
            divisor: a.scale.divisor(a.d_k),
            init: cfg.spec.init,
            precision: cfg.precision,
            seed: cfg.seed,
        }
    }
}

/// `d_k 64 · logits ÷ √d_k · T 32 × d_model 1024 → d_v 64 · batch 2 · xavier-normal · f32 ·
/// seed 42`, keyed as [`ProbeConfig::parts`].
pub(super) fn parts(cfg: &ProbeConfig, a: &Attention) -> Vec<(&'static str, String)> {
    let scale = match a.scale {
        AttnScale::Sqrt => "logits ÷ √d_k".to_string(),
        AttnScale::None => "unscaled logits".to_string(),
        AttnScale::By(c) => format!("logits ÷ {}", crate::format::echo(c)),
    };
    vec![
        ("d_k", format!("d_k {}", a.d_k)),
        ("scale", scale),
        (
            "shape",
            format!(
                "T {} × d_model {} → d_v {}",
                a.seq_len, cfg.spec.input, a.d_v
            ),
        ),
        ("batch", format!("batch {}", cfg.batch)),
        ("init", cfg.spec.init.to_string()),
        ("precision", cfg.precision.to_string()),
        ("seed", format!("seed {}", cfg.seed)),
    ]
}
