//! The scalar type the engine is generic over: `f32` or `f64`.
//!
//! Transcendental functions go through `libm` (a pure-Rust port of musl's libm), so the
//! same seed gives the same bits whatever C library the machine has.

use ndarray::{LinalgScalar, ScalarOperand};
use num_traits::Float;
use std::fmt::{Debug, Display};
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

/// A floating-point type the engine can run in.
pub trait Real:
    LinalgScalar
    + Float
    + ScalarOperand
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Debug
    + Display
    + Default
    + Send
    + Sync
    + 'static
{
    /// `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// Round an `f64` to this type.
    fn of(x: f64) -> Self;
    /// Widen to `f64` (exact for both types).
    fn as_f64(self) -> f64;
    /// eˣ, portable.
    fn exp_p(self) -> Self;
    /// tanh x, portable.
    fn tanh_p(self) -> Self;
    /// erf x, portable.
    fn erf_p(self) -> Self;
    /// ln x, portable.
    fn ln_p(self) -> Self;
    /// √x, portable (IEEE-exact everywhere, but kept here for symmetry).
    fn sqrt_p(self) -> Self;
}

macro_rules! real_impl {
    ($t:ty, $name:literal, $exp:path, $tanh:path, $erf:path, $ln:path, $sqrt:path) => {
        impl Real for $t {
            const NAME: &'static str = $name;
            #[inline]
            fn of(x: f64) -> Self {
                x as $t
            }
            #[inline]
            fn as_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn exp_p(self) -> Self {
                $exp(self)
            }
            #[inline]
            fn tanh_p(self) -> Self {
                $tanh(self)
            }
            #[inline]
            fn erf_p(self) -> Self {
                $erf(self)
            }
            #[inline]
            fn ln_p(self) -> Self {
                $ln(self)
            }
            #[inline]
            fn sqrt_p(self) -> Self {
                $sqrt(self)
            }
        }
    };
}

real_impl!(
    f32,
    "f32",
    expf,
    libm::tanhf,
    libm::erff,
    libm::logf,
    libm::sqrtf
);
real_impl!(
    f64,
    "f64",
    libm::exp,
    libm::tanh,
    libm::erf,
    libm::log,
    libm::sqrt
);

/// eˣ in f32, bit for bit `libm::expf` (FreeBSD's e_expf.c): x = k·ln2 + r, |r| ≤ ½ln2,
/// eʳ from a rational approximation, times 2ᵏ. Written out so that it inlines into the
/// activation loops and picks k by selects rather than branches; inputs outside
/// 2⁻¹⁴ < |x| < 87.34 (tiny, overflowing, underflowing, NaN) go to `libm::expf` itself.
#[inline]
fn expf(x: f32) -> f32 {
    const LN2_HI: f32 = f32::from_bits(0x3f31_7200);
    const LN2_LO: f32 = f32::from_bits(0x35bf_be8e);
    const INV_LN2: f32 = f32::from_bits(0x3fb8_aa3b);
    const P1: f32 = f32::from_bits(0x3e2a_aa8f);
    const P2: f32 = f32::from_bits(0xbb35_5215);
    let hx = x.to_bits() & 0x7fff_ffff;
    if !(0x3900_0000 < hx && hx < 0x42ae_ac50) {
        return libm::expf(x);
    }
    let negative = x.is_sign_negative();
    // k: round(x/ln2) above 1.5·ln2, ±1 above ½ln2, else 0 (then hi = x and lo = 0 exactly).
    let half = if negative { -0.5 } else { 0.5 };
    let round = (INV_LN2 * x + half) as i32;
    let one = if negative { -1 } else { 1 };
    let k = match (hx > 0x3f85_1592, hx > 0x3eb1_7218) {
        (true, _) => round,
        (false, true) => one,
        (false, false) => 0,
    };
    let kf = k as f32;
    let hi = x - kf * LN2_HI;
    let lo = kf * LN2_LO;
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (P1 + rr * P2);
    let y = 1.0 + (r * c / (2.0 - c) - lo + hi);
    // |k| ≤ 126 here, so 2ᵏ is a normal float and one product scales exactly as scalbnf.
    y * f32::from_bits(((0x7f + k) as u32) << 23)
}

#[cfg(test)]
mod tests {
    /// Every 61st bit pattern (70 million floats, both signs, all exponents, NaNs) and the
    /// edges of each branch: the same bits as `libm::expf`. `cargo test -- --ignored` runs
    /// all 2³² patterns.
    #[test]
    fn expf_is_libm_expf_bit_for_bit() {
        let edges = [
            0x3900_0000u32,
            0x3900_0001,
            0x3eb1_7218,
            0x3eb1_7219,
            0x3f85_1592,
            0x3f85_1593,
            0x42ae_ac4f,
            0x42ae_ac50,
            0x42b1_7218,
            0x42cf_f1b5,
            0x7f80_0000,
            0x7fc0_0000,
        ];
        let check = |bits: u32| {
            let x = f32::from_bits(bits);
            assert_eq!(
                super::expf(x).to_bits(),
                libm::expf(x).to_bits(),
                "e^{x:e} ({bits:#x})"
            );
        };
        for e in edges {
            for b in [e, e | 0x8000_0000] {
                check(b);
            }
        }
        (0..=u32::MAX).step_by(61).for_each(check);
    }

    #[test]
    #[ignore = "all 2³² floats: about 30 s with --release"]
    fn expf_is_libm_expf_for_every_float() {
        for bits in 0..=u32::MAX {
            let x = f32::from_bits(bits);
            assert_eq!(
                super::expf(x).to_bits(),
                libm::expf(x).to_bits(),
                "{bits:#x}"
            );
        }
    }
}
