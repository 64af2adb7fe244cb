//! One experiment configuration with two front doors: `demo` flags (clap) and a question's
//! `[experiment]` preset (serde). Every field is optional so that layers can be stacked:
//! experiment defaults, then the preset, then the flags.
//!
//! Every setting is listed once, in [`knobs!`]: that one list makes the struct's field with
//! its clap and serde attributes, its [`Knob`], its row in the table of knobs (flag, help,
//! value name, kind, default: what a form of controls is generated from) and its line in
//! `overlay` and `value`. A `macro_rules!` list, like `train/settings.rs`'s `fields!`, and
//! not `strum` or `serde_with`: those add proc-macro crates to a fresh build (strum: strum
//! and strum_macros) and still could not write the struct's fields or their clap attributes.

use crate::nn::activation::ACTIVATION_NAMES;
use crate::nn::init::INIT_NAMES;
use crate::nn::mup::Parameterization;
use crate::nn::recurrent::CellKind;
use crate::nn::storage::LossScale;
use crate::nn::{Activation, Block, Init, Placement};
use crate::probe::attention::{Attention, AttnScale, DEFAULT_D_V};
use crate::probe::recurrent::{DEFAULT_FORGET_BIAS, Recurrent};
use crate::probe::{self, Mlp, Precision, ProbeConfig, ProbeKind};
use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::LazyLock;

/// Declares every experiment setting once and generates from that list the `Settings`
/// struct (a clap flag and a preset key per field), the `Knob` enum, the table of knobs
/// (flag, help, value name, kind, default) and the per-field code (`overlay`, `value`).
/// An entry: its doc comment (the flag's help), `Knob` variant, field, type,
/// `[value name, extra clap attributes]`, and optionally `= default` (the value used when
/// neither the experiment nor a flag sets it, where every experiment shares one).
macro_rules! knobs {
    (@default) => { None };
    (@default $d:expr) => { Some($d.to_string()) };
    ($(
        $(#[doc = $doc:literal])+
        $knob:ident $field:ident: $ty:ident [$value:literal $($arg:tt)*] $(= $default:expr)?;
    )+) => {
        /// Settings of an experiment; any left unset take the experiment's defaults.
        #[derive(Args, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        #[command(next_help_heading = "Experiment settings")]
        pub struct Settings {
            $(
                $(#[doc = $doc])+
                #[arg(long, value_name = $value $($arg)*)]
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )+
        }

        /// One experiment setting, named as its flag: what an experiment can fix for itself.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Knob {
            $($knob),+
        }

        impl Knob {
            /// Every setting, in the order commands print their flags.
            pub const ALL: [Knob; [$(stringify!($knob)),+].len()] = [$(Knob::$knob),+];

            /// The field's name: `clip_norm`.
            pub fn field(self) -> &'static str {
                match self {
                    $(Knob::$knob => stringify!($field)),+
                }
            }

            /// The flag's help, its doc comment on one line.
            pub fn help(self) -> &'static str {
                match self {
                    $(Knob::$knob => concat!($($doc),+).trim_start()),+
                }
            }

            /// What the flag takes, as its help names it: `N`, `NAME`, `X`.
            pub fn value_name(self) -> &'static str {
                match self {
                    $(Knob::$knob => $value),+
                }
            }

            /// The value's Rust type: `usize`, `f64`, `Activation`.
            pub fn kind(self) -> &'static str {
                match self {
                    $(Knob::$knob => stringify!($ty)),+
                }
            }

            /// The value used when neither the experiment nor a flag sets this knob, where
            /// every experiment shares one (`None`: the experiment's or the network's own).
            pub fn default_value(self) -> Option<String> {
                match self {
                    $(Knob::$knob => knobs!(@default $($default)?)),+
                }
            }
        }

        impl Settings {
            /// `top`'s values where it has them, `self`'s elsewhere.
            pub fn overlay(&self, top: &Settings) -> Settings {
                Settings {
                    $($field: top.$field.or(self.$field)),+
                }
            }

            /// A setting's value as its flag takes it, if set.
            pub fn value(&self, knob: Knob) -> Option<String> {
                match knob {
                    $(Knob::$knob => self.$field.as_ref().map(ToString::to_string)),+
                }
            }
        }
    };
}

