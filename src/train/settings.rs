//! `train` settings with two front doors, like the experiments' settings: command-line flags
//! and a question's `[train]` preset. Unset fields take the defaults below.

use super::variant::{DEFAULT_PRESET, DIGITS_PRESET, Variant, preset_names};
use super::{OptimizerName, TrainConfig};
use crate::data::{DataSpec, Table, Task};
use crate::nn::storage::LossScale;
use crate::nn::{Activation, Init};
use crate::probe::Precision;
use crate::settings::DEFAULT_SEED;
use anyhow::{Result, bail};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub(crate) const DEFAULT_SAMPLES: usize = 1000;
pub(crate) const DEFAULT_TEST_FRACTION: f64 = 0.25;
pub(crate) const DEFAULT_DEPTH: usize = 10;
pub(crate) const DEFAULT_WIDTH: usize = 32;
pub(crate) const DEFAULT_BATCH: usize = 32;
pub(crate) const DEFAULT_STEPS: usize = 1000;
/// Steps on the digits: the seed's model with ReLU and He passes 85% test accuracy by then.
pub(crate) const DIGITS_STEPS: usize = 300;
pub(crate) const DEFAULT_LR: f64 = 0.01;
pub(crate) const DEFAULT_TARGET_LOSS: f64 = 0.1;
/// The hidden layers of the seed's model (784 → 256 → 128 → 10 on MNIST; 64 → 256 → 128 →
/// 10 on the 8 × 8 digits).
pub(crate) const SEED_MODEL: [usize; 2] = [256, 128];

/// Settings of a training run; any left unset take the defaults.
#[derive(Args, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[command(next_help_heading = "Training settings")]
pub struct TrainSettings {
    /// Configurations to train side by side on the same data, batches and seed:
    /// ACTIVATION[/INIT][+bn][+residual][@OPTIMIZER], comma-separated, or a preset name
    /// (gradient-flow, activations, init, optimizers, digits). An entry without @ uses
    /// --optimizer. Default: gradient-flow (digits on --dataset digits), unless --activation,
    /// --init, --bn or --residual describe a single configuration.
    #[arg(long, value_name = "LIST")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compare: Option<String>,

    /// The task to learn.
    #[arg(long, value_name = "NAME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<Task>,

    /// Examples generated in all; a quarter are held out for testing [default: 1000].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samples: Option<usize>,

    /// Dataset noise (its meaning and default depend on the dataset; see --dataset).
    #[arg(long, value_name = "X", allow_hyphen_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise: Option<f64>,

    /// Number of hidden layers [default: 10].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<usize>,

    /// Units per hidden layer [default: 32].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<usize>,

    /// Examples per minibatch [default: 32].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<usize>,

    /// Activation of a single configuration (as `demo --activation`).
    #[arg(long, value_name = "NAME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation: Option<Activation>,

    /// Initializer of a single configuration (default: He for the ReLU family, Xavier else).
    #[arg(long, value_name = "NAME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<Init>,

    /// Batch normalization in a single configuration.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bn: Option<bool>,

    /// Residual connections in a single configuration.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residual: Option<bool>,

    /// Parameter updates per configuration [default: 1000; 300 on digits].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<usize>,

    /// Learning rate η [default: 0.01].
    #[arg(long, value_name = "X", allow_hyphen_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,

    /// Update rule [default: momentum].
    #[arg(long, value_name = "NAME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<OptimizerName>,

    /// Clip the gradients to this global norm before each update (PyTorch's rule).
    #[arg(long, value_name = "X", allow_hyphen_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clip_norm: Option<f64>,

    /// Clamp every gradient entry to [−X, X] before each update.
    #[arg(long, value_name = "X", allow_hyphen_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clip_value: Option<f64>,

    /// Training loss that counts as "learned" for the steps-to-target figure [default: 0.1].
    #[arg(long, value_name = "X", allow_hyphen_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_loss: Option<f64>,

