//! One experiment configuration with two front doors: `demo` flags (clap) and a question's
//! `[experiment]` preset (serde). Every field is optional so that layers can be stacked:
//! experiment defaults, then the preset, then the flags.

use crate::nn::activation::ACTIVATION_NAMES;
use crate::nn::init::INIT_NAMES;
use crate::nn::{Activation, Init};
use crate::probe::{self, Precision, ProbeConfig};
use anyhow::{Result, bail};
use clap::Args;
use serde::{Deserialize, Serialize};

/// Settings of an experiment; any left unset take the experiment's defaults.
#[derive(Args, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[command(next_help_heading = "Experiment settings")]
pub struct Settings {
    /// Number of hidden layers.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<usize>,

    /// Units per hidden layer (and width of the input).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<usize>,

    /// Examples in the batch.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<usize>,

    /// Number of classes (output units).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes: Option<usize>,

    /// Activation: sigmoid, tanh, relu, leaky-relu[:slope], elu[:alpha], gelu, selu, linear.
    #[arg(long, value_name = "NAME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation: Option<Activation>,

    /// Initializer: xavier-normal, xavier-uniform, he-normal, he-uniform, keras-he-normal,
    /// lecun-normal, torch-default, normal:STD, uniform:LIMIT, zeros, constant:VALUE.
    #[arg(long, value_name = "NAME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<Init>,

    /// Scale for `--init normal`, `uniform` or `constant` (σ, limit or value).
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub std: Option<f64>,

    /// Batch normalization before each activation (`--bn` or `--bn false`).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bn: Option<bool>,

    /// Residual connections a_l = a_(l−1) + φ(h_l) (`--residual` or `--residual false`).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residual: Option<bool>,

    /// Floating-point precision.
    #[arg(long, value_name = "P")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision: Option<Precision>,

    /// Random seed for weights, inputs and labels.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,

    /// Repeat over K seeds (seed, seed+1, …) and report the median with its min–max.
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seeds: Option<usize>,

    /// Clip gradients to this global norm (PyTorch's clip_grad_norm_) before measuring them.
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clip_norm: Option<f64>,

    /// σ_b: hidden biases start i.i.d. N(0, σ_b²) instead of 0.
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bias_std: Option<f64>,
}

/// One experiment setting, named as its flag: what an experiment can fix for itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Knob {
    Depth,
    Width,
    Batch,
    Classes,
    Activation,
    Init,
    Std,
    Bn,
    Residual,
    Precision,
    Seed,
    Seeds,
    ClipNorm,
    BiasStd,
}

impl Knob {
    /// Every setting, in the order commands print their flags.
    pub const ALL: [Knob; 14] = [
        Knob::Depth,
        Knob::Width,
        Knob::Batch,
        Knob::Classes,
        Knob::Activation,
        Knob::Init,
        Knob::Std,
        Knob::Bn,
        Knob::Residual,
        Knob::Precision,
        Knob::Seed,
        Knob::Seeds,
        Knob::ClipNorm,
        Knob::BiasStd,
    ];

    /// `--depth`, `--clip-norm`.
    pub fn flag(self) -> &'static str {
        match self {
            Knob::Depth => "--depth",
            Knob::Width => "--width",
            Knob::Batch => "--batch",
            Knob::Classes => "--classes",
            Knob::Activation => "--activation",
            Knob::Init => "--init",
            Knob::Std => "--std",
            Knob::Bn => "--bn",
            Knob::Residual => "--residual",
            Knob::Precision => "--precision",
            Knob::Seed => "--seed",
            Knob::Seeds => "--seeds",
            Knob::ClipNorm => "--clip-norm",
            Knob::BiasStd => "--bias-std",
        }
    }
}

/// The canonical probe's class-sized defaults (README, "What is measured").
pub const DEFAULT_WIDTH: usize = 128;
pub const DEFAULT_BATCH: usize = 64;
pub const DEFAULT_CLASSES: usize = 10;
pub const DEFAULT_SEED: u64 = 42;
/// `--seeds` above this is refused: the point is a spread, not a census.
pub const MAX_SEEDS: usize = 100;

macro_rules! overlay_fields {
    ($base:expr, $top:expr, $($f:ident),*) => {
        Settings { $($f: $top.$f.or($base.$f)),* }
    };
}

impl Settings {
    /// `top`'s values where it has them, `self`'s elsewhere.
    pub fn overlay(&self, top: &Settings) -> Settings {
        overlay_fields!(
            self, top, depth, width, batch, classes, activation, init, std, bn, residual,
            precision, seed, seeds, clip_norm, bias_std
        )
    }

    /// The settings that are set, in flag order.
    pub fn given(&self) -> Vec<Knob> {
        Knob::ALL
            .into_iter()
            .filter(|&k| self.value(k).is_some())
            .collect()
    }