knobs! {
    /// Number of hidden layers.
    Depth depth: usize ["N", allow_hyphen_values = true];

    /// Units per hidden layer (and width of the input); demo attention: d_model.
    Width width: usize ["N", allow_hyphen_values = true] = DEFAULT_WIDTH;

    /// Examples in the batch; demo attention: sequences.
    Batch batch: usize ["N", allow_hyphen_values = true] = DEFAULT_BATCH;

    /// Number of classes (output units).
    Classes classes: usize ["N", allow_hyphen_values = true] = DEFAULT_CLASSES;

    /// Activation: sigmoid, tanh, relu, leaky-relu[:slope], elu[:alpha], gelu, selu, linear.
    Activation activation: Activation ["NAME"];

    /// Initializer: xavier-normal, xavier-uniform, he-normal, he-uniform, keras-he-normal,
    /// lecun-normal, torch-default, normal:STD, uniform:LIMIT, orthogonal[:GAIN], zeros,
    /// constant:VALUE.
    Init init: Init ["NAME"];

    /// Scale for `--init normal`, `uniform` or `constant` (σ, limit or value).
    Std std: f64 ["X", allow_hyphen_values = true];

    /// Batch normalization before each activation (`--bn` or `--bn false`).
    Bn bn: bool ["BOOL", num_args = 0..=1, default_missing_value = "true"] = false;

    /// Residual connections a_l = a_(l−1) + φ(h_l) (`--residual` or `--residual false`);
    /// `post` or `pre` puts the norm around the skip: a_l = N(a_(l−1) + φ(h_l)) or
    /// a_(l−1) + φ(N(a_(l−1)) W_l + b_l).
    Residual residual: Residual ["BOOL|post|pre", num_args = 0..=1, default_missing_value = "true"]
        = Residual::Off;

    /// Normalization: none, batch (as --bn) or layer (per example, over its features).
    Norm norm: NormKind ["KIND"] = NormKind::None;

    /// Factor α on every residual branch, a_l = a_(l−1) + α·φ(…); 0 makes α a learnable
    /// scalar per block that starts at 0 (SkipInit, ReZero).
    BranchScale branch_scale: f64 ["X", allow_hyphen_values = true];

    /// Floating-point precision.
    Precision precision: Precision ["P"] = Precision::default();

    /// Random seed for weights, inputs and labels.
    Seed seed: u64 ["N", allow_hyphen_values = true] = DEFAULT_SEED;

    /// Repeat over K seeds (seed, seed+1, …) and report the median with its min–max.
    Seeds seeds: usize ["K", allow_hyphen_values = true] = 1;

    /// Clip gradients to this global norm (PyTorch's clip_grad_norm_) before measuring them.
    ClipNorm clip_norm: f64 ["X", allow_hyphen_values = true];

    /// demo recurrent: the cells to run, rnn and/or lstm (`--cell rnn,lstm`).
    Cell cell: Cells ["LIST"];

    /// demo recurrent: time steps T the gradient travels back through; demo attention: tokens
    /// per sequence.
    SeqLen seq_len: usize ["T", allow_hyphen_values = true];

    /// demo recurrent: the LSTM's forget-gate bias (default 1).
    ForgetBias forget_bias: f64 ["X", allow_hyphen_values = true];

    /// Loss scaling: a number S (∂L/∂z × S before backprop, gradients ÷ S after), or
    /// `dynamic` (start at 2¹⁶, halve while the gradients overflow).
    LossScale loss_scale: LossScale ["S", allow_hyphen_values = true];

    /// σ_b: hidden biases start i.i.d. N(0, σ_b²) instead of 0.
    BiasStd bias_std: f64 ["X", allow_hyphen_values = true] = 0.0;

    /// demo attention: the key widths d_k to compare (`--d-k 16,64,256,1024`).
    Dk d_k: DkList ["LIST"];

    /// demo attention: divide the logits by √d_k (sqrt), by nothing (none) or by a number.
    Scale scale: AttnScale ["sqrt|none|N", allow_hyphen_values = true];

    /// demo width: the widths to sweep, smallest first (`--widths 32,128,512`).
    Widths widths: Widths ["LIST"];

    /// demo width: the parameterizations, standard and/or mup (`--param mup`).
    Param param: Params ["LIST"];
}