    /// Floating-point precision.
    #[arg(long, value_name = "P")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision: Option<Precision>,

    /// Loss scaling: a number S, or `dynamic[:N]` (GradScaler: start 2¹⁶, skip the step and
    /// halve on inf/NaN, double after N finite steps, default 2000).
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_scale: Option<LossScale>,

    /// Random seed for the data, the weights and the batch order [default: 42].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

macro_rules! fields {
    ($m:ident) => {
        $m!(
            compare,
            dataset,
            samples,
            noise,
            depth,
            width,
            batch,
            activation,
            init,
            bn,
            residual,
            steps,
            lr,
            optimizer,
            clip_norm,
            clip_value,
            target_loss,
            precision,
            loss_scale,
            seed
        )
    };
}

impl TrainSettings {
    /// `top`'s values where it has them, `self`'s elsewhere.
    pub fn overlay(&self, top: &TrainSettings) -> TrainSettings {
        macro_rules! pick {
            ($($f:ident),*) => { TrainSettings { $($f: top.$f.clone().or(self.$f.clone())),* } };
        }
        fields!(pick)
    }

    /// The keys of a `[train]` preset: the flags' names.
    pub fn keys() -> Vec<String> {
        macro_rules! names {
            ($($f:ident),*) => { vec![$(stringify!($f).replace('_', "-")),*] };
        }
        fields!(names)
    }

    /// The flags that reproduce these settings on the command line.
    pub fn to_args(&self) -> Vec<String> {
        let mut out = Vec::new();
        macro_rules! push {
            ($($f:ident),*) => {$(
                if let Some(v) = &self.$f {
                    out.push(format!("--{}", stringify!($f).replace('_', "-")));
                    out.push(v.to_string());
                }
            )*};
        }
        fields!(push);
        out
    }

    /// The comparison these settings describe, with every default filled in.
    pub fn config(&self) -> Result<TrainConfig> {
        self.config_with(None)
    }

