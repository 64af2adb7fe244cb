//! Reduced-precision storage and loss scaling, as mixed-precision training does them: the
//! arithmetic runs in f32, and every tensor a layer hands on (activations, weights, backprop
//! signals, weight gradients) is rounded to f16 or bf16 (`half` crate: round to nearest,
//! ties to even; subnormals kept; beyond the largest finite value, ±∞).

use super::real::Real;
use ndarray::{Array, Dimension};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A 16-bit storage format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// IEEE binary16: 5 exponent bits, 10 mantissa bits; finite up to 65504, smallest
    /// subnormal 2⁻²⁴ ≈ 5.96e−8.
    F16,
    /// bfloat16: f32's 8 exponent bits, 7 mantissa bits; finite up to ≈ 3.39e38, smallest
    /// subnormal 2⁻¹³³ ≈ 9.2e−41.
    Bf16,
}

impl Storage {
    /// x rounded to the format and widened back. Rounded from f32, which f16/bf16 runs
    /// compute in (exact there; an f64 would be rounded twice). Not through `half`'s
    /// `from_f64`: its bf16 version rounds 0x02008006 (as f32 bits) down, not to nearest.
    #[inline]
    pub fn round<F: Real>(self, x: F) -> F {
        let x = x.as_f64() as f32;
        F::of(f64::from(match self {
            Storage::F16 => half::f16::from_f32(x).to_f32(),
            Storage::Bf16 => half::bf16::from_f32(x).to_f32(),
        }))
    }

    /// Rounds every entry of `a` in place.
    pub fn round_all<F: Real, D: Dimension>(self, a: &mut Array<F, D>) {
        a.mapv_inplace(|v| self.round(v));
    }

    /// The smallest positive value of the format (a subnormal): half of it rounds to 0.
    pub fn smallest(self) -> f64 {
        match self {
            Storage::F16 => half::f16::from_bits(1).to_f64(),
            Storage::Bf16 => half::bf16::from_bits(1).to_f64(),
        }
    }

    /// The largest finite value of the format.
    pub fn max_finite(self) -> f64 {
        match self {
            Storage::F16 => half::f16::MAX.to_f64(),
            Storage::Bf16 => half::bf16::MAX.to_f64(),
        }
    }
}

/// The growth interval of `torch.cuda.amp.GradScaler` (and of `--loss-scale dynamic`).
pub const DEFAULT_GROWTH_INTERVAL: usize = 2000;
/// The scale dynamic loss scaling starts from, 2¹⁶ (GradScaler's `init_scale`).
pub const DYNAMIC_START: f64 = 65536.0;

/// Loss scaling: ∂L/∂z is multiplied by S before backprop, the weight gradients divided by S
/// (in f32) after, so that small gradients stay above the storage format's underflow.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum LossScale {
    /// A fixed S.
    Static(f64),
    /// GradScaler's rule: start at 2¹⁶; a step whose gradients hold inf or NaN is skipped and
    /// S halves; after `interval` finite steps in a row S doubles.
    Dynamic { interval: usize },
}

impl fmt::Display for LossScale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LossScale::Static(s) => write!(f, "{s}"),
            LossScale::Dynamic {
                interval: DEFAULT_GROWTH_INTERVAL,
            } => f.write_str("dynamic"),
            LossScale::Dynamic { interval } => write!(f, "dynamic:{interval}"),
        }
    }
}

impl FromStr for LossScale {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let help = "--loss-scale takes a positive number (static), `dynamic` or `dynamic:N` \
                    (grow after N finite steps)";
        let t = s.trim().to_ascii_lowercase();
        if let Some(rest) = t.strip_prefix("dynamic") {
            let interval = match rest.strip_prefix(':') {
                None if rest.is_empty() => DEFAULT_GROWTH_INTERVAL,
                Some(n) => n
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("{help}; N must be a whole number ≥ 1"))?,
                None => return Err(help.into()),
            };
            return Ok(LossScale::Dynamic { interval });
        }
        match t.parse::<f64>() {
            Ok(x) if x > 0.0 && x.is_finite() => Ok(LossScale::Static(x)),
            _ => Err(format!(
                "{help} (got '{}')",
                s.chars().take(40).collect::<String>()
            )),
        }
    }
}

impl TryFrom<String> for LossScale {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<LossScale> for String {
    fn from(l: LossScale) -> String {
        l.to_string()
    }
}

/// The state of loss scaling across steps (GradScaler's `update`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scaler {
    pub scale: f64,
    /// `None` for a static scale, which never changes.
    interval: Option<usize>,
    /// Finite steps since the scale last changed.
    good: usize,
}

impl Scaler {
    pub fn new(rule: LossScale) -> Self {
        let (scale, interval) = match rule {
            LossScale::Static(s) => (s, None),
            LossScale::Dynamic { interval } => (DYNAMIC_START, Some(interval)),
        };
        Scaler {
            scale,
            interval,
            good: 0,
        }
    }

    /// After a step whose scaled gradients were `finite` or not: whether to take the step.
    /// Dynamic: non-finite → skip, S ← S/2; the `interval`-th finite step in a row → S ← 2S.
    /// Static: always step (a non-finite gradient then reaches the weights).
    pub fn update(&mut self, finite: bool) -> bool {
        let Some(interval) = self.interval else {
            return true;
        };
        if !finite {
            self.scale *= 0.5;
            self.good = 0;
            return false;
        }
        self.good += 1;
        if self.good == interval {
            self.scale *= 2.0;
            self.good = 0;
        }
        true
    }
}