    /// The keys of an `[experiment]` preset: the flags' names.
    pub fn keys() -> Vec<&'static str> {
        Knob::ALL.map(|k| &k.flag()[2..]).to_vec()
    }

    /// A setting's value as its flag takes it, if set.
    pub fn value(&self, knob: Knob) -> Option<String> {
        fn show<T: ToString>(v: &Option<T>) -> Option<String> {
            v.as_ref().map(T::to_string)
        }
        match knob {
            Knob::Depth => show(&self.depth),
            Knob::Width => show(&self.width),
            Knob::Batch => show(&self.batch),
            Knob::Classes => show(&self.classes),
            Knob::Activation => show(&self.activation),
            Knob::Init => show(&self.init),
            Knob::Std => show(&self.std),
            Knob::Bn => show(&self.bn),
            Knob::Residual => show(&self.residual),
            Knob::Precision => show(&self.precision),
            Knob::Seed => show(&self.seed),
            Knob::Seeds => show(&self.seeds),
            Knob::ClipNorm => show(&self.clip_norm),
            Knob::BiasStd => show(&self.bias_std),
        }
    }

    /// The flags that reproduce these settings on the command line.
    pub fn to_args(&self) -> Vec<String> {
        Knob::ALL
            .into_iter()
            .filter_map(|k| Some([k.flag().to_string(), self.value(k)?]))
            .flatten()
            .collect()
    }

    /// The canonical probe these settings describe; unset fields take the defaults above
    /// (depth must come from the experiment's defaults).
    pub fn probe_config(&self) -> Result<ProbeConfig> {
        let Some(depth) = self.depth else {
            bail!("no depth given: add --depth N");
        };
        let width = self.width.unwrap_or(DEFAULT_WIDTH);
        let init = self
            .init
            .unwrap_or(Init::XavierNormal)
            .with_scale(self.std)
            .map_err(anyhow::Error::msg)?;
        let mut cfg = ProbeConfig::canonical(
            depth,
            width,
            self.batch.unwrap_or(DEFAULT_BATCH),
            self.classes.unwrap_or(DEFAULT_CLASSES),
        )
        .with_init(init);
        cfg.spec.activation = self.activation.unwrap_or(Activation::Sigmoid);
        cfg.spec.batch_norm = self.bn.unwrap_or(false);
        cfg.spec.residual = self.residual.unwrap_or(false);
        cfg.precision = self.precision.unwrap_or_default();
        cfg.seed = self.seed.unwrap_or(DEFAULT_SEED);
        if let Some(c) = self.clip_norm
            && !(c > 0.0 && c.is_finite())
        {
            bail!("--clip-norm must be a positive number (got {c})");
        }
        cfg.clip_norm = self.clip_norm;
        if let Some(b) = self.bias_std
            && !(b >= 0.0 && b.is_finite())
        {
            bail!("--bias-std must be 0 or a positive number (got {b})");
        }
        cfg.bias_std = self.bias_std.unwrap_or(0.0);
        Ok(cfg)
    }

    /// Refuses a canonical network too large for `max_bytes` from its numbers alone, before
    /// anything of its size is allocated (the plan's own check is exact; this one is early,
    /// so it counts only what these settings are sure to need).
    pub fn check_size(&self, max_bytes: u64) -> Result<()> {
        let Some(depth) = self.depth else {
            return Ok(());
        };
        let width = self.width.unwrap_or(DEFAULT_WIDTH);
        let shape = probe::Shape {
            input: width,
            hidden: &[(width, depth)],
            classes: self.classes.unwrap_or(DEFAULT_CLASSES),
            batch: self.batch.unwrap_or(DEFAULT_BATCH),
            batch_norm: self.bn.unwrap_or(false),
            keeps_dphi: self.residual == Some(true)
                || self.activation.is_some_and(|a| !a.df_from_output()),
            keeps_grads: self.clip_norm.is_some(),
        };
        let need = probe::peak_bytes(&shape, self.precision.unwrap_or_default());
        probe::check_memory(need.unwrap_or(u128::MAX), max_bytes)
    }

    /// The seeds to run: `seed`, `seed + 1`, … (`--seeds` of them).
    pub fn seed_list(&self) -> Result<Vec<u64>> {
        let k = self.seeds.unwrap_or(1);
        if k == 0 || k > MAX_SEEDS {
            bail!("--seeds must be between 1 and {MAX_SEEDS} (got {k})");
        }
        let first = self.seed.unwrap_or(DEFAULT_SEED);
        Ok((0..k as u64).map(|i| first.wrapping_add(i)).collect())
    }
}

/// Help footer listing the valid activation and initializer names.
pub fn names_help() -> String {
    format!(
        "Activations: {}\nInitializers: {}",
        ACTIVATION_NAMES.join(", "),
        INIT_NAMES.join(", ")
    )
}
