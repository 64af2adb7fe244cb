//! The configurations `train --compare` sets side by side:
//! `ACTIVATION[/INIT][+bn][+residual][@OPTIMIZER]`, separated by commas, or the name of a preset
//! list.

use super::OptimizerName;
use crate::format::escape;
use crate::nn::{Activation, Block, Init, Placement};
use anyhow::{Result, anyhow, bail};
use clap::ValueEnum;
use serde::Serialize;
use std::fmt;

/// One configuration of a comparison; everything else is shared.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Variant {
    pub activation: Activation,
    pub init: Init,
    pub batch_norm: bool,
    pub residual: bool,
    /// Layer norm, Post-/Pre-norm placement, branch scale (`+ln`, `+post`, `+pre`,
    /// `+scale:X`).
    #[serde(skip_serializing_if = "Block::is_plain")]
    pub block: Block,
    /// Its own update rule (`@adam`); `None`: the comparison's `--optimizer`. After
    /// [`crate::train::settings::TrainSettings::config`], `Some` exactly when the comparison's
    /// configurations differ in optimizer, so the label shows it exactly then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<OptimizerName>,
}

/// Named comparisons: (name, list, what it shows).
pub(crate) const PRESETS: &[(&str, &str, &str)] = &[
    (
        "gradient-flow",
        "sigmoid/xavier-normal,relu/he-normal,sigmoid/xavier-normal+bn,sigmoid/xavier-normal+residual",
        "a deep sigmoid network against ReLU with He init, and against itself with batch norm \
         or with skip connections (the default)",
    ),
    (
        "optimizers",
        "sigmoid/xavier-normal@sgd,sigmoid/xavier-normal@momentum,sigmoid/xavier-normal@adam",
        "the deep sigmoid network with SGD, momentum and Adam: Adam's per-weight step size moves \
         even the first layer that the other two leave frozen, which is not the same as learning",
    ),
    (
        "activations",
        "sigmoid/xavier-normal,tanh/xavier-normal,relu/he-normal,gelu/he-normal",
        "four activations, each with its usual initializer",
    ),
    (
        "init",
        "relu/normal:0.01,relu/xavier-normal,relu/he-normal,relu/normal:1",
        "ReLU with weights too small, Xavier, He, and weights far too large",
    ),
    (
        "digits",
        "sigmoid/xavier-normal,relu/he-normal,sigmoid/xavier-normal+bn",
        "the seed's model with sigmoid and Xavier, with ReLU and He, and with sigmoid and batch \
         norm (the default on --dataset digits, whose layers differ in width, so skips have \
         nowhere to go)",
    ),
];

/// The default comparison's name.
pub(crate) const DEFAULT_PRESET: &str = "gradient-flow";
/// The default comparison on `--dataset digits`.
pub(crate) const DIGITS_PRESET: &str = "digits";

impl Variant {
    /// The initializer a variant gets when its entry names none.
    pub fn default_init(activation: Activation) -> Init {
        match activation {
            Activation::Relu | Activation::LeakyRelu(_) | Activation::Elu(_) | Activation::Gelu => {
                Init::HeNormal
            }
            Activation::Selu => Init::LecunNormal,
            _ => Init::XavierNormal,
        }
    }

    /// Parses a list (`sigmoid/xavier-normal,relu+bn@adam`) or a preset name.
    pub fn parse_list(text: &str) -> Result<Vec<Variant>> {
        let text = text.trim();
        let list = PRESETS
            .iter()
            .find(|(name, _, _)| name.eq_ignore_ascii_case(text))
            .map_or(text, |(_, list, _)| list);
        let variants = list
            .split(',')
            .map(|entry| entry.parse::<Variant>())
            .collect::<Result<Vec<_>>>()?;
        if variants.is_empty() {
            bail!("--compare lists no configuration");
        }
        Ok(variants)
    }
}

