//! The maximal update parameterization µP (Yang & Hu 2021, "Feature Learning in
//! Infinite-Width Neural Networks"; Yang et al. 2022, "Tensor Programs V") for SGD, beside
//! the standard parameterization (SP) it is compared with.
//!
//! µP here is Tensor Programs V's Table 8, the form the authors' `mup` package implements
//! (`MuReadout`, `MuSGD`), measured against a base width n₀ with m = n/n₀ (at n = n₀ µP is SP):
//!
//! | SGD          | input weights & all biases | output weights       | hidden weights |
//! |--------------|----------------------------|----------------------|----------------|
//! | init. var.   | 1/fan_in                   | 1  (SP: 1/fan_in)    | 1/fan_in       |
//! | multiplier   | 1                          | 1/fan_in  (SP: 1)    | 1              |
//! | SGD LR       | fan_out  (SP: 1)           | fan_in  (SP: 1)      | 1              |
//!
//! Relative to n₀: the output kernel drawn by the initializer is multiplied by √m (variance
//! ×m, so it no longer shrinks with width), the output layer reads (1/m)·a, and η is
//! multiplied by m for the input kernel, the hidden biases and the output kernel; hidden
//! kernels and the output bias (fan_out: the classes, not a width) keep η. Table 3 of the
//! same paper is the same parameterization with the multiplier moved into the init and the
//! learning rate (output init var 1/fan_in², SGD LR 1/fan_in): for SGD the two train alike.
//! Adam's table differs (hidden LR 1/fan_in, output and input LR 1); only SGD is done here.

use super::network::Network;
use super::optim::OptimizerState;
use super::real::Real;
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How initialization and learning rate depend on width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Parameterization {
    /// The initializer's variance (∝ 1/fan_in) and one η for every tensor.
    Standard,
    /// µP for SGD (Tensor Programs V, Table 8), against a base width.
    Mup,
}

impl fmt::Display for Parameterization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.to_possible_value().expect("no skipped variants");
        f.write_str(v.get_name())
    }
}

impl Parameterization {
    /// The name prose and tables use: `SP`, `µP`.
    pub fn short(self) -> &'static str {
        match self {
            Parameterization::Standard => "SP",
            Parameterization::Mup => "µP",
        }
    }
}

/// What a parameterization changes in a plain MLP of `depth` hidden layers of one width.
#[derive(Clone, Debug, PartialEq)]
pub struct Rules {
    /// Factor on the output kernel as the initializer drew it (µP: √m).
    pub output_init: f64,
    /// The output layer's multiplier c, z = (c·a) W + b (µP: 1/m); `None` for SP.
    pub head_mult: Option<f64>,
    /// The factor on η of every parameter tensor, in [`Network::params_mut`]'s order (W, b
    /// per hidden layer, then the output layer's W, b); empty for SP.
    pub lr_scale: Vec<f64>,
}

impl Rules {
    /// The rules of `p` for `depth` hidden layers of `width` units, against `base` units.
    pub fn of(p: Parameterization, depth: usize, width: usize, base: usize) -> Rules {
        match p {
            Parameterization::Standard => Rules {
                output_init: 1.0,
                head_mult: None,
                lr_scale: Vec::new(),
            },
            Parameterization::Mup => {
                let m = width as f64 / base.max(1) as f64;
                let mut lr_scale = Vec::with_capacity(2 * depth + 2);
                for l in 0..depth {
                    // The input kernel's fan_out is the width; a hidden kernel's ratio
                    // fan_out/fan_in is 1. Every hidden bias has fan_out = the width.
                    lr_scale.push(if l == 0 { m } else { 1.0 });
                    lr_scale.push(m);
                }
                // The output kernel's fan_in is the width; its bias's fan_out, the classes.
                lr_scale.extend([m, 1.0]);
                Rules {
                    output_init: libm::sqrt(m),
                    head_mult: Some(1.0 / m),
                    lr_scale,
                }
            }
        }
    }

    /// Applies the rules to a network just built with the standard initializer, and to its
    /// optimizer.
    pub fn apply<F: Real>(&self, net: &mut Network<F>, opt: &mut OptimizerState<F>) {
        if self.output_init != 1.0 {
            let s = F::of(self.output_init);
            net.output.w.mapv_inplace(|w| w * s);
        }
        net.head_mult = self.head_mult;
        opt.lr_scale = self.lr_scale.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::{Parameterization, Rules};

    /// Table 8 at m = 4 for 2 hidden layers: η ×4 for the input kernel, both hidden biases and
    /// the output kernel, ×1 for the hidden kernel and the output bias; the output kernel ×2
    /// (variance ×4) and read through 1/4. At the base width µP is SP's numbers.
    #[test]
    fn the_table_at_four_times_the_base_width() {
        let r = Rules::of(Parameterization::Mup, 2, 128, 32);
        assert_eq!(r.lr_scale, [4.0, 4.0, 1.0, 4.0, 4.0, 1.0]);
        assert_eq!(r.output_init, 2.0);
        assert_eq!(r.head_mult, Some(0.25));
        let base = Rules::of(Parameterization::Mup, 3, 32, 32);
        assert_eq!(base.lr_scale, [1.0; 8]);
        assert_eq!((base.output_init, base.head_mult), (1.0, Some(1.0)));
        let sp = Rules::of(Parameterization::Standard, 2, 128, 32);
        assert!(sp.lr_scale.is_empty() && sp.head_mult.is_none());
    }
}