    /// The comparison these settings describe on `file`'s examples (`train --data`) if
    /// given, else on `--dataset`'s.
    pub fn config_with(&self, file: Option<Arc<Table>>) -> Result<TrainConfig> {
        if file.is_some() {
            for (flag, given) in [
                ("--dataset", self.dataset.is_some()),
                ("--samples", self.samples.is_some()),
                ("--noise", self.noise.is_some()),
            ] {
                if given {
                    bail!("--data gives the examples, so {flag} has nothing to set; drop {flag}");
                }
            }
        }
        let single = self.activation.is_some()
            || self.init.is_some()
            || self.bn.is_some()
            || self.residual.is_some();
        let variants = match &self.compare {
            Some(_) if single => bail!(
                "--compare sets each configuration's activation, initializer, batch norm and \
                 residual connections; drop --activation, --init, --bn and --residual, or drop \
                 --compare to train that one configuration"
            ),
            Some(list) => Variant::parse_list(list)?,
            None if single => {
                let activation = self.activation.unwrap_or(Activation::Relu);
                vec![Variant {
                    activation,
                    init: self
                        .init
                        .unwrap_or_else(|| Variant::default_init(activation)),
                    batch_norm: self.bn.unwrap_or(false),
                    residual: self.residual.unwrap_or(false),
                    block: Default::default(),
                    optimizer: None,
                }]
            }
            None if self.dataset == Some(Task::Digits) => Variant::parse_list(DIGITS_PRESET)?,
            None => Variant::parse_list(DEFAULT_PRESET)?,
        };
        let (optimizer, variants) =
            resolve_optimizers(self.optimizer.unwrap_or_default(), variants);
        let kind = self.dataset.unwrap_or_default();
        if kind.is_fixed() {
            for (flag, given) in [
                ("--samples", self.samples.is_some()),
                ("--noise", self.noise.is_some()),
            ] {
                if given {
                    bail!(
                        "{flag}: the {kind}' {} examples are fixed ({} train, {} test)",
                        crate::format::thousands(crate::data::digits::EXAMPLES),
                        crate::format::thousands(crate::data::digits::TRAIN),
                        crate::data::digits::EXAMPLES - crate::data::digits::TRAIN
                    );
                }
            }
        }
        let depth = self.depth.unwrap_or(DEFAULT_DEPTH);
        if depth == 0 {
            bail!("--depth must be at least 1 (got 0)");
        }
        // Real images train the seed's model, 256 then 128 units, unless a shape is asked for.
        let images = match &file {
            Some(t) => t.source.starts_with("mnist:"),
            None => kind == Task::Digits,
        };
        let seed_model = images && self.depth.is_none() && self.width.is_none();
        let (depth, widths) = match seed_model {
            true => (SEED_MODEL.len(), SEED_MODEL.to_vec()),
            false => (depth, Vec::new()),
        };
        let mut data = DataSpec::task(
            kind,
            match kind.is_fixed() {
                true => crate::data::digits::EXAMPLES,
                false => self.samples.unwrap_or(DEFAULT_SAMPLES),
            },
            self.noise.unwrap_or(kind.default_noise()),
            DEFAULT_TEST_FRACTION,
            self.seed.unwrap_or(DEFAULT_SEED),
        );
        if let Some(t) = file {
            data.samples = t.rows();
            data.noise = 0.0;
            data.file = Some(t);
        }
        Ok(TrainConfig {
            data,
            depth,
            width: widths
                .first()
                .copied()
                .unwrap_or(self.width.unwrap_or(DEFAULT_WIDTH)),
            widths,
            batch: self.batch.unwrap_or(DEFAULT_BATCH),
            steps: self.steps.unwrap_or(match kind {
                Task::Digits => DIGITS_STEPS,
                _ => DEFAULT_STEPS,
            }),
            lr: self.lr.unwrap_or(DEFAULT_LR),
            optimizer,
            clip_norm: self.clip_norm,
            clip_value: self.clip_value,
            target_loss: self.target_loss.unwrap_or(DEFAULT_TARGET_LOSS),
            precision: self.precision.unwrap_or_default(),
            loss_scale: self.loss_scale,
            seed: self.seed.unwrap_or(DEFAULT_SEED),
            variants,
        })
    }
}

/// Settles each configuration's update rule: an entry's `@OPTIMIZER`, else `global`
/// (`--optimizer`). When every configuration ends up with the same rule, that rule becomes the
/// comparison's and the entries name none (so `--compare relu@adam` is `--compare relu
/// --optimizer adam`, byte for byte); when they differ, every entry names its own, and its
/// label shows it. Returns the comparison's rule and the configurations.
pub(crate) fn resolve_optimizers(
    global: OptimizerName,
    mut variants: Vec<Variant>,
) -> (OptimizerName, Vec<Variant>) {
    let own = |v: &Variant| v.optimizer.unwrap_or(global);
    let first = variants.first().map_or(global, own);
    let shared = variants.iter().all(|v| own(v) == first);
    for v in &mut variants {
        v.optimizer = (!shared).then(|| own(v));
    }
    (if shared { first } else { global }, variants)
}

/// Help footer for `train`: the datasets and the comparison presets.
pub(crate) fn train_help() -> String {
    let presets: Vec<String> = super::variant::PRESETS
        .iter()
        // ", " between entries: clap wraps the help at spaces, and a list is read either way.
        .map(|(name, list, what)| format!("  {name}: {what}\n      {}", list.replace(',', ", ")))
        .collect();
    format!(
        "Comparison presets ({}):\n{}\n\nExamples:\n  gradtutor train\n  gradtutor train \
         --compare \"tanh/xavier-normal,tanh/xavier-normal+bn\" --dataset circles\n  gradtutor \
         train --activation tanh --init normal:1 --lr 0.1 --clip-norm 1\n  gradtutor train \
         --compare optimizers --depth 10",
        preset_names(),
        presets.join("\n")
    )
}