impl Knob {
    /// The settings only `demo recurrent` reads.
    pub const RECURRENT: [Knob; 3] = [Knob::Cell, Knob::SeqLen, Knob::ForgetBias];

    /// The settings only `demo attention` reads.
    pub const ATTENTION: [Knob; 2] = [Knob::Dk, Knob::Scale];
    /// The settings only `demo width` reads.
    pub const WIDTH: [Knob; 2] = [Knob::Widths, Knob::Param];

    /// `--depth`, `--clip-norm`: the field's name in kebab case.
    pub fn flag(self) -> &'static str {
        static FLAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
            Knob::ALL
                .map(|k| format!("--{}", k.field().replace('_', "-")))
                .to_vec()
        });
        &FLAGS[self as usize]
    }
}

impl Knob {
    /// A slider's range and step, `(min, max, step)`, for a numeric knob in the live lab's
    /// form: the span a lesson explores, not a limit (the settings' own checks are those).
    pub fn range(self) -> Option<(f64, f64, f64)> {
        match self {
            Knob::Depth | Knob::SeqLen => Some((1.0, 200.0, 1.0)),
            Knob::Width => Some((2.0, 1024.0, 1.0)),
            Knob::Batch => Some((1.0, 512.0, 1.0)),
            Knob::Classes => Some((2.0, 100.0, 1.0)),
            Knob::Seed => Some((0.0, 1000.0, 1.0)),
            Knob::Seeds => Some((1.0, 20.0, 1.0)),
            Knob::Std | Knob::BiasStd => Some((0.0, 2.0, 0.01)),
            Knob::BranchScale => Some((0.0, 2.0, 0.05)),
            Knob::ClipNorm => Some((0.1, 10.0, 0.1)),
            Knob::ForgetBias => Some((-5.0, 5.0, 0.5)),
            Knob::Activation
            | Knob::Init
            | Knob::Bn
            | Knob::Residual
            | Knob::Norm
            | Knob::Precision
            | Knob::Cell
            | Knob::LossScale
            | Knob::Dk
            | Knob::Scale
            | Knob::Widths
            | Knob::Param => None,
        }
    }

    /// The values a knob with a fixed set takes, as its flag takes them (a parameter such as
    /// `leaky-relu:0.1` or `normal:STD` left to its default or to `--std`); none for numbers
    /// and free text.
    pub fn choices(self) -> Option<Vec<String>> {
        let bare = |names: &[&str]| {
            names
                .iter()
                .map(|n| n.split([':', '[']).next().unwrap_or(n).to_string())
                .collect()
        };
        let values = |v: &[clap::builder::PossibleValue]| {
            v.iter().map(|p| p.get_name().to_string()).collect()
        };
        match self {
            Knob::Activation => Some(bare(ACTIVATION_NAMES)),
            Knob::Init => Some(bare(INIT_NAMES)),
            Knob::Residual => Some(["false", "true", "post", "pre"].map(String::from).to_vec()),
            Knob::Norm => Some(values(
                &NormKind::value_variants()
                    .iter()
                    .filter_map(ValueEnum::to_possible_value)
                    .collect::<Vec<_>>(),
            )),
            Knob::Precision => Some(values(
                &Precision::value_variants()
                    .iter()
                    .filter_map(ValueEnum::to_possible_value)
                    .collect::<Vec<_>>(),
            )),
            Knob::Cell => Some(["rnn", "lstm", "rnn,lstm"].map(String::from).to_vec()),
            Knob::Param => Some(
                ["standard,mup", "standard", "mup"]
                    .map(String::from)
                    .to_vec(),
            ),
            Knob::Depth
            | Knob::Width
            | Knob::Batch
            | Knob::Classes
            | Knob::Std
            | Knob::Bn
            | Knob::BranchScale
            | Knob::Seed
            | Knob::Seeds
            | Knob::ClipNorm
            | Knob::SeqLen
            | Knob::ForgetBias
            | Knob::LossScale
            | Knob::BiasStd
            | Knob::Dk
            | Knob::Scale
            | Knob::Widths => None,
        }
    }
}

