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

    /// Where rounding to nearest starts giving ∞: the largest finite value plus half its
    /// spacing, 2^(e_max)·(2 − 2^(−p)) for p mantissa bits (65520 for f16).
    pub fn overflow_threshold(self) -> f64 {
        let (max, mantissa_bits) = match self {
            Storage::F16 => (half::f16::MAX.to_f64(), 10),
            Storage::Bf16 => (half::bf16::MAX.to_f64(), 7),
        };
        // max = 2^e·(2 − 2^(−p)); its spacing is 2^(e − p), and max + spacing = 2^(e+1).
        let spacing = max / (2.0 - libm::exp2(-f64::from(mantissa_bits)))
            * libm::exp2(-f64::from(mantissa_bits));
        max + spacing / 2.0
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
            LossScale::Static(s) => write!(f, "{}", crate::format::echo(s)),
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

/// 16-bit rounding against hand-picked values and the `half` crate, and the loss scaler's rule.
#[cfg(test)]
mod tests {
    use super::*;

    fn p2(e: i32) -> f64 {
        2f64.powi(e)
    }

    // Catches: rounding that truncates, that rounds ties away from zero, that flushes subnormals,
    // or that saturates at the largest finite value instead of overflowing to inf.
    #[test]
    fn f16_rounding_is_ties_to_even_with_subnormals_and_overflow() {
        let r = |x: f64| Storage::F16.round(x);
        // Ties between 1 and 1 + 2⁻¹⁰ go to the even mantissa.
        assert_eq!(r(1.0 + p2(-11)), 1.0);
        assert_eq!(r(1.0 + 3.0 * p2(-11)), 1.0 + p2(-9));
        assert_eq!(r(1.0 + p2(-11) + p2(-20)), 1.0 + p2(-10));
        // Subnormals: 2⁻²⁴ is the smallest; half of it is a tie that goes to 0.
        assert_eq!(r(p2(-24)), p2(-24));
        assert_eq!(r(3.0 * p2(-24)), 3.0 * p2(-24));
        assert_eq!(r(p2(-25)), 0.0);
        assert_eq!(r(1.5 * p2(-25)), p2(-24));
        assert_eq!(r(-p2(-26)), 0.0);
        assert_eq!(Storage::F16.smallest(), p2(-24));
        // The largest finite value, and the tie above it that overflows.
        assert_eq!(r(65504.0), 65504.0);
        assert_eq!(r(65519.0), 65504.0);
        assert_eq!(r(65520.0), f64::INFINITY);
        assert_eq!(r(-65520.0), f64::NEG_INFINITY);
        assert_eq!(Storage::F16.max_finite(), 65504.0);
        assert_eq!(Storage::F16.overflow_threshold(), 65520.0);
        assert_eq!(r(Storage::F16.overflow_threshold()), f64::INFINITY);
        let bf = |v: f64| half::bf16::from_f64(v).to_f64();
        let t = Storage::Bf16.overflow_threshold();
        assert_eq!(bf(t), f64::INFINITY);
        assert_eq!(bf(t * (1.0 - 1e-6)), Storage::Bf16.max_finite());
        assert!(r(f64::NAN).is_nan());
    }

    // Catches: bf16 treated as f16 (range) or as f32 (precision).
    #[test]
    fn bf16_rounding_keeps_f32s_range_and_7_mantissa_bits() {
        let r = |x: f64| Storage::Bf16.round(x);
        assert_eq!(r(1.0 + p2(-8)), 1.0);
        assert_eq!(r(1.0 + 3.0 * p2(-8)), 1.0 + p2(-6));
        assert_eq!(r(1e-30), half::bf16::from_f32(1e-30).to_f64());
        assert!(r(1e-30) > 0.0);
        assert_eq!(r(p2(-133)), p2(-133));
        assert_eq!(r(p2(-134)), 0.0);
        assert_eq!(r(65520.0), 65536.0);
        assert_eq!(r(f32::MAX as f64), f64::INFINITY);
        assert_eq!(Storage::Bf16.smallest(), p2(-133));
        // Just above a tie: 0x0200_8006 rounds up to 0x0201 (half's bf16::from_f64 rounds it down).
        let x = f32::from_bits(0x0200_8006);
        assert_eq!(Storage::Bf16.round(x).to_bits(), 0x0201_0000);
    }

    // Catches: a rounding of its own that disagrees with the `half` crate on any bit pattern.
    #[test]
    fn rounding_agrees_with_half_on_a_sweep_of_f32_bit_patterns() {
        // Every 4099th f32 bit pattern: all exponents, mantissas with every low-bit pattern.
        for bits in (0..=u32::MAX).step_by(4099) {
            let x = f32::from_bits(bits);
            let want16 = half::f16::from_f32(x).to_f32();
            let want_b = half::bf16::from_f32(x).to_f32();
            let (got16, got_b) = (Storage::F16.round(x), Storage::Bf16.round(x));
            if x.is_nan() {
                assert!(got16.is_nan() && got_b.is_nan());
            } else {
                assert_eq!(got16.to_bits(), want16.to_bits(), "f16 of {x:e}");
                assert_eq!(got_b.to_bits(), want_b.to_bits(), "bf16 of {x:e}");
            }
        }
    }

    // Catches: a scaler that grows too early or late, keeps counting across an overflow, takes a
    // step with inf gradients, or changes a static scale.
    #[test]
    fn grad_scaler_rule_step_by_step() {
        let mut s = Scaler::new(LossScale::Dynamic { interval: 3 });
        let mut trace = Vec::new();
        for finite in [
            true, true, true, false, true, true, false, false, true, true, true,
        ] {
            let took = s.update(finite);
            trace.push((took, s.scale));
        }
        let k = 65536.0;
        assert_eq!(
            trace,
            vec![
                (true, k),
                (true, k),
                (true, 2.0 * k), // third finite step in a row: grow
                (false, k),      // overflow: skip and halve
                (true, k),
                (true, k),
                (false, k / 2.0), // the count restarted: no growth before this overflow
                (false, k / 4.0),
                (true, k / 4.0),
                (true, k / 4.0),
                (true, k / 2.0),
            ]
        );
        let mut fixed = Scaler::new(LossScale::Static(128.0));
        assert!(fixed.update(false) && fixed.update(true));
        assert_eq!(fixed.scale, 128.0);
    }

    // Catches: flags that parse loosely (zero, negative, unknown words).
    #[test]
    fn loss_scale_parses_numbers_and_dynamic() {
        assert_eq!("1024".parse(), Ok(LossScale::Static(1024.0)));
        assert_eq!("dynamic".parse(), Ok(LossScale::Dynamic { interval: 2000 }));
        assert_eq!(
            "dynamic:50".parse(),
            Ok(LossScale::Dynamic { interval: 50 })
        );
        for bad in [
            "0",
            "-4",
            "inf",
            "dyn",
            "dynamic:0",
            "dynamic:x",
            "dynamicx",
            "",
        ] {
            assert!(bad.parse::<LossScale>().is_err(), "{bad}");
        }
        assert_eq!(
            LossScale::Dynamic { interval: 50 }.to_string(),
            "dynamic:50"
        );
    }
}