impl std::str::FromStr for Variant {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        // Quoted for messages: control characters escaped, a long entry shortened.
        let entry = escape(text, 60);
        let (text, optimizer) = match text.split_once('@') {
            None => (text, None),
            Some((_, rest)) if rest.contains('@') => bail!(
                "'@' appears twice in --compare entry '{entry}'; a configuration names one \
                 optimizer"
            ),
            Some((body, name)) => (body, Some(name.trim())),
        };
        let mut parts = text.split('+');
        let head = parts.next().unwrap_or_default().trim();
        if head.is_empty() {
            bail!(
                "'{entry}' in --compare names no activation; write ACTIVATION[/INIT][+bn]\
                 [+residual][@OPTIMIZER] (e.g. relu/he-normal+bn@adam), or a preset: {}",
                preset_names()
            );
        }
        let (act, init) = match head.split_once('/') {
            Some((a, i)) => (a, Some(i)),
            None => (head, None),
        };
        let activation: Activation = act
            .parse()
            .map_err(|e: String| anyhow!("in --compare entry '{entry}': {e}"))?;
        let init = match init {
            Some(i) => i
                .parse()
                .map_err(|e: String| anyhow!("in --compare entry '{entry}': {e}"))?,
            None => Variant::default_init(activation),
        };
        let mut v = Variant {
            activation,
            init,
            batch_norm: false,
            residual: false,
            block: Block::default(),
            optimizer: None,
        };
        for flag in parts {
            let already = |on: bool| {
                if on {
                    bail!(
                        "'+{}' appears twice in --compare entry '{entry}'",
                        escape(flag.trim(), 20)
                    );
                }
                Ok(true)
            };
            let b = &mut v.block;
            match flag.trim().to_ascii_lowercase().as_str() {
                "bn" | "batchnorm" | "batch-norm" => v.batch_norm = already(v.batch_norm)?,
                "residual" | "res" | "skip" => v.residual = already(v.residual)?,
                "ln" | "layernorm" | "layer-norm" => b.layer_norm = already(b.layer_norm)?,
                p @ ("post" | "pre") => {
                    already(b.placement != Placement::Inside)?;
                    b.placement = match p {
                        "post" => Placement::Post,
                        _ => Placement::Pre,
                    };
                }
                other if other.starts_with("scale:") => {
                    already(b.branch_scale.is_some())?;
                    let x: f64 = other["scale:".len()..].trim().parse().ok().filter(|x: &f64| x.is_finite()).ok_or_else(|| {
                        anyhow!("'+{}' in --compare entry '{entry}' needs a number, e.g. +scale:0.2 (0: a learned α from 0)", escape(other, 20))
                    })?;
                    b.branch_scale = Some(x);
                }
                other => bail!(
                    "unknown option '+{}' in --compare entry '{entry}'; the options are +bn \
                     and +residual (and +ln, +post, +pre, +scale:X)",
                    escape(other, 20)
                ),
            }
        }
        // +post and +pre put a norm around a skip: they imply the skip.
        if v.block.placement != Placement::Inside {
            v.residual = true;
        }
        let norm = v.batch_norm || v.block.layer_norm;
        if v.batch_norm && v.block.layer_norm {
            bail!("--compare entry '{entry}' has +bn and +ln; a layer has one norm or the other");
        }
        if v.block.placement != Placement::Inside && !norm {
            bail!(
                "+post and +pre say where the norm sits in --compare entry '{entry}'; add +ln or +bn"
            );
        }
        if v.block.branch_scale.is_some() && !v.residual {
            bail!(
                "+scale multiplies residual branches in --compare entry '{entry}'; add +residual"
            );
        }
        if let Some(name) = optimizer {
            v.optimizer = Some(parse_optimizer(name, &entry)?);
        }
        Ok(v)
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.activation, self.init)?;
        if self.batch_norm {
            f.write_str("+bn")?;
        }
        if self.block.layer_norm {
            f.write_str("+ln")?;
        }
        match self.block.placement {
            Placement::Inside if self.residual => f.write_str("+residual")?,
            Placement::Inside => {}
            Placement::Post => f.write_str("+post")?,
            Placement::Pre => f.write_str("+pre")?,
        }
        if let Some(x) = self.block.branch_scale {
            write!(f, "+scale:{x}")?;
        }
        if let Some(o) = self.optimizer {
            write!(f, "@{o}")?;
        }
        Ok(())
    }
}

/// The preset names, for messages.
pub(crate) fn preset_names() -> String {
    PRESETS
        .iter()
        .map(|(n, _, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The optimizer after an entry's `@`, by the names `--optimizer` takes.
fn parse_optimizer(name: &str, entry: &str) -> Result<OptimizerName> {
    let names = || {
        OptimizerName::value_variants()
            .iter()
            .map(|o| o.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if name.is_empty() {
        bail!(
            "--compare entry '{entry}' names no optimizer after '@'; the optimizers are {}",
            names()
        );
    }
    <OptimizerName as ValueEnum>::from_str(name, true).map_err(|_| {
        anyhow!(
            "unknown optimizer '{}' in --compare entry '{entry}'; the optimizers are {} \
             (write it last: ACTIVATION[/INIT][+bn][+residual][@OPTIMIZER])",
            escape(name, 20),
            names()
        )
    })
}