/// The canonical probe's class-sized defaults (README, "What is measured").
pub(crate) const DEFAULT_WIDTH: usize = 128;
pub(crate) const DEFAULT_BATCH: usize = 64;
pub(crate) const DEFAULT_CLASSES: usize = 10;
pub(crate) const DEFAULT_SEED: u64 = 42;
/// `--seeds` above this is refused: the point is a spread, not a census.
pub(crate) const MAX_SEEDS: usize = 100;

impl Settings {
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
        if let Some(d_k) = self.d_k {
            return self.attention_config(d_k.list()[0]);
        }
        match self.seq_len {
            Some(seq_len) => {
                let cell = self.cell.map_or(CellKind::Rnn, |c| c.list()[0]);
                self.recurrent_config(cell, seq_len)
            }
            None => self.mlp_config(),
        }
    }

    /// The MLP probe these settings describe.
    fn mlp_config(&self) -> Result<ProbeConfig> {
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
        let norm = self.norm_kind()?;
        cfg.spec.batch_norm = norm == NormKind::Batch;
        let residual = self.residual.unwrap_or_default();
        cfg.spec.residual = residual != Residual::Off;
        cfg.spec.block = self.block(norm, residual)?;
        cfg.precision = self.precision.unwrap_or_default();
        cfg.seed = self.seed.unwrap_or(DEFAULT_SEED);
        if let Some(c) = self.clip_norm
            && !(c > 0.0 && c.is_finite())
        {
            bail!(
                "--clip-norm must be a positive number (got {})",
                crate::format::echo(c)
            );
        }
        if let Some(b) = self.bias_std
            && !(b >= 0.0 && b.is_finite())
        {
            bail!("--bias-std must be 0 or a positive number (got {b})");
        }
        cfg.kind = ProbeKind::Mlp(Mlp {
            clip_norm: self.clip_norm,
            loss_scale: self.loss_scale,
            bias_std: self.bias_std.unwrap_or(0.0),
            jacobian_inputs: 0,
        });
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
            batch_norm: self.bn.unwrap_or(false) || self.norm.is_some_and(|n| n != NormKind::None),
            keeps_dphi: self.residual.is_some_and(|r| r != Residual::Off)
                || self.activation.is_some_and(|a| !a.df_from_output()),
            branch_tape: self.branch_scale == Some(0.0),
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

impl Settings {
    /// The recurrent probe of `cell` these settings describe (W_h from --init, orthogonal by
    /// default; tanh by default).
    pub fn recurrent_config(&self, cell: CellKind, seq_len: usize) -> Result<ProbeConfig> {
        let mut cfg = ProbeConfig::recurrent(
            cell,
            seq_len,
            self.width.unwrap_or(DEFAULT_WIDTH),
            self.batch.unwrap_or(DEFAULT_BATCH),
            self.classes.unwrap_or(DEFAULT_CLASSES),
        );
        if let Some(init) = self.init {
            cfg.spec.init = init.with_scale(self.std).map_err(anyhow::Error::msg)?;
        }
        cfg.spec.activation = self.activation.unwrap_or(Activation::Tanh);
        cfg.precision = self.precision.unwrap_or_default();
        cfg.seed = self.seed.unwrap_or(DEFAULT_SEED);
        cfg.kind = ProbeKind::Recurrent(Recurrent {
            cell,
            seq_len,
            forget_bias: self.forget_bias.unwrap_or(DEFAULT_FORGET_BIAS),
        });
        Ok(cfg)
    }
}

impl Settings {
    /// The attention probe of width `d_k` these settings describe: d_model from --width,
    /// T from --seq-len, sequences from --batch; W_Q, W_K, W_V Xavier-normal.
    pub fn attention_config(&self, d_k: usize) -> Result<ProbeConfig> {
        let (Some(seq_len), Some(batch), Some(width)) = (self.seq_len, self.batch, self.width)
        else {
            bail!("demo attention needs --seq-len, --batch and --width (its defaults set them)");
        };
        let mut cfg = ProbeConfig::attention(d_k, seq_len, width, batch);
        cfg.precision = self.precision.unwrap_or_default();
        cfg.seed = self.seed.unwrap_or(DEFAULT_SEED);
        cfg.kind = ProbeKind::Attention(Attention {
            d_k,
            seq_len,
            d_v: DEFAULT_D_V,
            scale: self.scale.unwrap_or_default(),
        });
        Ok(cfg)
    }
}

/// The most d_k values one `demo attention` compares.
pub(crate) const MAX_D_K: usize = 8;

/// A comma-separated list of key widths d_k (`16,64,256,1024`): 1 to [`MAX_D_K`] of them,
/// each a whole number ≥ 1, none twice. A fixed array, so that settings stay `Copy`-able.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DkList {
    len: usize,
    values: [usize; MAX_D_K],
}

