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
    /// eˣ of every element in place, the same bits as [`Real::exp_p`] of each.
    fn exp_all(xs: &mut [Self]);
    /// tanh x, portable.
    fn tanh_p(self) -> Self;
    /// tanh of every element in place, the same bits as [`Real::tanh_p`] of each.
    fn tanh_all(xs: &mut [Self]);
    /// erf x, portable.
    fn erf_p(self) -> Self;
    /// ln x, portable.
    fn ln_p(self) -> Self;
    /// √x: IEEE 754 rounds it correctly, so std's (one instruction, which vectorizes) gives
    /// the same bits everywhere.
    fn sqrt_p(self) -> Self;
}

macro_rules! real_impl {
    ($t:ty, $name:literal, $exp:path, $exp_all:path, $tanh:path, $tanh_all:path, $erf:path, $ln:path, $sqrt:path) => {
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
            fn exp_all(xs: &mut [Self]) {
                $exp_all(xs)
            }
            #[inline]
            fn tanh_p(self) -> Self {
                $tanh(self)
            }
            fn tanh_all(xs: &mut [Self]) {
                $tanh_all(xs)
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
    expf_all,
    tanhf,
    tanhf_all,
    libm::erff,
    libm::logf,
    f32::sqrt
);
real_impl!(
    f64,
    "f64",
    exp,
    exp_all,
    libm::tanh,
    tanh_all,
    libm::erf,
    libm::log,
    f64::sqrt
);

/// eˣ in f64, bit for bit `libm::exp` (FreeBSD's e_exp.c), as [`expf`] is `libm::expf`:
/// outside 2⁻²⁸ < |x| < 708.39 it is `libm::exp` itself.
#[inline]
fn exp(x: f64) -> f64 {
    or_exact(x, exp_core, libm::exp)
}

/// eˣ of every element, in place, the same bits as [`exp`], a block at a time.
pub fn exp_all(xs: &mut [f64]) {
    by_blocks(xs, exp_core, exp);
}

/// [`exp`]'s main path, without a branch, and whether `x` is inside its range (outside,
/// the value is meaningless). The ranges compare the high 32 bits of |x|, as e_exp.c does.
#[inline(always)]
fn exp_core(x: f64) -> (f64, bool) {
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    const INV_LN2: f64 = f64::from_bits(0x3ff7_1547_652b_82fe);
    const P1: f64 = f64::from_bits(0x3fc5_5555_5555_553e);
    const P2: f64 = f64::from_bits(0xbf66_c16c_16be_bd93);
    const P3: f64 = f64::from_bits(0x3f11_566a_af25_de2c);
    const P4: f64 = f64::from_bits(0xbebb_bd41_c5d2_6bf1);
    const P5: f64 = f64::from_bits(0x3e66_3769_72be_a4d0);
    let hx = (x.to_bits() >> 32) as u32 & 0x7fff_ffff;
    let inside = 0x3e30_0000 < hx && hx < 0x4086_232b;
    let negative = x.is_sign_negative();
    // k: round(x/ln2) from 1.5·ln2 on, ±1 above ½ln2, else 0 (then hi = x and lo = 0 exactly).
    let half = if negative { -0.5 } else { 0.5 };
    let round = (INV_LN2 * x + half) as i32;
    let one = if negative { -1 } else { 1 };
    let k = if hx >= 0x3ff0_a2b2 {
        round
    } else if hx > 0x3fd6_2e42 {
        one
    } else {
        0
    };
    let kf = k as f64;
    let hi = x - kf * LN2_HI;
    let lo = kf * LN2_LO;
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (P1 + rr * (P2 + rr * (P3 + rr * (P4 + rr * P5))));
    let y = 1.0 + (r * c / (2.0 - c) - lo + hi);
    // Inside the range |k| ≤ 1022, so 2ᵏ is a normal double and one product scales exactly
    // as scalbn does.
    let scale = f64::from_bits((0x3ff_i64.wrapping_add(k as i64) as u64) << 52);
    (y * scale, inside)
}

/// eˣ in f32, bit for bit `libm::expf` (FreeBSD's e_expf.c): x = k·ln2 + r, |r| ≤ ½ln2,
/// eʳ from a rational approximation, times 2ᵏ. Written out so that it inlines into the
/// activation loops; inputs outside 2⁻¹⁴ < |x| < 87.34 (tiny, overflowing, underflowing,
/// NaN) go to `libm::expf` itself.
#[inline]
fn expf(x: f32) -> f32 {
    or_exact(x, expf_core, libm::expf)
}

/// eˣ of every element, in place, the same bits as [`expf`], a block at a time.
pub fn expf_all(xs: &mut [f32]) {
    by_blocks(xs, expf_core, expf);
}

/// `fast(x)`'s value where `fast` says it holds, else `exact(x)`: [`by_blocks`] for one
/// element.
#[inline(always)]
fn or_exact<T: Copy>(x: T, fast: impl Fn(T) -> (T, bool), exact: impl Fn(T) -> T) -> T {
    match fast(x) {
        (y, true) => y,
        (_, false) => exact(x),
    }
}

/// `exact` of every element, in place, a block at a time: `fast`, whose branch-free body the
/// compiler turns into vector instructions, over the whole block, and `exact` one element
/// at a time again for a block that holds an input outside `fast`'s range (where `fast`
/// says false).
#[inline(always)]
fn by_blocks<T: Copy + Default>(
    xs: &mut [T],
    fast: impl Fn(T) -> (T, bool),
    exact: impl Fn(T) -> T,
) {
    const BLOCK: usize = 16;
    let mut out = [T::default(); BLOCK];
    for block in xs.chunks_mut(BLOCK) {
        let out = &mut out[..block.len()];
        let mut inside = true;
        for (y, &x) in out.iter_mut().zip(block.iter()) {
            let (v, ok) = fast(x);
            *y = v;
            inside &= ok;
        }
        match inside {
            true => block.copy_from_slice(out),
            false => block.iter_mut().for_each(|x| *x = exact(*x)),
        }
    }
}

/// [`expf`]'s main path, without a branch, and whether `x` is inside its range
/// 2⁻¹⁴ < |x| < 87.34 (outside, the value is meaningless).
#[inline(always)]
fn expf_core(x: f32) -> (f32, bool) {
    const LN2_HI: f32 = f32::from_bits(0x3f31_7200);
    const LN2_LO: f32 = f32::from_bits(0x35bf_be8e);
    const INV_LN2: f32 = f32::from_bits(0x3fb8_aa3b);
    const P1: f32 = f32::from_bits(0x3e2a_aa8f);
    const P2: f32 = f32::from_bits(0xbb35_5215);
    let hx = x.to_bits() & 0x7fff_ffff;
    let inside = 0x3900_0000 < hx && hx < 0x42ae_ac50;
    let negative = x.is_sign_negative();
    // k: round(x/ln2) above 1.5·ln2, ±1 above ½ln2, else 0 (then hi = x and lo = 0 exactly).
    let half = if negative { -0.5 } else { 0.5 };
    let round = (INV_LN2 * x + half) as i32;
    let one = if negative { -1 } else { 1 };
    let k = if hx > 0x3f85_1592 {
        round
    } else if hx > 0x3eb1_7218 {
        one
    } else {
        0
    };
    let kf = k as f32;
    let hi = x - kf * LN2_HI;
    let lo = kf * LN2_LO;
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (P1 + rr * P2);
    let y = 1.0 + (r * c / (2.0 - c) - lo + hi);
    // Inside the range |k| ≤ 126, so 2ᵏ is a normal float and one product scales exactly as
    // scalbnf does.
    let scale = f32::from_bits((0x7f_i32.wrapping_add(k) as u32) << 23);
    (y * scale, inside)
}

/// tanh of every element, in place, with `libm::tanh` (scalar: f64 runs use it less).
fn tanh_all(xs: &mut [f64]) {
    xs.iter_mut().for_each(|x| *x = libm::tanh(*x));
}

/// tanh in f32, bit for bit `libm::tanhf` (musl's tanhf.c over FreeBSD's s_expm1f.c):
/// written out so that it inlines; zero, subnormal and NaN inputs go to `libm::tanhf`.
#[inline]
fn tanhf(x: f32) -> f32 {
    or_exact(x, tanhf_core, libm::tanhf)
}

/// tanh of every element, in place, the same bits as [`tanhf`], a block at a time.
pub fn tanhf_all(xs: &mut [f32]) {
    by_blocks(xs, tanhf_core, tanhf);
}

/// [`tanhf`] without a branch, and whether |x| is inside [2⁻¹²⁶, ∞] (outside, the value is
/// meaningless). tanh|x| = 1 − 2/(t + 2) with t = expm1(2|x|) above ½ln3, t/(t + 2) above
/// ½ln(5/3), else −t/(t + 2) with t = expm1(−2|x|); 1 above 10. expm1 as s_expm1f.c has it
/// for the arguments tanhf gives it, −0.51 ≤ a ≤ 20: a = k·ln2 + r, |r| ≤ ½ln2.
#[inline(always)]
fn tanhf_core(x: f32) -> (f32, bool) {
    const LN2_HI: f32 = f32::from_bits(0x3f31_7180);
    const LN2_LO: f32 = f32::from_bits(0x3717_f7d1);
    const INV_LN2: f32 = f32::from_bits(0x3fb8_aa3b);
    const Q1: f32 = f32::from_bits(0xbd08_8868);
    const Q2: f32 = f32::from_bits(0x3acf_3010);
    let w = x.to_bits() & 0x7fff_ffff;
    let inside = (0x0080_0000..=0x7f80_0000).contains(&w);
    let ax = f32::from_bits(w);
    let above = w > 0x3e82_c578;
    // expm1's argument; a harmless 1 where its value goes unused (|x| > 10, outside).
    let a = match (inside && w <= 0x4120_0000, above) {
        (true, true) => 2.0 * ax,
        (true, false) => -2.0 * ax,
        (false, _) => 1.0,
    };
    let ha = a.to_bits() & 0x7fff_ffff;
    let negative = a.is_sign_negative();
    // k: round(a/ln2) from 1.5·ln2 on, ±1 above ½ln2, else 0 (then hi = a, lo = c = 0).
    let half = if negative { -0.5 } else { 0.5 };
    let round = (INV_LN2 * a + half) as i32;
    let one = if negative { -1 } else { 1 };
    let k = if ha >= 0x3f85_1592 {
        round
    } else if ha > 0x3eb1_7218 {
        one
    } else {
        0
    };
    let kf = k as f32;
    let hi = a - kf * LN2_HI;
    let lo = kf * LN2_LO;
    let r = hi - lo;
    let c = (hi - r) - lo;
    let hfx = 0.5 * r;
    let hxs = r * hfx;
    let r1 = 1.0 + hxs * (Q1 + hxs * Q2);
    let t = 3.0 - r1 * hfx;
    let e = hxs * ((r1 - t) / (6.0 - r * t));
    let e1 = (r * (e - c) - c) - hxs;
    // 2ᵏ and 2⁻ᵏ, normal floats for −1 ≤ k ≤ 29.
    let two_k = f32::from_bits((0x7f_i32.wrapping_add(k) as u32) << 23);
    let two_minus_k = f32::from_bits((0x7f_i32.wrapping_sub(k) as u32) << 23);
    let em1 = match k {
        _ if ha < 0x3300_0000 => a,
        0 => r - (r * e - hxs),
        -1 => 0.5 * (r - e1) - 0.5,
        1 if r < -0.25 => -2.0 * (e1 - (r + 0.5)),
        1 => 1.0 + 2.0 * (r - e1),
        ..23 => (r - e1 + (1.0 - two_minus_k)) * two_k,
        _ => (r - (e1 + two_minus_k) + 1.0) * two_k,
    };
    // One division for the three forms: 2/(t + 2), t/(t + 2) and −t/(t + 2).
    let big = w > 0x3f0c_9f54;
    let n = match (big, above) {
        (true, _) => 2.0,
        (false, true) => em1,
        (false, false) => -em1,
    };
    let q = n / (em1 + 2.0);
    let tt = match (w > 0x4120_0000, big) {
        (true, _) => 1.0,
        (false, true) => 1.0 - q,
        (false, false) => q,
    };
    (if x.is_sign_negative() { -tt } else { tt }, inside)
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

    /// Blocks of inputs inside the fast range, and blocks with one tiny, huge or NaN input
    /// among them, of every length up to three blocks: `expf_all` gives `expf`'s bits.
    #[test]
    fn expf_all_is_expf_on_every_element() {
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            f32::from_bits(rng as u32 & 0x7fff_ffff) % 40.0 - 20.0
        };
        for len in 0..50 {
            for odd in [
                None,
                Some(1e-9f32),
                Some(-100.0),
                Some(f32::NAN),
                Some(90.0),
            ] {
                let mut xs: Vec<f32> = (0..len).map(|_| next()).collect();
                if let (Some(v), true) = (odd, len > 0) {
                    xs[len / 2] = v;
                }
                let want: Vec<u32> = xs.iter().map(|&x| libm::expf(x).to_bits()).collect();
                super::expf_all(&mut xs);
                let got: Vec<u32> = xs.iter().map(|x| x.to_bits()).collect();
                assert_eq!(got, want, "len {len}, {odd:?}");
            }
        }
    }

    /// `exp` and `exp_all` against `libm::exp`: random doubles over the whole range, the
    /// edges of each branch, and blocks with one input outside the fast range.
    #[test]
    fn exp_is_libm_exp_bit_for_bit() {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let high = |h: u64| f64::from_bits(h << 32);
        let mut xs: Vec<f64> = [
            0x3e30_0000u64,
            0x3e30_0001,
            0x3fd6_2e42,
            0x3fd6_2e43,
            0x3ff0_a2b1,
            0x3ff0_a2b2,
            0x4086_232a,
            0x4086_232b,
        ]
        .iter()
        .flat_map(|&h| [high(h), -high(h), f64::from_bits(h << 32 | 0xffff_ffff)])
        .chain([709.78, -745.0, -746.0, f64::NAN, f64::INFINITY, 0.0, -0.0])
        .collect();
        // Every exponent, then the range the activations use.
        xs.extend((0..1_000_000).map(|_| f64::from_bits(next())));
        xs.extend(
            (0..1_000_000).map(|_| (next() >> 11) as f64 / (1u64 << 53) as f64 * 80.0 - 40.0),
        );
        let want: Vec<u64> = xs.iter().map(|&x| libm::exp(x).to_bits()).collect();
        for (x, w) in xs.iter().zip(&want) {
            assert_eq!(super::exp(*x).to_bits(), *w, "e^{x:e}");
        }
        super::exp_all(&mut xs);
        let got: Vec<u64> = xs.iter().map(|x| x.to_bits()).collect();
        assert_eq!(got, want);
    }

    /// Every 1021st bit pattern, and |x| on both sides of each of tanhf's branch edges and of
    /// each s_expm1f edge its argument 2|x| crosses (2⁻²⁵, ½ln2, 1.5·ln2, k = 23; expm1f's
    /// r < −0.25 case needs 2|x| < 0.44 with k = 1, so tanhf never reaches it): the same bits
    /// as `libm::tanhf`, one at a time and in blocks (with zeros, subnormals and NaNs among
    /// them). `cargo test -- --ignored` runs all 2³².
    #[test]
    fn tanhf_is_libm_tanhf_bit_for_bit() {
        let edges = [
            0u32,
            1,
            0x0080_0000,
            0x3280_0000,
            0x3e31_7218,
            0x3e82_c578,
            0x3f05_1592,
            0x3f0c_9f54,
            0x40f9_8872,
            0x4120_0000,
            0x7f80_0000,
            0x7fc0_0000,
        ];
        let mut xs: Vec<f32> = edges
            .iter()
            .flat_map(|&e| [e.saturating_sub(1), e, e + 1])
            .flat_map(|b| [b, b | 0x8000_0000])
            .map(f32::from_bits)
            .collect();
        xs.extend((0..=u32::MAX).step_by(1021).map(f32::from_bits));
        // The range a tanh layer sees, densely.
        xs.extend((0..400_000).map(|i| (i as f32 - 2e5) * 6e-5));
        let want: Vec<u32> = xs.iter().map(|&x| libm::tanhf(x).to_bits()).collect();
        for (x, w) in xs.iter().zip(&want) {
            assert_eq!(
                super::tanhf(*x).to_bits(),
                *w,
                "tanh {x:e} ({:#x})",
                x.to_bits()
            );
        }
        super::tanhf_all(&mut xs);
        let got: Vec<u32> = xs.iter().map(|x| x.to_bits()).collect();
        assert_eq!(got, want);
    }

    #[test]
    #[ignore = "all 2³² floats, tanhf and tanhf_all: minutes, even with --release"]
    fn tanhf_is_libm_tanhf_for_every_float() {
        let mut xs = Vec::with_capacity(1 << 16);
        for high in 0..=u16::MAX as u32 {
            xs.clear();
            xs.extend((0..=u16::MAX as u32).map(|low| f32::from_bits(high << 16 | low)));
            let want: Vec<u32> = xs.iter().map(|&x| libm::tanhf(x).to_bits()).collect();
            for (x, w) in xs.iter().zip(&want) {
                assert_eq!(super::tanhf(*x).to_bits(), *w, "{:#x}", x.to_bits());
            }
            super::tanhf_all(&mut xs);
            for (y, w) in xs.iter().zip(&want) {
                assert_eq!(y.to_bits(), *w, "tanhf_all, block of {high:#x}0000");
            }
        }
    }

    #[test]
    #[ignore = "all 2³² floats, expf and expf_all: minutes, even with --release"]
    fn expf_is_libm_expf_for_every_float() {
        let mut xs = Vec::with_capacity(1 << 16);
        for high in 0..=u16::MAX as u32 {
            xs.clear();
            xs.extend((0..=u16::MAX as u32).map(|low| f32::from_bits(high << 16 | low)));
            let want: Vec<u32> = xs.iter().map(|&x| libm::expf(x).to_bits()).collect();
            for (x, w) in xs.iter().zip(&want) {
                assert_eq!(super::expf(*x).to_bits(), *w, "{:#x}", x.to_bits());
            }
            super::expf_all(&mut xs);
            for (y, w) in xs.iter().zip(&want) {
                assert_eq!(y.to_bits(), *w, "expf_all, block of {high:#x}0000");
            }
        }
    }
}
