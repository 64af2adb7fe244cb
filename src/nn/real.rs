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
    libm::expf,
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