impl DkList {
    pub fn list(&self) -> &[usize] {
        &self.values[..self.len]
    }
}

impl std::str::FromStr for DkList {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut values = [0; MAX_D_K];
        let mut len = 0;
        for part in s.split(',') {
            let part = part.trim();
            let d: usize = part.parse().ok().filter(|&d| d >= 1).ok_or_else(|| {
                format!(
                    "'{}' is not a width d_k: give whole numbers from 1, comma-separated \
                     (16,64,256)",
                    crate::format::escape(part, 20)
                )
            })?;
            if values[..len].contains(&d) {
                return Err(format!("d_k {d} is listed twice"));
            }
            if len == MAX_D_K {
                return Err(format!("at most {MAX_D_K} values of d_k at once"));
            }
            values[len] = d;
            len += 1;
        }
        Ok(DkList { len, values })
    }
}

impl std::fmt::Display for DkList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v: Vec<String> = self.list().iter().map(|d| d.to_string()).collect();
        f.write_str(&v.join(","))
    }
}

impl TryFrom<String> for DkList {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<DkList> for String {
    fn from(d: DkList) -> String {
        d.to_string()
    }
}

/// Most widths `--widths` takes: a sweep's table keeps a column per width at 80 columns.
pub(crate) const MAX_WIDTHS: usize = 6;

/// A comma-separated list of widths (`32,128,512`): 1 to [`MAX_WIDTHS`] whole numbers, each
/// at least 1 and larger than the one before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Widths {
    list: [usize; MAX_WIDTHS],
    len: usize,
}

impl Widths {
    pub fn list(&self) -> &[usize] {
        &self.list[..self.len]
    }
}

impl std::str::FromStr for Widths {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut w = Widths {
            list: [0; MAX_WIDTHS],
            len: 0,
        };
        for part in s.split(',') {
            let part = part.trim();
            let n: usize = part.parse().map_err(|_| {
                format!(
                    "'{}' is not a width; give whole numbers separated by commas, as in \
                     32,128,512",
                    crate::format::escape(part, 20)
                )
            })?;
            if n == 0 {
                return Err("a width must be at least 1 (got 0)".into());
            }
            if let Some(&prev) = w.list().last()
                && n <= prev
            {
                return Err(format!(
                    "list the widths smallest first, each once ({n} comes after {prev})"
                ));
            }
            if w.len == MAX_WIDTHS {
                return Err(format!("at most {MAX_WIDTHS} widths, please"));
            }
            w.list[w.len] = n;
            w.len += 1;
        }
        Ok(w)
    }
}

impl std::fmt::Display for Widths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.list().iter().map(|w| w.to_string()).collect();
        f.write_str(&names.join(","))
    }
}

impl TryFrom<String> for Widths {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Widths> for String {
    fn from(w: Widths) -> String {
        w.to_string()
    }
}

/// A comma-separated list of parameterizations (`standard,mup`), at least one, none twice.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Params([Option<Parameterization>; 2]);

impl Params {
    pub fn list(&self) -> Vec<Parameterization> {
        self.0.iter().flatten().copied().collect()
    }
}

impl std::str::FromStr for Params {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut out = [None; 2];
        for (k, part) in s.split(',').enumerate() {
            let p = Parameterization::from_str(part.trim(), true).map_err(|_| {
                format!(
                    "'{}' is not a parameterization; use standard, mup or standard,mup",
                    crate::format::escape(part, 20)
                )
            })?;
            if out.contains(&Some(p)) {
                return Err(format!("{p} is listed twice"));
            }
            if k == out.len() {
                return Err("standard and mup, each at most once".into());
            }
            out[k] = Some(p);
        }
        Ok(Params(out))
    }
}

impl std::fmt::Display for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.list().iter().map(|c| c.to_string()).collect();
        f.write_str(&names.join(","))
    }
}

impl TryFrom<String> for Params {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Params> for String {
    fn from(p: Params) -> String {
        p.to_string()
    }
}

/// A comma-separated list of recurrent cells (`rnn,lstm`), at least one, none twice (so
/// at most one of each kind, in the order given).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cells([Option<CellKind>; 2]);

impl Cells {
    pub fn list(&self) -> Vec<CellKind> {
        self.0.iter().flatten().copied().collect()
    }
}

impl std::str::FromStr for Cells {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut cells = [None; 2];
        for (k, part) in s.split(',').enumerate() {
            let c: CellKind = part.parse()?;
            if cells.contains(&Some(c)) {
                return Err(format!("cell {c} is listed twice"));
            }
            cells[k] = Some(c);
        }
        Ok(Cells(cells))
    }
}

impl std::fmt::Display for Cells {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.list().iter().map(|c| c.to_string()).collect();
        f.write_str(&names.join(","))
    }
}

impl TryFrom<String> for Cells {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Cells> for String {
    fn from(c: Cells) -> String {
        c.to_string()
    }
}

impl Settings {
    /// The norm `--norm` and its shorthand `--bn` ask for, refusing a contradiction.
    pub fn norm_kind(&self) -> Result<NormKind> {
        match (self.bn, self.norm) {
            (Some(true), Some(n)) if n != NormKind::Batch => bail!(
                "--bn is short for --norm batch, which contradicts --norm {n}; drop one of them"
            ),
            (Some(false), Some(NormKind::Batch)) => {
                bail!("--bn false contradicts --norm batch; drop one of them")
            }
            (_, Some(n)) => Ok(n),
            (Some(true), None) => Ok(NormKind::Batch),
            _ => Ok(NormKind::None),
        }
    }

    /// Layer norm, the norm's placement and the branch scale, checked against each other.
    fn block(&self, norm: NormKind, residual: Residual) -> Result<Block> {
        let placement = match residual {
            Residual::Post => Placement::Post,
            Residual::Pre => Placement::Pre,
            _ => Placement::Inside,
        };
        if placement != Placement::Inside && norm == NormKind::None {
            bail!(
                "--residual {residual} says where the norm sits around the skip, but there is \
                 no norm; add --norm layer or --norm batch, or use --residual for a plain skip"
            );
        }
        if let Some(x) = self.branch_scale {
            if residual == Residual::Off {
                bail!(
                    "--branch-scale multiplies residual branches; add --residual (or --residual \
                     post|pre)"
                );
            }
            if !x.is_finite() {
                bail!("--branch-scale must be a finite number (got {x})");
            }
        }
        Ok(Block {
            layer_norm: norm == NormKind::Layer,
            placement,
            branch_scale: self.branch_scale,
        })
    }
}

/// Which normalization a network has (`--norm`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum NormKind {
    #[default]
    None,
    /// Batch norm before each activation: statistics over the batch, per unit.
    Batch,
    /// Layer norm: statistics over each example's features.
    Layer,
}

impl fmt::Display for NormKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.to_possible_value().expect("no skipped variants");
        f.write_str(v.get_name())
    }
}

/// `--residual`: off, on, or on with the norm after (`post`) or before (`pre`) the branch.
/// Written as `false`, `true`, `post`, `pre`; a preset takes a boolean or one of the words.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Residual {
    #[default]
    Off,
    On,
    Post,
    Pre,
}

impl fmt::Display for Residual {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Residual::Off => "false",
            Residual::On => "true",
            Residual::Post => "post",
            Residual::Pre => "pre",
        })
    }
}

impl std::str::FromStr for Residual {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" => Ok(Residual::On),
            "false" | "off" | "no" => Ok(Residual::Off),
            "post" => Ok(Residual::Post),
            "pre" => Ok(Residual::Pre),
            _ => Err(format!(
                "'{}' is not a residual mode; use true, false, post or pre",
                crate::format::escape(s, 20)
            )),
        }
    }
}

impl Serialize for Residual {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Residual::Off => s.serialize_bool(false),
            Residual::On => s.serialize_bool(true),
            other => s.serialize_str(&other.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for Residual {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bool(bool),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Bool(true) => Ok(Residual::On),
            Raw::Bool(false) => Ok(Residual::Off),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// Help footer listing the valid activation and initializer names.
pub(crate) fn names_help() -> String {
    format!(
        "Activations: {}\nInitializers: {}",
        ACTIVATION_NAMES.join(", "),
        INIT_NAMES.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::{Knob, Settings};
    use clap::Args;

    /// The table of knobs says what `--help` says: the same flags in the same order, each
    /// with its value name and help (clap drops a one-sentence help's final period).
    #[test]
    fn the_knob_table_matches_the_flags() {
        let cmd = Settings::augment_args(clap::Command::new("t"));
        let args: Vec<&clap::Arg> = cmd.get_arguments().collect();
        assert_eq!(args.len(), Knob::ALL.len());
        for (arg, k) in args.into_iter().zip(Knob::ALL) {
            assert_eq!(
                format!("--{}", arg.get_long().unwrap_or_default()),
                k.flag()
            );
            assert_eq!(arg.get_value_names().unwrap_or_default(), [k.value_name()]);
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            assert_eq!(help, k.help().trim_end_matches('.'), "{k:?}");
        }
        let keys: Vec<String> = Knob::ALL.map(|k| k.flag()[2..].to_string()).to_vec();
        assert_eq!(Settings::keys(), keys);
        assert_eq!(Knob::Precision.default_value().as_deref(), Some("f32"));
        assert_eq!(Knob::Residual.default_value().as_deref(), Some("false"));
        assert_eq!(Knob::Depth.default_value(), None);
    }

    /// Every knob is one field: setting it alone is seen by `value`, `given` and `overlay`.
    #[test]
    fn each_knob_reads_its_own_field() {
        let full = Settings {
            depth: Some(3),
            width: Some(4),
            batch: Some(5),
            classes: Some(6),
            activation: Some(crate::nn::Activation::Tanh),
            init: Some(crate::nn::Init::HeNormal),
            std: Some(0.5),
            bn: Some(true),
            residual: Some(super::Residual::Pre),
            norm: Some(super::NormKind::Layer),
            branch_scale: Some(0.25),
            precision: Some(crate::probe::Precision::F64),
            seed: Some(7),
            seeds: Some(2),
            clip_norm: Some(1.5),
            cell: Some("lstm".parse().unwrap()),
            seq_len: Some(9),
            forget_bias: Some(2.0),
            loss_scale: Some("8".parse().unwrap()),
            bias_std: Some(0.125),
            d_k: Some("16,64".parse().unwrap()),
            scale: Some("none".parse().unwrap()),
            widths: Some("16,64".parse().unwrap()),
            param: Some("mup".parse().unwrap()),
        };
        assert_eq!(full.given(), Knob::ALL);
        let args = full.to_args();
        let flags: Vec<&str> = args.iter().step_by(2).map(String::as_str).collect();
        assert_eq!(flags, Knob::ALL.map(Knob::flag));
        assert_eq!(Settings::default().overlay(&full), full);
        assert_eq!(full.overlay(&Settings::default()), full);
        assert_eq!(full.value(Knob::BranchScale).as_deref(), Some("0.25"));
        assert_eq!(full.value(Knob::SeqLen).as_deref(), Some("9"));
        assert_eq!(full.value(Knob::Dk).as_deref(), Some("16,64"));
        assert_eq!(full.value(Knob::Scale).as_deref(), Some("none"));
    }
}
